//! Review and merge in Git: `sesame diff`, the textconv and external diff, the merge driver and
//! `git resolve`, in scratch repositories with real `git` and the real sops on every side.
//! Every output is checked for the plaintext values (none may appear), and after merges the
//! repository, `.git` and the temp folder are searched for them.

mod common;

use common::{Sandbox, new_age_key, ok};
use std::path::Path;
use std::process::{Command, Output};

/// Values that must never appear in any output or file but the encrypted ones.
const SECRETS: &[&str] = &[
    "hunter2-base",
    "s3cret-token-base",
    "ours-password-9",
    "theirs-token-7",
    "both-ours-1",
    "both-theirs-2",
];

/// A scratch repository with an age key, `.sops.yaml` and one file the real sops encrypted.
struct Repo {
    sb: Sandbox,
    identity_file: String,
    recipient: String,
}

impl Repo {
    fn new() -> Repo {
        let (identity, recipient) = new_age_key();
        let sb = Sandbox::new();
        let identity_file = sb
            .write("keys/me.txt", format!("{identity}\n"))
            .display()
            .to_string();
        std::fs::create_dir_all(sb.path("tmp")).unwrap();
        std::fs::create_dir_all(sb.path("repo")).unwrap();
        let r = Repo {
            sb,
            identity_file,
            recipient,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.sb.write("repo/.gitignore", "");
        r.set_rule(&[&r.recipient.clone()], "^(password|token)$");
        r.sb.write(
            "repo/secrets.yaml",
            "db:\n    user: admin\n    password: hunter2-base\napi:\n    token: s3cret-token-base\n",
        );
        r.sops_ok(&["encrypt", "-i", "secrets.yaml"]);
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "initial"]);
        r
    }

    fn dir(&self) -> std::path::PathBuf {
        self.sb.path("repo")
    }

    fn set_rule(&self, recipients: &[&str], regex: &str) {
        self.sb.write(
            "repo/.sops.yaml",
            format!(
                "creation_rules:\n  - path_regex: secrets\\.yaml$\n    encrypted_regex: '{regex}'\n    age: {}\n",
                recipients.join(",")
            ),
        );
    }

    /// A command run in the repository with a private HOME and temp folder; `key` adds this
    /// repository's age identity.
    fn command(&self, program: &Path, args: &[&str], key: bool) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(self.dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.sb.path("home"))
            .env("TMPDIR", self.sb.path("tmp"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        if key {
            c.env("SOPS_AGE_KEY_FILE", &self.identity_file);
        }
        c
    }

    fn run(&self, program: &Path, args: &[&str], key: bool) -> Output {
        let out = self.command(program, args, key).output().expect("run");
        assert_no_secret(&out, &format!("{} {args:?}", program.display()));
        out
    }

    fn git_output(&self, args: &[&str], key: bool) -> Output {
        self.run(Path::new("git"), args, key)
    }

    #[track_caller]
    fn git(&self, args: &[&str]) -> String {
        String::from_utf8(ok(self.git_output(args, true))).unwrap()
    }

    fn sesame(&self, args: &[&str], key: bool) -> Output {
        self.run(Path::new(env!("CARGO_BIN_EXE_sesame")), args, key)
    }

    #[track_caller]
    fn sops_ok(&self, args: &[&str]) -> String {
        // sops prints decrypted values: not checked for secrets.
        let out = self
            .command(&common::sops_path(), args, true)
            .output()
            .unwrap();
        String::from_utf8(ok(out)).unwrap()
    }

    /// `sops set` on secrets.yaml.
    fn set(&self, path: &str, json: &str) {
        self.sops_ok(&["set", "secrets.yaml", path, json]);
    }

    /// `git merge` of `branch`, which must succeed; its stderr.
    #[track_caller]
    fn merge_ok(&self, branch: &str) -> String {
        let out = self.git_output(&["merge", "--no-edit", branch], true);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{err}{}",
            String::from_utf8_lossy(&out.stdout)
        );
        err
    }

    fn decrypt(&self, file: &str) -> String {
        self.sops_ok(&["decrypt", file])
    }

    fn setup_drivers(&self) {
        ok(self.sesame(&["git", "setup"], false));
    }

    /// A repository whose drivers are set up and committed.
    fn with_drivers() -> Repo {
        let r = Repo::new();
        r.setup_drivers();
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "drivers"]);
        r
    }

    fn text(&self, rel: &str) -> String {
        String::from_utf8(self.sb.read(&format!("repo/{rel}"))).unwrap()
    }

    /// No secret value in any file of the sandbox but encrypted ones (the key file aside).
    fn assert_no_plaintext_on_disk(&self) {
        let mut stack = vec![self.sb.dir.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap_or_default();
                for secret in SECRETS {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{secret} in plain text in {}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[track_caller]
fn assert_no_secret(out: &Output, what: &str) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{what} printed {secret}:\n{text}");
        }
    }
}

fn stdout(out: Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

/// A recipient added by `sops updatekeys`, then a re-encryption with a narrower rule: with no
/// key at all, `git diff` (external driver) and `git log -p` (textconv) show the recipient and
/// the password now stored in plain text; `sesame diff --check` fails.
#[test]
fn a_new_recipient_and_a_leak_show_in_git_without_a_key() {
    let r = Repo::with_drivers();
    let (_, bob) = new_age_key();
    r.set_rule(&[&r.recipient.clone(), &bob], "^(password|token)$");
    r.sops_ok(&["updatekeys", "-y", "secrets.yaml"]);
    r.git(&["commit", "-q", "-am", "add bob"]);
    // Re-encrypt with a rule that leaves the password out.
    let plain = r.decrypt("secrets.yaml");
    let outside = r.sb.write("plain.yaml", plain);
    r.set_rule(&[&r.recipient.clone(), &bob], "^(token)$");
    let enc = r.sops_ok(&[
        "encrypt",
        "--filename-override",
        "secrets.yaml",
        outside.to_str().unwrap(),
    ]);
    std::fs::remove_file(&outside).unwrap();
    r.sb.write("repo/secrets.yaml", enc);

    let diff = stdout(r.git_output(&["diff", "HEAD~1", "--", "secrets.yaml"], false));
    assert!(diff.contains(&format!("+ group 1: age {bob}")), "{diff}");
    assert!(
        diff.contains("db.password") && diff.contains("encrypted → PLAIN TEXT"),
        "{diff}"
    );
    assert!(diff.contains("MAC not verified"), "{diff}");

    r.git(&["commit", "-q", "-am", "narrower rule"]);
    let log = stdout(r.git_output(&["log", "-p", "--", "secrets.yaml"], false));
    assert!(log.contains(&format!("+  age {bob}")), "{log}");
    assert!(log.contains("-db.password: [enc] str"), "{log}");
    assert!(log.contains("+db.password: [plain] str"), "{log}");

    let out = r.sesame(
        &["diff", "--check", "--rev", "HEAD~2..HEAD", "secrets.yaml"],
        false,
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("db.password was encrypted and is now stored in PLAIN TEXT"),
        "{text}"
    );
    // The same check passes on the commit that only added bob.
    let fine = r.sesame(
        &["diff", "--check", "--rev", "HEAD~3..HEAD~1", "secrets.yaml"],
        false,
    );
    assert_eq!(
        fine.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fine.stdout)
    );
}

/// `sops set` of one value: exactly one changed leaf and the same data key, without a key;
/// `sops rotate`: the data key is replaced. With the key, the MACs are verified.
#[test]
fn one_value_set_is_one_change_and_a_rotation_replaces_the_data_key() {
    let r = Repo::new();
    let before = r.sb.write("before.yaml", r.text("secrets.yaml"));
    r.set(r#"["api"]["token"]"#, r#""theirs-token-7""#);
    let out = stdout(r.sesame(
        &[
            "diff",
            before.to_str().unwrap(),
            "secrets.yaml",
            "--format",
            "json",
        ],
        false,
    ));
    assert!(out.contains(r#""data_key":"same""#), "{out}");
    assert!(out.contains(r#""verification":"keyless""#), "{out}");
    assert_eq!(out.matches(r#""change":"changed""#).count(), 1, "{out}");
    assert!(out.contains(r#""place":"api.token""#), "{out}");

    let human = stdout(r.sesame(&["diff", before.to_str().unwrap(), "secrets.yaml"], true));
    assert!(human.contains("1 changed, 2 unchanged"), "{human}");
    assert!(human.contains("data key same (verified)"), "{human}");
    assert!(human.contains("both MACs verified"), "{human}");

    r.sops_ok(&["rotate", "-i", "secrets.yaml"]);
    let keyless = stdout(r.sesame(&["diff", before.to_str().unwrap(), "secrets.yaml"], false));
    assert!(keyless.contains("data key replaced"), "{keyless}");
    let keyed = stdout(r.sesame(&["diff", before.to_str().unwrap(), "secrets.yaml"], true));
    assert!(keyed.contains("data key replaced (verified)"), "{keyed}");
    assert!(keyed.contains("1 changed, 2 unchanged"), "{keyed}");
    // Values only on request, and only with the key.
    let no_key = r.sesame(
        &[
            "diff",
            "--show-values",
            before.to_str().unwrap(),
            "secrets.yaml",
        ],
        false,
    );
    assert_eq!(no_key.status.code(), Some(128));
    let shown = r
        .command(
            Path::new(env!("CARGO_BIN_EXE_sesame")),
            &[
                "diff",
                "--show-values",
                before.to_str().unwrap(),
                "secrets.yaml",
            ],
            true,
        )
        .output()
        .unwrap();
    let shown = String::from_utf8(ok(shown)).unwrap();
    assert!(
        shown.contains(r#""s3cret-token-base" → "theirs-token-7""#),
        "{shown}"
    );
    let md = stdout(r.sesame(
        &[
            "diff",
            before.to_str().unwrap(),
            "secrets.yaml",
            "--format",
            "markdown",
        ],
        false,
    ));
    assert!(md.starts_with("### `"), "{md}");
}

/// `git log -p` over a file's history with no key at all exits 0.
#[test]
fn git_log_p_without_a_key_exits_zero() {
    let r = Repo::new();
    r.setup_drivers();
    for v in ["a1", "a2"] {
        r.sops_ok(&[
            "set",
            "secrets.yaml",
            r#"["db"]["user"]"#,
            &format!("\"{v}\""),
        ]);
        r.git(&["commit", "-q", "-am", v]);
    }
    let log = stdout(r.git_output(&["log", "-p"], false));
    assert!(log.contains("-db.user: [plain] str 2b"), "{log}");
    let show = stdout(r.git_output(&["show", "HEAD"], false));
    assert!(show.contains("db.user"), "{show}");
}

/// Two branches each change a different value: the merge driver merges without stopping,
/// the real sops reads both values, and the raw diff against ours is theirs' value line plus
/// `lastmodified` and `mac`. The same through a rebase.
#[test]
fn different_values_on_two_branches_merge_and_rebase_cleanly() {
    let r = Repo::with_drivers();
    r.git(&["checkout", "-q", "-b", "theirs"]);
    r.set(r#"["api"]["token"]"#, r#""theirs-token-7""#);
    r.git(&["commit", "-q", "-am", "theirs"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "ours-copy"]);
    r.set(r#"["db"]["password"]"#, r#""ours-password-9""#);
    r.git(&["commit", "-q", "-am", "ours"]);
    let ours = r.text("secrets.yaml");
    r.merge_ok("theirs");
    let merged = r.text("secrets.yaml");
    let changed: Vec<&str> = merged
        .lines()
        .filter(|l| !ours.lines().any(|o| o == *l))
        .collect();
    assert!(
        changed.iter().all(|l| ["token:", "lastmodified:", "mac:"]
            .iter()
            .any(|k| l.trim_start().starts_with(k))),
        "{changed:#?}"
    );
    let plain = r.decrypt("secrets.yaml");
    assert!(plain.contains("ours-password-9") && plain.contains("theirs-token-7"));
    r.assert_no_plaintext_on_disk();

    // The same changes through a rebase of ours onto theirs.
    r.git(&["checkout", "-q", "-b", "rebased", "ours-copy"]);
    r.set(r#"["db"]["password"]"#, r#""ours-password-9""#);
    r.git(&["commit", "-q", "-am", "ours again"]);
    let rebase = r.git_output(&["rebase", "-q", "theirs"], true);
    assert!(
        rebase.status.success(),
        "{}",
        String::from_utf8_lossy(&rebase.stderr)
    );
    let plain = r.decrypt("secrets.yaml");
    assert!(plain.contains("ours-password-9") && plain.contains("theirs-token-7"));
}

/// One branch adds a recipient while the other edits a value: clean, and the new recipient
/// alone decrypts the result with the real sops. A branch that rotates merges too, with a
/// warning, and every value right.
#[test]
fn a_recipient_added_on_one_side_and_a_rotation_merge_cleanly() {
    let r = Repo::with_drivers();
    let (bob_identity, bob) = new_age_key();
    r.git(&["checkout", "-q", "-b", "theirs"]);
    r.set_rule(&[&r.recipient.clone(), &bob], "^(password|token)$");
    r.sops_ok(&["updatekeys", "-y", "secrets.yaml"]);
    r.git(&["commit", "-q", "-am", "add bob"]);
    r.git(&["checkout", "-q", "main"]);
    r.set(r#"["db"]["password"]"#, r#""ours-password-9""#);
    r.git(&["commit", "-q", "-am", "ours"]);
    r.merge_ok("theirs");
    let bob_file = r.sb.write("keys/bob.txt", format!("{bob_identity}\n"));
    let out = r
        .command(&common::sops_path(), &["decrypt", "secrets.yaml"], false)
        .env("SOPS_AGE_KEY_FILE", &bob_file)
        .output()
        .unwrap();
    let plain = String::from_utf8(ok(out)).unwrap();
    assert!(plain.contains("ours-password-9"), "{plain}");

    // Theirs rotates, ours edits: clean, with a warning.
    r.git(&["checkout", "-q", "-b", "rotating"]);
    r.sops_ok(&["rotate", "-i", "secrets.yaml"]);
    r.git(&["commit", "-q", "-am", "rotate"]);
    r.git(&["checkout", "-q", "main"]);
    r.set(r#"["api"]["token"]"#, r#""theirs-token-7""#);
    r.git(&["commit", "-q", "-am", "ours token"]);
    let err = r.merge_ok("rotating");
    assert!(err.contains("replaced the data key"), "{err}");
    let plain = r.decrypt("secrets.yaml");
    assert!(
        plain.contains("ours-password-9") && plain.contains("theirs-token-7"),
        "{plain}"
    );
    r.assert_no_plaintext_on_disk();
}

/// The same value changed on both sides: the merge stops, the file is still a sops file the
/// real sops decrypts (ours), the conflicting place is named without its value, and no
/// plaintext is anywhere on disk. Without a key the driver gives a keyless verdict.
/// `sesame git resolve` merges a file that Git merged as text.
#[test]
fn a_real_conflict_stops_with_ours_valid_and_no_plaintext_anywhere() {
    let r = Repo::with_drivers();
    r.git(&["checkout", "-q", "-b", "theirs"]);
    r.set(r#"["db"]["password"]"#, r#""both-theirs-2""#);
    r.set(r#"["api"]["token"]"#, r#""theirs-token-7""#);
    r.git(&["commit", "-q", "-am", "theirs"]);
    r.git(&["checkout", "-q", "main"]);
    r.set(r#"["db"]["password"]"#, r#""both-ours-1""#);
    r.git(&["commit", "-q", "-am", "ours"]);

    // Without a key: no merge, a verdict, ours untouched.
    let ours = r.text("secrets.yaml");
    let keyless = r.git_output(&["merge", "--no-edit", "theirs"], false);
    let err = String::from_utf8_lossy(&keyless.stderr).into_owned();
    assert!(!keyless.status.success());
    assert!(err.contains("would conflict at db.password"), "{err}");
    assert_eq!(r.text("secrets.yaml"), ours);
    r.git(&["merge", "--abort"]);

    let merge = r.git_output(&["merge", "--no-edit", "theirs"], true);
    let err = String::from_utf8_lossy(&merge.stderr).into_owned();
    assert!(!merge.status.success());
    assert!(
        err.contains("db.password changed differently on both sides"),
        "{err}"
    );
    let plain = r.decrypt("secrets.yaml");
    assert!(plain.contains("both-ours-1"), "{plain}");
    assert!(
        plain.contains("theirs-token-7"),
        "theirs' other change is merged: {plain}"
    );
    r.assert_no_plaintext_on_disk();
    r.git(&["merge", "--abort"]);

    // Merged as text where the driver was not installed, then resolved by sesame.
    r.git(&["config", "--remove-section", "merge.sesame"]);
    r.set(r#"["db"]["password"]"#, r#""both-theirs-2""#);
    r.git(&["commit", "-q", "-am", "ours agrees"]);
    let text_merge = r.git_output(&["merge", "--no-edit", "theirs"], true);
    assert!(
        !text_merge.status.success(),
        "the mac lines conflict as text"
    );
    assert!(
        r.text("secrets.yaml").contains("<<<<<<<"),
        "{}\n{}",
        r.text("secrets.yaml"),
        String::from_utf8_lossy(&text_merge.stderr)
    );
    let resolved = r.sesame(&["git", "resolve", "secrets.yaml"], true);
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    let plain = r.decrypt("secrets.yaml");
    assert!(
        plain.contains("both-theirs-2") && plain.contains("theirs-token-7"),
        "{plain}"
    );
    assert!(
        r.git(&["status", "--porcelain"])
            .contains("M  secrets.yaml")
    );
    r.assert_no_plaintext_on_disk();
}

/// `sesame git doctor` finds a sops file without attributes, and is content after setup.
#[test]
fn doctor_checks_the_setup() {
    let r = Repo::new();
    let before = r.sesame(&["git", "doctor"], false);
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stdout).contains("run `sesame git setup`"));
    r.setup_drivers();
    let after = r.sesame(&["git", "doctor"], false);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    let attrs = r.text(".gitattributes");
    assert!(
        attrs.contains("secrets.yaml diff=sesame merge=sesame"),
        "{attrs}"
    );
}

/// Ours adds a recipient while theirs rotates the data key: the result takes theirs' new key
/// and wraps it for ours' new recipient too, who alone decrypts the merge with the real sops.
#[test]
fn a_recipient_added_against_a_rotation_gets_the_new_data_key() {
    let r = Repo::with_drivers();
    let (carol_identity, carol) = new_age_key();
    r.git(&["checkout", "-q", "-b", "rotating"]);
    r.sops_ok(&["rotate", "-i", "secrets.yaml"]);
    r.git(&["commit", "-q", "-am", "rotate"]);
    r.git(&["checkout", "-q", "main"]);
    r.set_rule(&[&r.recipient.clone(), &carol], "^(password|token)$");
    r.sops_ok(&["updatekeys", "-y", "secrets.yaml"]);
    r.git(&["commit", "-q", "-am", "add carol"]);
    let err = r.merge_ok("rotating");
    assert!(err.contains("replaced the data key"), "{err}");
    let carol_file = r.sb.write("keys/carol.txt", format!("{carol_identity}\n"));
    let out = r
        .command(&common::sops_path(), &["decrypt", "secrets.yaml"], false)
        .env("SOPS_AGE_KEY_FILE", &carol_file)
        .output()
        .unwrap();
    let plain = String::from_utf8(ok(out)).unwrap();
    assert!(plain.contains("password: hunter2-base"), "{plain}");
}
