//! Input decoding: UTF-8 (or UTF-16 with a BOM) without control characters, as go-yaml's
//! reader accepts it.

use super::chars::width;
use std::borrow::Cow;

/// Decoded input text plus where it starts in the original bytes.
pub(super) struct Input<'a> {
    pub text: Cow<'a, str>,
    /// Bytes of the original input before `text` (a UTF-8 BOM).
    pub base: usize,
    /// The text is a transcoding, so its offsets do not address the input.
    pub transcoded: bool,
}

/// Decodes `bytes` like go-yaml's reader; errors are go-yaml's messages without `yaml: `.
pub(super) fn decode(bytes: &[u8]) -> Result<Input<'_>, &'static str> {
    let (text, base, transcoded) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (Cow::Owned(utf16(rest, u16::from_le_bytes)?), 2, true),
        [0xFE, 0xFF, rest @ ..] => (Cow::Owned(utf16(rest, u16::from_be_bytes)?), 2, true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => (Cow::Borrowed(utf8(rest)?), 3, false),
        _ => (Cow::Borrowed(utf8(bytes)?), 0, false),
    };
    check_controls(text.as_bytes())?;
    Ok(Input {
        text,
        base,
        transcoded,
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, &'static str> {
    std::str::from_utf8(bytes).map_err(|e| match e.error_len() {
        None => "incomplete UTF-8 octet sequence",
        Some(_) => {
            let bad = bytes[e.valid_up_to()];
            if (0x80..0xC0).contains(&bad) || bad >= 0xF8 {
                "invalid leading UTF-8 octet"
            } else {
                "invalid trailing UTF-8 octet"
            }
        }
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, &'static str> {
    if !bytes.len().is_multiple_of(2) {
        return Err("incomplete UTF-16 character");
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| "invalid UTF-16 surrogate pair")
}

/// Whether an 8-byte word may hold a byte below 0x20 or at/above 0x7F.
#[inline]
fn maybe_special(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let del_or_high = (w | w.wrapping_add(ONES)) & HIGH;
    below_space | del_or_high != 0
}

/// go-yaml rejects C0 controls other than TAB, LF and CR, DEL, C1 controls other than NEL,
/// U+FFFE and U+FFFF.
fn check_controls(b: &[u8]) -> Result<(), &'static str> {
    const ERR: &str = "control characters are not allowed";
    let mut i = 0;
    while i < b.len() {
        if i + 8 <= b.len() {
            let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
            if !maybe_special(w) {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        match c {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7E => {}
            0x00..=0x1F | 0x7F => return Err(ERR),
            0xC2 if (0x80..=0x9F).contains(&b[i + 1]) && b[i + 1] != 0x85 => return Err(ERR),
            0xEF if b[i + 1] == 0xBF && matches!(b[i + 2], 0xBE | 0xBF) => return Err(ERR),
            _ => {}
        }
        i += width(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_controls_and_bad_utf8() {
        assert!(decode(b"a: 1\n").is_ok());
        assert!(decode("a: \u{85}é\t\r\n".as_bytes()).is_ok());
        assert_eq!(
            decode(b"a: \x01").err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode(b"a: \x7f").err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode("a: \u{9f}".as_bytes()).err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode("abcdefgh\u{ffff}".as_bytes()).err(),
            Some("control characters are not allowed")
        );
        assert!(decode(b"a: \xff").is_err());
        assert!(decode(b"a: \xc3").is_err());
    }

    #[test]
    fn strips_bom_and_reads_utf16() {
        let i = decode(b"\xEF\xBB\xBFa: 1").unwrap();
        assert_eq!((i.text.as_ref(), i.base), ("a: 1", 3));
        let i = decode(b"\xFF\xFEa\x00:\x00").unwrap();
        assert_eq!(i.text.as_ref(), "a:");
        assert!(i.transcoded);
    }
}
