//! Pop-ups drawn over the panes: help (from the keymap), recipients, questions, the review
//! before saving, the file-changed-on-disk question and the MAC warning.

use crate::tui::model::{Confirm, HelpView, Model, Palette, ReloadReport, SaveReview};
use crate::tui::theme::Theme;
use crate::tui::view::centered;
use crate::tui::view::tree::{CHANGED, ENCRYPTED, PLAIN};
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
    let w = lines
        .iter()
        .map(|l| l.width() as u16 + 4)
        .max()
        .unwrap_or(20)
        .max(title.chars().count() as u16 + 6)
        .min(area.width.saturating_sub(2));
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, w, h);
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style))
        .style(theme.text);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
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
pub fn help(m: &Model, view: HelpView, theme: &Theme, f: &mut Frame, area: Rect) {
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
    // Borders and the hint line take three rows.
    let room = (area.height as usize).saturating_sub(3).max(1);
    let total = lines.len();
    let scroll = view.scroll.min(total.saturating_sub(room));
    let mut shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).take(room).collect();
    let hint = if total > room {
        format!(
            "lines {}–{} of {total} · ↑↓ PgUp PgDn scroll · Esc, q or ? closes",
            scroll + 1,
            scroll + shown.len()
        )
    } else {
        "Esc, q or ? closes".to_string()
    };
    shown.push(keys_hint(theme, &hint));
    popup(f, area, title, shown, theme, theme.key);
}

pub fn confirm(m: &Model, c: &Confirm, theme: &Theme, f: &mut Frame, area: Rect) {
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
        keys_hint(theme, "y yes · n, Esc or Enter no"),
    ];
    popup(f, area, title, lines, theme, theme.warning);
}

/// `s string · i int · …` from the types' own keys.
fn type_keys() -> String {
    let mut parts: Vec<String> = crate::edit::value::ValueKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.key().0, k.key().1))
        .collect();
    parts.push("Esc cancel".into());
    parts.join(" · ")
}

pub fn change_type(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
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
        Line::default(),
        keys_hint(theme, &type_keys()),
    ];
    popup(f, area, "Change type", lines, theme, theme.key);
}

pub fn review_save(m: &Model, review: &SaveReview, theme: &Theme, f: &mut Frame, area: Rect) {
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
    lines.push(keys_hint(
        theme,
        if review.is_risky() {
            "y or Enter, then type yes: save anyway · n or Esc back"
        } else {
            "y or Enter save · n or Esc back"
        },
    ));
    popup(f, area, "Review before saving", lines, theme, theme.key);
}

pub fn conflict(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let lines = vec![
        text(
            format!("{} changed on disk since it was opened.", m.file.name),
            theme.warning,
        ),
        text(
            "Saving now would overwrite someone else's changes.",
            theme.text,
        ),
        Line::default(),
        keys_hint(
            theme,
            "r reload (keeps your edits the disk did not touch) · o overwrite · Esc cancel",
        ),
    ];
    popup(f, area, "File changed on disk", lines, theme, theme.warning);
}

pub fn reloaded(m: &Model, report: &ReloadReport, theme: &Theme, f: &mut Frame, area: Rect) {
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
    lines.push(Line::default());
    lines.push(keys_hint(
        theme,
        "Enter or Esc continues · u undoes a carried-over change",
    ));
    popup(f, area, "Reloaded", lines, theme, theme.warning);
}

pub fn mac_warning(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
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
    lines.push(keys_hint(theme, "Enter or Esc continues"));
    popup(f, area, "MAC mismatch", lines, theme, theme.error);
}

/// Values that do not decrypt: which, and what to do.
fn damaged_warning(
    m: &Model,
    damaged: &[crate::crypto::walk::DamagedValue],
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) {
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
        keys_hint(theme, "Enter or Esc continues"),
    ]);
    popup(f, area, "Values do not decrypt", lines, theme, theme.error);
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
