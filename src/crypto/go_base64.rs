//! Base64 as sops reads the parts of an `ENC[...]` value: Go's `base64.StdEncoding`, which
//! differs from a strict decoder in two ways sops files can show (CR and LF are skipped
//! wherever they are, and the unused bits of the last character are ignored). It is also the
//! hot path of decrypting a large file: a table-driven loop over short texts, without the
//! general decoder's set-up per call.

/// Marks a byte that is not a base64 digit.
const NOT_DIGIT: u8 = 0xFF;

/// The value of each base64 digit of the standard alphabet.
static DIGITS: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [NOT_DIGIT; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The most bytes `text_len` characters of base64 decode to.
pub fn decoded_len_max(text_len: usize) -> usize {
    text_len / 4 * 3
}

/// Decodes `text` into the start of `out` as Go's `base64.StdEncoding.DecodeString` does:
/// `=` padding required, CR and LF skipped, the unused bits of the last character ignored.
/// Returns the length of the decoded bytes, or `None` if `text` is not base64 or `out` is
/// shorter than `decoded_len_max` of it (up to that many bytes of `out` may be written).
pub fn decode_to_slice(text: &[u8], out: &mut [u8]) -> Option<usize> {
    // Line breaks are rare: they are looked for once the text did not decode as it is.
    decode_unbroken(text, out).or_else(|| {
        memchr::memchr2(b'\n', b'\r', text)?;
        let digits: Vec<u8> = text
            .iter()
            .copied()
            .filter(|&c| c != b'\n' && c != b'\r')
            .collect();
        decode_unbroken(&digits, out)
    })
}

/// Decodes `text` as `decode_to_slice` does, into a buffer of its own.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0; decoded_len_max(text.len())];
    let len = decode_to_slice(text, &mut out)?;
    out.truncate(len);
    Some(out)
}

/// `decode_to_slice` of a text without line breaks: whole groups of four characters, the
/// last of which may end in `=` or `==`.
fn decode_unbroken(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(4) || out.len() < decoded_len_max(text.len()) {
        return None;
    }
    let Some((last, groups)) = text.as_chunks::<4>().0.split_last() else {
        return Some(0);
    };
    let mut written = 0;
    for group in groups {
        let bytes = group_value(*group)?.to_be_bytes();
        out[written..written + 3].copy_from_slice(&bytes[1..]);
        written += 3;
    }
    // Padding stands for digits of value 0 whose bits are not written.
    let (digits, len) = match last {
        [a, b, b'=', b'='] => ([*a, *b, b'A', b'A'], 1),
        [a, b, c, b'='] => ([*a, *b, *c, b'A'], 2),
        _ => (*last, 3),
    };
    // All three bytes are written (a fixed-size copy): the padding's zeros land past the end.
    let bytes = group_value(digits)?.to_be_bytes();
    out[written..written + 3].copy_from_slice(&bytes[1..]);
    Some(written + len)
}

/// The 24 bits four base64 digits stand for, or `None` if one is not a digit.
#[inline]
fn group_value(group: [u8; 4]) -> Option<u32> {
    let [a, b, c, d] = group.map(|ch| DIGITS[ch as usize]);
    if (a | b | c | d) >= 64 {
        return None;
    }
    Some(u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn decodes_what_a_standard_encoder_writes() {
        for len in 0..200 {
            // Varied bytes (151 is odd: no two of the first 256 alike) at every position.
            let bytes: Vec<u8> = (0..len).map(|i| (i * 151 + len * 7) as u8).collect();
            let text = STANDARD.encode(&bytes);
            assert_eq!(decode(text.as_bytes()), Some(bytes), "{text}");
        }
    }

    #[test]
    fn reads_as_go_std_encoding_does() {
        // The unused bits of the last digit are ignored (Go's decoder is not strict).
        assert_eq!(decode(b"QR=="), Some(b"A".to_vec()));
        assert_eq!(decode(b"QUJ=="), None);
        assert_eq!(decode(b"QUK="), Some(b"AB".to_vec()));
        // Line breaks are skipped anywhere, padding included.
        assert_eq!(decode(b"QU\nJD\r\n"), Some(b"ABC".to_vec()));
        assert_eq!(decode(b"QQ=\r\n="), Some(b"A".to_vec()));
        assert_eq!(decode(b""), Some(Vec::new()));
        assert_eq!(decode(b"\n"), Some(Vec::new()));
        for bad in [
            &b"QQ"[..],
            b"QUJ",
            b"Q===",
            b"====",
            b"QQ=",
            b"QQ=A",
            b"QQ==QUJD",
            b"QQ== ",
            b"QU=D",
            b"Q!JD",
            b"QUJD\xff",
            b"QUJ\x80",
        ] {
            assert_eq!(decode(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn refuses_a_buffer_too_short() {
        let mut out = [0u8; 2];
        assert_eq!(decode_to_slice(b"QUJD", &mut out), None);
        let mut out = [0u8; 3];
        assert_eq!(decode_to_slice(b"QUJD", &mut out), Some(3));
        assert_eq!(&out, b"ABC");
    }
}
