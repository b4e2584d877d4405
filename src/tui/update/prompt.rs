//! Prompts over the tree: the key of a new entry (or a new list item), a new name for an
//! entry, and a search; the key manager's prompts are handed to `key_manager`.

use crate::edit::ops::{self, Addr, Item, ItemRef, Op};
use crate::tree::{Entry, Node};
use crate::tui::action::Action;
use crate::tui::model::{Mode, Model, Prompt, PromptPurpose};
use crate::tui::rows::RowKind;
use crate::tui::update::edit::{ask, commit, open_value_editor, take_text, writable};
use crate::tui::update::{Effect, nav};

/// Where an added item goes: inside the selected container, or after the selected item.
fn add_target(m: &Model) -> Option<(Addr, bool)> {
    let row = m.rows.get(m.cursor).copied();
    let addr = m.selected_addr();
    let container_len = |a: &Addr| -> Option<(usize, bool)> {
        match m.item(a)?.node()? {
            Node::Map(map) => Some((map.items.len(), true)),
            Node::List(l) => Some((l.items.len(), false)),
            Node::Leaf(_) => None,
        }
    };
    match (row, addr) {
        (None, _) => Some((Addr::new(0, vec![m.docs().first()?.items.len()]), true)),
        (Some(r), None) => {
            let doc = m.docs().get(r.doc as usize)?;
            Some((Addr::new(r.doc as usize, vec![doc.items.len()]), true))
        }
        (Some(r), Some(a)) if matches!(r.kind, RowKind::Map | RowKind::List) => {
            let (len, is_map) = container_len(&a)?;
            Some((a.child(len), is_map))
        }
        (Some(_), Some(a)) => {
            let parent = a.parent();
            let is_map = if parent.items.is_empty() {
                true
            } else {
                container_len(&parent)?.1
            };
            let mut at = a;
            *at.items.last_mut()? += 1;
            Some((at, is_map))
        }
    }
}

pub fn start_add(m: &mut Model) {
    if !writable(m) {
        return;
    }
    let Some((at, is_map)) = add_target(m) else {
        return;
    };
    if is_map {
        ask(m, PromptPurpose::NewKey(at), "");
        return;
    }
    let label = format!("added an item at {}", list_label(m, &at));
    if commit(
        m,
        Op::Insert {
            at: at.clone(),
            item: Item::Node(Node::string("")),
        },
        label,
        at.clone(),
        true,
    ) {
        nav::show(m, &at);
        open_value_editor(m, at, true);
    }
}

fn list_label(m: &Model, at: &Addr) -> String {
    format!(
        "{}[{}]",
        m.path_text(&at.parent()),
        at.items.last().copied().unwrap_or(0)
    )
}

/// `D`: a map entry is copied under a key the user gives; a list item right after itself.
pub fn start_duplicate(m: &mut Model) {
    if !writable(m) {
        return;
    }
    let Some(addr) = m.selected_addr() else {
        return;
    };
    match m.item(&addr) {
        Some(ItemRef::Entry(e)) => {
            let key = format!("{}_copy", e.key);
            ask(m, PromptPurpose::Duplicate(addr), &key);
        }
        Some(ItemRef::Node(n)) => {
            let item = Item::Node(ops::copied(n));
            let mut at = addr.clone();
            if let Some(last) = at.items.last_mut() {
                *last += 1;
            }
            let label = format!("duplicated {}", m.path_text(&addr));
            if commit(
                m,
                Op::Insert {
                    at: at.clone(),
                    item,
                },
                label,
                at.clone(),
                true,
            ) {
                nav::show(m, &at);
            }
        }
        _ => m.info("select a key or a list item to duplicate it"),
    }
}

pub fn start_rename(m: &mut Model) {
    if !writable(m) {
        return;
    }
    let Some(addr) = m.selected_addr() else {
        return;
    };
    let Some(ItemRef::Entry(e)) = m.item(&addr) else {
        m.error("only map keys can be renamed (list items have no key)");
        return;
    };
    let key = e.key.clone();
    ask(m, PromptPurpose::Rename(addr), &key);
}

/// Opens the search prompt; the search runs as the query is typed.
pub fn start_search(m: &mut Model) {
    m.search_origin = m.selected_addr();
    ask(m, PromptPurpose::Search, "");
    m.info("type to search keys and values · Enter keeps the match · Esc goes back");
}

/// The search prompt's text, searched for at once.
fn search_as_typed(m: &mut Model) {
    let Mode::Prompt(prompt) = &m.mode else {
        return;
    };
    if prompt.purpose != PromptPurpose::Search {
        return;
    }
    let query = prompt.area.lines().join("");
    nav::live_search(m, &query);
}

pub fn in_prompt(m: &mut Model, action: Action) -> Vec<Effect> {
    let Mode::Prompt(prompt) = &mut m.mode else {
        return vec![];
    };
    match action {
        Action::Input(key) => {
            prompt.area.input(key.0);
            search_as_typed(m);
        }
        Action::ClearField => {
            drop(take_text(std::mem::replace(
                &mut prompt.area,
                crate::tui::update::edit::text_area(""),
            )));
            search_as_typed(m);
        }
        Action::Paste(text) => {
            prompt
                .area
                .insert_str(text.as_str().lines().next().unwrap_or(""));
            search_as_typed(m);
        }
        Action::Cancel => {
            let searching = prompt.purpose == PromptPurpose::Search;
            m.mode = if prompt.purpose.is_key_manager() {
                Mode::KeyManager
            } else {
                Mode::Normal
            };
            if searching {
                // Back where the search began, as if it never ran.
                m.search_hits.clear();
                if m.filter {
                    m.filter = false;
                    m.rebuild_rows();
                }
                if let Some(origin) = m.search_origin.take() {
                    m.select_addr(&origin);
                    m.clamp();
                }
                m.info("search cancelled");
            }
        }
        Action::Confirm | Action::Commit => {
            let Mode::Prompt(prompt) = std::mem::replace(&mut m.mode, Mode::Normal) else {
                return vec![];
            };
            let Prompt { purpose, area } = *prompt;
            let text = take_text(area).to_string();
            if purpose.is_key_manager() {
                m.mode = Mode::KeyManager;
                return super::key_manager::prompt_done(m, purpose, text);
            }
            if purpose == PromptPurpose::ConfirmSave {
                return super::confirm_risky_save(m, &text);
            }
            prompt_done(m, purpose, text);
        }
        _ => {}
    }
    vec![]
}

fn prompt_done(m: &mut Model, purpose: PromptPurpose, text: String) {
    match purpose {
        PromptPurpose::Search => {
            m.search_origin = None;
            if text.is_empty() {
                m.search = None;
                m.search_hits.clear();
                if m.filter {
                    m.filter = false;
                    m.rebuild_rows();
                }
                return;
            }
            let at = m.selected_addr();
            let found = at
                .as_ref()
                .and_then(|a| m.search_hits.iter().position(|h| h == a));
            let count = m.search_hits.len();
            match found {
                Some(i) => m.info(format!("/{text}: {} of {count} · n/N move", i + 1)),
                None => m.error(format!("nothing matches {text:?}")),
            }
            m.search = Some(text);
        }
        PromptPurpose::NewKey(at) => {
            if text.is_empty() {
                m.error("a key cannot be empty");
                return;
            }
            let label = format!("added {}{}", m.path_text(&at.parent()), key_step(&text));
            let op = Op::Insert {
                at: at.clone(),
                item: Item::Entry(Entry {
                    key: text,
                    value: Node::string(""),
                }),
            };
            if commit(m, op, label, at.clone(), true) {
                nav::show(m, &at);
                open_value_editor(m, at, true);
            }
        }
        PromptPurpose::Duplicate(addr) => {
            let Some(ItemRef::Entry(e)) = m.item(&addr) else {
                return;
            };
            if text.is_empty() {
                m.error("a key cannot be empty");
                return;
            }
            let copy = ops::renamed(e, text.clone());
            let mut at = addr.clone();
            if let Some(last) = at.items.last_mut() {
                *last += 1;
            }
            let label = format!(
                "duplicated {} as {}{}",
                m.path_text(&addr),
                m.path_text(&addr.parent()),
                key_step(&text)
            );
            let op = Op::Insert {
                at: at.clone(),
                item: Item::Entry(copy),
            };
            if commit(m, op, label, at.clone(), true) {
                nav::show(m, &at);
            }
        }
        PromptPurpose::AddRecipient(_)
        | PromptPurpose::NewGroup
        | PromptPurpose::Threshold
        | PromptPurpose::ConfirmSave => {}
        PromptPurpose::Rename(addr) => {
            let (same, item) = match m.item(&addr) {
                Some(ItemRef::Entry(e)) => (e.key == text, ops::renamed(e, text.clone())),
                _ => return,
            };
            if same {
                m.info("unchanged");
                return;
            }
            if text.is_empty() {
                m.error("a key cannot be empty");
                return;
            }
            let label = format!("renamed {} to {:?}", m.path_text(&addr), text);
            commit(
                m,
                Op::Replace {
                    at: addr.clone(),
                    item: Item::Entry(item),
                },
                label,
                addr,
                true,
            );
        }
    }
}

fn key_step(key: &str) -> String {
    format!("[\"{key}\"]")
}
