//! INI writer: ini.v1's `File.WriteTo` with its defaults (`PrettyFormat` alignment, a blank line
//! between sections, no DEFAULT header), fed the way sops's `encodeTree` feeds it.

use super::text::trim_space;

/// A section ready to be written.
pub(super) struct Section {
    pub name: String,
    pub comment: Vec<u8>,
    pub keys: Vec<Key>,
}

/// A key ready to be written.
pub(super) struct Key {
    pub name: String,
    pub value: Vec<u8>,
    pub comment: Vec<u8>,
}

impl Section {
    pub fn new(name: String) -> Self {
        Section {
            name,
            comment: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// ini.v1 `Section.NewKey`: a repeated name updates the first key in place. Returns the
    /// index of the key, which later comments attach to.
    pub fn set(&mut self, name: &str, value: Vec<u8>) -> Result<usize, String> {
        if name.is_empty() {
            return Err("error creating new key: empty key name".into());
        }
        if let Some(i) = self.keys.iter().position(|k| k.name == name) {
            self.keys[i].value = value;
            return Ok(i);
        }
        self.keys.push(Key {
            name: name.to_string(),
            value,
            comment: Vec::new(),
        });
        Ok(self.keys.len() - 1)
    }
}

/// How a key name is written: backquoted when it holds `"`, `=` or `:`; in `"""` when it holds
/// a backquote.
fn quoted_key(name: &str) -> String {
    if name.contains(['"', '=', ':']) {
        format!("`{name}`")
    } else if name.contains('`') {
        format!("\"\"\"{name}\"\"\"")
    } else {
        name.to_string()
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
pub(super) fn write(sections: &[Section], out: &mut Vec<u8>) -> Vec<usize> {
    let mut starts = Vec::with_capacity(sections.len());
    let last = sections.len().saturating_sub(1);
    for (i, sec) in sections.iter().enumerate() {
        starts.push(out.len());
        if !sec.comment.is_empty() {
            write_comment(out, &sec.comment, false);
        }
        if i > 0 || !sec.name.eq_ignore_ascii_case("DEFAULT") {
            out.push(b'[');
            out.extend_from_slice(sec.name.as_bytes());
            out.extend_from_slice(b"]\n");
        } else if sec.keys.is_empty() {
            // An empty leading DEFAULT section leaves no trace (not even the blank line).
            continue;
        }
        let names: Vec<String> = sec.keys.iter().map(|k| quoted_key(&k.name)).collect();
        let align = names.iter().map(String::len).max().unwrap_or(0);
        for (key, name) in sec.keys.iter().zip(&names) {
            if !key.comment.is_empty() {
                write_comment(out, &key.comment, true);
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
