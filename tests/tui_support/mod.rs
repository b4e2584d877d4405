//! Shared by the editor tests: the demo document as a model, key scripts, and rendering to
//! ratatui's `TestBackend`.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sesame::document::{self, Document, OpenOptions};
use sesame::keys::age::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::Format;
use sesame::tui::action::Action;
use sesame::tui::demo;
use sesame::tui::keymap::Keymap;
use sesame::tui::model::{FileInfo, Model, Source};
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
        },
    )
    .expect("the demo file opens with the demo key");
    let bad_mac = doc.mac_problem().is_some();
    let mut m = Model::new(Source::Doc(Box::new(doc)), info());
    m.mac_ignored = ignore_mac;
    if bad_mac && !ignore_mac {
        m.set_read_only("the MAC does not match; pass --ignore-mac to edit");
    }
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
    let mut m = Model::new(
        Source::Review {
            docs: parsed.docs,
            metadata: Box::new(metadata),
            reason: "no age identity matches the file's recipients".into(),
        },
        info(),
    );
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

/// Parses a key script: characters are keys; `<enter>`, `<esc>`, `<space>`, `<up>`,
/// `<down>`, `<left>`, `<right>`, `<pgup>`, `<pgdn>`, `<bs>`, `<c-x>` (Ctrl), `<a-enter>`.
pub fn keys(script: &str) -> Vec<KeyEvent> {
    let mut out = Vec::new();
    let mut chars = script.chars();
    while let Some(c) = chars.next() {
        if c != '<' {
            let m = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            out.push(KeyEvent::new(KeyCode::Char(c), m));
            continue;
        }
        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
        let key = match name.as_str() {
            "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            "a-enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT),
            "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
            "space" => KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
            "up" => KeyEvent::new(KeyCode::Up, KeyModifiers::NONE),
            "down" => KeyEvent::new(KeyCode::Down, KeyModifiers::NONE),
            "left" => KeyEvent::new(KeyCode::Left, KeyModifiers::NONE),
            "right" => KeyEvent::new(KeyCode::Right, KeyModifiers::NONE),
            "pgup" => KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE),
            "pgdn" => KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE),
            "bs" => KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
            "lt" => KeyEvent::new(KeyCode::Char('<'), KeyModifiers::NONE),
            other => match other.strip_prefix("c-") {
                Some(k) => KeyEvent::new(
                    KeyCode::Char(k.chars().next().unwrap()),
                    KeyModifiers::CONTROL,
                ),
                None => panic!("unknown key <{other}> in script"),
            },
        };
        out.push(key);
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
    t.draw(|f| view(m, theme, f)).unwrap();
    t
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
    let facts = sesame::tui::keyman::probe(&m.keys.unprobed(), sources);
    update(m, Action::KeysProbed(facts));
}

/// Fixes "today" for the data key's age, so screens do not change with the date.
pub fn fix_today(m: &mut Model, date: &str) {
    m.keys.now = sesame::gofmt::parse_time(date);
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
