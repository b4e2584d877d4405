//! The 32-byte data key that encrypts every value of a file.

use crate::process;
use rand::RngCore;
use std::fmt;
use zeroize::Zeroize;

/// The file's data key: on the heap at one place (so it can be kept out of swap and is never
/// copied around by moves), zeroized on drop; `Debug` never shows it.
#[derive(PartialEq, Eq)]
pub struct DataKey(Box<[u8; 32]>);

impl DataKey {
    /// An all-zero key in its final place, locked in memory where allowed, to be filled.
    fn empty() -> Self {
        let key = DataKey(Box::new([0u8; 32]));
        process::lock_memory(&key.0[..]);
        key
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = DataKey::empty();
        rand::rngs::OsRng.fill_bytes(&mut key.0[..]);
        key
    }

    /// Takes a key unwrapped by a master key; it must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        let mut key = DataKey::empty();
        key.0.copy_from_slice(bytes);
        Some(key)
    }

    /// The raw key, for the cipher and for wrapping by master keys.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Clone for DataKey {
    fn clone(&self) -> Self {
        let mut key = DataKey::empty();
        key.0.copy_from_slice(&self.0[..]);
        key
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
        process::unlock_memory(&self.0[..]);
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}
