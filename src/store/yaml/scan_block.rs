//! Block scalar tokens (`|` literal and `>` folded), with chomping and indentation
//! indicators and go-yaml's indentation detection.

use super::chars::{is_blank, is_break, is_breakz};
use super::error::{Mark, YResult};
use super::scanner::{ScalarStyle, Scanner, Token};
use std::borrow::Cow;

impl<'a> Scanner<'a> {
    #[inline(never)]
    pub fn scan_block_scalar(&mut self, literal: bool) -> YResult<Token<'a>> {
        let start = self.mark();
        self.skip();
        let mut chomping = 0i8;
        let mut increment = 0isize;
        let chomp_of = |c: u8| if c == b'+' { 1 } else { -1 };
        if matches!(self.ch(0), b'+' | b'-') {
            chomping = chomp_of(self.ch(0));
            self.skip();
            if self.ch(0).is_ascii_digit() {
                if self.ch(0) == b'0' {
                    return Err(self.error(start, "found an indentation indicator equal to 0"));
                }
                increment = (self.ch(0) - b'0') as isize;
                self.skip();
            }
        } else if self.ch(0).is_ascii_digit() {
            if self.ch(0) == b'0' {
                return Err(self.error(start, "found an indentation indicator equal to 0"));
            }
            increment = (self.ch(0) - b'0') as isize;
            self.skip();
            if matches!(self.ch(0), b'+' | b'-') {
                chomping = chomp_of(self.ch(0));
                self.skip();
            }
        }
        while is_blank(self.src, self.pos) {
            self.skip();
        }
        if self.ch(0) == b'#' {
            self.scan_line_comment(start)?;
            while !is_breakz(self.src, self.pos) {
                self.skip();
            }
        }
        if !is_breakz(self.src, self.pos) {
            return Err(self.error(start, "did not find expected comment or line break"));
        }
        self.skip_line();
        let mut end = self.mark();

        let mut indent: isize = 0;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent + increment
            } else {
                increment
            };
        }
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        self.block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;

        let mut leading_blank = false;
        while self.column as isize == indent && self.ch(0) != 0 {
            let trailing_blank = is_blank(self.src, self.pos);
            if !literal && !leading_blank && !trailing_blank && leading_break.starts_with('\n') {
                if trailing_breaks.is_empty() {
                    s.push(' ');
                }
            } else {
                s.push_str(&leading_break);
            }
            leading_break.clear();
            s.push_str(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = is_blank(self.src, self.pos);
            let mut e = self.pos;
            while !is_breakz(self.src, e) {
                e += 1;
            }
            s.push_str(&self.text[self.pos..e]);
            self.advance_to(e);
            self.read_line(&mut leading_break);
            self.block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            s.push_str(&leading_break);
        }
        if chomping == 1 {
            s.push_str(&trailing_breaks);
        }
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        Ok(self.scalar_token(start, end, Cow::Owned(s), style))
    }

    /// Indentation and empty lines of a block scalar; fixes the indentation if it is still
    /// unknown.
    pub(super) fn block_scalar_breaks(
        &mut self,
        indent: &mut isize,
        breaks: &mut String,
        start: Mark,
        end: &mut Mark,
    ) -> YResult<()> {
        *end = self.mark();
        let mut max_indent = 0isize;
        loop {
            while (*indent == 0 || (self.column as isize) < *indent) && self.ch(0) == b' ' {
                self.skip();
            }
            max_indent = max_indent.max(self.column as isize);
            if (*indent == 0 || (self.column as isize) < *indent) && self.ch(0) == b'\t' {
                return Err(self.error(
                    start,
                    "found a tab character where an indentation space is expected",
                ));
            }
            if !is_break(self.src, self.pos) {
                break;
            }
            self.read_line(breaks);
            *end = self.mark();
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent + 1).max(1);
        }
        Ok(())
    }
}
