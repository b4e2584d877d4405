//! Pop-ups drawn over the panes: help (from the keymap), recipients, questions, the review
//! before saving, the file-changed-on-disk question and the MAC warning.

use crate::tui::model::{Confirm, HelpView, Model, Palette, ReloadReport, SaveReview};
use crate::tui::theme::Theme;
use crate::tui::view::tree::{CHANGED, ENCRYPTED, PLAIN};
use crate::tui::view::{Button, centered};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn popup(
    f: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    theme: &Theme,
    style: Style,
) {
    popup_with(f, area, title, lines, &[], theme, style);
}

/// A button on an overlay: clicking it presses `key`, so a click and the key always do the
/// same thing.
pub struct Choice {
    pub key: KeyCode,
    pub label: &'static str,
}

/// `Choice { key, label }` for a character key.
pub const fn choice(key: char, label: &'static str) -> Choice {
    Choice {
        key: KeyCode::Char(key),
        label,
    }
}

impl Choice {
    fn text(&self) -> String {
        let key = match self.key {
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            other => format!("{other:?}"),
        };
        format!("[{key} {}]", self.label)
    }
}

/// A pop-up with `lines`, and `choices` as a row of buttons along its bottom edge (after the
/// lines, which give way first where the screen is short). Returns where the buttons are.
pub fn popup_with(
    f: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    choices: &[Choice],
    theme: &Theme,
    style: Style,
) -> Vec<Button> {
    const GAP: u16 = 2;
    let labels: Vec<String> = choices.iter().map(Choice::text).collect();
    let row_width = labels
        .iter()
        .map(|l| l.chars().count() as u16 + GAP)
        .sum::<u16>();
    let w = lines
        .iter()
        .map(|l| l.width() as u16 + 4)
        .max()
        .unwrap_or(20)
        .max(row_width + 2)
        .max(title.chars().count() as u16 + 6)
        .min(area.width.saturating_sub(2));
    let button_rows = u16::from(!choices.is_empty());
    let h = (lines.len() as u16 + 2 + button_rows).min(area.height);
    let rect = centered(area, w, h);
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style))
        .style(theme.text);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let text_area = Rect {
        height: inner.height.saturating_sub(button_rows),
        ..inner
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
    if choices.is_empty() || inner.height == 0 {
        return Vec::new();
    }
    let y = inner.y + inner.height - 1;
    let mut x = inner.x;
    let mut buttons = Vec::new();
    for (choice, label) in choices.iter().zip(labels) {
        let width = (label.chars().count() as u16).min((inner.x + inner.width).saturating_sub(x));
        if width == 0 {
            break;
        }
        let at = Rect::new(x, y, width, 1);
        f.render_widget(Paragraph::new(Span::styled(label, theme.selection)), at);
        buttons.push(Button {
            area: at,
            key: KeyEvent::new(choice.key, KeyModifiers::NONE),
        });
        x = x.saturating_add(width + GAP);
    }
    buttons
}

fn text(s: impl Into<String>, style: Style) -> Line<'static> {
    Line::from(Span::styled(s.into(), style))
}

fn keys_hint(theme: &Theme, s: &str) -> Line<'static> {
    text(s.to_string(), theme.muted)
}

/// The keys of the screen the help was opened from: two columns where the terminal is wide
/// enough (the left as wide as its longest line, so the right stays aligned), one below that;
/// scrolled when it does not fit, saying so.
pub fn help(m: &Model, view: HelpView, theme: &Theme, f: &mut Frame, area: Rect) -> Vec<Button> {
    let (title, entries) = if view.key_manager {
        ("Help: key manager", &m.help.key_manager)
    } else {
        ("Help", &m.help.tree)
    };
    let keys_width = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let entry = |(keys, what): &(String, &'static str), pad: usize| {
        vec![
            Span::styled(format!("{keys:<keys_width$} "), theme.key),
            Span::styled(format!("{what:<pad$}"), theme.text),
        ]
    };
    let what_width = |list: &[(String, &'static str)]| {
        list.iter()
            .map(|(_, what)| what.chars().count())
            .max()
            .unwrap_or(0)
    };
    let two_columns = 2 * (keys_width + 1 + what_width(entries)) + 6 <= area.width as usize;
    let mut lines = Vec::new();
    if two_columns {
        let half = entries.len().div_ceil(2);
        let width = what_width(&entries[..half]);
        for i in 0..half {
            let mut spans = entry(&entries[i], width);
            if let Some(right) = entries.get(half + i) {
                spans.push(Span::raw("  "));
                spans.extend(entry(right, 0));
            }
            lines.push(Line::from(spans));
        }
    } else {
        lines.extend(entries.iter().map(|e| Line::from(entry(e, 0))));
    }
    if !view.key_manager {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(format!("{ENCRYPTED} "), theme.encrypted),
            Span::raw("encrypted  "),
            Span::styled(format!("{PLAIN} "), theme.plain),
            Span::raw("plain by the rule  "),
            Span::styled(format!("{CHANGED} "), theme.changed),
            Span::raw("changed"),
        ]));
    }
    // Borders and the button row take three rows; when it scrolls, a line says where it is.
    let total = lines.len();
    let fits = (area.height as usize).saturating_sub(3);
    let room = if total > fits {
        fits.saturating_sub(1)
    } else {
        fits
    }
    .max(1);
    let scroll = view.scroll.min(total.saturating_sub(room));
    let mut shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).take(room).collect();
    if total > room {
        let hint = format!(
            "lines {}–{} of {total} · ↑↓ PgUp PgDn scroll · Esc, q or ? closes",
            scroll + 1,
            scroll + shown.len()
        );
        shown.push(keys_hint(theme, &hint));
    }
    let close = Choice {
        key: KeyCode::Esc,
        label: "Close",
    };
    popup_with(f, area, title, shown, &[close], theme, theme.key)
}

pub fn confirm(m: &Model, c: &Confirm, theme: &Theme, f: &mut Frame, area: Rect) -> Vec<Button> {
    let (title, question) = match c {
        Confirm::Delete(addr) => {
            let holds = match m.item(addr).and_then(|i| i.node()) {
                Some(crate::tree::Node::Map(map)) => {
                    format!(" (a map of {} keys)", map.entries().count())
                }
                Some(crate::tree::Node::List(list)) => {
                    format!(" (a list of {} items)", list.values().count())
                }
                _ => String::new(),
            };
            ("Delete", format!("Delete {}{holds} ?", m.path_text(addr)))
        }
        Confirm::QuitUnsaved if m.merge.as_ref().is_some_and(|mg| !mg.saved) => (
            "Quit",
            "Quit without saving the merge? The file stays as Git left it.".to_string(),
        ),
        Confirm::QuitUnsaved => (
            "Quit",
            format!(
                "Quit without saving {} change(s)?",
                m.history.since_save().0.len() + m.key_manager.plan.labels().len()
            ),
        ),
        Confirm::EditDocument => (
            "Edit in $EDITOR",
            format!(
                "Edit the whole document in $EDITOR? Its decrypted text goes into a temp file \
                 in a private folder {}, overwritten and removed when the editor returns. \
                 Values you leave alone keep their encryption.",
                crate::tui::external::temp_place()
            ),
        ),
        Confirm::EditAgain(why) => (
            "Edited document",
            format!(
                "The edited text cannot be taken: {why}. Edit it again? No discards it and \
                 nothing changes."
            ),
        ),
        Confirm::Stage => (
            "Stage",
            format!(
                "Saved the merge of {}. Stage it in Git (git add) so the merge can be committed?",
                m.merge
                    .as_ref()
                    .map_or("the file", |mg| mg.git_path.as_str())
            ),
        ),
    };
    let lines = vec![
        text(question, theme.text),
        Line::default(),
        keys_hint(theme, "Enter or Esc: no"),
    ];
    let choices = match c {
        Confirm::EditAgain(_) => [choice('y', "Edit again"), choice('n', "Discard")],
        _ => [choice('y', "Yes"), choice('n', "No")],
    };
    popup_with(f, area, title, lines, &choices, theme, theme.warning)
}

/// `[s string] [i int] …` from the types' own keys.
fn type_choices() -> Vec<Choice> {
    let mut choices: Vec<Choice> = crate::edit::value::ValueKind::ALL
        .iter()
        .map(|k| choice(k.key().0, k.key().1))
        .collect();
    choices.push(Choice {
        key: KeyCode::Esc,
        label: "cancel",
    });
    choices
}

pub fn change_type(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) -> Vec<Button> {
    let addr = m.selected_addr().unwrap_or_default();
    let now = m
        .item(&addr)
        .and_then(|i| i.node())
        .and_then(|n| n.as_scalar())
        .map(|s| s.type_name())
        .unwrap_or("?");
    let lines = vec![
        text(
            format!("{} is a {now} value.", m.path_text(&addr)),
            theme.text,
        ),
        text("Change it to:", theme.text),
    ];
    popup_with(
        f,
        area,
        "Change type",
        lines,
        &type_choices(),
        theme,
        theme.key,
    )
}

pub fn review_save(
    m: &Model,
    review: &SaveReview,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) -> Vec<Button> {
    let (steps, older) = m.history.since_save();
    let mut lines = vec![text(
        format!(
            "Save these changes to {}? (values stay masked)",
            m.file.name
        ),
        theme.text,
    )];
    lines.push(Line::default());
    let room = area.height.saturating_sub(8) as usize;
    match &review.net {
        // The net result: one line per value and recipient that ends up different.
        Some(net) => {
            if net.is_empty() {
                lines.push(text(
                    "The edits cancel out: the values are as saved (the MAC and date are renewed).",
                    theme.muted,
                ));
            }
            for (mark, place, what) in net.iter().take(room) {
                let style = if what.contains("PLAIN TEXT") {
                    theme.error
                } else {
                    theme.changed
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark} "), style),
                    Span::styled(format!("{place}  "), theme.key),
                    Span::styled(what.clone(), theme.text),
                ]));
            }
            if net.len() > room {
                lines.push(text(
                    format!("… and {} more", net.len() - room),
                    theme.muted,
                ));
            }
        }
        // No baseline: the edits as they were made.
        None => {
            let labels: Vec<String> = steps
                .iter()
                .map(|s| s.label.clone())
                .chain(
                    m.key_manager
                        .plan
                        .labels()
                        .iter()
                        .map(|l| format!("keys: {l}")),
                )
                .collect();
            for label in labels.iter().take(room) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{CHANGED} "), theme.changed),
                    Span::styled(label.clone(), theme.text),
                ]));
            }
            if labels.len() > room {
                lines.push(text(
                    format!("… and {} more", labels.len() - room),
                    theme.muted,
                ));
            }
            if older {
                lines.push(text("(and changes undone past the last save)", theme.muted));
            }
        }
    }
    if m.disk_changed {
        lines.push(text(
            "The file changed on disk since it was opened: you will be asked before it is overwritten.",
            theme.warning,
        ));
    }
    lines.push(Line::default());
    if !review.exposed.is_empty() {
        lines.push(text(
            format!(
                "{} value{} will be stored in PLAIN TEXT although encrypted before:",
                review.exposed.len(),
                if review.exposed.len() == 1 { "" } else { "s" }
            ),
            theme.error,
        ));
        for path in review.exposed.iter().take(3) {
            lines.push(text(format!("  {path}"), theme.error));
        }
        if review.exposed.len() > 3 {
            lines.push(text(
                format!("  … and {} more", review.exposed.len() - 3),
                theme.error,
            ));
        }
    }
    if let Some(why) = &review.lockout {
        lines.push(text(format!("Lockout: {why}"), theme.error));
    }
    lines.push(text(
        if m.key_manager.plan.rotates() {
            "A new data key: every value is encrypted again."
        } else if review.exposed.is_empty() {
            "Changed values get a fresh encryption; all others keep their ciphertext."
        } else {
            "Other changed values get a fresh encryption; the rest keep their ciphertext."
        },
        theme.muted,
    ));
    let choices = if review.is_risky() {
        lines.push(keys_hint(theme, "Saving asks you to type yes."));
        [choice('y', "Save anyway"), choice('n', "Back")]
    } else {
        [choice('y', "Save"), choice('n', "Back")]
    };
    popup_with(
        f,
        area,
        "Review before saving",
        lines,
        &choices,
        theme,
        theme.key,
    )
}

pub fn conflict(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) -> Vec<Button> {
    let lines = vec![
        text(
            format!("{} changed on disk since it was opened.", m.file.name),
            theme.warning,
        ),
        text(
            "Saving now would overwrite someone else's changes.",
            theme.text,
        ),
        text(
            "Reload keeps your edits where the disk did not change them.",
            theme.muted,
        ),
    ];
    let choices = [
        choice('r', "Reload"),
        choice('o', "Overwrite"),
        Choice {
            key: KeyCode::Esc,
            label: "Cancel",
        },
    ];
    popup_with(
        f,
        area,
        "File changed on disk",
        lines,
        &choices,
        theme,
        theme.warning,
    )
}

pub fn reloaded(
    m: &Model,
    report: &ReloadReport,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) -> Vec<Button> {
    let mut lines = vec![text(
        format!(
            "{} was reloaded from disk. {} of your unsaved changes carried over.",
            m.file.name, report.kept
        ),
        theme.text,
    )];
    lines.push(text(
        "These could not be kept (the version on disk stays):",
        theme.warning,
    ));
    let room = area.height.saturating_sub(7) as usize;
    for d in report.dropped.iter().take(room) {
        lines.push(text(format!("  ✗ {d}"), theme.text));
    }
    if report.dropped.len() > room {
        lines.push(text(
            format!("  … and {} more", report.dropped.len() - room),
            theme.muted,
        ));
    }
    lines.push(keys_hint(
        theme,
        "Afterwards u undoes a carried-over change.",
    ));
    popup_with(
        f,
        area,
        "Reloaded",
        lines,
        &[CONTINUE],
        theme,
        theme.warning,
    )
}

/// The button of a notice.
const CONTINUE: Choice = Choice {
    key: KeyCode::Enter,
    label: "Continue",
};

pub fn mac_warning(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) -> Vec<Button> {
    if let crate::tui::model::Source::Doc(d) = &m.source
        && !d.damaged().is_empty()
    {
        return damaged_warning(m, d.damaged(), theme, f, area);
    }
    // A mismatch names two hashes, which help nobody here; other problems are worth showing.
    let problem = match &m.source {
        crate::tui::model::Source::Doc(d) => d
            .mac_problem()
            .filter(|p| !p.starts_with("MAC mismatch"))
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    };
    let mut lines = vec![text(
        "The file's MAC does not match its content.",
        theme.error,
    )];
    if !problem.is_empty() {
        lines.push(text(problem, theme.muted));
    }
    lines.extend([
        Line::default(),
        text(
            "It was changed outside sops (tampering or a bad merge).",
            theme.text,
        ),
    ]);
    if m.read_only.is_some() {
        lines.push(text(
            "Opened read-only. Restore it from version control, or pass",
            theme.text,
        ));
        lines.push(text(
            "--ignore-mac if you trust it and want to edit and save it.",
            theme.text,
        ));
    } else {
        lines.push(text(
            "Opened with --ignore-mac: a save writes a new MAC.",
            theme.warning,
        ));
    }
    lines.push(Line::default());
    popup_with(
        f,
        area,
        "MAC mismatch",
        lines,
        &[CONTINUE],
        theme,
        theme.error,
    )
}

/// Values that do not decrypt: which, and what to do.
fn damaged_warning(
    m: &Model,
    damaged: &[crate::crypto::walk::DamagedValue],
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) -> Vec<Button> {
    let n = damaged.len();
    let mut lines = vec![text(
        if n == 1 {
            "A value does not decrypt with this file's data key:".to_string()
        } else {
            format!("{n} values do not decrypt with this file's data key:")
        },
        theme.error,
    )];
    const SHOWN: usize = 5;
    for d in damaged.iter().take(SHOWN) {
        let addr = crate::edit::ops::Addr::new(d.doc, d.items.clone());
        lines.push(text(format!("  ✗ {}", m.path_text(&addr)), theme.key));
    }
    if n > SHOWN {
        lines.push(text(format!("  … and {} more", n - SHOWN), theme.muted));
    }
    lines.extend([
        Line::default(),
        text(
            "Their stored text was changed outside sops (tampering, a bad",
            theme.text,
        ),
        text(
            "merge, or a value copied from another file). The rest of the",
            theme.text,
        ),
        text(
            "file is shown read-only, the damaged values marked ✗. Restore",
            theme.text,
        ),
        text(
            "them from version control, then reopen (R reloads).",
            theme.text,
        ),
        Line::default(),
    ]);
    popup_with(
        f,
        area,
        "Values do not decrypt",
        lines,
        &[CONTINUE],
        theme,
        theme.error,
    )
}

/// The command palette: the query, then the matching actions with their keys, the selected
/// one highlighted.
pub fn palette(m: &Model, p: &Palette, theme: &Theme, f: &mut Frame, area: Rect) {
    let query = p.area.lines().join("");
    let found = crate::tui::update::palette_matches(m, &query);
    let w = area.width.saturating_sub(4).min(76);
    let rows = (area.height as usize).saturating_sub(6).max(1);
    let h = (found.len().min(rows) as u16 + 5).min(area.height);
    let rect = centered(area, w, h);
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.key)
        .title(Span::styled(" Command palette ", theme.key))
        .title_bottom(Span::styled(
            " ↑↓ select · Enter runs · Esc closes · [\"a\"][\"b\"] jumps to a key ",
            theme.muted,
        ))
        .style(theme.text);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let input = Rect { height: 1, ..inner };
    f.render_widget(&p.area, input);
    let selected = p.selected.min(found.len().saturating_sub(1));
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let keys_width = found
        .iter()
        .map(|e| e.keys.chars().count())
        .max()
        .unwrap_or(0)
        .max(3);
    let mut lines = vec![Line::default()];
    if found.is_empty() {
        lines.push(text(
            "no action matches; a key path jumps there",
            theme.muted,
        ));
    }
    for (i, e) in found.iter().enumerate().skip(first).take(rows) {
        let style = if i == selected {
            theme.selection
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<keys_width$}  ", e.keys), theme.key),
            Span::styled(format!("{:<20} ", e.name.replace('_', " ")), style),
            Span::styled(e.help.to_string(), theme.muted),
        ]));
    }
    let list = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    f.render_widget(Paragraph::new(lines), list);
}
