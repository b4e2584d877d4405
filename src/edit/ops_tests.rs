use super::*;
use crate::tree::{Leaf, List, Scalar};

fn leaf(s: &str, cipher: Option<&str>) -> Node {
    Node::Leaf(Leaf {
        value: Scalar::str(s),
        cipher: cipher.map(Into::into),
    })
}

fn sample() -> Map {
    let mut inner = Map::new();
    inner.push("user", leaf("admin", Some("ENC[user]")));
    inner.items.push(MapItem::Comment(Comment::new(" note")));
    inner.push("pass", leaf("pw", Some("ENC[pass]")));
    let mut list = List::new();
    list.items.push(ListItem::Node(leaf("a", Some("ENC[a]"))));
    list.items.push(ListItem::Comment(Comment::new(" c")));
    list.items.push(ListItem::Node(leaf("b", Some("ENC[b]"))));
    let mut doc = Map::new();
    doc.push("db", Node::Map(inner));
    doc.push("list", Node::List(list));
    doc
}

#[test]
fn finds_items_and_their_key_paths() {
    let doc = sample();
    assert!(matches!(item_at(&doc, &[0, 2]), Some(ItemRef::Entry(e)) if e.key == "pass"));
    assert!(matches!(item_at(&doc, &[0, 1]), Some(ItemRef::Comment(_))));
    assert!(item_at(&doc, &[0, 3]).is_none());
    assert_eq!(
        tree_path(&doc, &[1, 2]).unwrap().to_string(),
        r#"["list"][1]"#
    );
    assert_eq!(
        tree_path(&doc, &[0, 2]).unwrap().to_string(),
        r#"["db"]["pass"]"#
    );
}

#[test]
fn every_op_is_undone_by_its_inverse() {
    let original = sample();
    let ops = vec![
        Op::Insert {
            at: Addr::new(0, vec![0, 1]),
            item: Item::Entry(Entry {
                key: "port".into(),
                value: leaf("5432", None),
            }),
        },
        Op::Insert {
            at: Addr::new(0, vec![1, 3]),
            item: Item::Node(leaf("c", None)),
        },
        Op::Remove {
            at: Addr::new(0, vec![0, 0]),
        },
        Op::Remove {
            at: Addr::new(0, vec![1, 1]),
        },
        Op::Replace {
            at: Addr::new(0, vec![1, 0]),
            item: Item::Node(leaf("z", None)),
        },
    ];
    for op in ops {
        let mut doc = original.clone();
        let inverse = apply(&mut doc, op.clone()).unwrap();
        assert_ne!(doc, original, "{op:?} changed nothing");
        let redo = apply(&mut doc, inverse).unwrap();
        // The undone tree is the original, remembered ciphertexts included.
        assert_eq!(doc, original, "{op:?} was not undone");
        apply(&mut doc, redo).unwrap();
        assert_ne!(doc, original);
    }
}

#[test]
fn refuses_bad_edits_without_changing_anything() {
    let mut doc = sample();
    let before = doc.clone();
    let dup = Op::Insert {
        at: Addr::new(0, vec![0, 0]),
        item: Item::Entry(Entry {
            key: "pass".into(),
            value: leaf("x", None),
        }),
    };
    assert_eq!(
        apply(&mut doc, dup),
        Err(OpError::DuplicateKey("pass".into()))
    );
    // sops 3.12.2: no top-level `sops` key, added or renamed to (deeper ones are data).
    let sops = |op: fn(Addr, Item) -> Op, items: Vec<usize>| {
        op(
            Addr::new(0, items),
            Item::Entry(Entry {
                key: "sops".into(),
                value: leaf("x", None),
            }),
        )
    };
    let insert = |at, item| Op::Insert { at, item };
    let replace = |at, item| Op::Replace { at, item };
    assert_eq!(
        apply(&mut doc, sops(insert, vec![0])),
        Err(OpError::ReservedKey)
    );
    assert_eq!(
        apply(&mut doc, sops(replace, vec![0])),
        Err(OpError::ReservedKey)
    );
    assert_eq!(doc, before);
    let mut nested = doc.clone();
    assert!(apply(&mut nested, sops(insert, vec![0, 0])).is_ok());
    let wrong = Op::Insert {
        at: Addr::new(0, vec![1, 0]),
        item: Item::Entry(Entry {
            key: "k".into(),
            value: leaf("x", None),
        }),
    };
    assert_eq!(apply(&mut doc, wrong), Err(OpError::WrongKind));
    assert_eq!(
        apply(
            &mut doc,
            Op::Remove {
                at: Addr::new(0, vec![0, 9])
            }
        ),
        Err(OpError::NoItem(vec![0, 9]))
    );
    // Renaming onto another key of the same map is refused; onto its own key is fine.
    let Some(ItemRef::Entry(user)) = item_at(&doc, &[0, 0]) else {
        panic!()
    };
    let clash = Item::Entry(renamed(user, "pass"));
    let same = Item::Entry(renamed(user, "user"));
    assert!(
        apply(
            &mut doc,
            Op::Replace {
                at: Addr::new(0, vec![0, 0]),
                item: clash
            }
        )
        .is_err()
    );
    assert_eq!(doc, before);
    assert!(
        apply(
            &mut doc,
            Op::Replace {
                at: Addr::new(0, vec![0, 0]),
                item: same
            }
        )
        .is_ok()
    );
}

#[test]
fn renaming_forgets_ciphertext_below_the_key_only() {
    let doc = sample();
    let Some(ItemRef::Entry(db)) = item_at(&doc, &[0]) else {
        panic!()
    };
    let moved = renamed(db, "database");
    let Node::Map(m) = &moved.value else { panic!() };
    assert!(
        m.entries()
            .all(|e| matches!(&e.value, Node::Leaf(l) if l.cipher.is_none()))
    );
    // The original keeps its ciphertexts for undo.
    assert!(
        matches!(db.value.as_map().unwrap().get("user"), Some(Node::Leaf(l)) if l.cipher.is_some())
    );
}
