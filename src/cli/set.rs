//! `sesame set` and `sesame unset`: change one value of an encrypted file in place; every other
//! value keeps its ciphertext.

use crate::cli::args::{Flags, SetArgs, UnsetArgs, on};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::Document;
use sesame::path::{LookupError, TreePath};
use sesame::store::{self, Format};
use sesame::tree::{Node, Scalar};
use std::io::Read;

/// Opens the file named by the first argument for an in-place change.
fn open(file: &str, flags: &Flags) -> CliResult<(Input, Document, store::EmitOptions)> {
    let mut opened = context::open(Input::resolve(Some(file), flags)?, flags, false)?;
    // sops compat: `--output-type` rewrites the file in that format.
    if let Some(output) = flags.output_type.as_deref().and_then(Format::from_name) {
        opened.doc.convert(output);
    }
    Ok((opened.input, opened.doc, opened.emit))
}

fn save(input: &Input, doc: &mut Document, opts: &store::EmitOptions) -> CliResult {
    let bytes = doc
        .seal_once(opts)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?;
    // sops compat: the write goes ahead, but a secret landing in plain text is said out loud
    // (found from the seal's own output, so no second encryption pass).
    for path in doc.exposed_by_last_seal() {
        eprintln!(
            "warning: {path} in {} is stored in PLAIN TEXT (the file's rule does not encrypt it), and that value was stored encrypted before",
            input.display()
        );
    }
    if let Some(bytes) = bytes {
        let path = input.path.as_ref().expect("set and unset work on files");
        context::write_file(path, &bytes, |e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("Could not write {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}

fn tree_path(text: &str, what: &str) -> CliResult<TreePath> {
    TreePath::parse(text).map_err(|e| {
        Failure::new(
            code::INVALID_SET_FORMAT,
            format!("Invalid {what} index format: {e}"),
        )
    })
}

/// A `set` value: JSON, with sops's quirks (a top-level number is a float; an array is refused).
pub fn json_value(text: &str) -> CliResult<Node> {
    let invalid = || {
        Failure::new(
            code::INVALID_SET_FORMAT,
            "Value for --set is not valid JSON",
        )
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return Err(
            Failure::new(code::INVALID_SET_FORMAT, "Invalid --set value format").hint(
                "a list cannot be set as a whole; set its elements one by one, e.g. '[\"key\"][0]'",
            ),
        );
    }
    let wrapped = format!("{{\"v\":{text}\n}}");
    let parsed = store::parse_plain(Format::Json, wrapped.as_bytes()).map_err(|_| invalid())?;
    let doc = parsed.docs.into_iter().next().ok_or_else(invalid)?;
    let mut value = doc.get("v").cloned().ok_or_else(invalid)?;
    if doc.entries().count() != 1 {
        return Err(invalid());
    }
    if let Node::Leaf(leaf) = &mut value
        && let Scalar::Int(i) = leaf.value
    {
        leaf.value = Scalar::Float(i as f64);
    }
    Ok(value)
}

pub fn run_set(args: &SetArgs, flags: &Flags) -> CliResult {
    let stdin = on(args.value_stdin);
    if stdin && on(args.value_file) {
        return Err(Failure::new(
            code::GENERIC,
            "Error: cannot use both --value-file and --value-stdin",
        ));
    }
    let wanted = if stdin { 2 } else { 3 };
    if args.args.len() != wanted {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            if stdin {
                "Error: file specified, or index and value are missing. Need precisely 2 positional arguments since --value-stdin is used."
            } else {
                "Error: no file specified, or index and value are missing. Need precisely 3 positional arguments."
            },
        ));
    }
    let path = tree_path(&args.args[1], "set")?;
    let text = if stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::new(
                code::GENERIC,
                format!("Error reading the value from stdin: {e}"),
            )
        })?;
        s
    } else if on(args.value_file) {
        std::fs::read_to_string(&args.args[2]).map_err(|e| {
            Failure::new(
                code::GENERIC,
                format!("Error reading value file {}: {e}", args.args[2]),
            )
        })?
    } else {
        args.args[2].clone()
    };
    let value = json_value(&text)?;
    if path.is_empty() {
        return Err(Failure::new(
            code::INVALID_SET_FORMAT,
            "Invalid set index format: the path is empty",
        ));
    }
    if path.0.first() == Some(&sesame::path::Step::Key("sops".into())) && path.0.len() == 1 {
        return Err(Failure::new(
            code::FILE_ALREADY_ENCRYPTED,
            "Error: cannot set a top-level key named 'sops'",
        ));
    }
    let (input, mut doc, opts) = open(&args.args[0], flags)?;
    let changed = doc.set(0, &path, value);
    if !changed && !on(args.idempotent) {
        // sops compat: without --idempotent an unchanged `set` still rewrites the file.
        doc.touch();
    }
    save(&input, &mut doc, &opts)
}

pub fn run_unset(args: &UnsetArgs, flags: &Flags) -> CliResult {
    if args.args.len() != 2 {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            "Error: no file specified, or index is missing. Need precisely 2 positional arguments.",
        ));
    }
    let path = tree_path(&args.args[1], "unset")?;
    let (input, mut doc, opts) = open(&args.args[0], flags)?;
    match doc.unset(0, &path) {
        Ok(()) => save(&input, &mut doc, &opts),
        Err(LookupError::KeyNotFound(_) | LookupError::OutOfBounds(_)) if on(args.idempotent) => {
            Ok(())
        }
        Err(e) => Err(Failure::new(
            code::GENERIC,
            format!("{}: cannot unset {path}: {e}", input.display()),
        )),
    }
}
