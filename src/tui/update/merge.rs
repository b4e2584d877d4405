//! The conflict screen of a file in the middle of a Git merge: move between the conflicting
//! places, take base, ours or theirs for each, reveal the three values; after the save, the
//! question whether to stage the file.

use crate::filemerge::Which;
use crate::tui::action::Action;
use crate::tui::merge::side_index;
use crate::tui::model::{Confirm, Mode, Model, Source};
use crate::tui::update::Effect;

/// `M`: the conflict screen, when the file is mid-merge.
pub fn open_screen(m: &mut Model) {
    match &m.merge {
        Some(mg) if !mg.conflicts.is_empty() || !mg.metadata_conflicts.is_empty() => {
            m.mode = Mode::Merge
        }
        Some(_) => m.info("the merge has no conflicts: save (Ctrl-S) to finish it"),
        None => m.info("this file is not in the middle of a Git merge"),
    }
}

pub fn in_merge(m: &mut Model, action: Action) -> Vec<Effect> {
    let Some(mg) = m.merge.as_mut() else {
        m.mode = Mode::Normal;
        return vec![];
    };
    let last = mg.conflicts.len().saturating_sub(1);
    match action {
        Action::Up => mg.cursor = mg.cursor.saturating_sub(1),
        Action::Down => mg.cursor = (mg.cursor + 1).min(last),
        Action::Reveal => mg.revealed = !mg.revealed,
        Action::Take(which) => take(m, which),
        Action::Confirm | Action::Cancel => {
            m.mode = Mode::Normal;
            let left = m.merge.as_ref().map_or(0, |mg| mg.unresolved());
            if left > 0 {
                m.info(format!(
                    "{left} conflict(s) keep ours until you take a side (M reopens the list); Ctrl-S saves"
                ));
            } else {
                m.info("every conflict is settled: Ctrl-S saves the merge");
            }
        }
        _ => {}
    }
    vec![]
}

/// Puts the chosen side's value at the selected conflict's place.
fn take(m: &mut Model, which: Which) {
    let Some(mg) = m.merge.as_mut() else { return };
    let Some(conflict) = mg.conflicts.get_mut(mg.cursor) else {
        return;
    };
    if conflict.sides[side_index(which)].is_none() && conflict.sides.iter().all(Option::is_none) {
        return;
    }
    let (change, keep) = conflict.take(which);
    let place = conflict.place.clone();
    let Source::Doc(doc) = &mut m.source else {
        return;
    };
    match doc.reapply(change, keep) {
        Ok(()) => {
            conflict.choice = Some(which);
            let next = mg
                .conflicts
                .iter()
                .position(|c| c.choice.is_none())
                .unwrap_or(mg.cursor);
            mg.cursor = next;
            m.rebuild_rows();
            m.info(format!("{place}: took {}", which.name()));
        }
        Err(e) => m.error(format!("{place}: could not take {}: {e}", which.name())),
    }
}

/// After a save: a merged file may now be staged.
pub fn saved(m: &mut Model) {
    if let Some(mg) = m.merge.as_mut()
        && !mg.saved
    {
        mg.saved = true;
        m.mode = Mode::Confirm(Confirm::Stage);
    }
}

/// The result of staging.
pub fn staged(m: &mut Model, result: Result<(), String>) {
    m.mode = Mode::Normal;
    match result {
        Ok(()) => {
            let path = m.merge.take().map(|mg| mg.git_path).unwrap_or_default();
            m.info(format!(
                "saved and staged {path}: the merge can be committed"
            ));
        }
        Err(e) => m.error(format!("saved, but not staged: {e}")),
    }
}
