//! Copying to the clipboard through the terminal (OSC 52), which works over SSH and without a
//! display server: the terminal, or tmux with `set-clipboard on` (and, passed through, the
//! terminal outside tmux), stores what the sequence carries. Clearing writes an empty one; as
//! tmux ignores that, its paste buffers that still hold the copied value are deleted too. What
//! was copied is remembered only as a salted hash, to recognise it in those buffers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// How copied text is recognised later, without keeping it.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint {
    salt: [u8; 16],
    hash: [u8; 32],
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprint")
    }
}

impl Fingerprint {
    /// A new salted fingerprint of `text`.
    pub fn of(text: &[u8]) -> Fingerprint {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        Fingerprint {
            salt,
            hash: salted(&salt, text),
        }
    }

    fn matches(&self, text: &[u8]) -> bool {
        salted(&self.salt, text) == self.hash
    }

    /// As text, to hand to the process that clears the clipboard later (over a pipe: it is a
    /// salted hash of a secret, so it stays out of argument lists).
    pub fn to_hex(&self) -> String {
        format!("{}{}", hex::encode(self.salt), hex::encode(self.hash))
    }

    pub fn from_hex(text: &str) -> Option<Fingerprint> {
        let bytes = hex::decode(text.trim()).ok()?;
        (bytes.len() == 48).then(|| Fingerprint {
            salt: bytes[..16].try_into().expect("16 bytes"),
            hash: bytes[16..].try_into().expect("32 bytes"),
        })
    }
}

fn salted(salt: &[u8], text: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(text);
    h.finalize().into()
}

/// The OSC 52 sequences that set the clipboard to `text` (empty: clear it). Inside tmux the
/// same sequence also goes out wrapped for passthrough, for a tmux that does not take it itself.
fn sequences(text: &[u8], in_tmux: bool) -> Zeroizing<Vec<u8>> {
    let encoded = Zeroizing::new(STANDARD.encode(text));
    let mut out = Zeroizing::new(Vec::with_capacity(encoded.len() * 2 + 32));
    out.extend_from_slice(b"\x1b]52;c;");
    out.extend_from_slice(encoded.as_bytes());
    out.extend_from_slice(b"\x07");
    if in_tmux {
        out.extend_from_slice(b"\x1bPtmux;\x1b\x1b]52;c;");
        out.extend_from_slice(encoded.as_bytes());
        out.extend_from_slice(b"\x07\x1b\\");
    }
    out
}

fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// Puts `text` on the clipboard through the editor's terminal (stdout); returns how to
/// recognise it when clearing.
pub fn copy(text: &[u8]) -> io::Result<Fingerprint> {
    copy_to(&mut io::stdout().lock(), text)
}

/// Puts `text` on the clipboard through the terminal `out` writes to.
pub fn copy_to(out: &mut impl Write, text: &[u8]) -> io::Result<Fingerprint> {
    out.write_all(&sequences(text, in_tmux()))?;
    out.flush()?;
    Ok(Fingerprint::of(text))
}

/// Clears the clipboard through the editor's terminal; see `clear_on`.
pub fn clear(copied: &Fingerprint) {
    clear_on(&mut io::stdout().lock(), copied);
}

/// Clears the clipboard through the terminal `out` writes to, and deletes tmux's paste buffers
/// that still hold the copied value (and only those: a buffer the user copied since stays).
/// Best effort: the terminal may be gone by now.
pub fn clear_on(out: &mut impl Write, copied: &Fingerprint) {
    let _ = out
        .write_all(&sequences(b"", in_tmux()))
        .and_then(|()| out.flush());
    if in_tmux() {
        delete_tmux_buffers(copied);
    }
}

fn tmux(args: &[&str]) -> Option<Zeroizing<Vec<u8>>> {
    let out = Command::new("tmux")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| Zeroizing::new(out.stdout))
}

fn delete_tmux_buffers(copied: &Fingerprint) {
    let Some(names) = tmux(&["list-buffers", "-F", "#{buffer_name}"]) else {
        return;
    };
    for name in String::from_utf8_lossy(&names).lines() {
        if tmux(&["show-buffer", "-b", name]).is_some_and(|held| copied.matches(&held)) {
            tmux(&["delete-buffer", "-b", name]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_carry_base64_and_wrap_for_tmux() {
        assert_eq!(
            sequences(b"hi", false).as_slice(),
            b"\x1b]52;c;aGk=\x07".as_slice()
        );
        let wrapped = sequences(b"hi", true);
        assert!(wrapped.ends_with(b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"));
        assert_eq!(
            sequences(b"", false).as_slice(),
            b"\x1b]52;c;\x07".as_slice()
        );
    }

    #[test]
    fn a_fingerprint_recognises_its_text_only() {
        let f = Fingerprint::of(b"s3cret");
        assert!(f.matches(b"s3cret"));
        assert_eq!(Fingerprint::from_hex(&f.to_hex()), Some(f.clone()));
        assert!(!f.matches(b"s3cret\n"));
        assert_ne!(Fingerprint::of(b"s3cret").hash, f.hash, "salted");
    }
}
