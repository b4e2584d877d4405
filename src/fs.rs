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

/// Bytes gathered per write to a file or stdout when a file is written as it is made.
pub const WRITE_BUFFER: usize = 64 * 1024;

/// Where a temp file name ends: `.gitignore` can hold `*.sesame-tmp` (a temp file only
/// survives a kill, and the next write next to it removes it).
pub const TEMP_SUFFIX: &str = ".sesame-tmp";

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename over the
/// target, fsync the folder. An existing file keeps its permissions and (where allowed) its
/// owner and group, a new one is private (0600); a symlink is followed, so the link stays a
/// link. A file this process may not write is refused, as sops refuses it; in a folder that
/// cannot take a temp file, a writable file is rewritten in place, as sops does. Returns what
/// could not be kept (owner, hard links), for a warning.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<Vec<String>> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// `write_atomic` of what `write` writes, through a buffer: a large file is written as it is
/// made, never held whole. If `write` fails the target is left as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<Vec<String>> {
    let target = resolve_links(path)?;
    let dir = folder_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let existing = fs::metadata(&target).ok();
    if existing.is_some() && !may_write(&target) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the file is read-only for you (make it writable first if you mean to change it)",
        ));
    }
    remove_stale_temps(&dir, &name);
    let (file, tmp) = match create_temp(&dir, &name) {
        Ok(created) => created,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && existing.is_some() => {
            // Made whole first: a failed `write` must not leave the file half rewritten.
            let mut bytes = Vec::new();
            write(&mut bytes)?;
            write_in_place(&target, &bytes)?;
            return Ok(vec![format!(
                "{} does not let you create files, so {name} was rewritten in place (not atomically)",
                dir.display()
            )]);
        }
        Err(e) => return Err(e),
    };
    let mut notes = Vec::new();
    let result = (|| {
        let mut buffered = io::BufWriter::with_capacity(WRITE_BUFFER, &file);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        if let Some(meta) = &existing {
            fs::set_permissions(&tmp, meta.permissions())?;
            notes.extend(keep_owner(&file, meta, &name));
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
    result.map(|()| notes)
}

/// Whether this process may write the file (root may write any file, as sops running as root
/// would).
#[allow(unsafe_code)]
fn may_write(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: access reads a NUL-terminated path and touches no other memory.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        !fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
    }
}

/// Gives the new file the old one's owner and group (possible as root, or a group the user is
/// in); says what could not be kept, and that other hard links keep the old content.
fn keep_owner(file: &File, old: &fs::Metadata, name: &str) -> Vec<String> {
    let mut notes = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(new) = file.metadata()
            && (new.uid(), new.gid()) != (old.uid(), old.gid())
            && std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).is_err()
        {
            let group = std::os::unix::fs::fchown(file, None, Some(old.gid())).is_ok();
            notes.push(format!(
                "{name} belonged to user {} and group {}; it now belongs to you{}",
                old.uid(),
                old.gid(),
                if group { " (the group is kept)" } else { "" }
            ));
        }
        if old.nlink() > 1 {
            notes.push(format!(
                "{name} had {} hard links; the other names keep the old content",
                old.nlink()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (file, old, name);
    notes
}

/// Rewrites an existing file in place (no temp file): for a folder that cannot take one.
fn write_in_place(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(target)?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)?;
    file.sync_all()
}

/// Removes temp files for `name` left in `dir` by sesame processes that no longer run (killed
/// while writing), in this naming and in the one of earlier versions
/// (`.NAME.sesame-PID-N.tmp`).
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = if let Some(mid) = rest.strip_suffix(TEMP_SUFFIX) {
            mid.split('.').next()
        } else if let Some(mid) = rest
            .strip_prefix("sesame-")
            .and_then(|r| r.strip_suffix(".tmp"))
        {
            mid.split('-').next()
        } else {
            None
        };
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok())
            && !process_runs(pid)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id runs (another user's process counts as running).
#[allow(unsafe_code)]
fn process_runs(pid: u32) -> bool {
    #[cfg(unix)]
    {
        if pid == std::process::id() {
            return true;
        }
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
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

/// Creates a new, empty, private file next to the target: `.NAME.PID.N.sesame-tmp`.
fn create_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(
            ".{name}.{}.{attempt}{TEMP_SUFFIX}",
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
    fn stale_temp_files_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, b"old").unwrap();
        // A pid above the kernel's maximum never runs.
        let dead = 4_194_304 + 17;
        let stale = [
            format!(".f.yaml.{dead}.0{TEMP_SUFFIX}"),
            format!(".f.yaml.sesame-{dead}-3.tmp"),
        ];
        let live = format!(".f.yaml.{}.5{TEMP_SUFFIX}", std::process::id());
        let other = format!(".g.yaml.{dead}.0{TEMP_SUFFIX}");
        for name in stale.iter().chain([&live, &other]) {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        write_atomic(&p, b"new").unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = vec![live, other, "f.yaml".to_string()];
        want.sort();
        assert_eq!(left, want, "only the dead writer's temp files of f.yaml go");
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
