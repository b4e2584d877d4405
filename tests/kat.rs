//! Known-answer files from SOPS-SPEC Appendix A: sesame decrypts each to the exact plaintext,
//! and re-reading and re-emitting each reproduces it byte for byte.

mod common;

use common::{Sandbox, TEST_IDENTITY, fixture, ok};
use sesame::document::{Document, OpenOptions};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::{self, EmitOptions, Format};

const FILES: [(&str, Format); 5] = [
    ("kat.yaml", Format::Yaml),
    ("kat.json", Format::Json),
    ("kat.env", Format::Dotenv),
    ("kat.ini", Format::Ini),
    ("kat.bin", Format::Binary),
];

#[test]
fn cli_decrypts_every_known_answer_file() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    for (name, _) in FILES {
        let path = fixture(&format!("kat/{name}"));
        let out = ok(sb.sesame(&["decrypt", path.to_str().unwrap()]));
        let expected = std::fs::read(fixture(&format!("kat/{name}.plain"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
    }
}

#[test]
fn stores_reemit_known_answer_files_byte_for_byte() {
    for (name, format) in FILES {
        let bytes = std::fs::read(fixture(&format!("kat/{name}"))).unwrap();
        let parsed = store::parse(format, &bytes).unwrap();
        let meta = parsed.metadata.as_ref().expect("metadata");
        let emitted = store::emit(
            format,
            &parsed.docs,
            Some(&meta.tree),
            &EmitOptions::default(),
        )
        .unwrap();
        if format == Format::Binary {
            // The spec's note: sops writes a fresh binary file without `unencrypted_suffix`,
            // and our emitter writes exactly the metadata tree it is given.
            assert_eq!(emitted.bytes, bytes, "{name}");
        } else {
            assert_eq!(
                String::from_utf8_lossy(&emitted.bytes),
                String::from_utf8_lossy(&bytes),
                "{name}"
            );
        }
        // The metadata span of the input and of the output delimit the same text.
        let span = meta.span.clone().expect("metadata is last");
        assert_eq!(emitted.metadata_spans.len(), 1, "{name}");
        let out_span = emitted.metadata_spans[0].clone();
        assert_eq!(&emitted.bytes[out_span], &bytes[span], "{name}");
    }
}

#[test]
fn opening_and_saving_without_change_writes_nothing() {
    let env = FixedEnv([("SOPS_AGE_KEY".to_string(), TEST_IDENTITY.to_string())].into());
    let sources = KeySources::new(Box::new(env));
    for (name, format) in FILES {
        let bytes = std::fs::read(fixture(&format!("kat/{name}"))).unwrap();
        let mut doc = Document::open(format, bytes, &sources, OpenOptions::default()).unwrap();
        assert!(!doc.is_changed());
        assert!(
            doc.seal(&EmitOptions::default()).unwrap().is_none(),
            "{name}"
        );
    }
}
