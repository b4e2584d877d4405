//! Byte buffers that hold plaintext: zeroized on drop, never printed by `Debug`.

use std::fmt;
use zeroize::Zeroize;

/// A byte string that may hold a secret (a decrypted value or comment).
///
/// Go strings, and therefore sops values, may hold arbitrary bytes (the binary store), so this
/// is bytes rather than `String`; most values are UTF-8 and `as_str` gives them as text.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SecretBuf(Vec<u8>);

impl SecretBuf {
    /// Wraps bytes, taking ownership so that no unzeroized copy is left behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBuf(bytes)
    }

    /// The bytes, for the few places that must see the plaintext.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, to change in place (decrypted where they lie).
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Takes the bytes out (for text that is not secret, like stored ciphertext).
    pub fn into_bytes(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    /// The text when the bytes are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The text, with invalid UTF-8 sequences replaced by U+FFFD.
    pub fn to_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Zeroizes the bytes now (as a drop would), leaving the buffer empty.
    pub fn wipe(&mut self) {
        self.0.zeroize();
    }
}

impl From<String> for SecretBuf {
    fn from(s: String) -> Self {
        SecretBuf(s.into_bytes())
    }
}

impl From<&str> for SecretBuf {
    fn from(s: &str) -> Self {
        SecretBuf(s.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for SecretBuf {
    fn from(b: Vec<u8>) -> Self {
        SecretBuf(b)
    }
}

impl Drop for SecretBuf {
    fn drop(&mut self) {
        // A buffer that was moved out (most decrypted values pass through one) holds nothing:
        // skipping it saves a call per value.
        if self.0.capacity() > 0 {
            self.0.zeroize();
        }
    }
}

/// Text the user typed or pasted (it may be a secret): zeroized on drop, never shown by
/// `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretText {
    fn from(s: String) -> Self {
        SecretText(s)
    }
}

impl From<&str> for SecretText {
    fn from(s: &str) -> Self {
        SecretText(s.to_string())
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for SecretBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Overwrites `bytes` with zeros in a way the compiler may not leave out. Large buffers (a
/// decrypted file's text) are wiped at memset speed, where `zeroize`'s byte-by-byte volatile
/// writes took milliseconds.
pub fn wipe(bytes: &mut [u8]) {
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    #[allow(unsafe_code)]
    // SAFETY: the pointer and length come from a live mutable slice.
    unsafe {
        libc::explicit_bzero(bytes.as_mut_ptr().cast(), bytes.len());
    }
    #[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
    bytes.zeroize();
}

/// A growing buffer that plaintext is written into (a decrypted file being emitted). It is
/// only appended to, so the bytes past its length were never written: it wipes what it holds
/// whenever it moves to a larger allocation (a `Vec` would leave the old copy behind), and on
/// drop it wipes its length only, so a generous reservation that was never written is never
/// touched (not made resident just to be zeroed).
#[derive(Default)]
pub struct PlainBuffer {
    bytes: Vec<u8>,
}

impl PlainBuffer {
    pub fn with_capacity(capacity: usize) -> Self {
        PlainBuffer {
            bytes: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    pub fn push(&mut self, byte: u8) {
        self.reserve(1);
        self.bytes.push(byte);
    }

    #[inline]
    pub fn extend_from_slice(&mut self, more: &[u8]) {
        self.reserve(more.len());
        self.bytes.extend_from_slice(more);
    }

    /// Makes room for `more` bytes, moving (and wiping the old copy) if needed.
    #[inline]
    pub fn reserve(&mut self, more: usize) {
        if self.bytes.capacity() - self.bytes.len() < more {
            self.grow(more);
        }
    }

    #[cold]
    fn grow(&mut self, more: usize) {
        let wanted = (self.bytes.len() + more)
            .max(self.bytes.capacity() * 2)
            .max(64);
        let mut bigger = Vec::with_capacity(wanted);
        bigger.extend_from_slice(&self.bytes);
        wipe(&mut self.bytes);
        self.bytes = bigger;
    }

    /// The bytes as a plain `Vec`, which is not wiped on drop: for text that holds no
    /// plaintext (an encrypted file), or for a caller that wipes it itself.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

impl From<zeroize::Zeroizing<Vec<u8>>> for PlainBuffer {
    /// Takes the text over; room past its length is wiped now, as its drop would have.
    fn from(mut text: zeroize::Zeroizing<Vec<u8>>) -> Self {
        let mut bytes = std::mem::take(&mut *text);
        bytes.spare_capacity_mut().zeroize();
        PlainBuffer { bytes }
    }
}

impl std::ops::Deref for PlainBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for PlainBuffer {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for PlainBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut bytes: Vec<u8> = (1..=255).cycle().take(100_000).collect();
        wipe(&mut bytes[10..]);
        assert!(bytes[..10].iter().all(|&b| b != 0));
        assert!(bytes[10..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_plain_buffer_keeps_its_text_as_it_grows_and_hides_it_from_debug() {
        let mut out = PlainBuffer::with_capacity(3);
        let mut expected = Vec::new();
        for i in 0..10_000u32 {
            let piece = i.to_string();
            out.extend_from_slice(piece.as_bytes());
            out.push(b',');
            expected.extend_from_slice(piece.as_bytes());
            expected.push(b',');
        }
        assert_eq!(&*out, &expected[..]);
        assert_eq!(format!("{out:?}"), "[redacted]");
        assert_eq!(out.into_vec(), expected);
    }

    #[test]
    fn a_plain_buffer_taken_from_a_zeroizing_vec_wipes_the_spare_room() {
        let mut text = Vec::with_capacity(64);
        text.extend_from_slice(b"secret and more");
        text.truncate(6);
        let out = PlainBuffer::from(zeroize::Zeroizing::new(text));
        assert_eq!(&*out, b"secret");
        let mut bytes = out.into_vec();
        let spare = bytes.spare_capacity_mut();
        assert!(spare.len() >= 58);
        #[allow(unsafe_code)]
        // SAFETY: the spare room was written (with zeros) by the conversion under test; a
        // conversion that left it alone fails here on the old text instead.
        let spare = unsafe { &*(std::ptr::from_ref(spare) as *const [u8]) };
        assert!(spare.iter().all(|&b| b == 0), "{spare:?}");
    }
}
