//! Structural edits by position, each returning its inverse: the editor's undo and redo replay
//! inverses instead of keeping copies of the tree, so an undone edit gets back the very nodes
//! (and remembered ciphertexts) it took out.

use crate::path::{Step, TreePath};
use crate::tree::{Comment, Entry, ListItem, Map, MapItem, Node};

/// Where an item sits: a document, then the item position (comments counted) in each
/// container on the way down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr {
    pub doc: usize,
    pub items: Vec<usize>,
}

impl Addr {
    pub fn new(doc: usize, items: Vec<usize>) -> Addr {
        Addr { doc, items }
    }

    /// The container holding this item (the document itself for a top-level item).
    pub fn parent(&self) -> Addr {
        let mut items = self.items.clone();
        items.pop();
        Addr::new(self.doc, items)
    }

    /// The address of the `pos`-th item inside this one.
    pub fn child(&self, pos: usize) -> Addr {
        let mut items = self.items.clone();
        items.push(pos);
        Addr::new(self.doc, items)
    }

    /// Keeps naming the same item after an insert (`inserted`) or a removal at `at`. Returns
    /// false when this address was the removed item or lay inside it.
    pub fn shift(&mut self, at: &Addr, inserted: bool) -> bool {
        let Some((&pos, parent)) = at.items.split_last() else {
            return true;
        };
        let depth = parent.len();
        if self.doc != at.doc || self.items.len() <= depth || !self.items.starts_with(parent) {
            return true;
        }
        let i = &mut self.items[depth];
        if inserted && *i >= pos {
            *i += 1;
        } else if !inserted && *i > pos {
            *i -= 1;
        } else if !inserted && *i == pos {
            return false;
        }
        true
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &Addr) -> bool {
        self.doc == other.doc && self.items.starts_with(&other.items)
    }
}

/// One item of a map or a list, moved in or out by an edit.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A map entry (key and value).
    Entry(Entry),
    /// A list element.
    Node(Node),
    /// A comment line in a map or a list.
    Comment(Comment),
}

/// A reference to an item in place.
pub enum ItemRef<'a> {
    Entry(&'a Entry),
    Node(&'a Node),
    Comment(&'a Comment),
}

impl<'a> ItemRef<'a> {
    /// The value of an entry or element (`None` for a comment).
    pub fn node(&self) -> Option<&'a Node> {
        match self {
            ItemRef::Entry(e) => Some(&e.value),
            ItemRef::Node(n) => Some(n),
            ItemRef::Comment(_) => None,
        }
    }
}

/// An edit by position. Applying one returns the edit that undoes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Puts `item` at `at`, moving later items one place on.
    Insert { at: Addr, item: Item },
    /// Takes out the item at `at`.
    Remove { at: Addr },
    /// Swaps the item at `at` for `item` (a new value, a new key, a new type).
    Replace { at: Addr, item: Item },
}

impl Op {
    /// The position the edit touches.
    pub fn addr(&self) -> &Addr {
        match self {
            Op::Insert { at, .. } | Op::Remove { at } | Op::Replace { at, .. } => at,
        }
    }
}

/// Why an edit cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpError {
    #[error("there is no item at {0:?}")]
    NoItem(Vec<usize>),
    #[error("a map holds keys and comments, a list holds values and comments")]
    WrongKind,
    #[error("the key {0:?} already exists in this map")]
    DuplicateKey(String),
    /// sops keeps its metadata under a top-level `sops` key (sops 3.12.2 refuses such edits).
    #[error("a top-level key cannot be named 'sops': sops keeps its metadata there")]
    ReservedKey,
}

/// The item at `items` below a document root.
pub fn item_at<'a>(doc: &'a Map, items: &[usize]) -> Option<ItemRef<'a>> {
    let (&first, rest) = items.split_first()?;
    let mut current = match doc.items.get(first)? {
        MapItem::Entry(e) => ItemRef::Entry(e),
        MapItem::Comment(c) => ItemRef::Comment(c),
    };
    for &pos in rest {
        current = match current.node()? {
            Node::Map(m) => match m.items.get(pos)? {
                MapItem::Entry(e) => ItemRef::Entry(e),
                MapItem::Comment(c) => ItemRef::Comment(c),
            },
            Node::List(l) => match l.items.get(pos)? {
                ListItem::Node(n) => ItemRef::Node(n),
                ListItem::Comment(c) => ItemRef::Comment(c),
            },
            Node::Leaf(_) => return None,
        };
    }
    Some(current)
}

/// The key path of the item at `items` (list positions counted without comments), as sops
/// writes paths; `None` when the address leads nowhere.
pub fn tree_path(doc: &Map, items: &[usize]) -> Option<TreePath> {
    let mut steps = Vec::with_capacity(items.len());
    let mut container: &Node;
    let (&first, rest) = items.split_first()?;
    match doc.items.get(first)? {
        MapItem::Entry(e) => {
            steps.push(Step::Key(e.key.clone()));
            container = &e.value;
        }
        MapItem::Comment(_) => return rest.is_empty().then_some(TreePath(steps)),
    }
    for (depth, &pos) in rest.iter().enumerate() {
        let last = depth + 1 == rest.len();
        match container {
            Node::Map(m) => match m.items.get(pos)? {
                MapItem::Entry(e) => {
                    steps.push(Step::Key(e.key.clone()));
                    container = &e.value;
                }
                MapItem::Comment(_) => return last.then_some(TreePath(steps)),
            },
            Node::List(l) => match l.items.get(pos)? {
                ListItem::Node(n) => {
                    let index = l.items[..pos]
                        .iter()
                        .filter(|i| matches!(i, ListItem::Node(_)))
                        .count();
                    steps.push(Step::Index(index));
                    container = n;
                }
                ListItem::Comment(_) => return last.then_some(TreePath(steps)),
            },
            Node::Leaf(_) => return None,
        }
    }
    Some(TreePath(steps))
}

/// The item positions of the value at `path` (the inverse of `tree_path`); `None` when the
/// path leads nowhere.
pub fn addr_of(doc: &Map, path: &TreePath) -> Option<Vec<usize>> {
    let mut items = Vec::with_capacity(path.0.len());
    let mut map = Some(doc);
    let mut node: Option<&Node> = None;
    for step in &path.0 {
        match (map, node, step) {
            (Some(m), _, Step::Key(key)) => {
                let pos = m
                    .items
                    .iter()
                    .position(|i| matches!(i, MapItem::Entry(e) if e.key == *key))?;
                let MapItem::Entry(e) = &m.items[pos] else {
                    return None;
                };
                items.push(pos);
                node = Some(&e.value);
            }
            (None, Some(Node::List(l)), Step::Index(index)) => {
                let pos = l
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| matches!(i, ListItem::Node(_)))
                    .nth(*index)?
                    .0;
                let ListItem::Node(n) = &l.items[pos] else {
                    return None;
                };
                items.push(pos);
                node = Some(n);
            }
            _ => return None,
        }
        map = match node {
            Some(Node::Map(m)) => Some(m),
            _ => None,
        };
    }
    Some(items)
}

/// The container's item list an address points into, as one of the two kinds.
enum Items<'a> {
    Map(&'a mut Vec<MapItem>),
    List(&'a mut Vec<ListItem>),
}

fn container_mut<'a>(doc: &'a mut Map, parent: &[usize]) -> Option<Items<'a>> {
    let mut current = Items::Map(&mut doc.items);
    for &pos in parent {
        let node = match current {
            Items::Map(items) => match items.get_mut(pos)? {
                MapItem::Entry(e) => &mut e.value,
                MapItem::Comment(_) => return None,
            },
            Items::List(items) => match items.get_mut(pos)? {
                ListItem::Node(n) => n,
                ListItem::Comment(_) => return None,
            },
        };
        current = match node {
            Node::Map(m) => Items::Map(&mut m.items),
            Node::List(l) => Items::List(&mut l.items),
            Node::Leaf(_) => return None,
        };
    }
    Some(current)
}

/// Applies `op` to a document and returns its inverse. Nothing changes on error.
pub fn apply(doc: &mut Map, op: Op) -> Result<Op, OpError> {
    let at = op.addr().clone();
    let Some((&pos, parent)) = at.items.split_last() else {
        return Err(OpError::NoItem(at.items.clone()));
    };
    let container = container_mut(doc, parent).ok_or_else(|| OpError::NoItem(at.items.clone()))?;
    match (op, container) {
        (Op::Insert { item, .. }, Items::Map(items)) => {
            if pos > items.len() {
                return Err(OpError::NoItem(at.items.clone()));
            }
            let item = map_item(item)?;
            if let MapItem::Entry(e) = &item {
                if parent.is_empty() && e.key == "sops" {
                    return Err(OpError::ReservedKey);
                }
                if has_key(items, &e.key, None) {
                    return Err(OpError::DuplicateKey(e.key.clone()));
                }
            }
            items.insert(pos, item);
            Ok(Op::Remove { at })
        }
        (Op::Insert { item, .. }, Items::List(items)) => {
            if pos > items.len() {
                return Err(OpError::NoItem(at.items.clone()));
            }
            items.insert(pos, list_item(item)?);
            Ok(Op::Remove { at })
        }
        (Op::Remove { .. }, Items::Map(items)) => {
            if pos >= items.len() {
                return Err(OpError::NoItem(at.items.clone()));
            }
            let item = from_map_item(items.remove(pos));
            Ok(Op::Insert { at, item })
        }
        (Op::Remove { .. }, Items::List(items)) => {
            if pos >= items.len() {
                return Err(OpError::NoItem(at.items.clone()));
            }
            let item = from_list_item(items.remove(pos));
            Ok(Op::Insert { at, item })
        }
        (Op::Replace { item, .. }, Items::Map(items)) => {
            let slot = items
                .get(pos)
                .ok_or_else(|| OpError::NoItem(at.items.clone()))?;
            let item = map_item(item)?;
            if let MapItem::Entry(new) = &item
                && parent.is_empty()
                && new.key == "sops"
            {
                return Err(OpError::ReservedKey);
            }
            if let (MapItem::Entry(new), MapItem::Entry(_)) = (&item, slot)
                && has_key(items, &new.key, Some(pos))
            {
                return Err(OpError::DuplicateKey(new.key.clone()));
            }
            let old = std::mem::replace(&mut items[pos], item);
            Ok(Op::Replace {
                at,
                item: from_map_item(old),
            })
        }
        (Op::Replace { item, .. }, Items::List(items)) => {
            if pos >= items.len() {
                return Err(OpError::NoItem(at.items.clone()));
            }
            let old = std::mem::replace(&mut items[pos], list_item(item)?);
            Ok(Op::Replace {
                at,
                item: from_list_item(old),
            })
        }
    }
}

fn has_key(items: &[MapItem], key: &str, except: Option<usize>) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, item)| Some(i) != except && matches!(item, MapItem::Entry(e) if e.key == key))
}

fn map_item(item: Item) -> Result<MapItem, OpError> {
    match item {
        Item::Entry(e) => Ok(MapItem::Entry(e)),
        Item::Comment(c) => Ok(MapItem::Comment(c)),
        Item::Node(_) => Err(OpError::WrongKind),
    }
}

fn list_item(item: Item) -> Result<ListItem, OpError> {
    match item {
        Item::Node(n) => Ok(ListItem::Node(n)),
        Item::Comment(c) => Ok(ListItem::Comment(c)),
        Item::Entry(_) => Err(OpError::WrongKind),
    }
}

fn from_map_item(item: MapItem) -> Item {
    match item {
        MapItem::Entry(e) => Item::Entry(e),
        MapItem::Comment(c) => Item::Comment(c),
    }
}

fn from_list_item(item: ListItem) -> Item {
    match item {
        ListItem::Node(n) => Item::Node(n),
        ListItem::Comment(c) => Item::Comment(c),
    }
}

/// An entry under a new key. The key is part of the AAD of every value below it, so their
/// remembered ciphertexts no longer hold and the next save encrypts them again.
pub fn renamed(entry: &Entry, key: impl Into<String>) -> Entry {
    let mut value = entry.value.clone();
    forget_node(&mut value);
    Entry {
        key: key.into(),
        value,
    }
}

/// A copy of a value for another place: its remembered ciphertexts do not hold there (the path
/// is part of the AAD), so the next save encrypts it anew.
pub fn copied(node: &Node) -> Node {
    let mut copy = node.clone();
    forget_node(&mut copy);
    copy
}

fn forget_node(node: &mut Node) {
    match node {
        Node::Map(m) => super::forget_ciphertext(m),
        Node::List(l) => {
            for item in &mut l.items {
                match item {
                    ListItem::Node(n) => forget_node(n),
                    ListItem::Comment(c) => c.cipher = None,
                }
            }
        }
        Node::Leaf(leaf) => leaf.cipher = None,
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
