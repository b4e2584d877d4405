//! The history screen of a value (`H`): open it for the selected value, move between commits,
//! reveal the value as it was at one (with a key), close it.

use crate::edit::ops;
use crate::tui::action::Action;
use crate::tui::model::{Mode, Model, Source};
use crate::tui::update::Effect;

/// `H` on a value: its history is read (an effect: it runs Git).
pub fn open(m: &mut Model) -> Vec<Effect> {
    let Some(addr) = m.selected_addr() else {
        return vec![];
    };
    let Some(path) = m
        .docs()
        .get(addr.doc)
        .and_then(|d| ops::tree_path(d, &addr.items))
    else {
        return vec![];
    };
    if !matches!(
        m.item(&addr).and_then(|i| i.node()),
        Some(crate::tree::Node::Leaf(_))
    ) {
        m.info("history is kept per value: select a value (not a map, list or comment)");
        return vec![];
    }
    m.info("reading the value's history from Git…");
    vec![Effect::LoadHistory {
        doc: addr.doc,
        place: m.path_text(&addr),
        path,
    }]
}

pub fn loaded(m: &mut Model, result: Result<Box<crate::tui::blame::Blame>, String>) {
    match result {
        Ok(b) if b.events.is_empty() => {
            m.info(format!("{}: not in any commit yet", b.place));
        }
        Ok(b) => {
            m.status = None;
            m.mode = Mode::Blame(b);
        }
        Err(e) => m.error(e),
    }
}

pub fn value(m: &mut Model, i: usize, value: Result<Option<crate::tree::Node>, String>) {
    if let Mode::Blame(b) = &mut m.mode {
        b.shown.insert(i, value);
    }
}

pub fn in_blame(m: &mut Model, action: Action) -> Vec<Effect> {
    let review = matches!(m.source, Source::Review { .. });
    let Mode::Blame(b) = &mut m.mode else {
        return vec![];
    };
    match action {
        Action::Up => b.cursor = b.cursor.saturating_sub(1),
        Action::Down => b.cursor = (b.cursor + 1).min(b.events.len().saturating_sub(1)),
        Action::Reveal if b.shown.remove(&b.cursor).is_some() => {}
        Action::Reveal if review => {
            b.shown.insert(
                b.cursor,
                Err("no key: old values cannot be shown in review mode".into()),
            );
        }
        Action::Reveal => return vec![Effect::RevealOld(b.cursor)],
        Action::Confirm | Action::Cancel => m.mode = Mode::Normal,
        _ => {}
    }
    vec![]
}
