//! The `sops` metadata reader on whatever a store reads: a bad metadata block is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame::metadata::{FieldOrder, Metadata};
use sesame::store::{self, Format};

fuzz_target!(|data: &[u8]| {
    sesame::process::on_deep_stack(|| {
        for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini] {
            if let Ok(parsed) = store::parse(format, data)
                && let Some(source) = parsed.metadata
                && let Ok(md) = Metadata::from_tree(&source.tree)
            {
                let _ = FieldOrder::of(&source.tree);
                for order in [FieldOrder::Declared, FieldOrder::Sorted] {
                    let _ = md.to_tree(order);
                }
            }
        }
    });
});
