//! The key manager screen: the summary of who can decrypt, the data key's age, every group as
//! a box of recipients (type, identifier, date, whether this machine can use it), and the
//! staged changes. Also the preview of a `.sops.yaml` rule's keys.

use crate::keys::service::Availability;
use crate::keys::{Field, KeyKind, MasterKey};
use crate::tui::key_manager::{Entry, KeyFacts, RulePreview, key_id};
use crate::tui::model::Model;
use crate::tui::theme::Theme;
use crate::tui::view::tree::CHANGED;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The key manager's keys, most used first; `? help` and `Esc back` always show.
const FOOTER: &[(&str, &str)] = &[
    ("a", "add"),
    ("d", "remove"),
    ("n", "new group"),
    ("t", "threshold"),
    ("R", "rotate"),
    ("c", ".sops.yaml"),
    ("u", "unstage"),
];
const FOOTER_ALWAYS: &[(&str, &str)] = &[("?", "help"), ("Esc", "back")];

/// Draws the key manager over `area`.
pub fn draw(m: &Model, theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Key manager · {} ", m.file.name),
            theme.key,
        ))
        .title_bottom(Span::styled(
            crate::tui::view::fitted_hints(
                FOOTER,
                FOOTER_ALWAYS,
                (area.width as usize).saturating_sub(4),
            ),
            theme.muted,
        ));
    let mut inner = block.inner(area);
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    inner.x += 1;
    inner.width = inner.width.saturating_sub(2);
    let width = inner.width as usize;
    let (lines, cursor_line) = lines(m, theme, width);
    // Keep the selected entry (up to three lines) in view, from the top when possible.
    let height = inner.height as usize;
    let offset = (cursor_line + 3).saturating_sub(height);
    let shown: Vec<Line> = lines.into_iter().skip(offset).take(height).collect();
    f.render_widget(Paragraph::new(shown).style(theme.text), inner);
}

fn lines(m: &Model, theme: &Theme, width: usize) -> (Vec<Line<'static>>, usize) {
    let km = &m.key_manager;
    let plan = &km.plan;
    let mut out = Vec::new();
    let mut sentence = plan.who_can_decrypt();
    if let Some(first) = sentence.get(..1) {
        sentence = first.to_uppercase() + &sentence[1..];
    }
    out.push(Line::styled(format!("{sentence}."), theme.text));
    out.push(data_key_line(m, theme));
    out.push(Line::default());

    let selected = km.selected();
    let mut cursor_line = 0;
    for (g, group) in plan.groups().iter().enumerate() {
        let here = selected == Some(Entry::Group(g));
        if here {
            cursor_line = out.len();
        }
        let n = group.keys.len();
        let title = format!(
            "┌ {}Group {} · {n} key{} ",
            if here { "▸ " } else { "" },
            g + 1,
            if n == 1 { "" } else { "s" }
        );
        let rule = "─".repeat(width.saturating_sub(title.chars().count() + 1));
        let style = if here { theme.selection } else { theme.key };
        out.push(Line::from(vec![
            Span::styled(title, style),
            Span::styled(rule, theme.border),
        ]));
        for (i, key) in group.keys.iter().enumerate() {
            let here = selected == Some(Entry::Key(g, i));
            if here {
                cursor_line = out.len();
            }
            let new = plan.is_new(g, key);
            let name = km.names.name(&key.display());
            out.extend(key_lines(
                key,
                km.facts.get(&key_id(key)),
                name,
                new,
                here,
                theme,
            ));
        }
        out.push(Line::styled(
            format!("└{}", "─".repeat(width.saturating_sub(2))),
            theme.border,
        ));
    }
    out.push(Line::default());
    if plan.is_empty() {
        out.push(Line::styled(
            "No changes staged. Changes are staged here and written together on save.",
            theme.muted,
        ));
    } else {
        out.push(Line::styled(
            "Staged, written on save (Ctrl-S reviews them; u unstages the last):",
            theme.text,
        ));
        for (i, label) in plan.labels().iter().enumerate() {
            out.push(Line::from(vec![
                Span::styled(format!("  {CHANGED} {}. ", i + 1), theme.changed),
                Span::styled(label.clone(), theme.text),
            ]));
        }
    }
    (out, cursor_line)
}

fn data_key_line(m: &Model, theme: &Theme) -> Line<'static> {
    let km = &m.key_manager;
    if km.plan.rotates() {
        return Line::styled(
            "A new data key is staged: every value is encrypted again on save.",
            theme.changed,
        );
    }
    let md = m.source.metadata();
    match km.data_key_age(md) {
        Some(age) => {
            let date = crate::gotext::time_seconds(&age.created);
            let day = &date[..10.min(date.len())];
            let text = if age.estimate {
                format!("Data key ≥{} days old (estimated).", age.days)
            } else {
                format!("Data key {} days old (first committed {day}).", age.days)
            };
            let mut spans = vec![Span::styled(text, theme.text)];
            if age.rotation_due(km.rotate_after_days) {
                spans.push(Span::styled(
                    format!(
                        " Over {} days: rotating it is suggested (R).",
                        km.rotate_after_days
                    ),
                    theme.warning,
                ));
            }
            Line::from(spans)
        }
        None if md.all_keys().all(|k| k.kind == KeyKind::Age) => Line::styled(
            "Data key age unknown: age recipients record no creation date.",
            theme.muted,
        ),
        None => Line::styled("Data key age unknown.", theme.muted),
    }
}

/// Two lines per key: type and identifier, then what is known about it.
fn key_lines(
    key: &MasterKey,
    facts: Option<&KeyFacts>,
    name: Option<&str>,
    new: bool,
    selected: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let marker = if selected { "▸" } else { " " };
    let (mark, mark_style) = if new {
        ("+", theme.changed)
    } else {
        (" ", theme.text)
    };
    let ident_style = if selected {
        theme.selection
    } else {
        theme.text
    };
    let first = Line::from(vec![
        Span::styled("│ ".to_string(), theme.border),
        Span::styled(marker.to_string(), theme.key),
        Span::styled(mark.to_string(), mark_style),
        Span::styled(format!("{:<8} ", key.kind.field()), theme.muted),
        Span::styled(identifier(key), ident_style),
    ]);
    let indent = || Span::styled("│            ".to_string(), theme.border);
    let mut status = Line::from(vec![indent()]);
    let mut about = Line::from(vec![indent()]);
    let push = |line: &mut Line<'static>, text: String, style: Style| {
        if line.spans.len() > 1 {
            line.push_span(Span::styled(" · ", theme.muted));
        }
        line.push_span(Span::styled(text, style));
    };
    match facts {
        None => push(&mut status, "checking…".into(), theme.muted),
        Some(f) => {
            let (text, style) = match &f.availability {
                Availability::Usable(how) => (format!("✓ can decrypt here ({how})"), theme.plain),
                Availability::Missing(why) => {
                    (format!("✗ cannot decrypt here: {why}"), theme.muted)
                }
                Availability::Unknown(why) => (format!("? {why}"), theme.muted),
            };
            push(&mut status, text, style);
            if let Some(problem) = &f.wrap_problem {
                push(
                    &mut status,
                    format!("⚠ cannot encrypt for it: {problem}"),
                    theme.error,
                );
            }
        }
    }
    if new {
        push(&mut status, "new: written on save".into(), theme.changed);
    } else {
        let created = key.text("created_at");
        if !created.is_empty() {
            let day = created.get(..10).unwrap_or(created);
            push(&mut status, format!("created {day}"), theme.muted);
        }
    }
    if let Some(name) = name {
        push(
            &mut about,
            format!("{name} (named in .sops.yaml)"),
            theme.text,
        );
    }
    if let Some(uid) = facts.and_then(|f| f.user_id.clone()) {
        push(&mut about, uid, theme.text);
    }
    for extra in kms_details(key) {
        push(&mut about, extra, theme.muted);
    }
    let mut out = vec![first, status];
    if about.spans.len() > 1 {
        out.push(about);
    }
    out
}

/// The identifier people know a key by. A post-quantum age recipient (some 2,000 characters)
/// shows its start and end, enough to tell keys apart.
fn identifier(key: &MasterKey) -> String {
    const LONG: usize = 96;
    let id = match key.kind {
        KeyKind::Kms => key.text("arn").to_string(),
        _ => key.display(),
    };
    if id.chars().count() <= LONG {
        return id;
    }
    let head: String = id.chars().take(48).collect();
    let tail: String = id.chars().skip(id.chars().count() - 12).collect();
    format!("{head}…{tail}")
}

/// An AWS KMS key's role, context and profile, when set.
fn kms_details(key: &MasterKey) -> Vec<String> {
    if key.kind != KeyKind::Kms {
        return vec![];
    }
    let mut out = Vec::new();
    let role = key.text("role");
    if !role.is_empty() {
        out.push(format!("role {role}"));
    }
    if let Some(Field::Map(ctx)) = key.fields.get("context")
        && !ctx.is_empty()
    {
        let pairs: Vec<String> = ctx.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push(format!("context {}", pairs.join(",")));
    }
    let profile = key.text("aws_profile");
    if !profile.is_empty() {
        out.push(format!("profile {profile}"));
    }
    out
}

/// What taking a `.sops.yaml` rule's keys would change, as `updatekeys` prints it.
pub fn rule_preview(
    m: &Model,
    p: &RulePreview,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) -> Vec<crate::tui::view::Button> {
    let mut lines = vec![
        Line::styled(
            format!("The creation rule in {} has:", p.config),
            theme.text,
        ),
        Line::default(),
    ];
    let old = m.key_manager.plan.raw_threshold();
    if p.threshold != old {
        lines.push(Line::styled(
            format!("Shamir threshold {old} → {}", p.threshold),
            theme.changed,
        ));
    }
    for (i, d) in p.diff.iter().enumerate() {
        lines.push(Line::styled(format!("Group {}", i + 1), theme.key));
        for k in &d.common {
            lines.push(Line::styled(format!("    {k}"), theme.text));
        }
        for k in &d.added {
            lines.push(Line::styled(format!("+++ {k}"), theme.plain));
        }
        for k in &d.removed {
            lines.push(Line::styled(format!("--- {k}"), theme.error));
        }
    }
    lines.push(Line::default());
    use crate::tui::view::overlay::{choice, popup_with};
    popup_with(
        f,
        area,
        "Apply .sops.yaml rule",
        lines,
        &[
            choice('y', "Stage these keys"),
            choice('n', "Keep the current ones"),
        ],
        theme,
        theme.key,
    )
}
