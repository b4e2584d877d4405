//! Copying to the clipboard, two ways at once. The system clipboard (`System`: X11 on Linux,
//! the native one on macOS and Windows), marked as a password so clipboard managers keep it
//! out of their history; and the terminal (OSC 52), which works over SSH and without a display
//! server: the terminal, or tmux with `set-clipboard on` (and, passed through, the terminal
//! outside tmux), stores what the sequence carries. Clearing empties the system clipboard if
//! it still holds the copied value, writes an empty OSC 52 and, as tmux ignores that, deletes
//! its paste buffers that still hold the value. What was copied is remembered only as a salted
//! hash, to recognise it.

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

/// The system clipboard. On X11 the copied text is served from this process, so it stays open
/// while the copy should last (the editor's run, or the helper that clears a CLI copy).
pub struct System(arboard::Clipboard);

#[cfg(target_os = "macos")]
use arboard::SetExtApple as _;
#[cfg(target_os = "linux")]
use arboard::SetExtLinux as _;
#[cfg(target_os = "windows")]
use arboard::SetExtWindows as _;

impl System {
    /// The system clipboard, if this session has one (on Linux: a display, `DISPLAY`; a
    /// Wayland desktop's XWayland provides it).
    pub fn open() -> Option<System> {
        if !System::may_exist() {
            return None;
        }
        arboard::Clipboard::new().ok().map(System)
    }

    /// Whether this session may have one (without connecting to it).
    pub fn may_exist() -> bool {
        !cfg!(target_os = "linux") || std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
    }

    /// Puts `text` on it, marked to be kept out of clipboard history. Text only: a value that
    /// is not UTF-8 goes through the terminal alone.
    pub fn copy(&mut self, text: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(text).map_err(|_| "the value is not text".to_string())?;
        self.0
            .set()
            .exclude_from_history()
            .text(text)
            .map_err(|e| e.to_string())
    }

    /// Empties it if it still holds the copied value (something copied since stays).
    pub fn clear(&mut self, copied: &Fingerprint) {
        if let Ok(held) = self.0.get_text() {
            let held = Zeroizing::new(held);
            if copied.matches(held.as_bytes()) {
                let _ = self.0.clear();
            }
        }
    }
}

/// The clipboards a copy goes to: the terminal always, the system clipboard where there is
/// one (opened on the first copy and kept for the run).
#[derive(Default)]
pub struct Clipboards {
    system: Option<System>,
    looked: bool,
}

impl Clipboards {
    /// Copies `text` through the terminal `out` writes to and to the system clipboard; says
    /// which took it.
    pub fn copy(
        &mut self,
        out: &mut impl Write,
        text: &[u8],
    ) -> io::Result<(Fingerprint, &'static str)> {
        let copied = copy_to(out, text)?;
        if !self.looked {
            self.looked = true;
            self.system = System::open();
        }
        let reached = match self.system.as_mut().map(|s| s.copy(text)) {
            Some(Ok(())) => "system + terminal clipboards",
            _ => "terminal clipboard",
        };
        Ok((copied, reached))
    }

    /// Clears what `copy` put on both.
    pub fn clear(&mut self, out: &mut impl Write, copied: &Fingerprint) {
        if let Some(system) = &mut self.system {
            system.clear(copied);
        }
        clear_on(out, copied);
    }
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

/// Puts `text` on the clipboard through the terminal `out` writes to.
pub fn copy_to(out: &mut impl Write, text: &[u8]) -> io::Result<Fingerprint> {
    out.write_all(&sequences(text, in_tmux()))?;
    out.flush()?;
    Ok(Fingerprint::of(text))
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
