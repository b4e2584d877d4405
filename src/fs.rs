//! File access: atomic writes that keep the file mode and never leave a half-written file,
//! and the lock every sesame writer holds around a read-modify-write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a writer waits for another sesame process to finish changing the same folder.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// An exclusive advisory lock held for one read-modify-write of a file (the CLI's `set`,
/// `updatekeys`, `-i`, the editor's save), so two sesame writers never lose each other's
/// update. It locks the file's folder: a lock on the file itself would not survive the rename
/// that replaces it. Released on drop.
#[derive(Debug)]
pub struct UpdateLock {
    _dir: File,
}

/// Takes the update lock for `path`, waiting up to 30 s for another sesame writer. `Ok(None)`
/// where the folder cannot be locked (a platform or file system without `flock`): the write
/// goes ahead unlocked, as sops's always do.
#[allow(unsafe_code)]
pub fn lock_for_update(path: &Path) -> io::Result<Option<UpdateLock>> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let target = resolve_links(path)?;
        let dir = folder_of(&target);
        let Ok(handle) = File::open(&dir) else {
            return Ok(None);
        };
        let started = Instant::now();
        loop {
            // SAFETY: flock on a file descriptor this function owns; no memory is passed.
            let rc = unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(Some(UpdateLock { _dir: handle }));
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                // No flock here (some network file systems): go ahead unlocked.
                _ => return Ok(None),
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "another sesame process has been changing files in {} for {} s; try again when it is done",
                        dir.display(),
                        LOCK_WAIT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// The folder a file lives in (`.` for a bare name).
fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename over the
/// target, fsync the folder. An existing file keeps its permissions, a new one is private (0600);
/// a symlink is followed, so the link stays a link.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve_links(path)?;
    let dir = folder_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let existing = fs::metadata(&target).ok();
    let (mut file, tmp) = create_temp(&dir, &name)?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(meta) = &existing {
            fs::set_permissions(&tmp, meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)?;
        sync_dir(&dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Follows symlinks to the file they point at (which may not exist yet).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "too many levels of symbolic links at {}",
        path.display()
    )))
}

/// Creates a new, empty, private file next to the target.
fn create_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(
            ".{name}.sesame-{}-{attempt}.tmp",
            std::process::id()
        ));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            // A new target keeps this private mode: it may hold plaintext (`decrypt --output`).
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
        // No temp file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    #[cfg(unix)]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink("real.yaml", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }
}
