//! What the editor can be asked to do. The names of the bindable actions are also the words a
//! user writes in `keymap.toml`, and the help overlay is generated from the same table.

use crate::keys::MasterKey;
use crate::secret::SecretText;
use crate::tui::key_manager::{KeyFacts, KeyId, RulePreview};
use crate::tui::model::Source;
use crossterm::event::KeyEvent;

/// One thing to do, from a key, a paste, the file watcher or a finished effect.
#[derive(Debug)]
pub enum Action {
    Up,
    Down,
    Collapse,
    Expand,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Edit the selected value (or commit, in the value editor).
    Edit,
    Reveal,
    RevealAll,
    Add,
    Rename,
    Delete,
    ChangeType,
    Undo,
    Redo,
    Search,
    SearchNext,
    SearchPrev,
    Save,
    /// Open or close the key manager screen.
    KeyManager,
    /// Key manager: add a key group (asks for its first recipient).
    AddGroup,
    /// Key manager: change the Shamir threshold.
    Threshold,
    /// Key manager: stage a new data key.
    Rotate,
    /// Key manager: take the keys of the file's `.sops.yaml` creation rule.
    ApplyRule,
    Help,
    Quit,
    /// Accept a prompt or a question; in the value editor, commit a one-line value (a
    /// multi-line value gets a line break).
    Confirm,
    /// Commit the value editor, one line or many.
    Commit,
    /// Leave the value editor, a prompt, a question or an overlay without doing anything.
    Cancel,
    /// Insert a line break in the value editor (values may span lines).
    Newline,
    /// Read the file again from disk, keeping unsaved edits that do not conflict.
    Reload,
    /// In a question about a file changed on disk: write over it.
    Overwrite,
    /// Pick a type in the change-type menu.
    SetType(crate::edit::value::ValueKind),
    /// A key typed into the value editor or a prompt (not bindable).
    Input(Keystroke),
    /// Bracketed paste (not bindable).
    Paste(SecretText),
    /// The terminal size changed (not bindable).
    Resize(u16, u16),
    /// The file changed on disk since it was opened (from the watcher, not bindable).
    FileChanged,
    /// A save finished (not bindable).
    Saved,
    /// A save or reload failed (not bindable).
    Failed(String),
    /// The file on disk differs from what was opened: ask before writing (not bindable).
    Conflict,
    /// The file was read again from disk (not bindable).
    Reloaded(Box<Source>),
    /// What this machine can do with some keys (from the session, not bindable).
    KeysProbed(Vec<(KeyId, KeyFacts)>),
    /// The keys of an armored PGP key file typed as a recipient, for a group (`None`: a new
    /// group), or why it could not be read (not bindable).
    PgpImported {
        group: Option<usize>,
        result: Result<Vec<MasterKey>, String>,
    },
    /// The `.sops.yaml` rule for the file, or why there is none (not bindable).
    RuleFound(Result<Box<RulePreview>, String>),
    /// Open the merge conflict screen (a file in the middle of a Git merge).
    Conflicts,
    /// On the conflict screen: take this side's value (not bindable: o, t, b there).
    Take(crate::filemerge::Which),
    /// The merged file was staged in Git, or why not (not bindable).
    Staged(Result<(), String>),
    /// Show the selected value's history in Git.
    History,
    /// A value's history, or why there is none (not bindable).
    HistoryLoaded(Result<Box<crate::tui::blame::Blame>, String>),
    /// The value at a commit of the history screen, or why it cannot be shown (not bindable).
    HistoryValue(usize, Result<Option<crate::tree::Node>, String>),
    /// Ctrl-Z: stop the editor and return to the shell until `fg`.
    Suspend,
    /// Open the command palette (every action by name, and jumping to a key path).
    Palette,
    /// Mark the selected value, or tell whether it holds the same as the marked one (neither is
    /// shown).
    Compare,
    /// Copy the selected entry (a value or a whole map or list) under a new key, or a list
    /// item after itself.
    Duplicate,
    /// In a text field: clear it.
    ClearField,
    /// Show only the rows that lead to the search's matches, or all rows again.
    Filter,
    /// Edit the selected value in `$EDITOR` (a private temp file on a RAM-backed file system).
    EditExternal,
    /// Edit the whole document as text in `$EDITOR`, as `sops edit` does (asks first: the text
    /// goes into a temp file).
    EditDocument,
    /// The text `$EDITOR` left for the whole document, or why there is none (not bindable).
    EditedDocument(Result<crate::secret::SecretBuf, String>),
    /// The text `$EDITOR` left for the value at this address, or why there is none (not
    /// bindable).
    EditedExternally {
        addr: crate::edit::ops::Addr,
        result: Result<SecretText, String>,
    },
    /// A left click at this column and row of the screen (not bindable).
    Click(u16, u16),
    /// The mouse wheel: rows to move, up negative (not bindable).
    Scroll(isize),
    /// Copy the selected value to the clipboard (cleared again after `SESAME_CLIP_TIME`).
    Copy,
    /// Copy the selected key's path (`["api"]["token"]`).
    CopyPath,
    /// Something was copied: what, and for a value how to recognise it when clearing (not
    /// bindable).
    Copied {
        what: String,
        /// Which clipboards took it.
        to: &'static str,
        secret: Option<crate::tui::clipboard::Fingerprint>,
    },
    /// The clipboard was cleared (not bindable).
    ClipboardCleared,
    /// Time passed: revealed values and the clipboard may be due to be cleared (from the loop,
    /// not bindable).
    Tick(std::time::Instant),
}

/// A key typed into a text field: it may be part of a secret, so `Debug` does not show it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Keystroke(pub KeyEvent);

impl std::fmt::Debug for Keystroke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keystroke([redacted])")
    }
}

/// A bindable action: its config name, how to make it, and the line the help overlay shows.
pub type Bindable = (&'static str, fn() -> Action, &'static str);

/// The bindable actions, in the order the help overlay lists them.
pub const BINDABLE: &[Bindable] = &[
    ("up", || Action::Up, "move up"),
    ("down", || Action::Down, "move down"),
    (
        "collapse",
        || Action::Collapse,
        "collapse / go to the parent",
    ),
    ("expand", || Action::Expand, "expand"),
    ("top", || Action::Top, "first row"),
    ("bottom", || Action::Bottom, "last row"),
    ("page_up", || Action::PageUp, "page up"),
    ("page_down", || Action::PageDown, "page down"),
    ("edit", || Action::Edit, "edit the value"),
    (
        "edit_external",
        || Action::EditExternal,
        "edit the value in $EDITOR",
    ),
    (
        "edit_document",
        || Action::EditDocument,
        "edit the whole document in $EDITOR (asks first)",
    ),
    ("reveal", || Action::Reveal, "reveal or mask the value"),
    (
        "reveal_all",
        || Action::RevealAll,
        "reveal or mask all values",
    ),
    ("add", || Action::Add, "add a key or list item"),
    ("rename", || Action::Rename, "rename the key"),
    ("delete", || Action::Delete, "delete (asks first)"),
    (
        "change_type",
        || Action::ChangeType,
        "change the value's type",
    ),
    ("undo", || Action::Undo, "undo"),
    ("redo", || Action::Redo, "redo"),
    ("search", || Action::Search, "search keys and values"),
    ("search_next", || Action::SearchNext, "next match"),
    ("search_prev", || Action::SearchPrev, "previous match"),
    (
        "filter",
        || Action::Filter,
        "only the search's matches (again: all)",
    ),
    ("save", || Action::Save, "save (review first)"),
    (
        "key_manager",
        || Action::KeyManager,
        "key manager (recipients)",
    ),
    ("reload", || Action::Reload, "reload (keeps your edits)"),
    ("add_group", || Action::AddGroup, "keys: add a key group"),
    ("threshold", || Action::Threshold, "keys: Shamir threshold"),
    ("rotate", || Action::Rotate, "keys: new data key"),
    (
        "apply_rule",
        || Action::ApplyRule,
        "keys: take .sops.yaml rule",
    ),
    ("history", || Action::History, "the value's Git history"),
    ("copy", || Action::Copy, "copy the value (auto-clears)"),
    ("copy_path", || Action::CopyPath, "copy the key's path"),
    (
        "compare",
        || Action::Compare,
        "same value? (mark, then compare)",
    ),
    (
        "suspend",
        || Action::Suspend,
        "suspend to the shell (fg resumes)",
    ),
    ("conflicts", || Action::Conflicts, "Git merge conflicts"),
    ("help", || Action::Help, "this help"),
    (
        "palette",
        || Action::Palette,
        "command palette: any action by name",
    ),
    ("quit", || Action::Quit, "quit (asks if unsaved)"),
    ("confirm", || Action::Confirm, "editor, prompt: accept"),
    ("commit", || Action::Commit, "editor: commit multi-line"),
    ("cancel", || Action::Cancel, "editor, prompt: cancel"),
    ("newline", || Action::Newline, "editor: line break"),
    (
        "clear_field",
        || Action::ClearField,
        "editor, prompt: clear the text",
    ),
    (
        "duplicate",
        || Action::Duplicate,
        "duplicate the key or item",
    ),
];

/// Names that earlier versions used, so users' keymap files keep working.
const OLD_NAMES: &[(&str, &str)] = &[("recipients", "key_manager")];

/// The canonical name of the action a keymap file calls `name` (case, `-` for `_` and old
/// names allowed).
pub fn canonical_name(name: &str) -> Option<&'static str> {
    let name = name.trim().replace('-', "_").to_ascii_lowercase();
    let name = OLD_NAMES
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name.as_str(), |(_, new)| new);
    BINDABLE
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

impl Action {
    /// The action named `name` in a keymap file.
    pub fn from_name(name: &str) -> Option<Action> {
        let name = canonical_name(name)?;
        BINDABLE
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, make, _)| make())
    }

    /// The keymap name of a bindable action.
    pub fn name(&self) -> Option<&'static str> {
        let key = std::mem::discriminant(self);
        BINDABLE
            .iter()
            .find(|(_, make, _)| std::mem::discriminant(&make()) == key)
            .map(|(n, _, _)| *n)
    }
}
