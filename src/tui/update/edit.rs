//! Changing the document: the value editor, delete, change type, undo and redo (add and
//! rename start in `prompt`). Every change is one `edit::ops` edit whose inverse goes on the
//! undo stack.

use crate::edit::ops::{Addr, Item, ItemRef, Op};
use crate::edit::same_content;
use crate::edit::value::{self, Typed, ValueKind};
use crate::secret::SecretBuf;
use crate::tree::{Entry, Leaf, List, Map, Node, Scalar};
use crate::tui::action::Action;
use crate::tui::history::Step;
use crate::tui::model::{
    Confirm, EditState, EditTarget, Mode, Model, Prompt, PromptPurpose, Source,
};
use crate::tui::rows::RowKind;
use crate::tui::update::{Effect, nav};
use ratatui_textarea::TextArea;
use zeroize::Zeroize;

/// A text area that keeps no undo copies of what is typed (values may be secret).
pub(super) fn text_area(text: &str) -> TextArea<'static> {
    let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut area = TextArea::new(lines);
    area.set_max_histories(0);
    area.move_cursor(ratatui_textarea::CursorMove::Bottom);
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area
}

/// Opens a one-line prompt for `purpose`, holding `text`.
pub(super) fn ask(m: &mut Model, purpose: PromptPurpose, text: &str) {
    m.mode = Mode::Prompt(Box::new(Prompt {
        purpose,
        area: text_area(text),
    }));
}

/// Takes the text out of an area and wipes the area's lines.
pub(super) fn take_text(area: TextArea<'static>) -> zeroize::Zeroizing<String> {
    let mut lines = area.into_lines();
    let text = zeroize::Zeroizing::new(lines.join("\n"));
    for line in &mut lines {
        line.zeroize();
    }
    text
}

pub(super) fn writable(m: &mut Model) -> bool {
    allowed(m, "")
}

/// False, with the reason and `consequence` in the status line, when the file is read-only.
pub(super) fn allowed(m: &mut Model, consequence: &str) -> bool {
    match m.read_only.clone() {
        Some(why) => {
            m.error(format!("read-only ({why}){consequence}"));
            false
        }
        None => true,
    }
}

/// Applies an edit to the document, keeps recorded places in step, and returns the inverse.
fn apply(m: &mut Model, op: Op) -> Option<Op> {
    let shift = match &op {
        Op::Insert { at, .. } => Some((at.clone(), true)),
        Op::Remove { at } => Some((at.clone(), false)),
        Op::Replace { .. } => None,
    };
    let Source::Doc(doc) = &mut m.source else {
        m.error("read-only: review mode has no key");
        return None;
    };
    match doc.apply(op) {
        Ok(inverse) => {
            if let Some((at, inserted)) = shift {
                m.history.shift(&at, inserted);
                // Folds and reveals follow their values past the insert or removal.
                let follow = |set: &mut std::collections::HashSet<Addr>| {
                    *set = std::mem::take(set)
                        .into_iter()
                        .filter_map(|mut a| a.shift(&at, inserted).then_some(a))
                        .collect();
                };
                follow(&mut m.collapsed);
                follow(&mut m.revealed);
            }
            Some(inverse)
        }
        Err(e) => {
            m.error(format!("cannot apply the edit: {e}"));
            None
        }
    }
}

/// Applies and records one step.
pub(super) fn commit(m: &mut Model, op: Op, label: String, touched: Addr, deep: bool) -> bool {
    commit_step(m, op, label, touched, deep, false)
}

/// Applies `ops` as one change: recorded as steps undone and redone together, and either all
/// applied or, when one does not fit, none (those before it are undone). Returns how many.
pub(super) fn commit_all(m: &mut Model, ops: Vec<Op>, label: &str) -> Result<usize, String> {
    let n = ops.len();
    for (i, op) in ops.into_iter().enumerate() {
        let (touched, deep) = match &op {
            Op::Remove { at } => (at.parent(), false),
            Op::Insert { at, .. } | Op::Replace { at, .. } => (at.clone(), true),
        };
        if !commit_step(m, op, label.to_string(), touched, deep, i > 0) {
            let why = m.status.take().map(|(_, t)| t).unwrap_or_default();
            for _ in 0..i {
                step_history(m, false);
            }
            m.history.forget_redo();
            return Err(why);
        }
    }
    m.rebuild_rows();
    Ok(n)
}

fn commit_step(
    m: &mut Model,
    op: Op,
    label: String,
    touched: Addr,
    deep: bool,
    joined: bool,
) -> bool {
    // A new leaf value under the same key keeps the rows as they are; anything else (a new
    // key, an insert, a removal) rebuilds them.
    let structural = match &op {
        Op::Replace {
            item: Item::Node(Node::Leaf(_)),
            ..
        } => false,
        Op::Replace {
            at,
            item: Item::Entry(e),
        } => {
            !(matches!(e.value, Node::Leaf(_))
                && matches!(m.item(at), Some(ItemRef::Entry(old)) if old.key == e.key))
        }
        _ => true,
    };
    // The saved state, before the first edit since the last save, for the net review.
    if m.saved_leaves.is_none()
        && let Source::Doc(doc) = &m.source
    {
        m.saved_leaves = crate::tui::net_changes::snapshot(doc, &m.hasher);
    }
    let Some(inverse) = apply(m, op) else {
        return false;
    };
    m.history.record(Step {
        op: inverse,
        label: label.clone(),
        touched,
        deep,
        joined,
    });
    if structural {
        // The matches' places move with the edit: every row shows again.
        m.filter = false;
        m.rebuild_rows();
    }
    m.info(label);
    true
}

/// Replaces the value at `addr` as one undoable step named `label`.
fn replace_value(m: &mut Model, addr: Addr, value: Scalar, label: String) {
    let Some(item) = with_value(m, &addr, value) else {
        return;
    };
    commit(
        m,
        Op::Replace {
            at: addr.clone(),
            item,
        },
        label,
        addr,
        true,
    );
}

/// The item at `addr` with a new leaf value, keeping its key.
fn with_value(m: &Model, addr: &Addr, value: Scalar) -> Option<Item> {
    with_node(
        m,
        addr,
        Node::Leaf(Leaf {
            value,
            cipher: None,
        }),
    )
}

/// The item at `addr` with a new value, keeping its key.
fn with_node(m: &Model, addr: &Addr, node: Node) -> Option<Item> {
    match m.item(addr)? {
        ItemRef::Entry(e) => Some(Item::Entry(Entry {
            key: e.key.clone(),
            value: node,
        })),
        ItemRef::Node(_) => Some(Item::Node(node)),
        ItemRef::Comment(_) => None,
    }
}

pub fn start_edit(m: &mut Model) {
    let Some(row) = m.rows.get(m.cursor).copied() else {
        return;
    };
    match row.kind {
        RowKind::Map | RowKind::List | RowKind::Doc => {
            if row.collapsed {
                nav::expand(m);
            } else {
                nav::collapse(m);
            }
            return;
        }
        RowKind::Comment => {
            m.info("comments are kept as they are; edit the file's values instead");
            return;
        }
        RowKind::Leaf => {}
    }
    if !writable(m) {
        return;
    }
    let Some(addr) = m.selected_addr() else {
        return;
    };
    open_editor(m, addr);
}

pub(super) fn open_editor(m: &mut Model, addr: Addr) {
    open_value_editor(m, addr, false);
}

/// Opens the value editor on the leaf at `addr`. A new value (`new`) or a null one takes its
/// type from the text on commit.
pub(super) fn open_value_editor(m: &mut Model, addr: Addr, new: bool) {
    let (kind, text, type_name) = match m.item(&addr).and_then(|i| i.node()) {
        Some(Node::Leaf(leaf)) => (
            ValueKind::of(&leaf.value),
            value::text_of(&leaf.value),
            leaf.value.type_name(),
        ),
        _ => return,
    };
    let Some(kind) = kind else {
        m.error(format!("a {type_name} value cannot be edited as text here"));
        return;
    };
    if m.privacy.no_reveal && !new {
        m.error("presentation mode (--no-reveal): a value is not shown, so it is not edited here");
        return;
    }
    let kind = (!new && kind != ValueKind::Null).then_some(kind);
    let area = text_area(&text.to_lossy());
    m.mode = Mode::Edit(Box::new(EditState {
        target: EditTarget::Value(addr),
        area,
        kind,
    }));
    m.info(if kind.is_none() {
        "typed as YAML reads it: 30 int · 2.5 float · true bool · null · {} map · [] list · \"30\" string · Enter commits · Esc cancels"
    } else {
        "Enter commits · Alt-Enter or Ctrl-J adds a line · Ctrl-S commits many lines · Esc cancels"
    });
}

/// `E`: the selected value in `$EDITOR`, for long or multi-line values.
pub fn start_external(m: &mut Model) -> Vec<Effect> {
    if !writable(m) {
        return vec![];
    }
    if m.privacy.no_reveal {
        m.error("presentation mode (--no-reveal): a value is not shown, so it is not edited here");
        return vec![];
    }
    match m.selected_addr() {
        Some(addr) if matches!(m.item(&addr).and_then(|i| i.node()), Some(Node::Leaf(_))) => {
            vec![Effect::EditExternal(addr)]
        }
        _ => {
            m.info("select a value to edit it in $EDITOR");
            vec![]
        }
    }
}

/// `edit_document`: asks before the whole document goes into a temp file for `$EDITOR`.
pub fn ask_edit_document(m: &mut Model) {
    if !writable(m) {
        return;
    }
    if m.privacy.no_reveal {
        m.error(
            "presentation mode (--no-reveal): the document is not shown, so it is not edited here",
        );
        return;
    }
    m.mode = Mode::Confirm(Confirm::EditDocument);
}

/// What `$EDITOR` left for the whole document: the least edits that lead there, as one
/// change (unchanged values keep their ciphertext). Text that cannot be taken is kept so it
/// can be edited again rather than lost.
pub fn edited_document(m: &mut Model, result: Result<SecretBuf, String>) {
    let text = match result {
        Ok(text) => text,
        Err(e) => {
            m.error(e);
            return;
        }
    };
    let docs = match crate::store::parse_plain(m.file.format, text.expose()) {
        Ok(parsed) => parsed.docs,
        Err(e) => return edit_again(m, text, format!("it does not parse: {e}")),
    };
    if docs.len() != m.docs().len() {
        let why = format!(
            "it has {} document(s) where the file has {}; documents are added or removed on the command line",
            docs.len(),
            m.docs().len()
        );
        return edit_again(m, text, why);
    }
    if docs.iter().any(|d| d.get("sops").is_some()) {
        let why = "it has a top-level key 'sops', where sops keeps its metadata".to_string();
        return edit_again(m, text, why);
    }
    let ops: Vec<Op> = docs
        .into_iter()
        .enumerate()
        .flat_map(|(i, new)| crate::edit::rewrite::ops(i, &m.docs()[i], new))
        .collect();
    if ops.is_empty() {
        m.info("the document is unchanged");
        return;
    }
    match commit_all(m, ops, "edited the document in $EDITOR") {
        Ok(n) => m.info(format!(
            "edited the document in $EDITOR: {n} change(s) (u undoes them together)"
        )),
        Err(why) => edit_again(m, text, why),
    }
}

fn edit_again(m: &mut Model, text: SecretBuf, why: String) {
    m.pending_document = Some(text);
    m.mode = Mode::Confirm(Confirm::EditAgain(why));
}

/// What `$EDITOR` left: committed as the value editor commits (a text that does not fit the
/// value's type opens in the value editor, so nothing typed is lost).
pub fn edited_externally(
    m: &mut Model,
    addr: Addr,
    result: Result<crate::secret::SecretText, String>,
) {
    let text = match result {
        Ok(text) => text,
        Err(e) => {
            m.error(e);
            return;
        }
    };
    let kind = match m.item(&addr).and_then(|i| i.node()) {
        Some(Node::Leaf(leaf)) => ValueKind::of(&leaf.value).filter(|k| *k != ValueKind::Null),
        _ => return,
    };
    m.mode = Mode::Edit(Box::new(EditState {
        target: EditTarget::Value(addr),
        area: text_area(text.as_str()),
        kind,
    }));
    commit_editor(m);
}

pub fn in_editor(m: &mut Model, action: Action) -> Vec<Effect> {
    let Mode::Edit(state) = &mut m.mode else {
        return vec![];
    };
    match action {
        Action::Input(key) => {
            state.area.input(key.0);
        }
        Action::Newline => state.area.insert_newline(),
        Action::ClearField => drop(take_text(std::mem::replace(&mut state.area, text_area("")))),
        Action::Paste(text) => {
            // Line breaks normalised in one zeroizing copy (never longer than the paste).
            let pasted = text.as_str();
            let mut text = zeroize::Zeroizing::new(String::with_capacity(pasted.len()));
            let mut chars = pasted.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\r' {
                    chars.next_if_eq(&'\n');
                    text.push('\n');
                } else {
                    text.push(c);
                }
            }
            state.area.insert_str(text.as_str());
        }
        Action::Confirm if state.area.lines().len() > 1 => state.area.insert_newline(),
        Action::Confirm | Action::Commit => commit_editor(m),
        Action::Cancel => {
            if let Mode::Edit(state) = std::mem::replace(&mut m.mode, Mode::Normal) {
                drop(take_text(state.area));
            }
            m.info("edit cancelled");
        }
        _ => {}
    }
    vec![]
}

fn commit_editor(m: &mut Model) {
    let Mode::Edit(state) = std::mem::replace(&mut m.mode, Mode::Normal) else {
        return;
    };
    let EditState { target, area, kind } = *state;
    let EditTarget::Value(addr) = target;
    let text = take_text(area);
    let typed = match kind {
        None => value::infer(&text),
        Some(kind) => match value::parse(kind, &text) {
            Ok(v) => Typed::Scalar(v),
            Err(e) => {
                // Back into the editor with the text, so nothing typed is lost.
                m.mode = Mode::Edit(Box::new(EditState {
                    target: EditTarget::Value(addr.clone()),
                    area: text_area(&text),
                    kind: Some(kind),
                }));
                m.error(format!(
                    "{} is a {} value: {e}",
                    m.path_text(&addr),
                    kind.name()
                ));
                return;
            }
        },
    };
    let node = match typed {
        Typed::Scalar(value) => Node::scalar(value),
        Typed::Map => Node::Map(Map::new()),
        Typed::List => Node::List(List::new()),
    };
    let unchanged =
        matches!(m.item(&addr).and_then(|i| i.node()), Some(old) if same_content(old, &node));
    if unchanged {
        m.info("unchanged");
        return;
    }
    let label = format!("changed {}", m.path_text(&addr));
    match node {
        Node::Leaf(leaf) => replace_value(m, addr, leaf.value, label),
        container => {
            let Some(item) = with_node(m, &addr, container) else {
                return;
            };
            let op = Op::Replace {
                at: addr.clone(),
                item,
            };
            if commit(m, op, label, addr.clone(), true) {
                nav::show(m, &addr);
                m.info("empty; press a on it to add inside");
            }
        }
    }
}

pub fn ask_delete(m: &mut Model) {
    if !writable(m) {
        return;
    }
    if let Some(addr) = m.selected_addr() {
        m.mode = Mode::Confirm(Confirm::Delete(addr));
    }
}

pub fn delete(m: &mut Model, addr: Addr) {
    let label = format!("deleted {}", m.path_text(&addr));
    let parent = addr.parent();
    if commit(m, Op::Remove { at: addr.clone() }, label, parent, false) {
        m.select_addr(&addr);
        m.clamp();
    }
}

pub fn ask_type(m: &mut Model) {
    if !writable(m) {
        return;
    }
    let is_leaf = m
        .selected_addr()
        .is_some_and(|a| matches!(m.item(&a).and_then(|i| i.node()), Some(Node::Leaf(_))));
    if is_leaf {
        m.mode = Mode::ChangeType;
    } else {
        m.error("select a value to change its type");
    }
}

pub fn set_type(m: &mut Model, kind: ValueKind) {
    let Some(addr) = m.selected_addr() else {
        return;
    };
    let Some(current) = m
        .item(&addr)
        .and_then(|i| i.node())
        .and_then(|n| n.as_scalar())
        .cloned()
    else {
        return;
    };
    if ValueKind::of(&current) == Some(kind) {
        m.info(format!("already a {} value", kind.name()));
        return;
    }
    let value = match value::convert(&current, kind) {
        Ok(v) => v,
        Err(e) => {
            m.error(format!(
                "{} cannot become {}: {e}",
                m.path_text(&addr),
                kind.name()
            ));
            return;
        }
    };
    let label = format!(
        "changed the type of {} to {}",
        m.path_text(&addr),
        kind.name()
    );
    replace_value(m, addr, value, label);
}

pub fn undo(m: &mut Model) {
    // A change made of several steps is undone whole.
    while step_history(m, false) == Some(true) {}
}

pub fn redo(m: &mut Model) {
    if step_history(m, true).is_some() {
        while m.history.redo_continues() && step_history(m, true).is_some() {}
    }
}

/// Applies the newest undo (or redo) step and files its inverse on the other stack; returns
/// whether that step was joined to the one before it (`None`: nothing was done).
fn step_history(m: &mut Model, forward: bool) -> Option<bool> {
    let (taken, verb) = if forward {
        (m.history.take_redo(), "redid")
    } else {
        (m.history.take_undo(), "undid")
    };
    let Some(Step {
        op,
        label,
        touched,
        deep,
        joined,
    }) = taken
    else {
        m.info(if forward {
            "nothing to redo"
        } else {
            "nothing to undo"
        });
        return None;
    };
    // An edit that no longer fits the tree (a bug) shows its error and the step is dropped.
    let inverse = apply(m, op)?;
    let step = Step {
        op: inverse,
        label: label.clone(),
        touched: touched.clone(),
        deep,
        joined,
    };
    if forward {
        m.history.redone(step);
    } else {
        m.history.undone(step);
    }
    m.rebuild_rows();
    nav::show(m, &touched);
    m.info(format!("{verb}: {label}"));
    Some(joined)
}
