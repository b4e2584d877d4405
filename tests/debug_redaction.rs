//! `Debug` never shows a secret: every type that holds plaintext (documents, trees, scalars of
//! every type, parsed plain files, typed and pasted text, the editor's undo history and its
//! effects) is formatted, and no value of the demo file, nor anything typed, appears.

mod tui_support;

use sesame::secret::SecretText;
use sesame::store::{self, EmitOptions, Format};
use sesame::tree::{ListItem, Map, MapItem, Node, Scalar};
use sesame::tui::action::Action;
use sesame::tui::model::Source;
use tui_support::{demo_model, goto, press};

/// Every leaf value of the documents as text, and every comment (long enough to be telling).
fn secrets(docs: &[Map]) -> Vec<String> {
    fn node(n: &Node, out: &mut Vec<String>) {
        match n {
            Node::Leaf(l) => out.push(match &l.value {
                Scalar::Str(s) => s.to_lossy().into_owned(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
                // `true`/`false` are words Debug output uses anyway; checked on their own below.
                _ => String::new(),
            }),
            Node::Map(m) => map(m, out),
            Node::List(l) => {
                for item in &l.items {
                    match item {
                        ListItem::Node(n) => node(n, out),
                        ListItem::Comment(c) => out.push(c.text.to_lossy().into_owned()),
                    }
                }
            }
        }
    }
    fn map(m: &Map, out: &mut Vec<String>) {
        for item in &m.items {
            match item {
                MapItem::Entry(e) => node(&e.value, out),
                MapItem::Comment(c) => out.push(c.text.to_lossy().into_owned()),
            }
        }
    }
    let mut out = Vec::new();
    for d in docs {
        map(d, &mut out);
    }
    out.retain(|s| s.trim().len() >= 4);
    out
}

#[test]
fn debug_output_never_shows_a_value() {
    let mut m = demo_model();
    let Source::Doc(doc) = &m.source else {
        panic!("the demo opens with its key")
    };
    let docs = doc.docs().to_vec();
    let mut secrets = secrets(&docs);
    assert!(secrets.len() > 8, "the demo's values: {}", secrets.len());
    let plain = doc
        .plain_bytes(Format::Yaml, &EmitOptions::default())
        .unwrap();
    let parsed = store::parse_plain(Format::Yaml, &plain).unwrap();
    let mut shown = vec![
        format!("{doc:?}"),
        format!("{docs:?}"),
        format!("{parsed:?}"),
        format!("{:?}", m.source),
        // The buffer `sesame decrypt` writes the plaintext into.
        format!("{:?}", sesame::secret::PlainBuffer::from(plain.clone())),
    ];
    // What the editor holds after typing and pasting a new secret.
    let typed = "Typed-Secret-4711";
    secrets.push(typed.into());
    goto(&mut m, "password");
    let mut effects = press(&mut m, &format!("<enter>{typed}<enter>"));
    effects.extend(sesame::tui::update::update(
        &mut m,
        Action::Paste(SecretText::from("Pasted-Secret-0815")),
    ));
    secrets.push("Pasted-Secret-0815".into());
    shown.push(format!("{:?}", m.history));
    shown.push(format!("{effects:?}"));
    shown.push(format!(
        "{:?}",
        Action::Paste(SecretText::from("Pasted-Secret-0815"))
    ));
    let keys = tui_support::keys(typed);
    let keymap = sesame::tui::keymap::Keymap::default();
    let mut editing = demo_model();
    goto(&mut editing, "user");
    press(&mut editing, "<enter>");
    for key in keys {
        shown.push(format!("{:?}", keymap.action(&editing.mode, key)));
    }
    for scalar in [
        Scalar::Int(918_273_645),
        Scalar::Float(2.71828459),
        Scalar::Bool(true),
        Scalar::Uint(18_000_000_000_000_000_000),
    ] {
        shown.push(format!("{:?}", Node::scalar(scalar)));
    }
    secrets.extend(["918273645", "2.71828459", "18000000000000000000"].map(String::from));
    assert_eq!(format!("{:?}", Scalar::Bool(true)), "Bool([redacted])");
    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{secret:?} shown by Debug in: {}",
                &text[..text.len().min(400)]
            );
        }
    }
}
