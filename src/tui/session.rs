//! A file opened for editing and the effects that touch it: open (keys are unwrapped here,
//! before the terminal is taken over, so gpg's pinentry can use it), save and reload.

use crate::config::{Config, ConfigSearch};
use crate::document::{self, Document, OpenError, OpenOptions};
use crate::keys::groups::KeySources;
use crate::store::{EmitOptions, Format};
use crate::tui::action::Action;
use crate::tui::clipboard;
use crate::tui::key_manager::{self, RulePreview};
use crate::tui::model::{FileInfo, Model, Source};
use crate::tui::update::Effect;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// What to open and how.
pub struct OpenRequest {
    pub path: PathBuf,
    /// The name shown in the editor (the file name, or `demo.sops.yaml` for the demo).
    pub name: String,
    pub format: Format,
    pub emit: EmitOptions,
    pub sources: KeySources,
    /// `--ignore-mac`: a MAC mismatch still warns, but the file may be edited and saved.
    pub ignore_mac: bool,
    /// Where the `.sops.yaml` in effect is found, for the key manager's "apply the creation
    /// rule" and recipient names; read again when it changes.
    pub config: ConfigSearch,
    /// A Git revision to mark changes against (`--against`).
    pub against: Option<String>,
}

/// Why the editor could not open a file.
#[derive(Debug, thiserror::Error)]
pub enum OpenFailure {
    #[error("Error reading file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("the file is in the middle of a Git merge that cannot be finished here: {0}")]
    Merge(String),
}

/// An open file: the model plus what saving and reloading need.
pub struct Session {
    pub model: Model,
    pub path: PathBuf,
    format: Format,
    emit: EmitOptions,
    sources: KeySources,
    config_search: ConfigSearch,
    config: Option<Config>,
    /// The config's path and bytes when last read, to tell a real change.
    config_seen: (Option<PathBuf>, Option<Vec<u8>>),
    /// Digest of the file's bytes as last read or written, to notice changes by others.
    pub digest: [u8; 32],
    /// Whether the data key's age was read from Git history yet.
    key_since_read: bool,
    /// Where copies go (the system clipboard is kept open for the run).
    clipboards: clipboard::Clipboards,
}

/// The variable that sets after how many days the key manager suggests a new data key.
pub const ROTATE_AFTER_VAR: &str = "SESAME_ROTATE_AFTER_DAYS";

/// SHA-256 of file bytes.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn progress(text: &str) {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[K{text}");
        let _ = err.flush();
    }
}

/// Reads and decrypts the file. Without a usable key the file opens in review mode (read-only,
/// from the ciphertext); a MAC mismatch opens read-only with a warning unless `ignore_mac`.
pub fn open(req: OpenRequest) -> Result<Session, OpenFailure> {
    let bytes = std::fs::read(&req.path).map_err(|source| OpenFailure::Read {
        path: req.path.display().to_string(),
        source,
    })?;
    let digest = digest(&bytes);
    // A file Git left in conflict opens as the merge of its index stages.
    if let Some(merged) = crate::tui::merge::from_git(&req.path, req.format, &req.sources) {
        let (doc, state) = merged.map_err(OpenFailure::Merge)?;
        let file = FileInfo {
            name: req.name.clone(),
            format: req.format,
        };
        let mut model = Model::from_document(doc, file, req.ignore_mac);
        model.merge = Some(Box::new(state));
        crate::tui::update::update(&mut model, crate::tui::action::Action::Conflicts);
        return Ok(session_of(model, req, digest));
    }
    progress(&format!(
        "sesame: opening {}: unwrapping the data key…",
        req.name
    ));
    let opened = Document::open(
        req.format,
        bytes.clone(),
        &req.sources,
        OpenOptions {
            ignore_mac: true,
            keep_ciphertext: true,
            keep_damaged: true,
        },
    );
    progress("");
    let file = FileInfo {
        name: req.name.clone(),
        format: req.format,
    };
    let model = match opened {
        Ok(doc) => Model::from_document(doc, file, req.ignore_mac),
        Err(OpenError::Keys(report)) => {
            let (parsed, metadata) = document::inspect(req.format, &bytes)?;
            let reason = format!("{report}\nhint: {}", report.hint());
            let reason = reason.lines().next().unwrap_or("no key").to_string();
            Model::review(parsed.docs, metadata, reason, file)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(session_of(model, req, digest))
}

/// When the file's current data key first appeared in Git history, if the file is in a
/// repository (read without a key, one `git log` and one `cat-file` process).
fn key_since(path: &std::path::Path, format: Format) -> Option<time::OffsetDateTime> {
    let repo = crate::git::Repo::discover(path.parent()?)?;
    let rel = repo.relative(path)?;
    let bytes = std::fs::read(path).ok()?;
    let (parsed, md) = document::inspect(format, &bytes).ok()?;
    let mut blobs = repo.blobs().ok()?;
    let h = crate::repository::keyage::history(&repo, &mut blobs, &rel, format, &parsed.docs, &md)
        .ok()?;
    let since = h.since?;
    time::OffsetDateTime::parse(&since.date, &time::format_description::well_known::Rfc3339).ok()
}

/// The session of an opened model, with the key manager's clock and rotation setting.
fn session_of(mut model: Model, req: OpenRequest, digest: [u8; 32]) -> Session {
    model.key_manager.now = Some(time::OffsetDateTime::now_utc());
    let config = match req.config.load() {
        Ok(c) => c,
        Err(e) => {
            model.error(e.to_string());
            None
        }
    };
    let seen = seen(config.as_ref());
    let names = names_of(&seen);
    model.key_manager.names = names.clone();
    if let Some(rev) = &req.against {
        match crate::tui::against::compute(&req.path, req.format, rev, &req.sources, &names) {
            Ok(a) => {
                model.info(format!("since {rev}: {}", a.summary));
                model.against = Some(Box::new(a));
            }
            Err(e) => model.error(e),
        }
    }
    if let Some(text) = std::env::var_os(ROTATE_AFTER_VAR) {
        match text.to_string_lossy().trim().parse::<i64>() {
            Ok(days) if days > 0 => model.key_manager.rotate_after_days = days,
            _ => model.error(format!(
                "{ROTATE_AFTER_VAR}={:?} is not a number of days; rotation is suggested after {} days",
                text.to_string_lossy(),
                model.key_manager.rotate_after_days
            )),
        }
    }
    Session {
        model,
        path: req.path,
        format: req.format,
        emit: req.emit,
        sources: req.sources,
        config_search: req.config,
        config_seen: seen,
        config,
        digest,
        key_since_read: false,
        clipboards: Default::default(),
    }
}

/// A config's path and bytes, read once for the change check and the recipient names.
fn seen(config: Option<&Config>) -> (Option<PathBuf>, Option<Vec<u8>>) {
    (
        config.map(|c| c.path.clone()),
        config.and_then(|c| std::fs::read(&c.path).ok()),
    )
}

/// Recipient names from the anchors and comments of a config's text (see `seen`).
fn names_of(seen: &(Option<PathBuf>, Option<Vec<u8>>)) -> crate::review::names::Names {
    seen.1
        .as_deref()
        .map(|text| crate::review::names::Names::from_config(&String::from_utf8_lossy(text)))
        .unwrap_or_default()
}

impl Session {
    /// Clears a copied value from the clipboards (if they still hold it).
    pub fn clear_clipboard(&mut self, copied: &clipboard::Fingerprint) {
        self.clipboards.clear(&mut std::io::stdout().lock(), copied);
    }

    /// How the file is written (indentation, from the command line).
    pub fn emit_options(&self) -> &EmitOptions {
        &self.emit
    }

    /// Where a `.sops.yaml` for this file could appear or change, for the watcher.
    pub fn config_candidates(&self) -> Vec<PathBuf> {
        self.config_search.candidates()
    }

    /// Reads `.sops.yaml` again (it was created, changed or removed): recipient names and the
    /// creation rule follow at once. Says so when something changed.
    pub fn reload_config(&mut self) {
        let config = match self.config_search.load() {
            Ok(c) => c,
            Err(e) => {
                self.model.error(e.to_string());
                return;
            }
        };
        let seen = seen(config.as_ref());
        let changed = seen != self.config_seen;
        self.model.key_manager.names = names_of(&seen);
        self.config_seen = seen;
        if changed {
            self.model.info(match &config {
                Some(c) => format!("{} changed: read again", c.path.display()),
                None => "no .sops.yaml applies any more".to_string(),
            });
        }
        self.config = config;
    }

    /// What the key services are being asked now, and the way to stop before the next.
    pub fn progress(&self) -> std::sync::Arc<crate::keys::groups::Progress> {
        self.sources.progress()
    }

    /// Sends age plugins' messages and questions to `prompts` from now on.
    pub fn route_plugin_prompts(
        &self,
        prompts: std::sync::Arc<dyn crate::keys::age::PluginPrompts>,
    ) {
        self.sources.route_plugin_prompts(prompts);
    }

    /// Runs an effect of `update` and returns its result as an action (`None` for quit).
    pub fn perform(&mut self, effect: Effect) -> Option<Action> {
        match effect {
            Effect::Quit => None,
            // Handled by the loop, which owns the terminal.
            Effect::Suspend | Effect::EditExternal(_) | Effect::EditDocument(_) => {
                Some(Action::Tick(std::time::Instant::now()))
            }
            Effect::Copy(addr) => {
                let what = self.model.path_text(&addr);
                let text = match self.model.item(&addr).and_then(|i| i.node()) {
                    Some(crate::tree::Node::Leaf(leaf)) => crate::edit::value::text_of(&leaf.value),
                    _ => return Some(Action::Failed(format!("{what} is not a value"))),
                };
                let out = &mut std::io::stdout().lock();
                Some(match self.clipboards.copy(out, text.expose()) {
                    Ok((copied, to)) => Action::Copied {
                        what,
                        to,
                        secret: Some(copied),
                    },
                    Err(e) => Action::Failed(format!("could not copy {what}: {e}")),
                })
            }
            Effect::CopyText(text) => {
                let out = &mut std::io::stdout().lock();
                Some(match self.clipboards.copy(out, text.as_bytes()) {
                    Ok((_, to)) => Action::Copied {
                        what: text,
                        to,
                        secret: None,
                    },
                    Err(e) => Action::Failed(format!("could not copy: {e}")),
                })
            }
            Effect::ClearClipboard(copied) => {
                self.clear_clipboard(&copied);
                Some(Action::ClipboardCleared)
            }
            Effect::Save { force } => Some(self.save(force)),
            Effect::Reload => Some(self.reload()),
            Effect::ProbeKeys => {
                // The data key's age walks the file's Git history: done when the key manager
                // first shows it, not on every open.
                if !self.key_since_read {
                    self.key_since_read = true;
                    self.model.key_manager.key_since = key_since(&self.path, self.format);
                }
                Some(Action::KeysProbed(key_manager::probe(
                    &self.model.key_manager.unprobed(),
                    &self.sources,
                )))
            }
            Effect::ImportPgp { group, path } => {
                // As typed (relative to where sesame started, `~/` for home), else beside
                // the file.
                let typed = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
                    (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                    _ => PathBuf::from(path),
                };
                let path = match self.path.parent().map(|dir| dir.join(&typed)) {
                    Some(beside) if !typed.exists() && beside.is_file() => beside,
                    _ => typed,
                };
                Some(Action::PgpImported {
                    group,
                    result: self.sources.import_pgp_file(&path),
                })
            }
            Effect::FindRule => Some(Action::RuleFound(self.find_rule())),
            Effect::LoadHistory { doc, path, place } => Some(Action::HistoryLoaded(
                crate::tui::blame::load(&self.path, self.format, doc, path, place).map(Box::new),
            )),
            Effect::RevealOld(i) => {
                let crate::tui::model::Mode::Blame(b) = &self.model.mode else {
                    return Some(Action::HistoryValue(
                        i,
                        Err("the history was closed".into()),
                    ));
                };
                Some(Action::HistoryValue(
                    i,
                    b.value_at(i, self.format, &self.sources),
                ))
            }
            Effect::Stage => Some(Action::Staged(match &self.model.merge {
                Some(mg) => mg.stage(),
                None => Ok(()),
            })),
        }
    }

    /// The creation rule of `.sops.yaml` that matches this file (read again first, in case the
    /// watcher missed a change).
    fn find_rule(&mut self) -> Result<Box<RulePreview>, String> {
        self.reload_config();
        let name = &self.model.file.name;
        let Some(config) = &self.config else {
            return Err(format!(
                "no .sops.yaml applies to {name}: create one with a creation rule for it (or pass --config)"
            ));
        };
        let rule = config
            .rule_for(&self.path)
            .map_err(|e| format!("{}: {e}", config.path.display()))?
            .ok_or_else(|| {
                format!(
                    "{} has no creation rule for {name}: add one whose path_regex matches it",
                    config.path.display()
                )
            })?;
        if rule.key_groups.is_empty() || rule.key_groups.iter().all(|g| g.keys.is_empty()) {
            return Err(format!(
                "the creation rule for {name} in {} lists no keys",
                config.path.display()
            ));
        }
        Ok(Box::new(RulePreview {
            config: config.path.display().to_string(),
            groups: rule.key_groups.clone(),
            threshold: rule.shamir_threshold,
            diff: Vec::new(),
        }))
    }

    /// Whether the file on disk differs from what was last read or written.
    pub fn changed_on_disk(&self) -> bool {
        match std::fs::read(&self.path) {
            Ok(bytes) => digest(&bytes) != self.digest,
            Err(_) => true,
        }
    }

    /// Seals and writes the file; refuses (asks) when it changed on disk, unless `force`. The
    /// check and the write happen under the update lock every sesame writer takes, so a
    /// concurrent `sesame set` is either seen here (and asked about) or waits for this save.
    pub fn save(&mut self, force: bool) -> Action {
        let _lock = match crate::fs::lock_for_update(&self.path) {
            Ok(lock) => lock,
            Err(e) => return Action::Failed(format!("could not save: {e}")),
        };
        if !force && self.changed_on_disk() {
            return Action::Conflict;
        }
        let Source::Doc(doc) = &mut self.model.source else {
            return Action::Failed("review mode has no key: nothing can be saved".into());
        };
        let plan = &self.model.key_manager.plan;
        if !plan.is_empty()
            && let Err(e) = doc.apply_plan(plan, &self.sources)
        {
            return Action::Failed(format!(
                "nothing was written: could not change the recipients of {}: {e}",
                self.model.file.name
            ));
        }
        let bytes = match doc.seal(&self.emit) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Action::Saved,
            Err(e) => {
                return Action::Failed(format!("could not encrypt {}: {e}", self.model.file.name));
            }
        };
        match crate::fs::write_atomic(&self.path, &bytes) {
            Ok(notes) => {
                self.digest = digest(&bytes);
                self.model.write_notes = notes;
                Action::Saved
            }
            Err(e) => Action::Failed(format!(
                "could not write {}: {e} (nothing was changed on disk)",
                self.path.display()
            )),
        }
    }

    /// Reads the file again (the keys are already loaded).
    pub fn reload(&mut self) -> Action {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                return Action::Failed(format!("could not read {}: {e}", self.path.display()));
            }
        };
        let digest = digest(&bytes);
        match Document::open(
            self.format,
            bytes,
            &self.sources,
            OpenOptions {
                ignore_mac: true,
                keep_ciphertext: true,
                keep_damaged: true,
            },
        ) {
            Ok(doc) => {
                self.digest = digest;
                Action::Reloaded(Box::new(Source::Doc(Box::new(doc))))
            }
            Err(e) => Action::Failed(format!("could not reload {}: {e}", self.model.file.name)),
        }
    }
}
