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

use crate::store::{Emitted, MetadataSource, Parsed, Reading, StoreError};
use crate::tree::{Map, MapItem, Node};
use compose::{Kind, Stream};
use std::ops::Range;

/// The top-level key holding sops metadata.
const SOPS_KEY: &str = "sops";

/// Parses a YAML stream. Doc 0's top-level `sops` entry (if present and a mapping) becomes
/// `Parsed::metadata` (tree = its value as a Map); `sops` entries are removed from every document.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    parse_reading(input, &mut JustParse)
}

/// A reader that reads nothing.
struct JustParse;

impl Reading for JustParse {
    fn start(&mut self, _: Option<&MetadataSource>) -> bool {
        false
    }
    fn takes_slices(&self) -> bool {
        false
    }
    fn items(&mut self, _: usize, _: &mut [MapItem]) -> bool {
        false
    }
}

/// Top-level items handed to a reader at a time: a sixteenth of the document, so at most
/// that much of it is held as stored text, and enough for each thread of a decrypting
/// reader to take a share.
fn slice_size(top_level: usize) -> usize {
    (top_level / 16).max(256)
}

/// `parse` with a reader (see `store::parse_reading`). When doc 0's metadata can be read
/// ahead of its values (one `sops` mapping in a top-level mapping), the reader starts before
/// the trees are built and gets their top levels in slices as they are made; otherwise it
/// starts once they are built and gets whole documents.
pub fn parse_reading(input: &[u8], reader: &mut dyn Reading) -> Result<Parsed, StoreError> {
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
    let ahead = metadata_ahead(&mut converter, &stream, &decoded);
    let started = ahead.is_some() && reader.start(ahead.as_ref());
    let in_slices = started && reader.takes_slices();
    let mut visiting = started;
    let mut docs = Vec::with_capacity(stream.docs.len());
    let mut metadata = None;
    for (i, doc) in stream.docs.iter().enumerate() {
        let mut map = if in_slices {
            let root = stream.content(doc.node).first().copied();
            let top_level = root.map_or(0, |r| stream.content(r).len() / 2);
            let mut each = |items: &mut [MapItem]| {
                if visiting {
                    visiting = reader.items(i, items);
                }
            };
            converter.document_in_slices(doc.node, slice_size(top_level), &mut each)
        } else {
            converter.document(doc.node)
        }
        .map_err(StoreError::Parse)?;
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
            metadata = Some(source_of(tree, &stream, *doc, &decoded));
        }
        if started && !in_slices && visiting {
            visiting = reader.items(i, &mut map.items);
        }
        docs.push(map);
    }
    if ahead.is_some() {
        metadata = ahead;
    } else if reader.start(metadata.as_ref()) {
        for (i, doc) in docs.iter_mut().enumerate() {
            if !reader.items(i, &mut doc.items) {
                break;
            }
        }
    }
    Ok(Parsed { docs, metadata })
}

/// Doc 0's metadata read before its values: when its root is a mapping with exactly one
/// `sops` key, whose value is a mapping. Anything else is left to the whole conversion, which
/// finds the same metadata or reports the problem.
fn metadata_ahead(
    converter: &mut load::Converter,
    stream: &Stream<'_>,
    decoded: &input::Input<'_>,
) -> Option<MetadataSource> {
    let doc = *stream.docs.first()?;
    let &[root] = stream.content(doc.node) else {
        return None;
    };
    if stream.nodes[root].kind != Kind::Mapping {
        return None;
    }
    // Only a key written `sops`, an alias or a tagged key can convert to `sops`: the others
    // (nearly all) are not converted here.
    let may_be_sops = |k: usize| {
        let n = &stream.nodes[k];
        n.kind == Kind::Alias || n.tagged || stream.value(k) == SOPS_KEY
    };
    let mut found = stream
        .content(root)
        .chunks(2)
        .filter(|pair| may_be_sops(pair[0]) && converter.key(pair[0]).is_ok_and(|k| k == SOPS_KEY));
    let (Some(pair), None) = (found.next(), found.next()) else {
        return None;
    };
    if stream.nodes[pair[1]].kind != Kind::Mapping {
        return None;
    }
    let Ok(Node::Map(mut tree)) = converter.value(pair[1], false) else {
        return None;
    };
    load::strip_comments(&mut tree);
    Some(source_of(tree, stream, doc, decoded))
}

/// The metadata tree with where its text sits in the input.
fn source_of(
    tree: Map,
    stream: &Stream<'_>,
    doc: compose::Doc,
    decoded: &input::Input<'_>,
) -> MetadataSource {
    let mut source = MetadataSource {
        tree,
        span: None,
        lastmodified: None,
        mac: None,
    };
    if !decoded.transcoded {
        locate_metadata(stream, doc, &decoded.text, decoded.base, &mut source);
    }
    source
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
        n.kind == Kind::Scalar && stream.value(id) == name && stream.short_tag(id) == "!!str"
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
            let range = base + value.start()..base + value.end();
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
    out.span =
        block_span(text, kn.start(), vn.end(), doc.end).map(|s| s.start + base..s.end + base);
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
