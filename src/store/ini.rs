//! INI store (spec §7.4): sections become maps of string values, comments become comment items,
//! and the metadata is a flattened `[sops]` section written last, all as sops does it through
//! `gopkg.in/ini.v1`.
//!
//! Metadata spans (see `MetadataSource`): the block runs from the start of the `[sops]` line to
//! the end of the last non-blank line of the file, its newline included, and is reported only
//! when `[sops]` is the last section. `lastmodified` and `mac` are the ranges of those keys' values
//! as written (quotes included, inline comments excluded).

mod parse;
mod text;
mod write;

use crate::secret::SecretBuf;
use crate::store::flatten;
use crate::store::{Emitted, MetadataSource, Parsed, StoreError, json};
use crate::tree::{Comment, Map, MapItem, Node, Scalar};
use std::borrow::Cow;

/// sops `stripCommentChar`: drops the leading run of `;`/space or `#`/space characters.
fn strip_comment_char(c: &[u8]) -> Vec<u8> {
    let cut: &[u8] = match c.first() {
        Some(b';') => b"; ",
        Some(b'#') => b"# ",
        _ => b"",
    };
    let skip = c.iter().take_while(|b| cut.contains(b)).count();
    c[skip..].to_vec()
}

/// Reads an INI file. A `[sops]` section becomes the metadata (unflattened, `\n` sequences
/// turned into newlines) and leaves the document.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    let file = parse::parse(input)
        .map_err(|e| StoreError::Parse(format!("Could not unmarshal input data: {e}")))?;
    let mut doc = Map::new();
    let mut meta = None;
    let count = file.sections.len();
    for (i, section) in file.sections.into_iter().enumerate() {
        if section.name == "sops" {
            if meta.is_some() {
                return Err(StoreError::SopsEntry("Found duplicate sops entry".into()));
            }
            meta = Some((section, i + 1 == count));
            continue;
        }
        let mut items = Map::new();
        if !section.comment.is_empty() {
            let text = strip_comment_char(&section.comment);
            items.items.push(MapItem::Comment(Comment::new(text)));
        }
        for key in section.keys {
            items.push(key.name, Node::string(SecretBuf::new(key.value)));
            if !key.comment.is_empty() {
                let text = strip_comment_char(&key.comment);
                items.items.push(MapItem::Comment(Comment::new(text)));
            }
        }
        doc.push(section.name, Node::Map(items));
    }
    let metadata = match meta {
        None => None,
        Some((section, is_last)) => {
            let find = |name: &str| {
                let key = section.keys.iter().find(|k| k.name == name)?;
                Some(key.value_span.clone())
            };
            let (lastmodified, mac) = (find("lastmodified"), find("mac"));
            let span = section
                .header_start
                .filter(|_| is_last)
                .map(|start| start..file.content_end);
            let items = section.keys.into_iter().map(|k| {
                // sops compat: EscapeNewlines, then unflatten.
                (k.name, Node::string(unescape_newlines(&k.value)))
            });
            Some(MetadataSource {
                tree: flatten::unflatten(items.collect())?,
                span,
                lastmodified,
                mac,
            })
        }
    };
    Ok(Parsed {
        docs: vec![doc],
        metadata,
    })
}

fn unescape_newlines(v: &[u8]) -> SecretBuf {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && v.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    SecretBuf::new(out)
}

/// A value's text: strings as they are, other scalars per §7.6, lists and maps as Go `%v`.
fn value_text(node: &Node) -> Cow<'_, [u8]> {
    match node {
        Node::Leaf(leaf) => match &leaf.value {
            Scalar::Str(s) => Cow::Borrowed(s.expose()),
            other => Cow::Owned(flatten::value_text(other).expose().to_vec()),
        },
        other => {
            let mut out = Vec::new();
            flatten::go_v(other, &mut out);
            Cow::Owned(out)
        }
    }
}

/// sops `encodeTree` for one section: the first comment is the section's, a later comment
/// belongs to the key before it (the last one wins), values become text.
fn section_from_map<'a>(name: &'a str, map: &'a Map) -> Result<write::Section<'a>, String> {
    let mut section = write::Section::new(name);
    let mut items = map.items.iter().peekable();
    if let Some(MapItem::Comment(c)) = items.peek() {
        section.comment = c.text.expose();
        items.next();
    }
    let mut last = None;
    for item in items {
        match item {
            MapItem::Comment(c) => {
                if let Some(i) = last {
                    let key: &mut write::Key = &mut section.keys[i];
                    key.comment = c.text.expose();
                }
            }
            MapItem::Entry(e) => {
                let i = section
                    .set(&e.key, value_text(&e.value))
                    .map_err(|err| format!("Error encoding key: {err}"))?;
                last = Some(i);
            }
        }
    }
    Ok(section)
}

/// Writes the document's sections, then the metadata as a flattened `[sops]` section.
pub fn emit(docs: &[Map], metadata: Option<&Map>) -> Result<Emitted, StoreError> {
    let Some(doc) = docs.first() else {
        return Err(StoreError::Emit("the INI store needs a document".into()));
    };
    let flat = match metadata {
        Some(md) => Some(flatten::flatten(md, "")?),
        None => None,
    };
    if flat.is_some() && doc.get("sops").is_some() {
        return Err(StoreError::Emit(
            "Error marshaling metadata: Found key \"sops\" in encrypted data, which is a \
             reserved key used for SOPS metadata"
                .into(),
        ));
    }
    let mut meta_section = None;
    if let Some(flat) = &flat {
        let mut section = write::Section::new("sops");
        for (name, value) in flat {
            let mut text = flatten::value_text(value).expose().to_vec();
            if matches!(value, Scalar::Str(_)) {
                // sops compat: EscapeNewlines writes newlines as the two characters `\n`.
                text = escape_newlines(&text);
            }
            section.set(name, Cow::Owned(text)).map_err(|e| {
                StoreError::Emit(format!("Error marshaling to INI: Error encoding key: {e}"))
            })?;
        }
        meta_section = Some(section);
    }
    let fail = |e: String| StoreError::Emit(format!("Error marshaling to INI: {e}"));
    let mut sections = Vec::new();
    for entry in doc.entries() {
        if entry.key.is_empty() {
            return Err(fail("Error encoding section : empty section name".into()));
        }
        let Node::Map(map) = &entry.value else {
            return Err(fail(
                "Error encoding section: Section values should always be TreeBranches".into(),
            ));
        };
        sections.push(section_from_map(&entry.key, map).map_err(fail)?);
    }
    let has_meta = meta_section.is_some();
    sections.extend(meta_section);
    let mut out = Vec::new();
    let starts = write::write(&sections, &mut out);
    // The [sops] section is written last, so its span runs to the end.
    let metadata_spans: Vec<_> = starts
        .last()
        .filter(|_| has_meta)
        .map(|&start| start..out.len())
        .into_iter()
        .collect();
    Ok(Emitted {
        bytes: out,
        metadata_spans,
    })
}

fn escape_newlines(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &b in v {
        if b == b'\n' {
            out.extend_from_slice(b"\\n");
        } else {
            out.push(b);
        }
    }
    out
}

/// `--extract` of a non-string value: compact JSON, as sops's INI store gives.
pub fn emit_value(node: &Node) -> Result<Vec<u8>, StoreError> {
    json::marshal_compact(node)
}

#[cfg(test)]
mod tests;
