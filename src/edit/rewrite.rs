//! A document rewritten as a whole (edited as text in `$EDITOR`) turned back into structural
//! edits: the least the tree needs to become the new one, so unchanged values keep their
//! ciphertext and the save's diff stays the change, and undo can replay it.

use crate::edit::ops::{Addr, Item, Op};
use crate::edit::{same_content, same_scalar};
use crate::tree::{Comment, Entry, ListItem, Map, MapItem, Node};

/// The edits, in the order to apply them (each position counts the edits before it), that
/// turn document `doc` from `old` into `new`. Inserted and replaced values take the
/// ciphertext of the value they replace at the same key path where the value is the same.
pub fn ops(doc: usize, old: &Map, new: Map) -> Vec<Op> {
    let mut out = Vec::new();
    let old: Vec<Part> = old.items.iter().map(Part::of_map_item).collect();
    let new: Vec<Owned> = new.items.into_iter().map(Owned::of_map_item).collect();
    items(&Addr::new(doc, Vec::new()), &old, new, &mut out);
    out
}

/// An item of the old tree, by reference.
#[derive(Clone, Copy)]
enum Part<'a> {
    Entry(&'a Entry),
    Node(&'a Node),
    Comment(&'a Comment),
}

impl<'a> Part<'a> {
    fn of_map_item(i: &'a MapItem) -> Part<'a> {
        match i {
            MapItem::Entry(e) => Part::Entry(e),
            MapItem::Comment(c) => Part::Comment(c),
        }
    }

    fn of_list_item(i: &'a ListItem) -> Part<'a> {
        match i {
            ListItem::Node(n) => Part::Node(n),
            ListItem::Comment(c) => Part::Comment(c),
        }
    }

    fn node(self) -> Option<&'a Node> {
        match self {
            Part::Entry(e) => Some(&e.value),
            Part::Node(n) => Some(n),
            Part::Comment(_) => None,
        }
    }
}

/// An item of the new tree, owned (it moves into the edits).
enum Owned {
    Entry(Entry),
    Node(Node),
    Comment(Comment),
}

impl Owned {
    fn of_map_item(i: MapItem) -> Owned {
        match i {
            MapItem::Entry(e) => Owned::Entry(e),
            MapItem::Comment(c) => Owned::Comment(c),
        }
    }

    fn of_list_item(i: ListItem) -> Owned {
        match i {
            ListItem::Node(n) => Owned::Node(n),
            ListItem::Comment(c) => Owned::Comment(c),
        }
    }

    fn into_item(self) -> Item {
        match self {
            Owned::Entry(e) => Item::Entry(e),
            Owned::Node(n) => Item::Node(n),
            Owned::Comment(c) => Item::Comment(c),
        }
    }

    fn node_mut(&mut self) -> Option<&mut Node> {
        match self {
            Owned::Entry(e) => Some(&mut e.value),
            Owned::Node(n) => Some(n),
            Owned::Comment(_) => None,
        }
    }
}

/// Items that stay in place: comments, map entries under the same key, list elements.
fn same_place(old: Part, new: &Owned) -> bool {
    match (old, new) {
        (Part::Comment(_), Owned::Comment(_)) | (Part::Node(_), Owned::Node(_)) => true,
        (Part::Entry(o), Owned::Entry(n)) => o.key == n.key,
        _ => false,
    }
}

/// The edits for one container's items at `at`: the common head and tail are compared in
/// place; what lies between is removed and inserted anew.
fn items(at: &Addr, old: &[Part], mut new: Vec<Owned>, out: &mut Vec<Op>) {
    let head = old
        .iter()
        .zip(&new)
        .take_while(|(o, n)| same_place(**o, n))
        .count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(o, n)| same_place(**o, n))
        .count();
    let tail_new = new.split_off(new.len() - tail);
    let middle_new = new.split_off(head);
    for (i, (o, n)) in old.iter().zip(new).enumerate() {
        item(&at.child(i), *o, n, out);
    }
    let removed = &old[head..old.len() - tail];
    for _ in removed {
        out.push(Op::Remove { at: at.child(head) });
    }
    let inserted = middle_new.len();
    for (k, mut n) in middle_new.into_iter().enumerate() {
        // A key moved or re-added keeps its ciphertext where its values are the same.
        if let Owned::Entry(e) = &mut n
            && let Some(Part::Entry(o)) = removed
                .iter()
                .find(|p| matches!(p, Part::Entry(o) if o.key == e.key))
        {
            carry(&o.value, &mut e.value);
        }
        out.push(Op::Insert {
            at: at.child(head + k),
            item: n.into_item(),
        });
    }
    let start = head + inserted;
    let old_tail = &old[old.len() - tail..];
    for (j, (o, n)) in old_tail.iter().zip(tail_new).enumerate() {
        item(&at.child(start + j), *o, n, out);
    }
}

/// The edits for one item that stays in place.
fn item(at: &Addr, old: Part, mut new: Owned, out: &mut Vec<Op>) {
    if let (Part::Comment(o), Owned::Comment(n)) = (old, &new) {
        if o.text != n.text || o.inline != n.inline {
            out.push(Op::Replace {
                at: at.clone(),
                item: new.into_item(),
            });
        }
        return;
    }
    let Some(old_node) = old.node() else {
        return;
    };
    let Some(new_node) = new.node_mut() else {
        return;
    };
    match (old_node, new_node) {
        (Node::Map(o), Node::Map(n)) => {
            let o: Vec<Part> = o.items.iter().map(Part::of_map_item).collect();
            let n = std::mem::take(&mut n.items)
                .into_iter()
                .map(Owned::of_map_item)
                .collect();
            items(at, &o, n, out);
        }
        (Node::List(o), Node::List(n)) => {
            let o: Vec<Part> = o.items.iter().map(Part::of_list_item).collect();
            let n = std::mem::take(&mut n.items)
                .into_iter()
                .map(Owned::of_list_item)
                .collect();
            items(at, &o, n, out);
        }
        (o, n) if same_content(o, n) => {}
        (o, n) => {
            carry(o, n);
            out.push(Op::Replace {
                at: at.clone(),
                item: new.into_item(),
            });
        }
    }
}

/// Copies the ciphertext of each value of `old` into the same place of `new` where the value
/// is the same (a value's ciphertext is bound to its key path, which the same place keeps).
fn carry(old: &Node, new: &mut Node) {
    match (old, new) {
        (Node::Leaf(o), Node::Leaf(n)) if n.cipher.is_none() && same_scalar(&o.value, &n.value) => {
            n.cipher.clone_from(&o.cipher);
        }
        (Node::Map(o), Node::Map(n)) => {
            for e in n.items.iter_mut().filter_map(|i| match i {
                MapItem::Entry(e) => Some(e),
                MapItem::Comment(_) => None,
            }) {
                if let Some(ov) = o.get(&e.key) {
                    carry(ov, &mut e.value);
                }
            }
        }
        (Node::List(o), Node::List(n)) => {
            let values = n.items.iter_mut().filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            });
            for (ov, nv) in o.values().zip(values) {
                carry(ov, nv);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::ops::apply;
    use crate::store::{Format, parse_plain};

    fn doc(yaml: &str) -> Map {
        parse_plain(Format::Yaml, yaml.as_bytes())
            .unwrap()
            .docs
            .remove(0)
    }

    /// Applies the edits from `a` to `b` and checks the result is `b`, item for item.
    fn rewrite(a: &str, b: &str) -> (Map, Vec<Op>) {
        let (mut tree, target) = (doc(a), doc(b));
        let edits = ops(0, &tree, target.clone());
        for op in edits.clone() {
            apply(&mut tree, op).unwrap();
        }
        assert_eq!(tree, target, "{a} → {b}");
        (tree, edits)
    }

    #[test]
    fn the_edits_lead_to_the_new_document_and_touch_only_what_changed() {
        let a = "# top\na: 1\nb:\n  c: x\n  d: [1, 2]\ne: y\n";
        let (_, none) = rewrite(a, a);
        assert!(none.is_empty());
        // One value: one replace at its place.
        let (_, one) = rewrite(a, "# top\na: 1\nb:\n  c: z\n  d: [1, 2]\ne: y\n");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].addr().items, vec![2, 0]);
        // Keys added, removed, renamed, moved; comments changed; lists grown; types changed.
        for b in [
            "# top\na: 1\nnew: 3\nb:\n  c: x\n  d: [1, 2]\ne: y\n",
            "# top\nb:\n  c: x\n  d: [1, 2]\ne: y\n",
            "# other\na: 1\nb:\n  c: x\n  d: [1, 2, 3]\ne: y\n",
            "e: y\na: 1\nb:\n  d: [2]\n  c: x\n",
            "# top\na: [1]\nb: 2\ne: {f: g}\n",
            "{}\n",
        ] {
            rewrite(a, b);
            rewrite(b, a);
        }
    }

    #[test]
    fn unchanged_values_keep_their_ciphertext_even_when_moved() {
        let mut old = doc("a: 1\nb:\n  c: x\n  d: y\n");
        let with_cipher = |m: &mut Map, key: &str, enc: &str| {
            if let Some(Node::Map(b)) = m.get_mut("b")
                && let Some(Node::Leaf(l)) = b.get_mut(key)
            {
                l.cipher = Some(enc.into());
            }
        };
        with_cipher(&mut old, "c", "ENC[c]");
        with_cipher(&mut old, "d", "ENC[d]");
        // `b` moves before `a` (removed and inserted); `d` changes.
        let (tree, _) = rewrite_from(&old, "b:\n  c: x\n  d: changed\na: 1\n");
        let Some(Node::Map(b)) = tree.get("b") else {
            panic!()
        };
        let cipher = |k| match b.get(k) {
            Some(Node::Leaf(l)) => l.cipher.clone(),
            _ => None,
        };
        assert_eq!(cipher("c").as_deref(), Some("ENC[c]"));
        assert_eq!(cipher("d"), None);
    }

    fn rewrite_from(old: &Map, b: &str) -> (Map, Vec<Op>) {
        let mut tree = old.clone();
        let edits = ops(0, &tree, doc(b));
        for op in edits.clone() {
            apply(&mut tree, op).unwrap();
        }
        (tree, edits)
    }
}
