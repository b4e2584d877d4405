//! exec-file never leaves plaintext behind: the temp file is gone after the command, and after
//! sesame is killed with SIGTERM while the command runs.

mod common;

use common::{Sandbox, TEST_IDENTITY, fixture, ok};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn no_fifo_file_is_removed_after_the_command() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("s.json", std::fs::read(fixture("kat/kat.json")).unwrap());
    ok(sb.sesame(&[
        "exec-file",
        "--no-fifo",
        "s.json",
        "grep -q admin {} && echo {} > where",
    ]));
    let path = String::from_utf8(sb.read("where")).unwrap();
    let path = std::path::Path::new(path.trim());
    assert!(path.is_absolute(), "{path:?}");
    assert!(!path.exists(), "temp file left behind: {path:?}");
    assert!(!path.parent().unwrap().exists(), "temp folder left behind");
}

#[allow(unsafe_code)]
#[test]
fn sigterm_still_removes_the_temp_file() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("s.json", std::fs::read(fixture("kat/kat.json")).unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args([
            "exec-file",
            "--no-fifo",
            "s.json",
            "echo {} > where; sleep 30",
        ])
        .current_dir(sb.dir.path())
        .env("SOPS_AGE_KEY", TEST_IDENTITY)
        .env("HOME", sb.path("home"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the command has started and written where the file is.
    let start = Instant::now();
    let path = loop {
        let text = std::fs::read_to_string(sb.path("where")).unwrap_or_default();
        if text.ends_with('\n') {
            break std::path::PathBuf::from(text.trim());
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "command did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(path.exists());
    // SAFETY: kill only signals the sesame process this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert!(
        !path.exists(),
        "temp file left behind after SIGTERM: {path:?}"
    );
}
