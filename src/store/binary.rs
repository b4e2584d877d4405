//! Binary store: a plain file is one opaque string under `data`; its encrypted form is a JSON
//! envelope `{"data": "ENC[...]", "sops": {...}}` written by the JSON store rules (spec §7.5).
//!
//! Metadata spans are those of the JSON store.

use crate::secret::SecretBuf;
use crate::store::{Emitted, Parsed, StoreError, json};
use crate::tree::{Map, MapItem, Node, Scalar};

/// A plain file as a tree: `{"data": <the raw bytes>}`.
pub fn parse_plain(input: &[u8]) -> Map {
    parse_plain_owned(input.to_vec())
}

/// `parse_plain` keeping the buffer itself as the value (no copy of a large file).
pub fn parse_plain_owned(input: Vec<u8>) -> Map {
    let mut map = Map::new();
    map.push("data", Node::string(SecretBuf::new(input)));
    map
}

/// Reads an encrypted binary file, which is a JSON envelope.
pub fn parse(input: &[u8]) -> Result<Parsed, StoreError> {
    json::parse(input)
}

/// Writes the encrypted JSON envelope (`indent` is the `json_binary` setting).
pub fn emit(docs: &[Map], metadata: Option<&Map>, indent: i64) -> Result<Emitted, StoreError> {
    json::emit(docs, metadata, indent)
}

/// Where the text of the one value goes in an envelope emitted with that value empty and no
/// metadata: just after the opening quote of its `""`, the last one in the text (a key may
/// hold an escaped quote, the value comes after it).
pub fn empty_value_at(envelope: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(envelope, b"\"\"").map(|at| at + 1)
}

/// The raw bytes of the `data` string, as decrypted output.
pub fn emit_plain(docs: &[Map]) -> Result<Vec<u8>, StoreError> {
    let fail = |what: &str| StoreError::Emit(format!("error emitting binary store: {what}"));
    let [doc] = docs else {
        return Err(fail("there must be exactly one tree branch"));
    };
    // sops compat: the first `data` entry decides, even when a later one is a string.
    let data = doc.items.iter().find_map(|item| match item {
        MapItem::Entry(e) if e.key == "data" => Some(&e.value),
        _ => None,
    });
    match data {
        Some(Node::Leaf(leaf)) => match &leaf.value {
            Scalar::Str(s) => Ok(s.expose().to_vec()),
            _ => Err(fail("'data' key in tree does not have a string value")),
        },
        Some(_) => Err(fail("'data' key in tree does not have a string value")),
        None => Err(fail("no binary data found in tree")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip_keeps_every_byte() {
        let raw = b"raw \x00\x01 bytes\n\xff";
        let doc = parse_plain(raw);
        assert_eq!(emit_plain(&[doc]).unwrap(), raw);
    }

    #[test]
    fn emit_plain_errors_name_the_problem() {
        let mut doc = Map::new();
        doc.push("other", Node::string("x"));
        let err = emit_plain(std::slice::from_ref(&doc)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error emitting binary store: no binary data found in tree"
        );
        doc.push("data", Node::scalar(Scalar::Int(1)));
        doc.push("data", Node::string("later"));
        let err = emit_plain(&[doc]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error emitting binary store: 'data' key in tree does not have a string value"
        );
        let err = emit_plain(&[]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("there must be exactly one tree branch")
        );
    }

    #[test]
    fn the_value_goes_after_the_opening_quote_of_the_empty_string() {
        for indent in [-1, 0, 4] {
            let mut doc = Map::new();
            doc.push("q\"", Node::string(""));
            let out = emit(&[doc], None, indent).unwrap().bytes;
            let at = empty_value_at(&out).unwrap();
            assert!(out[..at].ends_with(b"\"q\\\"\": \""), "indent {indent}");
            assert!(out[at..].starts_with(b"\"\n}"), "indent {indent}");
        }
    }

    #[test]
    fn envelope_is_json_with_escaped_bytes() {
        let doc = parse_plain(b"a<\x00\xff\n");
        let out = emit(&[doc], None, -1).unwrap();
        assert_eq!(
            out.bytes,
            b"{\n\t\"data\": \"a\\u003c\\u0000\\ufffd\\n\"\n}\n"
        );
    }
}
