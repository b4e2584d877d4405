//! Editor benchmark: builds a file of 100,000 encrypted leaves (for the bundled demo key),
//! then times opening it (decrypt, MAC check, model and row index) and every keystroke of a
//! script through keymap + update + view on a 200x50 `TestBackend`.
//!
//! `cargo run --example tui_bench [LEAVES]` prints open time and per-keystroke p50/p99/max;
//! `--json` prints one JSON object instead (for scripts/bench.py). The dev profile builds this
//! crate unoptimised; for representative numbers without a full release build run it with
//! `CARGO_PROFILE_DEV_OPT_LEVEL=2` (only this crate is rebuilt: dependencies already are).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sesame::document::{Document, NewFile, OpenOptions};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::keys::{KeyGroup, KeyKind, MasterKey};
use sesame::store::{EmitOptions, Format};
use sesame::tree::{Map, Node};
use sesame::tui::action::Action;
use sesame::tui::demo;
use sesame::tui::keymap::Keymap;
use sesame::tui::model::{FileInfo, Model, Source};
use sesame::tui::theme::Theme;
use sesame::tui::update::update;
use sesame::tui::view::view;
use std::time::{Duration, Instant};

fn sources() -> KeySources {
    let mut env = FixedEnv::default();
    env.0.insert("SOPS_AGE_KEY".into(), demo::KEY.into());
    KeySources::new(Box::new(env))
}

fn recipient() -> String {
    demo::KEY
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("the demo key names its recipient")
        .to_string()
}

/// A YAML file with `leaves` encrypted values: services of 100 settings each.
fn generate(leaves: usize) -> Vec<u8> {
    let mut doc = Map::new();
    let per = 100;
    for s in 0..leaves.div_ceil(per) {
        let mut svc = Map::new();
        for k in 0..per.min(leaves - s * per) {
            svc.push(format!("key{k:03}"), Node::string(format!("value-{s}-{k}")));
        }
        doc.push(format!("service{s:05}"), Node::Map(svc));
    }
    let mut key = MasterKey::new(KeyKind::Age);
    key.set_text("recipient", recipient());
    let settings = NewFile {
        key_groups: vec![KeyGroup { keys: vec![key] }],
        ..NewFile::default()
    };
    let mut d = Document::create(Format::Yaml, vec![doc], settings, &sources()).unwrap();
    d.seal(&EmitOptions::default()).unwrap().unwrap()
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn script() -> Vec<KeyEvent> {
    let mut keys = Vec::new();
    keys.extend(std::iter::repeat_n(key(KeyCode::Char('j')), 200));
    keys.extend(std::iter::repeat_n(key(KeyCode::PageDown), 50));
    keys.push(key(KeyCode::Char('G')));
    keys.extend(std::iter::repeat_n(key(KeyCode::PageUp), 20));
    keys.push(key(KeyCode::Char('g')));
    keys.push(key(KeyCode::Char('j')));
    keys.push(key(KeyCode::Char(' ')));
    keys.push(key(KeyCode::Char('V')));
    keys.push(key(KeyCode::Char('V')));
    // Collapse and expand a service (the row index is rebuilt each time).
    for _ in 0..10 {
        keys.push(key(KeyCode::Char('g')));
        keys.push(key(KeyCode::Char('h')));
        keys.push(key(KeyCode::Char('l')));
    }
    // Edit a value and undo it.
    keys.push(key(KeyCode::Char('j')));
    keys.push(key(KeyCode::Enter));
    keys.push(key(KeyCode::Char('x')));
    keys.push(key(KeyCode::Enter));
    keys.push(key(KeyCode::Char('u')));
    keys.extend(std::iter::repeat_n(key(KeyCode::Char('k')), 100));
    keys
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let leaves: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let t = Instant::now();
    let bytes = generate(leaves);
    let generated = t.elapsed();

    let t = Instant::now();
    let doc = Document::open(
        Format::Yaml,
        bytes.clone(),
        &sources(),
        OpenOptions::default(),
    )
    .unwrap();
    let decrypted = t.elapsed();
    let mut m = Model::from_document(
        doc,
        FileInfo {
            name: "bench.sops.yaml".into(),
            format: Format::Yaml,
        },
        false,
    );
    update(&mut m, Action::Resize(200, 50));
    let theme = Theme::named("dark").unwrap();
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    term.draw(|f| {
        view(&m, &theme, f);
    })
    .unwrap();
    let open = t.elapsed();
    let modelled = open - decrypted;
    let rows = m.rows.len();

    let keymap = Keymap::default();
    let mut times = Vec::new();
    for k in script() {
        let t = Instant::now();
        if let Some(action) = keymap.action(&m.mode, k) {
            update(&mut m, action);
        }
        term.draw(|f| {
            view(&m, &theme, f);
        })
        .unwrap();
        times.push(t.elapsed());
    }
    // Reload the file with the edit unsaved (redo it first): the three-way merge over the
    // whole tree that carries it over, plus the row index.
    let redo = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    if let Some(action) = keymap.action(&m.mode, redo) {
        update(&mut m, action);
    }
    assert!(m.dirty(), "the bench reloads with one unsaved edit");
    let fresh = Document::open(
        Format::Yaml,
        bytes.clone(),
        &sources(),
        OpenOptions::default(),
    )
    .unwrap();
    let t = Instant::now();
    update(
        &mut m,
        Action::Reloaded(Box::new(Source::Doc(Box::new(fresh)))),
    );
    let reload = t.elapsed();
    assert!(m.dirty(), "the edit was carried over");

    times.sort();
    let (p50, p99, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        *times.last().unwrap(),
    );
    if json {
        println!(
            "{{\"leaves\":{leaves},\"rows\":{rows},\"bytes\":{},\"open_ms\":{:.2},\"decrypt_ms\":{:.2},\"model_ms\":{:.2},\"keys\":{},\"key_p50_ms\":{:.3},\"key_p99_ms\":{:.3},\"key_max_ms\":{:.3},\"reload_merge_ms\":{:.2}}}",
            bytes.len(),
            ms(open),
            ms(decrypted),
            ms(modelled),
            times.len(),
            ms(p50),
            ms(p99),
            ms(max),
            ms(reload)
        );
    } else {
        println!(
            "file: {leaves} leaves, {rows} rows, {} bytes (generated in {:.0} ms)",
            bytes.len(),
            ms(generated)
        );
        println!(
            "open: {:.1} ms (parse + decrypt + MAC {:.1} ms; model + row index + first frame {:.1} ms)",
            ms(open),
            ms(decrypted),
            ms(modelled)
        );
        println!(
            "keystroke (keymap + update + view, 200x50), {} keys: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            times.len(),
            ms(p50),
            ms(p99),
            ms(max)
        );
        println!(
            "reload with an unsaved edit (three-way merge + rows): {:.1} ms",
            ms(reload)
        );
    }
}
