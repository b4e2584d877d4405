//! Every store's reader, and its writer on what it read: any input is read or refused with an
//! error, never a panic, a hang or a stack overflow. The first byte picks the format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame::store::{self, EmitOptions, Format};

const FORMATS: [Format; 5] = [
    Format::Yaml,
    Format::Json,
    Format::Dotenv,
    Format::Ini,
    Format::Binary,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let format = FORMATS[pick as usize % FORMATS.len()];
    sesame::process::on_deep_stack(|| {
        if let Ok(parsed) = store::parse(format, input) {
            let _ = store::emit(format, &parsed.docs, None, &EmitOptions::default());
        }
        if let Ok(parsed) = store::parse_plain(format, input) {
            let _ = store::emit_plain(format, &parsed.docs, &EmitOptions::default());
        }
    });
});
