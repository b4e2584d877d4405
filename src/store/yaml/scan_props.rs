//! Node properties and directives: anchors, aliases, tags, `%YAML` and `%TAG`.

use super::chars::{at, is_alpha, is_blank, is_blankz, is_break, is_breakz};
use super::error::{Mark, YResult};
use super::scanner::{Scanner, Token, TokenKind};
use std::borrow::Cow;

/// Characters allowed in a tag URI besides alphanumerics, `_` and `-`.
const URI_CHARS: &[u8] = b";/?:@&=+$,.!~*'()[]%";

impl<'a> Scanner<'a> {
    #[inline(never)]
    pub fn scan_anchor(&mut self, kind: TokenKind) -> YResult<Token<'a>> {
        let start = self.mark();
        self.skip();
        let from = self.pos;
        let mut i = from;
        while is_alpha(at(self.src, i)) {
            i += 1;
        }
        self.advance_to(i);
        let end = self.mark();
        let next = self.ch(0);
        if i == from
            || !(is_blankz(self.src, self.pos)
                || matches!(next, b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`'))
        {
            return Err(self.error(
                start,
                "did not find expected alphabetic or numeric character",
            ));
        }
        let mut t = Token::new(kind, start, end);
        t.value = Cow::Borrowed(&self.text[from..i]);
        Ok(t)
    }

    #[inline(never)]
    pub fn scan_tag(&mut self) -> YResult<Token<'a>> {
        let start = self.mark();
        let (handle, suffix);
        if self.ch(1) == b'<' {
            // Verbatim tag `!<uri>`: empty handle.
            self.skip();
            self.skip();
            suffix = self.scan_tag_uri("", start)?;
            if self.ch(0) != b'>' {
                return Err(self.error(start, "did not find the expected '>'"));
            }
            self.skip();
            handle = String::new();
        } else {
            let h = self.scan_tag_handle(false, start)?;
            if h.len() > 1 && h.starts_with('!') && h.ends_with('!') {
                handle = h;
                suffix = self.scan_tag_uri("", start)?;
            } else {
                // Not a handle after all: `!suffix`, or the non-specific tag `!`.
                let s = self.scan_tag_uri(&h, start)?;
                if s.is_empty() {
                    handle = String::new();
                    suffix = "!".to_string();
                } else {
                    handle = "!".to_string();
                    suffix = s;
                }
            }
        }
        if !is_blankz(self.src, self.pos) {
            return Err(self.error(start, "did not find expected whitespace or line break"));
        }
        let mut t = Token::new(TokenKind::Tag, start, self.mark());
        t.value = Cow::Owned(handle);
        t.suffix = Cow::Owned(suffix);
        Ok(t)
    }

    /// `!`, `!!` or `!name!`; for a tag token also a bare `!word` prefix.
    fn scan_tag_handle(&mut self, directive: bool, start: Mark) -> YResult<String> {
        if self.ch(0) != b'!' {
            return Err(self.error(start, "did not find expected '!'"));
        }
        let from = self.pos;
        let mut i = from + 1;
        while is_alpha(at(self.src, i)) {
            i += 1;
        }
        if at(self.src, i) == b'!' {
            i += 1;
        } else if directive && i - from != 1 {
            self.advance_to(i);
            return Err(self.error(start, "did not find expected '!'"));
        }
        self.advance_to(i);
        Ok(self.text[from..i].to_string())
    }

    /// A tag URI, `%`-escapes decoded. `head` is a handle-like prefix already read (its `!`
    /// is dropped).
    fn scan_tag_uri(&mut self, head: &str, start: Mark) -> YResult<String> {
        let mut s = String::new();
        if head.len() > 1 {
            s.push_str(&head[1..]);
        }
        let mut has_tag = !head.is_empty();
        loop {
            let c = self.ch(0);
            if !(is_alpha(c) || URI_CHARS.contains(&c)) {
                break;
            }
            if c == b'%' {
                self.scan_uri_escapes(&mut s, start)?;
            } else {
                s.push(c as char);
                self.skip();
            }
            has_tag = true;
        }
        if !has_tag {
            return Err(self.error(start, "did not find expected tag URI"));
        }
        Ok(s)
    }

    /// One UTF-8 character written as `%XX` escapes.
    fn scan_uri_escapes(&mut self, s: &mut String, start: Mark) -> YResult<()> {
        let mut bytes = Vec::new();
        let mut want = 0usize;
        loop {
            let hex = |c: u8| (c as char).to_digit(16);
            let (Some(h), Some(l)) = (hex(self.ch(1)), hex(self.ch(2))) else {
                return Err(self.error(start, "did not find URI escaped octet"));
            };
            if self.ch(0) != b'%' {
                return Err(self.error(start, "did not find URI escaped octet"));
            }
            let octet = (h * 16 + l) as u8;
            if bytes.is_empty() {
                want = match octet {
                    0x00..=0x7F => 1,
                    0xC0..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF7 => 4,
                    _ => return Err(self.error(start, "found an incorrect leading UTF-8 octet")),
                };
            } else if octet & 0xC0 != 0x80 {
                return Err(self.error(start, "found an incorrect trailing UTF-8 octet"));
            }
            bytes.push(octet);
            self.advance_to(self.pos + 3);
            if bytes.len() == want {
                break;
            }
        }
        match String::from_utf8(bytes) {
            Ok(t) => s.push_str(&t),
            Err(_) => return Err(self.error(start, "found an incorrect leading UTF-8 octet")),
        }
        Ok(())
    }

    #[inline(never)]
    pub fn scan_directive(&mut self) -> YResult<Token<'a>> {
        let start = self.mark();
        self.skip();
        let from = self.pos;
        let mut i = from;
        while is_alpha(at(self.src, i)) {
            i += 1;
        }
        self.advance_to(i);
        if i == from {
            return Err(self.error(start, "could not find expected directive name"));
        }
        if !is_blankz(self.src, self.pos) {
            return Err(self.error(start, "found unexpected non-alphabetical character"));
        }
        let name = &self.text[from..i];
        let token = match name {
            "YAML" => {
                self.skip_blanks();
                let major = self.scan_version_number(start)?;
                if self.ch(0) != b'.' {
                    return Err(self.error(start, "did not find expected digit or '.' character"));
                }
                self.skip();
                let minor = self.scan_version_number(start)?;
                let mut t = Token::new(TokenKind::VersionDirective, start, self.mark());
                t.version = (major, minor);
                t
            }
            "TAG" => {
                self.skip_blanks();
                let handle = self.scan_tag_handle(true, start)?;
                if !is_blank(self.src, self.pos) {
                    return Err(self.error(start, "did not find expected whitespace"));
                }
                self.skip_blanks();
                let prefix = self.scan_tag_uri("", start)?;
                if !is_blankz(self.src, self.pos) {
                    return Err(self.error(start, "did not find expected whitespace or line break"));
                }
                let mut t = Token::new(TokenKind::TagDirective, start, self.mark());
                t.value = Cow::Owned(handle);
                t.suffix = Cow::Owned(prefix);
                t
            }
            _ => return Err(self.error(start, "found unknown directive name")),
        };
        self.skip_blanks();
        if self.ch(0) == b'#' {
            // go-yaml discards comments on directive lines.
            while !is_breakz(self.src, self.pos) {
                self.skip();
            }
        }
        if !is_breakz(self.src, self.pos) {
            return Err(self.error(start, "did not find expected comment or line break"));
        }
        if is_break(self.src, self.pos) {
            self.skip_line();
        }
        Ok(token)
    }

    fn skip_blanks(&mut self) {
        while is_blank(self.src, self.pos) {
            self.skip();
        }
    }

    fn scan_version_number(&mut self, start: Mark) -> YResult<u32> {
        let mut value = 0u32;
        let mut len = 0;
        while self.ch(0).is_ascii_digit() {
            len += 1;
            if len > 9 {
                return Err(self.error(start, "found extremely long version number"));
            }
            value = value * 10 + u32::from(self.ch(0) - b'0');
            self.skip();
        }
        if len == 0 {
            return Err(self.error(start, "did not find expected version number"));
        }
        Ok(value)
    }
}
