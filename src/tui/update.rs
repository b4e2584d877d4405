//! `update(&mut Model, Action) -> Vec<Effect>`: every state change of the editor, pure (no
//! terminal, no files). Saving, reloading and quitting are effects the loop runs; their
//! results come back as actions.

mod blame;
mod edit;
mod key_manager;
mod merge;
mod mouse;
mod nav;
mod palette;
mod privacy;
mod prompt;
mod reload;

use crate::tui::action::Action;
use crate::tui::key_manager::key_id;
use crate::tui::model::{Confirm, Mode, Model, PromptPurpose, SaveReview, Source};

/// Work for the loop: the only ways `update` reaches outside the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Apply the staged recipient changes, seal and write the file; `force` writes over
    /// changes made on disk since it was read.
    Save {
        force: bool,
    },
    /// Read the file again from disk (unsaved edits are merged back by `update`).
    Reload,
    Quit,
    /// Find out what this machine can do with the key manager's unprobed keys.
    ProbeKeys,
    /// Read an armored OpenPGP key file typed as a recipient.
    ImportPgp {
        group: Option<usize>,
        path: String,
    },
    /// Look up the file's `.sops.yaml` creation rule.
    FindRule,
    /// Stage the merged, saved file in Git.
    Stage,
    /// Read the history of the value at `path` of document `doc`.
    LoadHistory {
        doc: usize,
        path: crate::path::TreePath,
        place: String,
    },
    /// Decrypt the value at a commit of the history screen.
    RevealOld(usize),
    /// Put the value at this address on the clipboard.
    Copy(crate::edit::ops::Addr),
    /// Put this (non-secret) text on the clipboard.
    CopyText(String),
    /// Clear the clipboard of the value copied.
    ClearClipboard(crate::tui::clipboard::Fingerprint),
    /// Stop until the shell continues the editor (the loop gives the terminal back first).
    Suspend,
    /// Edit the value at this address in `$EDITOR` (the loop gives it the terminal).
    EditExternal(crate::edit::ops::Addr),
    /// Edit the whole document in `$EDITOR`, from this text (else the document as it is).
    EditDocument(Option<crate::secret::SecretBuf>),
}

/// Applies one action.
pub fn update(m: &mut Model, action: Action) -> Vec<Effect> {
    let shows = matches!(
        action,
        Action::Reveal | Action::RevealAll | Action::HistoryValue(..)
    );
    if m.privacy.no_reveal && matches!(action, Action::Reveal | Action::RevealAll | Action::Copy) {
        m.error("presentation mode (--no-reveal): values are neither shown nor copied");
        return vec![];
    }
    let mut effects = dispatch(m, action);
    // A reveal starts (or restarts) the time until everything is masked again.
    if !privacy::any_revealed(m) {
        m.reveal_until = None;
    } else if shows {
        m.reveal_until = m.privacy.reveal_for.map(|d| std::time::Instant::now() + d);
    }
    // Quitting clears the clipboard of a copied value first.
    if effects.contains(&Effect::Quit)
        && let Some(clip) = m.clip.take()
    {
        effects.insert(0, Effect::ClearClipboard(clip.copied));
    }
    effects
}

/// The palette's entries matching `query`, best first (for the view).
pub fn palette_matches<'a>(m: &'a Model, query: &str) -> Vec<&'a crate::tui::model::PaletteEntry> {
    palette::matches(&m.help.palette, query)
}

fn dispatch(m: &mut Model, action: Action) -> Vec<Effect> {
    // Results of effects and outside events apply in every mode.
    match action {
        Action::Tick(now) => return privacy::tick(m, now),
        // Suspending is allowed wherever nothing is being typed.
        Action::Suspend => return vec![Effect::Suspend],
        Action::Copied { what, to, secret } => {
            match secret {
                Some(copied) => {
                    let until = std::time::Instant::now() + m.privacy.clip_for;
                    // The status bar counts down to the clearing.
                    m.info(format!("copied the value of {what} ({to})"));
                    m.clip = Some(crate::tui::model::Clip {
                        until,
                        what,
                        copied,
                    });
                }
                None => m.info(format!("copied {what} ({to})")),
            }
            return vec![];
        }
        Action::ClipboardCleared => {
            m.info("the clipboard was cleared");
            return vec![];
        }
        Action::Resize(w, h) => {
            m.width = w;
            m.height = crate::tui::model::tree_rows(h);
            m.clamp();
            return vec![];
        }
        Action::FileChanged => {
            m.disk_changed = true;
            m.info(
                "the file changed on disk: R reloads it and keeps your edits; a save asks first",
            );
            return vec![];
        }
        Action::Saved => {
            m.history.mark_saved();
            m.saved_leaves = None;
            let md = m.source.metadata().clone();
            m.key_manager.reset(&md);
            m.disk_changed = false;
            m.mode = Mode::Normal;
            let notes = std::mem::take(&mut m.write_notes);
            if notes.is_empty() {
                m.info(format!("saved {}", m.file.name));
            } else {
                m.error(format!("saved {}; but {}", m.file.name, notes.join("; ")));
            }
            merge::saved(m);
            return vec![];
        }
        Action::Staged(result) => {
            merge::staged(m, result);
            return vec![];
        }
        Action::HistoryLoaded(result) => {
            blame::loaded(m, result);
            return vec![];
        }
        Action::HistoryValue(i, value) => {
            blame::value(m, i, value);
            return vec![];
        }
        Action::Failed(msg) => {
            m.mode = Mode::Normal;
            m.error(msg);
            return vec![];
        }
        Action::Conflict => {
            m.mode = Mode::Conflict;
            return vec![];
        }
        Action::Reloaded(source) => {
            reload::reloaded(m, *source);
            return vec![];
        }
        Action::KeysProbed(facts) => {
            m.key_manager.facts.extend(facts);
            return vec![];
        }
        Action::PgpImported { group, result } => {
            return key_manager::pgp_imported(m, group, result);
        }
        Action::RuleFound(found) => {
            key_manager::rule_found(m, found);
            return vec![];
        }
        _ => {}
    }
    match &m.mode {
        Mode::Normal => normal(m, action),
        Mode::Edit(_) => edit::in_editor(m, action),
        Mode::Prompt(_) => prompt::in_prompt(m, action),
        Mode::ChangeType => match action {
            Action::SetType(kind) => {
                m.mode = Mode::Normal;
                edit::set_type(m, kind);
                vec![]
            }
            Action::Cancel => close(m),
            _ => vec![],
        },
        Mode::Confirm(c) => {
            let c = c.clone();
            match action {
                Action::Confirm => {
                    m.mode = Mode::Normal;
                    match c {
                        Confirm::Delete(addr) => {
                            edit::delete(m, addr);
                            vec![]
                        }
                        Confirm::QuitUnsaved => {
                            m.quit = true;
                            vec![Effect::Quit]
                        }
                        Confirm::Stage => vec![Effect::Stage],
                        Confirm::EditDocument => vec![Effect::EditDocument(None)],
                        Confirm::EditAgain(_) => {
                            vec![Effect::EditDocument(m.pending_document.take())]
                        }
                    }
                }
                Action::Cancel if matches!(c, Confirm::EditAgain(_)) => {
                    m.pending_document = None;
                    m.info("the edited text is discarded; nothing changed");
                    close(m)
                }
                Action::Cancel => close(m),
                _ => vec![],
            }
        }
        Mode::ReviewSave(review) => match action {
            Action::Confirm if review.is_risky() => {
                edit::ask(m, PromptPurpose::ConfirmSave, "");
                vec![]
            }
            Action::Confirm => {
                m.mode = Mode::Normal;
                m.info("saving…");
                vec![Effect::Save { force: false }]
            }
            Action::Cancel => close(m),
            _ => vec![],
        },
        Mode::Conflict => match action {
            Action::Reload => {
                m.mode = Mode::Normal;
                vec![Effect::Reload]
            }
            Action::Overwrite => {
                m.mode = Mode::Normal;
                m.info("saving over the changed file…");
                vec![Effect::Save { force: true }]
            }
            Action::Cancel => close(m),
            _ => vec![],
        },
        Mode::KeyManager => key_manager::in_key_manager(m, action),
        Mode::Palette(_) => palette::in_palette(m, action),
        Mode::Merge => merge::in_merge(m, action),
        Mode::Blame(_) => blame::in_blame(m, action),
        Mode::RulePreview(_) => key_manager::in_rule_preview(m, action),
        Mode::Help(view) => {
            let view = *view;
            let back = if view.key_manager {
                Mode::KeyManager
            } else {
                Mode::Normal
            };
            // At most one line per binding (the one-column layout); the view keeps the last
            // screenful in sight.
            let lines = if view.key_manager {
                m.help.key_manager.len()
            } else {
                m.help.tree.len() + 2
            };
            let step = |by: isize| {
                Mode::Help(crate::tui::model::HelpView {
                    scroll: view.scroll.saturating_add_signed(by).min(lines),
                    ..view
                })
            };
            m.mode = match action {
                Action::Cancel | Action::Confirm | Action::Help => back,
                Action::Up => step(-1),
                Action::Down => step(1),
                Action::Scroll(by) => step(by),
                Action::PageUp => step(-(m.height.max(1) as isize)),
                Action::PageDown => step(m.height.max(1) as isize),
                _ => Mode::Help(view),
            };
            vec![]
        }
        Mode::MacWarning | Mode::Reloaded(_) => match action {
            Action::Cancel | Action::Confirm => close(m),
            _ => vec![],
        },
    }
}

fn close(m: &mut Model) -> Vec<Effect> {
    m.mode = Mode::Normal;
    vec![]
}

fn normal(m: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Up => nav::step(m, -1),
        Action::Down => nav::step(m, 1),
        Action::PageUp => nav::step(m, -(m.height.max(1) as isize)),
        Action::PageDown => nav::step(m, m.height.max(1) as isize),
        Action::Top => nav::step(m, isize::MIN / 2),
        Action::Bottom => nav::step(m, isize::MAX / 2),
        Action::Collapse => nav::collapse(m),
        Action::Expand => nav::expand(m),
        Action::Reveal => nav::reveal(m),
        Action::RevealAll => {
            m.reveal_all = !m.reveal_all;
            if !m.reveal_all {
                m.revealed.clear();
            }
            m.info(if m.reveal_all {
                "all values revealed (V masks them again)"
            } else {
                "all values masked"
            });
        }
        Action::Edit => edit::start_edit(m),
        Action::Click(x, y) => mouse::click(m, x, y),
        Action::Scroll(by) => nav::step(m, by),
        Action::Copy => return privacy::copy(m, false),
        Action::Compare => privacy::compare(m),
        Action::Duplicate => prompt::start_duplicate(m),
        Action::EditExternal => return edit::start_external(m),
        Action::EditDocument => edit::ask_edit_document(m),
        Action::EditedDocument(result) => edit::edited_document(m, result),
        Action::EditedExternally { addr, result } => edit::edited_externally(m, addr, result),
        Action::CopyPath => return privacy::copy(m, true),
        Action::Add => prompt::start_add(m),
        Action::Rename => prompt::start_rename(m),
        Action::Delete => edit::ask_delete(m),
        Action::ChangeType => edit::ask_type(m),
        Action::Undo => edit::undo(m),
        Action::Redo => edit::redo(m),
        Action::Search => prompt::start_search(m),
        Action::SearchNext => nav::search_step(m, true),
        Action::SearchPrev => nav::search_step(m, false),
        Action::Filter => nav::toggle_filter(m),
        Action::KeyManager => return key_manager::open(m),
        Action::Reload => {
            m.info("reloading…");
            return vec![Effect::Reload];
        }
        Action::Help => m.mode = Mode::Help(Default::default()),
        Action::Palette => palette::open(m),
        Action::Conflicts => merge::open_screen(m),
        Action::History => return blame::open(m),
        Action::Paste(_) => {
            m.info("to paste, open the value editor first (Enter), then paste");
        }
        Action::Save => return ask_save(m),
        Action::Quit => {
            if m.dirty() {
                m.mode = Mode::Confirm(Confirm::QuitUnsaved);
            } else {
                m.quit = true;
                return vec![Effect::Quit];
            }
        }
        Action::Cancel => {
            m.status = None;
        }
        _ => {}
    }
    vec![]
}

/// Ctrl-S: the review of what will be written, unless there is nothing to write.
pub(crate) fn ask_save(m: &mut Model) -> Vec<Effect> {
    if let Some(why) = &m.read_only {
        let why = why.clone();
        m.error(format!("read-only ({why}): nothing can be saved"));
    } else if !m.dirty() {
        m.info("nothing to save: no changes since the file was opened or saved");
    } else {
        m.mode = Mode::ReviewSave(Box::new(save_review(m)));
    }
    vec![]
}

/// What in the pending save needs a typed confirmation.
fn save_review(m: &Model) -> SaveReview {
    // One trial seal serves the plain-text check and the net changes.
    let (exposed, net) = match &m.source {
        Source::Doc(doc) => match doc.would_write() {
            Ok(sealed) => (doc.exposed_in(&sealed), net_changes(m, doc, &sealed)),
            // The save itself will report what cannot be encrypted.
            Err(_) => (Vec::new(), None),
        },
        Source::Review { .. } => (Vec::new(), None),
    };
    let km = &m.key_manager;
    let lockout = (!km.plan.is_empty()
        && km.plan.locks_out(|k| {
            km.facts
                .get(&key_id(k))
                .and_then(|f| f.availability.usable())
        }))
    .then(|| km.plan.lockout_warning(&m.file.name));
    SaveReview {
        net,
        exposed,
        lockout,
    }
}

/// The save's net changes in words: values by place, recipients by name, `+` gained, `-` lost,
/// `~` changed. `None` when no baseline was taken (the step list is shown instead).
fn net_changes(
    m: &Model,
    doc: &crate::document::Document,
    sealed: &[crate::tree::Map],
) -> Option<Vec<(char, String, String)>> {
    let plan = &m.key_manager.plan;
    let now = crate::tui::net_changes::leaves_of(doc, sealed, &m.hasher);
    let saved = match &m.saved_leaves {
        Some(s) => s.as_slice(),
        // Only recipients changed: the values are as saved.
        None if m.history.since_save().0.is_empty() => now.as_slice(),
        None => return None,
    };
    let (diff, renamed) = crate::tui::net_changes::net(doc, saved, &now, plan);
    let place = |doc: usize, path: &crate::path::TreePath| {
        if m.docs().len() > 1 {
            format!("document {} {path}", doc + 1)
        } else {
            path.to_string()
        }
    };
    let mut out: Vec<(char, String, String)> = renamed
        .iter()
        .map(|r| {
            let n = r.values;
            (
                '~',
                place(r.doc, &r.from),
                format!(
                    "renamed to {} ({n} value{})",
                    r.to,
                    if n == 1 { "" } else { "s" }
                ),
            )
        })
        .collect();
    out.extend(diff.changes.iter().map(|c| {
        let mark = match c.kind {
            crate::review::diff::ChangeKind::Added => '+',
            crate::review::diff::ChangeKind::Removed => '-',
            _ => '~',
        };
        (mark, place(c.doc, &c.path), c.kind.describe())
    }));
    for k in &diff.keys {
        let (mark, what) = k.describe(&m.key_manager.names);
        let verb = match mark {
            '+' => "gains access",
            '-' => "loses access",
            _ => "changes",
        };
        out.push((mark, format!("{verb}:"), what));
    }
    if plan.rotates() {
        out.push((
            '~',
            "data key".into(),
            "replaced: every value re-encrypted".into(),
        ));
    }
    Some(out)
}

/// The typed confirmation of a risky save: "yes" saves, anything else does not.
pub(crate) fn confirm_risky_save(m: &mut Model, text: &str) -> Vec<Effect> {
    m.mode = Mode::Normal;
    if text.trim().eq_ignore_ascii_case("yes") {
        m.info("saving…");
        return vec![Effect::Save { force: false }];
    }
    m.error("not saved: the save needs you to type yes (Ctrl-S to review it again)");
    vec![]
}
