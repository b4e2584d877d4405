//! `Document::open` with a key that opens the seed files (the test suite's known-answer key):
//! tampered ciphertext, metadata and MACs are refused with an error, and what opens can be
//! sealed again. Each input is opened twice, keeping the stored texts (the whole read) and not
//! (a YAML file may be read in one pass, decrypted as it is composed), and decrypted straight to
//! its plaintext (YAML and JSON written out as they are read): all three must give the same
//! plaintext or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame::document::{Document, OpenOptions};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::{EmitOptions, Format};

/// The identity of the test fixtures (public, for tests only).
const IDENTITY: &str = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let format = [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary]
        [pick as usize % 5];
    sesame::process::on_deep_stack(|| {
        let mut env = FixedEnv::default();
        env.0.insert("SOPS_AGE_KEY".into(), IDENTITY.into());
        let sources = KeySources::new(Box::new(env));
        let open = |keep_ciphertext| {
            let options = OpenOptions {
                ignore_mac: pick & 0x80 != 0,
                keep_ciphertext,
                keep_damaged: false,
            };
            Document::open(format, input.to_vec(), &sources, options)
        };
        let one_pass = open(false);
        let whole = open(true);
        let plain = |doc: &Document| {
            doc.plain_bytes(format, &EmitOptions::default())
                .map(|b| b.to_vec())
                .map_err(|e| e.to_string())
        };
        match (&whole, &one_pass) {
            (Ok(a), Ok(b)) => assert!(plain(a) == plain(b), "the two reads differ"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("one read opens the file and the other does not"),
        }
        let options = OpenOptions {
            ignore_mac: pick & 0x80 != 0,
            keep_ciphertext: false,
            keep_damaged: false,
        };
        let streamed = Document::decrypt(
            format,
            input.to_vec(),
            &sources,
            options,
            format,
            &EmitOptions::default(),
        );
        match (&whole, streamed) {
            (Ok(doc), Ok(d)) => {
                assert!(plain(doc) == Ok(d.text.to_vec()), "decrypt writes another text")
            }
            (Ok(doc), Err(e)) => assert_eq!(plain(doc).err(), Some(e.to_string())),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (Err(_), Ok(_)) => panic!("decrypt decrypts a file that does not open"),
        }
        if let Ok(mut doc) = whole {
            doc.touch();
            let _ = doc.seal(&EmitOptions::default());
        }
    });
});
