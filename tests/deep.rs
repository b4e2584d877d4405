//! Files as deep as sops reads them (10,000 levels, go-yaml's and encoding/json's limit) are
//! read and written, both ways with the real sops, without overflowing the stack; deeper ones
//! are refused with an error, as sops refuses them.

mod common;

use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};

const DEPTH: usize = 9_990;

fn deep_files() -> [(&'static str, String); 3] {
    let lists = format!("{}1{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    [
        ("deep.json", format!("{{\"a\": {lists}}}")),
        ("deep.yaml", format!("a: {lists}\n")),
        (
            "maps.yaml",
            format!("a: {}1{}\n", "{b: ".repeat(DEPTH), "}".repeat(DEPTH)),
        ),
    ]
}

/// Each file: sops encrypts it and sesame decrypts that; sesame encrypts it and sops decrypts
/// that; the two decryptions are the same text. (Deep pretty-printed output is quadratic in the
/// depth, so the files run side by side.)
#[test]
fn files_as_deep_as_sops_reads_go_both_ways() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    std::thread::scope(|scope| {
        for (name, text) in deep_files() {
            let sb = &sb;
            scope.spawn(move || {
                sb.write(name, &text);
                let by_sops = sb.write(
                    &format!("sops-{name}"),
                    ok(sb.sops(&["encrypt", "--age", TEST_RECIPIENT, name])),
                );
                let by_sesame = sb.write(
                    &format!("sesame-{name}"),
                    ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, name])),
                );
                let sops_reads = ok(sb.sops(&["decrypt", by_sesame.to_str().unwrap()]));
                let sesame_reads = ok(sb.sesame(&["decrypt", by_sops.to_str().unwrap()]));
                assert!(!sops_reads.is_empty());
                assert!(
                    sesame_reads == sops_reads,
                    "{name}: sesame reads sops's file as sops reads sesame's"
                );
            });
        }
    });
}

#[test]
fn deeper_files_are_refused_with_an_error() {
    let sb = Sandbox::new();
    let d = 10_001;
    sb.write(
        "deeper.yaml",
        format!("a: {}1{}\n", "[".repeat(d), "]".repeat(d)),
    );
    sb.write(
        "deeper.json",
        format!("{{\"a\": {}1{}}}", "[".repeat(d), "]".repeat(d)),
    );
    let err = fails(
        sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "deeper.yaml"]),
        2,
    );
    assert!(err.contains("exceeded max depth of 10000"), "{err}");
    let err = fails(
        sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "deeper.json"]),
        2,
    );
    assert!(err.contains("exceeded max depth"), "{err}");
}
