//! `sesame decrypt`: print (or write) the plaintext of an encrypted file, or one value of it.

use crate::cli::args::{FileArgs, Flags};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::Document;
use sesame::path::{Found, TreePath, lookup};
use sesame::store::{self, Format};
use sesame::tree::Scalar;
use zeroize::Zeroizing;

pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    let input = Input::resolve(args.file.as_deref(), flags)?;
    context::check_output_flags(flags, &input)?;
    let out_format = input.format(flags.output_type.as_deref());
    let extract = match flags.extract.as_deref().filter(|e| !e.is_empty()) {
        Some(p) => Some(TreePath::parse(p).map_err(|e| {
            Failure::new(
                code::INVALID_TREE_PATH_FORMAT,
                format!("error parsing --extract path: {e}"),
            )
        })?),
        None => None,
    };
    let context::Opened {
        input,
        doc,
        emit: opts,
        ..
    } = context::open(input, flags, true)?;
    let output = match &extract {
        Some(path) => extract_value(&doc, path, out_format, &opts)?,
        None => doc
            .plain_bytes(out_format, &opts)
            .map_err(|e| dump_failure(e, out_format))?,
    };
    context::write_result(flags, &input, &output)
}

fn dump_failure(e: store::StoreError, format: Format) -> Failure {
    let f = Failure::new(code::ERROR_DUMPING_TREE, format!("Error dumping file: {e}"));
    if format == Format::Binary {
        f.hint("This is likely not an encrypted binary file? If not, use --output-type to select the correct output type.")
    } else {
        f
    }
}

/// sops compat: a string is written raw without a newline, a map as a whole document, anything
/// else through the output format's value writer.
fn extract_value(
    doc: &Document,
    path: &TreePath,
    format: Format,
    opts: &store::EmitOptions,
) -> CliResult<Zeroizing<Vec<u8>>> {
    let first = doc
        .docs()
        .first()
        .ok_or_else(|| Failure::new(code::GENERIC, "the file has no documents"))?;
    let found = lookup(first, path)
        .map_err(|e| Failure::new(code::GENERIC, format!("error truncating tree: {e}")))?;
    let node = match found {
        Found::Document(m) => {
            return store::emit_plain(format, std::slice::from_ref(m), opts)
                .map_err(|e| dump_failure(e, format));
        }
        Found::Node(n) => n,
    };
    match node {
        sesame::tree::Node::Map(m) => store::emit_plain(format, std::slice::from_ref(m), opts)
            .map_err(|e| dump_failure(e, format)),
        sesame::tree::Node::Leaf(l) if matches!(l.value, Scalar::Str(_)) => {
            let Scalar::Str(s) = &l.value else {
                unreachable!()
            };
            Ok(Zeroizing::new(s.expose().to_vec()))
        }
        other => store::emit_value(format, other, opts).map_err(|e| {
            Failure::new(code::ERROR_DUMPING_TREE, format!("Error dumping tree: {e}"))
        }),
    }
}
