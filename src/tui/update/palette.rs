//! The command palette (`:`): every action of the tree by name, filtered as the query is
//! typed (the letters in order, as fuzzy pickers match), run with Enter; a query that is a key
//! path (`["api"]["token"]`, or `goto` and one) jumps there instead.

use crate::edit::ops::Addr;
use crate::path::TreePath;
use crate::tui::action::{Action, Keystroke};
use crate::tui::model::{Mode, Model, Palette, PaletteEntry};
use crate::tui::update::edit::{take_text, text_area};
use crate::tui::update::{Effect, nav};
use crossterm::event::KeyCode;

pub fn open(m: &mut Model) {
    m.mode = Mode::Palette(Box::new(Palette {
        area: text_area(""),
        selected: 0,
    }));
    m.info(
        "type an action's name, or a key path like [\"api\"][\"token\"] · Enter runs · Esc closes",
    );
}

/// How well `query` matches `text`: its letters in order (case ignored), tighter and earlier
/// runs scoring higher; `None` when they are not all there.
fn score(query: &str, text: &str) -> Option<i64> {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let mut at = 0;
    let mut score = 0i64;
    let mut last: Option<usize> = None;
    for q in query.to_lowercase().chars().filter(|c| !c.is_whitespace()) {
        let found = text[at..].iter().position(|c| *c == q)? + at;
        score -= found as i64;
        if last.is_some_and(|l| l + 1 == found) {
            score += 10;
        }
        last = Some(found);
        at = found + 1;
    }
    Some(score)
}

/// The entries matching `query`, best first.
pub fn matches<'a>(entries: &'a [PaletteEntry], query: &str) -> Vec<&'a PaletteEntry> {
    let mut scored: Vec<(i64, usize, &PaletteEntry)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let by_name = score(query, &e.name.replace('_', " "));
            let by_help = score(query, e.help).map(|s| s - 5);
            by_name.max(by_help).map(|s| (s, i, e))
        })
        .collect();
    // Best score first; on a tie the shorter name (the closer match), then table order.
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.2.name.len().cmp(&b.2.name.len()))
            .then(a.1.cmp(&b.1))
    });
    scored.into_iter().map(|(_, _, e)| e).collect()
}

/// A query that names a key path: `["a"]["b"]`, optionally after `goto`.
fn path_of(query: &str) -> Option<TreePath> {
    let q = query.trim();
    let q = q.strip_prefix("goto").map(str::trim).unwrap_or(q);
    q.starts_with('[')
        .then(|| TreePath::parse(q).ok())
        .flatten()
}

/// The address of `path` in the first document that has it.
fn find_path(m: &Model, path: &TreePath) -> Option<Addr> {
    m.docs()
        .iter()
        .enumerate()
        .find_map(|(d, doc)| crate::edit::ops::addr_of(doc, path).map(|items| Addr::new(d, items)))
}

pub fn in_palette(m: &mut Model, action: Action) -> Vec<Effect> {
    let Mode::Palette(p) = &mut m.mode else {
        return vec![];
    };
    match action {
        Action::Input(Keystroke(key)) if matches!(key.code, KeyCode::Up | KeyCode::Down) => {
            p.selected = if key.code == KeyCode::Up {
                p.selected.saturating_sub(1)
            } else {
                p.selected + 1
            };
        }
        Action::Input(Keystroke(key)) => {
            p.area.input(key);
            p.selected = 0;
        }
        Action::Paste(text) => {
            p.area
                .insert_str(text.as_str().lines().next().unwrap_or(""));
            p.selected = 0;
        }
        Action::ClearField => {
            p.area = text_area("");
            p.selected = 0;
        }
        Action::Cancel => m.mode = Mode::Normal,
        Action::Confirm | Action::Commit => {
            let Mode::Palette(p) = std::mem::replace(&mut m.mode, Mode::Normal) else {
                return vec![];
            };
            let Palette { area, selected } = *p;
            let query = take_text(area).to_string();
            if let Some(path) = path_of(&query) {
                match find_path(m, &path) {
                    Some(addr) => {
                        nav::show(m, &addr);
                        m.info(format!("at {path}"));
                    }
                    None => m.error(format!("no key at {path}")),
                }
                return vec![];
            }
            let found = matches(&m.help.palette, &query);
            let Some(entry) = found.get(selected.min(found.len().saturating_sub(1))) else {
                m.error(format!("no action matches {query:?}"));
                return vec![];
            };
            let Some(action) = Action::from_name(entry.name) else {
                return vec![];
            };
            return crate::tui::update::update(m, action);
        }
        _ => {}
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &'static str, help: &'static str) -> PaletteEntry {
        PaletteEntry {
            name,
            keys: String::new(),
            help,
        }
    }

    #[test]
    fn letters_in_order_match_and_tight_runs_rank_first() {
        let entries = [
            entry("copy_path", "copy the key's path"),
            entry("copy", "copy the value"),
            entry("key_manager", "key manager (recipients)"),
        ];
        let names = |q| {
            matches(&entries, q)
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("copy")[..2], ["copy", "copy_path"]);
        assert_eq!(names("cpp"), ["copy_path"]);
        assert_eq!(names("recip"), ["key_manager"]);
        assert!(names("zzz").is_empty());
        assert_eq!(
            path_of("goto [\"a\"]").map(|p| p.to_string()),
            Some("[\"a\"]".into())
        );
        assert_eq!(path_of("copy"), None);
    }
}
