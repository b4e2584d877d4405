//! Fidelity: a file sops wrote, opened and saved with no change, is untouched; after one leaf
//! changes, only that leaf's line, `lastmodified` and `mac` differ, and sops still decrypts it.

mod common;

use common::{Sandbox, fixture, new_age_key, ok};
use sesame::document::{Document, OpenOptions};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::path::TreePath;
use sesame::store::{EmitOptions, Format};
use sesame::tree::Node;

fn sources(id: &str) -> KeySources {
    KeySources::new(Box::new(FixedEnv(
        [("SOPS_AGE_KEY".to_string(), id.to_string())].into(),
    )))
}

/// Lines of `a` and `b` that differ (files of equal line count).
fn changed_lines(a: &str, b: &str) -> Vec<String> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(la.len(), lb.len(), "line count changed:\n{a}\n---\n{b}");
    la.iter()
        .zip(&lb)
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.to_string())
        .collect()
}

fn check(format: Format, ext: &str, rel: &str, path: &str, new_value: &str, needle: &str) {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id.clone());
    let src = sb.write(&format!("in.{ext}"), std::fs::read(fixture(rel)).unwrap());
    let original = ok(sb.sops(&["encrypt", "--age", &r, src.to_str().unwrap()]));

    // No change: nothing to write.
    let keys = sources(&id);
    let mut doc = Document::open(format, original.clone(), &keys, OpenOptions::default()).unwrap();
    assert!(doc.seal(&EmitOptions::default()).unwrap().is_none());

    // Setting a value to what it already is is no change either.
    let p = TreePath::parse(path).unwrap();
    let mut doc = Document::open(format, original.clone(), &keys, OpenOptions::default()).unwrap();
    let same = match sesame::path::lookup(&doc.docs()[0], &p).unwrap() {
        sesame::path::Found::Node(n) => n.clone(),
        _ => unreachable!(),
    };
    assert!(!doc.set(0, &p, same));
    assert!(doc.seal(&EmitOptions::default()).unwrap().is_none());

    // One leaf changes: three lines change.
    assert!(doc.set(0, &p, Node::string(new_value)));
    let saved = doc.seal(&EmitOptions::default()).unwrap().expect("changed");
    let (a, b) = (
        String::from_utf8(original).unwrap(),
        String::from_utf8(saved.clone()).unwrap(),
    );
    let changed = changed_lines(&a, &b);
    let is_mac = |l: &String| l.contains("\"mac\"") || l.trim_start().starts_with("mac:");
    let is_stamp = |l: &String| l.contains("lastmodified");
    let is_leaf = |l: &String| l.contains(needle);
    // `lastmodified` has seconds precision: it may not move when sops wrote the file this second.
    assert!(
        changed.len() == 3 || (changed.len() == 2 && !changed.iter().any(is_stamp)),
        "{changed:#?}"
    );
    assert_eq!(
        changed.iter().filter(|l| is_leaf(l)).count(),
        1,
        "{changed:#?}"
    );
    assert_eq!(
        changed.iter().filter(|l| is_mac(l)).count(),
        1,
        "{changed:#?}"
    );
    assert!(
        changed
            .iter()
            .all(|l| is_leaf(l) || is_mac(l) || is_stamp(l)),
        "{changed:#?}"
    );

    // The real sops reads the result and sees the new value.
    let out = sb.write(&format!("out.{ext}"), &saved);
    let value = ok(sb.sops(&["decrypt", "--extract", path, out.to_str().unwrap()]));
    assert_eq!(String::from_utf8(value).unwrap(), new_value);
}

#[test]
fn yaml_one_leaf_edit_changes_three_lines() {
    check(
        Format::Yaml,
        "yaml",
        "plain/sample.yaml",
        r#"["database"]["password"]"#,
        "n3w-pass",
        "password:",
    );
}

#[test]
fn json_one_leaf_edit_changes_three_lines() {
    check(
        Format::Json,
        "json",
        "plain/sample.json",
        r#"["database"]["host"]"#,
        "db2.internal",
        "\"host\"",
    );
}

#[test]
fn yaml_list_element_edit_changes_three_lines() {
    check(
        Format::Yaml,
        "yaml",
        "plain/sample.yaml",
        r#"["tokens"][0]"#,
        "tok-new",
        "- ENC[",
    );
}

#[test]
fn keys_sesame_cannot_use_survive_an_edit_byte_for_byte() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id.clone());
    let src = sb.write(
        "in.yaml",
        std::fs::read(fixture("plain/sample.yaml")).unwrap(),
    );
    let enc = String::from_utf8(ok(sb.sops(&[
        "encrypt",
        "--age",
        &r,
        src.to_str().unwrap(),
    ])))
    .unwrap();
    // A GCP KMS key sesame cannot use, as another tool would have added it.
    let gcp = "    gcp_kms:\n        - resource_id: projects/p/locations/global/keyRings/r/cryptoKeys/k\n          created_at: \"2025-01-02T03:04:05Z\"\n          enc: CiQAbcdefGHIJKLmnopQRSTuvwxyz0123456789==\n";
    let with_gcp = enc.replacen("    lastmodified:", &format!("{gcp}    lastmodified:"), 1);
    assert_ne!(with_gcp, enc);
    let f = sb.write("f.yaml", &with_gcp);
    // The real sops still decrypts it with the age key.
    ok(sb.sops(&["decrypt", f.to_str().unwrap()]));

    let keys = sources(&id);
    let mut doc = Document::open(
        Format::Yaml,
        with_gcp.clone().into_bytes(),
        &keys,
        OpenOptions::default(),
    )
    .unwrap();
    assert!(doc.set(
        0,
        &TreePath::parse(r#"["api_key"]"#).unwrap(),
        Node::string("rotated")
    ));
    let saved = String::from_utf8(doc.seal(&EmitOptions::default()).unwrap().unwrap()).unwrap();
    assert!(
        saved.contains(gcp),
        "the gcp_kms entry is kept byte for byte:\n{saved}"
    );
    let out = sb.write("out.yaml", &saved);
    let value = ok(sb.sops(&[
        "decrypt",
        "--extract",
        r#"["api_key"]"#,
        out.to_str().unwrap(),
    ]));
    assert_eq!(value, b"rotated");
}

#[test]
fn a_file_keeps_its_own_indentation() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id.clone());
    sb.write(
        ".sops.yaml",
        "stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 3\n",
    );
    for (rel, ext, format, path, needle) in [
        (
            "plain/sample.yaml",
            "yaml",
            Format::Yaml,
            r#"["api_key"]"#,
            "api_key:",
        ),
        (
            "plain/sample.json",
            "json",
            Format::Json,
            r#"["enabled"]"#,
            "\"enabled\"",
        ),
    ] {
        let src = sb.write(&format!("in.{ext}"), std::fs::read(fixture(rel)).unwrap());
        let enc = ok(sb.sops(&["encrypt", "--age", &r, src.to_str().unwrap()]));
        let keys = sources(&id);
        let mut doc = Document::open(format, enc.clone(), &keys, OpenOptions::default()).unwrap();
        assert!(doc.set(0, &TreePath::parse(path).unwrap(), Node::string("changed")));
        // Default options (indent 4 / TAB): the file's own 2 / 3 spaces win.
        let saved = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        let changed = changed_lines(
            &String::from_utf8(enc).unwrap(),
            &String::from_utf8(saved).unwrap(),
        );
        assert!(changed.len() <= 3, "{changed:#?}");
        assert!(changed.iter().any(|l| l.contains(needle)), "{changed:#?}");
    }
}
