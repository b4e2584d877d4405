//! `$EDITOR` for one value: the value goes into a temp file in a private (0700) folder on a
//! RAM-backed file system where there is one (`/dev/shm`, else `$XDG_RUNTIME_DIR`, else the
//! temp folder), the editor named by `$VISUAL` or `$EDITOR` (else `vi`) edits it, and the file
//! is overwritten and removed on every way out, a panic included.

use crate::env::split_command;
use rand::RngCore;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use zeroize::Zeroizing;

/// Where the temp folder goes: memory-backed when possible, so the plaintext never reaches a
/// disk.
fn base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && writable(shm) {
        return shm.to_path_buf();
    }
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_dir() && writable(&dir) => dir,
        _ => std::env::temp_dir(),
    }
}

/// Where the temp file goes, for the question asked first.
pub fn temp_place() -> String {
    let dir = base();
    if dir == Path::new("/dev/shm") {
        "in memory (/dev/shm)".into()
    } else if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d) == dir) {
        format!(
            "in {} ($XDG_RUNTIME_DIR, in memory on most systems)",
            dir.display()
        )
    } else {
        format!(
            "ON DISK in {} (this machine has no memory-backed file system for it)",
            dir.display()
        )
    }
}

#[allow(unsafe_code)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// The private folder and file; dropping it overwrites the file and removes both.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(meta) = fs::metadata(&self.file)
            && let Ok(mut f) = fs::OpenOptions::new().write(true).open(&self.file)
        {
            let _ = f.write_all(&vec![0u8; meta.len() as usize]);
            let _ = f.sync_all();
        }
        let _ = fs::remove_file(&self.file);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn scratch(name: &str, text: &[u8]) -> io::Result<Scratch> {
    let mut tag = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut tag);
    let dir = base().join(format!("sesame-{}", hex::encode(tag)));
    fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let s = Scratch {
        file: dir.join(name),
        dir,
    };
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&s.file)?;
    f.write_all(text)?;
    f.sync_all()?;
    Ok(s)
}

/// The editor command: `$VISUAL`, else `$EDITOR`, else `vi`.
fn editor() -> Vec<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|cmd| split_command(&cmd))
        .find(|words| !words.is_empty())
        .unwrap_or_else(|| vec!["vi".into()])
}

/// Edits `text` in the user's editor (who has the terminal meanwhile) and returns the result;
/// one trailing newline, which editors add, is dropped when `text` had none.
pub fn edit(name: &str, text: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let s = scratch(name, text).map_err(|e| format!("could not make a private temp file: {e}"))?;
    let cmd = editor();
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .arg(&s.file)
        .status()
        .map_err(|e| format!("could not run the editor {:?}: {e}", cmd[0]))?;
    if !status.success() {
        return Err(format!(
            "the editor {:?} failed ({status}); nothing changed",
            cmd[0]
        ));
    }
    let mut out =
        Zeroizing::new(fs::read(&s.file).map_err(|e| format!("could not read it back: {e}"))?);
    if !text.ends_with(b"\n") && out.ends_with(b"\n") {
        out.pop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_scratch_folder_is_private_and_goes_away() {
        let s = scratch("v.txt", b"secret").unwrap();
        let (dir, file) = (s.dir.clone(), s.file.clone());
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read(&file).unwrap(), b"secret");
        drop(s);
        assert!(!file.exists() && !dir.exists());
    }
}
