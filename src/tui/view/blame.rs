//! The history screen: one line per commit that changed the value, the selected one's value
//! shown only when asked for.

use crate::edit::value::text_of;
use crate::tree::Node;
use crate::tui::blame::Blame;
use crate::tui::theme::Theme;
use crate::tui::view::MASK;
use crate::tui::view::overlay::popup;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(b: &Blame, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let room = (area.height as usize).saturating_sub(6).max(3);
    let first = b.cursor.saturating_sub(room.saturating_sub(1));
    for (i, e) in b.events.iter().enumerate().skip(first).take(room) {
        let selected = i == b.cursor;
        let date: String = e.commit.date.chars().take(10).collect();
        let stored = e.stored.clone().unwrap_or_else(|| "(removed)".into());
        let value = match b.shown.get(&i) {
            None => MASK.to_string(),
            Some(Ok(Some(Node::Leaf(l)))) => format!("{:?}", text_of(&l.value).to_lossy()),
            Some(Ok(Some(_))) => "(not a single value then)".into(),
            Some(Ok(None)) => "(absent)".into(),
            Some(Err(e)) => format!("cannot show: {e}"),
        };
        let style = if selected {
            theme.selection
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(if selected { "▸ " } else { "  " }.to_string(), style),
            Span::styled(format!("{date} {:.8} ", e.commit.id), theme.muted),
            Span::styled(format!("{:<12.12} ", e.commit.author), theme.key),
            Span::styled(format!("{:<28.28} ", e.commit.subject), style),
            Span::styled(format!("{stored:<16} "), theme.muted),
            Span::styled(value, theme.text),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "↑↓ move · Space show the value at that commit (needs its key) · Esc close",
        theme.muted,
    )));
    let title = format!("History of {}: {} change(s)", b.place, b.events.len());
    popup(f, area, &title, lines, theme, theme.key);
}
