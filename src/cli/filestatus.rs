//! `sesame filestatus`: whether a file is a sops file, as JSON (works without any key).

use crate::cli::args::{FileArgs, Flags};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::{self, OpenError};
use sesame::metadata::MetadataError;

pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    let Some(file) = args.file.as_deref() else {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            "Error: no file specified",
        ));
    };
    let input = Input::resolve(Some(file), flags)?;
    context::load_config(flags)?;
    let bytes = input.read()?;
    // sops compat: encrypted means metadata loads and has a version and a MAC.
    let encrypted = match document::inspect(input.format(flags.input_type.as_deref()), &bytes) {
        Ok((_, md)) => !md.version.is_empty() && !md.mac.is_empty(),
        Err(OpenError::Metadata(MetadataError::NotFound)) => false,
        Err(e) => {
            return Err(Failure::new(
                code::GENERIC,
                format!("cannot load encrypted file {}: {e}", input.display()),
            ));
        }
    };
    let line = format!("{{\"encrypted\":{encrypted}}}\n");
    context::write_result(&Flags::default(), &input, line.as_bytes())
}
