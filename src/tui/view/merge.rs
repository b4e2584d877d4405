//! The conflict screen: each place a Git merge left in conflict, with base, ours and theirs
//! (masked until Space), and which side was taken.

use crate::edit::value::text_of;
use crate::tree::Node;
use crate::tui::model::Model;
use crate::tui::theme::Theme;
use crate::tui::view::MASK;
use crate::tui::view::overlay::popup;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// How one side's value reads on the screen.
fn shown(node: Option<&Node>, revealed: bool) -> String {
    match node {
        None => "(absent)".into(),
        Some(Node::Leaf(leaf)) if revealed => format!("{:?}", text_of(&leaf.value).to_lossy()),
        Some(Node::Leaf(leaf)) => format!("{MASK}  ({})", leaf.value.type_name()),
        Some(Node::Map(map)) => format!("{{{} keys}}", map.entries().count()),
        Some(Node::List(list)) => format!("[{} items]", list.values().count()),
    }
}

pub fn draw(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(mg) = &m.merge else { return };
    let mut lines: Vec<Line<'static>> = Vec::new();
    for w in &mg.warnings {
        lines.push(Line::from(Span::styled(format!("⚠ {w}"), theme.warning)));
    }
    for c in &mg.metadata_conflicts {
        lines.push(Line::from(Span::styled(
            format!("⚠ keys: {c} (ours kept; change it in the key manager, K)"),
            theme.warning,
        )));
    }
    // Each conflict takes 4 lines when selected, 1 otherwise; keep the selected one in view.
    let room = (area.height as usize)
        .saturating_sub(lines.len() + 6)
        .max(4);
    let first = mg.cursor.saturating_sub(room.saturating_sub(4));
    for (i, c) in mg.conflicts.iter().enumerate().skip(first).take(room) {
        let chosen = match c.choice {
            Some(which) => format!("took {}", which.name()),
            None => "unsettled (holds ours)".into(),
        };
        let selected = i == mg.cursor;
        let marker = if selected { "▸ " } else { "  " };
        let style = if c.choice.is_some() {
            theme.text
        } else {
            theme.warning
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{}", c.place), style),
            Span::styled(format!("   {chosen}"), theme.muted),
        ]));
        if selected {
            for (name, side) in ["base", "ours", "theirs"].iter().zip(&c.sides) {
                lines.push(Line::from(vec![
                    Span::styled(format!("      {name:<7}"), theme.key),
                    Span::styled(shown(side.as_ref(), mg.revealed), theme.text),
                ]));
            }
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "o ours · t theirs · b base · Space reveal · ↑↓ move · Enter back to the tree (edit there)",
        theme.muted,
    )));
    let title = format!(
        "Merge conflicts in {}: {} of {} unsettled",
        m.file.name,
        mg.unresolved(),
        mg.conflicts.len()
    );
    popup(f, area, &title, lines, theme, theme.warning);
}
