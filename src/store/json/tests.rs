//! Unit tests of the JSON store: Go decoder semantics, encoding/json output, metadata spans.

use super::*;
use crate::tree::{Comment, List, ListItem, Scalar};

fn doc(input: &str) -> Map {
    let parsed = parse(input.as_bytes()).unwrap();
    assert!(parsed.metadata.is_none());
    parsed.docs.into_iter().next().unwrap()
}

fn err(input: &[u8]) -> String {
    parse(input).unwrap_err().to_string()
}

fn scalar<'a>(m: &'a Map, key: &str) -> &'a Scalar {
    m.get(key).and_then(Node::as_scalar).unwrap()
}

fn round(input: &str) -> String {
    let parsed = parse(input.as_bytes()).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    String::from_utf8(emit(&parsed.docs, md, -1).unwrap().bytes).unwrap()
}

#[test]
fn numbers_are_int_when_parse_int_accepts_them() {
    let m = doc(
        r#"{"a":1,"b":-0,"c":9223372036854775807,"d":9223372036854775808,"e":1.0,"f":1e2,"g":-9223372036854775808,"h":1e-400}"#,
    );
    assert_eq!(scalar(&m, "a"), &Scalar::Int(1));
    assert_eq!(scalar(&m, "b"), &Scalar::Int(0));
    assert_eq!(scalar(&m, "c"), &Scalar::Int(i64::MAX));
    assert_eq!(scalar(&m, "d"), &Scalar::Float(9223372036854775808.0));
    assert_eq!(scalar(&m, "e"), &Scalar::Float(1.0));
    assert_eq!(scalar(&m, "f"), &Scalar::Float(100.0));
    assert_eq!(scalar(&m, "g"), &Scalar::Int(i64::MIN));
    assert_eq!(scalar(&m, "h"), &Scalar::Float(0.0));
    assert_eq!(
        err(br#"{"a":1e400}"#),
        "Could not unmarshal input data: strconv.ParseFloat: parsing \"1e400\": value out of range"
    );
}

#[test]
fn duplicate_keys_and_order_are_kept() {
    let m = doc(r#"{"b":1,"a":2,"b":3}"#);
    let keys: Vec<_> = m.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "b"]);
    assert_eq!(
        round(r#"{"b":1,"a":2,"b":3}"#),
        "{\n\t\"b\": 1,\n\t\"a\": 2,\n\t\"b\": 3\n}\n"
    );
}

#[test]
fn text_after_the_top_level_object_is_ignored() {
    assert_eq!(
        round("{\"a\":true} trailing [garbage"),
        "{\n\t\"a\": true\n}\n"
    );
}

#[test]
fn strings_unescape_like_go() {
    let m = doc(
        r#"{"a":"x\u00e9\n\/\"\\\b\f\t\r","s":"\ud83d\ude00","lone":"\ud800x","low":"\udc00","bad":"\ud800\u0041"}"#,
    );
    assert_eq!(
        m.get("a").unwrap().as_str(),
        Some("xé\n/\"\\\u{8}\u{c}\t\r")
    );
    assert_eq!(m.get("s").unwrap().as_str(), Some("😀"));
    assert_eq!(m.get("lone").unwrap().as_str(), Some("\u{fffd}x"));
    assert_eq!(m.get("low").unwrap().as_str(), Some("\u{fffd}"));
    assert_eq!(m.get("bad").unwrap().as_str(), Some("\u{fffd}A"));
    // One U+FFFD per invalid byte, as Go's DecodeRune loop gives (Rust's lossy decoding would
    // give one for the truncated sequence).
    let m = parse(b"{\"k\xff\":\"a\xe2\x82b\xed\xa0\x80\"}")
        .unwrap()
        .docs
        .remove(0);
    let e = m.entries().next().unwrap();
    assert_eq!(e.key, "k\u{fffd}");
    assert_eq!(
        e.value.as_str(),
        Some("a\u{fffd}\u{fffd}b\u{fffd}\u{fffd}\u{fffd}")
    );
}

#[test]
fn top_level_non_objects_fail_with_sops_wording() {
    assert_eq!(
        err(b" [1]"),
        "Could not unmarshal input data: SOPS only supports JSON files with a top-level object \
         (starting with '{'), not arrays or other types. Got delimiter [ instead. To encrypt this \
         file, wrap it in an object, e.g., {\"data\": [...]}"
    );
    let scalar_err = |v: &str| {
        format!(
            "Could not unmarshal input data: SOPS only supports JSON files with a top-level \
             object (starting with '{{'), not other JSON types. Got {v} instead"
        )
    };
    assert_eq!(err(b"12"), scalar_err("12 of type int"));
    assert_eq!(err(b"1.5"), scalar_err("1.5 of type float64"));
    assert_eq!(err(b"null"), scalar_err("<nil> of type <nil>"));
    assert_eq!(err(b"true"), scalar_err("true of type bool"));
    assert_eq!(err(b"\"s\\n\""), scalar_err("\"s\\n\" of type string"));
    assert_eq!(err(b""), "Could not unmarshal input data: EOF");
    assert_eq!(err(b"  \n"), "Could not unmarshal input data: EOF");
}

#[test]
fn syntax_errors_match_go_decoder() {
    let cases: &[(&[u8], &str)] = &[
        (b"{1:2}", "invalid character '1'"),
        (
            b"{",
            "Expected JSON object key, got %!s(<nil>) of type <nil> instead",
        ),
        (
            b"{\"a\":1",
            "Expected JSON object key, got %!s(<nil>) of type <nil> instead",
        ),
        (b"{\"a\":\"abc", "unexpected EOF"),
        (
            b"{\"a\":1,}",
            "invalid character '}' looking for beginning of object key string",
        ),
        (b"{\"a\" 1}", "invalid character '1' after object key"),
        (
            b"{\"a\":1 \"b\":2}",
            "invalid character '\"' after object key:value pair",
        ),
        (
            b"{\"a\":tru}",
            "invalid character '}' in literal true (expecting 'e')",
        ),
        (
            b"{\"a\":01}",
            "invalid character '1' after object key:value pair",
        ),
        (
            b"{\"a\":\"\\x\"}",
            "invalid character 'x' in string escape code",
        ),
        (
            b"{\"a\":\"\\u12g4\"}",
            "invalid character 'g' in \\u hexadecimal character escape",
        ),
        (
            b"{\"a\":\"\n\"}",
            "invalid character '\\n' in string literal",
        ),
        (
            b"{\"a\":[1 2]}",
            "invalid character '2' after array element",
        ),
        (b"{\"a\":-x}", "invalid character 'x' in numeric literal"),
        (
            b"{\"a\":1.}",
            "invalid character '}' after decimal point in numeric literal",
        ),
        (
            b"{\"a\":1e+}",
            "invalid character '}' in exponent of numeric literal",
        ),
        (
            b"{\"a\":]}",
            "invalid character ']' looking for beginning of value",
        ),
        (
            b"{\"a\":x}",
            "invalid character 'x' looking for beginning of value",
        ),
        (
            b"\xef\xbb\xbf{}",
            "invalid character '\u{ef}' looking for beginning of value",
        ),
        (b"{\"a\":nul", "unexpected EOF"),
        (b"{\"a\":-", "unexpected EOF"),
    ];
    for (input, want) in cases {
        assert_eq!(
            err(input),
            format!("Could not unmarshal input data: {want}"),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn end_of_input_inside_a_member_value_ends_the_object_like_sops() {
    // sops compat: Go's Token returns io.EOF, which sops treats as the end of the object.
    assert_eq!(round("{\"a\":1,\"b\""), "{\n\t\"a\": 1\n}\n");
    assert_eq!(round("{\"a\":"), "{}\n");
    assert_eq!(round("{\"x\":1,\"a\":[1,2"), "{\n\t\"x\": 1\n}\n");
    assert_eq!(
        err(b"{\"a\":{\"b\":"),
        "Could not unmarshal input data: Expected JSON object key, got %!s(<nil>) of type <nil> instead"
    );
}

#[test]
fn emission_escapes_like_encoding_json() {
    let mut m = Map::new();
    m.push(
        "k<>&",
        Node::string("a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}/é\u{2028}\u{2029}\u{fffd}"),
    );
    m.push(
        "raw",
        Node::string(crate::secret::SecretBuf::new(b"x\xffy\xe2\x82".to_vec())),
    );
    let out = emit(&[m], None, -1).unwrap().bytes;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\n\t\"k\\u003c\\u003e\\u0026\": \"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}/é\\u2028\\u2029\u{fffd}\",\n\t\"raw\": \"x\\ufffdy\\ufffd\\ufffd\"\n}\n"
    );
}

#[test]
fn emission_layout_follows_json_indent() {
    let input = r#"{"s":"a<b>&c","f":1e21,"nested":{"a":[1,{"b":2}]},"e":{},"l":[],"x":[[]]}"#;
    let parsed = parse(input.as_bytes()).unwrap();
    let tab = emit(&parsed.docs, None, -1).unwrap().bytes;
    assert_eq!(
        String::from_utf8(tab).unwrap(),
        "{\n\t\"s\": \"a\\u003cb\\u003e\\u0026c\",\n\t\"f\": 1e+21,\n\t\"nested\": {\n\t\t\"a\": [\n\t\t\t1,\n\t\t\t{\n\t\t\t\t\"b\": 2\n\t\t\t}\n\t\t]\n\t},\n\t\"e\": {},\n\t\"l\": [],\n\t\"x\": [\n\t\t[]\n\t]\n}\n"
    );
    let two = emit(&parsed.docs, None, 2).unwrap().bytes;
    assert!(
        String::from_utf8(two)
            .unwrap()
            .starts_with("{\n  \"s\": \"a")
    );
    let zero = emit(&parsed.docs, None, 0).unwrap().bytes;
    assert!(
        String::from_utf8(zero)
            .unwrap()
            .starts_with("{\n\"s\": \"a")
    );
    assert_eq!(
        emit(&parsed.docs, None, -2).unwrap_err().to_string(),
        "Error marshaling to json: JSON Indentation parameter smaller than -1 is not accepted"
    );
    assert_eq!(emit(&[Map::new()], None, -1).unwrap().bytes, b"{}\n");
}

#[test]
fn emission_skips_comments_and_formats_scalars() {
    let mut list = List::new();
    list.items.push(ListItem::Comment(Comment::new("c")));
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Float(1.0))));
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Float(1e-7))));
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Float(0.000001))));
    list.items.push(ListItem::Node(Node::scalar(Scalar::Null)));
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Uint(u64::MAX))));
    let t = crate::gotext::parse_time("2024-01-02T03:04:05.5+01:00").unwrap();
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Time(t))));
    let mut m = Map::new();
    m.items.push(MapItem::Comment(Comment::new("top")));
    m.push("l", Node::List(list));
    let only_comments = List {
        items: vec![ListItem::Comment(Comment::new("c"))],
    };
    m.push("c", Node::List(only_comments));
    let out = String::from_utf8(emit(&[m], None, 1).unwrap().bytes).unwrap();
    assert_eq!(
        out,
        "{\n \"l\": [\n  1,\n  1e-7,\n  0.000001,\n  null,\n  18446744073709551615,\n  \"2024-01-02T03:04:05.5+01:00\"\n ],\n \"c\": []\n}\n"
    );
}

#[test]
fn unwritable_floats_fail_with_nested_wrapping() {
    let mut inner = Map::new();
    let mut list = List::new();
    list.items
        .push(ListItem::Node(Node::scalar(Scalar::Float(f64::NAN))));
    inner.push("b", Node::List(list));
    let mut m = Map::new();
    m.push("a", Node::Map(inner));
    assert_eq!(
        emit(&[m], None, -1).unwrap_err().to_string(),
        "Error marshaling to json: Error encoding value : Error encoding value : json: unsupported value: NaN"
    );
    let inf = Node::scalar(Scalar::Float(f64::INFINITY));
    assert_eq!(
        emit_value(&inf, -1).unwrap_err().to_string(),
        "json: unsupported value: +Inf"
    );
}

#[test]
fn emit_value_has_no_trailing_newline() {
    let parsed = parse(br#"{"l":[1,"a",{"b":null}]}"#).unwrap();
    let l = parsed.docs[0].get("l").unwrap();
    assert_eq!(
        String::from_utf8(emit_value(l, -1).unwrap()).unwrap(),
        "[\n\t1,\n\t\"a\",\n\t{\n\t\t\"b\": null\n\t}\n]"
    );
    assert_eq!(
        emit_value(&Node::scalar(Scalar::Bool(true)), 4).unwrap(),
        b"true"
    );
    assert_eq!(
        emit_value(l, -3).unwrap_err().to_string(),
        "JSON Indentation parameter smaller than -1 is not accepted"
    );
}

#[test]
fn emit_requires_one_document_and_no_sops_key() {
    assert!(emit(&[], None, -1).is_err());
    assert!(emit(&[Map::new(), Map::new()], None, -1).is_err());
    let mut m = Map::new();
    m.push("sops", Node::string("x"));
    assert!(emit(std::slice::from_ref(&m), None, -1).is_ok());
    assert_eq!(
        emit(&[m], Some(&Map::new()), -1).unwrap_err().to_string(),
        "Error marshaling metadata: Found key \"sops\" in encrypted data, which is a reserved key used for SOPS metadata"
    );
}

#[test]
fn metadata_is_extracted_with_spans() {
    let input = r#"{"a": 1, "sops": {"lastmodified": "2025-01-02T03:04:05Z", "shamir_threshold": 2, "mac_only_encrypted": true, "mac": "ENC[x]"} }  "#;
    let parsed = parse(input.as_bytes()).unwrap();
    assert_eq!(parsed.docs[0].items.len(), 1);
    let md = parsed.metadata.unwrap();
    assert_eq!(scalar(&md.tree, "shamir_threshold"), &Scalar::Int(2));
    assert_eq!(scalar(&md.tree, "mac_only_encrypted"), &Scalar::Bool(true));
    let span = md.span.unwrap();
    assert!(input[span.clone()].starts_with("\"sops\": {"));
    assert!(input[span].ends_with("\"ENC[x]\"}"));
    assert_eq!(&input[md.lastmodified.unwrap()], "\"2025-01-02T03:04:05Z\"");
    assert_eq!(&input[md.mac.unwrap()], "\"ENC[x]\"");

    // Not the last member: no span, but the value ranges are still known.
    let input = r#"{"sops": {"mac": "m"}, "a": 1}"#;
    let md = parse(input.as_bytes()).unwrap().metadata.unwrap();
    assert!(md.span.is_none());
    assert_eq!(&input[md.mac.unwrap()], "\"m\"");
    assert!(md.lastmodified.is_none());
}

#[test]
fn metadata_errors() {
    assert_eq!(
        err(br#"{"sops":{},"sops":{}}"#),
        "Found duplicate sops entry"
    );
    assert_eq!(
        err(br#"{"sops":1,"sops":{}}"#),
        "Found duplicate sops entry"
    );
    assert_eq!(
        err(br#"{"sops":[1]}"#),
        "Found sops entry that is not a mapping"
    );
    // Nested `sops` keys are plain data.
    assert!(parse(br#"{"a":{"sops":1}}"#).unwrap().metadata.is_none());
}

#[test]
fn emitted_metadata_span_covers_the_sops_member() {
    let mut md = Map::new();
    md.push("version", Node::string("3.13.2"));
    let mut d = Map::new();
    d.push("a", Node::string("b"));
    let out = emit(&[d], Some(&md), -1).unwrap();
    let text = std::str::from_utf8(&out.bytes).unwrap();
    assert_eq!(out.metadata_spans.len(), 1);
    assert_eq!(
        &text[out.metadata_spans[0].clone()],
        "\"sops\": {\n\t\t\"version\": \"3.13.2\"\n\t}"
    );
    // The same definition on input.
    let back = parse(&out.bytes).unwrap();
    assert_eq!(
        back.metadata.unwrap().span,
        Some(out.metadata_spans[0].clone())
    );
}

#[test]
fn known_answer_file_round_trips() {
    let kat = include_str!("../../../tests/fixtures/json/kat.json");
    assert_eq!(round(kat), kat);
    let parsed = parse(kat.as_bytes()).unwrap();
    let md = parsed.metadata.unwrap();
    assert_eq!(&kat[md.lastmodified.unwrap()], "\"2025-01-02T03:04:05Z\"");
    assert!(kat[md.span.unwrap()].ends_with("\"version\": \"3.13.2\"\n\t}"));
}

#[test]
fn nesting_is_limited_not_fatal() {
    crate::process::on_deep_stack(nesting_is_limited);
}

fn nesting_is_limited() {
    let deep = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(MAX_DEPTH + 5),
        "]".repeat(MAX_DEPTH + 5)
    );
    assert_eq!(
        err(deep.as_bytes()),
        "Could not unmarshal input data: exceeded max depth"
    );
    let ok = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(MAX_DEPTH - 2),
        "]".repeat(MAX_DEPTH - 2)
    );
    assert_eq!(round(&ok).len(), {
        let parsed = parse(ok.as_bytes()).unwrap();
        emit(&parsed.docs, None, -1).unwrap().bytes.len()
    });
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A small xorshift generator over a JSON-ish alphabet.
    let alphabet = b"{}[]:,\"\\ u0123456789abcdefEtrunl-.+\n\xff\xe2\x80\xa8";
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..3000 {
        let len = (state % 40) as usize;
        let mut input = b"{".to_vec();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        if let Ok(p) = parse(&input) {
            let md = p.metadata.as_ref().map(|m| &m.tree);
            let _ = emit(&p.docs, md, -1);
        }
    }
}

/// A reader that keeps (or, with `drops`, writes out and lets go) what it is handed.
#[derive(Default)]
struct Taker {
    handed: Vec<MapItem>,
    slices: usize,
    drops: bool,
    writer: Option<PlainWriter>,
}

impl Reading for Taker {
    fn start(&mut self, metadata: Option<&MetadataSource>) -> bool {
        self.handed.clear();
        self.writer = self.drops.then(|| PlainWriter::new(-1, 0).unwrap());
        metadata.is_some()
    }
    fn takes_slices(&self) -> bool {
        true
    }
    fn items(&mut self, _: usize, items: &mut [MapItem]) -> bool {
        self.slices += 1;
        self.handed.extend_from_slice(items);
        true
    }
    fn lets_drop(&self) -> bool {
        self.drops
    }
    fn dropping(&mut self, _: usize, items: &[MapItem]) -> bool {
        self.writer.as_mut().unwrap().items(items).unwrap();
        true
    }
}

fn plain(items: &[MapItem]) -> String {
    let map = Map {
        items: items.to_vec(),
    };
    String::from_utf8(emit(&[map], None, -1).unwrap().bytes).unwrap()
}

/// The one pass gives what the whole read gives (items handed on in order, the same metadata
/// and spans), and with a reader that lets the items go, keeps nothing and writes the same text.
fn assert_one_pass_as_whole(text: &str) -> bool {
    let mut taker = Taker::default();
    let Some(parsed) = read_in_one_pass(text.as_bytes(), &mut taker) else {
        return false;
    };
    let whole = parse(text.as_bytes()).unwrap();
    assert_eq!(plain(&taker.handed), plain(&whole.docs[0].items), "{text}");
    assert_eq!(parsed.docs[0].items.len(), whole.docs[0].items.len());
    let (ours, theirs) = (parsed.metadata.unwrap(), whole.metadata.unwrap());
    assert_eq!(ours.tree, theirs.tree);
    assert_eq!(
        (ours.span, ours.lastmodified, ours.mac),
        (theirs.span, theirs.lastmodified, theirs.mac)
    );
    let mut taker = Taker {
        drops: true,
        ..Taker::default()
    };
    let parsed = read_in_one_pass(text.as_bytes(), &mut taker).unwrap();
    assert!(parsed.docs[0].items.is_empty(), "items were kept");
    let out = taker.writer.take().unwrap().finish().unwrap();
    assert_eq!(
        String::from_utf8(out.into_vec()).unwrap(),
        plain(&whole.docs[0].items)
    );
    true
}

#[test]
fn the_usual_file_is_read_in_one_pass_as_the_whole_read_reads_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json/sops311");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.contains("\"sops\"") {
            read += usize::from(assert_one_pass_as_whole(&text));
        }
    }
    assert!(read >= 8, "{read} read in one pass");
    // Many slices; a metadata block of any layout; an empty document.
    let mut big = String::from("{");
    for i in 0..5000 {
        big.push_str(&format!("\"k{i}\": {{\"a\": [1, \"x{i}\", null]}}, "));
    }
    big.push_str("\"sops\": {\"mac\": \"m\", \"lastmodified\": \"t\"}}");
    let mut taker = Taker::default();
    assert!(assert_one_pass_as_whole(&big));
    read_in_one_pass(big.as_bytes(), &mut taker).unwrap();
    assert!(taker.slices > 1, "{} slices", taker.slices);
    assert!(assert_one_pass_as_whole("{\"sops\":{\"mac\":\"m\"}}\n"));
}

#[test]
fn other_shapes_are_left_to_the_whole_read() {
    let cases = [
        // Not last, twice, not an object, not at the top level, cut short, not JSON after.
        r#"{"sops": {"mac": "m"}, "a": 1}"#,
        r#"{"sops": {"mac": "n"}, "a": 1, "sops": {"mac": "m"}}"#,
        r#"{"a": 1, "sops": "m"}"#,
        r#"{"a": {"sops": {"mac": "m"}}}"#,
        r#"{"a": 1, "sops": {"mac": "m"}"#,
        r#"{"a": 1 "b": 2, "sops": {"mac": "m"}}"#,
        // The key read first is inside a string.
        r#"{"a": "\"sops\": {}}", "sops": {"mac": "m"}, "b": "x\"sops\":{\"mac\":1}}"}"#,
        // Spelt with an escape: the last "sops" is another member's.
        r#"{"\u0073ops": {"mac": "m"}, "x": {"sops": {"mac": "m"}}}"#,
    ];
    for text in cases {
        let mut taker = Taker::default();
        assert!(
            read_in_one_pass(text.as_bytes(), &mut taker).is_none(),
            "{text}"
        );
    }
}

#[test]
fn a_document_written_in_slices_is_written_as_whole() {
    let mut text = String::from("{");
    for i in 0..40 {
        text.push_str(&format!(
            "\"k{i}\": {{\"a\": [1, \"x\\n{i}\", {{}}], \"b\": []}}, "
        ));
    }
    text.push_str("\"e\": {}}");
    let doc = doc(&text);
    for indent in [-1, 0, 2] {
        let whole = String::from_utf8(
            emit(std::slice::from_ref(&doc), None, indent)
                .unwrap()
                .bytes,
        )
        .unwrap();
        for size in [1, 3, 7, usize::MAX] {
            let mut writer = PlainWriter::new(indent, 16).unwrap();
            for slice in doc.items.chunks(size.min(doc.items.len())) {
                writer.items(slice).unwrap();
            }
            assert_eq!(
                String::from_utf8(writer.finish().unwrap().into_vec()).unwrap(),
                whole
            );
        }
    }
    let empty = PlainWriter::new(4, 0).unwrap().finish().unwrap();
    assert_eq!(
        empty.into_vec(),
        emit(&[Map::new()], None, 4).unwrap().bytes
    );
}

#[test]
fn a_nested_sops_member_is_not_taken_for_the_metadata() {
    // The last `"sops"` in the text is a nested member's: no key is asked for with it.
    let text = r#"{"sops": {"mac": "m"}, "x": {"sops": {"mac": "n"}}}"#;
    let at = text.rfind("\"sops\"").unwrap();
    assert!(parse::last_top_member(text.as_bytes(), at).is_none());
    let mut taker = Taker::default();
    assert!(read_in_one_pass(text.as_bytes(), &mut taker).is_none());
    assert_eq!(taker.slices, 0);
    // The top-level one, last, is.
    let text = r#"{"x": {"sops": {"mac": "n"}}, "sops": {"mac": "m"}}"#;
    let at = text.rfind("\"sops\"").unwrap();
    assert!(parse::last_top_member(text.as_bytes(), at).is_some());
}
