//! age master keys: wrap the data key for X25519 and SSH recipients, and find the identities
//! that unwrap it exactly where sops looks for them.

use crate::env::Environment;
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age::{Identity, Recipient};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::str::FromStr;
use zeroize::Zeroizing;

/// A recipient that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AgeError {
    #[error("failed to parse age recipient {0:?}: unknown recipient type")]
    UnknownRecipient(String),
    #[error("failed to parse age recipient {recipient:?}: {reason}")]
    BadRecipient { recipient: String, reason: String },
    #[error("failed to encrypt the data key for age recipient {0}")]
    Encrypt(String),
}

/// Parses an age recipient as sops accepts it: `age1…` (X25519) or an SSH public key.
pub fn parse_recipient(recipient: &str) -> Result<Box<dyn Recipient + Send>, AgeError> {
    let r = recipient.trim();
    if r.starts_with("ssh-") {
        return age::ssh::Recipient::from_str(r)
            .map(|x| Box::new(x) as Box<dyn Recipient + Send>)
            .map_err(|e| AgeError::BadRecipient {
                recipient: r.into(),
                reason: format!("{e:?}"),
            });
    }
    if r.starts_with("age1") {
        return age::x25519::Recipient::from_str(r)
            .map(|x| Box::new(x) as Box<dyn Recipient + Send>)
            .map_err(|e| AgeError::BadRecipient {
                recipient: r.into(),
                reason: if r.matches('1').count() > 1 {
                    "age plugin and post-quantum recipients are not supported by sesame".into()
                } else {
                    e.to_string()
                },
            });
    }
    Err(AgeError::UnknownRecipient(r.into()))
}

/// Encrypts `secret` (the data key or a Shamir share) to one recipient as an armored age file,
/// the form sops stores in `enc`.
pub fn wrap(recipient: &str, secret: &[u8]) -> Result<String, AgeError> {
    let parsed = parse_recipient(recipient)?;
    let fail = || AgeError::Encrypt(recipient.trim().to_string());
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&*parsed as &dyn Recipient))
        .map_err(|_| fail())?;
    let armored =
        ArmoredWriter::wrap_output(Vec::new(), ArmorFormat::AsciiArmor).map_err(|_| fail())?;
    let mut writer = encryptor.wrap_output(armored).map_err(|_| fail())?;
    writer.write_all(secret).map_err(|_| fail())?;
    let armored = writer.finish().map_err(|_| fail())?;
    let bytes = armored.finish().map_err(|_| fail())?;
    String::from_utf8(bytes).map_err(|_| fail())
}

/// The identities found on this machine, with what was looked at and what went wrong, for
/// the failure report.
#[derive(Default)]
pub struct Identities {
    pub identities: Vec<Box<dyn Identity>>,
    /// Where identities could have been but were not (unset variables, missing files).
    pub unused_locations: Vec<String>,
    /// Sources that exist but could not be read.
    pub errors: Vec<String>,
}

impl Identities {
    /// Loads every identity source sops reads, in sops's order: SSH keys
    /// (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, `~/.ssh/id_ed25519`,
    /// `~/.ssh/id_rsa`), then `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD` and the
    /// default `keys.txt` in the user config directory; then, sesame's own, the OS keyring.
    pub fn discover(env: &dyn Environment) -> Identities {
        let mut ids = Identities::default();
        let timeout = crate::env::command_timeout(env);
        match env.var("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => ids.add_ssh(&Zeroizing::new(bytes), &path),
                Err(e) => ids
                    .errors
                    .push(format!("failed to open SSH key file {path}: {e}")),
            },
            None => ids
                .unused_locations
                .push("SOPS_AGE_SSH_PRIVATE_KEY_FILE".into()),
        }
        if let Some(cmd) = env.var("SOPS_AGE_SSH_PRIVATE_KEY_CMD")
            && let Some(out) = ids.run_command("SOPS_AGE_SSH_PRIVATE_KEY_CMD", &cmd, &timeout)
        {
            ids.add_ssh(&out, "SOPS_AGE_SSH_PRIVATE_KEY_CMD");
        }
        if let Some(home) = env.home() {
            for name in ["id_ed25519", "id_rsa"] {
                let path = home.join(".ssh").join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => ids.add_ssh(&Zeroizing::new(bytes), &path.display().to_string()),
                    Err(_) => ids.unused_locations.push(path.display().to_string()),
                }
            }
        }
        let before = ids.identities.len();
        match env.var("SOPS_AGE_KEY").map(Zeroizing::new) {
            Some(keys) => ids.add_key_file(keys.as_bytes(), "SOPS_AGE_KEY"),
            None => ids.unused_locations.push("SOPS_AGE_KEY".into()),
        }
        match env.var("SOPS_AGE_KEY_FILE") {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => ids.add_key_file(&Zeroizing::new(bytes), &path),
                Err(e) => ids
                    .errors
                    .push(format!("failed to open SOPS_AGE_KEY_FILE file {path}: {e}")),
            },
            None => ids.unused_locations.push("SOPS_AGE_KEY_FILE".into()),
        }
        match env.var("SOPS_AGE_KEY_CMD") {
            Some(cmd) => {
                if let Some(out) = ids.run_command("SOPS_AGE_KEY_CMD", &cmd, &timeout) {
                    ids.add_key_file(&out, "SOPS_AGE_KEY_CMD");
                }
            }
            None => ids.unused_locations.push("SOPS_AGE_KEY_CMD".into()),
        }
        if let Some(path) = default_key_file(env) {
            match std::fs::read(&path) {
                Ok(bytes) => ids.add_key_file(&Zeroizing::new(bytes), &path.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // sops compat: the default file is only reported when nothing else was given.
                    if ids.identities.len() == before {
                        ids.unused_locations.push(path.display().to_string());
                    }
                }
                Err(e) => ids
                    .errors
                    .push(format!("failed to open {}: {e}", path.display())),
            }
        }
        if env.os_keyring() {
            ids.add_keyring();
        }
        ids
    }

    /// Identities from `sesame identity add`. A keyring that is empty, missing or refused is
    /// only a place looked at (shown if decryption fails); a few syscalls, no prompt.
    fn add_keyring(&mut self) {
        use crate::keys::keyring::{self, KeyringError};
        match keyring::load() {
            Ok(found) if found.is_empty() => self.unused_locations.push(keyring::place().into()),
            Ok(found) => self
                .identities
                .extend(found.into_iter().map(|i| Box::new(i) as Box<dyn Identity>)),
            Err(e @ KeyringError::Corrupt { .. }) => self.errors.push(e.to_string()),
            Err(e) => self
                .unused_locations
                .push(format!("{} ({e})", keyring::place())),
        }
    }

    /// Runs a key command (`SOPS_AGE_KEY_CMD`, ...) with the configured time limit.
    fn run_command(
        &mut self,
        var: &str,
        cmd: &str,
        timeout: &Result<Option<std::time::Duration>, String>,
    ) -> Option<Zeroizing<Vec<u8>>> {
        let timeout = match timeout {
            Ok(t) => *t,
            Err(e) => {
                self.errors.push(e.clone());
                return None;
            }
        };
        match crate::env::run_command(cmd, timeout) {
            Ok(out) => Some(out),
            Err(e) => {
                self.errors
                    .push(format!("failed to execute command {cmd} from {var}: {e}"));
                None
            }
        }
    }

    fn add_ssh(&mut self, bytes: &[u8], source: &str) {
        match age::ssh::Identity::from_buffer(bytes, Some(source.to_string())) {
            Ok(age::ssh::Identity::Unencrypted(key)) => {
                self.identities
                    .push(Box::new(age::ssh::Identity::Unencrypted(key)));
            }
            Ok(age::ssh::Identity::Encrypted(_)) => self.errors.push(format!(
                "the SSH key {source} is passphrase-protected, which sesame cannot unlock yet; use an unprotected key or an age identity"
            )),
            Ok(age::ssh::Identity::Unsupported(_)) => self
                .errors
                .push(format!("the SSH key {source} is of an unsupported type")),
            Err(e) => self
                .errors
                .push(format!("failed to parse SSH key {source}: {e}")),
        }
    }

    fn add_key_file(&mut self, bytes: &[u8], source: &str) {
        if bytes.starts_with(b"age-encryption") || bytes.starts_with(b"-----BEGIN AGE") {
            self.errors.push(format!(
                "the age identities in {source} are passphrase-protected, which sesame cannot unlock yet"
            ));
            return;
        }
        // sops compat: identities on one line may also be separated by spaces; comments and
        // blank lines are skipped.
        let mut normalized = Zeroizing::new(String::new());
        for line in String::from_utf8_lossy(bytes).lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                normalized.push_str(word);
                normalized.push('\n');
            }
        }
        let parsed = age::IdentityFile::from_buffer(normalized.as_bytes()).and_then(|f| {
            f.into_identities()
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
        match parsed {
            Ok(found) if found.is_empty() => self.unused_locations.push(source.into()),
            Ok(found) => self.identities.extend(found),
            Err(e) => self
                .errors
                .push(format!("failed to parse age identities from {source}: {e}")),
        }
    }

    /// Unwraps an armored `enc` with whichever identity matches.
    pub fn unwrap(&self, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        if self.identities.is_empty() {
            return Err(self.describe("failed to load age identities"));
        }
        let reader = ArmoredReader::new(enc.as_bytes());
        let decryptor = age::Decryptor::new(reader)
            .map_err(|e| format!("the stored age data key is malformed: {e}"))?;
        let mut stream = decryptor
            .decrypt(self.identities.iter().map(|i| i.as_ref() as &dyn Identity))
            .map_err(|e| {
                self.describe(&format!(
                    "failed to create reader for decrypting sops data key with age: {e}"
                ))
            })?;
        let mut out = Zeroizing::new(Vec::new());
        stream
            .read_to_end(&mut out)
            .map_err(|e| format!("failed to read the age-decrypted data key: {e}"))?;
        Ok(out)
    }

    fn describe(&self, what: &str) -> String {
        let mut s = what.to_string();
        if !self.errors.is_empty() {
            s.push_str(&format!(". Errors: {}", self.errors.join("; ")));
        }
        if !self.unused_locations.is_empty() {
            s.push_str(&format!(
                ". Did not find keys in locations {}",
                self.unused_locations.join(", ")
            ));
        }
        s
    }
}

/// `<user config dir>/sops/age/keys.txt`, as sops computes it.
fn default_key_file(env: &dyn Environment) -> Option<PathBuf> {
    let base = if cfg!(target_os = "macos") {
        env.var("XDG_CONFIG_HOME")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join("Library/Application Support")))
    } else if cfg!(windows) {
        env.var("AppData").map(PathBuf::from)
    } else {
        env.var("XDG_CONFIG_HOME")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join(".config")))
    }?;
    Some(base.join("sops").join("age").join("keys.txt"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FixedEnv;
    use std::collections::HashMap;

    fn env(vars: &[(&str, String)]) -> FixedEnv {
        FixedEnv(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    const TEST_IDENTITY: &str =
        "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
    const TEST_RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";

    #[test]
    fn wraps_in_go_compatible_armor_and_unwraps() {
        let enc = wrap(TEST_RECIPIENT, &[7u8; 32]).unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert!(enc.lines().all(|l| l.len() <= 64));
        let env = env(&[("SOPS_AGE_KEY", TEST_IDENTITY.to_string())]);
        let ids = Identities::discover(&env);
        assert_eq!(&ids.unwrap(&enc).unwrap()[..], &[7u8; 32]);
    }

    #[test]
    fn unwraps_the_spec_known_answer_key() {
        // SOPS-SPEC Appendix A: the data key 00..1f wrapped for the test identity.
        let enc = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBxZFRhNnUxMUhteCtuUTdV\nQTc1cGpweXJ1dmppSzE0VTFUZ3hSbERvd0JrCmlHUTdlUUV2bkVnaWtXTVZwNFdv\nTUQyZzlhZUZoMG12d2R0QW9BMHRnNE0KLS0tIGdxYTZJTFUzTVFTZ1pVdFZLWVdE\nYmxFeE9RKzZwblFsYlh4YmNJcmNaaDQKKJUd0ko/UfF6LhIBobo73msbNnRGhW77\nNqGGCWfAvVOBpb3lRysdk8oqEnUf3cIJFaI2yYrBfEzxAY5qAGPLTQ==\n-----END AGE ENCRYPTED FILE-----\n";
        let env = env(&[(
            "SOPS_AGE_KEY",
            format!("# comment\n\n{TEST_IDENTITY} {TEST_IDENTITY}"),
        )]);
        let key = Identities::discover(&env).unwrap(enc).unwrap();
        assert_eq!(&key[..], &(0u8..32).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn reports_where_it_looked() {
        let env = FixedEnv(HashMap::new());
        let err = Identities::discover(&env).unwrap("x").unwrap_err();
        assert!(err.contains("failed to load age identities"), "{err}");
        assert!(err.contains("SOPS_AGE_KEY_FILE"), "{err}");
    }

    #[test]
    fn rejects_unknown_recipients() {
        assert!(matches!(
            parse_recipient("pgp:1234"),
            Err(AgeError::UnknownRecipient(_))
        ));
        assert!(parse_recipient("age1notvalid").is_err());
    }
}
