//! Go `strings`/`bytes` helpers on raw bytes as ini.v1 uses them: trimming of Unicode white
//! space (`unicode.IsSpace`, rune by rune; invalid UTF-8 is not space) and `IndexAny`.

/// The length of the white-space character at the start of `b`, if there is one.
fn space_at_start(b: &[u8]) -> Option<usize> {
    let first = *b.first()?;
    if first < 0x80 {
        return matches!(first, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ').then_some(1);
    }
    let len = match first {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => return None,
    };
    let c = std::str::from_utf8(b.get(..len)?).ok()?.chars().next()?;
    c.is_whitespace().then_some(len)
}

/// The length of the white-space character at the end of `b`, if there is one.
fn space_at_end(b: &[u8]) -> Option<usize> {
    // A character is at most 4 bytes; find where the last one starts.
    for len in 1..=b.len().min(4) {
        let start = b.len() - len;
        if b[start] & 0xc0 != 0x80 {
            return (space_at_start(&b[start..]) == Some(len)).then_some(len);
        }
    }
    None
}

/// Go `bytes.TrimLeftFunc(b, unicode.IsSpace)`.
pub(super) fn trim_left(mut b: &[u8]) -> &[u8] {
    while let Some(n) = space_at_start(b) {
        b = &b[n..];
    }
    b
}

/// Go `strings.TrimSpace`.
pub(super) fn trim_space(b: &[u8]) -> &[u8] {
    let mut b = trim_left(b);
    while let Some(n) = space_at_end(b) {
        b = &b[..b.len() - n];
    }
    b
}

/// Go `strings.IndexAny` for an ASCII set.
pub(super) fn index_any(b: &[u8], set: &[u8]) -> Option<usize> {
    b.iter().position(|c| set.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_unicode_space_but_not_invalid_bytes() {
        assert_eq!(trim_space(" \t\u{a0}x\u{2028}\r\n".as_bytes()), b"x");
        assert_eq!(trim_space("\u{85}x\u{3000}".as_bytes()), b"x");
        assert_eq!(trim_space(b"\xa0x\xa0"), b"\xa0x\xa0");
        assert_eq!(trim_space(b" \xe2\x80"), b"\xe2\x80");
        assert_eq!(trim_left(b"  a "), b"a ");
        assert_eq!(trim_space("\u{feff}x".as_bytes()), "\u{feff}x".as_bytes());
        assert_eq!(index_any(b"ab;c#", b"#;"), Some(2));
    }
}
