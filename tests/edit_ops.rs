//! Structural edits on an opened document, sealed and read back by the real sops: a renamed
//! key re-encrypts everything below it (the key path is the AAD), every other value keeps its
//! ciphertext byte for byte, and an edit undone by its inverse leaves every value as it was.

mod common;

use common::{Sandbox, ok};
use sesame::document::{Document, OpenOptions};
use sesame::edit::ops::{self, Addr, Item, ItemRef, Op};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::{EmitOptions, Format};
use sesame::tree::Node;
use sesame::tui::demo;

fn open() -> Document {
    let mut env = FixedEnv::default();
    env.0.insert("SOPS_AGE_KEY".into(), demo::KEY.into());
    let sources = KeySources::new(Box::new(env));
    Document::open(
        Format::Yaml,
        demo::FILE.to_vec(),
        &sources,
        OpenOptions::default(),
    )
    .unwrap()
}

/// Lines of `a` that are not in `b` (as sets are enough here: ENC lines are unique).
fn lines_not_in<'a>(a: &'a str, b: &str) -> Vec<&'a str> {
    let theirs: std::collections::HashSet<&str> = b.lines().collect();
    a.lines().filter(|l| !theirs.contains(l)).collect()
}

fn position(doc: &Document, key: &str) -> usize {
    doc.docs()[0]
        .items
        .iter()
        .position(|i| matches!(i, sesame::tree::MapItem::Entry(e) if e.key == key))
        .unwrap()
}

#[test]
fn rename_reencrypts_below_the_key_only_and_sops_agrees() {
    let mut doc = open();
    let at = Addr::new(0, vec![position(&doc, "api")]);
    let Some(ItemRef::Entry(e)) = ops::item_at(&doc.docs()[0], &at.items) else {
        panic!()
    };
    let item = Item::Entry(ops::renamed(e, "payments"));
    doc.apply(Op::Replace { at, item }).unwrap();
    let out = String::from_utf8(doc.seal(&EmitOptions::default()).unwrap().unwrap()).unwrap();
    let original = String::from_utf8(demo::FILE.to_vec()).unwrap();
    let gone = lines_not_in(&original, &out);
    // api:, its two values, its two list items, lastmodified and mac.
    assert_eq!(gone.len(), 7, "{gone:#?}");
    assert!(gone.iter().any(|l| l.starts_with("api:")));
    assert!(gone.iter().any(|l| l.contains("stripe_key:")));
    assert!(gone.iter().any(|l| l.contains("lastmodified:")));
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    sb.write("f.yaml", &out);
    let plain = ok(sb.sops(&[
        "decrypt",
        "--extract",
        r#"["payments"]["allowed_origins"][1]"#,
        "f.yaml",
    ]));
    assert!(!plain.is_empty());
}

#[test]
fn an_undone_delete_keeps_every_ciphertext() {
    let mut doc = open();
    let at = Addr::new(0, vec![position(&doc, "database"), 2]);
    let inverse = doc.apply(Op::Remove { at }).unwrap();
    let redo = doc.apply(inverse).unwrap();
    assert!(matches!(redo, Op::Remove { .. }));
    let out = String::from_utf8(doc.seal(&EmitOptions::default()).unwrap().unwrap()).unwrap();
    let original = String::from_utf8(demo::FILE.to_vec()).unwrap();
    let gone = lines_not_in(&original, &out);
    assert_eq!(gone.len(), 2, "only lastmodified and mac: {gone:#?}");
}

#[test]
fn an_inserted_value_is_encrypted_and_readable_by_sops() {
    let mut doc = open();
    let db = position(&doc, "database");
    let at = Addr::new(0, vec![db, 0]);
    doc.apply(Op::Insert {
        at,
        item: Item::Entry(sesame::tree::Entry {
            key: "port".into(),
            value: Node::string("5432"),
        }),
    })
    .unwrap();
    let out = doc.seal(&EmitOptions::default()).unwrap().unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains("port: ENC[AES256_GCM,"), "{text}");
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    sb.write("f.yaml", &out);
    let v = ok(sb.sops(&["decrypt", "--extract", r#"["database"]["port"]"#, "f.yaml"]));
    assert_eq!(v, b"5432");
}

#[test]
fn a_second_save_keeps_what_the_first_encrypted() {
    let mut doc = open();
    let db = position(&doc, "database");
    let set = |doc: &mut Document, pos: usize, key: &str, v: &str| {
        doc.apply(Op::Replace {
            at: Addr::new(0, vec![db, pos]),
            item: Item::Entry(sesame::tree::Entry {
                key: key.into(),
                value: Node::string(v),
            }),
        })
        .unwrap();
    };
    set(&mut doc, 0, "host", "db2.internal");
    let first = String::from_utf8(doc.seal(&EmitOptions::default()).unwrap().unwrap()).unwrap();
    set(&mut doc, 1, "user", "deploy");
    let second = String::from_utf8(doc.seal(&EmitOptions::default()).unwrap().unwrap()).unwrap();
    let gone = lines_not_in(&first, &second);
    // lastmodified may not move within the same second; nothing else but user and mac may.
    assert!(
        gone.iter().all(|l| ["user:", "lastmodified:", "mac:"]
            .iter()
            .any(|k| l.contains(k))),
        "{gone:#?}"
    );
    assert!(gone.iter().any(|l| l.contains("user:")));
    assert!(gone.iter().any(|l| l.contains("mac:")));
}

#[test]
fn sealing_once_writes_what_seal_writes_and_keeps_no_plaintext() {
    // The command line's one-shot seal drops the plaintext as soon as it is encrypted; what it
    // writes is what the editor's seal writes (the same values decrypt, sops reads it).
    let mut once = open();
    once.touch();
    let out = once.seal_once(&EmitOptions::default()).unwrap().unwrap();
    assert!(
        once.docs().is_empty(),
        "the plaintext tree outlived seal_once"
    );
    let sb = Sandbox::new().env("SOPS_AGE_KEY", demo::KEY);
    sb.write("once.yaml", &out);
    let theirs = ok(sb.sops(&["decrypt", "once.yaml"]));
    let mut kept = open();
    kept.touch();
    let again = kept.seal(&EmitOptions::default()).unwrap().unwrap();
    sb.write("kept.yaml", &again);
    assert_eq!(theirs, ok(sb.sops(&["decrypt", "kept.yaml"])));
    assert!(!kept.docs().is_empty());
}

#[test]
fn wiping_a_tree_empties_every_plaintext_and_keeps_its_shape() {
    let doc = open();
    let mut tree = doc.docs()[0].clone();
    fn texts(n: &Node, out: &mut Vec<usize>) {
        match n {
            Node::Map(m) => m.items.iter().for_each(|i| match i {
                sesame::tree::MapItem::Entry(e) => texts(&e.value, out),
                sesame::tree::MapItem::Comment(c) => out.push(c.text.len()),
            }),
            Node::List(l) => l.items.iter().for_each(|i| match i {
                sesame::tree::ListItem::Node(n) => texts(n, out),
                sesame::tree::ListItem::Comment(c) => out.push(c.text.len()),
            }),
            Node::Leaf(leaf) => {
                if let sesame::tree::Scalar::Str(s) = &leaf.value {
                    out.push(s.len());
                }
            }
        }
    }
    let mut before = Vec::new();
    texts(&Node::Map(tree.clone()), &mut before);
    assert!(before.iter().filter(|&&n| n > 0).count() >= 5, "{before:?}");
    tree.wipe_secrets();
    let mut after = Vec::new();
    texts(&Node::Map(tree.clone()), &mut after);
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|&n| n == 0), "{after:?}");
    let keys = |m: &sesame::tree::Map| m.entries().map(|e| e.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&tree), keys(&doc.docs()[0]));
}

#[test]
fn a_binary_file_sealed_once_is_what_seal_writes_and_sops_reads_it() {
    // seal_once writes a binary file's JSON envelope around a value encrypted as it is
    // written. The file must be the one the tree-copying seal writes, but for random IVs, data
    // key, date and MAC (so the same text with every letter and digit masked), and sops must
    // decrypt it. The large value is written in many pieces.
    use sesame::document::NewFile;
    use sesame::keys::{KeyGroup, KeyKind, MasterKey};
    let mut env = FixedEnv::default();
    env.0
        .insert("SOPS_AGE_KEY".into(), common::TEST_IDENTITY.into());
    let sources = KeySources::new(Box::new(env));
    // Letters and digits masked, and the age stanzas dropped (their count is random: age adds
    // a grease stanza).
    let shape = |text: &[u8]| -> String {
        let text = std::str::from_utf8(text).unwrap();
        let (before, rest) = text.split_once("BEGIN AGE ENCRYPTED FILE").unwrap();
        let (_, after) = rest.split_once("END AGE ENCRYPTED FILE").unwrap();
        let masked = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
        format!("{before}{after}").replace(masked, "x")
    };
    let sb = Sandbox::new().env("SOPS_AGE_KEY", common::TEST_IDENTITY);
    for (len, indent) in [(100, -1), ((1 << 20) + 7, 2)] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let new = || {
            let mut key = MasterKey::new(KeyKind::Age);
            key.set_text("recipient", common::TEST_RECIPIENT);
            let settings = NewFile {
                key_groups: vec![KeyGroup { keys: vec![key] }],
                ..NewFile::default()
            };
            let docs = sesame::store::parse_plain(Format::Binary, &plain)
                .unwrap()
                .docs;
            Document::create(Format::Binary, docs, settings, &sources).unwrap()
        };
        let opts = EmitOptions {
            json_binary_indent: indent,
            ..EmitOptions::default()
        };
        let mut once = new();
        let written = once.seal_once(&opts).unwrap().unwrap();
        assert!(once.docs().is_empty(), "the plaintext outlived seal_once");
        let kept = new().seal(&opts).unwrap().unwrap();
        assert_eq!(shape(&written), shape(&kept), "length {len}");
        // Its length is known before it is written (a regrown buffer would have doubled).
        assert_eq!(written.capacity(), written.len(), "length {len}");
        sb.write("blob.json", &written);
        let theirs = sb.sops(&[
            "decrypt",
            "--input-type",
            "binary",
            "--output-type",
            "binary",
            "blob.json",
        ]);
        assert!(theirs.status.success(), "length {len}: sops refused it");
        assert!(
            theirs.stdout == plain,
            "length {len}: sops read other bytes"
        );
    }
}
