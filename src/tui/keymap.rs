//! Keys to actions, per context (the tree, text input, questions, overlays). The defaults are
//! the issue's; `$XDG_CONFIG_HOME/sesame/keymap.toml` (else `~/.config/sesame/keymap.toml`)
//! may rebind any of them:
//!
//! ```toml
//! [normal]
//! "ctrl-e" = "edit"
//! "x" = "delete"
//! [editor]
//! "ctrl-s" = "confirm"
//! ```

use crate::tui::action::{Action, Keystroke, canonical_name};
use crate::tui::model::Mode;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a key is read: the tree, a text field, a question, or an overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    Normal,
    Editor,
    Question,
    Overlay,
    /// The key manager screen.
    KeyManager,
}

impl Context {
    const ALL: [(Context, &'static str); 5] = [
        (Context::Normal, "normal"),
        (Context::Editor, "editor"),
        (Context::Question, "question"),
        (Context::Overlay, "overlay"),
        (Context::KeyManager, "key_manager"),
    ];

    /// The context a `keymap.toml` section names (`[keys]`, the earlier name of
    /// `[key_manager]`, still works).
    fn from_section(name: &str) -> Option<Context> {
        let name = if name == "keys" { "key_manager" } else { name };
        Context::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(c, _)| *c)
    }
}

/// A key with its modifiers, as written in a keymap (`ctrl-r`, `G`, `pgdn`, `space`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chord {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` with an order, so chords can key a `BTreeMap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    Named(u8),
    F(u8),
}

const NAMED: [(&str, KeyCode); 14] = [
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
];

impl Chord {
    /// The chord of a key event (Shift is part of the character for letters and symbols).
    pub fn of(key: &KeyEvent) -> Option<Chord> {
        let code = match key.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().position(|(_, k)| *k == other)? as u8),
        };
        Some(Chord {
            code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
            alt: key.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `ctrl-r`, `alt-enter`, `G`, `space`, `pgdn`, `f1`.
    pub fn parse(text: &str) -> Option<Chord> {
        let (mut ctrl, mut alt) = (false, false);
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let lower = match lower.as_str() {
            "pageup" => "pgup",
            "pagedown" => "pgdn",
            "return" => "enter",
            "escape" => "esc",
            other => other,
        };
        let code = if rest.chars().count() == 1 {
            let c = rest.chars().next()?;
            KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c })
        } else if lower == "space" {
            KeyCodeOrd::Char(' ')
        } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse().ok()) {
            KeyCodeOrd::F(n)
        } else {
            KeyCodeOrd::Named(NAMED.iter().position(|(n, _)| *n == lower)? as u8)
        };
        Some(Chord { code, ctrl, alt })
    }

    /// The key event a terminal sends for this chord (Shift with upper-case letters), so
    /// scripted keys go through the same parser as `keymap.toml`.
    pub fn key_event(&self) -> KeyEvent {
        let code = match self.code {
            KeyCodeOrd::Char(c) => KeyCode::Char(c),
            KeyCodeOrd::F(n) => KeyCode::F(n),
            KeyCodeOrd::Named(i) => NAMED[i as usize].1,
        };
        let mut mods = KeyModifiers::NONE;
        if matches!(self.code, KeyCodeOrd::Char(c) if c.is_ascii_uppercase()) {
            mods |= KeyModifiers::SHIFT;
        }
        if self.ctrl {
            mods |= KeyModifiers::CONTROL;
        }
        if self.alt {
            mods |= KeyModifiers::ALT;
        }
        KeyEvent::new(code, mods)
    }

    /// How the help overlay writes the chord.
    pub fn label(&self) -> String {
        let key = match self.code {
            KeyCodeOrd::Char(' ') => "Space".to_string(),
            KeyCodeOrd::Char(c) => c.to_string(),
            KeyCodeOrd::F(n) => format!("F{n}"),
            KeyCodeOrd::Named(i) => {
                let name = NAMED[i as usize].0;
                let mut s = name[..1].to_ascii_uppercase();
                s.push_str(&name[1..]);
                s
            }
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("Ctrl-{}", key.to_ascii_uppercase()),
            (_, true) => format!("Alt-{key}"),
            _ => key,
        }
    }
}

/// The bindings of every context.
#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: BTreeMap<(Context, Chord), &'static str>,
}

const DEFAULTS: &[(Context, &str, &str)] = &[
    (Context::Normal, "up", "up"),
    (Context::Normal, "k", "up"),
    (Context::Normal, "down", "down"),
    (Context::Normal, "j", "down"),
    (Context::Normal, "left", "collapse"),
    (Context::Normal, "h", "collapse"),
    (Context::Normal, "right", "expand"),
    (Context::Normal, "l", "expand"),
    (Context::Normal, "g", "top"),
    (Context::Normal, "G", "bottom"),
    (Context::Normal, "pgup", "page_up"),
    (Context::Normal, "pgdn", "page_down"),
    (Context::Normal, "enter", "edit"),
    (Context::Normal, "E", "edit_external"),
    (Context::Normal, "space", "reveal"),
    (Context::Normal, "V", "reveal_all"),
    (Context::Normal, "a", "add"),
    (Context::Normal, "r", "rename"),
    (Context::Normal, "d", "delete"),
    (Context::Normal, "t", "change_type"),
    (Context::Normal, "u", "undo"),
    (Context::Normal, "ctrl-r", "redo"),
    (Context::Normal, "/", "search"),
    (Context::Normal, "n", "search_next"),
    (Context::Normal, "N", "search_prev"),
    (Context::Normal, "F", "filter"),
    (Context::Normal, "ctrl-s", "save"),
    (Context::Normal, "K", "key_manager"),
    (Context::Normal, "R", "reload"),
    (Context::Normal, "M", "conflicts"),
    (Context::Normal, "H", "history"),
    (Context::Normal, "y", "copy"),
    (Context::Normal, "Y", "copy_path"),
    (Context::Normal, "=", "compare"),
    (Context::Normal, "D", "duplicate"),
    (Context::Normal, "?", "help"),
    (Context::Normal, ":", "palette"),
    (Context::Normal, "q", "quit"),
    (Context::Normal, "ctrl-c", "quit"),
    (Context::Normal, "ctrl-z", "suspend"),
    (Context::Normal, "esc", "cancel"),
    (Context::Editor, "enter", "confirm"),
    (Context::Editor, "ctrl-s", "commit"),
    (Context::Editor, "esc", "cancel"),
    (Context::Editor, "ctrl-c", "cancel"),
    (Context::Editor, "alt-enter", "newline"),
    (Context::Editor, "ctrl-j", "newline"),
    (Context::Editor, "ctrl-u", "clear_field"),
    (Context::Question, "y", "confirm"),
    (Context::Question, "enter", "confirm"),
    (Context::Question, "n", "cancel"),
    (Context::Question, "esc", "cancel"),
    (Context::Question, "q", "cancel"),
    (Context::Question, "ctrl-c", "cancel"),
    (Context::Overlay, "up", "up"),
    (Context::Overlay, "k", "up"),
    (Context::Overlay, "down", "down"),
    (Context::Overlay, "j", "down"),
    (Context::Overlay, "pgup", "page_up"),
    (Context::Overlay, "pgdn", "page_down"),
    (Context::Overlay, "esc", "cancel"),
    (Context::Overlay, "q", "cancel"),
    (Context::Overlay, "?", "cancel"),
    (Context::Overlay, "K", "cancel"),
    (Context::Overlay, "enter", "cancel"),
    (Context::Overlay, "ctrl-c", "cancel"),
    (Context::KeyManager, "up", "up"),
    (Context::KeyManager, "k", "up"),
    (Context::KeyManager, "down", "down"),
    (Context::KeyManager, "j", "down"),
    (Context::KeyManager, "g", "top"),
    (Context::KeyManager, "G", "bottom"),
    (Context::KeyManager, "pgup", "page_up"),
    (Context::KeyManager, "pgdn", "page_down"),
    (Context::KeyManager, "a", "add"),
    (Context::KeyManager, "d", "delete"),
    (Context::KeyManager, "n", "add_group"),
    (Context::KeyManager, "t", "threshold"),
    (Context::KeyManager, "R", "rotate"),
    (Context::KeyManager, "c", "apply_rule"),
    (Context::KeyManager, "u", "undo"),
    (Context::KeyManager, "ctrl-s", "save"),
    (Context::KeyManager, "?", "help"),
    (Context::KeyManager, "ctrl-z", "suspend"),
    (Context::KeyManager, "esc", "cancel"),
    (Context::KeyManager, "q", "cancel"),
    (Context::KeyManager, "K", "cancel"),
    (Context::KeyManager, "ctrl-c", "cancel"),
];

/// A keymap file that does not read: names the file, the entry and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}\nhint: {hint}")]
pub struct KeymapError {
    pub file: String,
    pub problem: String,
    pub hint: String,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut bindings = BTreeMap::new();
        for (ctx, key, name) in DEFAULTS {
            let chord = Chord::parse(key).expect("default chords parse");
            bindings.insert(
                (*ctx, chord),
                canonical_name(name).expect("default names exist"),
            );
        }
        Keymap { bindings }
    }
}

impl Keymap {
    /// The user's keymap file: `$XDG_CONFIG_HOME/sesame/keymap.toml`, else
    /// `~/.config/sesame/keymap.toml`.
    pub fn user_file() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("sesame").join("keymap.toml"))
    }

    /// The defaults with the user's file applied, if it exists.
    pub fn load(path: Option<&Path>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        let Some(path) = path else { return Ok(map) };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(map),
            Err(e) => {
                return Err(KeymapError {
                    file: path.display().to_string(),
                    problem: format!("cannot read the keymap: {e}"),
                    hint: "fix the file's permissions or remove it".into(),
                });
            }
        };
        map.apply_toml(&text)
            .map_err(|(problem, hint)| KeymapError {
                file: path.display().to_string(),
                problem,
                hint,
            })?;
        Ok(map)
    }

    /// Applies `[context] "chord" = "action"` tables over the current bindings.
    pub fn apply_toml(&mut self, text: &str) -> Result<(), (String, String)> {
        let tables: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|e| {
                (
                    format!("not a keymap: {e}"),
                    "write tables like [normal] with lines \"ctrl-e\" = \"edit\"".to_string(),
                )
            })?;
        for (table, entries) in tables {
            let ctx = Context::from_section(&table).ok_or_else(|| {
                (
                    format!("unknown section [{table}]"),
                    "sections are [normal], [editor], [question], [overlay] and [key_manager]"
                        .to_string(),
                )
            })?;
            for (key, action) in entries {
                let chord = Chord::parse(&key).ok_or_else(|| {
                    (
                        format!("[{table}] {key:?} is not a key"),
                        "write keys like \"j\", \"G\", \"ctrl-r\", \"alt-enter\", \"pgdn\", \"space\""
                            .to_string(),
                    )
                })?;
                let name = canonical_name(&action).ok_or_else(|| {
                    let names: Vec<&str> = crate::tui::action::BINDABLE
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect();
                    (
                        format!("[{table}] {key:?}: unknown action {action:?}"),
                        format!("actions are: {}", names.join(", ")),
                    )
                })?;
                self.bindings.insert((ctx, chord), name);
            }
        }
        Ok(())
    }

    /// The context a mode reads keys in.
    pub fn context(mode: &Mode) -> Context {
        match mode {
            Mode::Normal => Context::Normal,
            Mode::Edit(_) | Mode::Prompt(_) | Mode::Palette(_) => Context::Editor,
            Mode::Help(_) => Context::Overlay,
            Mode::KeyManager => Context::KeyManager,
            Mode::Confirm(_)
            | Mode::ReviewSave(_)
            | Mode::Conflict
            | Mode::MacWarning
            | Mode::Reloaded(_)
            | Mode::Merge
            | Mode::Blame(_)
            | Mode::RulePreview(_) => Context::Question,
            Mode::ChangeType => Context::Question,
        }
    }

    /// The action for a key in the given mode. Unbound keys in text fields are typed.
    pub fn action(&self, mode: &Mode, key: KeyEvent) -> Option<Action> {
        let ctx = Keymap::context(mode);
        // A destructive question (delete, quit without saving) is never answered by a bare
        // Enter: the safe default is to keep things as they are.
        if matches!(mode, Mode::Confirm(_))
            && key.code == crossterm::event::KeyCode::Enter
            && key.modifiers.is_empty()
        {
            return Some(Action::Cancel);
        }
        let chord = Chord::of(&key);
        if let Some(name) = chord.and_then(|c| self.bindings.get(&(ctx, c))) {
            return Action::from_name(name);
        }
        let plain_char =
            |c: char| chord.is_some_and(|ch| ch.code == KeyCodeOrd::Char(c) && !ch.ctrl && !ch.alt);
        match mode {
            Mode::Edit(_) | Mode::Prompt(_) | Mode::Palette(_) => {
                Some(Action::Input(Keystroke(key)))
            }
            Mode::Conflict if plain_char('r') => Some(Action::Reload),
            Mode::Conflict if plain_char('o') => Some(Action::Overwrite),
            Mode::Blame(_) => match key.code {
                KeyCode::Up => Some(Action::Up),
                KeyCode::Down => Some(Action::Down),
                _ if plain_char('k') => Some(Action::Up),
                _ if plain_char('j') => Some(Action::Down),
                _ if plain_char(' ') => Some(Action::Reveal),
                _ => None,
            },
            Mode::Merge => {
                use crate::filemerge::Which;
                match key.code {
                    KeyCode::Up => return Some(Action::Up),
                    KeyCode::Down => return Some(Action::Down),
                    _ => {}
                }
                [
                    ('o', Action::Take(Which::Ours)),
                    ('t', Action::Take(Which::Theirs)),
                    ('b', Action::Take(Which::Base)),
                    ('k', Action::Up),
                    ('j', Action::Down),
                    (' ', Action::Reveal),
                ]
                .into_iter()
                .find(|(c, _)| plain_char(*c))
                .map(|(_, a)| a)
            }
            Mode::ChangeType => {
                use crate::edit::value::ValueKind;
                let kind = ValueKind::ALL.into_iter().find(|k| plain_char(k.key().0))?;
                Some(Action::SetType(kind))
            }
            _ => None,
        }
    }

    /// The help overlay's lines: the tree's keys, then the editor's.
    pub fn help_lines(&self) -> crate::tui::model::HelpLines {
        let lines = |contexts: &[Context]| {
            let mut out = Vec::new();
            for &ctx in contexts {
                for (name, chords, help) in self.bindings_of(ctx) {
                    if ctx == Context::Normal && name == "cancel" {
                        continue;
                    }
                    out.push((chords.join(" "), help));
                }
            }
            out
        };
        // The palette: every action the tree can run: those bound there, and those bound
        // nowhere (text-field and key-manager actions belong to their own screens; Esc and the
        // palette itself mean nothing in it).
        let bound = self.bindings_of(Context::Normal);
        let palette = crate::tui::action::BINDABLE
            .iter()
            .filter(|(name, _, _)| {
                !matches!(*name, "cancel" | "palette")
                    && (bound.iter().any(|(n, _, _)| n == name)
                        || !self.bindings.values().any(|n| n == name))
            })
            .map(|(name, _, help)| crate::tui::model::PaletteEntry {
                name,
                keys: bound
                    .iter()
                    .find(|(n, _, _)| n == name)
                    .map(|(_, chords, _)| chords.join(" "))
                    .unwrap_or_default(),
                help,
            })
            .collect();
        crate::tui::model::HelpLines {
            tree: lines(&[Context::Normal, Context::Editor]),
            key_manager: lines(&[Context::KeyManager]),
            palette,
        }
    }

    /// The chords bound to each action in a context, in table order, for the help overlay.
    pub fn bindings_of(&self, ctx: Context) -> Vec<(&'static str, Vec<String>, &'static str)> {
        crate::tui::action::BINDABLE
            .iter()
            .filter_map(|(name, _, help)| {
                let chords: Vec<String> = self
                    .bindings
                    .iter()
                    .filter(|((c, _), n)| *c == ctx && *n == name)
                    .map(|((_, chord), _)| chord.label())
                    .collect();
                (!chords.is_empty()).then_some((*name, chords, *help))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn the_palette_offers_the_trees_actions_only() {
        let names: Vec<&str> = Keymap::default()
            .help_lines()
            .palette
            .iter()
            .map(|e| e.name)
            .collect();
        for name in ["copy_path", "suspend", "filter", "history", "help"] {
            assert!(names.contains(&name), "{name}: {names:?}");
        }
        for name in [
            "clear_field",
            "newline",
            "rotate",
            "threshold",
            "cancel",
            "palette",
        ] {
            assert!(!names.contains(&name), "{name}: {names:?}");
        }
    }

    #[test]
    fn defaults_follow_the_issue() {
        let km = Keymap::default();
        let n = |code, m| {
            km.action(&Mode::Normal, key(code, m))
                .and_then(|a| a.name())
        };
        assert_eq!(n(KeyCode::Char('j'), KeyModifiers::NONE), Some("down"));
        assert_eq!(n(KeyCode::Char('G'), KeyModifiers::SHIFT), Some("bottom"));
        assert_eq!(n(KeyCode::Char('r'), KeyModifiers::CONTROL), Some("redo"));
        assert_eq!(n(KeyCode::Char('s'), KeyModifiers::CONTROL), Some("save"));
        assert_eq!(n(KeyCode::PageDown, KeyModifiers::NONE), Some("page_down"));
        assert_eq!(n(KeyCode::Char(' '), KeyModifiers::NONE), Some("reveal"));
        assert_eq!(n(KeyCode::Char('x'), KeyModifiers::NONE), None);
    }

    #[test]
    fn a_user_file_rebinds_and_bad_entries_are_named() {
        let mut km = Keymap::default();
        km.apply_toml("[normal]\n\"x\" = \"delete\"\n\"ctrl-e\" = \"edit\"\n")
            .unwrap();
        let a = km.action(&Mode::Normal, key(KeyCode::Char('x'), KeyModifiers::NONE));
        assert_eq!(a.and_then(|a| a.name()), Some("delete"));
        let a = km.action(
            &Mode::Normal,
            key(KeyCode::Char('e'), KeyModifiers::CONTROL),
        );
        assert_eq!(a.and_then(|a| a.name()), Some("edit"));
        let (problem, hint) = km
            .apply_toml("[normal]\n\"x\" = \"explode\"\n")
            .unwrap_err();
        assert!(problem.contains("explode"), "{problem}");
        assert!(hint.contains("delete"), "{hint}");
        assert!(km.apply_toml("[nowhere]\n\"x\" = \"up\"\n").is_err());
        assert!(km.apply_toml("[normal]\n\"ctrl-\" = \"up\"\n").is_err());
        assert!(km.apply_toml("[normal]\n\"nokey\" = \"up\"\n").is_err());
    }

    #[test]
    fn chords_round_trip_through_labels() {
        for text in ["ctrl-r", "G", "space", "pgdn", "alt-enter", "f2", "?"] {
            let chord = Chord::parse(text).unwrap();
            assert!(!chord.label().is_empty());
            assert_eq!(Chord::of(&chord.key_event()), Some(chord), "{text}");
        }
        assert_eq!(Chord::parse("ctrl-r").unwrap().label(), "Ctrl-R");
        let shifted = Chord::parse("G").unwrap().key_event();
        assert_eq!(shifted.modifiers, KeyModifiers::SHIFT);
    }

    /// Files written for earlier versions keep working: `[keys]` is `[key_manager]`, the
    /// action `recipients` is `key_manager`.
    #[test]
    fn earlier_names_still_read() {
        let mut km = Keymap::default();
        km.apply_toml("[keys]\n\"x\" = \"delete\"\n[normal]\n\"z\" = \"recipients\"\n")
            .unwrap();
        let a = km.action(
            &Mode::KeyManager,
            key(KeyCode::Char('x'), KeyModifiers::NONE),
        );
        assert_eq!(a.and_then(|a| a.name()), Some("delete"));
        let a = km.action(&Mode::Normal, key(KeyCode::Char('z'), KeyModifiers::NONE));
        assert!(matches!(a, Some(Action::KeyManager)));
        assert_eq!(Action::KeyManager.name(), Some("key_manager"));
    }
}
