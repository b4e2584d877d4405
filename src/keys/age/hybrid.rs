//! age's hybrid post-quantum recipients (`age1pq1…`) and identities (`AGE-SECRET-KEY-PQ-1…`),
//! which sops reads and writes since 3.12 (age 1.3). The file key is sealed with HPKE in base
//! mode: KEM ML-KEM-768 + X25519 (X-Wing, KEM id 0x647a), KDF HKDF-SHA256, AEAD
//! ChaCha20-Poly1305, info `age-encryption.org/mlkem768x25519` (C2SP age, "mlkem768x25519"
//! stanza). No released age crate has it yet; this is written from the specs on RustCrypto's
//! ML-KEM, SHA-3, HKDF and ChaCha20-Poly1305 and dalek's X25519.

use age::{DecryptError, EncryptError};
use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use bech32::{FromBase32, ToBase32, Variant};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit as _};
use hkdf::Hkdf;
use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::{B32, DecapsulationKey, EncapsulationKey, MlKem768, Seed};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use std::collections::HashSet;
use std::str::FromStr;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

const RECIPIENT_HRP: &str = "age1pq";
const IDENTITY_HRP: &str = "age-secret-key-pq-";
const STANZA_TAG: &str = "mlkem768x25519";
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// The age label of post-quantum recipients: age refuses to mix them with classic ones in one
/// file (sops wraps each recipient in a file of its own).
const LABEL: &str = "postquantum";
/// HPKE suite: KEM X-Wing (0x647a), KDF HKDF-SHA256 (0x0001), AEAD ChaCha20-Poly1305 (0x0003).
const SUITE_ID: [u8; 10] = *b"HPKE\x64\x7a\x00\x01\x00\x03";
/// X-Wing's combiner label, `\.//^\`.
const XWING_LABEL: &[u8] = b"\\.//^\\";
const MLKEM_PK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;
const PUBLIC_KEY_LEN: usize = MLKEM_PK_LEN + 32;
const CIPHERTEXT_LEN: usize = MLKEM_CT_LEN + 32;
const FILE_KEY_LEN: usize = 16;

/// Whether `s` is written as a hybrid recipient (checked for validity by `Recipient::from_str`).
pub fn is_recipient(s: &str) -> bool {
    s.trim().to_ascii_lowercase().starts_with("age1pq1")
}

/// Whether `s` is written as a hybrid identity.
pub fn is_identity(s: &str) -> bool {
    s.trim()
        .to_ascii_uppercase()
        .starts_with("AGE-SECRET-KEY-PQ-1")
}

/// A hybrid recipient: an ML-KEM-768 encapsulation key and an X25519 public key.
#[derive(Clone)]
pub struct Recipient {
    mlkem: EncapsulationKey<MlKem768>,
    x25519: [u8; 32],
}

impl FromStr for Recipient {
    type Err = String;

    fn from_str(s: &str) -> Result<Recipient, String> {
        let bytes = decode(s.trim(), RECIPIENT_HRP)?;
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(format!(
                "a hybrid recipient holds {PUBLIC_KEY_LEN} bytes, this one {}",
                bytes.len()
            ));
        }
        Recipient::from_bytes(&bytes)
    }
}

impl Recipient {
    fn from_bytes(bytes: &[u8]) -> Result<Recipient, String> {
        let (mlkem, x25519) = bytes.split_at(MLKEM_PK_LEN);
        let key = mlkem
            .try_into()
            .map_err(|_| "malformed ML-KEM-768 key".to_string())?;
        let mlkem = EncapsulationKey::<MlKem768>::new(&key)
            .map_err(|_| "the ML-KEM-768 key is not valid".to_string())?;
        Ok(Recipient {
            mlkem,
            x25519: x25519.try_into().expect("split at a fixed length"),
        })
    }

    /// The public key bytes: ML-KEM-768 encapsulation key, then X25519 public key.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.mlkem.to_bytes().to_vec();
        out.extend_from_slice(&self.x25519);
        out
    }

    /// X-Wing encapsulation with the given randomness (ML-KEM message, X25519 ephemeral
    /// secret): the ciphertext and the shared secret.
    fn encapsulate_with(
        &self,
        m: &[u8; 32],
        ephemeral: [u8; 32],
    ) -> (Vec<u8>, Zeroizing<[u8; 32]>) {
        let (ct_m, ss_m) = self.mlkem.encapsulate_deterministic(&B32::from(*m));
        let ephemeral = StaticSecret::from(ephemeral);
        let ct_x = PublicKey::from(&ephemeral);
        let ss_x = ephemeral.diffie_hellman(&PublicKey::from(self.x25519));
        let ss = combine(&ss_m, ss_x.as_bytes(), ct_x.as_bytes(), &self.x25519);
        let mut ct = ct_m.to_vec();
        ct.extend_from_slice(ct_x.as_bytes());
        (ct, ss)
    }

    fn seal(&self, file_key: &[u8], m: &[u8; 32], ephemeral: [u8; 32]) -> Stanza {
        let (ct, ss) = self.encapsulate_with(m, ephemeral);
        let (key, nonce) = hpke_key_schedule(&ss);
        let body = ChaCha20Poly1305::new((&*key).into())
            .encrypt((&nonce).into(), file_key)
            .expect("a 16-byte file key fits one AEAD message");
        Stanza {
            tag: STANZA_TAG.into(),
            args: vec![STANDARD_NO_PAD.encode(ct)],
            body,
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = bech32::encode(RECIPIENT_HRP, self.to_bytes().to_base32(), Variant::Bech32)
            .map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let mut m = Zeroizing::new([0u8; 32]);
        let mut ephemeral = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(&mut *m)
            .and_then(|()| OsRng.try_fill_bytes(&mut *ephemeral))
            .map_err(|e| EncryptError::Io(std::io::Error::other(e)))?;
        let stanza = self.seal(file_key.expose_secret(), &m, *ephemeral);
        Ok((vec![stanza], HashSet::from([LABEL.to_string()])))
    }
}

/// A hybrid identity: the 32-byte seed both private keys are derived from.
pub struct Identity {
    seed: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("age hybrid identity (secret)")
    }
}

impl FromStr for Identity {
    type Err = String;

    fn from_str(s: &str) -> Result<Identity, String> {
        let s = s.trim();
        // age writes identities upper-case only.
        if s != s.to_ascii_uppercase() {
            return Err("an age identity is written in upper case".into());
        }
        let bytes = Zeroizing::new(decode(s, IDENTITY_HRP)?);
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| "a hybrid identity holds 32 bytes".to_string())?;
        Ok(Identity {
            seed: Zeroizing::new(seed),
        })
    }
}

/// The two private keys and the X25519 public key of a seed (X-Wing key generation).
struct Expanded {
    mlkem: DecapsulationKey<MlKem768>,
    x25519: StaticSecret,
    x25519_public: [u8; 32],
}

impl Identity {
    /// A new random identity.
    pub fn generate() -> Identity {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *seed);
        Identity { seed }
    }

    /// The identity as age writes it, `AGE-SECRET-KEY-PQ-1…`.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let text = bech32::encode(IDENTITY_HRP, self.seed.to_base32(), Variant::Bech32)
            .expect("a 32-byte seed always encodes");
        Zeroizing::new(text.to_ascii_uppercase())
    }

    fn expand(&self) -> Expanded {
        let mut xof = Shake256::default();
        xof.update(&*self.seed);
        let mut out = Zeroizing::new([0u8; 96]);
        xof.finalize_xof().read(&mut *out);
        let mut seed = Seed::default();
        seed.copy_from_slice(&out[..64]);
        let mlkem = DecapsulationKey::<MlKem768>::from_seed(seed);
        seed.zeroize();
        let secret: [u8; 32] = out[64..].try_into().expect("32 bytes");
        let x25519 = StaticSecret::from(secret);
        let x25519_public = PublicKey::from(&x25519).to_bytes();
        Expanded {
            mlkem,
            x25519,
            x25519_public,
        }
    }

    /// The recipient files are encrypted to for this identity.
    pub fn to_public(&self) -> Recipient {
        let e = self.expand();
        Recipient {
            mlkem: e.mlkem.encapsulation_key().clone(),
            x25519: e.x25519_public,
        }
    }

    fn decapsulate(&self, ct: &[u8]) -> Zeroizing<[u8; 32]> {
        let e = self.expand();
        let (ct_m, ct_x) = ct.split_at(MLKEM_CT_LEN);
        let ct_m = ct_m.try_into().expect("length checked by the caller");
        let ss_m = e.mlkem.decapsulate(&ct_m);
        let ct_x: [u8; 32] = ct_x.try_into().expect("length checked by the caller");
        let ss_x = e.x25519.diffie_hellman(&PublicKey::from(ct_x));
        combine(&ss_m, ss_x.as_bytes(), &ct_x, &e.x25519_public)
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let ct = match &stanza.args[..] {
            [arg] => match STANDARD_NO_PAD.decode(arg) {
                Ok(ct) if ct.len() == CIPHERTEXT_LEN => ct,
                _ => return Some(Err(DecryptError::InvalidHeader)),
            },
            _ => return Some(Err(DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != FILE_KEY_LEN + 16 {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let ss = self.decapsulate(&ct);
        let (key, nonce) = hpke_key_schedule(&ss);
        // Not ours (or not for this file): another identity may open it.
        let plain = ChaCha20Poly1305::new((&*key).into())
            .decrypt((&nonce).into(), stanza.body.as_slice())
            .ok()?;
        let plain = Zeroizing::new(plain);
        Some(Ok(FileKey::init_with_mut(|k| k.copy_from_slice(&plain))))
    }
}

fn decode(s: &str, hrp: &str) -> Result<Vec<u8>, String> {
    let (found, data, variant) = bech32::decode(s).map_err(|e| format!("not bech32: {e}"))?;
    if found != hrp || variant != Variant::Bech32 {
        return Err(format!("expected a {hrp}1… string"));
    }
    Vec::<u8>::from_base32(&data).map_err(|e| format!("not bech32: {e}"))
}

/// X-Wing's combiner: SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ label).
fn combine(ss_m: &[u8], ss_x: &[u8; 32], ct_x: &[u8; 32], pk_x: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut h = Sha3_256::new();
    Digest::update(&mut h, ss_m);
    Digest::update(&mut h, ss_x);
    Digest::update(&mut h, ct_x);
    Digest::update(&mut h, pk_x);
    Digest::update(&mut h, XWING_LABEL);
    Zeroizing::new(h.finalize().into())
}

/// HPKE's key schedule in base mode (RFC 9180 §5.1): the AEAD key and base nonce (the first
/// and only message uses the base nonce itself).
fn hpke_key_schedule(shared_secret: &[u8; 32]) -> (Zeroizing<[u8; 32]>, [u8; 12]) {
    let psk_id_hash = labeled_extract(&[], b"psk_id_hash", &[]);
    let info_hash = labeled_extract(&[], b"info_hash", HPKE_INFO);
    let mut context = vec![0u8]; // mode_base
    context.extend_from_slice(&psk_id_hash);
    context.extend_from_slice(&info_hash);
    let secret = Zeroizing::new(labeled_extract(shared_secret, b"secret", &[]));
    let mut key = Zeroizing::new([0u8; 32]);
    labeled_expand(&secret, b"key", &context, &mut *key);
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, b"base_nonce", &context, &mut nonce);
    (key, nonce)
}

fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let input = [b"HPKE-v1".as_slice(), &SUITE_ID, label, ikm].concat();
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), &input);
    prk.into()
}

fn labeled_expand(prk: &[u8; 32], label: &[u8], info: &[u8], out: &mut [u8]) {
    let length = u16::try_from(out.len()).expect("short outputs only");
    let info = [
        &length.to_be_bytes(),
        b"HPKE-v1".as_slice(),
        &SUITE_ID,
        label,
        info,
    ]
    .concat();
    Hkdf::<Sha256>::from_prk(prk)
        .expect("a 32-byte PRK")
        .expand(&info, out)
        .expect("short outputs only");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_and_recipients_round_trip_through_their_text() {
        let id = Identity::generate();
        let text = id.to_secret_string();
        assert!(text.starts_with("AGE-SECRET-KEY-PQ-1"));
        let again = Identity::from_str(&text).unwrap();
        assert_eq!(*again.seed, *id.seed);
        let recipient = id.to_public().to_string();
        assert!(recipient.starts_with("age1pq1") && is_recipient(&recipient));
        assert_eq!(
            Recipient::from_str(&recipient).unwrap().to_string(),
            recipient
        );
        assert!(Identity::from_str(&text.to_lowercase()).is_err());
        assert!(Recipient::from_str(&recipient[..recipient.len() - 1]).is_err());
    }

    fn copy(s: &Stanza) -> Stanza {
        Stanza {
            tag: s.tag.clone(),
            args: s.args.clone(),
            body: s.body.clone(),
        }
    }

    #[test]
    fn a_wrapped_file_key_opens_with_its_identity_only() {
        let id = Identity::generate();
        let other = Identity::generate();
        let file_key = FileKey::new(Box::new([7u8; 16]));
        let (stanzas, labels) = age::Recipient::wrap_file_key(&id.to_public(), &file_key).unwrap();
        assert_eq!(labels, HashSet::from(["postquantum".to_string()]));
        let stanza = &stanzas[0];
        assert_eq!(stanza.tag, "mlkem768x25519");
        assert_eq!(stanza.body.len(), 32);
        let opened = age::Identity::unwrap_stanza(&id, stanza).unwrap().unwrap();
        assert_eq!(opened.expose_secret(), &[7u8; 16]);
        assert!(age::Identity::unwrap_stanza(&other, stanza).is_none());
        // A damaged stanza is a header error, a tampered body simply does not open.
        let mut short = copy(stanza);
        short.args[0].pop();
        assert!(matches!(
            age::Identity::unwrap_stanza(&id, &short),
            Some(Err(DecryptError::InvalidHeader))
        ));
        let mut tampered = copy(stanza);
        tampered.body[0] ^= 1;
        assert!(age::Identity::unwrap_stanza(&id, &tampered).is_none());
    }
}
