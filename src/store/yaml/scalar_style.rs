//! Which scalar styles a text allows, as go-yaml's emitter decides it before writing.

use super::chars::{at, is_break, is_printable, skip_plain_ascii, width};

/// What a scalar's text allows, as go-yaml's `yaml_emitter_analyze_scalar` computes it. Flow
/// context is left out: scalars are only ever written in block context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Analysis {
    pub multiline: bool,
    /// Only ASCII characters (so the byte length is the character count).
    pub ascii: bool,
    pub block_plain_allowed: bool,
    pub single_quoted_allowed: bool,
    pub block_allowed: bool,
}

/// Scalar styles the emitter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Bytes that never affect the analysis: printable ASCII other than space, `:` and `#`.
const ORDINARY: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7F {
        t[b] = b != b':' as usize && b != b'#' as usize;
        b += 1;
    }
    t
};

/// Whether the character ending just before `i` is a blank or a line break.
fn preceded_by_blank_or_break(v: &[u8], i: usize) -> bool {
    matches!(v[i - 1], b' ' | b'\t' | b'\r' | b'\n')
        || (i >= 2 && v[i - 2] == 0xC2 && v[i - 1] == 0x85)
        || (i >= 3 && v[i - 3] == 0xE2 && v[i - 2] == 0x80 && matches!(v[i - 1], 0xA8 | 0xA9))
}

/// go-yaml's `yaml_emitter_analyze_scalar`, restricted to what block context needs.
pub(super) fn analyze(value: &str) -> Analysis {
    let v = value.as_bytes();
    let n = v.len();
    if n == 0 {
        return Analysis {
            multiline: false,
            ascii: true,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let followed_by_blank = |i: usize| i >= n || v[i] == b' ' || v[i] == b'\t';
    let mut block_indicators = v.starts_with(b"---") || v.starts_with(b"...");
    match v[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
        b'?' | b':' | b'-' if followed_by_blank(1) => block_indicators = true,
        _ => {}
    }
    let mut line_breaks = false;
    let mut special = false;
    let mut tabs = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    let mut ascii = true;

    let mut i = 0;
    while i < n {
        let c = v[i];
        if ORDINARY[c as usize] {
            i = skip_plain_ascii(v, i + 1, b':', b'#');
            while i < n && ORDINARY[v[i] as usize] {
                i += 1;
            }
            previous_space = false;
            previous_break = false;
            continue;
        }
        let w = width(c).min(n - i);
        ascii &= c < 0x80;
        let is_brk = is_break(v, i);
        match c {
            b':' if i > 0 && followed_by_blank(i + 1) => block_indicators = true,
            b'#' if i > 0 && preceded_by_blank_or_break(v, i) => block_indicators = true,
            b'\t' => tabs = true,
            _ => {}
        }
        if c != b'\t' && !is_printable(v, i) {
            special = true;
        }
        if c == b' ' {
            leading_space |= i == 0;
            trailing_space |= i + w == n;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_brk {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + w == n;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        i += w;
    }

    let mut a = Analysis {
        multiline: line_breaks,
        ascii,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break || line_breaks {
        a.block_plain_allowed = false;
    }
    if trailing_space || space_break || special {
        a.block_allowed = false;
    }
    if break_space || space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// The code point of the UTF-8 character at `i`.
pub(super) fn code_point(v: &[u8], i: usize) -> u32 {
    let c = v[i];
    let (w, mut cp) = match c {
        0x00..=0x7F => (1, u32::from(c)),
        0xC0..=0xDF => (2, u32::from(c & 0x1F)),
        0xE0..=0xEF => (3, u32::from(c & 0x0F)),
        _ => (4, u32::from(c & 0x07)),
    };
    for k in 1..w {
        cp = (cp << 6) | u32::from(at(v, i + k) & 0x3F);
    }
    cp
}
