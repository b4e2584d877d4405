//! JSON store: reads a JSON object into a tree (keeping key order, duplicates and int/float
//! typing) and writes it back byte for byte as sops does, with the `sops` metadata member last.
//!
//! Metadata spans (see `MetadataSource`): the block runs from the opening quote of the top-level
//! `"sops"` key to the closing `}` of its object, and is reported only when that member is the
//! last one of the top-level object. `lastmodified` and `mac` are the ranges of those members'
//! value tokens inside it, quotes included.

mod parse;
mod scan;
mod write;

use crate::secret::PlainBuffer;
use crate::store::{Emitted, MetadataSource, Parsed, Reading, StoreError, slice_bytes};
use crate::tree::{Map, MapItem, Node};
use parse::MemberSpan;
use std::ops::Range;

/// Deepest nesting of maps and lists read or written: Go's `encoding/json` limit, so every file
/// sops reads is read. The binary runs the recursive passes on a stack sized for this depth
/// (`process::STACK_SIZE`).
pub const MAX_DEPTH: usize = 10_000;

/// Reads a JSON file. A top-level `sops` object becomes the metadata and leaves the document.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    let top = parse::parse_top(input)
        .map_err(|e| StoreError::Parse(format!("Could not unmarshal input data: {e}")))?;
    let (doc, metadata) = split_metadata(top.map, &top.spans)?;
    Ok(Parsed {
        docs: vec![doc],
        metadata,
    })
}

/// sops `ExtractMetadata` for the JSON layout, plus the spans of the metadata text.
fn split_metadata(
    mut doc: Map,
    spans: &[MemberSpan],
) -> Result<(Map, Option<MetadataSource>), StoreError> {
    // The parser records one span per entry, in order, and JSON maps hold no comments.
    let positions: Vec<usize> = doc
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item, MapItem::Entry(e) if e.key == "sops"))
        .map(|(i, _)| i)
        .collect();
    let Some(&at) = positions.first() else {
        return Ok((doc, None));
    };
    if positions.len() > 1 {
        return Err(StoreError::SopsEntry("Found duplicate sops entry".into()));
    }
    let MapItem::Entry(entry) = doc.items.remove(at) else {
        unreachable!("position filtered entries")
    };
    let Node::Map(tree) = entry.value else {
        return Err(StoreError::SopsEntry(
            "Found sops entry that is not a mapping".into(),
        ));
    };
    Ok((
        doc,
        Some(source_of(tree, spans.get(at), at == spans.len() - 1)),
    ))
}

/// The metadata with where its text sits: the block when the member is the last one, and its
/// `lastmodified` and `mac` values.
fn source_of(tree: Map, member: Option<&MemberSpan>, is_last: bool) -> MetadataSource {
    let span = member
        .filter(|_| is_last)
        .and_then(|m| Some(m.key_start..m.value.as_ref()?.end));
    let inner = member.and_then(|m| m.inner.as_deref()).unwrap_or(&[]);
    let find = |name: &str| -> Option<Range<usize>> {
        let keys = tree.items.iter().map(|item| match item {
            MapItem::Entry(e) => e.key.as_str(),
            MapItem::Comment(_) => "",
        });
        // The last occurrence wins, as when sops decodes the record.
        keys.zip(inner)
            .rfind(|(k, _)| *k == name)
            .and_then(|(_, s)| s.value.clone())
    };
    MetadataSource {
        lastmodified: find("lastmodified"),
        mac: find("mac"),
        span,
        tree,
    }
}

/// `parse` with a reader in one pass, for the usual file (the `sops` member last): the
/// metadata is read first from the last `"sops"` key, then the reader gets the top level in
/// slices as it is read (and lets each go, if it will). `None` for any other shape or any
/// failure: the caller then reads the file whole, which reports it, and starts the reader
/// again with the same metadata.
pub fn read_in_one_pass(input: &[u8], reader: &mut dyn Reading) -> Option<Parsed> {
    let at = memchr::memmem::rfind(input, b"\"sops\"")?;
    let (entry, span) = parse::last_top_member(input, at)?;
    let Node::Map(tree) = entry.value else {
        return None;
    };
    let metadata = source_of(tree, Some(&span), true);
    if !reader.start(Some(&metadata)) || !reader.takes_slices() {
        return None;
    }
    let drops = reader.lets_drop();
    let slice_bytes = slice_bytes(input.len());
    let (mut items, mut handed, mut found) = (Vec::new(), 0, false);
    let mut cut_at = slice_bytes;
    let mut hand_on = |items: &mut Vec<MapItem>, handed: &mut usize| {
        let slice = *handed..items.len();
        if !reader.items(0, &mut items[slice.clone()]) {
            return false;
        }
        if drops {
            if !reader.dropping(0, &items[slice.clone()]) {
                return false;
            }
            items.truncate(slice.start);
        }
        *handed = items.len();
        true
    };
    parse::each_top_member(input, |entry, member| {
        if found {
            return false;
        }
        if entry.key == "sops" {
            // The member read first, and nothing after it.
            found = member.key_start == at
                && matches!(&entry.value, Node::Map(tree) if *tree == metadata.tree);
            return found;
        }
        items.push(MapItem::Entry(entry));
        let reached = member.value.map_or(0, |v| v.end);
        if reached < cut_at {
            return true;
        }
        cut_at = reached + slice_bytes;
        hand_on(&mut items, &mut handed)
    })?;
    (found && hand_on(&mut items, &mut handed)).then(|| Parsed {
        docs: vec![Map { items }],
        metadata: Some(metadata),
    })
}

/// Writes one document, with `metadata` as a last `sops` member when given. `indent` is -1 for
/// a TAB per level or N >= 0 spaces.
pub fn emit(docs: &[Map], metadata: Option<&Map>, indent: i64) -> Result<Emitted, StoreError> {
    let [doc] = docs else {
        return Err(StoreError::Emit(format!(
            "the JSON store writes exactly one document, got {}",
            docs.len()
        )));
    };
    if metadata.is_some() && doc.get("sops").is_some() {
        return Err(StoreError::Emit(
            "Error marshaling metadata: Found key \"sops\" in encrypted data, which is a \
             reserved key used for SOPS metadata"
                .into(),
        ));
    }
    let fail = |e: String| StoreError::Emit(format!("Error marshaling to json: {e}"));
    // sops builds the compact text first, so an unwritable value wins over a bad indent.
    let unit = write::indent_unit(indent);
    let mut w = write::Writer::new(unit.clone().unwrap_or_default(), 4096 + doc.size_estimate());
    let span = w.map(doc, 0, metadata.map(|m| ("sops", m))).map_err(fail)?;
    unit.map_err(fail)?;
    w.out.push(b'\n');
    Ok(Emitted {
        bytes: w.out.into_vec(),
        metadata_spans: span.into_iter().collect(),
    })
}

/// One document written as `emit` writes it without metadata, its top-level members coming a
/// slice at a time: decrypt writes the plaintext as the file is read, so the plaintext tree is
/// never whole. The text is a `PlainBuffer`, wiped when dropped.
pub struct PlainWriter {
    w: write::Writer,
    first: bool,
}

impl PlainWriter {
    /// A bad indentation is an error here, though `emit` reports an unwritable value first:
    /// the caller then writes the whole tree, which reports in that order.
    pub fn new(indent: i64, capacity: usize) -> Result<Self, StoreError> {
        let unit = write::indent_unit(indent).map_err(StoreError::Emit)?;
        let mut w = write::Writer::new(unit, capacity);
        w.out.push(b'{');
        Ok(PlainWriter { w, first: true })
    }

    pub fn items(&mut self, items: &[MapItem]) -> Result<(), StoreError> {
        self.w
            .entries(items, &mut self.first, 0)
            .map_err(|e| StoreError::Emit(format!("Error marshaling to json: {e}")))
    }

    pub fn finish(mut self) -> Result<PlainBuffer, StoreError> {
        self.w.close_map(self.first, 0);
        self.w.out.push(b'\n');
        Ok(self.w.out)
    }
}

/// Writes one value as indented JSON without a trailing newline (`--extract` of a non-string).
pub fn emit_value(node: &Node, indent: i64) -> Result<Vec<u8>, StoreError> {
    let unit = write::indent_unit(indent);
    let mut w = write::Writer::new(unit.clone().unwrap_or_default(), 256);
    w.node(node, 0).map_err(StoreError::Emit)?;
    unit.map_err(StoreError::Emit)?;
    Ok(w.out.into_vec())
}

/// Go `json.Marshal` of a sops value, compact: the INI store's `--extract` output. Maps are
/// sops `TreeBranch` slices (`[{"Key":..,"Value":..}]`), as Go marshals them.
pub fn marshal_compact(node: &Node) -> Result<Vec<u8>, StoreError> {
    let mut out = PlainBuffer::default();
    marshal_into(&mut out, node, 0).map_err(StoreError::Emit)?;
    Ok(out.into_vec())
}

fn marshal_into(out: &mut PlainBuffer, node: &Node, depth: usize) -> Result<(), String> {
    use crate::tree::ListItem;
    if depth > MAX_DEPTH {
        return Err("exceeded max depth".into());
    }
    let comment = |out: &mut PlainBuffer, c: &crate::tree::Comment| {
        // A sops Comment struct: `{"Value":...,"Inline":...}`.
        out.extend_from_slice(b"{\"Value\":");
        write::write_string(out, c.text.expose());
        out.extend_from_slice(if c.inline {
            b",\"Inline\":true}"
        } else {
            b",\"Inline\":false}"
        });
    };
    match node {
        Node::Leaf(l) => write::scalar(out, &l.value)?,
        // sops compat: Go decoders leave empty lists (and JSON's empty maps) as nil slices,
        // which json.Marshal writes as `null`.
        Node::List(l) if l.items.is_empty() => out.extend_from_slice(b"null"),
        Node::Map(m) if m.items.is_empty() => out.extend_from_slice(b"null"),
        Node::List(l) => {
            out.push(b'[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match item {
                    ListItem::Node(n) => marshal_into(out, n, depth + 1)?,
                    ListItem::Comment(c) => comment(out, c),
                }
            }
            out.push(b']');
        }
        // A sops TreeBranch is a slice of `{Key, Value}` structs.
        Node::Map(m) => {
            out.push(b'[');
            for (i, item) in m.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"Key\":");
                match item {
                    MapItem::Entry(e) => {
                        write::write_string(out, e.key.as_bytes());
                        out.extend_from_slice(b",\"Value\":");
                        marshal_into(out, &e.value, depth + 1)?;
                    }
                    MapItem::Comment(c) => {
                        comment(out, c);
                        out.extend_from_slice(b",\"Value\":null");
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
    Ok(())
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `v` equals `b` (exact for the first such byte; later flags may be
/// false positives, which only send the caller to its byte-by-byte path).
fn has_byte(v: u64, b: u8) -> u64 {
    let x = v ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

/// Non-zero when some byte of `v` is below `n` (`n` <= 0x80), with the same caveat.
fn has_less(v: u64, n: u8) -> u64 {
    v.wrapping_sub(LO * u64::from(n)) & !v & HI
}

/// Skips 8-byte words of `s` from `i` that hold no byte flagged by `special`; the caller then
/// continues byte by byte. This is what keeps 15 MB files well under 100 ms.
fn skip_words(s: &[u8], mut i: usize, special: impl Fn(u64) -> u64) -> usize {
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if special(u64::from_le_bytes(word)) != 0 {
            break;
        }
        i += 8;
    }
    i
}

#[cfg(test)]
mod tests;
