//! dotenv store (spec §7.3): `KEY=value` lines with raw values, `#` comments, and the metadata
//! flattened into `sops_*` lines at the end.
//!
//! Metadata spans (see `MetadataSource`): the block runs from the start of the first `sops_` line
//! to the end of the last one, its newline included, and is reported only when those lines are
//! adjacent and nothing but empty lines follows them. `lastmodified` and `mac` are the ranges of
//! the values after `sops_lastmodified=` and `sops_mac=` (newline excluded).

use crate::gotext::go_quote;
use crate::secret::SecretBuf;
use crate::store::flatten;
use crate::store::{Emitted, MetadataSource, Parsed, StoreError};
use crate::tree::{Comment, Map, MapItem, Node, Scalar};
use std::ops::Range;

const PREFIX: &str = "sops_";

/// One `sops_` line as read: where it is and where its value is.
struct MetaLine {
    line: Range<usize>,
    value: Range<usize>,
    /// Line number, to tell whether the block is contiguous.
    ordinal: usize,
}

/// Reads a dotenv file; `sops_*` keys anywhere in it become the metadata.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    let mut doc = Map::new();
    let mut meta_items = Vec::new();
    let mut meta_lines: Vec<MetaLine> = Vec::new();
    let mut last_content_end = 0;
    let mut start = 0;
    // sops compat: split on `\n` only; a `\r` stays part of the line.
    for (ordinal, line) in input.split(|&b| b == b'\n').enumerate() {
        let line_start = start;
        start += line.len() + 1;
        if line.is_empty() {
            continue;
        }
        let line_end = start.min(input.len());
        last_content_end = line_end;
        if line[0] == b'#' {
            doc.items.push(MapItem::Comment(Comment::new(SecretBuf::new(
                line[1..].to_vec(),
            ))));
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err(StoreError::Parse(format!(
                "invalid dotenv input line: {}",
                String::from_utf8_lossy(line)
            )));
        };
        let key = String::from_utf8_lossy(&line[..eq]).into_owned();
        let value = Node::string(unescape_newlines(&line[eq + 1..]));
        if let Some(name) = key.strip_prefix(PREFIX) {
            meta_items.push((name.to_string(), value));
            let value_start = line_start + eq + 1;
            meta_lines.push(MetaLine {
                line: line_start..line_end,
                value: value_start..line_start + line.len(),
                ordinal,
            });
        } else {
            doc.push(key, value);
        }
    }
    if meta_items.is_empty() {
        return Ok(Parsed {
            docs: vec![doc],
            metadata: None,
        });
    }
    let names: Vec<String> = meta_items.iter().map(|(k, _)| k.clone()).collect();
    let tree = flatten::unflatten(meta_items)?;
    let find = |name: &str| {
        names
            .iter()
            .zip(&meta_lines)
            .rfind(|(n, _)| *n == name)
            .map(|(_, l)| l.value.clone())
    };
    let (first, last) = (&meta_lines[0], &meta_lines[meta_lines.len() - 1]);
    let contiguous = last.ordinal - first.ordinal + 1 == meta_lines.len();
    let span = (contiguous && last.line.end == last_content_end)
        .then_some(first.line.start..last.line.end);
    let metadata = MetadataSource {
        lastmodified: find("lastmodified"),
        mac: find("mac"),
        span,
        tree,
    };
    Ok(Parsed {
        docs: vec![doc],
        metadata: Some(metadata),
    })
}

/// Every two-character `\n` becomes a newline; no other escapes.
fn unescape_newlines(raw: &[u8]) -> SecretBuf {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    SecretBuf::new(out)
}

/// A value's text on its line: strings with newlines as `\n`, other scalars per §7.6.
fn push_value(out: &mut Vec<u8>, v: &Scalar) {
    match v {
        Scalar::Str(s) => {
            for &b in s.expose() {
                if b == b'\n' {
                    out.extend_from_slice(b"\\n");
                } else {
                    out.push(b);
                }
            }
        }
        other => out.extend_from_slice(flatten::value_text(other).expose()),
    }
}

/// Writes the one document, with the metadata flattened into `sops_*` lines at the end.
pub fn emit(docs: &[Map], metadata: Option<&Map>) -> Result<Emitted, StoreError> {
    let Some(doc) = docs.first() else {
        return Err(StoreError::Emit("the dotenv store needs a document".into()));
    };
    let flat = match metadata {
        Some(md) => {
            let flat = flatten::flatten(md, PREFIX)?;
            if let Some(e) = doc.entries().find(|e| e.key.starts_with(PREFIX)) {
                return Err(StoreError::Emit(format!(
                    "Error marshaling metadata: Found key {} in encrypted data, which starts \
                     with the reserved key prefix \"sops_\" for SOPS metadata",
                    go_quote(&e.key)
                )));
            }
            Some(flat)
        }
        None => None,
    };
    let mut out = Vec::new();
    for item in &doc.items {
        match item {
            MapItem::Comment(c) => {
                out.push(b'#');
                out.extend_from_slice(c.text.expose());
                out.push(b'\n');
            }
            MapItem::Entry(e) => {
                let Node::Leaf(leaf) = &e.value else {
                    return Err(StoreError::Emit(format!(
                        "cannot use complex value in dotenv file; offending key {}",
                        e.key
                    )));
                };
                out.extend_from_slice(e.key.as_bytes());
                out.push(b'=');
                push_value(&mut out, &leaf.value);
                out.push(b'\n');
            }
        }
    }
    let mut metadata_spans = Vec::new();
    if let Some(flat) = flat.filter(|f| !f.is_empty()) {
        let start = out.len();
        for (name, value) in flat {
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            push_value(&mut out, value);
            out.push(b'\n');
        }
        metadata_spans.push(start..out.len());
    }
    Ok(Emitted {
        bytes: out,
        metadata_spans,
    })
}

/// `--extract` of a single value: strings only, as sops.
pub fn emit_value(node: &Node) -> Result<Vec<u8>, StoreError> {
    let type_name = match node {
        Node::Map(_) => "sops.TreeBranch",
        Node::List(_) => "[]interface {}",
        Node::Leaf(leaf) => match &leaf.value {
            Scalar::Str(s) => return Ok(s.expose().to_vec()),
            Scalar::Null => "<nil>",
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) => "int",
            Scalar::Uint(_) => "uint64",
            Scalar::Float(_) => "float64",
            Scalar::Time(_) => "time.Time",
        },
    };
    Err(StoreError::Emit(format!(
        "the dotenv store only supports emitting strings, got {type_name}"
    )))
}

#[cfg(test)]
mod tests;
