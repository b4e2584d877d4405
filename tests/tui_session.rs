//! The editor's effects on real files: save (atomic, re-encrypting only what changed), the
//! check for changes made on disk by someone else, reload, the file watcher, and opening
//! without a key (review mode) — everything the loop does outside the terminal.

mod common;
mod tui_support;

use common::{Sandbox, ok};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::{EmitOptions, Format};
use sesame::tui::action::Action;
use sesame::tui::demo;
use sesame::tui::model::{Mode, Source};
use sesame::tui::session::{self, OpenRequest, Session};
use sesame::tui::update::update;
use std::time::{Duration, Instant};
use tui_support::{goto, press};

fn open(sb: &Sandbox, sources: KeySources) -> Session {
    let path = sb.write("demo.sops.yaml", demo::FILE);
    let mut s = session::open(OpenRequest {
        path,
        name: demo::NAME.into(),
        format: Format::Yaml,
        emit: EmitOptions::default(),
        sources,
        ignore_mac: false,
        config: Default::default(),
        against: None,
    })
    .unwrap();
    update(&mut s.model, Action::Resize(100, 30));
    s
}

#[test]
fn save_writes_only_the_edit_and_sops_reads_it() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let mut s = open(&sb, tui_support::demo_sources());
    goto(&mut s.model, "host");
    press(
        &mut s.model,
        "<enter><backspace><backspace><backspace><backspace>x<enter>",
    );
    let action = s.save(false);
    assert!(matches!(action, Action::Saved), "{action:?}");
    update(&mut s.model, action);
    assert!(!s.model.dirty());
    let written = String::from_utf8(sb.read("demo.sops.yaml")).unwrap();
    let original = String::from_utf8(demo::FILE.to_vec()).unwrap();
    let changed: Vec<&str> = written
        .lines()
        .filter(|l| !original.lines().any(|o| o == *l))
        .collect();
    assert_eq!(changed.len(), 3, "{changed:#?}");
    let host = ok(sb.sops(&[
        "decrypt",
        "--extract",
        r#"["database"]["host"]"#,
        "demo.sops.yaml",
    ]));
    assert!(host.ends_with(b"x"));
    assert!(
        !s.changed_on_disk(),
        "our own save is not someone else's change"
    );
}

#[test]
fn a_change_on_disk_is_never_overwritten_silently() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let mut s = open(&sb, tui_support::demo_sources());
    goto(&mut s.model, "user");
    press(&mut s.model, "<enter>Z<enter>");
    // Someone else saves the file meanwhile (a valid edit of their own).
    let theirs = {
        let mut other = tui_support::model_of(demo::FILE, false);
        goto(&mut other, "password");
        press(&mut other, "<enter>!<enter>");
        let Source::Doc(doc) = &mut other.source else {
            panic!()
        };
        doc.seal(&EmitOptions::default()).unwrap().unwrap()
    };
    std::fs::write(sb.path("demo.sops.yaml"), &theirs).unwrap();
    assert!(s.changed_on_disk());
    let action = s.save(false);
    assert!(matches!(action, Action::Conflict));
    update(&mut s.model, action);
    assert!(matches!(s.model.mode, Mode::Conflict));
    assert_eq!(sb.read("demo.sops.yaml"), theirs, "nothing was written");
    // Reload takes their version and keeps our edit, which they did not touch.
    let action = s.reload();
    assert!(matches!(action, Action::Reloaded(_)));
    update(&mut s.model, action);
    assert!(matches!(s.model.mode, Mode::Normal));
    assert!(s.model.dirty(), "our edit is still unsaved");
    assert!(
        tui_support::status(&s.model).ends_with("kept your 1 unsaved change"),
        "{}",
        tui_support::status(&s.model)
    );
    assert!(!s.changed_on_disk());
    assert!(s.model.read_only.is_none());
    assert!(matches!(s.save(false), Action::Saved));
    update(&mut s.model, Action::Saved);
    let both = String::from_utf8(ok(sb.sops(&["decrypt", "demo.sops.yaml"]))).unwrap();
    assert!(both.contains("user: demoZ\n"), "ours: {both}");
    assert!(
        both.contains("password: correct-horse-battery-staple!\n"),
        "theirs: {both}"
    );
    // Overwrite (after a new edit) writes ours over theirs.
    goto(&mut s.model, "user");
    press(&mut s.model, "<enter>Q<enter>");
    std::fs::write(sb.path("demo.sops.yaml"), demo::FILE).unwrap();
    assert!(matches!(s.save(false), Action::Conflict));
    assert!(matches!(s.save(true), Action::Saved));
    assert_ne!(sb.read("demo.sops.yaml"), demo::FILE);
}

/// A file saved by someone else with `edit` applied to the value on the row showing `row`.
fn their_save(row: &str, edit: &str) -> Vec<u8> {
    let mut other = tui_support::model_of(demo::FILE, false);
    goto(&mut other, row);
    press(&mut other, edit);
    let Source::Doc(doc) = &mut other.source else {
        panic!()
    };
    doc.seal(&EmitOptions::default()).unwrap().unwrap()
}

#[test]
fn reload_lists_edits_the_disk_changed_too_and_keeps_the_rest() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let mut s = open(&sb, tui_support::demo_sources());
    goto(&mut s.model, "password");
    press(&mut s.model, "<enter>ours<enter>");
    goto(&mut s.model, "host");
    press(&mut s.model, "d");
    press(&mut s.model, "y");
    // A staged recipient survives too.
    let (_, recipient) = common::new_age_key();
    tui_support::drive(&mut s, &format!("Ka{recipient}<enter><esc>"));
    assert_eq!(s.model.key_manager.plan.labels().len(), 1);
    std::fs::write(
        sb.path("demo.sops.yaml"),
        their_save("password", "<enter>theirs<enter>"),
    )
    .unwrap();
    tui_support::drive(&mut s, "R");
    let Mode::Reloaded(report) = &s.model.mode else {
        panic!("no report: {}", tui_support::status(&s.model));
    };
    assert_eq!(report.kept, 2, "the deletion and the recipient");
    assert_eq!(
        report.dropped,
        vec![r#"["database"]["password"]: changed on disk too"#.to_string()]
    );
    assert!(tui_support::screen(&s.model).contains("changed on disk too"));
    press(&mut s.model, "<enter>");
    assert!(matches!(s.model.mode, Mode::Normal));
    let saved = s.save(false);
    assert!(matches!(saved, Action::Saved), "{saved:?}");
    let text = String::from_utf8(ok(sb.sops(&["decrypt", "demo.sops.yaml"]))).unwrap();
    assert!(
        text.contains("password: correct-horse-battery-stapletheirs\n"),
        "the disk's version stays: {text}"
    );
    assert!(
        !text.contains("host:"),
        "our deletion was carried over: {text}"
    );
    assert!(!text.contains("ours"));
    let written = String::from_utf8(sb.read("demo.sops.yaml")).unwrap();
    assert!(
        written.contains(&recipient),
        "the staged recipient was written"
    );
}

#[test]
fn reloading_a_file_whose_mac_broke_warns_and_turns_read_only() {
    let sb = Sandbox::new();
    let mut s = open(&sb, tui_support::demo_sources());
    std::fs::write(sb.path("demo.sops.yaml"), tui_support::tampered_demo()).unwrap();
    let action = s.reload();
    update(&mut s.model, action);
    assert!(matches!(s.model.mode, Mode::MacWarning));
    assert!(s.model.read_only.is_some());
}

#[test]
fn a_file_with_a_damaged_value_opens_read_only_and_is_never_written() {
    let sb = Sandbox::new();
    let mut s = open(&sb, tui_support::demo_sources());
    let damaged = tui_support::damaged_demo();
    std::fs::write(sb.path("demo.sops.yaml"), &damaged).unwrap();
    let action = s.reload();
    update(&mut s.model, action);
    assert!(matches!(s.model.mode, Mode::MacWarning));
    assert!(s.model.read_only.is_some());
    let Source::Doc(doc) = &mut s.model.source else {
        panic!("the key opens the file");
    };
    assert_eq!(doc.damaged().len(), 1);
    // Even a forced seal refuses rather than writing the stored text back as a value.
    doc.touch();
    let err = doc.seal(&EmitOptions::default()).unwrap_err().to_string();
    assert!(err.contains(r#"["database"]["password"]"#), "{err}");
    assert!(err.contains("restore the value"), "{err}");
    assert_eq!(sb.read("demo.sops.yaml"), damaged);
    // The command line still refuses it as sops does.
    let out = sb.sesame(&["decrypt", "demo.sops.yaml"]);
    assert!(!out.status.success());
}

#[test]
fn the_watcher_reports_changes_to_the_file_and_its_config() {
    use sesame::tui::watch::Changed;
    let sb = Sandbox::new();
    let path = sb.write("w.yaml", "a: 1\n");
    sb.write("other.yaml", "b: 1\n");
    let config = sb.path(".sops.yaml");
    let watch = sesame::tui::watch::start(&path, std::slice::from_ref(&config)).unwrap();
    let next = || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(changed) = watch.events.recv_timeout(Duration::from_millis(50)) {
                return changed;
            }
            assert!(Instant::now() < deadline, "no event");
        }
    };
    std::fs::write(sb.path("other.yaml"), "b: 2\n").unwrap();
    std::fs::write(&path, "a: 2\n").unwrap();
    assert_eq!(next(), Changed::File, "other files do not count");
    while watch.events.try_recv().is_ok() {}
    std::fs::write(&config, "creation_rules: []\n").unwrap();
    assert_eq!(next(), Changed::Config);
}

#[test]
fn without_a_key_the_file_opens_in_review_mode() {
    let sb = Sandbox::new();
    let mut s = open(&sb, KeySources::new(Box::new(FixedEnv::default())));
    let Source::Review { reason, .. } = &s.model.source else {
        panic!("expected review mode")
    };
    assert!(!reason.is_empty());
    assert!(s.model.read_only.is_some());
    let action = s.save(false);
    assert!(matches!(action, Action::Failed(_)));
    goto(&mut s.model, "password");
    assert!(s.model.rows.get(s.model.cursor).unwrap().encrypted);
}

#[test]
fn a_broken_file_is_an_open_error_naming_it() {
    let sb = Sandbox::new();
    let path = sb.write("bad.yaml", "a: [\n");
    let err = session::open(OpenRequest {
        path,
        name: "bad.yaml".into(),
        format: Format::Yaml,
        emit: EmitOptions::default(),
        sources: tui_support::demo_sources(),
        ignore_mac: false,
        config: Default::default(),
        against: None,
    })
    .err()
    .expect("a broken file does not open");
    assert!(matches!(err, session::OpenFailure::Open(_)), "{err}");
}

/// `--against REV`: the values changed since a Git revision are marked (a changed one, an
/// added one), removed ones and new recipients are listed, all without showing a value.
#[test]
fn against_a_revision_marks_what_changed_since() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let path = sb.write("demo.sops.yaml", demo::FILE);
    let git = |args: &[&str]| git_in(sb.dir.path(), args);
    git(&["init", "-q"]);
    git(&["add", "demo.sops.yaml"]);
    git(&["commit", "-q", "-m", "demo"]);
    common::ok(sb.sesame(&[
        "set",
        "demo.sops.yaml",
        r#"["database"]["host"]"#,
        r#""db.internal""#,
    ]));
    common::ok(sb.sesame(&[
        "set",
        "demo.sops.yaml",
        r#"["database"]["extra"]"#,
        r#""new""#,
    ]));
    common::ok(sb.sesame(&["unset", "demo.sops.yaml", r#"["app"]["debug"]"#]));
    let s = open_demo_at(path, Some("HEAD"));
    let a = s.model.against.as_ref().expect("compared with HEAD");
    let mark = |p: &str| {
        a.mark(0, &sesame::path::TreePath::parse(p).unwrap())
            .cloned()
    };
    use sesame::review::diff::ChangeKind;
    assert_eq!(mark(r#"["database"]["host"]"#), Some(ChangeKind::Changed));
    assert_eq!(mark(r#"["database"]["extra"]"#), Some(ChangeKind::Added));
    assert_eq!(mark(r#"["database"]["user"]"#), None);
    assert_eq!(a.removed, vec!["app.debug".to_string()]);
    assert!(a.keys.is_empty(), "{:?}", a.keys);
}

/// `H` on a value lists the commits that changed it (author, message), read without a key;
/// Space shows the value as it was at the selected commit, decrypted in memory.
#[test]
fn the_history_of_a_value_lists_its_commits_and_shows_an_old_value() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let path = sb.write("demo.sops.yaml", demo::FILE);
    let git = |args: &[&str]| git_in(sb.dir.path(), args);
    git(&["init", "-q"]);
    git(&["add", "demo.sops.yaml"]);
    git(&["commit", "-q", "-m", "first"]);
    for (value, message) in [
        ("h1.internal", "move the db"),
        ("h2.internal", "move it again"),
    ] {
        common::ok(sb.sesame(&[
            "set",
            "demo.sops.yaml",
            r#"["database"]["host"]"#,
            &format!("\"{value}\""),
        ]));
        git(&["commit", "-q", "-am", message]);
    }
    // A change elsewhere is not in the host's history.
    common::ok(sb.sesame(&[
        "set",
        "demo.sops.yaml",
        r#"["database"]["user"]"#,
        r#""bob""#,
    ]));
    git(&["commit", "-q", "-am", "rename the user"]);
    let mut s = open_demo_at(path, None);
    goto(&mut s.model, "host");
    let effects = update(&mut s.model, Action::History);
    let action = s.perform(effects.into_iter().next().unwrap()).unwrap();
    update(&mut s.model, action);
    let sesame::tui::model::Mode::Blame(b) = &s.model.mode else {
        panic!("the history screen");
    };
    let subjects: Vec<&str> = b.events.iter().map(|e| e.commit.subject.as_str()).collect();
    assert_eq!(subjects, ["move it again", "move the db", "first"]);
    assert!(b.events.iter().all(|e| e.commit.author == "alice"));
    let screen = tui_support::screen(&s.model);
    assert!(screen.contains("History of"), "{screen}");
    assert!(
        !screen.contains("h1.internal"),
        "masked until asked: {screen}"
    );
    press(&mut s.model, "j");
    let effects = press(&mut s.model, " ");
    let action = s.perform(effects.into_iter().next().unwrap()).unwrap();
    update(&mut s.model, action);
    let screen = tui_support::screen(&s.model);
    assert!(screen.contains("\"h1.internal\""), "{screen}");
}

/// Runs git in `dir` as alice.
fn git_in(dir: &std::path::Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(["-c", "user.name=alice", "-c", "user.email=a@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

/// Opens the demo file at `path` with the demo key, compared `against` a revision.
fn open_demo_at(path: std::path::PathBuf, against: Option<&str>) -> Session {
    session::open(OpenRequest {
        path,
        name: demo::NAME.into(),
        format: Format::Yaml,
        emit: EmitOptions::default(),
        sources: tui_support::demo_sources(),
        ignore_mac: false,
        config: Default::default(),
        against: against.map(str::to_string),
    })
    .unwrap()
}
