//! The value editor (a text area over the panes) and one-line prompts.

use crate::tui::model::{EditState, Model, Prompt};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear};

pub fn draw_editor(m: &Model, state: &EditState, theme: &Theme, f: &mut Frame, area: Rect) {
    let crate::tui::model::EditTarget::Value(addr) = &state.target;
    let lines = state.area.lines().len() as u16;
    let h = (lines + 4).clamp(5, area.height.saturating_sub(2).max(5));
    let w = area.width.saturating_sub(8).max(20);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + area.height.saturating_sub(h) / 2,
        width: w.min(area.width),
        height: h.min(area.height),
    };
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.key)
        .title(Span::styled(
            format!(
                " Edit {} ({}) ",
                m.path_text(addr),
                state.kind.map_or("type from the text", |k| k.name())
            ),
            theme.key,
        ))
        .title_bottom(Span::styled(
            " Enter commit · Alt-Enter new line · Ctrl-S commit all lines · Esc cancel ",
            theme.muted,
        ));
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    f.render_widget(&state.area, inner);
}

pub fn draw_prompt(prompt: &Prompt, theme: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(8).clamp(20, 70);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + area.height.saturating_sub(3) / 2,
        width: w.min(area.width),
        height: 3.min(area.height),
    };
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.key)
        .title(Span::styled(
            format!(" {} ", prompt.purpose.label()),
            theme.key,
        ))
        .title_bottom(Span::styled(" Enter ok · Esc cancel ", theme.muted));
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    f.render_widget(&prompt.area, inner);
}
