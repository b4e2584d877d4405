//! Scalar tokens: plain, single- and double-quoted, literal and folded, with YAML line folding.

use super::chars::{at, is_blank, is_blankz, is_break, skip_plain_ascii};
use super::error::{Mark, YResult};
use super::scanner::{ScalarStyle, Scanner, Token, TokenKind};
use std::borrow::Cow;

/// Scalar text under construction; stays a borrowed slice of the input while every piece
/// appended is the next stretch of input, which is the common case.
pub(super) struct Text<'a> {
    src: &'a str,
    start: usize,
    end: usize,
    owned: Option<String>,
}

impl<'a> Text<'a> {
    pub fn new(src: &'a str) -> Self {
        Text {
            src,
            start: 0,
            end: 0,
            owned: None,
        }
    }

    /// Appends `src[from..to]`.
    pub fn push_src(&mut self, from: usize, to: usize) {
        if from == to {
            return;
        }
        match &mut self.owned {
            Some(s) => s.push_str(&self.src[from..to]),
            None if self.start == self.end => {
                self.start = from;
                self.end = to;
            }
            None if from == self.end => self.end = to,
            None => {
                let mut s = String::with_capacity(self.end - self.start + to - from + 16);
                s.push_str(&self.src[self.start..self.end]);
                s.push_str(&self.src[from..to]);
                self.owned = Some(s);
            }
        }
    }

    pub fn push_str(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let s = self
            .owned
            .get_or_insert_with(|| self.src[self.start..self.end].to_string());
        s.push_str(t);
    }

    pub fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    pub fn finish(self) -> Cow<'a, str> {
        match self.owned {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(&self.src[self.start..self.end]),
        }
    }
}

/// Bytes at which a run of plain scalar text may end (checked in detail by `plain_run_end`).
const PLAIN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let stops = b"\0 \t\r\n:,?[]{}";
    let mut k = 0;
    while k < stops.len() {
        t[stops[k] as usize] = true;
        k += 1;
    }
    t[0xC2] = true;
    t[0xE2] = true;
    t
};

/// `PLAIN_STOP` without the flow indicators, for block context.
const PLAIN_STOP_BLOCK: [bool; 256] = {
    let mut t = PLAIN_STOP;
    let flow = b",?[]{}";
    let mut k = 0;
    while k < flow.len() {
        t[flow[k] as usize] = false;
        k += 1;
    }
    t
};

/// Folds the line breaks between two pieces of a flow or plain scalar: a single line break
/// becomes a space, further ones are kept.
fn fold(text: &mut Text<'_>, leading_break: &mut String, trailing_breaks: &mut String) {
    if leading_break.starts_with('\n') {
        if trailing_breaks.is_empty() {
            text.push_str(" ");
        } else {
            text.push_str(trailing_breaks);
        }
    } else {
        text.push_str(leading_break);
        text.push_str(trailing_breaks);
    }
    leading_break.clear();
    trailing_breaks.clear();
}

impl<'a> Scanner<'a> {
    pub(super) fn scalar_token(
        &self,
        start: Mark,
        end: Mark,
        value: Cow<'a, str>,
        style: ScalarStyle,
    ) -> Token<'a> {
        let mut t = Token::new(TokenKind::Scalar, start, end);
        t.value = value;
        t.style = style;
        t
    }

    /// Scratch buffers for line breaks, reused to spare an allocation per scalar.
    fn take_break_buffers(&mut self) -> (String, String) {
        let mut a = std::mem::take(&mut self.break_buffers.0);
        let mut b = std::mem::take(&mut self.break_buffers.1);
        a.clear();
        b.clear();
        (a, b)
    }

    fn return_break_buffers(&mut self, a: String, b: String) {
        self.break_buffers = (a, b);
    }

    /// `---` or `...` followed by a blank at the start of a line.
    fn at_document_indicator(&self) -> bool {
        if self.column != 0 {
            return false;
        }
        let three = &self.src[self.pos..(self.pos + 3).min(self.src.len())];
        (three == b"---" || three == b"...") && is_blankz(self.src, self.pos + 3)
    }

    /// End of the run of ordinary characters of a plain scalar starting at the cursor, and
    /// whether the run is all ASCII.
    fn plain_run_end(&self) -> (usize, bool) {
        let b = self.src;
        let flow = self.flow_level > 0;
        let mut ascii = true;
        let stop = if flow { &PLAIN_STOP } else { &PLAIN_STOP_BLOCK };
        let mut i = self.pos;
        loop {
            if !flow {
                i = skip_plain_ascii(b, i, b':', b':');
            }
            while i < b.len() && !stop[b[i] as usize] {
                ascii &= b[i] < 0x80;
                i += 1;
            }
            match at(b, i) {
                0 | b' ' | b'\t' | b'\r' | b'\n' => return (i, ascii),
                b':' if is_blankz(b, i + 1) => return (i, ascii),
                b',' | b'?' | b'[' | b']' | b'{' | b'}' if flow => return (i, ascii),
                0xC2 | 0xE2 if is_break(b, i) => return (i, ascii),
                c => {
                    ascii &= c < 0x80;
                    i += 1;
                }
            }
        }
    }

    pub fn scan_plain_scalar(&mut self) -> YResult<Token<'a>> {
        let mut text = Text::new(self.text);
        let (mut leading_break, mut trailing_breaks) = self.take_break_buffers();
        let mut spaces: Option<(usize, usize)> = None;
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start = self.mark();
        let mut end = start;

        loop {
            if self.at_document_indicator() || self.ch(0) == b'#' {
                break;
            }
            while !is_blankz(self.src, self.pos) {
                let c = self.ch(0);
                if (c == b':' && is_blankz(self.src, self.pos + 1))
                    || (self.flow_level > 0 && matches!(c, b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                if leading_blanks {
                    fold(&mut text, &mut leading_break, &mut trailing_breaks);
                    leading_blanks = false;
                } else if let Some((from, to)) = spaces.take() {
                    text.push_src(from, to);
                }
                let (run_end, ascii) = self.plain_run_end();
                // The run ends before an indicator, so copy at least one character.
                let run_end = self.char_boundary(run_end.max(self.pos + 1));
                text.push_src(self.pos, run_end);
                if ascii && run_end > self.pos + 1 {
                    self.newlines = 0;
                    self.column += run_end - self.pos;
                    self.pos = run_end;
                } else {
                    self.advance_content(run_end);
                }
                end = self.mark();
            }
            if !(is_blank(self.src, self.pos) || is_break(self.src, self.pos)) {
                break;
            }
            while is_blank(self.src, self.pos) || is_break(self.src, self.pos) {
                if leading_blanks && self.ch(0) == b' ' {
                    // Indentation after a line break: nothing to keep.
                    let n = self.src[self.pos..]
                        .iter()
                        .take_while(|&&c| c == b' ')
                        .count();
                    self.pos += n;
                    self.column += n;
                    continue;
                }
                if is_blank(self.src, self.pos) {
                    if leading_blanks && (self.column as isize) < indent && self.ch(0) == b'\t' {
                        return Err(
                            self.error(start, "found a tab character that violates indentation")
                        );
                    }
                    if !leading_blanks {
                        let from = spaces.map_or(self.pos, |(f, _)| f);
                        spaces = Some((from, self.pos + 1));
                    }
                    self.skip();
                } else if !leading_blanks {
                    spaces = None;
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if self.flow_level == 0 && (self.column as isize) < indent {
                break;
            }
        }

        if leading_blanks {
            self.simple_key_allowed = true;
        }
        self.return_break_buffers(leading_break, trailing_breaks);
        Ok(self.scalar_token(start, end, text.finish(), ScalarStyle::Plain))
    }

    /// Rounds a byte offset up to the next character boundary.
    fn char_boundary(&self, mut i: usize) -> usize {
        while i < self.src.len() && !self.text.is_char_boundary(i) {
            i += 1;
        }
        i
    }

    #[inline(never)]
    pub fn scan_flow_scalar(&mut self, single: bool) -> YResult<Token<'a>> {
        let start = self.mark();
        self.skip();
        let mut text = Text::new(self.text);
        let (mut leading_break, mut trailing_breaks) = self.take_break_buffers();
        let mut spaces: Option<(usize, usize)> = None;
        let quote = if single { b'\'' } else { b'"' };

        loop {
            if self.at_document_indicator() {
                return Err(self.error(start, "found unexpected document indicator"));
            }
            if self.ch(0) == 0 {
                return Err(self.error(start, "found unexpected end of stream"));
            }
            let mut leading_blanks = false;
            while !is_blankz(self.src, self.pos) {
                let c = self.ch(0);
                if single && c == b'\'' && self.ch(1) == b'\'' {
                    text.push_str("'");
                    self.skip();
                    self.skip();
                } else if c == quote {
                    break;
                } else if !single && c == b'\\' && is_break(self.src, self.pos + 1) {
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == b'\\' {
                    self.scan_escape(&mut text, start)?;
                } else {
                    let mut i = self.pos + 1;
                    while !is_blankz(self.src, i)
                        && !matches!(at(self.src, i), b'\'' | b'"' | b'\\')
                    {
                        i += 1;
                    }
                    let i = self.char_boundary(i);
                    text.push_src(self.pos, i);
                    self.advance_to(i);
                }
            }
            if self.ch(0) == quote {
                break;
            }
            while is_blank(self.src, self.pos) || is_break(self.src, self.pos) {
                if is_blank(self.src, self.pos) {
                    if !leading_blanks {
                        let from = spaces.map_or(self.pos, |(f, _)| f);
                        spaces = Some((from, self.pos + 1));
                    }
                    self.skip();
                } else if !leading_blanks {
                    spaces = None;
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if leading_blanks {
                fold(&mut text, &mut leading_break, &mut trailing_breaks);
            } else if let Some((from, to)) = spaces.take() {
                text.push_src(from, to);
            }
        }
        self.skip();
        self.return_break_buffers(leading_break, trailing_breaks);
        let style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        Ok(self.scalar_token(start, self.mark(), text.finish(), style))
    }

    /// One backslash escape of a double-quoted scalar.
    #[inline(never)]
    fn scan_escape(&mut self, text: &mut Text<'a>, start: Mark) -> YResult<()> {
        let simple = match self.ch(1) {
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\x0B'),
            b'f' => Some('\x0C'),
            b'r' => Some('\r'),
            b'e' => Some('\x1B'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'\'' => Some('\''),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{A0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            b'x' | b'u' | b'U' => None,
            _ => return Err(self.error(start, "found unknown escape character")),
        };
        let len = match self.ch(1) {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => 0,
        };
        self.skip();
        self.skip();
        if let Some(c) = simple {
            text.push_char(c);
            return Ok(());
        }
        let mut value: u32 = 0;
        for k in 0..len {
            let d = (self.ch(k) as char).to_digit(16);
            match d {
                Some(d) => value = (value << 4) | d,
                None => return Err(self.error(start, "did not find expected hexdecimal number")),
            }
        }
        let c = char::from_u32(value)
            .ok_or_else(|| self.error(start, "found invalid Unicode character escape code"))?;
        text.push_char(c);
        self.advance_to(self.pos + len);
        Ok(())
    }
}
