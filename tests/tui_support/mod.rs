//! Shared by the editor tests: the demo document as a model, key scripts, and rendering to
//! ratatui's `TestBackend`.
#![allow(dead_code)]

use crossterm::event::KeyEvent;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sesame::document::{self, Document, OpenOptions};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::Format;
use sesame::tui::action::Action;
use sesame::tui::demo;
use sesame::tui::keymap::{Chord, Keymap};
use sesame::tui::model::{FileInfo, Model};
use sesame::tui::theme::Theme;
use sesame::tui::update::{Effect, update};
use sesame::tui::view::view;

pub const WIDTH: u16 = 100;
pub const HEIGHT: u16 = 30;

pub fn demo_sources() -> KeySources {
    let mut env = FixedEnv::default();
    env.0.insert("SOPS_AGE_KEY".into(), demo::KEY.into());
    KeySources::new(Box::new(env))
}

fn info() -> FileInfo {
    FileInfo {
        name: demo::NAME.into(),
        format: Format::Yaml,
    }
}

/// A model over `bytes` (a YAML file for the demo key), sized like the snapshots.
pub fn model_of(bytes: &[u8], ignore_mac: bool) -> Model {
    model_with(bytes, ignore_mac, &demo_sources())
}

/// A model over `bytes` opened with `sources`, sized like the snapshots.
pub fn model_with(bytes: &[u8], ignore_mac: bool, sources: &KeySources) -> Model {
    let doc = Document::open(
        Format::Yaml,
        bytes.to_vec(),
        sources,
        OpenOptions {
            ignore_mac: true,
            keep_ciphertext: true,
            keep_damaged: true,
        },
    )
    .expect("the demo file opens with the demo key");
    let mut m = Model::from_document(doc, info(), ignore_mac);
    m.help = Keymap::default().help_lines();
    update(&mut m, Action::Resize(WIDTH, HEIGHT));
    m
}

/// The demo document, opened with the demo key.
pub fn demo_model() -> Model {
    model_of(demo::FILE, false)
}

/// The demo file opened without a key (review mode).
pub fn review_model() -> Model {
    let (parsed, metadata) = document::inspect(Format::Yaml, demo::FILE).unwrap();
    let mut m = Model::review(
        parsed.docs,
        metadata,
        "no age identity matches the file's recipients".into(),
        info(),
    );
    m.help = Keymap::default().help_lines();
    update(&mut m, Action::Resize(WIDTH, HEIGHT));
    m
}

/// The demo file with a plain value changed by hand: its MAC no longer matches.
pub fn tampered_demo() -> Vec<u8> {
    let text = String::from_utf8(demo::FILE.to_vec()).unwrap();
    let out = text.replace("help@example.com", "evil@example.com");
    assert_ne!(out, text);
    out.into_bytes()
}

/// The demo file with one value's stored text replaced by another value's (valid ciphertext
/// bound to another key path): `["database"]["password"]` no longer decrypts.
pub fn damaged_demo() -> Vec<u8> {
    let text = String::from_utf8(demo::FILE.to_vec()).unwrap();
    let enc_of = |key: &str| {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}: ENC[")))
            .unwrap();
        line.split_once(": ").unwrap().1.to_string()
    };
    let out = text.replace(&enc_of("password"), &enc_of("host"));
    assert_ne!(out, text);
    out.into_bytes()
}

/// Parses a key script: characters are keys, `<NAME>` is a key as `keymap.toml` writes it
/// (`<enter>`, `<esc>`, `<space>`, `<backspace>`, `<ctrl-s>`, `<alt-enter>`, `<pgdn>`).
pub fn keys(script: &str) -> Vec<KeyEvent> {
    let mut out = Vec::new();
    let mut chars = script.chars();
    while let Some(c) = chars.next() {
        let name = if c == '<' {
            chars.by_ref().take_while(|c| *c != '>').collect()
        } else {
            c.to_string()
        };
        let chord = Chord::parse(&name).unwrap_or_else(|| panic!("unknown key <{name}> in script"));
        out.push(chord.key_event());
    }
    out
}

/// Feeds a key script through the default keymap and `update`; returns the effects.
pub fn press(m: &mut Model, script: &str) -> Vec<Effect> {
    let keymap = Keymap::default();
    let mut effects = Vec::new();
    for key in keys(script) {
        if let Some(action) = keymap.action(&m.mode, key) {
            effects.extend(update(m, action));
        }
    }
    effects
}

/// Draws the model on a test terminal.
pub fn render(m: &Model, theme: &Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    t.draw(|f| {
        view(m, theme, f);
    })
    .unwrap();
    t
}

/// Clicks, with the mouse, the button whose label contains `label` on the screen as drawn
/// now; returns the effects. Panics when no such button is on screen.
pub fn click_button(m: &mut Model, label: &str) -> Vec<Effect> {
    let mut t = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut buttons = Default::default();
    t.draw(|f| buttons = view(m, &Theme::named("dark").unwrap(), f))
        .unwrap();
    let buf = t.backend().buffer();
    let at = buttons_at(&buttons, buf, label);
    let event = crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: at.0,
        row: at.1,
        modifiers: crossterm::event::KeyModifiers::NONE,
    };
    let action = sesame::tui::event::mouse_action(event, &Keymap::default(), &m.mode, &buttons)
        .unwrap_or_else(|| panic!("the button {label:?} does nothing"));
    update(m, action)
}

/// The middle of the button whose text contains `label`.
fn buttons_at(
    buttons: &sesame::tui::view::Buttons,
    buf: &ratatui::buffer::Buffer,
    label: &str,
) -> (u16, u16) {
    for b in &buttons.0 {
        let text: String = (b.area.x..b.area.x + b.area.width)
            .map(|x| buf[(x, b.area.y)].symbol().to_string())
            .collect();
        if text.contains(label) {
            return (b.area.x + b.area.width / 2, b.area.y);
        }
    }
    panic!("no button {label:?} on screen")
}

/// The screen at `width`×`height`, as text lines (after telling the model the size, as a
/// terminal resize would).
pub fn screen_at(m: &mut Model, width: u16, height: u16) -> String {
    update(m, sesame::tui::action::Action::Resize(width, height));
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| {
        view(m, &Theme::named("dark").unwrap(), f);
    })
    .unwrap();
    t.backend().to_string()
}

/// The rendered screen as text lines.
pub fn screen(m: &Model) -> String {
    let t = render(m, &Theme::named("dark").unwrap());
    t.backend().to_string()
}

/// Moves the cursor to the row whose text contains `needle`.
pub fn goto(m: &mut Model, needle: &str) {
    press(m, "g");
    for _ in 0..m.rows.len() {
        let t = render(m, &Theme::named("dark").unwrap());
        let buf = t.backend().buffer();
        let row = 2 + (m.cursor - m.scroll) as u16;
        let line: String = (0..buf.area.width / 2 + 10)
            .map(|x| buf[(x, row)].symbol().to_string())
            .collect();
        if line.contains(needle) {
            return;
        }
        press(m, "j");
    }
    panic!("no row shows {needle:?}");
}

/// Runs the key manager's probe as the session would, with `sources`.
pub fn probe(m: &mut Model, sources: &KeySources) {
    let facts = sesame::tui::key_manager::probe(&m.key_manager.unprobed(), sources);
    update(m, Action::KeysProbed(facts));
}

/// Fixes "today" for the data key's age, so screens do not change with the date.
pub fn fix_today(m: &mut Model, date: &str) {
    m.key_manager.now = sesame::gotext::parse_time(date);
}

/// Feeds a key script to a session as the live loop does: every effect is performed and its
/// result fed back, until nothing is left.
pub fn drive(s: &mut sesame::tui::session::Session, script: &str) {
    let keymap = Keymap::default();
    for key in keys(script) {
        let Some(action) = keymap.action(&s.model.mode, key) else {
            continue;
        };
        let mut pending = vec![action];
        while let Some(action) = pending.pop() {
            for effect in update(&mut s.model, action) {
                if let Some(next) = s.perform(effect) {
                    pending.push(next);
                }
            }
        }
    }
}

/// The status line's text, for asserting on messages.
pub fn status(m: &Model) -> String {
    m.status
        .as_ref()
        .map(|(_, t)| t.clone())
        .unwrap_or_default()
}
