//! The repository view (`sesame DIR`): every sops file under a folder (and every file a
//! creation rule covers) with badges — in step, drift from `.sops.yaml`, plain text, no rule,
//! rotation due, cannot decrypt here — a filter, Enter to open a file in the editor, and bulk
//! actions (apply `.sops.yaml`, rotate where due) staged, previewed as a table and written
//! together, one file at a time (each atomically; Esc stops between files).

use crate::config::Config;
use crate::keys::groups::KeySources;
use crate::repository::bulk::{self, Pending};
use crate::repository::check::{self, Policy};
use crate::repository::keyage::{self, KeyHistory};
use crate::repository::scan::{self, Entry};
use crate::review::names::Names;
use crate::store::EmitOptions;
use crate::tui::event::{self, Tty};
use crate::tui::terminal;
use crate::tui::theme::Theme;
use crate::tui::view::{centered, overlay::popup};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a file needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    InStep,
    Drift,
    PlainText,
    NoRule,
    RotationDue,
    CannotDecrypt,
    Malformed,
}

impl Badge {
    pub fn text(self) -> &'static str {
        match self {
            Badge::InStep => "✓ in step",
            Badge::Drift => "≠ drift from .sops.yaml",
            Badge::PlainText => "✗ PLAIN TEXT",
            Badge::NoRule => "? no rule",
            Badge::RotationDue => "⟳ rotation due",
            Badge::CannotDecrypt => "⊘ cannot decrypt here",
            Badge::Malformed => "✗ malformed",
        }
    }
}

/// One listed file.
pub struct FileRow {
    pub path: PathBuf,
    pub name: String,
    pub sops: bool,
    pub badges: Vec<Badge>,
}

/// A bulk action, staged and shown before it is written.
pub struct Staged {
    pub title: String,
    pub pending: Vec<Pending>,
}

/// The view's state.
pub struct RepoView {
    pub root: PathBuf,
    pub rows: Vec<FileRow>,
    pub cursor: usize,
    pub filter: String,
    pub filtering: bool,
    /// The key being typed for "remove a person everywhere", while it is typed.
    pub removing: Option<String>,
    pub staged: Option<Staged>,
    pub status: String,
    entries: Vec<Entry>,
    histories: HashMap<PathBuf, KeyHistory>,
    names: Names,
    config: Option<Config>,
    rotate_after_days: i64,
}

/// What the loop must do after a key.
pub enum Effect {
    None,
    Quit,
    Open(PathBuf),
    Apply,
}

impl RepoView {
    /// Looks at every file under `root` (metadata only, on all cores; Git history for the data
    /// keys) and gives each its badges.
    pub fn load(
        root: &Path,
        config: Option<Config>,
        sources: &KeySources,
        rotate_after_days: i64,
    ) -> Result<RepoView, String> {
        let mut v = RepoView {
            root: root.to_path_buf(),
            rows: Vec::new(),
            cursor: 0,
            filter: String::new(),
            filtering: false,
            removing: None,
            staged: None,
            status: String::new(),
            entries: Vec::new(),
            histories: HashMap::new(),
            names: Names::default(),
            config,
            rotate_after_days,
        };
        v.rescan(sources)?;
        Ok(v)
    }

    /// Reads the files again (after a bulk action or an edit).
    pub fn rescan(&mut self, sources: &KeySources) -> Result<(), String> {
        let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
        let files = scan::files(std::slice::from_ref(&self.root))?;
        self.entries = scan::scan(files, &self.root, jobs);
        self.histories = keyage::histories(&self.entries, jobs);
        self.names = self
            .config
            .as_ref()
            .and_then(|c| std::fs::read_to_string(&c.path).ok())
            .map(|t| Names::from_config(&t))
            .unwrap_or_default();
        let findings = check::check(
            &self.entries,
            self.config.as_ref(),
            &self.names,
            &Policy::default(),
            &|_| None,
        );
        let now = time::OffsetDateTime::now_utc();
        self.rows = self
            .entries
            .iter()
            .filter_map(|e| {
                let mut badges = Vec::new();
                for f in findings.iter().filter(|f| f.file == e.name) {
                    let b = match f.rule {
                        "unencrypted" | "plain-value" => Badge::PlainText,
                        "drift" => Badge::Drift,
                        "no-rule" => Badge::NoRule,
                        "malformed" => Badge::Malformed,
                        _ => continue,
                    };
                    if !badges.contains(&b) {
                        badges.push(b);
                    }
                }
                let md = e.metadata();
                if md.is_none() && badges.is_empty() {
                    return None;
                }
                if let Some(h) = self.histories.get(&e.path)
                    && (!h.former.is_empty()
                        || h.age_days(now).is_some_and(|d| d >= self.rotate_after_days))
                {
                    badges.push(Badge::RotationDue);
                }
                if let Some(md) = md
                    && md.key_groups.iter().all(|g| {
                        g.keys
                            .iter()
                            .all(|k| sources.availability(k).usable() == Some(false))
                    })
                {
                    badges.push(Badge::CannotDecrypt);
                }
                if badges.is_empty() {
                    badges.push(Badge::InStep);
                }
                Some(FileRow {
                    path: e.path.clone(),
                    name: e.name.clone(),
                    sops: md.is_some(),
                    badges,
                })
            })
            .collect();
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        Ok(())
    }

    /// The rows the filter lets through, as indexes into `rows`.
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i];
                needle.is_empty()
                    || r.name.to_lowercase().contains(&needle)
                    || r.badges
                        .iter()
                        .any(|b| b.text().to_lowercase().contains(&needle))
            })
            .collect()
    }

    /// Stages a bulk action: the creation rules' keys for every file out of step, and with
    /// `rotate` new data keys where recipients left.
    fn stage(&mut self, rotate: bool) {
        let Some(config) = &self.config else {
            self.status = "no .sops.yaml here: there are no rules to apply".into();
            return;
        };
        match bulk::rule_updates(&self.entries, config, None, rotate, &self.histories) {
            Ok(p) if p.is_empty() => {
                self.status = "every file is in step: nothing to do".into();
            }
            Ok(pending) => {
                let title = if rotate {
                    format!(
                        "Apply .sops.yaml and rotate where due: {} file(s)",
                        pending.len()
                    )
                } else {
                    format!("Apply .sops.yaml to {} file(s)", pending.len())
                };
                self.staged = Some(Staged { title, pending });
            }
            Err(e) => self.status = e,
        }
    }

    /// Stages removing `key` from every file that has it (and new data keys where it held
    /// them), unless some file cannot lose it.
    fn stage_removal(&mut self, key: &str) {
        let (pending, problems) = bulk::offboard(&self.entries, key, &self.names, &self.histories);
        if !problems.is_empty() {
            self.status = format!("nothing staged: {}", problems.join("; "));
        } else if pending.is_empty() {
            self.status = format!("{key} can decrypt no file here, now or from Git history");
        } else {
            self.staged = Some(Staged {
                title: format!(
                    "Remove the key from {} file(s) and replace their data keys",
                    pending.len()
                ),
                pending,
            });
        }
    }

    /// Pasted text goes into the field being typed (a key to remove, a filter).
    pub fn paste(&mut self, text: &str) {
        let text = text.trim();
        if let Some(typed) = &mut self.removing {
            typed.push_str(text);
        } else if self.filtering {
            self.filter.push_str(text);
        }
    }

    /// One key.
    pub fn key(&mut self, key: KeyEvent) -> Effect {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if self.staged.is_some() {
            match key.code {
                KeyCode::Char('y') => return Effect::Apply,
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') | KeyCode::Enter => {
                    self.staged = None;
                    self.status = "nothing was changed".into();
                }
                _ if ctrl_c => self.staged = None,
                _ => {}
            }
            return Effect::None;
        }
        if let Some(typed) = &mut self.removing {
            match key.code {
                KeyCode::Enter => {
                    let who = typed.trim().to_string();
                    self.removing = None;
                    if !who.is_empty() {
                        self.stage_removal(&who);
                    }
                }
                KeyCode::Esc => self.removing = None,
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if !ctrl_c => typed.push(c),
                _ => self.removing = None,
            }
            return Effect::None;
        }
        if self.filtering {
            match key.code {
                KeyCode::Enter => self.filtering = false,
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if !ctrl_c => self.filter.push(c),
                _ => self.filtering = false,
            }
            self.cursor = 0;
            return Effect::None;
        }
        let visible = self.visible();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.cursor = (self.cursor + 1).min(visible.len().saturating_sub(1))
            }
            KeyCode::Char('/') => {
                self.filtering = true;
                self.filter.clear();
            }
            KeyCode::Char('u') => self.stage(false),
            KeyCode::Char('r') => self.stage(true),
            KeyCode::Char('x') => self.removing = Some(String::new()),
            KeyCode::Enter => {
                if let Some(row) = visible.get(self.cursor).map(|&i| &self.rows[i]) {
                    if row.sops {
                        return Effect::Open(row.path.clone());
                    }
                    self.status = format!(
                        "{} is not encrypted: encrypt it with `sesame encrypt -i {}`",
                        row.name, row.name
                    );
                }
            }
            KeyCode::Char('q') | KeyCode::Esc => return Effect::Quit,
            _ if ctrl_c => return Effect::Quit,
            _ => {}
        }
        Effect::None
    }
}

/// Draws the view.
pub fn draw(v: &RepoView, theme: &Theme, f: &mut Frame, progress: Option<&str>) {
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let sops = v.rows.iter().filter(|r| r.sops).count();
    let attention = v
        .rows
        .iter()
        .filter(|r| r.badges != [Badge::InStep])
        .count();
    f.render_widget(
        Paragraph::new(format!(
            " sesame │ repository {} │ {sops} sops file(s) │ {attention} need attention",
            v.root.display()
        ))
        .style(theme.title),
        title,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Files ", theme.key));
    let inner = block.inner(body);
    f.render_widget(block, body);
    let visible = v.visible();
    let height = inner.height as usize;
    let first = v.cursor.saturating_sub(height.saturating_sub(1));
    let width = visible
        .iter()
        .map(|&i| v.rows[i].name.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(n, &i)| {
            let r = &v.rows[i];
            let style = match r.badges.first() {
                Some(Badge::InStep) => theme.text,
                Some(Badge::PlainText | Badge::Malformed) => theme.error,
                _ => theme.warning,
            };
            let badges: Vec<&str> = r.badges.iter().map(|b| b.text()).collect();
            let line = Line::from(vec![
                Span::styled(format!(" {:<width$}  ", r.name), theme.text),
                Span::styled(badges.join(" · "), style),
            ]);
            if n == v.cursor {
                line.patch_style(theme.selection)
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    let hint = if let Some(typed) = &v.removing {
        format!(" remove which key from every file (identifier or .sops.yaml name): {typed}▏")
    } else if v.filtering {
        format!(" filter: {}▏ (Enter keeps it, Esc clears it)", v.filter)
    } else if !v.status.is_empty() {
        format!(" {}", v.status)
    } else {
        " Enter open · / filter · u apply .sops.yaml · r …and rotate where due · x remove a key everywhere · q quit".into()
    };
    f.render_widget(Paragraph::new(hint).style(theme.muted), status);
    if let Some(staged) = &v.staged {
        let mut lines: Vec<Line<'static>> = Vec::new();
        for p in &staged.pending {
            lines.push(Line::from(Span::styled(format!("{}:", p.name), theme.key)));
            for l in &p.lines {
                lines.push(Line::from(Span::styled(format!("    {l}"), theme.text)));
            }
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "y write them all · Esc cancel (nothing is written before y)",
            theme.muted,
        )));
        popup(f, body, &staged.title, lines, theme, theme.warning);
    }
    if let Some(text) = progress {
        let area = centered(body, (text.chars().count() as u16 + 6).min(body.width), 3);
        popup(
            f,
            area,
            "Working",
            vec![Line::from(text.to_string())],
            theme,
            theme.key,
        );
    }
}

/// How the repository view is run: how to open one file in the editor, and where to write.
pub struct Host<'a> {
    pub sources: &'a KeySources,
    pub emit: EmitOptions,
    /// Runs the editor on a file (the repository view's terminal is released meanwhile).
    pub edit: &'a dyn Fn(&Path) -> Result<(), String>,
}

/// Runs the repository view until the user quits. The terminal is restored on every way out.
pub fn run(mut v: RepoView, theme: &Theme, host: &Host) -> std::io::Result<()> {
    let signals = event::Signals::register()?;
    let tty = Tty::open()?;
    let (mut term, mut guard) = terminal::enter()?;
    loop {
        if signals.caught().is_some() {
            return Ok(());
        }
        term.draw(|f| draw(&v, theme, f, None))?;
        let key = match event::typed(&tty, Duration::from_millis(200))? {
            Some(event::Typed::Key(key)) => key,
            Some(event::Typed::Paste(text)) => {
                v.paste(&text);
                continue;
            }
            None if tty.is_gone() => return Ok(()),
            None => continue,
        };
        match v.key(key) {
            Effect::None => {}
            Effect::Quit => return Ok(()),
            Effect::Open(path) => {
                drop(term);
                drop(guard);
                let result = (host.edit)(&path);
                let entered = terminal::enter()?;
                term = entered.0;
                guard = entered.1;
                v.status = match result {
                    Ok(()) => format!("back from {}", path.display()),
                    Err(e) => e,
                };
                if let Err(e) = v.rescan(host.sources) {
                    v.status = e;
                }
            }
            Effect::Apply => {
                let Some(staged) = v.staged.take() else {
                    continue;
                };
                let total = staged.pending.len();
                let mut written = 0;
                let mut failures = Vec::new();
                for (i, p) in staged.pending.iter().enumerate() {
                    let text = format!(
                        "writing {} ({} of {total})… Esc stops after it",
                        p.name,
                        i + 1
                    );
                    term.draw(|f| draw(&v, theme, f, Some(&text)))?;
                    match bulk::apply(p, host.sources, &host.emit) {
                        Ok(_) => written += 1,
                        Err(e) => failures.push(e),
                    }
                    if let Some(k) = event::key(&tty, Duration::ZERO)?
                        && k.code == KeyCode::Esc
                    {
                        break;
                    }
                }
                v.status = if failures.is_empty() {
                    format!("{written} of {total} file(s) written")
                } else {
                    format!(
                        "{written} of {total} file(s) written; {}",
                        failures.join("; ")
                    )
                };
                if let Err(e) = v.rescan(host.sources) {
                    v.status = e;
                }
            }
        }
    }
}
