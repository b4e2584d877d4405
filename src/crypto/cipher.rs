//! AES-256-GCM with sops's 32-byte IVs, and the `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]`
//! text form of an encrypted value.

use crate::crypto::data_key::DataKey;
use crate::crypto::go_base64;
use crate::secret::SecretBuf;
use aes::Aes256;
use aes::cipher::{BlockEncrypt, InnerIvInit, StreamCipher};
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{AesGcm, Tag};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use rand::RngCore;
use std::ops::Range;
use zeroize::Zeroizing;

/// sops compat: GCM with a 32-byte nonce (the initial counter is derived with GHASH).
type Gcm32 = AesGcm<Aes256, U32>;
/// Go's `cipher.NewGCMWithNonceSize(_, 12)` is plain AES-GCM; accepted on decrypt only.
type Gcm12 = AesGcm<Aes256, aes_gcm::aead::consts::U12>;

/// A value's type tag as written in `type:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Comment,
    Bytes,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Str => "str",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Time => "time",
            ValueType::Comment => "comment",
            ValueType::Bytes => "bytes",
        }
    }

    fn from_name(name: &[u8]) -> Option<ValueType> {
        Some(match name {
            b"str" => ValueType::Str,
            b"int" => ValueType::Int,
            b"float" => ValueType::Float,
            b"bool" => ValueType::Bool,
            b"time" => ValueType::Time,
            b"comment" => ValueType::Comment,
            b"bytes" => ValueType::Bytes,
            _ => return None,
        })
    }
}

/// Why a value could not be decrypted. Never carries plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error(
        "the value does not match sops' data format ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]"
    )]
    Malformed,
    #[error("the value's {0} field is not valid base64")]
    Base64(&'static str),
    #[error("unknown datatype: {0}")]
    UnknownType(String),
    #[error("the value's iv or tag has an unsupported length")]
    BadLength,
    #[error(
        "authentication failed (wrong data key, tampered value, or value moved to another key)"
    )]
    Authentication,
}

/// The parts of an `ENC[...]` string.
#[derive(Debug, PartialEq, Eq)]
pub struct EncValue<'a> {
    pub data: &'a str,
    pub iv: &'a str,
    pub tag: &'a str,
    pub kind: &'a str,
}

/// Splits `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]`.
pub fn parse_enc(s: &str) -> Result<EncValue<'_>, CipherError> {
    let [data, iv, tag, kind] = enc_parts(s.as_bytes())?;
    Ok(EncValue {
        data: &s[data],
        iv: &s[iv],
        tag: &s[tag],
        kind: &s[kind],
    })
}

/// Where the data, IV, tag and type of an `ENC[...]` text are in it.
///
/// sops compat: sops matches `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]` with greedy
/// groups and ignores text after the final `]`; base64 never contains `,`, so splitting at the
/// first field names finds the same parts for every value sops can decrypt. Go's `.` does not
/// match a line feed, so the match ends on the first line. The parts are ASCII, so they are
/// found in the bytes (a large file's values are not checked for UTF-8 one by one).
fn enc_parts(s: &[u8]) -> Result<[Range<usize>; 4], CipherError> {
    const PREFIX: &[u8] = b"ENC[AES256_GCM,data:";
    let line = memchr::memchr(b'\n', s).map_or(s, |end| &s[..end]);
    if !line.starts_with(PREFIX) {
        return Err(CipherError::Malformed);
    }
    // base64 has no commas: the fields end at the next three (a memchr scan, the hot path
    // when opening large files); the last field is the rest, as with the regex.
    let mut commas = memchr::memchr_iter(b',', &line[PREFIX.len()..]).map(|c| c + PREFIX.len());
    let (Some(c1), Some(c2), Some(c3)) = (commas.next(), commas.next(), commas.next()) else {
        return Err(CipherError::Malformed);
    };
    let field = |range: Range<usize>, name: &[u8]| {
        if line[range.clone()].starts_with(name) {
            Ok(range.start + name.len()..range.end)
        } else {
            Err(CipherError::Malformed)
        }
    };
    let data = PREFIX.len()..c1;
    let iv = field(c1 + 1..c2, b"iv:")?;
    let tag = field(c2 + 1..c3, b"tag:")?;
    let last = field(c3 + 1..line.len(), b"type:")?;
    let close = memchr::memrchr(b']', &line[last.clone()]).ok_or(CipherError::Malformed)?;
    let kind = last.start..last.start + close;
    if [&data, &iv, &tag, &kind].iter().any(|r| r.is_empty()) {
        return Err(CipherError::Malformed);
    }
    Ok([data, iv, tag, kind])
}

/// Whether `s` looks like an encrypted value (for review mode and `filestatus`).
pub fn is_enc(s: &str) -> bool {
    parse_enc(s).is_ok()
}

/// AES-256-GCM initialised once for a data key (the key schedule is not redone per value).
pub struct ValueCipher {
    gcm32: Gcm32,
    gcm12: Gcm12,
    /// The block cipher and GHASH keyed as `gcm32` is, for `encrypt_with_iv`'s one-pass GCM.
    aes: Aes256,
    ghash: GHash,
    /// IVs for this cipher's encryptions, drawn from the OS in batches.
    ivs: std::cell::RefCell<IvPool>,
}

/// Random bytes from the OS, fetched a batch at a time: one system call serves 128 IVs
/// instead of one (a file of 100,000 values made 100,000 calls). Handed-out bytes are wiped
/// from the pool; the pool lives only as long as its cipher (one walk of one process).
struct IvPool {
    bytes: Zeroizing<[u8; IV_BATCH * 32]>,
    next: usize,
}

const IV_BATCH: usize = 128;

impl IvPool {
    fn new() -> IvPool {
        IvPool {
            bytes: Zeroizing::new([0; IV_BATCH * 32]),
            next: IV_BATCH * 32,
        }
    }

    fn take(&mut self) -> [u8; 32] {
        if self.next == self.bytes.len() {
            rand::rngs::OsRng.fill_bytes(&mut self.bytes[..]);
            self.next = 0;
        }
        let slot = &mut self.bytes[self.next..self.next + 32];
        let iv: [u8; 32] = slot.try_into().expect("32 bytes");
        slot.fill(0);
        self.next += 32;
        iv
    }
}

impl ValueCipher {
    pub fn new(key: &DataKey) -> Self {
        let key = GenericArray::from_slice(key.expose());
        let aes = Aes256::new(key);
        // GCM's hash key H is the encryption of the zero block.
        let mut h = Zeroizing::new([0u8; 16]);
        aes.encrypt_block(GenericArray::from_mut_slice(&mut h[..]));
        ValueCipher {
            gcm32: Gcm32::new(key),
            gcm12: Gcm12::new(key),
            ghash: GHash::new(GenericArray::from_slice(&h[..])),
            aes,
            ivs: std::cell::RefCell::new(IvPool::new()),
        }
    }

    /// Decrypts an `ENC[...]` text with its AAD, giving the plaintext bytes and the type tag.
    pub fn decrypt(&self, enc: &[u8], aad: &[u8]) -> Result<(SecretBuf, ValueType), CipherError> {
        let [data, iv, tag, kind] = enc_parts(enc)?;
        let (data, iv, tag, kind) = (&enc[data], &enc[iv], &enc[tag], &enc[kind]);
        let kind = ValueType::from_name(kind)
            .ok_or_else(|| CipherError::UnknownType(String::from_utf8_lossy(kind).into_owned()))?;
        // sops compat: the parts are read as Go's base64 reads them (see `crypto::go_base64`).
        let mut buf = SecretBuf::new(go_base64::decode(data).ok_or(CipherError::Base64("data"))?);
        // Room for longer IVs and tags than sops writes, to name them by their length.
        let mut iv_buf = [0u8; 48];
        let iv_len =
            go_base64::decode_to_slice(iv, &mut iv_buf).ok_or(CipherError::Base64("iv"))?;
        let iv = &iv_buf[..iv_len];
        let mut tag_buf = [0u8; 24];
        let tag_len =
            go_base64::decode_to_slice(tag, &mut tag_buf).ok_or(CipherError::Base64("tag"))?;
        if tag_len != TAG_LEN {
            return Err(CipherError::BadLength);
        }
        let tag = Tag::from_slice(&tag_buf[..TAG_LEN]);
        let ok = match iv.len() {
            32 => self.gcm32.decrypt_in_place_detached(
                GenericArray::from_slice(iv),
                aad,
                buf.expose_mut(),
                tag,
            ),
            12 => self.gcm12.decrypt_in_place_detached(
                GenericArray::from_slice(iv),
                aad,
                buf.expose_mut(),
                tag,
            ),
            _ => return Err(CipherError::BadLength),
        };
        ok.map_err(|_| CipherError::Authentication)?;
        Ok((buf, kind))
    }

    /// Encrypts plaintext bytes with the given IV and AAD into an `ENC[...]` string.
    ///
    /// This is AES-256-GCM with a 32-byte IV exactly as `gcm32` computes it, in one pass (see
    /// `Encryption`).
    pub fn encrypt_with_iv(
        &self,
        plaintext: &[u8],
        kind: ValueType,
        aad: &[u8],
        iv: &[u8; 32],
    ) -> String {
        // Exactly the text's length: a large value's buffer must not double for the last few
        // bytes (that copied a 13 MiB text and touched twice its memory).
        let mut out = String::with_capacity(encrypted_len(plaintext.len(), kind));
        let mut encryption = self.begin_with_iv(kind, aad, iv, &mut out);
        encryption.update(plaintext, &mut out);
        encryption.finish(&mut out);
        out
    }

    /// Starts encrypting a value a piece at a time, with a fresh random IV (see `Encryption`).
    pub fn begin(&self, kind: ValueType, aad: &[u8], out: &mut String) -> Encryption<'_> {
        let iv = self.ivs.borrow_mut().take();
        self.begin_with_iv(kind, aad, &iv, out)
    }

    fn begin_with_iv(
        &self,
        kind: ValueType,
        aad: &[u8],
        iv: &[u8; 32],
        out: &mut String,
    ) -> Encryption<'_> {
        // The initial counter block J0 of an IV that is not 12 bytes: GHASH of the IV, then
        // of its length in bits.
        let mut j0 = self.ghash.clone();
        j0.update_padded(iv);
        j0.update(&[length_block(0, iv.len())]);
        let j0 = j0.finalize();
        let core = ctr::CtrCore::<&Aes256, ctr::flavors::Ctr32BE>::inner_iv_init(&self.aes, &j0);
        let mut ctr = ctr::Ctr32BE::from_core(core);
        // The first counter block masks the tag; the data uses the ones after it.
        let mut mask = ghash::Block::default();
        ctr.apply_keystream(&mut mask);
        let mut tag = self.ghash.clone();
        tag.update_padded(aad);
        out.push_str("ENC[AES256_GCM,data:");
        Encryption {
            ctr,
            tag,
            mask,
            iv: *iv,
            kind,
            aad_len: aad.len(),
            len: 0,
            ended: false,
        }
    }
    /// Encrypts with a fresh random IV.
    pub fn encrypt(&self, plaintext: &[u8], kind: ValueType, aad: &[u8]) -> String {
        let iv = self.ivs.borrow_mut().take();
        self.encrypt_with_iv(plaintext, kind, aad, &iv)
    }
}

/// One value being encrypted with sops's 32-byte IV (GCM as `gcm32` computes it, NIST SP
/// 800-38D) a piece at a time, its `ENC[...]` text appended to a buffer as it is made: each
/// `CHUNK` is encrypted into a small scratch buffer, added to the tag and base64-encoded while
/// it is in cache, so neither the plaintext nor the ciphertext is ever copied whole, and a
/// large value can be written out piece by piece. Pieces given to `update` are whole `CHUNK`s
/// but for the last one.
pub struct Encryption<'c> {
    ctr: ctr::Ctr32BE<&'c Aes256>,
    tag: GHash,
    mask: ghash::Block,
    iv: [u8; 32],
    kind: ValueType,
    aad_len: usize,
    len: usize,
    /// A piece that was not whole chunks came: it was the last.
    ended: bool,
}

impl Encryption<'_> {
    /// Encrypts the next piece of the value, appending its text to `out`.
    pub fn update(&mut self, plaintext: &[u8], out: &mut String) {
        assert!(!self.ended, "only the last piece may be a partial chunk");
        self.ended = !plaintext.len().is_multiple_of(CHUNK);
        self.len += plaintext.len();
        let mut scratch = [0u8; CHUNK];
        for chunk in plaintext.chunks(CHUNK) {
            let sealed = &mut scratch[..chunk.len()];
            self.ctr
                .apply_keystream_b2b(chunk, sealed)
                .expect("the scratch chunk has the plaintext chunk's length");
            self.tag.update_padded(sealed);
            B64.encode_string(&sealed[..], out);
        }
    }

    /// Appends the rest of the text: IV, tag and type.
    pub fn finish(self, out: &mut String) {
        let mut tag = self.tag;
        tag.update(&[length_block(self.aad_len, self.len)]);
        let mut tag = tag.finalize();
        for (t, m) in tag.iter_mut().zip(self.mask.iter()) {
            *t ^= m;
        }
        out.push_str(",iv:");
        B64.encode_string(self.iv, out);
        out.push_str(",tag:");
        B64.encode_string(tag, out);
        out.push_str(",type:");
        out.push_str(self.kind.name());
        out.push(']');
    }
}

/// Plaintext handled per step of an `Encryption`: a whole number of AES blocks (so only the
/// last chunk is partial for GHASH and the counter) and of 3-byte base64 groups (so the chunks'
/// base64 texts join without padding).
pub(crate) const CHUNK: usize = 3 * 1024;

/// The length of a GCM tag as sops stores it.
const TAG_LEN: usize = 16;

/// The length of the `ENC[...]` text of a `plaintext_len`-byte value (with sops's 32-byte IV).
pub fn encrypted_len(plaintext_len: usize, kind: ValueType) -> usize {
    let b64_len = |n| base64::encoded_len(n, true).expect("a length that fits in memory");
    "ENC[AES256_GCM,data:,iv:,tag:,type:]".len()
        + kind.name().len()
        + b64_len(plaintext_len)
        + b64_len(32)
        + b64_len(TAG_LEN)
}

/// GCM's final GHASH block: the AAD and text lengths in bits, big-endian.
fn length_block(aad_len: usize, text_len: usize) -> ghash::Block {
    let mut block = ghash::Block::default();
    block[..8].copy_from_slice(&(aad_len as u64 * 8).to_be_bytes());
    block[8..].copy_from_slice(&(text_len as u64 * 8).to_be_bytes());
    block
}

/// Decrypts one `ENC[...]` string (see `ValueCipher` for many).
pub fn decrypt(
    key: &DataKey,
    enc: &str,
    aad: &[u8],
) -> Result<(SecretBuf, ValueType), CipherError> {
    ValueCipher::new(key).decrypt(enc.as_bytes(), aad)
}

/// A fresh random 32-byte IV.
pub fn random_iv() -> [u8; 32] {
    let mut iv = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut iv);
    iv
}

/// Encrypts one value with the given IV (see `ValueCipher` for many).
pub fn encrypt_with_iv(
    key: &DataKey,
    plaintext: &[u8],
    kind: ValueType,
    aad: &[u8],
    iv: &[u8; 32],
) -> String {
    ValueCipher::new(key).encrypt_with_iv(plaintext, kind, aad, iv)
}

/// Encrypts one value with a fresh random IV.
pub fn encrypt(key: &DataKey, plaintext: &[u8], kind: ValueType, aad: &[u8]) -> String {
    encrypt_with_iv(key, plaintext, kind, aad, &random_iv())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kat_key() -> DataKey {
        DataKey::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn pooled_ivs_are_fresh_across_batches_and_wiped_once_given() {
        let mut pool = IvPool::new();
        let ivs: std::collections::HashSet<[u8; 32]> =
            (0..3 * IV_BATCH + 5).map(|_| pool.take()).collect();
        assert_eq!(ivs.len(), 3 * IV_BATCH + 5);
        assert!(pool.bytes[..pool.next].iter().all(|&b| b == 0));
        // Through the cipher: every value gets its own IV.
        let cipher = ValueCipher::new(&kat_key());
        let iv_of = |enc: String| {
            enc.split(",iv:")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_string()
        };
        let seen: std::collections::HashSet<String> = (0..300)
            .map(|_| iv_of(cipher.encrypt(b"x", ValueType::Str, b"k:")))
            .collect();
        assert_eq!(seen.len(), 300);
    }

    #[test]
    fn one_pass_encryption_is_aes_gcm_at_every_length() {
        // The chunked encryptor against aes-gcm's one-shot AEAD: lengths around the AES block,
        // the base64 group and the chunk size, and a multi-chunk value, with AADs of
        // different lengths.
        let cipher = ValueCipher::new(&kat_key());
        let mut lengths = vec![0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49];
        for k in 1..4 {
            lengths.extend([k * CHUNK - 1, k * CHUNK, k * CHUNK + 1, k * CHUNK + 16]);
        }
        lengths.push(1 << 20 | 5);
        for (n, len) in lengths.into_iter().enumerate() {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 + n) as u8).collect();
            let aad = "k:".repeat(n % 5).into_bytes();
            let iv = [n as u8 ^ 0x5a; 32];
            let mut reference = plain.clone();
            let tag = cipher
                .gcm32
                .encrypt_in_place_detached(GenericArray::from_slice(&iv), &aad, &mut reference)
                .unwrap();
            let expected = format!(
                "ENC[AES256_GCM,data:{},iv:{},tag:{},type:bytes]",
                B64.encode(&reference),
                B64.encode(iv),
                B64.encode(tag)
            );
            let got = cipher.encrypt_with_iv(&plain, ValueType::Bytes, &aad, &iv);
            assert!(got == expected, "length {len}: differs from aes-gcm");
            assert_eq!(
                got.capacity(),
                got.len(),
                "length {len}: the text was reallocated"
            );
            // A piece at a time (whole chunks but the last), as a large file is written.
            for piece in [CHUNK, 2 * CHUNK, 16 * CHUNK] {
                let mut text = String::new();
                let mut encryption = cipher.begin_with_iv(ValueType::Bytes, &aad, &iv, &mut text);
                for part in plain.chunks(piece) {
                    encryption.update(part, &mut text);
                }
                encryption.finish(&mut text);
                assert!(text == expected, "length {len} in pieces of {piece}");
            }
        }
    }

    #[test]
    fn spec_value_vector() {
        // SOPS-SPEC 2.6
        let enc = encrypt_with_iv(
            &kat_key(),
            b"hunter2",
            ValueType::Str,
            b"password:",
            &[2; 32],
        );
        assert_eq!(
            enc,
            "ENC[AES256_GCM,data:Bw6XMS+wBQ==,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:gzuLn2ak2Q6j3TRQRjLoaA==,type:str]"
        );
        let (plain, kind) = decrypt(&kat_key(), &enc, b"password:").unwrap();
        assert_eq!(plain.expose(), b"hunter2");
        assert_eq!(kind, ValueType::Str);
    }

    #[test]
    fn sops_repository_vector() {
        // aes/cipher_test.go in sops: key = 32 ASCII 'f', AAD "bar:", plaintext "foo".
        let key = DataKey::from_slice(&[b'f'; 32]).unwrap();
        let enc = "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]";
        let (plain, _) = decrypt(&key, enc, b"bar:").unwrap();
        assert_eq!(plain.expose(), b"foo");
    }

    #[test]
    fn wrong_aad_or_tampering_fails_authentication() {
        let enc = encrypt(&kat_key(), b"v", ValueType::Int, b"a:");
        assert_eq!(
            decrypt(&kat_key(), &enc, b"b:").unwrap_err(),
            CipherError::Authentication
        );
        let tampered = enc.replacen("data:", "data:A", 1);
        assert!(decrypt(&kat_key(), &tampered, b"a:").is_err());
    }

    #[test]
    fn malformed_values_are_rejected() {
        for bad in [
            "",
            "ENC[",
            "plain",
            "ENC[AES256_GCM,data:,iv:a,tag:b,type:str]",
            "ENC[AES256_GCM,data:AA==,iv:!!,tag:AA==,type:str]",
            "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]",
        ] {
            assert!(decrypt(&kat_key(), bad, b"").is_err(), "{bad}");
        }
        let enc = encrypt(&kat_key(), b"v", ValueType::Str, b"");
        let unknown = enc.replace("type:str", "type:weird");
        assert_eq!(
            decrypt(&kat_key(), &unknown, b"").unwrap_err(),
            CipherError::UnknownType("weird".into())
        );
    }

    #[test]
    fn reads_values_as_sops_reads_them() {
        // SOPS-SPEC 2.6's value, as Go's regexp and base64 decoder read it: text after the
        // `]` that ends the first line is ignored, a line feed before it is a malformed
        // value, a CR is skipped, and unused bits in the tag's last digit are ignored.
        let enc = "ENC[AES256_GCM,data:Bw6XMS+wBQ==,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:gzuLn2ak2Q6j3TRQRjLoaA==,type:str]";
        let reads = |text: &str| decrypt(&kat_key(), text, b"password:").map(|(p, _)| p);
        assert_eq!(reads(&format!("{enc}\nx]")).unwrap().expose(), b"hunter2");
        assert_eq!(
            reads(&format!("{enc}x]")).unwrap_err(),
            CipherError::UnknownType("str]x".into())
        );
        assert_eq!(
            reads(&enc.replace("data:Bw6X", "data:Bw6X\n")).unwrap_err(),
            CipherError::Malformed
        );
        let cr = enc
            .replace("data:Bw6X", "data:Bw6X\r")
            .replace("iv:AgIC", "iv:\rAgIC");
        assert_eq!(reads(&cr).unwrap().expose(), b"hunter2");
        let loose_tag = enc.replace("RjLoaA==", "RjLoaB==");
        assert_eq!(reads(&loose_tag).unwrap().expose(), b"hunter2");
    }
}
