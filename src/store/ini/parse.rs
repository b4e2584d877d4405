//! INI reader: a port of the `gopkg.in/ini.v1` (v1.67) parser with the options sops uses
//! (non-unique sections, everything else default), working on bytes as Go strings do.

use super::text::{index_any, trim_left, trim_space};
use super::write::Fnv;
use crate::gotext::go_quote;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::Range;

/// A section as ini.v1 holds it.
pub(super) struct Section {
    pub name: String,
    /// The raw comment block (markers included), trimmed.
    pub comment: Vec<u8>,
    pub keys: Vec<Key>,
    /// Where the `[name]` line starts (`None` for the implicit DEFAULT section).
    pub header_start: Option<usize>,
    /// Key name → index in `keys`.
    index: HashMap<String, usize, BuildHasherDefault<Fnv>>,
}

impl Section {
    fn new(name: String, comment: Vec<u8>, header_start: Option<usize>) -> Self {
        Section {
            name,
            comment,
            keys: Vec::new(),
            header_start,
            index: HashMap::default(),
        }
    }

    /// ini.v1 `NewKey`: a repeated name updates the first key in place.
    fn set(&mut self, key: Key) {
        match self.index.get(&key.name) {
            Some(&i) => {
                let existing = &mut self.keys[i];
                existing.value = key.value;
                existing.comment = key.comment;
                existing.value_span = key.value_span;
            }
            None => {
                self.index.insert(key.name.clone(), self.keys.len());
                self.keys.push(key);
            }
        }
    }
}

/// A key as ini.v1 holds it; a repeated name updates the first key in place.
pub(super) struct Key {
    pub name: String,
    pub value: Vec<u8>,
    pub comment: Vec<u8>,
    /// The value as written (quotes included), of the occurrence that set `value`.
    pub value_span: Range<usize>,
}

/// The parsed file: sections in order (DEFAULT first) and where the last non-blank line ends.
pub(super) struct File {
    pub sections: Vec<Section>,
    pub content_end: usize,
}

struct Reader<'a> {
    src: &'a [u8],
    pos: usize,
    eof: bool,
    /// ini.v1's pending comment buffer.
    comment: Vec<u8>,
}

impl<'a> Reader<'a> {
    /// Go `bufio.Reader.ReadBytes('\n')`: the next line with its newline; at the end, the rest.
    fn read_line(&mut self) -> &'a [u8] {
        let rest = &self.src[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                &rest[..=n]
            }
            None => {
                self.pos = self.src.len();
                self.eof = true;
                rest
            }
        }
    }
}

/// ini.v1 `File.parse`; errors carry ini.v1's text.
pub(super) fn parse(src: &[u8]) -> Result<File, String> {
    let bom = if src.starts_with(&[0xfe, 0xff]) || src.starts_with(&[0xff, 0xfe]) {
        2
    } else if src.starts_with(&[0xef, 0xbb, 0xbf]) {
        3
    } else {
        0
    };
    let mut r = Reader {
        src,
        pos: bom,
        eof: false,
        comment: Vec::new(),
    };
    let mut sections = vec![Section::new("DEFAULT".into(), Vec::new(), None)];
    let mut content_end = 0;
    let mut auto_count = 1;
    while !r.eof {
        let line_start = r.pos;
        let raw = r.read_line();
        let line = trim_left(raw);
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' || line[0] == b';' {
            r.comment.extend_from_slice(line);
            content_end = r.pos;
            continue;
        }
        if line[0] == b'[' {
            let Some(close) = line.iter().rposition(|&b| b == b']') else {
                return Err(format!("unclosed section: {}", lossy(line)));
            };
            let name = &line[1..close];
            if name.is_empty() {
                return Err("empty section name".into());
            }
            if let Some(i) = index_any(&line[close + 1..], b"#;") {
                r.comment.extend_from_slice(&line[close + 1 + i..]);
            }
            let comment = trim_space(&r.comment).to_vec();
            sections.push(Section::new(lossy(name), comment, Some(line_start)));
            r.comment.clear();
            auto_count = 1;
            content_end = r.pos;
            continue;
        }
        let (mut name, offset) = read_key_name(line)?;
        if name == "-" {
            name = format!("#{auto_count}");
            auto_count += 1;
        }
        let value_start = line_start + (raw.len() - line.len()) + offset;
        let (value, value_span) = read_value(&mut r, &line[offset..], value_start)?;
        if name.is_empty() {
            return Err("error creating new key: empty key name".into());
        }
        let comment = trim_space(&r.comment).to_vec();
        r.comment.clear();
        content_end = r.pos;
        let section = sections.last_mut().expect("DEFAULT is always there");
        let key = Key {
            name,
            value,
            comment,
            value_span,
        };
        section.set(key);
    }
    Ok(File {
        sections,
        content_end,
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// ini.v1 `readKeyName` with delimiters `=:`: the trimmed name and the offset after the
/// delimiter.
fn read_key_name(line: &[u8]) -> Result<(String, usize), String> {
    let quote: &[u8] = if line[0] == b'"' {
        if line.len() > 6 && line.starts_with(b"\"\"\"") {
            b"\"\"\""
        } else {
            b"\""
        }
    } else if line[0] == b'`' {
        b"`"
    } else {
        b""
    };
    if !quote.is_empty() {
        let start = quote.len();
        let Some(pos) = find(&line[start..], quote) else {
            return Err(format!("missing closing key quote: {}", lossy(line)));
        };
        let pos = pos + start;
        let Some(i) = index_any(&line[pos + start..], b"=:") else {
            return Err(format!("key-value delimiter not found: {}", lossy(line)));
        };
        let end = pos + i;
        return Ok((lossy(trim_space(&line[start..pos])), end + start + 1));
    }
    match index_any(line, b"=:") {
        None => Err(format!("key-value delimiter not found: {}", lossy(line))),
        Some(0) => Err(format!("empty key name: {}", lossy(line))),
        Some(end) => Ok((lossy(trim_space(&line[..end])), end + 1)),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// ini.v1 `readValue` (default options): the value and where its text is in the input.
/// `start` is the input offset of `input`.
fn read_value(
    r: &mut Reader,
    input: &[u8],
    start: usize,
) -> Result<(Vec<u8>, Range<usize>), String> {
    let line = trim_left(input);
    let start = start + (input.len() - line.len());
    let (value, end) = read_value_at(r, line, start)?;
    Ok((value, start..end))
}

/// `read_value` after the leading white space, which starts at offset `start`.
fn read_value_at(r: &mut Reader, line: &[u8], start: usize) -> Result<(Vec<u8>, usize), String> {
    if line.is_empty() {
        return Ok((Vec::new(), start));
    }
    let quote: &[u8] = if line.len() > 3 && line.starts_with(b"\"\"\"") {
        b"\"\"\""
    } else if line[0] == b'`' {
        b"`"
    } else {
        b""
    };
    if !quote.is_empty() {
        let q = quote.len();
        return match rfind(&line[q..], quote) {
            Some(pos) => Ok((line[q..q + pos].to_vec(), start + q + pos + q)),
            None => read_multilines(r, line, quote),
        };
    }
    let mut line = trim_space(line);
    if line.last() == Some(&b'\\') {
        return Ok(read_continuation(r, &line[..line.len() - 1]));
    }
    let mut end = start + line.len();
    if let Some(i) = index_any(line, b"#;") {
        r.comment.extend_from_slice(&line[i..]);
        line = trim_space(&line[..i]);
        end = start + line.len();
    }
    if surrounded(line, b'\'') || surrounded(line, b'"') {
        line = &line[1..line.len() - 1];
    }
    Ok((line.to_vec(), end))
}

/// ini.v1 `hasSurroundedQuote`.
fn surrounded(s: &[u8], q: u8) -> bool {
    s.len() >= 2
        && s[0] == q
        && s[s.len() - 1] == q
        && s[1..].iter().position(|&b| b == q) == Some(s.len() - 2)
}

/// ini.v1 `readMultilines`: a quoted value that continues until a line holding the quote.
fn read_multilines(r: &mut Reader, first: &[u8], quote: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut val = first[quote.len()..].to_vec();
    loop {
        let line_start = r.pos;
        let next = r.read_line();
        if let Some(pos) = rfind(next, quote) {
            val.extend_from_slice(&next[..pos]);
            if let Some(i) = index_any(&next[pos..], b"#;") {
                let c = trim_space(&next[pos + i..]);
                r.comment.extend_from_slice(c);
            }
            return Ok((val, line_start + pos + quote.len()));
        }
        val.extend_from_slice(next);
        if r.eof {
            return Err(format!(
                "missing closing key quote from {} to {}",
                go_quote(&lossy(first)),
                go_quote(&lossy(next))
            ));
        }
    }
}

/// ini.v1 `readContinuationLines`: lines joined while they end with a backslash.
fn read_continuation(r: &mut Reader, first: &[u8]) -> (Vec<u8>, usize) {
    let mut val = first.to_vec();
    let mut end = r.pos;
    loop {
        let next = trim_space(r.read_line());
        if next.is_empty() {
            break;
        }
        end = r.pos;
        val.extend_from_slice(next);
        if val.last() != Some(&b'\\') {
            break;
        }
        val.pop();
    }
    (val, end)
}
