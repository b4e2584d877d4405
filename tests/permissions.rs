//! A save respects the file as it is on disk: its owner and group stay (as root), a file the
//! user may not write is refused with sops's exit code, and a writable file in a folder the user
//! may not write is still saved (in place, as sops does). Run as root (as CI is): the tests
//! give the files away and run sesame as another user.

mod common;

use common::{Sandbox, TEST_IDENTITY, fixture, ok};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

const NOBODY: u32 = 65534;

#[allow(unsafe_code)]
fn assert_root() {
    // SAFETY: geteuid only reads the process's effective user id.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "these tests change file owners: run them as root (CI does)"
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `sesame set FILE ["user"] "x"` as user `uid`, with the KAT key.
fn set_as(uid: u32, dir: &Path, file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["set", file, "[\"user\"]", "\"x\""])
        .current_dir(dir)
        .env_clear()
        .env("SOPS_AGE_KEY", TEST_IDENTITY)
        .env("HOME", dir)
        .uid(uid)
        .gid(uid)
        .output()
        .unwrap()
}

fn kat_yaml(sb: &Sandbox) -> std::path::PathBuf {
    sb.write("s.yaml", std::fs::read(fixture("kat/kat.yaml")).unwrap())
}

#[test]
fn a_save_as_root_keeps_owner_group_and_mode() {
    assert_root();
    let sb = Sandbox::new();
    let file = kat_yaml(&sb);
    std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).unwrap();
    chmod(&file, 0o640);
    let before = std::fs::read(&file).unwrap();
    let out = set_as(0, sb.dir.path(), "s.yaml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&file).unwrap(), before, "the value changed");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_the_user_may_not_write_is_refused_with_exit_3() {
    assert_root();
    let sb = Sandbox::new();
    let file = kat_yaml(&sb);
    chmod(sb.dir.path(), 0o777);
    chmod(&file, 0o444);
    let before = std::fs::read(&file).unwrap();
    let out = set_as(NOBODY, sb.dir.path(), "s.yaml");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("s.yaml") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing was written");
    let names: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temp file left: {names:?}");
}

#[test]
fn a_writable_file_in_a_read_only_folder_is_saved_in_place() {
    assert_root();
    let sb = Sandbox::new();
    let file = kat_yaml(&sb);
    chmod(&file, 0o666);
    chmod(sb.dir.path(), 0o555);
    let out = set_as(NOBODY, sb.dir.path(), "s.yaml");
    chmod(sb.dir.path(), 0o755);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rewritten in place"), "{stderr}");
    let sb = sb.env("SOPS_AGE_KEY", TEST_IDENTITY);
    let value = ok(sb.sesame(&["decrypt", "--extract", "[\"user\"]", "s.yaml"]));
    assert_eq!(value, b"x");
}
