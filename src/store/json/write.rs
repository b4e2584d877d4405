//! JSON writer reproducing sops's output: Go `encoding/json` scalars and escaping, laid out as
//! `json.Indent` lays out the compact text sops builds.

use super::MAX_DEPTH;
use crate::gotext;
use crate::secret::PlainBuffer;
use crate::tree::{ListItem, Map, MapItem, Node, Scalar};
use std::ops::Range;

/// An indented JSON writer.
pub(super) struct Writer {
    pub out: PlainBuffer,
    /// One level of indentation: a TAB, or N spaces.
    unit: Vec<u8>,
}

/// sops `reindentJSON`: the indent string for a setting, or its error.
pub(super) fn indent_unit(indent: i64) -> Result<Vec<u8>, String> {
    match indent {
        -1 => Ok(b"\t".to_vec()),
        n if n < -1 => Err("JSON Indentation parameter smaller than -1 is not accepted".into()),
        n => Ok(vec![b' '; usize::try_from(n).unwrap_or(0)]),
    }
}

impl Writer {
    pub fn new(unit: Vec<u8>, capacity: usize) -> Self {
        Writer {
            out: PlainBuffer::with_capacity(capacity),
            unit,
        }
    }

    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        for _ in 0..depth {
            self.out.extend_from_slice(&self.unit);
        }
    }

    /// Writes a map, with an optional extra last member (the `sops` metadata) whose span is
    /// returned. Errors carry sops's wording.
    pub fn map(
        &mut self,
        map: &Map,
        depth: usize,
        extra: Option<(&str, &Map)>,
    ) -> Result<Option<Range<usize>>, String> {
        if depth > MAX_DEPTH {
            return Err("exceeded max depth".into());
        }
        let mut first = true;
        self.out.push(b'{');
        self.entries(&map.items, &mut first, depth)?;
        let mut span = None;
        if let Some((key, value)) = extra {
            self.member_start(&mut first, depth, key);
            let start = self.out.len() - key.len() - 4;
            self.map(value, depth + 1, None)
                .map_err(|err| format!("Error encoding value : {err}"))?;
            span = Some(start..self.out.len());
        }
        self.close_map(first, depth);
        Ok(span)
    }

    /// A map's entries after its `{`; `first` says none was written yet.
    pub fn entries(
        &mut self,
        items: &[MapItem],
        first: &mut bool,
        depth: usize,
    ) -> Result<(), String> {
        for item in items {
            let MapItem::Entry(e) = item else { continue };
            self.member_start(first, depth, &e.key);
            // sops compat: encodeTree wraps every value error once per enclosing map.
            self.node(&e.value, depth + 1)
                .map_err(|err| format!("Error encoding value : {err}"))?;
        }
        Ok(())
    }

    pub fn close_map(&mut self, first: bool, depth: usize) {
        if !first {
            self.newline(depth);
        }
        self.out.push(b'}');
    }

    /// Separator, newline, indentation, `"key": `.
    fn member_start(&mut self, first: &mut bool, depth: usize, key: &str) {
        if !*first {
            self.out.push(b',');
        }
        *first = false;
        self.newline(depth + 1);
        write_string(&mut self.out, key.as_bytes());
        self.out.extend_from_slice(b": ");
    }

    pub fn node(&mut self, node: &Node, depth: usize) -> Result<(), String> {
        match node {
            Node::Map(m) => self.map(m, depth, None).map(|_| ()),
            Node::List(l) => {
                if depth > MAX_DEPTH {
                    return Err("exceeded max depth".into());
                }
                let mut first = true;
                self.out.push(b'[');
                // Comments are skipped, as sops's encodeArray does.
                for item in &l.items {
                    let ListItem::Node(n) = item else { continue };
                    if !first {
                        self.out.push(b',');
                    }
                    first = false;
                    self.newline(depth + 1);
                    self.node(n, depth + 1)?;
                }
                if !first {
                    self.newline(depth);
                }
                self.out.push(b']');
                Ok(())
            }
            Node::Leaf(leaf) => scalar(&mut self.out, &leaf.value),
        }
    }
}

/// Go `json.Marshal` of a scalar.
pub(crate) fn scalar(out: &mut PlainBuffer, v: &Scalar) -> Result<(), String> {
    match v {
        Scalar::Null => out.extend_from_slice(b"null"),
        Scalar::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Scalar::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Scalar::Uint(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Scalar::Float(f) => match gotext::float_json(*f) {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => return Err(format!("json: unsupported value: {}", gotext::float_f(*f))),
        },
        Scalar::Str(s) => write_string(out, s.expose()),
        Scalar::Time(t) => {
            if !(0..=9999).contains(&t.year()) {
                return Err("json: error calling MarshalJSON for type time.Time: \
                            Time.MarshalJSON: year outside of range [0,9999]"
                    .into());
            }
            write_string(out, gotext::time_nano(t).as_bytes());
        }
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes `write_string` must look at: ASCII needing an escape, and every non-ASCII byte (for
/// U+2028/U+2029 and invalid UTF-8).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80 || matches!(i as u8, b'"' | b'\\' | b'<' | b'>' | b'&');
        i += 1;
    }
    t
};

/// Go `encoding/json` string encoding with HTML escaping: `<>&`, U+2028/U+2029, control
/// characters and each byte of invalid UTF-8 (as `\ufffd`) are escaped.
pub(crate) fn write_string(out: &mut PlainBuffer, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    loop {
        i = super::skip_words(s, i, |v| {
            (v & super::HI)
                | super::has_less(v, 0x20)
                | super::has_byte(v, b'"')
                | super::has_byte(v, b'\\')
                | super::has_byte(v, b'<')
                | super::has_byte(v, b'>')
                | super::has_byte(v, b'&')
        });
        match s[i..].iter().position(|&b| SPECIAL[usize::from(b)]) {
            Some(n) => i += n,
            None => break,
        }
        let b = s[i];
        if b >= 0x80 {
            match decode_rune(&s[i..]) {
                None => {
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\ufffd");
                    i += 1;
                    start = i;
                }
                Some(('\u{2028}', len)) => {
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\u2028");
                    i += len;
                    start = i;
                }
                Some(('\u{2029}', len)) => {
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\u2029");
                    i += len;
                    start = i;
                }
                Some((_, len)) => i += len,
            }
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// The UTF-8 character at the start of `b`, if valid (Go `utf8.DecodeRune` without the error).
pub(crate) fn decode_rune(b: &[u8]) -> Option<(char, usize)> {
    let len = match b.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(..len)?).ok()?;
    s.chars().next().map(|c| (c, len))
}
