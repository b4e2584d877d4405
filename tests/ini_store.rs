//! The INI store against files written by the real sops (no sops binary needed).
//!
//! sops 3.11 writes the `[sops]` keys in random order (3.13 sorts them), so for its files the
//! metadata section is compared as a set of lines; everything before it byte for byte.

use sesame::store::ini;
use std::path::PathBuf;

fn fixture(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ini")
        .join(path);
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    String::from_utf8(bytes).unwrap()
}

/// Splits a file at its `[sops]` header: (data part, sorted metadata lines).
fn split(text: &str) -> (&str, Vec<&str>) {
    let at = text.find("[sops]\n").unwrap_or(text.len());
    let mut meta: Vec<&str> = text[at..].lines().collect();
    meta.sort_unstable();
    (&text[..at], meta)
}

fn emit(text: &str, with_metadata: bool) -> String {
    let parsed = ini::parse(text.as_bytes()).unwrap();
    let md = parsed
        .metadata
        .as_ref()
        .map(|m| &m.tree)
        .filter(|_| with_metadata);
    String::from_utf8(ini::emit(&parsed.docs, md).unwrap().bytes).unwrap()
}

#[test]
fn sops_written_files_round_trip() {
    for name in [
        "tricky.clear",
        "tricky.enc",
        "sections.clear",
        "sections.enc",
        "groups.enc",
    ] {
        let input = fixture(&format!("sops311/{name}.ini"));
        let out = emit(&input, true);
        assert_eq!(split(&out), split(&input), "{name}");
        // The metadata span covers the [sops] section on both sides.
        let parsed = ini::parse(input.as_bytes()).unwrap();
        let span = parsed.metadata.unwrap().span.unwrap();
        assert_eq!(span, input.find("[sops]").unwrap()..input.len(), "{name}");
    }
}

/// Plaintext input + sops's metadata → what sops wrote; plaintext emission equals what
/// `sops decrypt` printed.
#[test]
fn plaintext_emission_matches_sops() {
    for name in ["tricky", "sections"] {
        let plain = ini::parse(fixture(&format!("sops311/{name}.ini")).as_bytes()).unwrap();
        assert!(plain.metadata.is_none());
        let clear = fixture(&format!("sops311/{name}.clear.ini"));
        let md = ini::parse(clear.as_bytes()).unwrap().metadata.unwrap().tree;
        let out = ini::emit(&plain.docs, Some(&md)).unwrap();
        let out = String::from_utf8(out.bytes).unwrap();
        assert_eq!(split(&out), split(&clear), "{name}");
        let dec = fixture(&format!("sops311/{name}.dec.ini"));
        let plain_out = String::from_utf8(ini::emit(&plain.docs, None).unwrap().bytes).unwrap();
        assert_eq!(plain_out, dec, "{name}");
    }
}

#[test]
fn key_groups_unflatten_into_nested_metadata() {
    let parsed = ini::parse(fixture("sops311/groups.enc.ini").as_bytes()).unwrap();
    let md = parsed.metadata.unwrap().tree;
    let groups = md.get("key_groups").unwrap().as_list().unwrap();
    assert_eq!(groups.values().count(), 2);
    let first = groups.values().next().unwrap().as_map().unwrap();
    let age = first.get("age").unwrap().as_list().unwrap();
    let enc = age
        .values()
        .next()
        .unwrap()
        .as_map()
        .unwrap()
        .get("enc")
        .unwrap();
    assert!(
        enc.as_str()
            .unwrap()
            .contains("\n-----END AGE ENCRYPTED FILE-----\n")
    );
}
