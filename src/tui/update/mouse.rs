//! The mouse over the tree: a click selects, a second click on the same row edits.

use crate::tui::model::Model;
use crate::tui::update::edit;

/// The tree row under a screen position: the tree pane (see `tree_width`) below the title bar
/// and the pane's top border.
fn row_at(m: &Model, x: u16, y: u16) -> Option<usize> {
    let pane = crate::tui::model::tree_width(m.width);
    let top = 2;
    if x == 0 || x + 1 >= pane || y < top {
        return None;
    }
    let i = m.scroll + usize::from(y - top);
    (usize::from(y - top) < m.height && i < m.rows.len()).then_some(i)
}

/// A click selects the row under it; a second click on the same row soon after edits it (or
/// opens or closes a map or list), as a double click.
pub(super) fn click(m: &mut Model, x: u16, y: u16) {
    let Some(i) = row_at(m, x, y) else {
        return;
    };
    let now = std::time::Instant::now();
    let double = m
        .last_click
        .is_some_and(|(row, at)| row == i && now.duration_since(at).as_millis() < 500);
    m.cursor = i;
    m.clamp();
    if double {
        m.last_click = None;
        edit::start_edit(m);
    } else {
        m.last_click = Some((i, now));
    }
}
