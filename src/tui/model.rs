//! The editor's whole state as plain data: the document (or, without a key, the file as
//! read), the visible rows, cursor, reveals, mode and history. Nothing here draws or reads.

use crate::document::Document;
use crate::edit::ops::{self, Addr, ItemRef};
use crate::edit::value::ValueKind;
use crate::metadata::Metadata;
use crate::rules::Selector;
use crate::store::Format;
use crate::tree::Map;
use crate::tui::history::History;
use crate::tui::key_manager::{KeyManager, RulePreview};
use crate::tui::rows::{Classifier, Rows};
use ratatui_textarea::TextArea;
use std::collections::HashSet;

/// What the editor shows: a decrypted document, or a file opened without its key.
pub enum Source {
    Doc(Box<Document>),
    /// Review mode: the trees as stored (encrypted values are `ENC[...]` text), read-only.
    Review {
        docs: Vec<Map>,
        metadata: Box<Metadata>,
        /// Why no key could open it (shown in the banner).
        reason: String,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Doc(_) => f.write_str("Source::Doc"),
            Source::Review { .. } => f.write_str("Source::Review"),
        }
    }
}

impl Source {
    pub fn docs(&self) -> &[Map] {
        match self {
            Source::Doc(d) => d.docs(),
            Source::Review { docs, .. } => docs,
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Source::Doc(d) => d.metadata(),
            Source::Review { metadata, .. } => metadata,
        }
    }

    /// How leaves are classified as encrypted or plain.
    pub fn classifier(&self) -> Classifier {
        match self {
            Source::Doc(d) => Classifier::Rule(Selector::new(&d.metadata().effective_rule())),
            Source::Review { .. } => Classifier::Ciphertext,
        }
    }
}

/// How many tree rows fit in a terminal `height` rows tall (title, status and two borders).
/// How wide the tree pane is on a terminal `width` columns wide: the whole width below 100
/// columns (one pane; the details would squeeze both), else 60% beside the details.
pub fn tree_width(width: u16) -> u16 {
    if width < 100 {
        width
    } else {
        (u32::from(width) * 60 / 100) as u16
    }
}

pub fn tree_rows(height: u16) -> usize {
    height.saturating_sub(4) as usize
}

/// The file being edited, for titles and the status line.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// The name shown (no folder, so screens do not depend on where the file lives).
    pub name: String,
    pub format: Format,
}

/// The value editor or a one-line prompt: what it edits and its text.
pub struct EditState {
    pub target: EditTarget,
    pub area: TextArea<'static>,
    /// The type the text is read as on commit; `None` for a new (or null) value, whose type
    /// comes from the text as YAML reads it (`30` an int, `{}` a map…).
    pub kind: Option<ValueKind>,
}

/// What a value editor commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditTarget {
    /// The value of the item at this address.
    Value(Addr),
}

/// A one-line text prompt.
pub struct Prompt {
    pub purpose: PromptPurpose,
    pub area: TextArea<'static>,
}

/// What a prompt's text is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptPurpose {
    /// The key of a new map entry, inserted at this address.
    NewKey(Addr),
    /// The new key of the entry at this address.
    Rename(Addr),
    /// The key of a copy of the entry at this address.
    Duplicate(Addr),
    Search,
    /// A recipient to add to this key group (key manager).
    AddRecipient(usize),
    /// The first recipient of a new key group (key manager).
    NewGroup,
    /// A new Shamir threshold (key manager).
    Threshold,
    /// The typed "yes" a risky save needs (a secret stored in plain text, a lockout).
    ConfirmSave,
}

impl PromptPurpose {
    /// The prompt's title.
    pub fn label(&self) -> &'static str {
        match self {
            PromptPurpose::NewKey(_) => "New key",
            PromptPurpose::Rename(_) => "Rename to",
            PromptPurpose::Duplicate(_) => "Duplicate as",
            PromptPurpose::Search => "Search keys and values",
            PromptPurpose::AddRecipient(_) => {
                "Add recipient: age1…, ssh-…, PGP fingerprint, key file, KMS ARN or Vault URI"
            }
            PromptPurpose::NewGroup => {
                "New group, first recipient: age1…, ssh-…, PGP fp, key file, KMS ARN, Vault URI"
            }
            PromptPurpose::Threshold => "Shamir threshold: how many groups are needed to decrypt",
            PromptPurpose::ConfirmSave => "Type yes to save anyway (Esc goes back)",
        }
    }

    /// Whether the prompt belongs to the key manager (and returns to it).
    pub fn is_key_manager(&self) -> bool {
        matches!(
            self,
            PromptPurpose::AddRecipient(_) | PromptPurpose::NewGroup | PromptPurpose::Threshold
        )
    }
}

/// What a save would do that cannot be undone by editing again: values that would be stored in
/// plain text although they were encrypted, and a key change after which no key here can
/// decrypt the file. Either needs a typed confirmation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveReview {
    /// The net changes, when known (each: mark, where, what).
    pub net: Option<Vec<(char, String, String)>>,
    /// Key paths of values that the save would store in PLAIN TEXT.
    pub exposed: Vec<String>,
    /// Why nobody here could decrypt the file after the save, and who still could.
    pub lockout: Option<String>,
}

impl SaveReview {
    /// Whether the save needs the typed confirmation.
    pub fn is_risky(&self) -> bool {
        !self.exposed.is_empty() || self.lockout.is_some()
    }
}

/// A yes/no question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    Delete(Addr),
    QuitUnsaved,
    /// A merged file was saved: stage it in Git (`git add`)?
    Stage,
    /// Write the whole document to a temp file for `$EDITOR`?
    EditDocument,
    /// The document edited in `$EDITOR` could not be taken (why): edit it again?
    EditAgain(String),
}

/// The editor's mode: modals are modes, not objects of their own.
/// The command palette (`:`): what is typed, and which of the matching actions is selected.
pub struct Palette {
    pub area: TextArea<'static>,
    pub selected: usize,
}

/// One action the palette offers: its keymap name, keys and what it does.
#[derive(Clone, Debug)]
pub struct PaletteEntry {
    pub name: &'static str,
    pub keys: String,
    pub help: &'static str,
}

/// The help overlay: whose keys it lists and how far it is scrolled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelpView {
    pub key_manager: bool,
    pub scroll: usize,
}

/// The key lines the help overlay shows (keys, what they do), per screen, from the keymap in
/// use.
#[derive(Clone, Debug, Default)]
pub struct HelpLines {
    pub tree: Vec<(String, &'static str)>,
    pub key_manager: Vec<(String, &'static str)>,
    /// Every action of the tree, with its keys (none for some): the command palette's list.
    pub palette: Vec<PaletteEntry>,
}

pub enum Mode {
    Normal,
    Edit(Box<EditState>),
    Prompt(Box<Prompt>),
    Confirm(Confirm),
    ChangeType,
    /// The keys of the screen it was opened from, scrolled.
    Help(HelpView),
    /// The command palette.
    Palette(Box<Palette>),
    /// The key manager: groups, recipients, threshold, staged changes.
    KeyManager,
    /// A `.sops.yaml` rule's keys, shown before they are staged.
    RulePreview(Box<RulePreview>),
    /// The list of changes, before saving, and what in them needs a typed confirmation.
    ReviewSave(Box<SaveReview>),
    /// The file changed on disk: reload, overwrite or cancel.
    Conflict,
    /// The MAC did not verify.
    MacWarning,
    /// A reload kept some unsaved changes and had to drop others.
    Reloaded(Box<ReloadReport>),
    /// The places a Git merge left in conflict, each settled by taking a side.
    Merge,
    /// The selected value's history in Git.
    Blame(Box<crate::tui::blame::Blame>),
}

/// What a reload did with unsaved changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Changes carried over onto the file from disk.
    pub kept: usize,
    /// Changes dropped because the disk changed the same place differently (or why else).
    pub dropped: Vec<String>,
}

/// How a status message reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// The editor state.
pub struct Model {
    pub source: Source,
    pub file: FileInfo,
    /// Edits are refused (review mode, or a MAC mismatch without `--ignore-mac`).
    pub read_only: Option<String>,
    pub rows: Rows,
    pub cursor: usize,
    /// First visible row.
    pub scroll: usize,
    /// Height of the tree pane in rows (updated on resize).
    pub height: usize,
    /// The terminal's width in columns (updated on resize), to tell where a click landed.
    pub width: u16,
    /// The value marked by `=`, to compare with the next one.
    pub compare_mark: Option<Addr>,
    /// The row last clicked and when, so a second click on it soon after edits it.
    pub last_click: Option<(usize, std::time::Instant)>,
    pub collapsed: HashSet<Addr>,
    pub revealed: HashSet<Addr>,
    pub reveal_all: bool,
    pub mode: Mode,
    pub history: History,
    pub status: Option<(Level, String)>,
    pub search: Option<String>,
    /// Where the current search matches, in document order.
    pub search_hits: Vec<Addr>,
    /// The selection when the search prompt opened (Esc goes back to it).
    pub search_origin: Option<Addr>,
    /// Show only the search's matching branches.
    pub filter: bool,
    /// The watcher saw the file change since it was opened or last saved.
    pub disk_changed: bool,
    pub quit: bool,
    /// Opened with `--ignore-mac`: a MAC mismatch warns but does not make the file read-only.
    pub mac_ignored: bool,
    /// The help overlay's lines (keys, what they do), from the keymap in use.
    pub help: HelpLines,
    /// The key manager: staged recipient changes and what is known about each key.
    pub key_manager: KeyManager,
    /// What the last save could not keep (the file's owner, its other hard links), to say so.
    pub write_notes: Vec<String>,
    /// The Git merge this file is in the middle of, when it is.
    pub merge: Option<Box<crate::tui::merge::MergeState>>,
    /// What changed since a Git revision (`--against`).
    pub against: Option<Box<crate::tui::against::Against>>,
    /// How long plaintext may stay in sight, and whether it may be shown at all.
    pub privacy: crate::tui::privacy::Privacy,
    /// When revealed values are masked again.
    pub reveal_until: Option<std::time::Instant>,
    /// A value on the clipboard, cleared at its deadline or on quitting.
    pub clip: Option<Clip>,
    /// The leaves as last saved (keyed hashes, no values), taken before the first edit since,
    /// for the save review's net changes.
    pub saved_leaves: Option<Vec<crate::review::leaves::Leaf>>,
    /// The key those hashes are made under, for this run only.
    pub hasher: crate::review::leaves::ValueHasher,
    /// The text of a document edited in `$EDITOR` that could not be taken, kept (in memory)
    /// until the user edits it again or lets it go.
    pub pending_document: Option<crate::secret::SecretBuf>,
}

/// A copied value: when the clipboard is cleared, which path it came from, and how to
/// recognise it.
#[derive(Debug)]
pub struct Clip {
    pub until: std::time::Instant,
    pub what: String,
    pub copied: crate::tui::clipboard::Fingerprint,
}

impl Model {
    /// The model of a decrypted file, all nodes expanded, values masked. A MAC mismatch
    /// (the document was opened with `ignore_mac` so it can be shown) starts with a warning
    /// and leaves the file read-only unless the user passed `--ignore-mac` (`ignore_mac`).
    pub fn from_document(doc: Document, file: FileInfo, ignore_mac: bool) -> Model {
        let mut model = Model::new(Source::Doc(Box::new(doc)), file);
        model.mac_ignored = ignore_mac;
        model.check_integrity();
        model
    }

    /// Warns about a document whose MAC does not match or whose values do not all decrypt,
    /// and makes it read-only: always when values are damaged (they cannot be written back),
    /// else unless `--ignore-mac`.
    pub fn check_integrity(&mut self) {
        let Source::Doc(d) = &self.source else {
            return;
        };
        if d.mac_problem().is_none() {
            return;
        }
        self.mode = Mode::MacWarning;
        match d.damaged().len() {
            0 if self.mac_ignored => {}
            0 => self.set_read_only("the MAC does not match; pass --ignore-mac to edit"),
            1 => self.set_read_only("a value does not decrypt (marked ✗)"),
            n => self.set_read_only(format!("{n} values do not decrypt (marked ✗)")),
        }
    }

    /// Whether the value at `addr` did not decrypt (it holds its stored text, never shown).
    pub fn is_damaged(&self, addr: &Addr) -> bool {
        match &self.source {
            Source::Doc(d) => d
                .damaged()
                .iter()
                .any(|v| v.doc == addr.doc && v.items == addr.items),
            Source::Review { .. } => false,
        }
    }

    /// The model of a file opened without its key (review mode): the trees as stored,
    /// read-only, with `reason` in the banner.
    pub fn review(docs: Vec<Map>, metadata: Metadata, reason: String, file: FileInfo) -> Model {
        Model::new(
            Source::Review {
                docs,
                metadata: Box::new(metadata),
                reason,
            },
            file,
        )
    }

    /// A model over an opened source; the help lines are set by whoever owns the keymap.
    fn new(source: Source, file: FileInfo) -> Model {
        let read_only = match &source {
            Source::Review { reason, .. } => Some(format!("review mode, no key: {reason}")),
            Source::Doc(_) => None,
        };
        let key_manager = KeyManager::new(source.metadata());
        let mut model = Model {
            key_manager,
            rows: Rows::default(),
            source,
            file,
            read_only,
            cursor: 0,
            scroll: 0,
            height: 20,
            width: 100,
            last_click: None,
            compare_mark: None,
            collapsed: HashSet::new(),
            revealed: HashSet::new(),
            reveal_all: false,
            mode: Mode::Normal,
            history: History::default(),
            status: None,
            search: None,
            search_hits: Vec::new(),
            search_origin: None,
            filter: false,
            disk_changed: false,
            quit: false,
            help: HelpLines::default(),
            write_notes: Vec::new(),
            merge: None,
            against: None,
            privacy: crate::tui::privacy::Privacy::default(),
            reveal_until: None,
            clip: None,
            saved_leaves: None,
            hasher: Default::default(),
            pending_document: None,
            mac_ignored: false,
        };
        model.rebuild_rows();
        // Start on the first key, not on a leading comment.
        model.cursor = (0..model.rows.len())
            .find(|&i| {
                model
                    .rows
                    .get(i)
                    .is_some_and(|r| r.kind != crate::tui::rows::RowKind::Comment)
            })
            .unwrap_or(0);
        model
    }

    /// Marks the model read-only (a MAC mismatch opened without `--ignore-mac`).
    pub fn set_read_only(&mut self, why: impl Into<String>) {
        self.read_only = Some(why.into());
    }

    pub fn docs(&self) -> &[Map] {
        self.source.docs()
    }

    /// Rebuilds the visible-row index (after the structure or expansion changed), keeping the
    /// cursor on the same address where it still exists.
    pub fn rebuild_rows(&mut self) {
        let keep = self.selected_addr();
        self.rows = Rows::build(
            self.source.docs(),
            &self.collapsed,
            &self.source.classifier(),
        );
        if self.filter && !self.search_hits.is_empty() {
            self.rows = self.rows.only_towards(&self.search_hits);
        }
        if let Some(addr) = keep {
            self.select_addr(&addr);
        }
        self.clamp();
    }

    /// The address of the selected row (`None` on a document header or an empty tree).
    pub fn selected_addr(&self) -> Option<Addr> {
        self.rows.addr(self.cursor)
    }

    /// Moves the cursor to `addr`, or to its nearest visible ancestor.
    pub fn select_addr(&mut self, addr: &Addr) {
        let mut target = addr.clone();
        loop {
            if let Some(i) = self.rows.find(&target) {
                self.cursor = i;
                return;
            }
            if target.items.pop().is_none() {
                return;
            }
        }
    }

    /// Keeps cursor and scroll inside the rows and the cursor on screen.
    pub fn clamp(&mut self) {
        let n = self.rows.len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
        let h = self.height.max(1);
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + h {
            self.scroll = self.cursor + 1 - h;
        }
        self.scroll = self.scroll.min(n.saturating_sub(h));
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        }
    }

    /// The item at an address.
    pub fn item(&self, addr: &Addr) -> Option<ItemRef<'_>> {
        ops::item_at(self.docs().get(addr.doc)?, &addr.items)
    }

    /// The key path of an address, as `["a"][0]`.
    pub fn path_text(&self, addr: &Addr) -> String {
        let Some(doc) = self.docs().get(addr.doc) else {
            return String::new();
        };
        let path = ops::tree_path(doc, &addr.items)
            .map(|p| p.to_string())
            .unwrap_or_default();
        if self.docs().len() > 1 {
            format!("document {} {path}", addr.doc + 1)
        } else {
            path
        }
    }

    /// Whether a value is shown in clear.
    pub fn is_revealed(&self, addr: &Addr) -> bool {
        self.reveal_all || self.revealed.contains(addr)
    }

    /// Whether unsaved changes exist (values or recipients).
    pub fn dirty(&self) -> bool {
        self.history.dirty()
            || !self.key_manager.plan.is_empty()
            || self.merge.as_ref().is_some_and(|mg| !mg.saved)
    }

    /// Whether the key manager is the screen (under its prompts and questions too).
    pub fn on_key_manager(&self) -> bool {
        match &self.mode {
            Mode::KeyManager | Mode::RulePreview(_) => true,
            Mode::Prompt(p) => p.purpose.is_key_manager(),
            _ => false,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some((Level::Info, text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some((Level::Error, text.into()));
    }
}
