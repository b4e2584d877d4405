//! The editor end to end, in a real terminal: a private tmux server runs the built `sesame` on
//! a file the real sops wrote. One session reveals, edits and saves a value (then sops reads it
//! and `git diff` shows only that leaf, `lastmodified` and `mac` changed); another is killed
//! with SIGTERM (the terminal comes back and the file is untouched); two add a recipient in the
//! key manager (an age key, a KMS key on the local KMS server) and sops decrypts with it.
//! Screens are polled with a deadline; nothing sleeps a fixed time to wait for a state.

mod common;
#[path = "kms/server.rs"]
mod server;

use common::{Sandbox, new_age_key, ok};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\napi_token: tok-123\n";

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    fn start(dir: &Path, env: &[(&str, String)]) -> Tmux {
        let tmux = Command::new("tmux").arg("-V").output();
        assert!(
            tmux.is_ok_and(|o| o.status.success()),
            "tmux is missing: run scripts/install-tools.sh (it installs tmux)"
        );
        let socket = format!(
            "sesame-e2e-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux { socket };
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-x".into(),
            "100".into(),
            "-y".into(),
            "30".into(),
            "-s".into(),
            "t".into(),
            "-c".into(),
            dir.display().to_string(),
        ];
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push("env PS1='$ ' sh".into());
        t.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Quits the editor (nothing unsaved) and waits for the shell.
    fn quit(&self) {
        self.keys(&["q"]);
        self.wait("the shell again", |s| !s.contains("sesame │"));
    }

    /// Ctrl-S, then yes on the review, waiting for `secrets.yaml` to be saved.
    fn save(&self) {
        self.keys(&["C-s"]);
        self.wait("the review", |s| s.contains("Review before saving"));
        self.keys(&["y"]);
        self.wait("the save", |s| s.contains("saved secrets.yaml"));
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    fn alternate_on(&self) -> bool {
        self.run(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// Polls the screen until `check` holds, failing with the last screen after 20 s.
    #[track_caller]
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        poll(what, Duration::from_millis(25), || {
            let s = self.screen();
            if check(&s) {
                Ok(s)
            } else {
                Err(format!("screen:\n{s}"))
            }
        })
    }
}

/// Calls `probe` every `every` until it gives a value; after 20 s fails with `what` and what
/// the last call saw.
#[track_caller]
fn poll<T>(what: &str, every: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {seen}"
            ),
        }
        std::thread::sleep(every);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// A private X server (Xvfb, on a display it picks itself, Unix socket only), for the system
/// clipboard; stopped on drop.
struct Xvfb {
    child: std::process::Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        use std::io::BufRead;
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb is missing: run scripts/install-tools.sh (it installs xvfb and xclip)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let display = format!(":{}", line.trim());
        assert!(display.len() > 1, "Xvfb did not say its display");
        Xvfb { child, display }
    }

    /// The CLIPBOARD selection's content as `xclip` reads it (as `target`), or `None` when
    /// nothing holds it.
    fn clipboard(&self, target: &str) -> Option<String> {
        let out = Command::new("xclip")
            .args(["-o", "-selection", "clipboard", "-t", target])
            .env("DISPLAY", &self.display)
            .output()
            .expect("xclip is missing: run scripts/install-tools.sh");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Puts `text` on the CLIPBOARD selection as another program would.
    fn copy(&self, text: &str) {
        use std::io::Write;
        let mut child = Command::new("xclip")
            .args(["-i", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait().unwrap();
    }

    /// Waits until the clipboard's text satisfies `check`.
    #[track_caller]
    fn wait(&self, what: &str, check: impl Fn(Option<&str>) -> bool) {
        poll(what, Duration::from_millis(100), || {
            let held = self.clipboard("UTF8_STRING");
            if check(held.as_deref()) {
                Ok(())
            } else {
                Err(format!("the clipboard holds {held:?}"))
            }
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The editor's environment in `sb`: its own HOME, a terminal type, and `identity` in
/// `key.txt` as the age key file.
fn editor_env(sb: &Sandbox, identity: &str) -> Vec<(&'static str, String)> {
    sb.write("key.txt", format!("{identity}\n"));
    vec![
        ("HOME", sb.path("home").display().to_string()),
        (
            "SOPS_AGE_KEY_FILE",
            sb.path("key.txt").display().to_string(),
        ),
        ("TERM", "xterm-256color".to_string()),
    ]
}

/// A git repository holding `secrets.yaml`, encrypted by the real sops.
fn setup() -> (Sandbox, PathBuf, Vec<(&'static str, String)>) {
    let (identity, recipient) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", identity.clone());
    sb.write("plain.yaml", PLAIN);
    let enc = ok(sb.sops(&["encrypt", "--age", &recipient, "plain.yaml"]));
    let file = sb.write("secrets.yaml", enc);
    std::fs::remove_file(sb.path("plain.yaml")).unwrap();
    git(sb.dir.path(), &["init", "-q", "."]);
    git(sb.dir.path(), &["add", "secrets.yaml"]);
    git(sb.dir.path(), &["commit", "-q", "-m", "secrets"]);
    let mut env = editor_env(&sb, &identity);
    env.push((
        "XDG_CONFIG_HOME",
        sb.path("home/.config").display().to_string(),
    ));
    (sb, file, env)
}

fn start_sesame(t: &Tmux, dir: &Path) {
    start_sesame_after(t, dir, "");
}

/// Starts the editor from the pane's shell after `setup` (shell commands ending in `;`).
fn start_sesame_after(t: &Tmux, dir: &Path, setup: &str) {
    t.wait("the shell prompt", |s| s.contains('$'));
    let cmd = format!(
        "{setup} sh -c 'echo $$ > {}/sesame.pid; exec {} secrets.yaml'",
        dir.display(),
        env!("CARGO_BIN_EXE_sesame")
    );
    t.type_text(&cmd);
    t.keys(&["Enter"]);
    t.wait("the editor", |s| s.contains("sesame │ secrets.yaml"));
    assert!(t.alternate_on(), "the editor uses the alternate screen");
}

#[test]
fn reveal_edit_save_quit_then_sops_reads_it() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    // The save must bump `lastmodified`: wait out the second sops wrote it in.
    let stamp = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while stamp.contains(&sesame::gotext::now_seconds()) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    // Rows: db, user, password, api_token. Reveal the password, then edit it.
    t.keys(&["j", "j", "Space"]);
    t.wait("the revealed value", |s| s.contains("password: hunter2"));
    t.keys(&["Enter"]);
    t.wait("the value editor", |s| {
        s.contains("Edit [\"db\"][\"password\"]")
    });
    for _ in 0.."hunter2".len() {
        t.keys(&["BSpace"]);
    }
    t.type_text("s3cret!");
    t.keys(&["Enter"]);
    t.wait("the new value", |s| s.contains("password: s3cret!"));
    t.keys(&["C-s"]);
    t.wait("the review screen", |s| {
        s.contains("Review before saving") && s.contains("~ [\"db\"][\"password\"]  changed")
    });
    t.keys(&["y"]);
    t.wait("the save", |s| s.contains("saved secrets.yaml"));
    t.quit();
    assert!(!t.alternate_on());

    let value = ok(sb.sops(&[
        "decrypt",
        "--extract",
        "[\"db\"][\"password\"]",
        "secrets.yaml",
    ]));
    assert_eq!(String::from_utf8(value).unwrap(), "s3cret!");
    let all = ok(sb.sops(&["decrypt", "secrets.yaml"]));
    assert_eq!(
        String::from_utf8(all).unwrap(),
        PLAIN.replace("hunter2", "s3cret!")
    );
    let diff = git(dir, &["diff", "-U0", "--", "secrets.yaml"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed.len(), 6, "only three lines change:\n{diff}");
    for key in ["password:", "lastmodified:", "mac:"] {
        assert_eq!(
            changed.iter().filter(|l| l.contains(key)).count(),
            2,
            "{key} should change once:\n{diff}"
        );
    }
    assert!(file.exists());
}

#[allow(unsafe_code)]
#[test]
fn sigterm_restores_the_terminal_and_leaves_the_file() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let before = std::fs::read(&file).unwrap();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    // Mid-session: a value revealed and an unsaved edit.
    t.keys(&["j", "Space", "Enter"]);
    t.wait("the value editor", |s| {
        s.contains("Edit [\"db\"][\"user\"]")
    });
    t.type_text("XYZ");
    t.keys(&["Enter"]);
    t.wait("the unsaved edit", |s| s.contains("modified"));
    let pid: i32 = std::fs::read_to_string(dir.join("sesame.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) with a pid this test started (through the pane's shell).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let screen = t.wait("the shell again", |s| {
        !s.contains("sesame │") && s.contains('$')
    });
    assert!(
        !t.alternate_on(),
        "the alternate screen was left:\n{screen}"
    );
    assert!(
        !screen.contains("adminXYZ"),
        "no plaintext on the main screen"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: signal 0 only checks whether the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(Instant::now() < deadline, "sesame did not exit");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the file is byte-identical"
    );
    // The shell works: the terminal is back in cooked mode with echo.
    t.type_text("echo back-$((40+2))");
    t.keys(&["Enter"]);
    t.wait("the shell to answer", |s| s.contains("back-42"));
}

/// Whether a process still runs (a zombie waiting for its parent does not count).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// An SSH drop or a closed window: the terminal disappears under the editor, which must exit
/// (and drop its plaintext) at once instead of spinning on a dead terminal.
#[test]
fn the_editor_exits_when_its_terminal_goes_away() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let before = std::fs::read(&file).unwrap();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["j", "Space"]);
    t.wait("a revealed value", |s| s.contains("user: admin"));
    let pid: i32 = std::fs::read_to_string(dir.join("sesame.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(running(pid));
    t.run(&["kill-session", "-t", "t"]);
    let gone = Instant::now() + Duration::from_secs(2);
    while running(pid) {
        assert!(
            Instant::now() < gone,
            "sesame still runs 2 s after its terminal went away"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing was written");
}

/// With core dumps allowed, SIGABRT to the editor while it shows a revealed value writes no
/// core file (cores go to the working folder on this machine).
#[allow(unsafe_code)]
#[test]
fn an_aborted_editor_dumps_no_core() {
    let (sb, _file, env) = setup();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame_after(&t, dir, "ulimit -c unlimited;");
    t.keys(&["j", "Space"]);
    t.wait("a revealed value", |s| s.contains("user: admin"));
    let pid: i32 = std::fs::read_to_string(dir.join("sesame.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert!(core.split_whitespace().nth(4) == Some("0"), "{core}");
    // SAFETY: kill(2) with a pid this test started (through the pane's shell).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGABRT) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) {
        assert!(Instant::now() < deadline, "sesame did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.wait("the shell again", |s| {
        s.contains("Aborted") || !s.contains("sesame │")
    });
    let cores: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("core"))
        .map(|e| e.path())
        .collect();
    assert!(cores.is_empty(), "core files: {cores:?}");
}

/// Renaming a secret onto the plain suffix: the review says it will be stored in PLAIN TEXT,
/// `y` alone does not save, the typed "yes" does.
#[test]
fn a_secret_renamed_into_plain_text_is_saved_only_after_typing_yes() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let before = std::fs::read(&file).unwrap();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["j", "j", "r"]);
    t.wait("the rename prompt", |s| s.contains("Rename to"));
    t.type_text("_unencrypted");
    t.keys(&["Enter"]);
    t.wait("the renamed key", |s| s.contains("password_unencrypted"));
    t.keys(&["C-s"]);
    t.wait("the warning", |s| {
        s.contains("PLAIN TEXT") && s.contains("password_unencrypted")
    });
    t.keys(&["y"]);
    t.wait("the typed confirmation", |s| {
        s.contains("Type yes to save anyway")
    });
    t.keys(&["Escape"]);
    // A key sent right behind Escape would arrive as Alt+key: wait for the prompt to close.
    t.wait("the prompt to close", |s| {
        !s.contains("Type yes to save anyway")
    });
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing written yet");
    t.keys(&["C-s"]);
    t.wait("the warning again", |s| s.contains("PLAIN TEXT"));
    confirm_by_typing_yes(&t);
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(text.contains("password_unencrypted: hunter2"), "{text}");
    t.quit();
}

/// Handing the file over to someone else's key in the key manager: the review says this
/// machine would be locked out and who can still decrypt; `y` alone does not save, typing yes
/// does; afterwards only the other key decrypts, with the real sops.
#[test]
fn a_save_that_locks_this_machine_out_needs_a_typed_yes() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let (their_identity, theirs) = new_age_key();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    stage_recipient(
        &t,
        &theirs,
        "age",
        "✓ can decrypt here",
        "✗ cannot decrypt here",
    );
    // Group header, our key, their key: remove ours.
    t.keys(&["g", "j", "d"]);
    t.wait("our key unstaged", |s| s.contains("2. remove age"));
    t.keys(&["C-s"]);
    t.wait("the lockout warning", |s| {
        s.contains("Lockout:") && s.contains("no key on this machine can decrypt")
    });
    confirm_by_typing_yes(&t);
    t.quit();
    let only_theirs = Sandbox::new().env("SOPS_AGE_KEY", their_identity);
    let copy = only_theirs.write("secrets.yaml", std::fs::read(&file).unwrap());
    let out = ok(only_theirs.sops(&["decrypt", copy.to_str().unwrap()]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    assert!(
        !sb.sops(&["decrypt", "secrets.yaml"]).status.success(),
        "ours no longer opens it"
    );
}

/// In the key manager: adds `recipient` (a key of type `kind`) once the screen shows
/// `manager_shows`, waits for it to be staged with `staged_shows`, saves through the review and
/// quits.
fn add_recipient_and_save(
    t: &Tmux,
    recipient: &str,
    kind: &str,
    manager_shows: &str,
    staged_shows: &str,
) {
    stage_recipient(t, recipient, kind, manager_shows, staged_shows);
    t.keys(&["C-s"]);
    let review = format!("+ gains access:  group 1: {kind} ");
    t.wait("the review screen", |s| {
        s.contains("Review before saving") && s.contains(&review)
    });
    t.keys(&["y"]);
    t.wait("the save", |s| s.contains("saved secrets.yaml"));
    t.quit();
}

/// Opens the key manager (which shows `manager_shows`) and stages `recipient` (of type `kind`)
/// in the first group; the staged line then shows `staged_shows`.
fn stage_recipient(t: &Tmux, recipient: &str, kind: &str, manager_shows: &str, staged_shows: &str) {
    t.keys(&["K"]);
    t.wait("the key manager", |s| {
        s.contains("Key manager · secrets.yaml") && s.contains(manager_shows)
    });
    t.keys(&["a"]);
    t.wait("the recipient prompt", |s| s.contains("Add recipient"));
    t.type_text(recipient);
    t.keys(&["Enter"]);
    let staged = format!("1. add {kind} {}", &recipient[..8]);
    t.wait("the staged recipient", |s| {
        s.contains(&staged) && s.contains(staged_shows)
    });
}

/// In a review that needs it: `y`, then the typed "yes"; the file is saved.
fn confirm_by_typing_yes(t: &Tmux) {
    t.keys(&["y"]);
    t.wait("the typed confirmation", |s| {
        s.contains("Type yes to save anyway")
    });
    t.type_text("yes");
    t.keys(&["Enter"]);
    t.wait("the save", |s| s.contains("saved secrets.yaml"));
}

#[test]
fn add_an_age_recipient_in_the_key_manager_then_sops_decrypts_with_it() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let (new_identity, new_recipient) = new_age_key();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    add_recipient_and_save(
        &t,
        &new_recipient,
        "age",
        "✓ can decrypt here",
        "new: written on save",
    );

    // The new key alone decrypts, with the real sops; the old one still does too.
    let only_new = Sandbox::new().env("SOPS_AGE_KEY", new_identity);
    let copy = only_new.write("secrets.yaml", std::fs::read(&file).unwrap());
    let out = ok(only_new.sops(&["decrypt", copy.to_str().unwrap()]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    let out = ok(sb.sops(&["decrypt", "secrets.yaml"]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(text.contains(&new_recipient));
}

#[test]
fn add_a_kms_key_in_the_key_manager_then_sops_decrypts_with_kms_alone() {
    let server = server::Server::connect();
    let arn = server.create_key();
    let (sb, file, mut env) = setup();
    let dir = sb.dir.path();
    let aws = [
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_REGION", server::REGION.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_ACCESS_KEY_ID", server::ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", server::SECRET_KEY.to_string()),
    ];
    env.extend(aws.iter().cloned());
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    add_recipient_and_save(&t, &arn, "kms", "", "? needs AWS credentials");

    // No age key at all: only KMS can open it now.
    let mut kms_only = Sandbox::new();
    for (k, v) in aws {
        kms_only = kms_only.env(k, v);
    }
    let copy = kms_only.write("secrets.yaml", std::fs::read(&file).unwrap());
    let out = ok(kms_only.sops(&["decrypt", copy.to_str().unwrap()]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
}

/// A Vault transit key pasted into the key manager (a real OpenBao): probed as needing Vault,
/// written on save, then the real sops decrypts with Vault alone; removed again in the key
/// manager, the file no longer names it.
#[test]
fn add_and_remove_a_vault_key_in_the_key_manager() {
    let bao = common::bao::Bao::start();
    let uri = bao.transit_key("editor");
    let (sb, file, mut env) = setup();
    let dir = sb.dir.path();
    env.push(("VAULT_TOKEN", "root".to_string()));
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    add_recipient_and_save(&t, &uri, "hc_vault", "", "? a Vault token from VAULT_TOKEN");
    let vault_only = Sandbox::new().env("VAULT_TOKEN", "root");
    let copy = vault_only.write("secrets.yaml", std::fs::read(&file).unwrap());
    let out = ok(vault_only.sops(&["decrypt", copy.to_str().unwrap()]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);

    // Remove it again: group header, the age key, the Vault key.
    start_sesame(&t, dir);
    t.keys(&["K"]);
    t.wait("the key manager", |s| {
        s.contains("hc_vault") || s.contains("Vault")
    });
    t.keys(&["g", "j", "j", "d"]);
    t.wait("the removal staged", |s| s.contains("1. remove hc_vault"));
    t.save();
    t.quit();
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(!text.contains("hc_vault"), "{text}");
    assert_eq!(
        String::from_utf8(ok(sb.sops(&["decrypt", "secrets.yaml"]))).unwrap(),
        PLAIN
    );
}

/// One key of every remote type and an age plugin key, each pasted into the key manager,
/// probed, written on save and then enough alone for the real sops; then all removed again in
/// one save.
#[test]
fn add_and_remove_gcp_azure_huaweicloud_and_plugin_keys_in_the_key_manager() {
    use common::cloud::CloudServer;
    let gcp = CloudServer::start("gcp_kms.py");
    let azure = CloudServer::start("azure_kv.py");
    let hckms = CloudServer::start("hckms.py");
    let (plugin_dir, plugin_identity, plugin_recipient) = common::test_age_plugin();
    let (sb, file, mut env) = setup();
    let dir = sb.dir.path();
    // One bundle of the three test CAs; GCP straight to its REST port, Azure through its
    // proxy, HuaweiCloud through the SDK's endpoint variable, the plugin on PATH.
    let mut bundle = String::new();
    for server in [&gcp, &azure, &hckms] {
        bundle.push_str(&server.file_text("ca.pem"));
    }
    let bundle = sb.write("ca-bundle.pem", bundle).display().to_string();
    let gcp_key = "projects/p/locations/global/keyRings/r/cryptoKeys/editor";
    let azure_key = "https://editor.vault.azure.net/keys/sops";
    let hc_key = "cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    let services = [
        ("SSL_CERT_FILE", bundle.clone()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token".to_string()),
        (
            "SOPS_GCP_KMS_ENDPOINT",
            format!("127.0.0.1:{}", gcp.port("rest")),
        ),
        (
            "HTTPS_PROXY",
            format!("http://127.0.0.1:{}", azure.port("proxy")),
        ),
        ("NO_PROXY", "127.0.0.1,localhost".to_string()),
        (
            "AZURE_TENANT_ID",
            "11111111-2222-3333-4444-555555555555".to_string(),
        ),
        ("AZURE_CLIENT_ID", "sops-client".to_string()),
        ("AZURE_CLIENT_SECRET", "good-secret".to_string()),
        ("HUAWEICLOUD_SDK_AK", "good-ak".to_string()),
        ("HUAWEICLOUD_SDK_SK", "good-sk".to_string()),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "test-project-id".to_string()),
        (
            "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
            format!("https://127.0.0.1:{}", hckms.port("https")),
        ),
        (
            "PATH",
            format!(
                "{}:{}",
                plugin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
    ];
    env.extend(services.iter().cloned());
    let t = Tmux::start(dir, &env);
    let cases = [
        (
            gcp_key,
            "gcp_kms",
            "? Google credentials from GOOGLE_OAUTH_ACCESS_TOKEN",
        ),
        (
            azure_key,
            "azure_kv",
            "? Azure credentials from AZURE_CLIENT_SECRET",
        ),
        (
            hc_key,
            "hckms",
            "? a HuaweiCloud access key from HUAWEICLOUD_SDK_AK",
        ),
        (
            plugin_recipient.as_str(),
            "age",
            "no age-plugin-sesametest identity here",
        ),
    ];
    // (A login shell may reset PATH: set it where the editor starts.)
    let path = env.iter().find(|(k, _)| *k == "PATH").unwrap().1.clone();
    let export = format!("export PATH='{path}';");
    for (key, kind, probed) in cases {
        start_sesame_after(&t, dir, &export);
        add_recipient_and_save(&t, key, kind, "", probed);
    }
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    for needle in [
        gcp_key,
        "vault_url: https://editor.vault.azure.net",
        hc_key,
        &plugin_recipient,
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // Each service alone is enough for the real sops (the age key is not given).
    let gcp_only = gcp.sandbox().env("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token");
    let azure_only = azure
        .sandbox()
        .env("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555")
        .env("AZURE_CLIENT_ID", "sops-client")
        .env("AZURE_CLIENT_SECRET", "good-secret");
    let hc_only = Sandbox::new()
        .env("SSL_CERT_FILE", hckms.file("ca.pem").display().to_string())
        .env("HUAWEICLOUD_SDK_AK", "good-ak")
        .env("HUAWEICLOUD_SDK_SK", "good-sk")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "test-project-id")
        .env(
            "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
            format!("https://127.0.0.1:{}", hckms.port("https")),
        );
    let plugin_only = Sandbox::new().env("SOPS_AGE_KEY", plugin_identity).env(
        "PATH",
        env.iter().find(|(k, _)| *k == "PATH").unwrap().1.clone(),
    );
    for alone in [gcp_only, azure_only, hc_only, plugin_only] {
        let copy = alone.write("secrets.yaml", std::fs::read(&file).unwrap());
        let out = ok(alone.sops(&["decrypt", copy.to_str().unwrap()]));
        assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    }

    // Remove the four again in one save: the group, the native age key, then the four after it.
    start_sesame_after(&t, dir, &export);
    t.keys(&["K"]);
    t.wait("the key manager", |s| s.contains("hckms"));
    t.keys(&["g", "j"]);
    for n in 1..=4 {
        t.keys(&["j", "d"]);
        let staged = format!("{n}. remove");
        t.wait("a removal staged", |s| s.contains(&staged));
    }
    let s = t.wait("four removals", |s| s.contains("4. remove"));
    assert!(!s.contains("5. remove"), "{s}");
    t.save();
    t.quit();
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    for gone in [
        "gcp_kms:\n        -",
        "azure_kv:\n        -",
        "hckms:\n        -",
        "sesametest",
    ] {
        assert!(!text.contains(gone), "{gone} still in:\n{text}");
    }
    assert_eq!(
        String::from_utf8(ok(sb.sops(&["decrypt", "secrets.yaml"]))).unwrap(),
        PLAIN
    );
}

/// A save that waits on a key service that never answers: the screen keeps drawing and says
/// what it waits for, Esc stops it, and once the call times out nothing was written.
#[test]
fn a_save_waiting_on_a_service_shows_progress_and_esc_stops_it() {
    use common::cloud::CloudServer;
    let gcp = CloudServer::start("gcp_kms.py");
    let (sb, file, mut env) = setup();
    let before = std::fs::read(&file).unwrap();
    let dir = sb.dir.path();
    env.extend([
        ("SSL_CERT_FILE", gcp.file("ca.pem").display().to_string()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token".to_string()),
        (
            "SOPS_GCP_KMS_ENDPOINT",
            format!("127.0.0.1:{}", gcp.port("rest")),
        ),
        ("SESAME_SERVICE_TIMEOUT", "6".to_string()),
    ]);
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    let hang = "projects/p/locations/global/keyRings/r/cryptoKeys/hang";
    stage_recipient(&t, hang, "gcp_kms", "", "? Google credentials");
    t.keys(&["C-s"]);
    t.wait("the review", |s| s.contains("Review before saving"));
    t.keys(&["y"]);
    let s = t.wait("the progress box", |s| {
        s.contains("Saving secrets.yaml…") && s.contains("waiting for GCP KMS key")
    });
    assert!(s.contains("Esc stops"), "{s}");
    // The seconds count up while it waits: the screen is alive.
    t.wait("a later second", |s| {
        s.contains("… 2 s") || s.contains("… 3 s")
    });
    t.keys(&["Escape"]);
    t.wait("stopping", |s| s.contains("stopping"));
    t.wait("the failure", |s| s.contains("nothing was written"));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the file is untouched"
    );
    t.keys(&["q"]);
}

/// An age plugin that asks for a PIN: on the terminal when the editor opens the file, then in
/// the editor's own box when the file is reloaded, without breaking the screen.
#[test]
fn an_age_plugin_asks_for_its_pin_on_the_terminal_and_in_the_editor() {
    let (plugin_dir, identity, recipient) = common::test_age_plugin();
    let path = format!(
        "{}:{}",
        plugin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sb = Sandbox::new()
        .env("PATH", path.clone())
        .env("SOPS_AGE_KEY", identity.clone());
    sb.write("plain.yaml", PLAIN);
    let file = sb.write(
        "secrets.yaml",
        ok(sb.sops(&["encrypt", "--age", &recipient, "plain.yaml"])),
    );
    let dir = sb.dir.path();
    let env = vec![
        ("HOME", sb.path("home").display().to_string()),
        ("SOPS_AGE_KEY", identity),
        ("PATH", path),
        ("SESAMETEST_PIN", "4711".to_string()),
        ("TERM", "xterm-256color".to_string()),
    ];
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    // (A login shell may reset PATH: set it where the editor starts.)
    t.type_text(&format!(
        "export PATH='{}'; {} secrets.yaml",
        env[2].1,
        env!("CARGO_BIN_EXE_sesame")
    ));
    t.keys(&["Enter"]);
    t.wait("the PIN prompt on the terminal", |s| {
        s.contains("PIN of the sesametest key:")
    });
    t.type_text("4711");
    t.keys(&["Enter"]);
    t.wait("the editor", |s| s.contains("sesame │ secrets.yaml"));
    // The file changes on disk under a new data key (sops rotates it); reloading asks the
    // plugin again (a data key already unwrapped in this run would not need it).
    let out = ok(sb.sops(&["rotate", "-i", "secrets.yaml"]));
    drop(out);
    t.wait("the change noticed", |s| s.contains("changed on disk"));
    t.keys(&["R"]);
    let s = t.wait("the PIN box", |s| {
        s.contains("age plugin") && s.contains("PIN of the sesametest key")
    });
    assert!(
        s.contains("sesame │ secrets.yaml"),
        "the editor stays drawn:\n{s}"
    );
    t.type_text("4711");
    let s = t.wait("the masked PIN", |s| s.contains("••••"));
    assert!(!s.contains("4711"), "{s}");
    t.keys(&["Enter"]);
    t.wait("the reload", |s| {
        s.contains("reloaded") || s.contains("Reloaded")
    });
    t.quit();
    assert!(
        String::from_utf8(std::fs::read(&file).unwrap())
            .unwrap()
            .contains("api_token")
    );
}

/// Files the real sops encrypted for one key service each (GCP KMS, Azure Key Vault,
/// HuaweiCloud KMS, Vault transit) open in the editor with that service alone (no age key):
/// not in review mode, and a value reveals.
#[test]
fn files_sops_wrote_for_each_key_service_open_in_the_editor() {
    use common::cloud::CloudServer;
    let gcp = CloudServer::start("gcp_kms.py");
    let azure = CloudServer::start("azure_kv.py");
    let hckms = CloudServer::start("hckms.py");
    let bao = common::bao::Bao::start();
    let vault_key = bao.transit_key("editor");
    let sb = Sandbox::new();
    let dir = sb.dir.path();
    let mut bundle = String::new();
    for s in [&gcp, &azure, &hckms] {
        bundle.push_str(&s.file_text("ca.pem"));
    }
    let bundle = sb.write("ca-bundle.pem", bundle).display().to_string();
    let gcp_env = vec![
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token".to_string()),
        (
            "HTTPS_PROXY",
            format!("http://127.0.0.1:{}", gcp.port("proxy")),
        ),
    ];
    let azure_env = vec![
        (
            "AZURE_TENANT_ID",
            "11111111-2222-3333-4444-555555555555".to_string(),
        ),
        ("AZURE_CLIENT_ID", "sops-client".to_string()),
        ("AZURE_CLIENT_SECRET", "good-secret".to_string()),
        (
            "HTTPS_PROXY",
            format!("http://127.0.0.1:{}", azure.port("proxy")),
        ),
    ];
    let hc_env = vec![
        ("HUAWEICLOUD_SDK_AK", "good-ak".to_string()),
        ("HUAWEICLOUD_SDK_SK", "good-sk".to_string()),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "test-project-id".to_string()),
        (
            "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
            format!("https://127.0.0.1:{}", hckms.port("https")),
        ),
    ];
    let vault_env = vec![("VAULT_TOKEN", "root".to_string())];
    let cases = [
        (
            "--gcp-kms",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k",
            gcp_env,
        ),
        (
            "--azure-kv",
            "https://editor.vault.azure.net/keys/sops",
            azure_env,
        ),
        (
            "--hckms",
            "cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            hc_env,
        ),
        ("--hc-vault-transit", vault_key.as_str(), vault_env),
    ];
    let base = vec![
        ("HOME", sb.path("home").display().to_string()),
        ("TERM", "xterm-256color".to_string()),
    ];
    let t = Tmux::start(dir, &base);
    for (flag, key, env) in cases {
        let mut writer = Sandbox::new()
            .env("SSL_CERT_FILE", bundle.clone())
            .env("NO_PROXY", "127.0.0.1,localhost");
        for (k, v) in &env {
            writer = writer.env(k, v.clone());
        }
        writer.write("plain.yaml", PLAIN);
        sb.write(
            "secrets.yaml",
            ok(writer.sops(&["encrypt", flag, key, "plain.yaml"])),
        );
        let mut exports = format!(
            "export SSL_CERT_FILE='{bundle}' NO_PROXY=127.0.0.1,localhost; unset HTTPS_PROXY;"
        );
        for (k, v) in &env {
            exports.push_str(&format!(" export {k}='{v}';"));
        }
        start_sesame_after(&t, dir, &exports);
        let s = t.wait("the tree", |s| s.contains("password: ••"));
        assert!(!s.contains("REVIEW"), "{flag}: opened in review mode:\n{s}");
        t.keys(&["j", "j", "Space"]);
        t.wait("the revealed value", |s| s.contains("password: hunter2"));
        t.keys(&["q"]);
        t.wait("the shell again", |s| !s.contains("sesame │"));
        t.type_text("clear");
        t.keys(&["Enter"]);
    }
}

/// Ctrl-C asks before quitting with unsaved changes, and Enter on that question (or on a
/// delete) keeps everything as it was; y quits without writing.
#[test]
fn ctrl_c_asks_and_enter_keeps_the_editor_open() {
    let (sb, file, env) = setup();
    let before = std::fs::read(&file).unwrap();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    // An unsaved change: delete a value (Enter first, which keeps it).
    t.keys(&["j", "j", "d"]);
    t.wait("the delete question", |s| s.contains("Delete"));
    t.keys(&["Enter"]);
    t.wait("the question gone", |s| {
        !s.contains("Delete [") && s.contains("password")
    });
    t.keys(&["d", "y"]);
    t.wait("the deletion", |s| s.contains("modified"));
    t.keys(&["C-c"]);
    t.wait("the quit question", |s| {
        s.contains("Quit without saving 1 change(s)?")
    });
    t.keys(&["Enter"]);
    let s = t.wait("the editor still open", |s| {
        !s.contains("Quit without saving")
    });
    assert!(s.contains("sesame │ secrets.yaml"), "{s}");
    t.keys(&["C-c"]);
    t.wait("the quit question again", |s| {
        s.contains("Quit without saving")
    });
    t.keys(&["y"]);
    t.wait("the shell again", |s| !s.contains("sesame │"));
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing was written");
}

/// `sesame demo` (the README's first command) opens the bundled file with the bundled key and,
/// on quitting, says what to do next.
#[test]
fn the_demo_opens_and_says_what_next() {
    let sb = Sandbox::new();
    let dir = sb.dir.path();
    let env = vec![
        ("HOME", sb.path("home").display().to_string()),
        ("TERM", "xterm-256color".to_string()),
    ];
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    t.type_text(&format!("{} demo", env!("CARGO_BIN_EXE_sesame")));
    t.keys(&["Enter"]);
    let s = t.wait("the editor", |s| s.contains("sesame │ demo.sops.yaml"));
    assert!(!s.contains("REVIEW"), "the demo key opens it:\n{s}");
    t.keys(&["q"]);
    let s = t.wait("the next step", |s| s.contains("Next: `sesame FILE`"));
    assert!(s.contains("nothing else was touched"), "{s}");
}

/// A file Git left in conflict (the same value changed on both branches) opens on the
/// conflict screen; taking theirs and saving writes theirs' value (the real sops reads it),
/// staging after a confirmation ends the conflict, and no value was shown or written in clear.
#[test]
fn a_merge_conflict_is_settled_on_the_conflict_screen() {
    let (sb, file, env) = setup();
    let dir = sb.dir.path();
    let git_env = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .env("HOME", sb.path("home"))
            .env("SOPS_AGE_KEY_FILE", sb.path("key.txt"))
            .output()
            .expect("git");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    ok(sb.sesame(&["git", "setup"]));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "drivers"]);
    git(dir, &["checkout", "-q", "-b", "theirs"]);
    ok(sb.sops(&[
        "set",
        "secrets.yaml",
        r#"["db"]["password"]"#,
        r#""theirs-pw-31""#,
    ]));
    git(dir, &["commit", "-q", "-am", "theirs"]);
    git(dir, &["checkout", "-q", "-"]);
    ok(sb.sops(&[
        "set",
        "secrets.yaml",
        r#"["db"]["password"]"#,
        r#""ours-pw-17""#,
    ]));
    ok(sb.sops(&["set", "secrets.yaml", r#"["api_token"]"#, r#""ours-tok-5""#]));
    git(dir, &["commit", "-q", "-am", "ours"]);
    let (merged, err) = git_env(&["merge", "--no-edit", "theirs"]);
    assert!(!merged, "the same value changed on both sides conflicts");
    assert!(err.contains("db.password changed differently"), "{err}");

    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    let s = t.wait("the conflict screen", |s| {
        s.contains("Merge conflicts in secrets.yaml: 1 of 1 unsettled")
    });
    assert!(s.contains("db.password") && s.contains("theirs"), "{s}");
    assert!(
        !s.contains("theirs-pw-31") && !s.contains("ours-pw-17"),
        "{s}"
    );
    t.keys(&["Space"]);
    let s = t.wait("the revealed sides", |s| s.contains("theirs-pw-31"));
    assert!(s.contains("ours-pw-17"), "{s}");
    t.keys(&["t"]);
    t.wait("theirs taken", |s| s.contains("0 of 1 unsettled"));
    t.keys(&["Enter"]);
    t.wait("the tree", |s| s.contains("every conflict is settled"));
    t.keys(&["C-s"]);
    t.wait("the review", |s| s.contains("Review before saving"));
    t.keys(&["y"]);
    t.wait("the stage question", |s| s.contains("Stage it in Git"));
    t.keys(&["y"]);
    t.wait("staged", |s| s.contains("saved and staged secrets.yaml"));
    t.quit();

    let plain = String::from_utf8(ok(sb.sops(&["decrypt", "secrets.yaml"]))).unwrap();
    assert!(plain.contains("password: theirs-pw-31"), "{plain}");
    assert!(plain.contains("api_token: ours-tok-5"), "{plain}");
    assert_eq!(
        git(dir, &["ls-files", "-u"]),
        "",
        "no unmerged entries left"
    );
    let (committed, err) = git_env(&["commit", "-q", "--no-edit"]);
    assert!(committed, "{err}");
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(!text.contains("theirs-pw-31") && !text.contains("ours-pw-17"));
    // Nowhere in the sandbox (working tree, .git, home) is either value in clear.
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            for secret in [&b"theirs-pw-31"[..], b"ours-pw-17"] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "a value in clear in {}",
                    p.display()
                );
            }
        }
    }
}

/// `sesame DIR`: the repository view shows each file's badge (in step, drift, plain text),
/// filters, opens a file in the editor and comes back, and a bulk action ("apply .sops.yaml")
/// is previewed as a table, written on `y`, after which the real sops decrypts the updated
/// file with the new key alone.
#[test]
fn the_repository_view_shows_badges_and_applies_a_bulk_action() {
    let (a_identity, a) = new_age_key();
    let (b_identity, b) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", a_identity.clone());
    let dir = sb.dir.path();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^secrets/\n    age: {a},{b}\n"),
    );
    sb.write("secrets/ok.yaml", "user: admin\npassword: one\n");
    ok(sb.sops(&["encrypt", "-i", "secrets/ok.yaml"]));
    sb.write("secrets/drift.yaml", "user: admin\npassword: two\n");
    ok(sb.sops(&[
        "--config",
        "/dev/null",
        "encrypt",
        "-i",
        "--age",
        &a,
        "secrets/drift.yaml",
    ]));
    sb.write("secrets/plain.yaml", "password: three\n");
    let env = editor_env(&sb, &a_identity);
    git(dir, &["init", "-q", "."]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "files"]);
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    t.type_text(&format!("{} .", env!("CARGO_BIN_EXE_sesame")));
    t.keys(&["Enter"]);
    let s = t.wait("the repository view", |s| s.contains("sesame │ repository"));
    let badge =
        |s: &str, file: &str, text: &str| s.lines().any(|l| l.contains(file) && l.contains(text));
    assert!(badge(&s, "secrets/ok.yaml", "✓ in step"), "{s}");
    assert!(badge(&s, "secrets/drift.yaml", "≠ drift"), "{s}");
    assert!(badge(&s, "secrets/plain.yaml", "✗ PLAIN TEXT"), "{s}");
    assert!(
        !s.contains("three") && !s.contains("two"),
        "no value shown: {s}"
    );

    // Filter, then open the one file left in the editor and come back.
    t.keys(&["/"]);
    t.type_text("ok.y");
    t.keys(&["Enter"]);
    t.wait("the filtered list", |s| {
        s.contains("secrets/ok.yaml") && !s.contains("secrets/drift.yaml")
    });
    t.keys(&["Enter"]);
    t.wait("the editor", |s| s.contains("sesame │ ok.yaml"));
    t.keys(&["q"]);
    t.wait("the repository view again", |s| s.contains("back from"));
    t.keys(&["/", "Escape"]);
    t.wait("the whole list", |s| s.contains("secrets/drift.yaml"));

    // The bulk action: previewed, then written.
    t.keys(&["u"]);
    let s = t.wait("the preview", |s| {
        s.contains("Apply .sops.yaml to 1 file(s)")
    });
    assert!(
        s.contains("secrets/drift.yaml:") && s.contains(&format!("group 1: + {}", &b[..20])),
        "{s}"
    );
    t.keys(&["y"]);
    let s = t.wait("the result", |s| s.contains("1 of 1 file(s) written"));
    assert!(badge(&s, "secrets/drift.yaml", "✓ in step"), "{s}");
    let out = ok(sb.sops_with(
        &[("SOPS_AGE_KEY", b_identity.as_str())],
        &["decrypt", "secrets/drift.yaml"],
    ));
    assert!(String::from_utf8(out).unwrap().contains("password: two"));

    // Remove B everywhere: both files lose it and get new data keys.
    t.keys(&["x"]);
    t.wait("the key prompt", |s| s.contains("remove which key"));
    t.type_text(&b);
    t.keys(&["Enter"]);
    t.wait("the removal preview", |s| {
        s.contains("from 2 file(s) and replace their data keys")
    });
    t.keys(&["y"]);
    let s = t.wait("the removal", |s| s.contains("2 of 2 file(s) written"));
    assert!(
        badge(&s, "secrets/ok.yaml", "≠ drift"),
        "B is still in .sops.yaml: {s}"
    );
    t.quit();
    for f in ["secrets/ok.yaml", "secrets/drift.yaml"] {
        let b_only = sb.sops_with(&[("SOPS_AGE_KEY", b_identity.as_str())], &["decrypt", f]);
        assert!(!b_only.status.success(), "B still decrypts {f}");
        ok(sb.sops(&["decrypt", f]));
    }
}

/// `sesame new.yaml` creates the file from the `.sops.yaml` rule that matches it, starting from
/// an example document; values typed into new keys take their type from the text as YAML
/// reads it (an int, an empty map filled in, an empty list with an item); the real sops reads
/// the result. A new file left without a save is not created.
#[test]
fn a_new_file_from_a_creation_rule_with_typed_values() {
    let (identity, recipient) = new_age_key();
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {recipient}\n"),
    );
    let env = editor_env(&sb, &identity);
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    let sesame = env!("CARGO_BIN_EXE_sesame");
    // Quit at once: nothing is created.
    t.type_text(&format!("{sesame} unsaved.yaml"));
    t.keys(&["Enter"]);
    t.wait("the editor", |s| s.contains("sesame │ unsaved.yaml"));
    t.keys(&["q"]);
    t.wait("the note", |s| s.contains("unsaved.yaml was not created"));
    assert!(!sb.path("unsaved.yaml").exists());

    t.type_text(&format!("{sesame} new.yaml"));
    t.keys(&["Enter"]);
    t.wait("the editor", |s| {
        s.contains("sesame │ new.yaml") && s.contains("example_key")
    });
    let new_value = |key: &str, text: &str| {
        t.keys(&["a"]);
        t.wait("the key prompt", |s| s.contains("New key"));
        t.type_text(key);
        t.keys(&["Enter"]);
        t.wait("the value editor", |s| s.contains("type from the text"));
        t.type_text(text);
        t.keys(&["Enter"]);
        t.wait("the editor closed", |s| !s.contains("type from the text"));
    };
    t.keys(&["G"]);
    new_value("port", "30");
    t.wait("an int", |s| s.contains("port: ") && s.contains("int"));
    new_value("hosts", "[]");
    t.wait("an empty list", |s| s.contains("hosts: [0 items]"));
    // On the list, a adds an item inside it.
    t.keys(&["a"]);
    t.wait("the item's editor", |s| s.contains("type from the text"));
    t.type_text("a.example");
    t.keys(&["Enter"]);
    t.wait("the item", |s| s.contains("hosts: [1 item]"));
    // Back to port, then a map after it, filled in.
    t.keys(&["/"]);
    t.wait("the search prompt", |s| s.contains("Search"));
    t.type_text("port");
    t.keys(&["Enter"]);
    new_value("db", "{}");
    t.wait("an empty map", |s| s.contains("db: {0 keys}"));
    new_value("user", "admin");
    t.wait("the map filled", |s| s.contains("db: {1 key}"));
    t.keys(&["C-s"]);
    t.wait("the review", |s| s.contains("Review before saving"));
    t.keys(&["y"]);
    t.wait("the save", |s| s.contains("saved new.yaml"));
    t.quit();

    let text = String::from_utf8(sb.read("new.yaml")).unwrap();
    assert!(text.contains(&recipient), "the rule's recipient:\n{text}");
    assert!(text.contains("type:int]"), "{text}");
    let sops = sb.env("SOPS_AGE_KEY", identity);
    let plain = String::from_utf8(ok(sops.sops(&["decrypt", "new.yaml"]))).unwrap();
    assert!(
        plain.ends_with(
            "example_key: example value\nport: 30\ndb:\n    user: admin\nhosts:\n    - a.example\n"
        ),
        "{plain}"
    );
}

/// A revealed value masks again after `SESAME_REVEAL_TIME`; `y` puts the selected value on the
/// clipboard through the terminal (OSC 52: here tmux's own clipboard, `set-clipboard on`)
/// without showing it, the status bar counts down, and after `SESAME_CLIP_TIME` the copy is
/// gone from the clipboard, as on quitting; `Y` copies the key's path.
#[test]
fn reveals_mask_again_and_copies_clear_themselves() {
    let (sb, _file, mut env) = setup();
    env.push(("SESAME_REVEAL_TIME", "1".into()));
    env.push(("SESAME_CLIP_TIME", "2".into()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    t.run(&["set", "-g", "set-clipboard", "on"]);
    start_sesame(&t, dir);
    t.keys(&["j", "j", "Space"]);
    t.wait("the revealed value", |s| s.contains("password: hunter2"));
    t.wait("the value masked again", |s| {
        !s.contains("hunter2") && s.contains("masked again")
    });
    t.keys(&["y"]);
    let s = t.wait("the countdown", |s| s.contains("clipboard clears in"));
    assert!(!s.contains("hunter2"), "copying shows nothing:\n{s}");
    assert!(s.contains("(terminal clipboard)"), "no display here:\n{s}");
    assert_eq!(t.run(&["show-buffer"]), "hunter2");
    t.wait("the clipboard cleared", |s| {
        s.contains("the clipboard was cleared") && !s.contains("clipboard clears in")
    });
    assert!(!t.run(&["list-buffers"]).contains("hunter2"));
    t.keys(&["Y"]);
    t.wait("the path copied", |s| {
        s.contains("copied [\"db\"][\"password\"]")
    });
    assert_eq!(t.run(&["show-buffer"]), "[\"db\"][\"password\"]");
    // Quitting clears a copied value at once; the path the user copied stays.
    t.keys(&["y"]);
    t.wait("the countdown", |s| s.contains("clipboard clears in"));
    t.quit();
    let buffers = t.run(&["list-buffers"]);
    assert!(!buffers.contains("hunter2"), "{buffers}");
    assert!(buffers.contains("[\"db\"][\"password\"]"), "{buffers}");
}

/// With a display, `y` also puts the value on the system clipboard (here a real X server,
/// read with xclip), marked for clipboard managers to keep out of history, and clears it
/// there after `SESAME_CLIP_TIME` — unless something else was copied since, which stays.
#[test]
fn copies_reach_the_system_clipboard_and_leave_it_again() {
    let x = Xvfb::start();
    let (sb, _file, mut env) = setup();
    env.push(("SESAME_CLIP_TIME", "2".into()));
    env.push(("DISPLAY", x.display.clone()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["j", "j", "y"]);
    let s = t.wait("the countdown", |s| s.contains("clipboard clears in"));
    assert!(s.contains("system + terminal clipboards"), "{s}");
    assert!(!s.contains("hunter2"), "{s}");
    assert_eq!(x.clipboard("UTF8_STRING").as_deref(), Some("hunter2"));
    let targets = x.clipboard("TARGETS").unwrap_or_default();
    assert!(targets.contains("x-kde-passwordManagerHint"), "{targets}");
    x.wait("the value cleared", |held| held.is_none_or(str::is_empty));
    t.wait("the status", |s| s.contains("the clipboard was cleared"));
    // Copied again, then the user copies something else: that stays past the deadline.
    t.keys(&["y"]);
    x.wait("the value copied", |held| held == Some("hunter2"));
    x.copy("the user's own");
    t.wait("the deadline", |s| s.contains("the clipboard was cleared"));
    assert_eq!(
        x.clipboard("UTF8_STRING").as_deref(),
        Some("the user's own")
    );
    // Quitting clears a value still there.
    t.keys(&["y"]);
    x.wait("the value copied", |held| held == Some("hunter2"));
    t.quit();
    x.wait("the value cleared on quit", |held| held != Some("hunter2"));
}

/// `sesame decrypt --extract P --clip` with a display: the system clipboard takes the value
/// (served by the detached helper, which clears it after `SESAME_CLIP_TIME`).
#[test]
fn decrypt_clip_reaches_the_system_clipboard() {
    let x = Xvfb::start();
    let (sb, _file, mut env) = setup();
    env.push(("SESAME_CLIP_TIME", "2".into()));
    env.push(("DISPLAY", x.display.clone()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    t.type_text(&format!(
        "{} decrypt --extract '[\"db\"][\"password\"]' --clip secrets.yaml",
        env!("CARGO_BIN_EXE_sesame")
    ));
    t.keys(&["Enter"]);
    let s = t.wait("the note", |s| s.contains("it is cleared in 2 s"));
    assert!(s.contains("to the system + terminal clipboards"), "{s}");
    assert_eq!(x.clipboard("UTF8_STRING").as_deref(), Some("hunter2"));
    x.wait("the value cleared", |held| held.is_none_or(str::is_empty));
}

/// `/` searches as the query is typed, over key paths and decrypted values: a value's match
/// selects its key and says "1 of 1" while the value stays masked; Esc goes back.
#[test]
fn search_finds_a_value_without_showing_it() {
    let (sb, _file, env) = setup();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["/"]);
    t.wait("the search prompt", |s| {
        s.contains("Search keys and values")
    });
    t.type_text("UNTER");
    let s = t.wait("the match", |s| s.contains("1 of 1"));
    assert!(!s.contains("hunter2"), "the value stays masked:\n{s}");
    assert!(
        s.contains("[\"db\"][\"password\"]"),
        "its key is selected:\n{s}"
    );
    t.keys(&["Enter"]);
    t.wait("the search kept", |s| s.contains("/UNTER: 1 of 1"));
    t.keys(&["n"]);
    t.wait("the wrap notice", |s| s.contains("wrapped to the top"));
    t.keys(&["/"]);
    t.wait("the search prompt", |s| {
        s.contains("Search keys and values")
    });
    t.type_text("nothing-like-this");
    t.wait("no match", |s| s.contains("nothing matches"));
    t.keys(&["Escape"]);
    t.wait("back", |s| s.contains("search cancelled"));
    t.quit();
}

/// Ctrl-Z gives the terminal back to the shell (the editor's screen is gone, no value in the
/// scrollback) and `fg` brings the editor back as it was.
#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let (sb, _file, env) = setup();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    t.wait("the shell prompt", |s| s.contains('$'));
    // A shell with job control, so Ctrl-Z stops the editor and `fg` continues it.
    t.type_text("exec bash --norc -i");
    t.keys(&["Enter"]);
    t.type_text(&format!("{} secrets.yaml", env!("CARGO_BIN_EXE_sesame")));
    t.keys(&["Enter"]);
    t.wait("the editor", |s| s.contains("sesame │ secrets.yaml"));
    t.keys(&["j", "j", "Space"]);
    t.wait("a revealed value", |s| s.contains("password: hunter2"));
    t.keys(&["C-z"]);
    let s = t.wait("the shell", |s| {
        s.contains("Stopped") && !s.contains("sesame │")
    });
    assert!(!s.contains("hunter2"), "{s}");
    assert!(!t.alternate_on());
    t.type_text("fg");
    t.keys(&["Enter"]);
    t.wait("the editor again", |s| {
        s.contains("sesame │ secrets.yaml") && s.contains("resumed")
    });
    assert!(t.alternate_on());
    t.quit();
    let scrollback = t.run(&["capture-pane", "-p", "-S", "-1000", "-t", "t"]);
    assert!(!scrollback.contains("hunter2"), "{scrollback}");
}

/// A `.sops.yaml` created while the editor is open is picked up at once: the editor says so,
/// and the key manager's `c` finds the new creation rule (before, it said there was none).
#[test]
fn a_sops_yaml_created_while_open_is_picked_up() {
    let (sb, _file, env) = setup();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["K"]);
    t.wait("the key manager", |s| s.contains("Key manager"));
    t.keys(&["c"]);
    t.wait("no rule yet", |s| s.contains("no .sops.yaml applies"));
    let (_, other) = new_age_key();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {other} # carol\n"),
    );
    t.wait("the config read", |s| {
        s.contains(".sops.yaml changed: read again")
    });
    t.keys(&["c"]);
    t.wait("the rule", |s| s.contains("The creation rule in"));
    t.keys(&["Escape"]);
    t.wait("the key manager", |s| !s.contains("The creation rule in"));
    t.keys(&["Escape"]);
    t.wait("the tree", |s| !s.contains("Key manager"));
    t.quit();
}

/// A mouse click (an SGR mouse report, as a terminal sends it) selects the row under it, and
/// a second click on it opens the value editor.
#[test]
fn a_mouse_click_selects_a_row() {
    let (sb, _file, env) = setup();
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    // Rows: db (screen row 2), user, password (row 4); column 10. SGR reports count from 1.
    let click = || {
        t.type_text("\x1b[<0;11;5M");
        t.type_text("\x1b[<0;11;5m");
    };
    click();
    t.wait("the password selected", |s| {
        s.contains("Path      [\"db\"][\"password\"]")
    });
    click();
    t.wait("its editor", |s| s.contains("Edit [\"db\"][\"password\"]"));
    t.keys(&["Escape"]);
    t.wait("the editor closed", |s| !s.contains("Edit [\"db\"]"));
    // The buttons of a question answer it: No keeps the value, Yes deletes it.
    let click_on = |label: &str| {
        let screen = t.screen();
        let (row, line) = screen
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(label))
            .unwrap_or_else(|| panic!("no {label} on screen:\n{screen}"));
        let col = line[..line.find(label).unwrap()].chars().count() + 2;
        t.type_text(&format!("\x1b[<0;{col};{}M", row + 1));
        t.type_text(&format!("\x1b[<0;{col};{}m", row + 1));
    };
    t.keys(&["d"]);
    t.wait("the question", |s| s.contains("[y Yes]"));
    click_on("[n No]");
    t.wait("the question answered", |s| !s.contains("[y Yes]"));
    assert!(t.screen().contains("password:"));
    t.keys(&["d"]);
    t.wait("the question", |s| s.contains("[y Yes]"));
    click_on("[y Yes]");
    t.wait("the value deleted", |s| {
        !s.contains("[y Yes]") && !s.contains("password:")
    });
    t.keys(&["q"]);
    t.wait("quit without saving?", |s| {
        s.contains("Quit without saving")
    });
    click_on("[y Yes]");
    t.wait("the shell again", |s| !s.contains("sesame │"));
}

/// `E` edits the selected value in `$EDITOR`: a temp file in a private (0700) folder on a
/// RAM-backed file system, gone once the editor returns; the new text becomes the value.
#[test]
fn a_value_is_edited_in_the_users_editor() {
    let (sb, _file, mut env) = setup();
    let log = sb.path("editor.log");
    let script = sb.write(
        "fake-editor.sh",
        format!(
            "#!/bin/sh\nprintf '%s %s %s\\n' \"$1\" \"$(stat -c %a \"$(dirname \"$1\")\")\" \"$(cat \"$1\")\" > {}\nprintf 'from-the-editor\\n' > \"$1\"\n",
            log.display()
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.push(("EDITOR", script.display().to_string()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&["j", "j", "E"]);
    t.wait("the value changed", |s| {
        s.contains("changed [\"db\"][\"password\"]")
    });
    t.save();
    t.quit();
    let logged = std::fs::read_to_string(&log).unwrap();
    let mut words = logged.split_whitespace();
    let (file, mode, old) = (
        words.next().unwrap(),
        words.next().unwrap(),
        words.next().unwrap(),
    );
    assert_eq!(mode, "700", "{logged}");
    assert_eq!(old, "hunter2", "the editor got the value");
    if std::path::Path::new("/dev/shm").is_dir() {
        assert!(file.starts_with("/dev/shm/"), "{logged}");
    }
    let tmp = std::path::Path::new(file);
    assert!(
        !tmp.exists() && !tmp.parent().unwrap().exists(),
        "removed: {logged}"
    );
    let value = ok(sb.sops(&[
        "decrypt",
        "--extract",
        "[\"db\"][\"password\"]",
        "secrets.yaml",
    ]));
    assert_eq!(String::from_utf8(value).unwrap(), "from-the-editor");
}

/// The whole document in `$EDITOR`, as `sops edit` does, after a question that says where
/// the plaintext goes: a private folder in memory, gone when the editor returns. The save
/// re-encrypts only what was changed there.
#[test]
fn the_whole_document_is_edited_in_the_users_editor() {
    let (sb, file, mut env) = setup();
    let before = std::fs::read_to_string(&file).unwrap();
    let log = sb.path("editor.log");
    let script = sb.write(
        "fake-editor.sh",
        format!(
            "#!/bin/sh\nprintf '%s %s\\n' \"$1\" \"$(stat -c %a \"$(dirname \"$1\")\")\" > {log}\ncat \"$1\" >> {log}\nsed -i -e 's/hunter2/from-the-editor/' -e '$a added: 7' \"$1\"\n",
            log = log.display()
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.push(("EDITOR", script.display().to_string()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    start_sesame(&t, dir);
    t.keys(&[":"]);
    t.type_text("edit document");
    t.keys(&["Enter"]);
    t.wait("the question", |s| s.contains("Edit in $EDITOR"));
    t.keys(&["y"]);
    t.wait("the change", |s| {
        s.contains("edited the document in $EDITOR")
    });
    t.save();
    t.quit();
    let logged = std::fs::read_to_string(&log).unwrap();
    let (first, text) = logged.split_once('\n').unwrap();
    let (tmp, mode) = first.split_once(' ').unwrap();
    assert_eq!(mode, "700", "{logged}");
    assert!(
        text.contains("password: hunter2") && !text.contains("ENC["),
        "{text}"
    );
    if std::path::Path::new("/dev/shm").is_dir() {
        assert!(tmp.starts_with("/dev/shm/"), "{logged}");
    }
    let tmp = std::path::Path::new(tmp);
    assert!(!tmp.exists() && !tmp.parent().unwrap().exists());
    let value = |path: &str| {
        String::from_utf8(ok(sb.sops(&["decrypt", "--extract", path, "secrets.yaml"]))).unwrap()
    };
    assert_eq!(value("[\"db\"][\"password\"]"), "from-the-editor");
    assert_eq!(
        value("[\"added\"]").trim_end(),
        "7",
        "an int, as sops prints one"
    );
    // Only the edited value, the new key, lastmodified and the MAC differ.
    let after = std::fs::read_to_string(&file).unwrap();
    let changed: Vec<&str> = after
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .collect();
    let expected = ["password:", "added:", "lastmodified:", "mac:"];
    assert!(
        changed.len() >= 3
            && changed
                .iter()
                .all(|l| expected.iter().any(|e| l.trim_start().starts_with(e))),
        "{changed:#?}"
    );
}

/// `sesame decrypt --extract P --clip` copies the value through the terminal instead of
/// printing it, and a detached helper clears it after `SESAME_CLIP_TIME`.
#[test]
fn decrypt_clip_copies_a_value_and_clears_it_later() {
    let (sb, _file, mut env) = setup();
    env.push(("SESAME_CLIP_TIME", "2".into()));
    let dir = sb.dir.path();
    let t = Tmux::start(dir, &env);
    t.run(&["set", "-g", "set-clipboard", "on"]);
    t.wait("the shell prompt", |s| s.contains('$'));
    t.type_text(&format!(
        "{} decrypt --extract '[\"db\"][\"password\"]' --clip secrets.yaml",
        env!("CARGO_BIN_EXE_sesame")
    ));
    t.keys(&["Enter"]);
    let s = t.wait("the note", |s| {
        s.contains("to the terminal clipboard; it is cleared in 2 s")
    });
    assert!(!s.contains("hunter2"), "not printed:\n{s}");
    assert_eq!(t.run(&["show-buffer"]), "hunter2");
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.run(&["list-buffers"]).contains("hunter2") {
        assert!(Instant::now() < deadline, "the clipboard was not cleared");
        std::thread::sleep(Duration::from_millis(100));
    }
}
