//! Every file the project writes goes through here (the binary ones framed by [`write_framed`]
//! with a magic, a version and a checksum): atomically (a temporary file in the same
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

/// FNV-1a 64 of `parts` in order: the checksum of files written before CRC-32 (checkpoint
/// format 1, replay buffers 1 to 3), read, never written.
pub fn legacy_fnv1a(parts: &[&[u8]]) -> u64 {
    parts.iter().flat_map(|part| part.iter()).fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Magic, format version, header length, payload length, checksum.
const FRAME_PREFIX: usize = 8 + 4 + 4 + 8 + 8;

/// A framed file's checksum, by format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    Crc32,
    LegacyFnv1a,
}

/// A framed file as read: its format version, header and payload, checksum verified.
#[derive(Debug)]
pub struct Frame {
    pub version: u32,
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
}

/// One kind of framed file: its magic bytes, its name in messages, and the format versions
/// this build reads (each with the checksum it was written with; the last is the newest).
#[derive(Clone, Copy, Debug)]
pub struct FrameKind {
    pub magic: &'static [u8; 8],
    pub name: &'static str,
    pub versions: &'static [(u32, Checksum)],
}

/// Why a framed file could not be read, naming the file.
#[derive(Debug, Error)]
pub enum FrameError {
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a {name} (wrong magic bytes)", .path.display())]
    WrongMagic { path: PathBuf, name: &'static str },
    #[error("{}: {name} format version {found}, this build reads version {newest}", .path.display())]
    Version { path: PathBuf, name: &'static str, found: u32, newest: u32 },
    #[error("{}: truncated: {found} bytes, expected {expected}", .path.display())]
    Truncated { path: PathBuf, expected: u64, found: u64 },
    #[error("{}: corrupt {name}: {reason}", .path.display())]
    Corrupt { path: PathBuf, name: &'static str, reason: String },
}

/// Write a framed file atomically (the bytes of [`encode_framed`]).
pub fn write_framed(path: &Path, magic: &[u8; 8], version: u32, header: &[u8], payload: &[u8]) -> Result<(), WriteError> {
    let bytes = encode_framed(magic, version, header, payload)
        .map_err(|source| WriteError { path: path.into(), source })?;
    write_atomically(path, |file| file.write_all(&bytes))
}

/// The framed layout of the network, optimizer and replay-buffer files and of the self-play
/// chunks actors send (little-endian): 8 magic bytes, format version u32, header length u32,
/// payload length u64, checksum of header and payload u64 (CRC-32), header, payload.
pub fn encode_framed(magic: &[u8; 8], version: u32, header: &[u8], payload: &[u8]) -> io::Result<Vec<u8>> {
    let header_len = u32::try_from(header.len()).map_err(|_| io::Error::other("header over 4 GiB"))?;
    let mut bytes = Vec::with_capacity(FRAME_PREFIX + header.len() + payload.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&u64::from(checksum(&[header, payload])).to_le_bytes());
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(payload);
    Ok(bytes)
}

/// Read a framed file of `kind` written by [`write_framed`].
pub fn read_framed(path: &Path, kind: &FrameKind) -> Result<Frame, FrameError> {
    let data = fs::read(path).map_err(|source| FrameError::Io { path: path.into(), source })?;
    decode_framed(data, path, kind)
}

/// Check and split the bytes of a frame of `kind` (a file's, or a message's), whose errors name
/// `origin` (a file's path, or a message's name). Bytes cut short anywhere, even inside the
/// magic bytes, are `Truncated`; no input panics.
pub fn decode_framed(mut data: Vec<u8>, origin: &Path, kind: &FrameKind) -> Result<Frame, FrameError> {
    let name = kind.name;
    let path = origin;
    let seen = data.len().min(kind.magic.len());
    if data[..seen] != kind.magic[..seen] {
        return Err(FrameError::WrongMagic { path: path.into(), name });
    }
    if data.len() < FRAME_PREFIX {
        return Err(FrameError::Truncated { path: path.into(), expected: FRAME_PREFIX as u64, found: data.len() as u64 });
    }
    let u32_at = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().expect("4-byte slice"));
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8-byte slice"));
    let version = u32_at(8);
    let Some(&(_, sum)) = kind.versions.iter().find(|(known, _)| *known == version) else {
        let newest = kind.versions.last().map_or(0, |&(v, _)| v);
        return Err(FrameError::Version { path: path.into(), name, found: version, newest });
    };
    let header_len = u64::from(u32_at(12));
    let payload_len = u64_at(16);
    let stored = u64_at(24);
    let expected = (FRAME_PREFIX as u64).saturating_add(header_len).saturating_add(payload_len);
    let found = data.len() as u64;
    if found < expected {
        return Err(FrameError::Truncated { path: path.into(), expected, found });
    }
    let corrupt = |reason: String| FrameError::Corrupt { path: path.into(), name, reason };
    if found > expected {
        return Err(corrupt(format!("{} bytes after the end of the payload", found - expected)));
    }
    let header_end = FRAME_PREFIX + header_len as usize;
    let parts = [&data[FRAME_PREFIX..header_end], &data[header_end..]];
    let computed = match sum {
        Checksum::Crc32 => u64::from(checksum(&parts)),
        Checksum::LegacyFnv1a => legacy_fnv1a(&parts),
    };
    if computed != stored {
        return Err(corrupt("checksum mismatch".into()));
    }
    let payload = data.split_off(header_end);
    data.drain(..FRAME_PREFIX);
    Ok(Frame { version, header: data, payload })
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
