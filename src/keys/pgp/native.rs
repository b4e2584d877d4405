//! OpenPGP in-process (sequoia, pure Rust): reading certificates, encrypting a data key to
//! one, decrypting with the unencrypted secret keys of key files.

use super::Wanted;
use openpgp::cert::prelude::*;
use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Fingerprint, KeyHandle};
use sequoia_openpgp as openpgp;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// Certificates read from key files (or exported from gpg).
#[derive(Default)]
pub(super) struct Certs(Vec<Cert>);

impl Certs {
    pub(super) fn parse(bytes: &[u8]) -> Result<Certs, String> {
        parse_certs(bytes).map(Certs)
    }

    pub(super) fn append(&mut self, other: Certs) {
        self.0.extend(other.0);
    }

    /// The primary fingerprints.
    pub(super) fn fingerprints(&self) -> Vec<String> {
        self.0.iter().map(|c| c.fingerprint().to_hex()).collect()
    }

    fn find(&self, wanted: &Wanted) -> Option<&Cert> {
        self.0.iter().find(|c| matches_cert(wanted, c))
    }

    pub(super) fn has(&self, wanted: &Wanted) -> bool {
        self.find(wanted).is_some()
    }

    pub(super) fn user_id(&self, wanted: &Wanted) -> Option<String> {
        self.find(wanted)?
            .userids()
            .next()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
    }

    pub(super) fn has_secret(&self) -> bool {
        self.0.iter().any(|c| c.is_tsk())
    }

    pub(super) fn has_secret_for(&self, wanted: &Wanted) -> bool {
        self.0.iter().any(|c| c.is_tsk() && matches_cert(wanted, c))
    }

    /// Encrypts to `wanted`'s certificate; `None` when no certificate here matches.
    pub(super) fn encrypt(&self, wanted: &Wanted, secret: &[u8]) -> Option<Result<String, String>> {
        self.find(wanted)
            .map(|cert| encrypt_to(cert, wanted, secret))
    }

    pub(super) fn decrypt(&self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        decrypt_with(&self.0, message)
    }
}

fn matches_key(wanted: &Wanted, fpr: &Fingerprint) -> bool {
    wanted.matches_hex(&fpr.to_hex())
}

fn matches_cert(wanted: &Wanted, cert: &Cert) -> bool {
    cert.keys()
        .any(|k| matches_key(wanted, &k.key().fingerprint()))
}

fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    let certs: Vec<Cert> = CertParser::from_bytes(bytes)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err("no OpenPGP certificate in it".into());
    }
    Ok(certs)
}

/// Encrypts to the newest valid encryption-capable key of `cert` (the one gpg would pick), or
/// to the exact subkey asked for with `!`.
fn encrypt_to(cert: &Cert, wanted: &Wanted, secret: &[u8]) -> Result<String, String> {
    let policy = StandardPolicy::new();
    let valid = cert
        .with_policy(&policy, None)
        .map_err(|e| format!("certificate {} is not valid: {e}", cert.fingerprint()))?;
    let mut keys: Vec<_> = valid
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .key_flags(
            openpgp::types::KeyFlags::empty()
                .set_transport_encryption()
                .set_storage_encryption(),
        )
        .filter(|k| !wanted.exact || matches_key(wanted, &k.key().fingerprint()))
        .collect();
    keys.sort_by_key(|k| k.key().creation_time());
    let key = keys.pop().ok_or_else(|| {
        format!(
            "certificate {} has no usable encryption key",
            cert.fingerprint()
        )
    })?;
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message)
        .kind(openpgp::armor::Kind::Message)
        .build()
        .map_err(|e| e.to_string())?;
    let message = Encryptor::for_recipients(message, std::iter::once(key))
        .build()
        .map_err(|e| e.to_string())?;
    let mut literal = LiteralWriter::new(message)
        .format(openpgp::types::DataFormat::Binary)
        .build()
        .map_err(|e| e.to_string())?;
    literal.write_all(secret).map_err(|e| e.to_string())?;
    literal.finalize().map_err(|e| e.to_string())?;
    String::from_utf8(sink).map_err(|e| e.to_string())
}

/// Decrypts a message with the unencrypted secret keys among `certs`.
fn decrypt_with(certs: &[Cert], message: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let policy = StandardPolicy::new();
    let helper = SecretKeys {
        certs,
        locked: Vec::new(),
    };
    let mut decryptor = DecryptorBuilder::from_bytes(message)
        .map_err(|e| format!("not an OpenPGP message: {e}"))?
        .with_policy(&policy, None, helper)
        .map_err(|e| e.to_string())?;
    let mut out = Zeroizing::new(Vec::new());
    decryptor.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Offers the secret keys of key files to the decryptor.
struct SecretKeys<'a> {
    certs: &'a [Cert],
    /// Matching keys that are passphrase-protected (sesame does not prompt; gpg can).
    locked: Vec<String>,
}

impl VerificationHelper for SecretKeys<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(Vec::new())
    }
    fn check(&mut self, _structure: MessageStructure) -> openpgp::Result<()> {
        // The data key is not signed; only confidentiality matters here.
        Ok(())
    }
}

impl DecryptionHelper for SecretKeys<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        for pkesk in pkesks {
            for cert in self.certs {
                for key in cert.keys().secret() {
                    let handle = KeyHandle::from(key.key().fingerprint());
                    if let Some(recipient) = pkesk.recipient()
                        && !recipient.aliases(&handle)
                    {
                        continue;
                    }
                    if !key.key().has_unencrypted_secret() {
                        self.locked.push(key.key().fingerprint().to_hex());
                        continue;
                    }
                    let mut pair = key.key().clone().into_keypair()?;
                    if pkesk
                        .decrypt(&mut pair, sym_algo)
                        .is_some_and(|(algo, sk)| decrypt(algo, &sk))
                    {
                        return Ok(Some(cert.clone()));
                    }
                }
            }
        }
        let why = if self.locked.is_empty() {
            "no secret key in the key files matches this data key".to_string()
        } else {
            format!(
                "the matching secret key {} is passphrase-protected (import it into gpg instead)",
                self.locked.join(", ")
            )
        };
        Err(openpgp::Error::InvalidOperation(why).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::pgp::Keyring;

    const RSA: &str = "C00974E4CF25A715D3CE81D962377BD1225D0C0E";
    const ED25519: &str = "5D99A110E55C302F150E3ECB26CCDE215B6BEB8B";

    fn fixture(name: &str) -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pgp/");
        std::fs::read(format!("{path}{name}")).unwrap()
    }

    /// A keyring that never falls back to a real gpg.
    fn ring(files: &[&str]) -> Keyring {
        let mut bytes = Vec::new();
        for f in files {
            bytes.extend(fixture(f));
        }
        Keyring::from_certs(&bytes)
            .unwrap()
            .with_gpg("/nonexistent/gpg")
    }

    #[test]
    fn wraps_with_public_keys_and_unwraps_with_secret_key_files() {
        for (fp, name) in [(RSA, "rsa"), (ED25519, "ed25519")] {
            let public = ring(&[&format!("{name}.pub.asc")]);
            let enc = public
                .wrap(fp, b"0123456789abcdef0123456789abcdef")
                .unwrap();
            assert!(enc.starts_with("-----BEGIN PGP MESSAGE-----"), "{enc}");
            assert!(enc.trim_end().ends_with("-----END PGP MESSAGE-----"));
            // The public key alone cannot decrypt, and says why.
            let err = public.unwrap(fp, &enc).unwrap_err();
            assert!(err.contains(fp) && err.contains("gpg"), "{err}");
            let secret = ring(&[&format!("{name}.sec.asc")]);
            let plain = secret.unwrap(fp, &enc).unwrap();
            assert_eq!(&plain[..], b"0123456789abcdef0123456789abcdef");
        }
    }

    #[test]
    fn the_other_secret_key_cannot_unwrap() {
        let enc = ring(&["rsa.pub.asc"]).wrap(RSA, b"secret").unwrap();
        let err = ring(&["ed25519.sec.asc"]).unwrap(RSA, &enc).unwrap_err();
        assert!(err.contains("no secret key in the key files"), "{err}");
    }

    #[test]
    fn fingerprints_match_with_spaces_lower_case_key_ids_and_subkeys() {
        let both = ring(&["rsa.pub.asc", "ed25519.pub.asc"]);
        let certs = both.certs();
        let cert = |w: &str| {
            certs
                .find(&Wanted::parse(w))
                .map(|c| c.fingerprint().to_hex())
        };
        assert_eq!(cert(&RSA.to_lowercase()).as_deref(), Some(RSA));
        assert_eq!(
            cert("5D99 A110 E55C 302F 150E  3ECB 26CC DE21 5B6B EB8B").as_deref(),
            Some(ED25519)
        );
        assert_eq!(cert("26CCDE215B6BEB8B").as_deref(), Some(ED25519));
        assert_eq!(cert("5B6BEB8B"), None, "8-digit ids are too short to trust");
        assert_eq!(cert("0000000000000000000000000000000000000000"), None);
        // The encryption subkey's own fingerprint finds its certificate.
        let ed = certs
            .0
            .iter()
            .find(|c| c.fingerprint().to_hex() == ED25519)
            .unwrap();
        let sub = ed
            .keys()
            .subkeys()
            .next()
            .unwrap()
            .key()
            .fingerprint()
            .to_hex();
        assert_eq!(cert(&format!("{sub}!")).as_deref(), Some(ED25519));
        let enc = both.wrap(&format!("{sub}!"), b"k").unwrap();
        assert_eq!(
            &ring(&["ed25519.sec.asc"]).unwrap(ED25519, &enc).unwrap()[..],
            b"k"
        );
    }

    #[test]
    fn unknown_fingerprint_names_where_it_looked() {
        let err = ring(&["rsa.pub.asc"]).wrap(ED25519, b"k").unwrap_err();
        assert!(
            err.contains(ED25519) && err.contains("/nonexistent/gpg"),
            "{err}"
        );
    }
}
