//! INI writer: ini.v1's `File.WriteTo` with its defaults (`PrettyFormat` alignment, a blank line
//! between sections, no DEFAULT header), fed the way sops's `encodeTree` feeds it.

use super::text::trim_space;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A section ready to be written, borrowing from the tree where it can.
pub(super) struct Section<'a> {
    pub name: &'a str,
    pub comment: &'a [u8],
    pub keys: Vec<Key<'a>>,
    /// Key name → index in `keys`.
    index: HashMap<&'a str, usize, BuildHasherDefault<Fnv>>,
}

/// A key ready to be written.
pub(super) struct Key<'a> {
    pub name: &'a str,
    pub value: Cow<'a, [u8]>,
    pub comment: &'a [u8],
}

impl<'a> Section<'a> {
    pub fn new(name: &'a str) -> Self {
        Section {
            name,
            comment: b"",
            keys: Vec::new(),
            index: HashMap::default(),
        }
    }

    /// ini.v1 `Section.NewKey`: a repeated name updates the first key in place. Returns the
    /// index of the key, which later comments attach to.
    pub fn set(&mut self, name: &'a str, value: Cow<'a, [u8]>) -> Result<usize, String> {
        if name.is_empty() {
            return Err("error creating new key: empty key name".into());
        }
        if let Some(&i) = self.index.get(name) {
            self.keys[i].value = value;
            return Ok(i);
        }
        self.index.insert(name, self.keys.len());
        self.keys.push(Key {
            name,
            value,
            comment: b"",
        });
        Ok(self.keys.len() - 1)
    }
}

/// FNV-1a: key names are short, and a local file is no hash-flooding threat.
#[derive(Default)]
pub(super) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        self.0 = h;
    }
}

/// How a key name is written: backquoted when it holds `"`, `=` or `:`; in `"""` when it holds
/// a backquote.
fn quoted_key(name: &str) -> Cow<'_, str> {
    if name.contains(['"', '=', ':']) {
        Cow::Owned(format!("`{name}`"))
    } else if name.contains('`') {
        Cow::Owned(format!("\"\"\"{name}\"\"\""))
    } else {
        Cow::Borrowed(name)
    }
}

/// Comment lines: each gets a `; ` marker unless it already starts with `#` or `;`.
fn write_comment(out: &mut Vec<u8>, comment: &[u8], trim_plain: bool) {
    for line in comment.split(|&b| b == b'\n') {
        match line.first() {
            Some(&m @ (b'#' | b';')) => {
                out.extend_from_slice(&[m, b' ']);
                out.extend_from_slice(trim_space(&line[1..]));
            }
            // sops compat: ini.v1 indexes line[0] and panics on an empty line; write a bare
            // marker instead.
            _ => {
                out.extend_from_slice(b"; ");
                out.extend_from_slice(if trim_plain { trim_space(line) } else { line });
            }
        }
        out.push(b'\n');
    }
}

/// Writes the sections to `out`; returns where each section's text (comment or header) starts.
pub(super) fn write(sections: &[Section<'_>], out: &mut Vec<u8>) -> Vec<usize> {
    let mut starts = Vec::with_capacity(sections.len());
    let last = sections.len().saturating_sub(1);
    for (i, sec) in sections.iter().enumerate() {
        starts.push(out.len());
        if !sec.comment.is_empty() {
            write_comment(out, sec.comment, false);
        }
        if i > 0 || !sec.name.eq_ignore_ascii_case("DEFAULT") {
            out.push(b'[');
            out.extend_from_slice(sec.name.as_bytes());
            out.extend_from_slice(b"]\n");
        } else if sec.keys.is_empty() {
            // An empty leading DEFAULT section leaves no trace (not even the blank line).
            continue;
        }
        let names: Vec<Cow<str>> = sec.keys.iter().map(|k| quoted_key(k.name)).collect();
        let align = names.iter().map(|n| n.len()).max().unwrap_or(0);
        for (key, name) in sec.keys.iter().zip(&names) {
            if !key.comment.is_empty() {
                write_comment(out, key.comment, true);
            }
            out.extend_from_slice(name.as_bytes());
            out.resize(out.len() + align - name.len(), b' ');
            out.extend_from_slice(b" = ");
            let v = &key.value;
            if v.iter().any(|&b| b == b'\n' || b == b'`') {
                out.extend_from_slice(b"\"\"\"");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\"\"\"");
            } else if v.iter().any(|&b| b == b'#' || b == b';') {
                out.push(b'`');
                out.extend_from_slice(v);
                out.push(b'`');
            } else if trim_space(v).len() != v.len() {
                out.push(b'"');
                out.extend_from_slice(v);
                out.push(b'"');
            } else {
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        }
        if i != last {
            out.push(b'\n');
        }
    }
    starts
}
