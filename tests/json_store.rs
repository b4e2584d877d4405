//! The JSON and binary stores against files written by the real sops (no sops binary needed).

mod common;

use sesame::store::{Format, binary, json};
use std::path::PathBuf;

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// parse → emit reproduces a file sops wrote, byte for byte.
fn assert_round_trip(path: &str, indent: i64) {
    let input = fixture(path);
    let parsed = json::parse(&input).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    let out = json::emit(&parsed.docs, md, indent).unwrap();
    assert_eq!(show(&out.bytes), show(&input), "{path}");
    // The metadata block is last, so its span is known and matches on both sides.
    let source = parsed.metadata.unwrap();
    assert_eq!(source.span, Some(out.metadata_spans[0].clone()), "{path}");
    let lastmodified = &input[source.lastmodified.unwrap()];
    assert!(lastmodified.starts_with(b"\"20"), "{path}");
    assert!(input[source.mac.unwrap()].starts_with(b"\"ENC[AES256_GCM,"));
}

const CASES: &[&str] = &[
    "escapes", "numbers", "nested", "unicode", "empty", "spacing",
];

#[test]
fn sops_written_files_round_trip() {
    for name in CASES {
        assert_round_trip(&format!("json/sops311/{name}.clear.json"), -1);
        assert_round_trip(&format!("json/sops311/{name}.enc.json"), -1);
    }
    assert_round_trip("json/sops311/groups.enc.json", -1);
    for (dir, indent) in [("indent2", 2), ("indent0", 0)] {
        for name in ["escapes", "nested"] {
            assert_round_trip(&format!("json/sops311/{dir}/{name}.clear.json"), indent);
            assert_round_trip(&format!("json/sops311/{dir}/{name}.enc.json"), indent);
        }
    }
}

/// Plaintext input + sops's metadata → exactly what sops wrote; plaintext emission equals what
/// `sops decrypt` printed.
#[test]
fn plaintext_emission_matches_sops() {
    let mut dirs = vec![("json/sops311".to_string(), -1, CASES.to_vec())];
    dirs.push(("json/sops311/indent2".into(), 2, vec!["escapes", "nested"]));
    dirs.push(("json/sops311/indent0".into(), 0, vec!["escapes", "nested"]));
    for (dir, indent, names) in dirs {
        for name in names {
            let plain = json::parse(&fixture(&format!("{dir}/{name}.json"))).unwrap();
            assert!(plain.metadata.is_none());
            let clear = fixture(&format!("{dir}/{name}.clear.json"));
            let md = json::parse(&clear).unwrap().metadata.unwrap().tree;
            let out = json::emit(&plain.docs, Some(&md), indent).unwrap();
            assert_eq!(show(&out.bytes), show(&clear), "{dir}/{name}");
            let dec = fixture(&format!("{dir}/{name}.dec.json"));
            let out = json::emit(&plain.docs, None, indent).unwrap();
            assert_eq!(show(&out.bytes), show(&dec), "{dir}/{name}");
        }
    }
}

#[test]
fn known_answer_binary_file_round_trips() {
    let kat = fixture("binary/kat.bin");
    let parsed = binary::parse(&kat).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    let out = binary::emit(&parsed.docs, md, -1).unwrap();
    assert_eq!(show(&out.bytes), show(&kat));
    assert!(
        parsed.docs[0]
            .get("data")
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("ENC[")
    );
}

#[test]
fn sops_written_binary_files_round_trip() {
    for (name, indent) in [
        ("random.enc", -1),
        ("random-indent3.enc", 3),
        ("text.enc", -1),
    ] {
        let input = fixture(&format!("binary/sops311/{name}"));
        let parsed = binary::parse(&input).unwrap();
        let md = parsed.metadata.as_ref().map(|m| &m.tree);
        let out = binary::emit(&parsed.docs, md, indent).unwrap();
        assert_eq!(show(&out.bytes), show(&input), "{name}");
    }
}

/// 100,000 leaves (about 15 MB) parse and emit in well under 100 ms in release builds.
#[test]
fn large_file_is_fast() {
    let mut text = String::from("{\n");
    for i in 0..1000 {
        text.push_str(&format!("\t\"section_{i}\": {{\n"));
        for j in 0..100 {
            let sep = if j < 99 { "," } else { "" };
            text.push_str(&format!(
                "\t\t\"key_{j}\": \"ENC[AES256_GCM,data:{i:08}{j:04}abcdefghijklmnopqrstuvwxyzABCDEFGHIJ,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:BBBBBBBBBBBBBBBBBBBBBB==,type:str]\"{sep}\n"
            ));
        }
        text.push_str(if i < 999 { "\t},\n" } else { "\t}\n" });
    }
    text.push_str("}\n");
    assert!(text.len() > 15_000_000);
    let mut best = std::time::Duration::MAX;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let parsed = json::parse(text.as_bytes()).unwrap();
        let out = json::emit(&parsed.docs, None, -1).unwrap();
        best = best.min(start.elapsed());
        assert_eq!(out.bytes.len(), text.len());
    }
    if !cfg!(debug_assertions) {
        assert!(best.as_millis() < 100, "took {best:?}");
    }
}

/// `Document::decrypt` (a usual JSON file is written out while it is read, in one pass) gives
/// what opening the file and writing its plaintext gives, on every file sops wrote for the test
/// identity and on damaged copies of them.
#[test]
fn decrypt_writes_what_open_then_plain_bytes_writes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json/sops311");
    let mut corpus = Vec::new();
    for sub in ["", "indent0", "indent2"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".enc.json") {
                corpus.push(std::fs::read(path).unwrap());
            }
        }
    }
    let decrypted = common::assert_decrypt_matches_open(Format::Json, corpus, &[-1, 0, 2]);
    assert!(decrypted > 60, "only {decrypted} decrypted");
}
