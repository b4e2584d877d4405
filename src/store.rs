//! File formats: each store parses bytes into trees and emits trees back, byte-exact with sops.

pub mod binary;
pub mod dotenv;
pub mod flatten;
pub mod ini;
pub mod json;
pub mod yaml;

use crate::secret::PlainBuffer;
use crate::tree::{Map, MapItem, Node};
use std::ops::Range;
use zeroize::Zeroizing;

/// The file formats sops knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// sops compat: the type named by `--input-type`/`--output-type`; unknown names give `None`
    /// (and the caller falls back to the file extension).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    /// sops compat: the format for a file name, by case-sensitive extension; binary otherwise.
    pub fn from_path(path: &str) -> Format {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else if path.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// What a store reads from a file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The documents, without their `sops` metadata entries. Only YAML has more than one.
    pub docs: Vec<Map>,
    /// The metadata of the first document, if the file has any.
    pub metadata: Option<MetadataSource>,
}

/// The metadata as read: its generic tree plus where its text sits in the input, so a save that
/// changes only `lastmodified` and `mac` can keep the file's own metadata layout byte for byte.
#[derive(Debug, Clone)]
pub struct MetadataSource {
    /// The metadata record as a tree (for YAML/JSON the value of the `sops` key; for dotenv/INI
    /// the unflattened record).
    pub tree: Map,
    /// Byte range of the whole metadata block in the input, when the block is the last thing of
    /// its document and so can be reused verbatim; see `Emitted::metadata_spans`.
    pub span: Option<Range<usize>>,
    /// Byte range of the `lastmodified` value token (quotes included) in the input.
    pub lastmodified: Option<Range<usize>>,
    /// Byte range of the `mac` value token (quotes included) in the input.
    pub mac: Option<Range<usize>>,
}

/// What a store writes.
#[derive(Debug, Default)]
pub struct Emitted {
    pub bytes: Vec<u8>,
    /// Where each copy of the metadata block landed in `bytes`, defined exactly as
    /// `MetadataSource::span` is for the input.
    pub metadata_spans: Vec<Range<usize>>,
}

/// Output settings from `.sops.yaml` `stores:` and `--indent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmitOptions {
    /// YAML indentation: 0 means the default 4; go-yaml turns values outside 2..=9 into 2.
    pub yaml_indent: i64,
    /// JSON indentation: -1 means one TAB per level, N >= 0 means N spaces.
    pub json_indent: i64,
    /// The same for the binary store's JSON envelope.
    pub json_binary_indent: i64,
    /// The indentation was asked for explicitly (`--indent`): it wins over the indentation an
    /// existing file was written with, which a save otherwise keeps.
    pub indent_given: bool,
}

impl EmitOptions {
    /// The indentation files of `format` are written with (none for the flat formats).
    pub fn indent_of(&self, format: Format) -> Option<i64> {
        match format {
            Format::Yaml => Some(self.yaml_indent),
            Format::Json => Some(self.json_indent),
            Format::Binary => Some(self.json_binary_indent),
            Format::Dotenv | Format::Ini => None,
        }
    }
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            yaml_indent: 0,
            json_indent: -1,
            json_binary_indent: -1,
            indent_given: false,
        }
    }
}

/// A store failed to read or write a file. The message names the problem; callers add the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input is not valid for the format.
    #[error("{0}")]
    Parse(String),
    /// The tree cannot be written in this format.
    #[error("{0}")]
    Emit(String),
    /// A top-level `sops` entry that is not one metadata mapping (duplicated, or a scalar or
    /// list): a plain file with it cannot be encrypted, as sops says.
    #[error("{0}")]
    SopsEntry(String),
}

/// What works on a file's documents while they are parsed (see `parse_reading`).
pub trait Reading {
    /// Gets the file's metadata before any item; `false` to only parse on. Called again with
    /// the same metadata when a parser gives up a first reading and reads the file anew: the
    /// visits start over (the reader keeps what it worked out from the metadata alone).
    fn start(&mut self, metadata: Option<&MetadataSource>) -> bool;
    /// Whether a document may come in several slices (else each comes whole).
    fn takes_slices(&self) -> bool;
    /// The next top-level items of document `doc` (documents in order, each one's items in
    /// order), to change in place; `false` ends the visits (parsing goes on).
    fn items(&mut self, doc: usize, items: &mut [MapItem]) -> bool;
    /// Whether a parser reading in one pass may drop the items it has handed on, after
    /// showing them again to `dropping`; the document then comes back without them.
    fn lets_drop(&self) -> bool {
        false
    }
    /// Items `items` has had, about to be dropped (see `lets_drop`); `false` makes the parser
    /// give the one pass up and read the file whole, starting over.
    fn dropping(&mut self, _doc: usize, _items: &[MapItem]) -> bool {
        true
    }
}

/// How much of the input a one-pass read reads between two slices it hands to a reader: a
/// small part of the file, so that what a slice holds (its stored texts, its plaintext until
/// written out) stays small, and still many entries for each thread of a decrypting reader.
pub(crate) fn slice_bytes(input_len: usize) -> usize {
    (input_len / 64).clamp(64 << 10, 1 << 20)
}

/// `parse`, with `reader` working on the documents as they are read: a YAML or JSON file's
/// top level comes in slices as its tree is built, so a reader that decrypts them replaces
/// each stored text before the next slice is made (the stored texts are never all held at
/// once next to the parser's nodes and the input), and a reader that `lets_drop` gets the
/// tree never whole. JSON comes so only in its usual shape (the `sops` member last); other
/// formats and shapes come whole once parsed.
pub fn parse_reading(
    format: Format,
    input: &[u8],
    reader: &mut dyn Reading,
) -> Result<Parsed, StoreError> {
    if format == Format::Yaml {
        return yaml::parse_reading(input, reader);
    }
    if format == Format::Json
        && let Some(parsed) = json::read_in_one_pass(input, reader)
    {
        return Ok(parsed);
    }
    let mut parsed = parse(format, input)?;
    if reader.start(parsed.metadata.as_ref()) {
        for (i, doc) in parsed.docs.iter_mut().enumerate() {
            if !reader.items(i, &mut doc.items) {
                break;
            }
        }
    }
    Ok(parsed)
}

/// Parses a file that may hold sops metadata (an encrypted file, or a plain one to encrypt).
pub fn parse(format: Format, input: &[u8]) -> Result<Parsed, StoreError> {
    match format {
        Format::Yaml => yaml::parse(input),
        Format::Json => json::parse(input),
        Format::Binary => binary::parse(input),
        Format::Dotenv => dotenv::parse(input),
        Format::Ini => ini::parse(input),
    }
}

/// Parses a plaintext file for encryption. For binary files the whole input is one value.
pub fn parse_plain(format: Format, input: &[u8]) -> Result<Parsed, StoreError> {
    match format {
        Format::Binary => Ok(Parsed {
            docs: vec![binary::parse_plain(input)],
            metadata: None,
        }),
        _ => parse(format, input),
    }
}

/// `parse_plain` taking the plaintext: a binary file's buffer becomes its value without a
/// copy; any other is parsed and its buffer wiped.
pub fn parse_plain_owned(
    format: Format,
    mut input: Zeroizing<Vec<u8>>,
) -> Result<Parsed, StoreError> {
    match format {
        Format::Binary => Ok(Parsed {
            docs: vec![binary::parse_plain_owned(std::mem::take(&mut *input))],
            metadata: None,
        }),
        _ => parse(format, &input),
    }
}

/// Emits documents with their metadata (an encrypted file).
pub fn emit(
    format: Format,
    docs: &[Map],
    metadata: Option<&Map>,
    opts: &EmitOptions,
) -> Result<Emitted, StoreError> {
    match format {
        Format::Yaml => yaml::emit(docs, metadata, opts.yaml_indent),
        Format::Json => json::emit(docs, metadata, opts.json_indent),
        Format::Binary => binary::emit(docs, metadata, opts.json_binary_indent),
        Format::Dotenv => dotenv::emit(docs, metadata),
        Format::Ini => ini::emit(docs, metadata),
    }
}

/// Emits decrypted documents as a plaintext file (zeroized on drop).
pub fn emit_plain(
    format: Format,
    docs: &[Map],
    opts: &EmitOptions,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    Ok(Zeroizing::new(match format {
        Format::Binary => binary::emit_plain(docs)?,
        _ => emit(format, docs, None, opts)?.bytes,
    }))
}

/// Decrypt's plaintext written while the file is read (see `Document::decrypt`), for a YAML or
/// JSON file written in its own format.
pub enum PlainWriter {
    Yaml(Box<yaml::PlainWriter>),
    Json(json::PlainWriter),
}

impl PlainWriter {
    /// Whether a file of `input` format written as `output` can be written while it is read.
    pub fn streams(input: Format, output: Format) -> bool {
        input == output && matches!(input, Format::Yaml | Format::Json)
    }

    /// A writer for a format that `streams`, with room for `capacity` bytes.
    pub fn new(format: Format, opts: &EmitOptions, capacity: usize) -> Result<Self, StoreError> {
        match format {
            Format::Yaml => {
                yaml::PlainWriter::new(opts.yaml_indent, capacity).map(|w| Self::Yaml(Box::new(w)))
            }
            Format::Json => json::PlainWriter::new(opts.json_indent, capacity).map(Self::Json),
            _ => Err(StoreError::Emit(format!(
                "{format:?} is not written while read"
            ))),
        }
    }

    /// The document's next top-level items.
    pub fn items(&mut self, items: &[MapItem]) -> Result<(), StoreError> {
        match self {
            Self::Yaml(w) => w.items(items),
            Self::Json(w) => w.items(items),
        }
    }

    /// The text, in the buffer made with room to spare: the room never written is never
    /// touched, not even to be wiped (see `PlainBuffer`).
    pub fn finish(self) -> Result<PlainBuffer, StoreError> {
        match self {
            Self::Yaml(w) => (*w).finish(),
            Self::Json(w) => w.finish(),
        }
    }
}

/// Emits one non-string value extracted from a document (`--extract`), zeroized on drop.
pub fn emit_value(
    format: Format,
    node: &Node,
    opts: &EmitOptions,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    Ok(Zeroizing::new(emit_value_bytes(format, node, opts)?))
}

fn emit_value_bytes(
    format: Format,
    node: &Node,
    opts: &EmitOptions,
) -> Result<Vec<u8>, StoreError> {
    match format {
        Format::Yaml => yaml::emit_value(node, opts.yaml_indent),
        Format::Json => json::emit_value(node, opts.json_indent),
        Format::Dotenv => dotenv::emit_value(node),
        Format::Ini => ini::emit_value(node),
        Format::Binary => Err(StoreError::Emit(
            "Binary files are not structured and extracting a single value is not possible".into(),
        )),
    }
}
