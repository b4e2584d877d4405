//! Changes to a plain tree by path, with sops's `set` and `unset` semantics. Values that are
//! not changed keep their remembered ciphertext.

pub mod exposure;
pub mod merge;
pub mod ops;
pub mod rewrite;
pub mod value;

use crate::path::{LookupError, Step, TreePath};
use crate::tree::{List, ListItem, Map, MapItem, Node};

/// Whether two nodes hold the same content (ciphertext memories and comments aside).
pub fn same_content(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Leaf(x), Node::Leaf(y)) => same_scalar(&x.value, &y.value),
        (Node::Map(x), Node::Map(y)) => {
            let (mut xs, mut ys) = (x.entries(), y.entries());
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return true,
                    (Some(e), Some(f)) if e.key == f.key && same_content(&e.value, &f.value) => {}
                    _ => return false,
                }
            }
        }
        (Node::List(x), Node::List(y)) => {
            let (mut xs, mut ys) = (x.values(), y.values());
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return true,
                    (Some(e), Some(f)) if same_content(e, f) => {}
                    _ => return false,
                }
            }
        }
        _ => false,
    }
}

/// Scalar equality by type and value; floats compare by bits so `NaN` equals itself.
pub(crate) fn same_scalar(a: &crate::tree::Scalar, b: &crate::tree::Scalar) -> bool {
    use crate::tree::Scalar::Float;
    match (a, b) {
        (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// An empty container of the kind the next path step needs.
fn container_for(step: &Step) -> Node {
    match step {
        Step::Key(_) => Node::Map(Map::new()),
        Step::Index(_) => Node::List(List::new()),
    }
}

/// Forgets every remembered ciphertext below `map` (after the data key changed, none is valid).
pub fn forget_ciphertext(map: &mut Map) {
    for item in &mut map.items {
        match item {
            MapItem::Entry(e) => forget_node_ciphertext(&mut e.value),
            MapItem::Comment(c) => c.cipher = None,
        }
    }
}

/// Forgets every remembered ciphertext in `node` (it moves to another file or data key).
pub fn forget_node_ciphertext(node: &mut Node) {
    match node {
        Node::Map(m) => forget_ciphertext(m),
        Node::List(l) => {
            for item in &mut l.items {
                match item {
                    ListItem::Node(n) => forget_node_ciphertext(n),
                    ListItem::Comment(c) => c.cipher = None,
                }
            }
        }
        Node::Leaf(leaf) => leaf.cipher = None,
    }
}

/// After a save, remembers the ciphertext each newly encrypted value got (`sealed` is the
/// encrypted form of `plain`, item for item), so the next save keeps it unless it changes.
pub fn remember_ciphertext(plain: &mut Map, sealed: &Map) {
    for (p, s) in plain.items.iter_mut().zip(&sealed.items) {
        match (p, s) {
            (MapItem::Entry(p), MapItem::Entry(s)) => remember_node(&mut p.value, &s.value),
            (MapItem::Comment(p), MapItem::Comment(s)) => remember_comment(p, s.text.as_str()),
            _ => {}
        }
    }
}

fn remember_comment(plain: &mut crate::tree::Comment, stored: Option<&str>) {
    if plain.cipher.is_none()
        && let Some(enc) = stored.filter(|t| is_enc(t) && plain.text.as_str() != Some(t))
    {
        plain.cipher = Some(enc.into());
    }
}

fn is_enc(text: &str) -> bool {
    text.starts_with("ENC[AES256_GCM,")
}

fn remember_node(plain: &mut Node, sealed: &Node) {
    match (plain, sealed) {
        (Node::Map(p), Node::Map(s)) => remember_ciphertext(p, s),
        (Node::List(p), Node::List(s)) => {
            for (p, s) in p.items.iter_mut().zip(&s.items) {
                match (p, s) {
                    (ListItem::Node(p), ListItem::Node(s)) => remember_node(p, s),
                    // sops compat: an encrypted list comment is stored as a string element.
                    (ListItem::Comment(p), ListItem::Node(s)) => remember_comment(p, s.as_str()),
                    _ => {}
                }
            }
        }
        (Node::Leaf(p), Node::Leaf(s)) => {
            // A value stored in clear is the same text; only real ciphertext is remembered.
            if p.cipher.is_none()
                && let crate::tree::Scalar::Str(enc) = &s.value
                && let Some(enc) = enc.as_str().filter(|t| is_enc(t))
                && p.value != s.value
            {
                p.cipher = Some(enc.into());
            }
        }
        _ => {}
    }
}

/// Sets the value at `path`, creating what is missing. Returns whether anything changed.
///
/// sops compat: a missing key is appended to its map, an index past the end appends, and a
/// path through a scalar replaces it with a new map or list.
pub fn set(doc: &mut Map, path: &TreePath, value: Node) -> bool {
    let Some((first, rest)) = path.0.split_first() else {
        return match value {
            Node::Map(m) => {
                let changed = !same_content(&Node::Map(doc.clone()), &Node::Map(m.clone()));
                if changed {
                    *doc = m;
                }
                changed
            }
            _ => false,
        };
    };
    let Step::Key(key) = first else {
        // A document is a map: an index at the top cannot be set.
        return false;
    };
    let slot = match doc.get_mut(key) {
        Some(node) => node,
        None => {
            let fresh = rest
                .first()
                .map(container_for)
                .unwrap_or(Node::Map(Map::new()));
            doc.push(key.clone(), fresh);
            doc.get_mut(key).expect("just pushed")
        }
    };
    set_in(slot, rest, value)
}

fn set_in(node: &mut Node, steps: &[Step], value: Node) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        if same_content(node, &value) {
            return false;
        }
        *node = value;
        return true;
    };
    let next_fresh = || rest.first().map(container_for);
    match step {
        Step::Key(key) => {
            if !matches!(node, Node::Map(_)) {
                *node = Node::Map(Map::new());
            }
            let Node::Map(map) = node else { unreachable!() };
            if map.get(key).is_none() {
                map.push(key.clone(), next_fresh().unwrap_or(Node::Map(Map::new())));
                let slot = map.get_mut(key).expect("just pushed");
                // A new slot always changes the tree, even when set to an empty value.
                set_in(slot, rest, value);
                return true;
            }
            set_in(map.get_mut(key).expect("present"), rest, value)
        }
        Step::Index(index) => {
            if !matches!(node, Node::List(_)) {
                *node = Node::List(List::new());
            }
            let Node::List(list) = node else {
                unreachable!()
            };
            match value_position(list, *index) {
                Some(pos) => {
                    let ListItem::Node(slot) = &mut list.items[pos] else {
                        unreachable!()
                    };
                    set_in(slot, rest, value)
                }
                None => {
                    let mut fresh = next_fresh().unwrap_or(Node::Map(Map::new()));
                    set_in(&mut fresh, rest, value);
                    list.items.push(ListItem::Node(fresh));
                    true
                }
            }
        }
    }
}

/// Removes the map entry or list element at `path`.
pub fn unset(doc: &mut Map, path: &TreePath) -> Result<(), LookupError> {
    let Some((last, parents)) = path.0.split_last() else {
        return Err(LookupError::KeyNotFound(String::new()));
    };
    let mut container: Container = Container::Map(doc);
    for step in parents {
        container = match (container, step) {
            (Container::Map(m), Step::Key(k)) => match m.get_mut(k) {
                Some(Node::Map(inner)) => Container::Map(inner),
                Some(Node::List(inner)) => Container::List(inner),
                Some(Node::Leaf(_)) => return Err(LookupError::NotAMap(k.clone())),
                None => return Err(LookupError::KeyNotFound(k.clone())),
            },
            (Container::List(l), Step::Index(i)) => {
                match l.items.iter_mut().filter_map(value_mut).nth(*i) {
                    Some(Node::Map(inner)) => Container::Map(inner),
                    Some(Node::List(inner)) => Container::List(inner),
                    Some(Node::Leaf(_)) => return Err(LookupError::NotAList(*i)),
                    None => return Err(LookupError::OutOfBounds(*i)),
                }
            }
            (Container::Map(_), Step::Index(i)) => return Err(LookupError::NotAList(*i)),
            (Container::List(_), Step::Key(k)) => return Err(LookupError::NotAMap(k.clone())),
        };
    }
    match (container, last) {
        (Container::Map(m), Step::Key(k)) => {
            let pos = m
                .items
                .iter()
                .position(|item| matches!(item, MapItem::Entry(e) if &e.key == k))
                .ok_or_else(|| LookupError::KeyNotFound(k.clone()))?;
            m.items.remove(pos);
            Ok(())
        }
        (Container::List(l), Step::Index(i)) => {
            let pos = value_position(l, *i).ok_or(LookupError::OutOfBounds(*i))?;
            l.items.remove(pos);
            Ok(())
        }
        (Container::Map(_), Step::Index(i)) => Err(LookupError::NotAList(*i)),
        (Container::List(_), Step::Key(k)) => Err(LookupError::NotAMap(k.clone())),
    }
}

enum Container<'a> {
    Map(&'a mut Map),
    List(&'a mut List),
}

/// Where the `index`-th value (comments not counted) sits among a list's items.
fn value_position(list: &List, index: usize) -> Option<usize> {
    list.items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item, ListItem::Node(_)))
        .map(|(pos, _)| pos)
        .nth(index)
}

fn value_mut(item: &mut ListItem) -> Option<&mut Node> {
    match item {
        ListItem::Node(n) => Some(n),
        ListItem::Comment(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Scalar;

    fn p(s: &str) -> TreePath {
        TreePath::parse(s).unwrap()
    }

    #[test]
    fn set_replaces_appends_and_creates() {
        let mut doc = Map::new();
        doc.push("a", Node::string("1"));
        assert!(!set(&mut doc, &p(r#"["a"]"#), Node::string("1")));
        assert!(set(&mut doc, &p(r#"["a"]"#), Node::scalar(Scalar::Int(1))));
        assert!(set(&mut doc, &p(r#"["b"]["c"][0]"#), Node::string("x")));
        assert!(set(&mut doc, &p(r#"["b"]["c"][5]"#), Node::string("y")));
        let Some(Node::Map(b)) = doc.get("b") else {
            panic!()
        };
        let Some(Node::List(c)) = b.get("c") else {
            panic!()
        };
        assert_eq!(c.values().count(), 2);
        // Walking through a scalar replaces it.
        assert!(set(&mut doc, &p(r#"["a"]["z"]"#), Node::string("q")));
        assert!(matches!(doc.get("a"), Some(Node::Map(_))));
    }

    #[test]
    fn unset_removes_or_reports() {
        let mut doc = Map::new();
        doc.push("a", Node::string("1"));
        let mut l = List::new();
        l.items.push(ListItem::Node(Node::string("x")));
        doc.push("l", Node::List(l));
        assert!(unset(&mut doc, &p(r#"["l"][0]"#)).is_ok());
        assert_eq!(
            unset(&mut doc, &p(r#"["l"][0]"#)),
            Err(LookupError::OutOfBounds(0))
        );
        assert!(unset(&mut doc, &p(r#"["a"]"#)).is_ok());
        assert_eq!(
            unset(&mut doc, &p(r#"["a"]"#)),
            Err(LookupError::KeyNotFound("a".into()))
        );
    }
}
