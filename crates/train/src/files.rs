//! Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory.
//! A crash leaves either the old file or the new one, never a torn one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub fn write_atomically(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().ok_or_else(|| io::Error::other(format!("{} is not a file path", path.display())))?;
    let temp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let mut writer = BufWriter::new(File::create(&temp)?);
    write(&mut writer)?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, path)?;
    File::open(dir)?.sync_all()
}

pub fn write_string_atomically(path: &Path, text: &str) -> io::Result<()> {
    write_atomically(path, |w| w.write_all(text.as_bytes()))
}
