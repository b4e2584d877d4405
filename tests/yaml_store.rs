//! YAML store tests: the spec's block layout example (SOPS-SPEC §7.1.4), comment placement,
//! metadata spans, documents, indentation and error cases.

use sesame::store::yaml::{emit, emit_value, parse};
use sesame::tree::{Comment, List, ListItem, Map, MapItem, Node, Scalar};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn yaml(s: &str) -> String {
    let parsed = parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    text(&emit(&parsed.docs, None, 4).unwrap().bytes)
}

#[test]
fn spec_block_layout_example() {
    let input = "# top\na: 1   # one\nb:\n  d:\n    - k: v\n      k2: w\n    - - p\n      - q\n  c: \
                 [x, y]\n  f: z\n  # end of b\ne: |\n  text\n";
    let expected = "# top\na: 1 # one\nb:\n    d:\n        - k: v\n          k2: w\n        - - p\n  \
                    \x20       - q\n    c:\n        - x\n        - \"y\"\n    f: z\n    # end of b\ne: \
                    |\n    text\n";
    assert_eq!(yaml(input), expected);
}

fn comment_texts(map: &Map) -> Vec<(String, bool)> {
    map.items
        .iter()
        .map(|i| match i {
            MapItem::Comment(c) => (format!("#{}", c.text.to_lossy()), c.inline),
            MapItem::Entry(e) => (e.key.clone(), false),
        })
        .collect()
}

#[test]
fn comments_are_placed_like_sops() {
    let input = "# top\na: 1 # inline\n# head of b\nb:\n    # head of c\n    c: 2\n    # end of b\nl:\n    # head of x\n    - x # after x\n    - z\n    # end of l\n";
    let parsed = parse(input.as_bytes()).unwrap();
    let doc = &parsed.docs[0];
    let s = |t: &str, i: bool| (t.to_string(), i);
    assert_eq!(
        comment_texts(doc),
        vec![
            s("# top", false),
            s("# inline", true),
            s("a", false),
            s("# head of b", false),
            s("b", false),
            s("l", false)
        ]
    );
    let b = doc.get("b").and_then(Node::as_map).unwrap();
    assert_eq!(
        comment_texts(b),
        vec![
            s("# head of c", false),
            s("c", false),
            s("# end of b", false)
        ]
    );
    let l = doc.get("l").and_then(Node::as_list).unwrap();
    let items: Vec<_> = l
        .items
        .iter()
        .map(|i| match i {
            ListItem::Comment(c) => (format!("#{}", c.text.to_lossy()), c.inline),
            ListItem::Node(n) => (n.as_str().unwrap().to_string(), false),
        })
        .collect();
    assert_eq!(
        items,
        vec![
            s("# head of x", false),
            s("# after x", true),
            s("x", false),
            s("z", false),
            s("# end of l", false)
        ]
    );
    // sops's layout comes back unchanged.
    assert_eq!(yaml(input), input);
}

#[test]
fn trailing_comments_follow_indentation() {
    // Spec §7.1.2: a trailing comment indented deeper than the next line belongs to the
    // block that just ended.
    let parsed =
        parse(b"a:\n    b: 1\n  # of a\nc: 2\nlist:\n  - name: x\n  # of the map\nother: 1\n")
            .unwrap();
    let doc = &parsed.docs[0];
    let a = doc.get("a").and_then(Node::as_map).unwrap();
    assert!(
        matches!(a.items.last(), Some(MapItem::Comment(c)) if c.text.as_str() == Some(" of a"))
    );
    let list = doc.get("list").and_then(Node::as_list).unwrap();
    let first = list.values().next().and_then(Node::as_map).unwrap();
    assert!(
        matches!(first.items.last(), Some(MapItem::Comment(c)) if c.text.as_str() == Some(" of the map"))
    );
}

#[test]
fn inline_comments_are_written_after_the_value() {
    let mut m = Map::new();
    m.items.push(MapItem::Comment(Comment {
        inline: true,
        ..Comment::new(" c")
    }));
    m.push("a", Node::scalar(Scalar::Int(1)));
    m.items.push(MapItem::Comment(Comment::new(" end")));
    let out = text(&emit(&[m], None, 4).unwrap().bytes);
    assert_eq!(out, "a: 1 # c\n# end\n");
}

#[test]
fn anchors_expand_and_merge_keys_stay_keys() {
    let parsed = parse(b"base: &b {x: 1}\nref: *b\nm:\n  <<: *b\n  y: 2\n").unwrap();
    let doc = &parsed.docs[0];
    assert_eq!(doc.get("ref"), doc.get("base"));
    let m = doc.get("m").and_then(Node::as_map).unwrap();
    assert_eq!(m.get("<<"), doc.get("base"));
    assert_eq!(
        yaml("base: &b {x: 1}\nm:\n  <<: *b\n"),
        "base:\n    x: 1\nm:\n    !!merge <<:\n        x: 1\n"
    );
}

#[test]
fn metadata_is_extracted_with_its_byte_ranges() {
    let input = "a: 1\nsops:\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[x]\n    version: 3.11.0\n";
    let parsed = parse(input.as_bytes()).unwrap();
    assert_eq!(parsed.docs[0].items.len(), 1);
    let meta = parsed.metadata.unwrap();
    assert_eq!(meta.span, Some(5..input.len()));
    assert_eq!(
        &input[meta.lastmodified.unwrap()],
        "\"2024-01-01T00:00:00Z\""
    );
    assert_eq!(&input[meta.mac.unwrap()], "ENC[x]");
    assert_eq!(
        meta.tree.get("version").and_then(Node::as_str),
        Some("3.11.0")
    );

    // Not the last entry, or followed by other text: no reusable span.
    let parsed = parse(b"sops:\n    mac: m\na: 1\n").unwrap();
    assert_eq!(parsed.metadata.unwrap().span, None);
    let parsed = parse(b"a: 1\nsops:\n    mac: m\n# trailing\n").unwrap();
    assert_eq!(parsed.metadata.unwrap().span, None);
    // The span stops before the next document.
    let input = b"a: 1\nsops:\n    mac: m\n\n---\nb: 2\nsops:\n    mac: m\n";
    let parsed = parse(input).unwrap();
    assert_eq!(parsed.metadata.as_ref().unwrap().span, Some(5..22));
    assert_eq!(parsed.docs.len(), 2);
    assert_eq!(
        parsed.docs[1].items.len(),
        1,
        "sops entries leave every document"
    );
    let out = emit(&parsed.docs, Some(&parsed.metadata.unwrap().tree), 4).unwrap();
    assert_eq!(
        text(&out.bytes),
        "a: 1\nsops:\n    mac: m\n---\nb: 2\nsops:\n    mac: m\n"
    );
    assert_eq!(out.metadata_spans, vec![5..22, 31..48]);
    // Metadata must be a mapping.
    assert_eq!(
        parse(b"sops: 1\n").unwrap_err().to_string(),
        "Found sops entry that is not a mapping"
    );
}

#[test]
fn documents_and_indentation() {
    assert!(parse(b"").unwrap().docs.is_empty());
    assert_eq!(parse(b"---\n").unwrap().docs, vec![Map::new()]);
    assert_eq!(yaml("---\n# c\n"), "# c\n{}\n");
    assert_eq!(
        yaml("a: 1\n---\nb: {}\n---\nc: []\n"),
        "a: 1\n---\nb: {}\n---\nc: []\n"
    );
    let doc = parse(b"a:\n  b:\n    - c: 1\n").unwrap().docs;
    let at = |indent| text(&emit(&doc, None, indent).unwrap().bytes);
    assert_eq!(at(0), "a:\n    b:\n        - c: 1\n");
    assert_eq!(at(2), "a:\n  b:\n    - c: 1\n");
    assert_eq!(at(3), "a:\n   b:\n      - c: 1\n");
    assert_eq!(at(1), at(2));
    assert_eq!(at(10), at(2));
    assert_eq!(
        emit(&doc, None, -1).unwrap_err().to_string(),
        "YAML Negative indentation not accepted"
    );
    assert!(emit(&[], None, 4).unwrap().bytes.is_empty());
}

#[test]
fn single_values_for_extract() {
    let v = |n: Node| text(&emit_value(&n, 4).unwrap());
    assert_eq!(v(Node::scalar(Scalar::Int(5))), "5\n");
    assert_eq!(v(Node::scalar(Scalar::Null)), "null\n");
    assert_eq!(v(Node::scalar(Scalar::Bool(true))), "true\n");
    let mut l = List::new();
    l.items.push(ListItem::Node(Node::string("a")));
    l.items.push(ListItem::Node(Node::string("yes")));
    assert_eq!(v(Node::List(l)), "- a\n- \"yes\"\n");
    let mut m = Map::new();
    m.push("k", Node::List(List::new()));
    assert_eq!(v(Node::Map(m)), "k: []\n");
}

/// A duplicate key inside a map that many aliases point to (the crafted file of the
/// hardening issue): reported at every alias as go-yaml does, without working the report out
/// again each time, and kept to 100 lines.
#[test]
fn duplicates_in_an_aliased_map_are_reported_once_per_alias_within_bounds() {
    let mut text = String::from("base: &b\n  dup: 0\n");
    for i in 0..2000 {
        text.push_str(&format!("  k{i}: {i}\n"));
    }
    text.push_str("  dup: 1\nrefs:\n");
    let aliases = 300;
    for _ in 0..aliases {
        text.push_str("  - *b\n");
    }
    let err = parse(text.as_bytes()).unwrap_err().to_string();
    let line = "line 2003: mapping key \"dup\" already defined at line 2";
    assert_eq!(err.matches(line).count(), 100, "{}", &err[..300]);
    assert!(
        err.ends_with(&format!(
            "\n  ({} more errors not listed)",
            aliases + 1 - 100
        )),
        "{}",
        &err[err.len() - 200..]
    );
    let few = "a: &a\n  x: 1\n  x: 2\nb: *a\n";
    assert_eq!(
        parse(few.as_bytes()).unwrap_err().to_string(),
        "yaml: unmarshal errors:\n  line 3: mapping key \"x\" already defined at line 2\n  line 3: mapping key \"x\" already defined at line 2"
    );
}

#[test]
fn errors_read_like_sops() {
    let err = |s: &[u8]| parse(s).unwrap_err().to_string();
    // Found by the fuzzer: a key after a flow collection once underflowed the token position.
    for input in [&b"{}x: 1\n"[..], b"{}x: }0"] {
        assert!(
            err(input).contains("did not find expected <document start>"),
            "{}",
            err(input)
        );
    }
    assert_eq!(
        err(b"a: 1\nb:\n  c: 1\na: 2\n"),
        "yaml: unmarshal errors:\n  line 4: mapping key \"a\" already defined at line 1"
    );
    assert_eq!(
        err(b"a: 1\n1: x\n"),
        "Tree contains a non-string key (type int): %!s(int=1). Only string keys are supported"
    );
    assert_eq!(
        err(b"a: 1\n~: x\n"),
        "Tree contains a non-string key (type <nil>): %!s(<nil>). Only string keys are supported"
    );
    assert_eq!(
        err(b"- a\n"),
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}"
    );
    assert_eq!(
        err(b"a: 1\n---\n- b\n"),
        "Error unmarshaling input YAML: YAML documents that are sequences are not supported"
    );
    assert_eq!(
        err(b"a: 1\n---\nhello\n"),
        "Error unmarshaling input YAML: YAML documents that are values are not supported"
    );
    assert_eq!(err(b"# only a comment\n"), "EOF");
    assert_eq!(
        err(b"a: &x [*x]\n"),
        "yaml: anchor 'x' value contains itself"
    );
    assert_eq!(
        err(b"<<: 1\n"),
        "yaml: map merge requires map or sequence of maps as the value"
    );
    assert_eq!(
        err(b"a: 1\n b: 2\n"),
        "yaml: line 2: mapping values are not allowed in this context"
    );
    assert_eq!(err(b"a: \xff\n"), "yaml: invalid leading UTF-8 octet");
    assert_eq!(
        err(b"a: \x01\n"),
        "yaml: control characters are not allowed"
    );
    // Later documents keep duplicates; errors there carry sops's prefix.
    assert_eq!(
        parse(b"a: 1\n---\nb: 1\nb: 2\n").unwrap().docs[1]
            .items
            .len(),
        2
    );
    assert_eq!(
        err(b"a: 1\n---\nb: [\n"),
        "Error unmarshaling input YAML: yaml: line 3: did not find expected node content"
    );
    // The first document is checked before later ones are read.
    assert_eq!(
        err(b"a: 1\na: 2\n---\nb: [\n"),
        "yaml: unmarshal errors:\n  line 2: mapping key \"a\" already defined at line 1"
    );
    // Values never appear in messages.
    assert!(!err(b"a: !!int secret\n").contains("secret"));
}

/// Documents as deep as go-yaml reads (10,000 levels) are read and written on the stack the
/// binary gives its work (`process::STACK_SIZE`); deeper ones are refused with go-yaml's
/// message, and trees built elsewhere are refused by the emitter, never overflowing.
#[test]
fn deep_nesting_is_bounded_and_fits_the_command_stack() {
    sesame::process::on_deep_stack(|| {
        let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        let block = |n: usize| {
            let mut s = String::new();
            for i in 0..n {
                s.push_str(&" ".repeat(i));
                s.push_str("k:\n");
            }
            s + &" ".repeat(n) + "v: 1\n"
        };
        for input in [flow(9_990), block(1_000)] {
            let parsed = parse(input.as_bytes()).unwrap();
            let out = emit(&parsed.docs, None, 2).unwrap();
            assert!(parse(&out.bytes).is_ok());
        }
        let err = parse(flow(10_001).as_bytes()).unwrap_err().to_string();
        assert!(err.contains("exceeded max depth of 10000"), "{err}");
        // Aliases cannot be used to build deeper trees.
        let aliased = format!(
            "a: &x {}q{}\nb: {}*x{}\n",
            "[".repeat(6_000),
            "]".repeat(6_000),
            "[".repeat(6_000),
            "]".repeat(6_000)
        );
        assert!(parse(aliased.as_bytes()).is_err());
        // Trees built elsewhere are refused by the emitter rather than overflowing.
        let mut node = Node::scalar(Scalar::Null);
        for _ in 0..10_100 {
            let mut l = List::new();
            l.items.push(ListItem::Node(node));
            node = Node::List(l);
        }
        assert!(emit_value(&node, 2).is_err());
    });
}

/// Records what `parse_reading` hands a reader, and marks each entry it gets in place.
struct Recorder {
    slices: bool,
    keep_going: bool,
    started_with: Option<Option<sesame::store::MetadataSource>>,
    got: Vec<(usize, Vec<MapItem>)>,
}

impl Recorder {
    fn new(slices: bool, keep_going: bool) -> Recorder {
        Recorder {
            slices,
            keep_going,
            started_with: None,
            got: Vec::new(),
        }
    }
}

impl sesame::store::Reading for Recorder {
    fn start(&mut self, metadata: Option<&sesame::store::MetadataSource>) -> bool {
        // A parser that gives up reading in one pass starts again, with the same metadata
        // (the visits start over) or, when what it read from the file's end was not the
        // metadata, with what it then finds.
        if let Some(Some(before)) = &self.started_with
            && metadata.is_some_and(|m| m.tree == before.tree)
        {
            self.got.clear();
        }
        self.started_with = Some(metadata.cloned());
        true
    }
    fn takes_slices(&self) -> bool {
        self.slices
    }
    fn items(&mut self, doc: usize, items: &mut [MapItem]) -> bool {
        assert!(self.started_with.is_some(), "items before the metadata");
        self.got.push((doc, items.to_vec()));
        for item in items {
            if let MapItem::Entry(e) = item {
                e.value = Node::string("seen");
            }
        }
        self.keep_going
    }
}

#[test]
fn a_reader_gets_the_metadata_first_then_each_top_level_item_once() {
    // 1,000 top-level entries with comments, an alias in the last slice to an anchor in the
    // first, the metadata in the middle and another `sops` entry in a second document: in slices (about 256 items each) or whole documents, the
    // reader sees every item once, in order, never a `sops` entry, and changes them in place.
    let mut text = String::from("# head\nfirst: &shared {x: 1, y: [2]}\n");
    for i in 0..1000 {
        if i % 100 == 0 {
            text.push_str(&format!("# before {i}\n"));
        }
        if i == 500 {
            text.push_str("sops:\n    mac: m\n    version: 3.9.0\n");
        }
        text.push_str(&format!("k{i}: v{i} # line {i}\n"));
    }
    text.push_str("last: *shared\n# foot\n---\nsops: {x: 1}\nother: 2\n");
    let plain = parse(text.as_bytes()).unwrap();
    for slices in [true, false] {
        let mut reader = Recorder::new(slices, true);
        let parsed =
            sesame::store::parse_reading(sesame::store::Format::Yaml, text.as_bytes(), &mut reader)
                .unwrap();
        let started = reader.started_with.unwrap().unwrap();
        let expected = plain.metadata.as_ref().unwrap();
        assert_eq!(started.tree, expected.tree);
        assert_eq!(parsed.metadata.unwrap().tree, expected.tree);
        let doc0: Vec<&(usize, Vec<MapItem>)> = reader.got.iter().filter(|g| g.0 == 0).collect();
        // About 2,000 items (each entry has a line comment), 256 or so at a time.
        let n = plain.docs[0].items.len();
        let expected = if slices {
            n / 258..=n.div_ceil(256)
        } else {
            1..=1
        };
        assert!(expected.contains(&doc0.len()), "{} slices", doc0.len());
        for (doc, want) in plain.docs.iter().enumerate() {
            let seen: Vec<MapItem> = reader
                .got
                .iter()
                .filter(|g| g.0 == doc)
                .flat_map(|g| g.1.clone())
                .collect();
            assert_eq!(seen, want.items, "doc {doc}, slices: {slices}");
            let marked = parsed.docs[doc]
                .entries()
                .all(|e| e.value == Node::string("seen"));
            assert!(marked, "doc {doc} was not changed in place");
        }
    }
    // A reader that stops is given nothing more; the parse still completes.
    let mut reader = Recorder::new(true, false);
    let parsed =
        sesame::store::parse_reading(sesame::store::Format::Yaml, text.as_bytes(), &mut reader)
            .unwrap();
    assert_eq!(reader.got.len(), 1);
    assert_eq!(parsed.docs.len(), 2);
    assert_eq!(parsed.docs[0].items.len(), plain.docs[0].items.len());
}

#[test]
fn metadata_that_cannot_be_read_ahead_is_read_as_before() {
    // Two `sops` entries, or one that is not a mapping: the same errors as `parse`.
    for text in [
        "a: 1\nsops: {mac: m}\nsops: {mac: n}\n",
        "a: 1\nsops: 3\n",
        "a: 1\nsops: [1]\n",
    ] {
        let mut reader = Recorder::new(true, true);
        let theirs = parse(text.as_bytes()).unwrap_err().to_string();
        let ours =
            sesame::store::parse_reading(sesame::store::Format::Yaml, text.as_bytes(), &mut reader)
                .unwrap_err()
                .to_string();
        assert_eq!(ours, theirs, "{text:?}");
    }
    // No metadata to read ahead: the reader starts once the documents are built, and gets
    // each whole.
    let text = "a: 1\nb: 2\n---\nc: 3\n";
    let mut reader = Recorder::new(true, true);
    sesame::store::parse_reading(sesame::store::Format::Yaml, text.as_bytes(), &mut reader)
        .unwrap();
    assert!(matches!(reader.started_with, Some(None)));
    let sizes: Vec<(usize, usize)> = reader.got.iter().map(|g| (g.0, g.1.len())).collect();
    assert_eq!(sizes, [(0, 2), (1, 1)]);
}

#[test]
fn a_sops_key_however_written_is_found_ahead_or_refused_as_before() {
    // Quoted, tagged or aliased, a key that converts to `sops` is the metadata; a second one
    // (also one whose text is not `sops`: base64 of it, an alias) is the duplicate error
    // `parse` gives, whether or not the reader takes slices.
    for text in [
        "a: 1\n\"sops\": {mac: m}\n",
        "a: 1\n!!str sops: {mac: m}\n",
        "k: &name sops\n*name : {mac: m}\n",
        "a: 1\nsops: {mac: m}\n!!binary c29wcw==: {mac: n}\n",
        "k: &name sops\nsops: {mac: m}\n*name : {mac: n}\n",
    ] {
        let theirs = parse(text.as_bytes()).map(|p| p.metadata.map(|m| m.tree));
        for slices in [true, false] {
            let mut reader = Recorder::new(slices, true);
            let ours = sesame::store::parse_reading(
                sesame::store::Format::Yaml,
                text.as_bytes(),
                &mut reader,
            )
            .map(|p| p.metadata.map(|m| m.tree));
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
                _ => panic!("{text:?}: {:?} vs {:?}", ours.is_ok(), theirs.is_ok()),
            }
        }
    }
}
