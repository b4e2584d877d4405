//! The file MAC: SHA-512 over every value's plaintext in document order, stored encrypted
//! with `lastmodified` as its AAD.

use crate::crypto::cipher::{self, CipherError, ValueType};
use crate::crypto::data_key::DataKey;
use crate::gotext;
use sha2::{Digest, Sha256, Sha512};

/// Accumulates the MAC while a tree is walked.
pub struct MacHasher(Sha512);

impl MacHasher {
    /// sops compat: with `mac_only_encrypted` the hash starts with SHA-256("sops"), so the two
    /// modes never produce the same MAC.
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut h = Sha512::new();
        if mac_only_encrypted {
            h.update(Sha256::digest(b"sops"));
        }
        MacHasher(h)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The MAC as sops writes it: 128 uppercase hex digits.
    pub fn finish(self) -> String {
        hex::encode_upper(self.0.finalize())
    }
}

/// sops compat: the MAC's AAD is `lastmodified` parsed and re-formatted as RFC 3339 (fractional
/// seconds dropped, a zero offset written `Z`); for files sops wrote this is the text itself.
pub fn mac_aad(lastmodified: &str) -> String {
    match gotext::parse_time(lastmodified) {
        Some(t) => gotext::time_seconds(&t),
        None => lastmodified.to_string(),
    }
}

/// Encrypts a MAC for storage in the metadata.
pub fn encrypt_mac(key: &DataKey, mac: &str, lastmodified: &str) -> String {
    cipher::encrypt(
        key,
        mac.as_bytes(),
        ValueType::Str,
        mac_aad(lastmodified).as_bytes(),
    )
}

/// Decrypts the stored MAC. An empty field (no MAC) decrypts to the empty string, as in sops.
pub fn decrypt_mac(key: &DataKey, stored: &str, lastmodified: &str) -> Result<String, CipherError> {
    if stored.is_empty() {
        return Ok(String::new());
    }
    let (plain, _) = cipher::decrypt(key, stored, mac_aad(lastmodified).as_bytes())?;
    Ok(plain.to_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_only_prefix_is_sha256_of_sops() {
        assert_eq!(
            hex::encode(Sha256::digest(b"sops")),
            "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69"
        );
        assert_ne!(
            MacHasher::new(true).finish(),
            MacHasher::new(false).finish()
        );
    }

    #[test]
    fn spec_kat_yaml_mac() {
        // SOPS-SPEC Appendix A.1: the MAC over the file's values in order.
        let mut h = MacHasher::new(false);
        for v in [
            "hunter2",
            "5432",
            "0.5",
            "True",
            "admin",
            "a.example",
            "b.example",
            "visible",
        ] {
            h.update(v.as_bytes());
        }
        assert_eq!(
            h.finish(),
            "C11CB8F7567709C350CB523B733F7D411197D198DB40CD8E0E4A417D5E1F4F4BDF5D8349D8183CDDDCBF030C575E2F1A097B9D7F6DD3CBF4E39DD42A40F235CF"
        );
    }

    #[test]
    fn mac_round_trip_uses_lastmodified_as_aad() {
        let key = DataKey::generate();
        let enc = encrypt_mac(&key, "ABC", "2025-01-02T03:04:05Z");
        assert_eq!(
            decrypt_mac(&key, &enc, "2025-01-02T03:04:05Z").unwrap(),
            "ABC"
        );
        assert!(decrypt_mac(&key, &enc, "2025-01-02T03:04:06Z").is_err());
        assert_eq!(decrypt_mac(&key, "", "x").unwrap(), "");
        assert_eq!(
            mac_aad("2025-01-02T03:04:05.5+00:00"),
            "2025-01-02T03:04:05Z"
        );
    }
}
