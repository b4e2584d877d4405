//! The four scalar writers of go-yaml's emitter (plain, single-quoted, double-quoted,
//! literal).

use super::chars::{at, is_break, is_printable, width};
use super::emitter::Emitter;
use super::scalar_style::code_point;

impl Emitter<'_> {
    /// Copies one character.
    fn write_char(&mut self, v: &[u8], i: &mut usize) {
        let w = width(v[*i]).min(v.len() - *i);
        self.out.extend_from_slice(&v[*i..*i + w]);
        self.column += 1;
        *i += w;
    }

    /// Copies one line break character (LF is normalized by `put_break`).
    pub(super) fn write_break(&mut self, v: &[u8], i: &mut usize) {
        if v[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write_char(v, i);
            self.column = 0;
            self.line += 1;
            self.indention = true;
        }
    }

    pub(super) fn write_plain(&mut self, value: &str) {
        let v = value.as_bytes();
        if !v.is_empty() && !self.whitespace {
            self.put(b' ');
        }
        // The analysis keeps line breaks out of plain scalars and sops sets no line width, so
        // go-yaml's folding never applies: the text is copied as is.
        self.out.extend_from_slice(v);
        self.column += if self.scalar_ascii() {
            v.len()
        } else {
            super::chars::char_count(v)
        };
        if !v.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    pub(super) fn write_single_quoted(&mut self, value: &str) {
        let v = value.as_bytes();
        self.write_indicator(b"'", true, false, false);
        let mut breaks = false;
        let mut i = 0;
        while i < v.len() {
            if v[i] == b' ' {
                self.write_char(v, &mut i);
            } else if is_break(v, i) {
                if !breaks && v[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if v[i] == b'\'' {
                    self.put(b'\'');
                }
                self.write_char(v, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    pub(super) fn write_double_quoted(&mut self, value: &str) {
        let v = value.as_bytes();
        self.write_indicator(b"\"", true, false, false);
        // sops compat: go-yaml checks for a BOM at the start of the value, not at the current
        // character, so a leading BOM escapes every character.
        let bom = v.starts_with(&[0xEF, 0xBB, 0xBF]);
        let mut i = 0;
        while i < v.len() {
            let c = v[i];
            if !is_printable(v, i) || bom || is_break(v, i) || c == b'"' || c == b'\\' {
                let cp = code_point(v, i);
                i += width(c).min(v.len() - i);
                self.put(b'\\');
                let simple = match cp {
                    0x00 => Some(b'0'),
                    0x07 => Some(b'a'),
                    0x08 => Some(b'b'),
                    0x09 => Some(b't'),
                    0x0A => Some(b'n'),
                    0x0B => Some(b'v'),
                    0x0C => Some(b'f'),
                    0x0D => Some(b'r'),
                    0x1B => Some(b'e'),
                    0x22 => Some(b'"'),
                    0x5C => Some(b'\\'),
                    0x85 => Some(b'N'),
                    0xA0 => Some(b'_'),
                    0x2028 => Some(b'L'),
                    0x2029 => Some(b'P'),
                    _ => None,
                };
                match simple {
                    Some(e) => self.put(e),
                    None => {
                        let (tag, digits) = if cp <= 0xFF {
                            (b'x', 2)
                        } else if cp <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(tag);
                        for k in (0..digits).rev() {
                            let d = ((cp >> (4 * k)) & 0xF) as u8;
                            self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                        }
                    }
                }
            } else {
                let start = i;
                while i < v.len()
                    && is_printable(v, i)
                    && !is_break(v, i)
                    && v[i] != b'"'
                    && v[i] != b'\\'
                {
                    i += width(v[i]);
                }
                let end = i.min(v.len());
                self.out.extend_from_slice(&v[start..end]);
                self.column += super::chars::char_count(&v[start..end]);
                i = end;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, v: &[u8]) {
        if at(v, 0) == b' ' || is_break(v, 0) {
            let digit = [b'0' + self.best_indent as u8];
            self.write_indicator(&digit, false, false, false);
        }
        self.open_ended = false;
        let chomp = if v.is_empty() {
            Some(b'-')
        } else {
            let mut i = v.len() - 1;
            while i > 0 && v[i] & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(v, i) {
                Some(b'-')
            } else if i == 0 {
                self.open_ended = true;
                Some(b'+')
            } else {
                i -= 1;
                while i > 0 && v[i] & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(v, i) {
                    self.open_ended = true;
                    Some(b'+')
                } else {
                    None
                }
            }
        };
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }

    pub(super) fn write_literal(&mut self, value: &str) {
        let v = value.as_bytes();
        self.write_indicator(b"|", true, false, false);
        self.write_block_scalar_hints(v);
        self.process_line_comment(true);
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < v.len() {
            if is_break(v, i) {
                self.write_break(v, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(v, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// Comment lines: each line is written as is, `# ` is added to lines without a `#`.
    pub(super) fn write_comment(&mut self, comment: &str) {
        let v = comment.as_bytes();
        let mut breaks = false;
        let mut pound = false;
        let mut i = 0;
        while i < v.len() {
            if is_break(v, i) {
                self.write_break(v, &mut i);
                breaks = true;
                pound = false;
            } else {
                if breaks {
                    self.write_indent();
                }
                if !pound {
                    if v[i] != b'#' {
                        self.put(b'#');
                        self.put(b' ');
                    }
                    pound = true;
                }
                self.write_char(v, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }
}
