//! Files only their owner may read: the server's generated secrets and
//! SQLite file, the client's state file and local-mode credentials, logs.
//!
//! One implementation for every such file, so that each of them gets the
//! same care: the mode is set at creation (never a window in which the
//! file is readable by others), set again exactly (the umask can only
//! remove bits, but a later `chmod` might not), and a replaced file is
//! swapped in whole by a rename, so a crash never leaves half a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Creates `dir` and its missing parents, each new one with mode 0700. An
/// existing directory is left as it is (it may be shared, like `/tmp`).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Sets the mode of an open file to exactly 0600.
fn set_private(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes `bytes` to a new file at `path`, flushed to disk. Fails with
/// [`io::ErrorKind::AlreadyExists`] when the file exists: the check and the
/// creation are one step, so two processes never both win.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = private_options().write(true).create_new(true).open(path)?;
    set_private(&file)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        // Leave no half-written file behind to be mistaken for a whole one.
        let _ = fs::remove_file(path);
    }
    written
}

/// Replaces (or creates) the file at `path` with `bytes`, atomically:
/// readers see the old file or the new one, never a mix, even after a
/// crash. The parent directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = temporary_path(path)?;
    if let Err(e) = create_new(&temporary, bytes) {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    if let Err(e) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Opens `path` for appending, creating it with mode 0600 (logs).
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = private_options().create(true).append(true).open(path)?;
    if file.metadata()?.len() == 0 {
        set_private(&file)?;
    }
    Ok(file)
}

/// Makes an existing file private (0600) when group or others may read or
/// write it. Returns true when the mode had to be changed, so the caller
/// can say so.
pub fn restrict(path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 == 0 {
            return Ok(false);
        }
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        Ok(true)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(false)
    }
}

/// A name beside `path` that no other writer (thread or process) uses.
fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(path.with_file_name(temporary))
}

/// Flushes a directory's entries (a rename) to disk. Failures are ignored:
/// the file itself is already complete and in place.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "council-private-file-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        create_dir(&dir).expect("scratch dir");
        dir
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn atomic_write_replaces_the_whole_file_privately_and_leaves_nothing_behind() {
        let dir = scratch();
        let path = dir.join("state.toml");
        write_atomic(&path, b"first version, rather long").expect("first write");
        write_atomic(&path, b"second").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.toml")]);
        fs::remove_dir_all(dir).expect("clean up");
    }

    #[test]
    fn create_new_refuses_an_existing_file_and_keeps_it() {
        let dir = scratch();
        let path = dir.join("secret");
        create_new(&path, b"one").expect("created");
        let again = create_new(&path, b"two").expect_err("exists");
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).expect("read"), b"one");
        fs::remove_dir_all(dir).expect("clean up");
    }

    #[cfg(unix)]
    #[test]
    fn restrict_reports_and_fixes_a_readable_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch();
        let path = dir.join("log");
        drop(open_append(&path).expect("opened"));
        assert_eq!(mode(&path), 0o600);
        assert!(!restrict(&path).expect("checked"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(restrict(&path).expect("fixed"));
        assert_eq!(mode(&path), 0o600);
        fs::remove_dir_all(dir).expect("clean up");
    }
}
