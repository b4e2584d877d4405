//! Unit tests of the dotenv store.

use super::*;
use crate::tree::List;

fn round(input: &str) -> String {
    let parsed = parse(input.as_bytes()).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    String::from_utf8(emit(&parsed.docs, md).unwrap().bytes).unwrap()
}

fn value<'a>(m: &'a Map, key: &str) -> &'a [u8] {
    match m.get(key).and_then(Node::as_scalar) {
        Some(Scalar::Str(s)) => s.expose(),
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn values_are_raw_with_only_newline_escapes() {
    let input = "A=\"x\"\nexport B = y \nC=a=b\nD=C:\\new\\\\n\nE=\nF=crlf\r\n";
    let doc = parse(input.as_bytes()).unwrap().docs.remove(0);
    assert_eq!(value(&doc, "A"), b"\"x\"");
    assert_eq!(value(&doc, "export B "), b" y ");
    assert_eq!(value(&doc, "C"), b"a=b");
    assert_eq!(value(&doc, "D"), b"C:\new\\\n");
    assert_eq!(value(&doc, "E"), b"");
    assert_eq!(value(&doc, "F"), b"crlf\r");
    assert_eq!(round(input), input);
}

#[test]
fn comments_keep_their_text_and_blank_lines_vanish() {
    let input = "#  spaced\n\n#\n\nA=1\n";
    let doc = parse(input.as_bytes()).unwrap().docs.remove(0);
    let MapItem::Comment(c) = &doc.items[0] else {
        panic!()
    };
    assert_eq!(c.text.expose(), b"  spaced");
    assert_eq!(round(input), "#  spaced\n#\nA=1\n");
    assert_eq!(round("A=1"), "A=1\n");
    assert_eq!(round(""), "");
}

#[test]
fn lines_without_equals_sign_fail() {
    let err = parse(b"A=1\nnot a pair\n").unwrap_err().to_string();
    assert_eq!(err, "invalid dotenv input line: not a pair");
}

#[test]
fn emission_converts_values() {
    let mut doc = Map::new();
    doc.push("S", Node::string("two\nlines"));
    doc.push("F", Node::scalar(Scalar::Float(1.0)));
    doc.push("B", Node::scalar(Scalar::Bool(false)));
    doc.push("I", Node::scalar(Scalar::Int(7)));
    doc.push("N", Node::scalar(Scalar::Null));
    doc.items.push(MapItem::Comment(Comment::new(" note")));
    let out = emit(std::slice::from_ref(&doc), None).unwrap().bytes;
    assert_eq!(
        out,
        b"S=two\\nlines\nF=1.0\nB=false\nI=7\nN=<nil>\n# note\n"
    );
    doc.push("L", Node::List(List::new()));
    let err = emit(&[doc], None).unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot use complex value in dotenv file; offending key L"
    );
}

#[test]
fn metadata_goes_last_and_reserved_keys_are_refused() {
    let mut md = Map::new();
    md.push("mac_only_encrypted", Node::scalar(Scalar::Bool(true)));
    md.push("shamir_threshold", Node::scalar(Scalar::Int(2)));
    md.push("version", Node::string("3.13.2"));
    let mut doc = Map::new();
    doc.push("A", Node::string("1"));
    let out = emit(std::slice::from_ref(&doc), Some(&md)).unwrap();
    let text = String::from_utf8(out.bytes).unwrap();
    assert_eq!(
        text,
        "A=1\nsops_mac_only_encrypted=true\nsops_shamir_threshold=2\nsops_version=3.13.2\n"
    );
    assert_eq!(out.metadata_spans, vec![4..text.len()]);
    doc.push("sops_x", Node::string("y"));
    assert_eq!(
        emit(std::slice::from_ref(&doc), Some(&md))
            .unwrap_err()
            .to_string(),
        "Error marshaling metadata: Found key \"sops_x\" in encrypted data, which starts with \
         the reserved key prefix \"sops_\" for SOPS metadata"
    );
    // Without metadata such a key is plain data.
    assert!(emit(&[doc], None).is_ok());
}

#[test]
fn metadata_is_read_from_sops_lines_anywhere() {
    let input = "sops_version=3.13.2\nA=1\nsops_age__list_0__map_enc=a\\nb\n";
    let parsed = parse(input.as_bytes()).unwrap();
    assert_eq!(parsed.docs[0].items.len(), 1);
    let md = parsed.metadata.unwrap();
    assert!(md.span.is_none(), "not contiguous");
    let age = md.tree.get("age").unwrap().as_list().unwrap();
    let enc = age
        .values()
        .next()
        .unwrap()
        .as_map()
        .unwrap()
        .get("enc")
        .unwrap();
    assert_eq!(enc.as_str(), Some("a\nb"));
    assert_eq!(md.tree.get("version").unwrap().as_str(), Some("3.13.2"));
    let err = parse(b"sops_a=1\nsops_a=2\n").unwrap_err().to_string();
    assert_eq!(err, "Error while unflattening \"a\": Duplicate value");
}

#[test]
fn metadata_spans_need_an_adjacent_last_block() {
    let input = "A=1\nsops_lastmodified=2025-01-02T03:04:05Z\nsops_mac=ENC[x]\n\n\n";
    let md = parse(input.as_bytes()).unwrap().metadata.unwrap();
    assert_eq!(
        &input[md.span.unwrap()],
        "sops_lastmodified=2025-01-02T03:04:05Z\nsops_mac=ENC[x]\n"
    );
    assert_eq!(&input[md.lastmodified.unwrap()], "2025-01-02T03:04:05Z");
    assert_eq!(&input[md.mac.unwrap()], "ENC[x]");
    // No final newline: the block ends at the end of the input.
    let input = "sops_mac=m";
    let md = parse(input.as_bytes()).unwrap().metadata.unwrap();
    assert_eq!(md.span, Some(0..10));
    // A blank line inside the block or a data line after it: no span.
    for input in [
        "sops_a=1\n\nsops_b=2\n",
        "sops_a=1\nA=2\n",
        "sops_a=1\n#c\n",
    ] {
        assert!(
            parse(input.as_bytes())
                .unwrap()
                .metadata
                .unwrap()
                .span
                .is_none(),
            "{input}"
        );
    }
}

#[test]
fn known_answer_file_round_trips() {
    let kat = include_str!("../../../tests/fixtures/dotenv/kat.env");
    assert_eq!(round(kat), kat);
    let parsed = parse(kat.as_bytes()).unwrap();
    let md = parsed.metadata.unwrap();
    assert!(kat[md.span.unwrap()].starts_with("sops_age__list_0__map_enc=-----BEGIN"));
    assert_eq!(&kat[md.lastmodified.unwrap()], "2025-01-02T03:04:05Z");
}

#[test]
fn emit_value_only_takes_strings() {
    assert_eq!(emit_value(&Node::string("a\nb")).unwrap(), b"a\nb");
    let err = emit_value(&Node::scalar(Scalar::Int(1)))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the dotenv store only supports emitting strings, got int"
    );
    let err = emit_value(&Node::List(List::new()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the dotenv store only supports emitting strings, got []interface {}"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let alphabet = b"ab=#\n\r\\n sops_\xff\xe2";
    let mut state = 0x2545f4914f6cdd1du64;
    for _ in 0..3000 {
        let len = (state % 48) as usize;
        let mut input = Vec::new();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        if let Ok(p) = parse(&input) {
            let md = p.metadata.as_ref().map(|m| &m.tree);
            let _ = emit(&p.docs, md);
        }
    }
}
