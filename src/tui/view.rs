//! `view(&Model, &Theme, &mut Frame)`: draws the editor from the model and nothing else.
//! Title bar, tree pane, detail pane and status line, with the current mode's overlay on top.

mod blame;
mod detail;
mod editor;
mod key_manager;
mod merge;
pub(crate) mod overlay;
mod tree;

use crate::tui::model::{Level, Mode, Model, Source};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// A value shown masked: always this wide, so the mask says nothing about the length.
pub const MASK: &str = "••••••••";

/// A place on screen where a click is a key press (a button on an overlay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Button {
    pub area: Rect,
    pub key: crossterm::event::KeyEvent,
}

/// The buttons of the frame last drawn.
#[derive(Clone, Debug, Default)]
pub struct Buttons(pub Vec<Button>);

impl Buttons {
    /// The key of the button at a screen position.
    pub fn key_at(&self, x: u16, y: u16) -> Option<crossterm::event::KeyEvent> {
        self.0
            .iter()
            .find(|b| b.area.contains(ratatui::layout::Position { x, y }))
            .map(|b| b.key)
    }
}

/// Draws the whole screen; returns where its buttons are.
pub fn view(m: &Model, theme: &Theme, f: &mut Frame) -> Buttons {
    let area = f.area();
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    title_bar(m, theme, f, title);
    let tree_width = crate::tui::model::tree_width(body.width);
    let [left, right] =
        Layout::horizontal([Constraint::Length(tree_width), Constraint::Min(0)]).areas(body);
    if m.on_key_manager() {
        key_manager::draw(m, theme, f, body);
    } else {
        tree::draw(m, theme, f, left);
        if right.width > 0 {
            detail::draw(m, theme, f, right);
        }
    }
    status_line(m, theme, f, status);
    let none = Vec::new;
    Buttons(match &m.mode {
        Mode::Normal | Mode::KeyManager => none(),
        Mode::RulePreview(p) => key_manager::rule_preview(m, p, theme, f, body),
        Mode::Edit(state) => {
            editor::draw_editor(m, state, theme, f, body);
            none()
        }
        Mode::Prompt(prompt) => {
            editor::draw_prompt(prompt, theme, f, body);
            none()
        }
        Mode::Confirm(c) => overlay::confirm(m, c, theme, f, body),
        Mode::ChangeType => overlay::change_type(m, theme, f, body),
        Mode::Help(view) => overlay::help(m, *view, theme, f, body),
        Mode::Palette(p) => {
            overlay::palette(m, p, theme, f, body);
            none()
        }
        Mode::ReviewSave(r) => overlay::review_save(m, r, theme, f, body),
        Mode::Conflict => overlay::conflict(m, theme, f, body),
        Mode::MacWarning => overlay::mac_warning(m, theme, f, body),
        Mode::Reloaded(report) => overlay::reloaded(m, report, theme, f, body),
        Mode::Merge => {
            merge::draw(m, theme, f, body);
            none()
        }
        Mode::Blame(b) => {
            blame::draw(b, theme, f, body);
            none()
        }
    })
}

fn title_bar(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let state = if let Source::Review { .. } = m.source {
        "REVIEW (no key)".to_string()
    } else if m.read_only.is_some() {
        "READ-ONLY".to_string()
    } else if m.dirty() {
        "modified".to_string()
    } else {
        "saved".to_string()
    };
    let text = format!(
        " sesame │ {} │ {} │ {} │ {state}",
        m.file.name,
        m.file.format.name(),
        detail::recipients_summary(m.source.metadata()),
    );
    let mut spans = vec![Span::raw(text)];
    if m.disk_changed {
        spans.push(Span::styled(
            " │ CHANGED ON DISK (R reloads) ",
            theme.warning,
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(theme.title), area);
}

fn status_line(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let position = if m.on_key_manager() {
        format!(
            "{}/{}",
            m.key_manager.cursor + 1,
            m.key_manager.entries().len()
        )
    } else if m.rows.is_empty() {
        "0/0".to_string()
    } else {
        format!("{}/{}", m.cursor + 1, m.rows.len())
    };
    // A copied value's countdown stays in sight until the clipboard is cleared.
    let position = match &m.clip {
        Some(clip) => format!(
            "clipboard clears in {} s · {position}",
            crate::tui::privacy::seconds_left(clip.until, std::time::Instant::now())
        ),
        None => position,
    };
    let (style, text) = match &m.status {
        Some((Level::Error, t)) => (theme.error, t.clone()),
        Some((Level::Info, t)) => (theme.text, t.clone()),
        None if m.on_key_manager() => (
            theme.muted,
            "Changes are staged, then written together by Ctrl-S · Esc back to the tree"
                .to_string(),
        ),
        None => (
            theme.muted,
            "? help · Enter edit · Space reveal · / search · Ctrl-S save · q quit".to_string(),
        ),
    };
    let width = area.width as usize;
    // At least one space between the message and the position.
    let room = width.saturating_sub(position.chars().count() + 3);
    let shown: String = text.chars().take(room).collect();
    let pad = width.saturating_sub(shown.chars().count() + position.chars().count() + 1);
    let line = Line::from(vec![
        Span::styled(format!(" {shown}"), style),
        Span::raw(" ".repeat(pad.saturating_sub(1))),
        Span::styled(position, theme.muted),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// `key label · key label …` within `width`: the optional hints that fit (in order, so the
/// most used stay), then the ones that always show.
pub fn fitted_hints(optional: &[(&str, &str)], always: &[(&str, &str)], width: usize) -> String {
    let part = |(k, l): &(&str, &str)| format!("{k} {l}");
    let tail: Vec<String> = always.iter().map(part).collect();
    let mut shown: Vec<String> = Vec::new();
    let len = |v: &[String]| v.iter().map(|s| s.chars().count() + 3).sum::<usize>() + 1;
    for hint in optional.iter().map(part) {
        let mut trial = shown.clone();
        trial.push(hint);
        if len(&trial) + len(&tail) > width {
            break;
        }
        shown = trial;
    }
    shown.extend(tail);
    format!(" {} ", shown.join(" · "))
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
