//! The dotenv store against files written by the real sops (no sops binary needed).

use sesame::store::dotenv;
use std::path::PathBuf;

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dotenv")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_round_trip(path: &str) {
    let input = fixture(path);
    let parsed = dotenv::parse(&input).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    let out = dotenv::emit(&parsed.docs, md).unwrap();
    assert_eq!(show(&out.bytes), show(&input), "{path}");
    let source = parsed.metadata.unwrap();
    assert_eq!(source.span, Some(out.metadata_spans[0].clone()), "{path}");
    assert!(
        input[source.mac.unwrap()].starts_with(b"ENC[AES256_GCM,"),
        "{path}"
    );
    assert!(
        input[source.lastmodified.unwrap()].starts_with(b"20"),
        "{path}"
    );
}

#[test]
fn sops_written_files_round_trip() {
    assert_round_trip("kat.env");
    for name in ["tricky", "simple"] {
        assert_round_trip(&format!("sops311/{name}.clear.env"));
        assert_round_trip(&format!("sops311/{name}.enc.env"));
    }
    assert_round_trip("sops311/groups.enc.env");
}

#[test]
fn key_groups_unflatten_into_nested_metadata() {
    let parsed = dotenv::parse(&fixture("sops311/groups.enc.env")).unwrap();
    let md = parsed.metadata.unwrap().tree;
    let groups = md.get("key_groups").unwrap().as_list().unwrap();
    assert_eq!(groups.values().count(), 2);
    assert_eq!(md.get("shamir_threshold").unwrap().as_str(), Some("2"));
    let keys: Vec<_> = md.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "encrypted_regex",
            "key_groups",
            "lastmodified",
            "mac",
            "shamir_threshold",
            "version"
        ]
    );
}

/// Plaintext input + sops's metadata → exactly what sops wrote; plaintext emission equals what
/// `sops decrypt` printed.
#[test]
fn plaintext_emission_matches_sops() {
    for name in ["tricky", "simple"] {
        let plain = dotenv::parse(&fixture(&format!("sops311/{name}.env"))).unwrap();
        assert!(plain.metadata.is_none());
        let clear = fixture(&format!("sops311/{name}.clear.env"));
        let md = dotenv::parse(&clear).unwrap().metadata.unwrap().tree;
        let out = dotenv::emit(&plain.docs, Some(&md)).unwrap();
        assert_eq!(show(&out.bytes), show(&clear), "{name}");
        let dec = fixture(&format!("sops311/{name}.dec.env"));
        assert_eq!(
            show(&dotenv::emit(&plain.docs, None).unwrap().bytes),
            show(&dec),
            "{name}"
        );
    }
}
