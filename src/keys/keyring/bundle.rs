//! The text kept in the keyring entry, and the identity lines users give to `identity add`.
//!
//! Stored form: a header line, then one line per identity, `AGE-SECRET-KEY-1… [name]`. The
//! recipient is derived from the secret on every read, so the two cannot drift apart.

use super::{KeyringError, Listed};
use age::secrecy::ExposeSecret;
use age::x25519;
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// First line of the stored text; a future format gets a new header.
const HEADER: &str = "# sesame age identities v1";

/// Longest accepted identity name, in characters.
const MAX_NAME: usize = 64;

/// One stored identity: the secret, its recipient and an optional name.
#[derive(Clone)]
pub struct Stored {
    identity: x25519::Identity,
    recipient: String,
    name: Option<String>,
}

impl Stored {
    pub(super) fn identity(&self) -> &x25519::Identity {
        &self.identity
    }

    /// The recipient and name, for listings.
    pub fn listed(&self) -> Listed {
        Listed {
            recipient: self.recipient.clone(),
            name: self.name.clone(),
        }
    }
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stored")
            .field("recipient", &self.recipient)
            .field("name", &self.name)
            .field("identity", &"[redacted]")
            .finish()
    }
}

/// Every identity in the keyring entry, in the order they were added.
#[derive(Debug, Default)]
pub(super) struct Bundle {
    entries: Vec<Stored>,
}

impl Bundle {
    pub(super) fn entries(&self) -> &[Stored] {
        &self.entries
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads the stored text; `Err` says what is wrong without quoting it (it holds secrets).
    pub(super) fn parse(bytes: &[u8]) -> Result<Bundle, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("its first line is not {HEADER:?}"));
        }
        let mut bundle = Bundle::default();
        for (i, line) in lines.enumerate() {
            let (secret, name) = match line.split_once(' ') {
                Some((s, n)) => (s, Some(n.to_string())),
                None => (line, None),
            };
            let identity = x25519::Identity::from_str(secret)
                .map_err(|_| format!("line {} is not an age identity", i + 2))?;
            bundle
                .push(identity, name)
                .map_err(|e| format!("line {}: {e}", i + 2))?;
        }
        Ok(bundle)
    }

    /// The text to store; zeroized when dropped.
    pub(super) fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(32 + 90 * self.entries.len()));
        out.push_str(HEADER);
        out.push('\n');
        for s in &self.entries {
            out.push_str(s.identity.to_string().expose_secret());
            if let Some(n) = &s.name {
                out.push(' ');
                out.push_str(n);
            }
            out.push('\n');
        }
        out
    }

    /// Adds one identity, refusing a recipient or name already present; returns the recipient.
    pub(super) fn push(
        &mut self,
        identity: x25519::Identity,
        name: Option<String>,
    ) -> Result<String, KeyringError> {
        let recipient = identity.to_public().to_string();
        if let Some(old) = self.entries.iter().find(|s| s.recipient == recipient) {
            return Err(KeyringError::Duplicate {
                recipient,
                name: old.name.clone(),
            });
        }
        if let Some(n) = &name
            && let Some(old) = self.entries.iter().find(|s| s.name.as_ref() == Some(n))
        {
            return Err(KeyringError::NameTaken {
                name: n.clone(),
                recipient: old.recipient.clone(),
            });
        }
        self.entries.push(Stored {
            identity,
            recipient: recipient.clone(),
            name,
        });
        Ok(recipient)
    }

    /// Takes out the identity whose recipient or name is `which`.
    pub(super) fn take(&mut self, which: &str) -> Option<Listed> {
        let at = self
            .entries
            .iter()
            .position(|s| s.recipient == which || s.name.as_deref() == Some(which))?;
        Some(self.entries.remove(at).listed())
    }
}

/// Checks a name given to `identity add`: one line of printable text that cannot be taken for
/// a recipient.
pub(super) fn check_name(name: &str) -> Result<(), KeyringError> {
    let bad = |reason: &str| {
        Err(KeyringError::BadName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.trim() != name {
        return bad("it starts or ends with a space");
    }
    if name.chars().count() > MAX_NAME {
        return bad("it is longer than 64 characters");
    }
    if name.chars().any(char::is_control) {
        return bad("it contains a control character (a tab or a line break)");
    }
    if name.starts_with("age1") || name.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        return bad("it looks like an age key; names are labels such as \"work laptop\"");
    }
    Ok(())
}

/// A line of `identity add` input that is not an age identity.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("line {line} is not an age identity (expected AGE-SECRET-KEY-1…){}", hint_for(.kind))]
    NotAnIdentity { line: usize, kind: Kind },
    #[error("no age identity found (expected lines starting with AGE-SECRET-KEY-1)")]
    Empty,
}

/// What a rejected input line looked like, for the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Recipient,
    Ssh,
    Encrypted,
    Other,
}

fn hint_for(kind: &Kind) -> &'static str {
    match kind {
        Kind::Recipient => ": it is a public recipient (age1…); add the secret key it belongs to",
        Kind::Ssh => ": SSH keys cannot be stored in the keyring; sops reads them from ~/.ssh",
        Kind::Encrypted => {
            ": it is a passphrase-protected age file; decrypt it with `age -d` first"
        }
        Kind::Other => "",
    }
}

/// Reads identity input as sops reads a keys.txt: blank lines and `#` comments are skipped,
/// identities may be separated by spaces. The input is never quoted back in errors.
pub fn parse_identities(bytes: &[u8]) -> Result<Vec<x25519::Identity>, InputError> {
    if bytes.starts_with(b"age-encryption.org/") || bytes.starts_with(b"-----BEGIN AGE") {
        return Err(InputError::NotAnIdentity {
            line: 1,
            kind: Kind::Encrypted,
        });
    }
    let text = String::from_utf8_lossy(bytes);
    let text = Zeroizing::new(text.into_owned());
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            match x25519::Identity::from_str(word) {
                Ok(id) => found.push(id),
                Err(_) => {
                    let kind = if word.starts_with("age1") {
                        Kind::Recipient
                    } else if word.starts_with("ssh-") || line.contains("OPENSSH PRIVATE KEY") {
                        Kind::Ssh
                    } else {
                        Kind::Other
                    };
                    return Err(InputError::NotAnIdentity { line: i + 1, kind });
                }
            }
        }
    }
    if found.is_empty() {
        return Err(InputError::Empty);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
    const RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";

    #[test]
    fn round_trips_with_names() {
        let mut b = Bundle::default();
        let r = b.push(ID.parse().unwrap(), Some("work laptop".into()));
        assert_eq!(r.unwrap(), RECIPIENT);
        b.push(x25519::Identity::generate(), None).unwrap();
        let text = b.to_text();
        let back = Bundle::parse(text.as_bytes()).unwrap();
        let listed: Vec<Listed> = back.entries().iter().map(Stored::listed).collect();
        assert_eq!(listed[0].recipient, RECIPIENT);
        assert_eq!(listed[0].name.as_deref(), Some("work laptop"));
        assert_eq!(listed[1].name, None);
        assert!(text.starts_with(HEADER));
    }

    #[test]
    fn refuses_duplicates_and_finds_by_name_or_recipient() {
        let mut b = Bundle::default();
        b.push(ID.parse().unwrap(), Some("a".into())).unwrap();
        let dup = b.push(ID.parse().unwrap(), None).unwrap_err();
        assert!(matches!(dup, KeyringError::Duplicate { .. }), "{dup}");
        let taken = b
            .push(x25519::Identity::generate(), Some("a".into()))
            .unwrap_err();
        assert!(matches!(taken, KeyringError::NameTaken { .. }), "{taken}");
        assert_eq!(b.take("a").unwrap().recipient, RECIPIENT);
        assert!(b.is_empty());
        b.push(ID.parse().unwrap(), None).unwrap();
        assert!(b.take(RECIPIENT).is_some());
    }

    #[test]
    fn corrupt_text_is_reported_without_its_content() {
        let err = Bundle::parse(format!("{HEADER}\nAGE-SECRET-KEY-1NOPE\n").as_bytes())
            .err()
            .unwrap();
        assert_eq!(err, "line 2 is not an age identity");
        assert!(Bundle::parse(ID.as_bytes()).is_err());
    }

    #[test]
    fn parses_key_files_and_explains_wrong_input() {
        let ids = parse_identities(format!("# created\n\n{ID}\n").as_bytes()).unwrap();
        assert_eq!(ids[0].to_public().to_string(), RECIPIENT);
        let e = parse_identities(format!("# x\n{RECIPIENT}\n").as_bytes())
            .err()
            .unwrap();
        assert!(
            e.to_string().starts_with("line 2 is not an age identity"),
            "{e}"
        );
        assert!(e.to_string().contains("public recipient"), "{e}");
        let e = parse_identities(b"hello world").err().unwrap();
        assert!(!e.to_string().contains("hello"), "{e}");
        assert!(matches!(
            parse_identities(b"# only\n"),
            Err(InputError::Empty)
        ));
    }

    #[test]
    fn names_are_labels() {
        assert!(check_name("work laptop").is_ok());
        for bad in [
            "",
            " x",
            "a\tb",
            "age1abc",
            "age-secret-key-1x",
            &"n".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
