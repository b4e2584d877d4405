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
