//! exec-file never leaves plaintext behind: the temp file is gone after the command, and after
//! sesame is killed with SIGTERM while the command runs.

mod common;

use common::{Sandbox, TEST_IDENTITY, fixture, ok};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits (up to 20 s) until the command run by sesame has written a whole line to `name` in
/// the sandbox, and returns it.
fn line_written(sb: &Sandbox, name: &str) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(sb.path(name)).unwrap_or_default();
        if text.ends_with('\n') {
            return text.trim().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "command did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

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
    let path = std::path::PathBuf::from(line_written(&sb, "where"));
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

/// Files in `dir` (recursively) whose name starts with "core".
fn core_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(core_files(&path));
        } else if entry.file_name().to_string_lossy().starts_with("core") {
            out.push(path);
        }
    }
    out
}

/// With core dumps allowed (`ulimit -c unlimited`, cores written to the working folder, as
/// this machine's `core` pattern does), SIGABRT to `exec-env` while it holds the decrypted
/// values writes no core file; the command it runs gets the core limit sesame started with.
#[allow(unsafe_code)]
#[test]
fn an_aborted_exec_env_dumps_no_core() {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    assert!(
        pattern.trim_start().starts_with("core"),
        "this test needs cores in the working folder (core_pattern is {pattern:?})"
    );
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("s.env", std::fs::read(fixture("kat/kat.env")).unwrap());
    let mut child = Command::new("/bin/sh")
        .args([
            "-c",
            "ulimit -c unlimited && exec \"$0\" exec-env s.env 'ulimit -c > limit; echo $$ > started; exec sleep 30'",
            env!("CARGO_BIN_EXE_sesame"),
        ])
        .current_dir(sb.dir.path())
        .env("SOPS_AGE_KEY", TEST_IDENTITY)
        .env("HOME", sb.path("home"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sleeper: i32 = line_written(&sb, "started").parse().unwrap();
    assert_eq!(
        String::from_utf8(sb.read("limit")).unwrap().trim(),
        "unlimited"
    );
    // SAFETY: kill only signals processes this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGABRT);
    }
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    // SAFETY: as above.
    unsafe {
        libc::kill(sleeper, libc::SIGKILL);
    }
    assert_eq!(core_files(sb.dir.path()), Vec::<std::path::PathBuf>::new());
}
