//! The detail pane: the selected item's path, type, encryption (and the rule that decided it),
//! its value when revealed, and the file: format, recipients, state.

use crate::edit::ops::{self, Addr, ItemRef};
use crate::keys::KeyKind;
use crate::metadata::Metadata;
use crate::path::Step;
use crate::rules::{RuleKind, Selector};
use crate::tree::{Node, Scalar};
use crate::tui::model::{Model, Source};
use crate::tui::rows::RowKind;
use crate::tui::theme::Theme;
use crate::tui::view::MASK;
use crate::tui::view::tree::shown_value;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// "1 group: age ×2" and the like.
pub fn recipients_summary(md: &Metadata) -> String {
    let groups = md.key_groups.len();
    let mut counts: Vec<(KeyKind, usize)> = Vec::new();
    for key in md.all_keys() {
        match counts.iter_mut().find(|(k, _)| *k == key.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((key.kind, 1)),
        }
    }
    let kinds: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{} ×{n}", k.field()))
        .collect();
    let mut s = format!(
        "{groups} group{}: {}",
        if groups == 1 { "" } else { "s" },
        kinds.join(", ")
    );
    if groups > 1 {
        s.push_str(&format!(" (threshold {})", md.shamir_threshold));
    }
    s
}

pub fn draw(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Details ", theme.key));
    let mut lines: Vec<Line> = Vec::new();
    let field = |name: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!("{name:<10}"), theme.muted),
            Span::styled(value, style),
        ])
    };
    let row = m.rows.get(m.cursor).copied();
    if let (Some(row), Some(addr)) = (row, m.selected_addr()) {
        lines.push(field("Path", m.path_text(&addr), theme.key));
        let item = m.item(&addr);
        lines.push(field("Type", type_text(item.as_ref()), theme.text));
        if row.kind == RowKind::Leaf && m.is_damaged(&addr) {
            lines.push(field(
                "Stored",
                "encrypted, but it DOES NOT DECRYPT with this file's data key".into(),
                theme.error,
            ));
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                "The stored text was changed outside sops (tampering, a bad merge, or a \
                 value copied from another file). The file is read-only: restore this value \
                 from version control (git restore -p) or ask whoever wrote it to set it again.",
                theme.text,
            )));
        } else if matches!(row.kind, RowKind::Leaf | RowKind::Comment) {
            let why = why_text(m, &addr, row.encrypted, item.as_ref());
            let style = if row.encrypted {
                theme.encrypted
            } else {
                theme.plain
            };
            lines.push(field("Stored", why, style));
            let changed = m.history.touched(&addr);
            lines.push(field(
                "Changed",
                if changed { "yes, not saved yet" } else { "no" }.into(),
                if changed { theme.changed } else { theme.text },
            ));
            if let Some(a) = &m.against {
                let kind = m
                    .docs()
                    .get(addr.doc)
                    .and_then(|d| crate::edit::ops::tree_path(d, &addr.items))
                    .and_then(|p| a.mark(addr.doc, &p));
                lines.push(field(
                    "Since",
                    format!(
                        "{}: {}",
                        a.rev,
                        kind.map_or("unchanged".into(), |k| k.describe())
                    ),
                    if kind.is_some() {
                        theme.changed
                    } else {
                        theme.text
                    },
                ));
            }
            lines.push(Line::default());
            lines.extend(value_lines(m, &addr, row.encrypted, item.as_ref(), theme));
        }
        lines.push(Line::default());
    }
    let md = m.source.metadata();
    lines.push(field(
        "File",
        format!("{} ({})", m.file.name, m.file.format.name()),
        theme.text,
    ));
    lines.push(field("Keys", recipients_summary(md), theme.text));
    lines.push(field("Rule", rule_text(md), theme.text));
    lines.push(field("Modified", md.lastmodified.clone(), theme.text));
    let (state, style) = match (&m.read_only, m.dirty()) {
        (Some(why), _) => (format!("read-only: {why}"), theme.warning),
        (None, true) if m.merge.as_ref().is_some_and(|mg| !mg.saved) => (
            match m.merge.as_ref().map_or(0, |mg| mg.unresolved()) {
                0 => "Git merge, not saved yet".to_string(),
                n => format!("Git merge, not saved; {n} conflict(s) unsettled (M)"),
            },
            theme.changed,
        ),
        (None, true) => (
            format!("{} unsaved change(s)", m.history.since_save().0.len()),
            theme.changed,
        ),
        (None, false) => ("no unsaved changes".into(), theme.text),
    };
    lines.push(field("State", state, style));
    if m.disk_changed {
        lines.push(field("Disk", "changed since opened".into(), theme.warning));
    }
    if let Some(a) = &m.against {
        lines.push(Line::default());
        lines.push(field(
            "Against",
            format!("{}: {}", a.rev, a.summary),
            theme.text,
        ));
        for r in &a.removed {
            lines.push(field("Removed", r.clone(), theme.changed));
        }
        for k in &a.keys {
            lines.push(field("Keys", k.clone(), theme.changed));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn type_text(item: Option<&ItemRef<'_>>) -> String {
    match item.and_then(|i| i.node()) {
        Some(Node::Map(m)) => format!("map, {} keys", m.entries().count()),
        Some(Node::List(l)) => format!("list, {} items", l.values().count()),
        Some(Node::Leaf(l)) => l.value.type_name().into(),
        None => "comment".into(),
    }
}

fn rule_text(md: &Metadata) -> String {
    let rule = md.effective_rule();
    let default = if md.rule.is_none() { " (default)" } else { "" };
    format!("{} {:?}{default}", rule.kind.field(), rule.pattern)
}

/// Why the item is stored encrypted or in clear.
fn why_text(m: &Model, addr: &Addr, encrypted: bool, item: Option<&ItemRef<'_>>) -> String {
    let state = if encrypted { "encrypted" } else { "plain" };
    if let Source::Review { .. } = m.source {
        return format!("{state} (as stored in the file)");
    }
    if let Some(Node::Leaf(l)) = item.and_then(|i| i.node())
        && matches!(l.value, Scalar::Null)
    {
        return "plain: null values are never encrypted".into();
    }
    let md = m.source.metadata();
    let rule = md.effective_rule();
    let what = rule.kind.field();
    let pat = &rule.pattern;
    if matches!(
        rule.kind,
        RuleKind::EncryptedCommentRegex | RuleKind::UnencryptedCommentRegex
    ) {
        return format!("{state}, by {what} {pat:?} (the comments above it)");
    }
    let selector = Selector::new(&rule);
    let doc = &m.docs()[addr.doc];
    let keys: Vec<String> = ops::tree_path(doc, &addr.items)
        .map(|p| {
            p.0.into_iter()
                .filter_map(|s| match s {
                    Step::Key(k) => Some(k),
                    Step::Index(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let verb = match rule.kind {
        RuleKind::UnencryptedSuffix | RuleKind::EncryptedSuffix => "ends with",
        _ => "matches",
    };
    match keys.iter().find(|k| selector.key_matches(k)) {
        Some(k) => format!("{state}: key {k:?} {verb} {pat:?} ({what})"),
        None => format!("{state}: no key on its path {verb} {pat:?} ({what})"),
    }
}

fn value_lines(
    m: &Model,
    addr: &Addr,
    encrypted: bool,
    item: Option<&ItemRef<'_>>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if !m.is_revealed(addr) {
        return vec![Line::from(vec![
            Span::styled("Value     ", theme.muted),
            Span::styled(MASK, theme.text),
            Span::styled("  (Space reveals)", theme.muted),
        ])];
    }
    let text = match item {
        Some(ItemRef::Comment(c)) => c.text.to_lossy().into_owned(),
        Some(i) => match i.node() {
            Some(Node::Leaf(l)) => {
                let no_key = matches!(m.source, Source::Review { .. }) && encrypted;
                if no_key || matches!(l.value, Scalar::Null) {
                    shown_value(m, &l.value, encrypted)
                } else {
                    crate::edit::value::text_of(&l.value)
                        .to_lossy()
                        .into_owned()
                }
            }
            _ => String::new(),
        },
        None => String::new(),
    };
    let mut out = vec![Line::from(Span::styled("Value", theme.muted))];
    out.extend(
        text.split('\n')
            .map(|l| Line::from(Span::styled(l.to_string(), theme.text))),
    );
    out
}
