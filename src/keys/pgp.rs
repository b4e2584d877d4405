//! PGP master keys. Wrapping encrypts the data key in-process (`native`: sequoia, pure Rust)
//! to a certificate found in armored key files or exported from the user's gpg keyring;
//! unwrapping uses an armored secret key file in-process when one is given (as Flux mounts
//! them), else the user's `gpg` (agent, pinentry, smartcards), as sops does. A build without
//! the `pgp` feature has no in-process OpenPGP and uses gpg for both, as sops.

use crate::env::Environment;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

#[cfg(feature = "pgp")]
mod native;
#[cfg(feature = "pgp")]
use native::Certs;

/// Armored key files (public or secret) named by this variable, separated like `PATH`.
pub const KEY_FILE_VAR: &str = "SESAME_PGP_KEY_FILE";
/// sops compat: the gpg binary to run instead of `gpg`.
pub const GPG_EXEC_VAR: &str = "SOPS_GPG_EXEC";
/// The public keys a repository commits for its recipients (Flux's convention).
pub const REPO_KEYS_FILE: &str = ".sops.pub.asc";

/// The OpenPGP certificates sesame can use without gpg, with what went wrong loading them.
#[derive(Default)]
pub struct Keyring {
    certs: Certs,
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
                Ok(bytes) => match Certs::parse(&bytes) {
                    Ok(certs) => {
                        ring.certs.append(certs);
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
            certs: Certs::parse(bytes)?,
            ..Keyring::default()
        })
    }

    /// This keyring with another gpg binary (tests: one that does not exist).
    #[cfg(test)]
    fn with_gpg(mut self, gpg: &str) -> Keyring {
        self.gpg = Some(gpg.into());
        self
    }

    #[cfg(all(test, feature = "pgp"))]
    fn certs(&self) -> &Certs {
        &self.certs
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

    /// The public key for `wanted` exported from gpg's keyring (armored or binary), when it
    /// has one.
    fn export(&self, wanted: &Wanted) -> Result<Zeroizing<Vec<u8>>, String> {
        let exported = self
            .gpg(&["--batch", "--no-tty", "--export", &wanted.text], b"")
            .map_err(|e| {
                format!("public key not found in key files, and gpg export failed: {e}")
            })?;
        if exported.is_empty() {
            return Err(format!(
                "no public key for {} in gpg's keyring{}",
                wanted.text,
                self.files_note()
            ));
        }
        Ok(exported)
    }

    /// Encrypts `secret` in-process to `wanted`'s certificate, from the key files, else
    /// exported from gpg.
    fn encrypt_in_process(&self, wanted: &Wanted, secret: &[u8]) -> Result<String, String> {
        if let Some(done) = self.certs.encrypt(wanted, secret) {
            return done;
        }
        let exported = self.export(wanted)?;
        Certs::parse(&exported)?
            .encrypt(wanted, secret)
            .unwrap_or_else(|| Err(format!("gpg exported no key matching {}", wanted.text)))
    }

    /// Adds the certificates of an armored key file (a recipient added in the editor); returns
    /// their primary fingerprints.
    pub fn import(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        let certs = Certs::parse(bytes)?;
        let fps = certs.fingerprints();
        self.certs.append(certs);
        Ok(fps)
    }

    /// Whether a public key for `fingerprint` can be found (key files or gpg), so a data key
    /// can be wrapped for it.
    pub fn public_key_problem(&self, fingerprint: &str) -> Option<String> {
        let wanted = Wanted::parse(fingerprint);
        if self.certs.has(&wanted) {
            return None;
        }
        self.export(&wanted).err()
    }

    /// The primary user id of `fingerprint`'s certificate, from the key files or gpg's
    /// keyring (nothing is fetched).
    pub fn user_id(&self, fingerprint: &str) -> Option<String> {
        let wanted = Wanted::parse(fingerprint);
        if let Some(id) = self.certs.user_id(&wanted) {
            return Some(id);
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
        if self.certs.has_secret_for(&wanted) {
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
        match self.encrypt_in_process(&wanted, secret) {
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
        if self.certs.has_secret() {
            match self.certs.decrypt(enc.as_bytes()) {
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
/// (Without in-process OpenPGP only its text is used, by gpg.)
#[cfg_attr(not(feature = "pgp"), allow(dead_code))]
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

    /// Whether a key with this fingerprint (upper-case hex) is the one asked for: the whole
    /// fingerprint, or a key id of at least 16 digits at its end.
    #[cfg_attr(not(feature = "pgp"), allow(dead_code))]
    fn matches_hex(&self, full: &str) -> bool {
        !self.hex.is_empty()
            && (full == self.hex || (self.hex.len() >= 16 && full.ends_with(&self.hex)))
    }
}

/// sops compat: the 16-hex-digit id gpg gets as `--trusted-key` (keeping a trailing `!`).
fn short_id(fingerprint: &str) -> &str {
    let keep = if fingerprint.ends_with('!') { 17 } else { 16 };
    &fingerprint[fingerprint.len().saturating_sub(keep)..]
}

/// Without the `pgp` feature: no certificate is read in-process, so every operation goes
/// through gpg, as in sops.
#[cfg(not(feature = "pgp"))]
#[derive(Default)]
struct Certs;

#[cfg(not(feature = "pgp"))]
impl Certs {
    const ABSENT: &str = "in-process OpenPGP is not in this build (cargo feature pgp); gpg is used";

    fn parse(_bytes: &[u8]) -> Result<Certs, String> {
        Err(Certs::ABSENT.into())
    }
    fn append(&mut self, _other: Certs) {}
    fn fingerprints(&self) -> Vec<String> {
        Vec::new()
    }
    fn has(&self, _wanted: &Wanted) -> bool {
        false
    }
    fn user_id(&self, _wanted: &Wanted) -> Option<String> {
        None
    }
    fn has_secret(&self) -> bool {
        false
    }
    fn has_secret_for(&self, _wanted: &Wanted) -> bool {
        false
    }
    fn encrypt(&self, _wanted: &Wanted, _secret: &[u8]) -> Option<Result<String, String>> {
        Some(Err(Certs::ABSENT.into()))
    }
    fn decrypt(&self, _message: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        Err(Certs::ABSENT.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = "C00974E4CF25A715D3CE81D962377BD1225D0C0E";

    #[test]
    fn fingerprints_match_whole_or_by_a_long_enough_key_id() {
        let w = |t: &str| Wanted::parse(t);
        assert!(w(&RSA.to_lowercase()).matches_hex(RSA));
        assert!(w("C009 74E4 CF25 A715 D3CE  81D9 6237 7BD1 225D 0C0E").matches_hex(RSA));
        assert!(w("62377BD1225D0C0E").matches_hex(RSA));
        assert!(
            !w("225D0C0E").matches_hex(RSA),
            "8-digit ids are too short to trust"
        );
        assert!(!w("").matches_hex(RSA));
        assert!(w(&format!("{RSA}!")).exact);
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
