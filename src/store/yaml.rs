//! YAML store: parses and emits YAML exactly as sops does through go-yaml v3.
//!
//! Reading goes scanner → parser → node graph (`compose`) → sops tree (`load`), following
//! go-yaml v3 closely because sops's comment placement and typing come from it. Writing goes
//! tree → events (`serialize`) → go-yaml's block emitter (`emitter`).
//!
//! A generic parser (saphyr-parser) is not used: it drops comments and keeps its tokens
//! private, while go-yaml decides where a comment belongs from token positions, blank lines and
//! its lookahead; reproducing that needs go-yaml's own scanner model.

mod chars;
mod check;
mod compose;
mod emit_scalar;
mod emit_write;
mod emitter;
mod error;
mod input;
mod load;
mod parse_node;
mod parser;
mod resolve;
pub(crate) use resolve::{Resolved, resolve_plain};
mod scalar_event;
mod scalar_style;
mod scan_block;
mod scan_comment;
mod scan_fetch;
mod scan_props;
mod scan_scalar;
mod scanner;
mod serialize;

use crate::store::{Emitted, MetadataSource, Parsed, StoreError};
use crate::tree::{Map, MapItem, Node};
use compose::{Kind, Stream};
use std::ops::Range;

/// The top-level key holding sops metadata.
const SOPS_KEY: &str = "sops";

/// Parses a YAML stream. Doc 0's top-level `sops` entry (if present and a mapping) becomes
/// `Parsed::metadata` (tree = its value as a Map); `sops` entries are removed from every document.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    if input.is_empty() {
        return Ok(Parsed::default());
    }
    let decoded = input::decode(input).map_err(|m| StoreError::Parse(format!("yaml: {m}")))?;
    let stream = compose::compose(&decoded.text, check::check_document)
        .map_err(|e| StoreError::Parse(e.to_string()))?;
    if stream.docs.is_empty() {
        // sops compat: a stream of only comments or blank lines makes go-yaml report EOF.
        return Err(StoreError::Parse("EOF".into()));
    }

    let mut converter = load::Converter::new(&stream);
    let mut docs = Vec::with_capacity(stream.docs.len());
    let mut metadata = None;
    for (i, doc) in stream.docs.iter().enumerate() {
        let mut map = converter.document(doc.node).map_err(StoreError::Parse)?;
        let mut found = take_sops(&mut map);
        if i == 0 && !found.is_empty() {
            if found.len() > 1 {
                return Err(StoreError::SopsEntry("Found duplicate sops entry".into()));
            }
            let Node::Map(mut tree) = found.remove(0) else {
                return Err(StoreError::SopsEntry(
                    "Found sops entry that is not a mapping".into(),
                ));
            };
            load::strip_comments(&mut tree);
            let mut source = MetadataSource {
                tree,
                span: None,
                lastmodified: None,
                mac: None,
            };
            if !decoded.transcoded {
                locate_metadata(&stream, *doc, &decoded.text, decoded.base, &mut source);
            }
            metadata = Some(source);
        }
        docs.push(map);
    }
    Ok(Parsed { docs, metadata })
}

/// Emits documents; when `metadata` is Some, appends it as the last top-level `sops:` entry of
/// EVERY document and reports each copy's byte range in `Emitted::metadata_spans`.
pub fn emit(docs: &[Map], metadata: Option<&Map>, indent: i64) -> Result<Emitted, StoreError> {
    serialize::emit_documents(docs, metadata, indent)
}

/// Emits one value as its own YAML document (for `--extract` of a non-string value).
/// sops writes these with go-yaml's default indentation, 4, whatever the configured one.
pub fn emit_value(node: &Node, indent: i64) -> Result<Vec<u8>, StoreError> {
    serialize::emit_single(node, indent)
}

/// Removes every top-level `sops` entry, returning their values.
fn take_sops(map: &mut Map) -> Vec<Node> {
    if !map
        .items
        .iter()
        .any(|i| matches!(i, MapItem::Entry(e) if e.key == SOPS_KEY))
    {
        return Vec::new();
    }
    let mut found = Vec::new();
    let items = std::mem::take(&mut map.items);
    for item in items {
        match item {
            MapItem::Entry(e) if e.key == SOPS_KEY => found.push(e.value),
            other => map.items.push(other),
        }
    }
    found
}

/// Finds the byte ranges of the metadata block and of its `lastmodified` and `mac` values.
fn locate_metadata(
    stream: &Stream<'_>,
    doc: compose::Doc,
    text: &str,
    base: usize,
    out: &mut MetadataSource,
) {
    let nodes = &stream.nodes;
    let Some(&root) = stream.content(doc.node).first() else {
        return;
    };
    let r = &nodes[root];
    if r.kind != Kind::Mapping {
        return;
    }
    let is_key = |id: usize, name: &str| {
        let n = &nodes[id];
        n.kind == Kind::Scalar && n.value == name && stream.short_tag(id) == "!!str"
    };
    let content = stream.content(root);
    let Some(pos) = content.chunks(2).position(|p| is_key(p[0], SOPS_KEY)) else {
        return;
    };
    let (k, v) = (content[2 * pos], content[2 * pos + 1]);
    let (kn, vn) = (&nodes[k], &nodes[v]);
    if vn.kind == Kind::Mapping {
        for pair in stream.content(v).chunks(2) {
            let value = &nodes[pair[1]];
            if value.kind != Kind::Scalar {
                continue;
            }
            let range = base + value.start..base + value.end;
            if is_key(pair[0], "lastmodified") {
                out.lastmodified = Some(range);
            } else if is_key(pair[0], "mac") {
                out.mac = Some(range);
            }
        }
    }
    let last = 2 * pos + 2 == content.len();
    if !last || r.flow || kn.column != 0 || vn.kind != Kind::Mapping || vn.flow {
        return;
    }
    out.span = block_span(text, kn.start, vn.end, doc.end).map(|s| s.start + base..s.end + base);
}

/// From `start` to the end of the line holding `value_end`, provided only blank space follows
/// up to `doc_end`.
fn block_span(text: &str, start: usize, value_end: usize, doc_end: usize) -> Option<Range<usize>> {
    let rest = text.get(value_end..doc_end)?;
    if !rest
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        return None;
    }
    let end = if text[..value_end].ends_with('\n') {
        value_end
    } else {
        rest.find('\n').map_or(doc_end, |i| value_end + i + 1)
    };
    Some(start..end)
}
