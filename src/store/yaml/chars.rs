//! Byte-level character classes shared by the YAML scanner and emitter.
//!
//! The input is validated UTF-8 without NUL bytes, so `0` past the end serves as the
//! end-of-input sentinel, as in go-yaml (whose character classes these reproduce).

/// The byte at `i`, or 0 past the end.
#[inline]
pub(super) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Space or tab.
#[inline]
pub(super) fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), b' ' | b'\t')
}

/// CR, LF, NEL, LS or PS.
#[inline]
pub(super) fn is_break(b: &[u8], i: usize) -> bool {
    match at(b, i) {
        b'\r' | b'\n' => true,
        0xC2 => at(b, i + 1) == 0x85,
        0xE2 => at(b, i + 1) == 0x80 && matches!(at(b, i + 2), 0xA8 | 0xA9),
        _ => false,
    }
}

/// A line break or the end of input.
#[inline]
pub(super) fn is_breakz(b: &[u8], i: usize) -> bool {
    at(b, i) == 0 || is_break(b, i)
}

/// A blank, a line break or the end of input.
#[inline]
pub(super) fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_breakz(b, i)
}

/// `[0-9A-Za-z_-]`, the characters of anchors and tag handles.
#[inline]
pub(super) fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// The length of the UTF-8 sequence starting with `c` (1 for stray bytes, never 0).
#[inline]
pub(super) fn width(c: u8) -> usize {
    match c {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Number of characters in a UTF-8 byte slice.
#[inline]
pub(super) fn char_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
}

/// go-yaml's printable set: LF, 0x20-0x7E, U+00A0-U+D7FF and U+E000-U+FFFD except the BOM.
/// Tabs, controls, NEL and everything beyond the BMP are not printable.
#[inline]
pub(super) fn is_printable(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    match c {
        0x0A | 0x20..=0x7E => true,
        0xC2 => at(b, i + 1) >= 0xA0,
        0xC3..=0xEC | 0xEE => true,
        0xED => at(b, i + 1) < 0xA0,
        0xEF => {
            let (c1, c2) = (at(b, i + 1), at(b, i + 2));
            !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF))
        }
        _ => false,
    }
}

/// The BOM (U+FEFF) at `i`.
#[inline]
pub(super) fn is_bom(b: &[u8], i: usize) -> bool {
    at(b, i) == 0xEF && at(b, i + 1) == 0xBB && at(b, i + 2) == 0xBF
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Loads 8 bytes at `i` (the caller checks the bounds).
#[inline]
fn word(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

/// Whether some byte of `w` is below `n` (n <= 128), or is 0x80 or above.
#[inline]
fn has_below_or_high(w: u64, n: u8) -> bool {
    (w.wrapping_sub(ONES * u64::from(n)) | w) & HIGHS != 0
}

/// Whether some byte of `w` equals `c`.
#[inline]
fn has_byte(w: u64, c: u8) -> bool {
    let x = w ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Skips ahead from `i` over bytes that are printable ASCII other than space and the given
/// two bytes, eight at a time; returns a position at or before the first other byte.
#[inline]
pub(super) fn skip_plain_ascii(b: &[u8], mut i: usize, c1: u8, c2: u8) -> usize {
    while i + 8 <= b.len() {
        let w = word(b, i);
        // DEL (0x7F) plus one sets the high bit, so it is caught with the high bytes.
        if has_below_or_high(w, 0x21)
            || (w.wrapping_add(ONES) & HIGHS) != 0
            || has_byte(w, c1)
            || has_byte(w, c2)
        {
            break;
        }
        i += 8;
    }
    i
}
