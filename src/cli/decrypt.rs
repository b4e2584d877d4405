//! `sesame decrypt`: print (or write) the plaintext of an encrypted file, or one value of it.

use crate::cli::args::{FileArgs, Flags, on};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::Document;
use sesame::path::{Found, TreePath, lookup};
use sesame::store::{self, Format};
use sesame::tree::Scalar;
use zeroize::Zeroizing;

pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    if !args.extra.is_empty() {
        return run_several(args, flags);
    }
    let input = Input::resolve(args.file.as_deref(), flags)?;
    context::check_output_flags(flags, &input)?;
    let output = plaintext(args, flags)?;
    context::write_result(flags, &input, &output)
}

/// One file's plaintext (or the value `--extract` names).
fn plaintext(args: &FileArgs, flags: &Flags) -> CliResult<Zeroizing<Vec<u8>>> {
    let input = Input::resolve(args.file.as_deref(), flags)?;
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
        doc, emit: opts, ..
    } = context::open(input, flags, true)?;
    match &extract {
        Some(path) => extract_value(&doc, path, out_format, &opts),
        None => doc
            .plain_bytes(out_format, &opts)
            .map_err(|e| dump_failure(e, out_format)),
    }
}

/// Several files: one stream, each file's plaintext followed by `---` before the next (as
/// `sops decrypt a; echo ---; sops decrypt b`), written once all of them decrypted.
fn run_several(args: &FileArgs, flags: &Flags) -> CliResult {
    if on(flags.in_place) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: cannot use --in-place with several files",
        )
        .hint("decrypt them one at a time, or write the stream with --output"));
    }
    let mut stream = Zeroizing::new(Vec::new());
    let files = args.file.iter().chain(&args.extra);
    for (i, file) in files.enumerate() {
        if i > 0 {
            if stream.last().is_some_and(|b| *b != b'\n') {
                stream.push(b'\n');
            }
            stream.extend_from_slice(b"---\n");
        }
        let one = FileArgs {
            file: Some(file.clone()),
            extra: Vec::new(),
        };
        stream.extend_from_slice(&plaintext(&one, flags)?);
    }
    let first = Input::resolve(args.file.as_deref(), flags)?;
    context::write_result(flags, &first, &stream)
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
