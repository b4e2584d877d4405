//! Concurrent writers lose nothing: every sesame read-modify-write (the CLI's `set`, the
//! editor's save) holds the update lock, so two `set` loops keep all their keys and an editor
//! save racing a `set` loop either waits for it or asks.

mod common;
mod tui_support;

use common::{Sandbox, ok};
use sesame::store::{EmitOptions, Format};
use sesame::tui::action::Action;
use sesame::tui::demo;
use sesame::tui::session::{self, OpenRequest};
use sesame::tui::update::update;
use tui_support::{goto, press};

const FILE: &str = "demo.sops.yaml";

/// `sesame set FILE ["prefix_i"] "i"` for i in 0..n.
fn set_loop(sb: &Sandbox, prefix: &str, n: usize) {
    for i in 0..n {
        let path = format!("[\"{prefix}_{i}\"]");
        ok(sb.sesame(&["set", FILE, &path, &format!("\"{i}\"")]));
    }
}

fn decrypted(sb: &Sandbox) -> String {
    String::from_utf8(ok(sb.sesame(&["decrypt", FILE]))).unwrap()
}

#[test]
fn two_set_loops_keep_every_key() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    sb.write(FILE, demo::FILE);
    std::thread::scope(|s| {
        s.spawn(|| set_loop(&sb, "a", 100));
        s.spawn(|| set_loop(&sb, "b", 100));
    });
    let text = decrypted(&sb);
    let missing: Vec<String> = ["a", "b"]
        .iter()
        .flat_map(|p| (0..100).map(move |i| format!("{p}_{i}: \"{i}\"")))
        .filter(|line| !text.contains(line.as_str()))
        .collect();
    assert!(missing.is_empty(), "lost updates: {missing:?}");
}

#[test]
fn an_editor_save_racing_a_set_loop_keeps_or_asks_about_every_write() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    let path = sb.write(FILE, demo::FILE);
    let mut s = session::open(OpenRequest {
        path,
        name: demo::NAME.into(),
        format: Format::Yaml,
        emit: EmitOptions::default(),
        sources: tui_support::demo_sources(),
        ignore_mac: false,
        config: Default::default(),
        against: None,
    })
    .unwrap();
    update(&mut s.model, Action::Resize(100, 30));
    let mut asked = 0;
    std::thread::scope(|scope| {
        let cli = scope.spawn(|| set_loop(&sb, "cli", 60));
        let mut round = 0;
        while !cli.is_finished() || round < 3 {
            round += 1;
            goto(&mut s.model, "user");
            press(&mut s.model, "<enter>Z<enter>");
            // A save that finds the CLI's write asks; the user reloads (keeping the edit) and
            // saves again.
            loop {
                match s.save(false) {
                    Action::Saved => {
                        update(&mut s.model, Action::Saved);
                        break;
                    }
                    Action::Conflict => {
                        asked += 1;
                        let reloaded = s.reload();
                        assert!(matches!(reloaded, Action::Reloaded(_)), "{reloaded:?}");
                        update(&mut s.model, reloaded);
                    }
                    other => panic!("save: {other:?}"),
                }
            }
        }
    });
    let text = decrypted(&sb);
    let lost: Vec<usize> = (0..60)
        .filter(|i| !text.contains(&format!("cli_{i}: \"{i}\"")))
        .collect();
    assert!(
        lost.is_empty(),
        "CLI writes overwritten without asking: {lost:?}"
    );
    assert!(
        text.contains("user: demoZ"),
        "the editor's edits are saved: {text}"
    );
    assert!(
        asked > 0,
        "the race was never seen: the test did not test it"
    );
}
