//! `Document::open` with a key that opens the seed files (the test suite's known-answer key):
//! tampered ciphertext, metadata and MACs are refused with an error, and what opens can be
//! sealed again.
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
        let options = OpenOptions {
            ignore_mac: pick & 0x80 != 0,
            keep_ciphertext: true,
            keep_damaged: false,
        };
        if let Ok(mut doc) = Document::open(format, input.to_vec(), &sources, options) {
            doc.touch();
            let _ = doc.seal(&EmitOptions::default());
        }
    });
});
