//! Every file the project writes goes through here: atomically (a temporary file in the same
//! directory, synced, renamed over the target, the directory synced), with one naming scheme for
//! the temporary files so that a writer killed mid-write leaves something its successor can
//! recognise and delete ([`is_temp_name`]). A crash leaves the old file or the new one, never a
//! torn one.
//!
//! Crash points: setting `BLOB_CRASH_AT=N` kills the process (SIGKILL, no cleanup) at the Nth
//! [`crash_point`] it reaches, and `BLOB_CRASH_AT=0` lists every point it passes on stderr. The
//! crash tests use this to aim kills at each write window; it does nothing when unset.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use thiserror::Error;

/// Temporary names are `.<target name>.<random>.tmp` (files and directories alike).
const TEMP_PREFIX: &str = ".";
const TEMP_SUFFIX: &str = ".tmp";

/// A failed write, naming the file it was for.
#[derive(Debug, Error)]
#[error("writing {}: {source}", .path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Whether a directory entry is a temporary file or directory of this scheme (left behind only
/// by a writer that died before renaming it into place).
pub fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len() && name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

fn temp_file_in(dir: &Path, name: &str) -> io::Result<tempfile::NamedTempFile> {
    let prefix = format!("{TEMP_PREFIX}{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    // Temporary files are private (0600) by default; these become the run's ordinary files,
    // so they get ordinary permissions (0666 less the umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir)
}

fn temp_dir_in(dir: &Path, name: &str) -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix(&format!("{TEMP_PREFIX}{name}.")).suffix(TEMP_SUFFIX).tempdir_in(dir)
}

/// Write `path` atomically: `write` fills a temporary file next to it, which is synced and
/// renamed over `path`; the directory is synced after. On error the temporary file is removed
/// and `path` is unchanged.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), WriteError> {
    let fail = |source: io::Error| WriteError { path: path.to_path_buf(), source };
    let (dir, name) = split(path).map_err(fail)?;
    fs::create_dir_all(dir).map_err(fail)?;
    let temp = temp_file_in(dir, &name).map_err(fail)?;
    let mut writer = BufWriter::new(temp);
    write(&mut writer).map_err(fail)?;
    let temp = writer.into_inner().map_err(|e| fail(e.into_error()))?;
    temp.as_file().sync_all().map_err(fail)?;
    crash_point(&format!("written {name}"));
    temp.persist(path).map_err(|e| fail(e.error))?;
    crash_point(&format!("renamed {name}"));
    sync_dir(dir).map_err(fail)
}

/// A directory to fill and then [`publish_dir`] as `path`: created empty under this scheme's
/// temporary name in `path`'s parent.
pub fn temp_dir_for(path: &Path) -> Result<PathBuf, WriteError> {
    let fail = |source: io::Error| WriteError { path: path.to_path_buf(), source };
    let (dir, name) = split(path).map_err(fail)?;
    fs::create_dir_all(dir).map_err(fail)?;
    let temp = temp_dir_in(dir, &name).map_err(fail)?;
    Ok(temp.keep())
}

/// Rename a filled temporary directory (from [`temp_dir_for`]) to `path`, replacing a
/// directory already there, and sync the parent.
pub fn publish_dir(temp: &Path, path: &Path) -> Result<(), WriteError> {
    let fail = |source: io::Error| WriteError { path: path.to_path_buf(), source };
    let (dir, name) = split(path).map_err(fail)?;
    sync_dir(temp).map_err(fail)?;
    if path.exists() {
        // Renamed aside first, under a temporary name, so a crash here leaves it to be cleaned.
        let old = dir.join(format!("{TEMP_PREFIX}{name}.old{TEMP_SUFFIX}"));
        if old.exists() {
            fs::remove_dir_all(&old).map_err(fail)?;
        }
        fs::rename(path, &old).map_err(fail)?;
        fs::remove_dir_all(&old).map_err(fail)?;
    }
    crash_point(&format!("filled {name}"));
    fs::rename(temp, path).map_err(fail)?;
    crash_point(&format!("renamed {name}"));
    sync_dir(dir).map_err(fail)
}

/// Append `text` to `path` (created if missing) and sync it. Appends are not atomic: readers
/// of such a file must expect a torn last line after a crash.
pub fn append_synced(path: &Path, text: &str) -> Result<(), WriteError> {
    let fail = |source: io::Error| WriteError { path: path.to_path_buf(), source };
    let mut file = fs::OpenOptions::new().create(true).append(true).open(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    crash_point(&format!("appended to {}", path.file_name().map_or(String::new(), |n| n.to_string_lossy().into())));
    file.sync_all().map_err(fail)
}

/// CRC-32 (IEEE) of `parts` in order: catches truncation and bit rot, not an adversary.
pub fn checksum(parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

/// A named point where the crash tests may kill the process (see the module docs).
pub fn crash_point(label: &str) {
    static TARGET: OnceLock<Option<u64>> = OnceLock::new();
    static PASSED: AtomicU64 = AtomicU64::new(0);
    let Some(target) = *TARGET.get_or_init(|| std::env::var("BLOB_CRASH_AT").ok().and_then(|v| v.parse().ok())) else {
        return;
    };
    let count = PASSED.fetch_add(1, Ordering::SeqCst) + 1;
    if target == 0 {
        eprintln!("crash point {count}: {label}");
    } else if count == target {
        eprintln!("crash point {count}: {label}: killed");
        kill_self();
    }
}

#[cfg(unix)]
fn kill_self() -> ! {
    // SIGKILL: no destructor runs, no temporary file is removed, as with `kill -9`.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}

fn split(path: &Path) -> io::Result<(&Path, String)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?
        .to_string_lossy()
        .to_string();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok((dir, name))
}

/// Sync a directory's entries (after a rename in it).
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing here; the rename is still atomic.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomically(&path, |w| w.write_all(b"first")).unwrap();
        write_atomically(&path, |w| w.write_all(b"second")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        // A failing writer leaves the old file and no temporary.
        let err = write_atomically(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("state.json") && err.to_string().contains("disk full"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<String> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        assert_eq!(names, ["state.json"]);
    }

    #[test]
    fn temporary_names_are_recognised_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let temp = temp_dir_for(&dir.path().join("iter-000003")).unwrap();
        let name = temp.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.starts_with(".iter-000003.") && is_temp_name(&name), "{name}");
        fs::write(temp.join("net.bin"), b"x").unwrap();
        publish_dir(&temp, &dir.path().join("iter-000003")).unwrap();
        assert!(dir.path().join("iter-000003/net.bin").is_file() && !temp.exists());
        for name in ["net.bin", "latest", ".lock", ".tmp", "iter-000001.tmp", "metrics.jsonl"] {
            assert!(!is_temp_name(name), "{name}");
        }
    }
}
