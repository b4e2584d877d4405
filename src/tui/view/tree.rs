//! The tree pane: only the rows on screen are looked up and drawn. Each value row carries two
//! marks: `●` encrypted / `○` left plain by the file's rule, and `~` changed since the save.

use crate::edit::ops::ItemRef;
use crate::edit::value;
use crate::tree::{Node, Scalar};
use crate::tui::model::{Model, Source};
use crate::tui::rows::{Row, RowKind};
use crate::tui::theme::Theme;
use crate::tui::view::MASK;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Mark of a value the file stores encrypted.
pub const ENCRYPTED: &str = "●";
/// Mark of a value the file's rule leaves in clear.
pub const PLAIN: &str = "○";
/// Mark of a value changed since the last save.
pub const CHANGED: &str = "~";
/// Mark of a value that does not decrypt (tampered or damaged).
pub const DAMAGED: &str = "✗";
/// Shown in place of a value that does not decrypt.
pub const DAMAGED_TEXT: &str = "✗ does not decrypt";

pub fn draw(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Keys ", theme.key));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height as usize;
    let mut lines = Vec::with_capacity(height);
    for i in m.scroll..(m.scroll + height).min(m.rows.len()) {
        let Some(row) = m.rows.get(i) else { break };
        let mut line = row_line(m, theme, i, row, inner.width as usize);
        if i == m.cursor {
            line = line.patch_style(theme.selection);
            // The selection spans the pane, so it shows on short rows too.
            let used: usize = line.width();
            if used < inner.width as usize {
                line.spans.push(Span::styled(
                    " ".repeat(inner.width as usize - used),
                    theme.selection,
                ));
            }
        }
        lines.push(line);
    }
    if m.rows.is_empty() {
        lines.push(Line::from(Span::styled(
            "  (empty: press a to add a key)",
            theme.muted,
        )));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn row_line(m: &Model, theme: &Theme, i: usize, row: &Row, width: usize) -> Line<'static> {
    let indent = "  ".repeat(row.depth as usize);
    if row.kind == RowKind::Doc {
        let arrow = if row.collapsed { "▸" } else { "▾" };
        return Line::from(vec![
            Span::raw("   "),
            Span::styled(format!("{arrow} document {}", row.doc + 1), theme.key),
        ]);
    }
    let Some(addr) = m.rows.addr(i) else {
        return Line::default();
    };
    let Some(item) = m.item(&addr) else {
        return Line::default();
    };
    let leafy = matches!(row.kind, RowKind::Leaf | RowKind::Comment);
    let damaged = leafy && m.is_damaged(&addr);
    let enc_mark = if !leafy {
        Span::raw(" ")
    } else if damaged {
        Span::styled(DAMAGED, theme.error)
    } else if row.encrypted {
        Span::styled(ENCRYPTED, theme.encrypted)
    } else {
        Span::styled(PLAIN, theme.plain)
    };
    let since = m.against.as_ref().and_then(|a| {
        let path = crate::edit::ops::tree_path(m.docs().get(addr.doc)?, &addr.items)?;
        a.mark(addr.doc, &path)
    });
    let changed = if m.history.touched(&addr) {
        Span::styled(CHANGED, theme.changed)
    } else if let Some(kind) = since {
        let style = if *kind == crate::review::diff::ChangeKind::Exposed {
            theme.error
        } else {
            theme.changed
        };
        Span::styled(crate::tui::against::glyph(kind), style)
    } else {
        Span::raw(" ")
    };
    let mut spans = vec![enc_mark, changed, Span::raw(" "), Span::raw(indent)];
    let revealed = m.is_revealed(&addr);
    // A search match is marked on its key (a value that matched stays masked).
    let key_style = if m.search_hits.binary_search(&addr).is_ok() {
        theme
            .key
            .add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
    } else {
        theme.key
    };
    match (&item, row.kind) {
        (ItemRef::Comment(c), _) => {
            let text = if revealed {
                c.text.to_lossy().into_owned()
            } else {
                MASK.to_string()
            };
            spans.push(Span::styled(format!("#{text}"), theme.muted));
        }
        (_, RowKind::Map | RowKind::List) => {
            let arrow = if row.collapsed { "▸ " } else { "▾ " };
            spans.push(Span::styled(arrow, theme.muted));
            spans.push(label(&item, theme, key_style));
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            let summary = match item.node() {
                Some(Node::Map(map)) => {
                    format!("{{{}}}", plural(map.entries().count(), "key", "keys"))
                }
                Some(Node::List(l)) => format!("[{}]", plural(l.values().count(), "item", "items")),
                _ => String::new(),
            };
            spans.push(Span::styled(summary, theme.muted));
        }
        _ => {
            spans.push(Span::raw("  "));
            spans.push(label(&item, theme, key_style));
            let value = match item.node() {
                _ if damaged => DAMAGED_TEXT.to_string(),
                Some(Node::Leaf(leaf)) if revealed => shown_value(m, &leaf.value, row.encrypted),
                _ => MASK.to_string(),
            };
            let style = if damaged {
                theme.error
            } else if row.encrypted {
                theme.text
            } else {
                theme.plain
            };
            spans.push(Span::styled(value, style));
        }
    }
    let mut line = Line::from(spans);
    truncate(&mut line, width);
    line
}

fn label(item: &ItemRef<'_>, theme: &Theme, key_style: Style) -> Span<'static> {
    match item {
        ItemRef::Entry(e) => Span::styled(format!("{}: ", e.key), key_style),
        ItemRef::Node(_) => Span::styled("- ", theme.muted),
        ItemRef::Comment(_) => Span::raw(""),
    }
}

/// A revealed value on one line: its first line, with a sign when more follow.
pub fn shown_value(m: &Model, value: &Scalar, encrypted: bool) -> String {
    if let (Source::Review { .. }, true) = (&m.source, encrypted) {
        return "(encrypted; no key to reveal it)".into();
    }
    if matches!(value, Scalar::Null) {
        return "null".into();
    }
    let text = value::text_of(value);
    let text = text.to_lossy();
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("").to_string();
    if lines.next().is_some() {
        format!("{first} ↵…")
    } else {
        first
    }
}

fn truncate(line: &mut Line<'static>, width: usize) {
    let mut left = width;
    for span in &mut line.spans {
        let w = span.width();
        if w <= left {
            left -= w;
            continue;
        }
        let cut: String = span.content.chars().take(left.saturating_sub(1)).collect();
        span.content = format!("{cut}…").into();
        left = 0;
    }
    line.spans.retain(|s| !s.content.is_empty());
}
