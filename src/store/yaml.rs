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
pub use serialize::PlainWriter;

use crate::store::{self, Emitted, MetadataSource, Parsed, Reading, StoreError};
use crate::tree::{Map, MapItem, Node};
use compose::{Kind, Stream};
use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::BuildHasher;
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
    if let Some(parsed) = read_in_one_pass(&decoded, reader) {
        return Ok(parsed);
    }
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
            let top_level = converter.top_level(doc.node);
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

/// `parse_reading` in one pass, for the usual file (one document, a block mapping, no anchors,
/// the `sops` entry last): doc 0's metadata is read first from the file's end, so the reader
/// starts before anything else is composed and gets the top level in slices while each pair's
/// nodes are dropped once converted; the nodes of the whole file are never held. `None` when
/// the file has another shape, or anything fails (a parse error, a check, a value that does
/// not decrypt): the caller then reads the file whole, which reports it in sops's order, and
/// starts the reader again with the same metadata.
fn read_in_one_pass(decoded: &input::Input<'_>, reader: &mut dyn Reading) -> Option<Parsed> {
    let (metadata, key_at) = metadata_at_end(decoded)?;
    if !reader.start(Some(&metadata)) || !reader.takes_slices() {
        return None;
    }
    let drops = reader.lets_drop();
    let slice_bytes = store::slice_bytes(decoded.text.len());
    let mut pass = OnePass {
        drops,
        reader,
        metadata: &metadata.tree,
        key_at,
        text_len: decoded.text.len(),
        items: Vec::new(),
        handed: 0,
        cut_at: slice_bytes,
        slice_bytes,
        keys: HashSet::default(),
        hasher: foldhash::fast::RandomState::default(),
        sops_found: false,
    };
    match compose::compose_top_level(&decoded.text, check::check_document, &mut pass) {
        Ok(true) => Some(Parsed {
            docs: vec![Map { items: pass.items }],
            metadata: Some(metadata),
        }),
        _ => None,
    }
}

/// Doc 0's metadata as written at the file's end: sops writes the `sops` mapping last, from
/// the start of a line, so the text from the last `sops:` line on is parsed alone. `OnePass`
/// then checks that the key it meets there in context is that one, holding the same tree.
/// Returns where the key starts in the text.
fn metadata_at_end(decoded: &input::Input<'_>) -> Option<(MetadataSource, usize)> {
    let text: &str = &decoded.text;
    let at = text.rfind("\nsops:")? + 1;
    // A document marker before it: the key may be another document's.
    if decoded.first_marker.is_some_and(|m| m < at) {
        return None;
    }
    let tail = &text[at..];
    let stream = compose::compose(tail, check::check_document).ok()?;
    if stream.docs.len() != 1 {
        return None;
    }
    let in_tail = input::Input {
        text: Cow::Borrowed(tail),
        base: decoded.base + at,
        transcoded: decoded.transcoded,
        // A marker before the key gave up above.
        first_marker: decoded.first_marker.and_then(|m| m.checked_sub(at)),
    };
    let mut converter = load::Converter::new(&stream);
    let source = metadata_ahead(&mut converter, &stream, &in_tail)?;
    Some((source, at))
}

/// `read_in_one_pass`'s taker of doc 0's top-level pairs: checks and converts each as the
/// whole read would, and hands the items on in slices.
struct OnePass<'r, 'm> {
    /// The reader lets the items go once handed on.
    drops: bool,
    reader: &'r mut dyn Reading,
    /// The metadata read from the file's end, and where its key is.
    metadata: &'m Map,
    key_at: usize,
    text_len: usize,
    items: Vec<MapItem>,
    /// Items before this one have been handed on; the next slice ends with the pair that
    /// reaches `cut_at` in the text.
    handed: usize,
    cut_at: usize,
    slice_bytes: usize,
    /// Hashes of the keys so far: a duplicate key (or a collision) gives the pass up, for the
    /// whole read to report. Seeded at random per process, so crafted keys cannot collide.
    keys: HashSet<u64, foldhash::fast::RandomState>,
    hasher: foldhash::fast::RandomState,
    sops_found: bool,
}

impl OnePass<'_, '_> {
    /// Room for the items to come, judged from how far into the text the pass is: the tree is
    /// not grown by doubling (a doubling costs the old and new arrays at once).
    fn reserve(&mut self, reached: usize) {
        let len = self.items.len();
        if len < self.items.capacity() {
            return;
        }
        let expected = len.saturating_mul(self.text_len) / reached.max(1);
        let wanted = expected + expected / 32 + 64;
        self.items
            .reserve_exact(wanted.max(len + len / 8 + 16) - len);
    }

    /// The `sops` entry among the items from `start` on, if any, taken out: it must be the one
    /// read from the file's end.
    fn take_metadata(&mut self, stream: &Stream<'_>, key: usize, start: usize) -> bool {
        let Some(at) = self.items[start..]
            .iter()
            .position(|i| matches!(i, MapItem::Entry(e) if e.key == SOPS_KEY))
        else {
            return true;
        };
        let MapItem::Entry(entry) = self.items.remove(start + at) else {
            return false;
        };
        let Node::Map(mut tree) = entry.value else {
            return false;
        };
        load::strip_comments(&mut tree);
        let same =
            !self.sops_found && stream.nodes[key].start() == self.key_at && tree == *self.metadata;
        self.sops_found = true;
        same
    }
}

impl OnePass<'_, '_> {
    /// Hands the items not handed on yet to the reader, and drops them if it lets them go.
    fn hand_on(&mut self) -> bool {
        let slice = self.handed..self.items.len();
        if !self.reader.items(0, &mut self.items[slice.clone()]) {
            return false;
        }
        if self.drops {
            if !self.reader.dropping(0, &self.items[slice.clone()]) {
                return false;
            }
            self.items.truncate(slice.start);
        }
        self.handed = self.items.len();
        true
    }
}

impl<'a> compose::TopLevel<'a> for OnePass<'_, '_> {
    fn begin(&mut self, stream: &Stream<'a>, doc: usize, root: usize) -> bool {
        load::head_items(stream, doc, &mut self.items);
        load::head_items(stream, root, &mut self.items);
        true
    }

    fn pair(&mut self, stream: &Stream<'a>, key: usize, value: usize) -> bool {
        // A merge key merges into the root; left to the whole read.
        if stream.tag(key) == "!!merge"
            || !self.keys.insert(self.hasher.hash_one(stream.value(key)))
            || check::check_root_pair(stream, key, value).is_err()
        {
            return false;
        }
        if !self.drops {
            self.reserve(stream.nodes[value].end());
        }
        let start = self.items.len();
        if load::Converter::new(stream)
            .pair(key, value, &mut self.items)
            .is_err()
            || !self.take_metadata(stream, key, start)
        {
            return false;
        }
        let reached = stream.nodes[value].end();
        if reached < self.cut_at {
            return true;
        }
        self.cut_at = reached + self.slice_bytes;
        self.hand_on()
    }

    fn end(&mut self, stream: &Stream<'a>, doc: usize, root: usize) -> bool {
        if !self.sops_found {
            return false;
        }
        load::foot_items(stream, root, &mut self.items);
        load::foot_items(stream, doc, &mut self.items);
        self.hand_on()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that keeps what it is handed and marks each entry in place.
    #[derive(Default)]
    struct Marker {
        starts: usize,
        slices: usize,
        handed: Vec<MapItem>,
        /// Lets the items drop, writing them out first.
        writer: Option<PlainWriter>,
        drops: bool,
    }

    impl Reading for Marker {
        fn start(&mut self, metadata: Option<&MetadataSource>) -> bool {
            self.starts += 1;
            self.handed.clear();
            self.writer = self.drops.then(|| PlainWriter::new(4, 0).unwrap());
            metadata.is_some()
        }
        fn lets_drop(&self) -> bool {
            self.drops
        }
        fn dropping(&mut self, _: usize, items: &[MapItem]) -> bool {
            self.writer.as_mut().unwrap().items(items).unwrap();
            true
        }
        fn takes_slices(&self) -> bool {
            true
        }
        fn items(&mut self, _: usize, items: &mut [MapItem]) -> bool {
            self.slices += 1;
            self.handed.extend_from_slice(items);
            mark(items);
            true
        }
    }

    fn mark(items: &mut [MapItem]) {
        for item in items {
            if let MapItem::Entry(e) = item {
                e.value = Node::string("seen");
            }
        }
    }

    fn one_pass(text: &str) -> Option<(Parsed, Marker)> {
        let decoded = input::decode(text.as_bytes()).unwrap();
        let mut marker = Marker::default();
        read_in_one_pass(&decoded, &mut marker).map(|parsed| (parsed, marker))
    }

    /// The items as `emit` writes them (compared as text: values are redacted in `Debug`, and
    /// NaN is not equal to itself).
    fn written(items: &[MapItem]) -> String {
        let map = Map {
            items: items.to_vec(),
        };
        String::from_utf8(emit(&[map], None, 4).unwrap().bytes).unwrap()
    }

    /// The one pass with a reader that lets the items go, writing them out as they come:
    /// nothing is kept, and the text is what the whole read's tree gives.
    fn assert_written_as_read(text: &str) {
        let decoded = input::decode(text.as_bytes()).unwrap();
        let mut marker = Marker {
            drops: true,
            ..Marker::default()
        };
        let parsed = read_in_one_pass(&decoded, &mut marker).expect("read in one pass");
        assert!(parsed.docs[0].items.is_empty(), "items were kept");
        let out = marker.writer.take().unwrap().finish().unwrap();
        let mut whole = parse(text.as_bytes()).unwrap();
        mark(&mut whole.docs[0].items);
        assert_eq!(
            String::from_utf8(out.into_vec()).unwrap(),
            written(&whole.docs[0].items),
            "{text}"
        );
    }

    /// What the one pass must give: the whole read's documents and metadata, every item
    /// handed on once, in order.
    fn assert_same_as_whole(text: &str, parsed: &Parsed, marker: &Marker) {
        let whole = parse(text.as_bytes()).unwrap();
        assert_eq!(
            written(&marker.handed),
            written(&whole.docs[0].items),
            "{text}"
        );
        assert_eq!(parsed.docs.len(), 1);
        let marked = parsed.docs[0]
            .entries()
            .all(|e| e.value == Node::string("seen"));
        assert!(marked, "items were not changed in place");
        assert_eq!(parsed.docs[0].items.len(), whole.docs[0].items.len());
        let (ours, theirs) = (parsed.metadata.as_ref(), whole.metadata.as_ref());
        let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
        assert_eq!(ours.tree, theirs.tree);
        assert_eq!(
            (&ours.span, &ours.lastmodified, &ours.mac),
            (&theirs.span, &theirs.lastmodified, &theirs.mac)
        );
    }

    /// A file in sops's shape with go-yaml's comment placements around the top level: a head,
    /// comments between entries, dedented foot comments, line comments, nested values,
    /// rewritten (owned) texts, tags, and a foot after the metadata.
    fn sops_file(entries: usize) -> String {
        let mut text = String::from("# head\n\n# first key's head\n");
        for i in 0..entries {
            match i % 7 {
                0 => text.push_str(&format!("k{i}: ENC[v{i}] # line {i}\n")),
                1 => text.push_str(&format!("k{i}:\n    a: 1\n    b: [x, y]\n  # dedented\n\n")),
                2 => text.push_str(&format!("\"q\\t{i}\": \"a\\nb\"\n")),
                3 => text.push_str(&format!("k{i}: !!int 3\n# foot of {i}\n\n")),
                4 => text.push_str(&format!("k{i}: |\n    block\n    text\n")),
                5 => text.push_str(&format!("k{i}:\n    - 1\n    # in list\n    - {{z: 2}}\n")),
                _ => text.push_str(&format!("# before {i}\nk{i}: \"{i}\"\n")),
            }
        }
        text.push_str(
            "sops:\n    lastmodified: \"2026-12-05T00:00:00Z\"\n    mac: ENC[m]\n    version: 3.9.0\n# foot\n",
        );
        text
    }

    #[test]
    fn the_usual_file_is_read_in_one_pass_as_the_whole_read_reads_it() {
        for entries in [0, 1, 7, 40, 3000] {
            let text = sops_file(entries);
            let (parsed, marker) = one_pass(&text).expect("read in one pass");
            assert_eq!(marker.starts, 1);
            assert_same_as_whole(&text, &parsed, &marker);
            assert_written_as_read(&text);
            if entries == 3000 {
                assert!(marker.slices > 1, "{} slices", marker.slices);
            }
        }
        // The metadata need not be last, nor its key plain.
        let text = "a: 1\nsops:\n    mac: m\nb: 2\n";
        let (parsed, marker) = one_pass(text).unwrap();
        assert_same_as_whole(text, &parsed, &marker);
        assert_written_as_read(text);
        // An explicit document start, a BOM.
        let text = "\u{feff}--- # doc\na: 1\nsops:\n    mac: m\n";
        let (parsed, marker) = one_pass(text).unwrap();
        assert_same_as_whole(text, &parsed, &marker);
        assert_written_as_read(text);
        // Nothing but the metadata, and comments: an empty mapping headed by them.
        for text in ["\nsops:\n    mac: m\n", "# a\nsops: # b\n    mac: m\n# c\n"] {
            assert_written_as_read(text);
        }
    }

    #[test]
    fn every_yaml_fixture_reads_in_one_pass_as_the_whole_read_reads_it() {
        // Files written by sops, with comments in every place go-yaml puts them.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/yaml");
        let (mut read, mut all) = (0, 0);
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if path.extension().is_none_or(|e| e != "yaml") || !text.contains("\nsops:") {
                continue;
            }
            all += 1;
            if let Some((parsed, marker)) = one_pass(&text) {
                read += 1;
                assert_same_as_whole(&text, &parsed, &marker);
                assert_written_as_read(&text);
            }
        }
        assert!(
            all > 20 && read * 10 >= all * 9,
            "{read} of {all} read in one pass"
        );
    }

    #[test]
    fn a_document_written_in_slices_is_written_as_whole() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/yaml");
        let mut texts: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .collect();
        texts.extend([sops_file(40), "# only\n# comments\n".into(), "{}\n".into()]);
        for text in &texts {
            let Ok(parsed) = parse(text.as_bytes()) else {
                continue;
            };
            let [doc] = &parsed.docs[..] else {
                continue;
            };
            let whole = written(&doc.items);
            for size in [1, 2, 3, 7, usize::MAX] {
                let mut writer = PlainWriter::new(4, 16).unwrap();
                for slice in doc.items.chunks(size.min(doc.items.len()).max(1)) {
                    writer.items(slice).unwrap();
                }
                let out = String::from_utf8(writer.finish().unwrap().into_vec()).unwrap();
                assert_eq!(out, whole, "slices of {size}:\n{text}");
            }
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_whole_read() {
        let meta = "sops:\n    mac: m\n";
        let cases = [
            // Anchors and aliases need nodes the pass drops.
            format!("a: &x 1\nb: *x\n{meta}"),
            format!("a: &x 1\n{meta}"),
            format!("a: {{b: &x 1}}\n{meta}"),
            // A merge key merges into the root.
            format!("<<: {{x: 1}}\n{meta}"),
            // Duplicate keys, a collection key, a value go-yaml refuses.
            format!("a: 1\nb: 2\na: 3\n{meta}"),
            format!("? [a]\n: 1\n{meta}"),
            format!("a: !!int x\n{meta}"),
            // Two `sops` keys; one as a quoted key elsewhere.
            format!("sops: {{mac: n}}\na: 1\n{meta}"),
            format!("\"sops\": {{mac: n}}\na: 1\n{meta}"),
            // `sops:` that is not a key at the start of a line.
            "a: \"x\nsops: {mac: m}\"\n".to_string(),
            // More documents; a flow root; a list root; no metadata.
            format!("a: 1\n{meta}---\nb: 2\n{meta}"),
            format!("a: 1\n---\nb: 2\n{meta}"),
            "{a: 1,\nsops: {mac: m}}\n".to_string(),
            "- 1\nsops: x\n".to_string(),
            "a: 1\n".to_string(),
            // A parse error after the metadata.
            format!("a: 1\n{meta}b: [\n"),
        ];
        for text in &cases {
            assert!(one_pass(text).is_none(), "{text:?}");
            // The whole read then gives what `parse` gives, the reader started again.
            let theirs = parse(text.as_bytes());
            let mut marker = Marker::default();
            let ours = parse_reading(text.as_bytes(), &mut marker);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.docs.len(), b.docs.len(), "{text:?}");
                    assert_eq!(
                        a.metadata.as_ref().map(|m| &m.tree),
                        b.metadata.as_ref().map(|m| &m.tree),
                        "{text:?}"
                    );
                    if b.metadata.is_some() {
                        let items: Vec<MapItem> =
                            b.docs.iter().flat_map(|d| d.items.clone()).collect();
                        assert_eq!(marker.handed, items, "{text:?}");
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
                _ => panic!("{text:?}: {:?} vs {:?}", ours.is_ok(), theirs.is_ok()),
            }
        }
    }
}
