//! What is shown and copied, and for how long: the reveal deadline, copying a value or a path,
//! the clipboard's deadline, and comparing two values without showing them.

use crate::tui::model::{Mode, Model, Source};
use crate::tui::update::Effect;

/// Whether any plaintext is on screen beyond the value editor.
pub(super) fn any_revealed(m: &Model) -> bool {
    !m.revealed.is_empty()
        || m.reveal_all
        || m.merge.as_ref().is_some_and(|mg| mg.revealed)
        || matches!(&m.mode, Mode::Blame(b) if !b.shown.is_empty())
}

/// Masks everything revealed (the time ran out).
fn mask_all(m: &mut Model) {
    m.revealed.clear();
    m.reveal_all = false;
    m.reveal_until = None;
    if let Some(mg) = m.merge.as_mut() {
        mg.revealed = false;
    }
    if let Mode::Blame(b) = &mut m.mode {
        b.shown.clear();
    }
}

/// Time passed: masks revealed values and clears the clipboard when their time is up.
pub(super) fn tick(m: &mut Model, now: std::time::Instant) -> Vec<Effect> {
    if m.reveal_until.is_some_and(|t| now >= t) {
        mask_all(m);
        m.info(format!(
            "revealed values masked again ({} sets how soon)",
            crate::tui::privacy::REVEAL_TIME_VAR
        ));
    }
    match m.clip.take() {
        Some(clip) if now >= clip.until => vec![Effect::ClearClipboard(clip.copied)],
        other => {
            m.clip = other;
            vec![]
        }
    }
}

/// `=`: marks the selected value; on a second value, says whether the two are the same (type
/// and value), showing neither.
pub(super) fn compare(m: &mut Model) {
    let Some(addr) = m.selected_addr() else {
        return;
    };
    let leaf = |m: &Model, a: &crate::edit::ops::Addr| match m.item(a).and_then(|i| i.node()) {
        Some(crate::tree::Node::Leaf(l)) => Some(l.value.clone()),
        _ => None,
    };
    let Some(value) = leaf(m, &addr) else {
        m.info("select a value to compare (= marks it, = on another compares)");
        return;
    };
    if m.is_damaged(&addr) || m.compare_mark.as_ref().is_some_and(|a| m.is_damaged(a)) {
        m.compare_mark = None;
        m.error("a value that does not decrypt cannot be compared");
        return;
    }
    if matches!(m.source, Source::Review { .. }) {
        m.error("review mode has no key: values cannot be compared");
        return;
    }
    match m.compare_mark.take() {
        Some(mark) if mark != addr => {
            let (a, b) = (m.path_text(&mark), m.path_text(&addr));
            match leaf(m, &mark) {
                Some(other) if other == value => m.info(format!("{a} and {b} hold the same value")),
                Some(other) if other.type_name() != value.type_name() => m.info(format!(
                    "{a} and {b} differ (types {} and {})",
                    other.type_name(),
                    value.type_name()
                )),
                Some(_) => m.info(format!("{a} and {b} hold different values")),
                None => m.error(format!("{a} is no longer a value")),
            }
        }
        _ => {
            m.info(format!(
                "{} marked: = on another value compares them",
                m.path_text(&addr)
            ));
            m.compare_mark = Some(addr);
        }
    }
}

/// Copies the selected value (or, with `path`, its path).
pub(super) fn copy(m: &mut Model, path: bool) -> Vec<Effect> {
    let Some(addr) = m.selected_addr() else {
        m.info("select a key to copy");
        return vec![];
    };
    if path {
        return vec![Effect::CopyText(m.path_text(&addr))];
    }
    match m.item(&addr).and_then(|i| i.node()) {
        Some(crate::tree::Node::Leaf(_)) if m.is_damaged(&addr) => {
            m.error("this value does not decrypt: there is nothing to copy");
            vec![]
        }
        Some(crate::tree::Node::Leaf(_)) => vec![Effect::Copy(addr)],
        _ => {
            m.info("select a value to copy it (Y copies the path)");
            vec![]
        }
    }
}
