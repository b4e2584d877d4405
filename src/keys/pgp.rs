//! PGP master keys. Wrapping encrypts the data key in-process (sequoia, pure Rust) to a
//! certificate found in armored key files or exported from the user's gpg keyring; unwrapping
//! uses an armored secret key file in-process when one is given (as Flux mounts them), else the
//! user's `gpg` (agent, pinentry, smartcards), as sops does.

use crate::env::Environment;
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
use std::path::PathBuf;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// Armored key files (public or secret) named by this variable, separated like `PATH`.
pub const KEY_FILE_VAR: &str = "SESAME_PGP_KEY_FILE";
/// sops compat: the gpg binary to run instead of `gpg`.
pub const GPG_EXEC_VAR: &str = "SOPS_GPG_EXEC";
/// The public keys a repository commits for its recipients (Flux's convention).
pub const REPO_KEYS_FILE: &str = ".sops.pub.asc";

/// The OpenPGP certificates sesame can use without gpg, with what went wrong loading them.
#[derive(Default)]
pub struct Keyring {
    certs: Vec<Cert>,
    /// Files that were read, for reports.
    pub sources: Vec<PathBuf>,
    /// Files that exist but could not be read or parsed.
    pub errors: Vec<String>,
    gpg: Option<String>,
    gnupg_home: Option<String>,
}

impl Keyring {
    /// Loads the files named by `SESAME_PGP_KEY_FILE` and every `.sops.pub.asc` in `dirs` or
    /// their parents.
    pub fn discover(env: &dyn Environment, dirs: &[PathBuf]) -> Keyring {
        let mut ring = Keyring {
            gpg: env.var(GPG_EXEC_VAR).filter(|s| !s.is_empty()),
            gnupg_home: env.var("GNUPGHOME").filter(|s| !s.is_empty()),
            ..Keyring::default()
        };
        let mut files: Vec<PathBuf> = Vec::new();
        if let Some(list) = env.var(KEY_FILE_VAR) {
            files.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
        }
        for dir in dirs {
            for ancestor in dir.ancestors() {
                let candidate = ancestor.join(REPO_KEYS_FILE);
                if candidate.is_file() {
                    files.push(candidate);
                }
            }
        }
        for file in files {
            if ring.sources.contains(&file) {
                continue;
            }
            match std::fs::read(&file) {
                Ok(bytes) => match parse_certs(&bytes) {
                    Ok(certs) => {
                        ring.certs.extend(certs);
                        ring.sources.push(file);
                    }
                    Err(e) => ring
                        .errors
                        .push(format!("{}: not an OpenPGP key file: {e}", file.display())),
                },
                Err(e) => ring.errors.push(format!("{}: {e}", file.display())),
            }
        }
        ring
    }

    /// A keyring holding just these certificates (tests, and keys added in the editor).
    pub fn from_certs(bytes: &[u8]) -> Result<Keyring, String> {
        Ok(Keyring {
            certs: parse_certs(bytes)?,
            ..Keyring::default()
        })
    }

    fn gpg_command(&self) -> Command {
        let mut c = Command::new(self.gpg.as_deref().unwrap_or("gpg"));
        if let Some(home) = &self.gnupg_home {
            c.env("GNUPGHOME", home);
        }
        c
    }

    /// Runs gpg with `input` on stdin; stdout on success, else gpg's own words.
    fn gpg(&self, args: &[&str], input: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let binary = self.gpg.as_deref().unwrap_or("gpg");
        let mut child = self
            .gpg_command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("could not run {binary}: {e} (install GnuPG or set {GPG_EXEC_VAR})")
            })?;
        // Write from a thread while reading: gpg may fill its stdout before it has read stdin.
        let mut stdin = child.stdin.take().expect("piped stdin");
        let owned = Zeroizing::new(input.to_vec());
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&owned);
        });
        let output = child
            .wait_with_output()
            .map_err(|e| format!("{binary}: {e}"))?;
        let _ = writer.join();
        let status = output.status;
        let stdout = Zeroizing::new(output.stdout);
        let stderr = output.stderr;
        if status.success() {
            Ok(stdout)
        } else {
            Err(gpg_reason(&String::from_utf8_lossy(&stderr)))
        }
    }

    /// The certificate for `fingerprint`: from the key files, else exported from gpg.
    fn cert(&self, fingerprint: &Wanted) -> Result<Cert, String> {
        if let Some(cert) = self.certs.iter().find(|c| fingerprint.matches_cert(c)) {
            return Ok(cert.clone());
        }
        let exported = self
            .gpg(&["--batch", "--no-tty", "--export", &fingerprint.text], b"")
            .map_err(|e| {
                format!("public key not found in key files, and gpg export failed: {e}")
            })?;
        if exported.is_empty() {
            return Err(format!(
                "no public key for {} in gpg's keyring{}",
                fingerprint.text,
                self.files_note()
            ));
        }
        parse_certs(&exported)?
            .into_iter()
            .find(|c| fingerprint.matches_cert(c))
            .ok_or_else(|| format!("gpg exported no key matching {}", fingerprint.text))
    }

    /// Adds the certificates of an armored key file (a recipient added in the editor); returns
    /// their primary fingerprints.
    pub fn import(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        let certs = parse_certs(bytes)?;
        let fps = certs.iter().map(|c| c.fingerprint().to_hex()).collect();
        self.certs.extend(certs);
        Ok(fps)
    }

    /// Whether a public key for `fingerprint` can be found (key files or gpg), so a data key
    /// can be wrapped for it.
    pub fn public_key_problem(&self, fingerprint: &str) -> Option<String> {
        self.cert(&Wanted::parse(fingerprint)).err()
    }

    /// The primary user id of `fingerprint`'s certificate, from the key files or gpg's
    /// keyring (nothing is fetched).
    pub fn user_id(&self, fingerprint: &str) -> Option<String> {
        let wanted = Wanted::parse(fingerprint);
        if let Some(cert) = self.certs.iter().find(|c| wanted.matches_cert(c)) {
            return cert
                .userids()
                .next()
                .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned());
        }
        let listed = self
            .gpg(
                &[
                    "--batch",
                    "--no-tty",
                    "--with-colons",
                    "--list-keys",
                    &wanted.text,
                ],
                b"",
            )
            .ok()?;
        // `uid:` records carry the user id in their tenth field, with `\x3a` for colons.
        String::from_utf8_lossy(&listed)
            .lines()
            .find(|l| l.starts_with("uid:"))
            .and_then(|l| l.split(':').nth(9))
            .map(|u| u.replace("\\x3a", ":"))
    }

    fn files_note(&self) -> String {
        if self.sources.is_empty() {
            format!(" (and no {KEY_FILE_VAR} or {REPO_KEYS_FILE} file was found)")
        } else {
            String::new()
        }
    }

    /// Where the secret key for `fingerprint` is, if this machine has it: a key file, or gpg's
    /// keyring (asked without unlocking anything).
    pub fn secret_location(&self, fingerprint: &str) -> Option<&'static str> {
        let wanted = Wanted::parse(fingerprint);
        if self
            .certs
            .iter()
            .any(|c| c.is_tsk() && wanted.matches_cert(c))
        {
            return Some("a key file");
        }
        let listed = self.gpg(
            &[
                "--batch",
                "--no-tty",
                "--with-colons",
                "--list-secret-keys",
                &wanted.text,
            ],
            b"",
        );
        listed
            .ok()
            .filter(|out| !out.is_empty())
            .map(|_| "gpg's keyring")
    }

    /// Encrypts `secret` for the key `fingerprint`, armored as sops stores it.
    pub fn wrap(&self, fingerprint: &str, secret: &[u8]) -> Result<String, String> {
        let wanted = Wanted::parse(fingerprint);
        let fail =
            |e: String| format!("could not encrypt the data key for PGP key {fingerprint}: {e}");
        match self
            .cert(&wanted)
            .and_then(|cert| encrypt_to(&cert, &wanted, secret))
        {
            Ok(armored) => Ok(armored),
            // sops compat: when the library cannot use the key, sops asks gpg itself.
            Err(first) => {
                let short = short_id(&wanted.text);
                let args = [
                    "--no-default-recipient",
                    "--yes",
                    "--encrypt",
                    "-a",
                    "-r",
                    wanted.text.as_str(),
                    "--trusted-key",
                    short,
                    "--no-encrypt-to",
                ];
                match self.gpg(&args, secret) {
                    Ok(out) => String::from_utf8(out.to_vec())
                        .map(|s| s.trim().to_string())
                        .map_err(|_| fail("gpg wrote non-text armor".into())),
                    Err(second) if first.contains(&second) => Err(fail(first)),
                    Err(second) => Err(fail(format!("{first}; gpg: {second}"))),
                }
            }
        }
    }

    /// Decrypts an `enc` value: with a secret key file in-process, else through gpg.
    pub fn unwrap(&self, fingerprint: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut notes = Vec::new();
        if self.certs.iter().any(|c| c.is_tsk()) {
            match decrypt_with(&self.certs, enc.as_bytes()) {
                Ok(secret) => return Ok(secret),
                Err(e) => notes.push(format!("key files: {e}")),
            }
        }
        match self.gpg(&["-d"], enc.as_bytes()) {
            // sops compat: an older gpg may drop AEAD packets and print nothing.
            Ok(out) if out.is_empty() => notes.push("gpg: zero bytes returned".into()),
            Ok(out) => return Ok(out),
            Err(e) => notes.push(format!("gpg: {e}")),
        }
        Err(format!(
            "could not decrypt the data key with PGP key {fingerprint}: {}",
            notes.join("; ")
        ))
    }
}

/// Why gpg failed, from its stderr: every line that says something failed (gpg's last line
/// alone, "decryption failed: No secret key", hides a wrong passphrase or a missing pinentry).
fn gpg_reason(stderr: &str) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for line in stderr.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = line.strip_prefix("gpg: ").unwrap_or(line);
        let lower = line.to_ascii_lowercase();
        let telling = [
            "failed",
            "error",
            "pinentry",
            "passphrase",
            "cancel",
            "not found",
        ]
        .iter()
        .any(|w| lower.contains(w));
        if telling && !reasons.contains(&line) {
            reasons.push(line);
        }
    }
    if reasons.is_empty() {
        let last = stderr.trim().lines().last().unwrap_or("failed");
        return last.strip_prefix("gpg: ").unwrap_or(last).to_string();
    }
    reasons.join("; ")
}

/// What to do about a PGP failure whose cause gpg named (a wrong passphrase, no pinentry to
/// ask for it, a cancelled prompt); `None` when the key itself seems to be missing.
pub fn advice(error: &str) -> Option<&'static str> {
    let lower = error.to_ascii_lowercase();
    if lower.contains("bad passphrase") {
        Some(
            "gpg was given a wrong passphrase for the PGP key: run the command again and type the right one",
        )
    } else if lower.contains("pinentry") || lower.contains("inappropriate ioctl") {
        Some(
            "gpg could not ask for the PGP key's passphrase: install a pinentry program, set GPG_TTY=$(tty), or unlock the key in gpg-agent first",
        )
    } else if lower.contains("cancel") {
        Some(
            "the passphrase prompt for the PGP key was cancelled: run the command again and enter it",
        )
    } else {
        None
    }
}

/// A fingerprint or key id as written in a file or config (`!` asks for exactly that subkey).
struct Wanted {
    text: String,
    hex: String,
    exact: bool,
}

impl Wanted {
    fn parse(fingerprint: &str) -> Wanted {
        let text: String = fingerprint.split_whitespace().collect();
        let exact = text.ends_with('!');
        let hex = text.trim_end_matches('!').to_ascii_uppercase();
        Wanted { text, hex, exact }
    }

    fn matches_key(&self, fpr: &Fingerprint) -> bool {
        let full = fpr.to_hex();
        !self.hex.is_empty()
            && (full == self.hex || (self.hex.len() >= 16 && full.ends_with(&self.hex)))
    }

    fn matches_cert(&self, cert: &Cert) -> bool {
        cert.keys()
            .any(|k| self.matches_key(&k.key().fingerprint()))
    }
}

/// sops compat: the 16-hex-digit id gpg gets as `--trusted-key` (keeping a trailing `!`).
fn short_id(fingerprint: &str) -> &str {
    let keep = if fingerprint.ends_with('!') { 17 } else { 16 };
    &fingerprint[fingerprint.len().saturating_sub(keep)..]
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
        .filter(|k| !wanted.exact || wanted.matches_key(&k.key().fingerprint()))
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
        let mut ring = Keyring::from_certs(&bytes).unwrap();
        ring.gpg = Some("/nonexistent/gpg".into());
        ring
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
        let cert = |w: &str| {
            both.certs
                .iter()
                .find(|c| Wanted::parse(w).matches_cert(c))
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
        let ed = both
            .certs
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

    #[test]
    fn short_ids_keep_the_exact_marker() {
        assert_eq!(short_id(RSA), "62377BD1225D0C0E");
        assert_eq!(short_id(&format!("{RSA}!")), "62377BD1225D0C0E!");
        assert_eq!(short_id("ABC"), "ABC");
    }

    #[test]
    fn gpg_failures_keep_their_reason_and_advice() {
        let bad = "gpg: encrypted with rsa3072 key, ID 1234ABCD, created 2026-01-01\n      \"Test <t@example.com>\"\ngpg: public key decryption failed: Bad passphrase\ngpg: decryption failed: No secret key\n";
        let reason = gpg_reason(bad);
        assert_eq!(
            reason,
            "public key decryption failed: Bad passphrase; decryption failed: No secret key"
        );
        assert!(advice(&reason).unwrap().contains("wrong passphrase"));
        let no_pinentry = "gpg: public key decryption failed: No pinentry\ngpg: decryption failed: No secret key\n";
        assert!(
            advice(&gpg_reason(no_pinentry))
                .unwrap()
                .contains("pinentry")
        );
        let missing = "gpg: encrypted with RSA key, ID 99\ngpg: decryption failed: No secret key\n";
        assert_eq!(gpg_reason(missing), "decryption failed: No secret key");
        assert_eq!(advice(&gpg_reason(missing)), None);
        assert_eq!(gpg_reason("gpg: something odd\n"), "something odd");
    }
}
