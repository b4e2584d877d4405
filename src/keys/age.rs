//! age master keys: wrap the data key for X25519 and SSH recipients, and find the identities
//! that unwrap it exactly where sops looks for them.

pub mod hybrid;

use crate::env::Environment;
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age::{Identity, Recipient};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
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

/// An `age1NAME1…` recipient, served by `age-plugin-NAME` (`None` for X25519 and SSH ones).
fn plugin_recipient(recipient: &str) -> Option<age::plugin::Recipient> {
    let r = recipient.trim();
    if hybrid::is_recipient(r) {
        return None;
    }
    let (hrp, _) = r.rsplit_once('1')?;
    let name = hrp.strip_prefix("age1")?;
    age::plugin::Recipient::from_str(r)
        .ok()
        .filter(|_| !name.is_empty())
}

/// The plugin an `age1NAME1…` recipient belongs to (`None` for X25519 and SSH recipients).
pub fn plugin_of_recipient(recipient: &str) -> Option<String> {
    plugin_recipient(recipient).map(|p| p.plugin().to_string())
}

/// Parses an age recipient as sops accepts it: `age1…` (X25519), `age1NAME1…` (served by
/// `age-plugin-NAME`, talking to the user through `prompts`) or an SSH public key.
pub fn recipient_with(
    recipient: &str,
    prompts: &PluginCallbacks,
) -> Result<Box<dyn Recipient + Send>, AgeError> {
    let r = recipient.trim();
    if let Some(parsed) = plugin_recipient(r) {
        let name = parsed.plugin().to_string();
        return age::plugin::RecipientPluginV1::new(&name, &[parsed], &[], prompts.clone())
            .map(|p| Box::new(p) as Box<dyn Recipient + Send>)
            .map_err(|_| AgeError::BadRecipient {
                recipient: r.into(),
                reason: format!("age-plugin-{name} was not found on PATH"),
            });
    }
    parse_recipient(r)
}

/// Checks an age recipient's form as sops does: a plugin recipient's plugin is only needed
/// when it is used.
pub fn check_recipient(recipient: &str) -> Result<(), AgeError> {
    if plugin_of_recipient(recipient).is_some() {
        return Ok(());
    }
    parse_recipient(recipient).map(|_| ())
}

/// Parses a native age recipient as sops accepts it: `age1…` (X25519), `age1pq1…` (hybrid
/// post-quantum) or an SSH public key (plugin recipients go through `recipient_with`).
fn parse_recipient(recipient: &str) -> Result<Box<dyn Recipient + Send>, AgeError> {
    let r = recipient.trim();
    if hybrid::is_recipient(r) {
        return hybrid::Recipient::from_str(r)
            .map(|x| Box::new(x) as Box<dyn Recipient + Send>)
            .map_err(|reason| AgeError::BadRecipient {
                recipient: r.into(),
                reason,
            });
    }
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
                reason: e.to_string(),
            });
    }
    Err(AgeError::UnknownRecipient(r.into()))
}

/// Encrypts `secret` (the data key or a Shamir share) to one recipient as an armored age file,
/// the form sops stores in `enc`.
pub fn wrap(recipient: &str, secret: &[u8], prompts: &PluginCallbacks) -> Result<String, AgeError> {
    let parsed = recipient_with(recipient, prompts)?;
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
    /// X25519, SSH and keyring identities: tried first, without running anything.
    pub identities: Vec<Box<dyn Identity + Send>>,
    /// One identity per age plugin found in identity files (`AGE-PLUGIN-NAME-1…`), tried
    /// last: each try runs the plugin, which may ask for a PIN or a touch.
    pub plugins: Vec<(String, Box<dyn Identity + Send>)>,
    prompts: Option<PluginCallbacks>,
    /// `SOPS_AGE_KEY_CMD` and its time limit: run when a key is unwrapped, with that key's
    /// recipient in `SOPS_AGE_RECIPIENT` (sops 3.12), once per recipient.
    key_cmd: Option<(String, Result<Option<std::time::Duration>, String>)>,
    /// What `key_cmd` gave for each recipient.
    from_cmd: Mutex<std::collections::HashMap<String, Identities>>,
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
    pub fn discover(env: &dyn Environment, prompts: PluginCallbacks) -> Identities {
        let mut ids = Identities {
            prompts: Some(prompts),
            ..Identities::default()
        };
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
        let before = ids.identities.len() + ids.plugins.len();
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
            Some(cmd) => ids.key_cmd = Some((cmd, timeout.clone())),
            None => ids.unused_locations.push("SOPS_AGE_KEY_CMD".into()),
        }
        if let Some(path) = default_key_file(env) {
            match std::fs::read(&path) {
                Ok(bytes) => ids.add_key_file(&Zeroizing::new(bytes), &path.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // sops compat: the default file is only reported when nothing else was given.
                    if ids.identities.len() + ids.plugins.len() == before && ids.key_cmd.is_none() {
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
            Ok(found) => self.identities.extend(
                found
                    .into_iter()
                    .map(|i| Box::new(i) as Box<dyn Identity + Send>),
            ),
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
        let mut plugins: Vec<(String, Vec<age::plugin::Identity>)> = Vec::new();
        for line in String::from_utf8_lossy(bytes).lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                if word.starts_with("AGE-PLUGIN-") {
                    match age::plugin::Identity::from_str(word) {
                        Ok(id) => match plugins.iter_mut().find(|(n, _)| n == id.plugin()) {
                            Some((_, ids)) => ids.push(id),
                            None => plugins.push((id.plugin().to_string(), vec![id])),
                        },
                        Err(_) => self.errors.push(format!(
                            "failed to parse an age plugin identity from {source}"
                        )),
                    }
                    continue;
                }
                normalized.push_str(word);
                normalized.push('\n');
            }
        }
        let found_plugins = !plugins.is_empty();
        let prompts = self.prompts.clone().unwrap_or_else(PluginCallbacks::silent);
        for (name, ids) in plugins {
            match age::plugin::IdentityPluginV1::new(&name, &ids, prompts.clone()) {
                Ok(plugin) => self.plugins.push((name, Box::new(plugin))),
                Err(_) => self.errors.push(format!(
                    "the age plugin identity in {source} needs age-plugin-{name}, which is not on PATH"
                )),
            }
        }
        if normalized.is_empty() {
            if !found_plugins {
                self.unused_locations.push(source.into());
            }
            return;
        }
        // Each line is now one native identity (`AGE-SECRET-KEY-1…`, or `AGE-SECRET-KEY-PQ-1…`
        // for a hybrid one), as age's identity files hold them.
        let parsed: Result<Vec<_>, _> = normalized
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let bad = |_| format!("identity file contains non-identity data on line {}", i + 1);
                if hybrid::is_identity(line) {
                    hybrid::Identity::from_str(line)
                        .map(|x| Box::new(x) as Box<dyn Identity + Send>)
                        .map_err(bad)
                } else {
                    age::x25519::Identity::from_str(line)
                        .map(|x| Box::new(x) as Box<dyn Identity + Send>)
                        .map_err(|_| bad(String::new()))
                }
            })
            .collect();
        match parsed {
            Ok(found) => self.identities.extend(found),
            Err(e) => self
                .errors
                .push(format!("failed to parse age identities from {source}: {e}")),
        }
    }

    /// Whether an identity of plugin `name` was found (and its binary is on PATH).
    pub fn has_plugin(&self, name: &str) -> bool {
        self.plugins.iter().any(|(n, _)| n == name)
    }

    /// Unwraps the armored `enc` of `recipient`'s entry with whichever identity matches:
    /// plugins last, so a file a native identity opens never runs one.
    pub fn unwrap(&self, recipient: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        self.unwrap_with(recipient, enc, true)
    }

    /// Unwraps `enc` without running plugins (nothing asks).
    pub fn unwrap_quietly(&self, recipient: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        self.unwrap_with(recipient, enc, false)
    }

    /// Runs `SOPS_AGE_KEY_CMD` for `recipient` unless it already ran for it.
    fn run_key_cmd(&self, recipient: &str) {
        let Some((cmd, timeout)) = &self.key_cmd else {
            return;
        };
        let Ok(mut found) = self.from_cmd.lock() else {
            return;
        };
        if found.contains_key(recipient) {
            return;
        }
        let mut ids = Identities {
            prompts: self.prompts.clone(),
            ..Identities::default()
        };
        match timeout {
            Err(e) => ids.errors.push(e.clone()),
            Ok(timeout) => match crate::env::run_command_with(
                cmd,
                *timeout,
                &[("SOPS_AGE_RECIPIENT", recipient)],
            ) {
                Ok(out) => ids.add_key_file(&out, "SOPS_AGE_KEY_CMD"),
                Err(e) => ids.errors.push(format!(
                    "failed to execute command {cmd} from SOPS_AGE_KEY_CMD: {e}"
                )),
            },
        }
        found.insert(recipient.to_string(), ids);
    }

    fn unwrap_with(
        &self,
        recipient: &str,
        enc: &str,
        with_plugins: bool,
    ) -> Result<Zeroizing<Vec<u8>>, String> {
        self.run_key_cmd(recipient.trim());
        let from_cmd = self
            .from_cmd
            .lock()
            .map_err(|_| "age identities unavailable")?;
        let extra = from_cmd.get(recipient.trim());
        let describe = |what: &str| {
            let mut errors = self.errors.clone();
            if let Some(extra) = extra {
                errors.extend(extra.errors.iter().cloned());
            }
            self.describe_with(what, &errors)
        };
        let natives = self
            .identities
            .iter()
            .chain(extra.into_iter().flat_map(|e| e.identities.iter()))
            .map(|i| i.as_ref() as &dyn Identity);
        let plugins = self
            .plugins
            .iter()
            .chain(extra.into_iter().flat_map(|e| e.plugins.iter()))
            .filter(|_| with_plugins)
            .map(|(_, i)| i.as_ref() as &dyn Identity);
        let all: Vec<&dyn Identity> = natives.chain(plugins).collect();
        if all.is_empty() {
            return Err(describe("failed to load age identities"));
        }
        let reader = ArmoredReader::new(enc.as_bytes());
        let decryptor = age::Decryptor::new(reader)
            .map_err(|e| format!("the stored age data key is malformed: {e}"))?;
        let mut stream = decryptor.decrypt(all.into_iter()).map_err(|e| {
            // (age's messages wrap names in Unicode isolation marks; a terminal shows junk.)
            let said = e.to_string().replace(['\u{2068}', '\u{2069}'], "");
            describe(&format!(
                "failed to create reader for decrypting sops data key with age: {said}"
            ))
        })?;
        let mut out = Zeroizing::new(Vec::new());
        stream
            .read_to_end(&mut out)
            .map_err(|e| format!("failed to read the age-decrypted data key: {e}"))?;
        Ok(out)
    }

    fn describe_with(&self, what: &str, errors: &[String]) -> String {
        let mut s = what.to_string();
        if !errors.is_empty() {
            s.push_str(&format!(". Errors: {}", errors.join("; ")));
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

/// How an age plugin talks to the person at the keyboard: its messages, questions and
/// secrets (PINs). The command line asks on the terminal; the editor in its own prompt.
pub trait PluginPrompts: Send + Sync {
    fn message(&self, text: &str);
    fn confirm(&self, text: &str, yes: &str, no: Option<&str>) -> Option<bool>;
    fn public(&self, text: &str) -> Option<String>;
    fn secret(&self, text: &str) -> Option<Zeroizing<String>>;
}

/// The prompts a plugin gets, as age's callbacks. Clones share one target, which can be
/// switched (`route_to`): identities found before the editor took over the terminal then ask
/// in the editor.
#[derive(Clone)]
pub struct PluginCallbacks(Arc<Mutex<Arc<dyn PluginPrompts>>>);

impl PluginCallbacks {
    fn new(prompts: Arc<dyn PluginPrompts>) -> PluginCallbacks {
        PluginCallbacks(Arc::new(Mutex::new(prompts)))
    }

    /// Asks on the controlling terminal (`/dev/tty`), messages on stderr.
    pub fn terminal() -> PluginCallbacks {
        PluginCallbacks::new(Arc::new(TerminalPrompts))
    }

    /// Shows nothing and answers nothing (a plugin that must ask then fails).
    pub fn silent() -> PluginCallbacks {
        PluginCallbacks::new(Arc::new(SilentPrompts))
    }

    /// Sends every later prompt, of these callbacks and all their clones, to `prompts`.
    pub fn route_to(&self, prompts: Arc<dyn PluginPrompts>) {
        if let Ok(mut target) = self.0.lock() {
            *target = prompts;
        }
    }

    fn target(&self) -> Arc<dyn PluginPrompts> {
        match self.0.lock() {
            Ok(target) => Arc::clone(&target),
            Err(_) => Arc::new(SilentPrompts),
        }
    }
}

impl age::Callbacks for PluginCallbacks {
    fn display_message(&self, message: &str) {
        self.target().message(message);
    }
    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        self.target().confirm(message, yes_string, no_string)
    }
    fn request_public_string(&self, description: &str) -> Option<String> {
        self.target().public(description)
    }
    fn request_passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        self.target()
            .secret(description)
            .map(|s| age::secrecy::SecretString::from(s.to_string()))
    }
}

struct SilentPrompts;

impl PluginPrompts for SilentPrompts {
    fn message(&self, _: &str) {}
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }
    fn public(&self, _: &str) -> Option<String> {
        None
    }
    fn secret(&self, _: &str) -> Option<Zeroizing<String>> {
        None
    }
}

/// Prompts on `/dev/tty` (as age and sops do), so they work while stdout is redirected;
/// without a terminal every question goes unanswered.
struct TerminalPrompts;

impl TerminalPrompts {
    fn ask(text: &str, hidden: bool) -> Option<Zeroizing<String>> {
        use std::io::BufRead;
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let mut out = tty.try_clone().ok()?;
        write!(out, "{text}: ").ok()?;
        let _ = out.flush();
        // Echo off for secrets, through stty on the same terminal (no terminal code here).
        let stty = |arg: &str| {
            let input = tty.try_clone().ok()?;
            std::process::Command::new("stty")
                .arg(arg)
                .stdin(input)
                .status()
                .ok()
        };
        if hidden {
            stty("-echo");
        }
        let mut line = Zeroizing::new(String::new());
        let read = std::io::BufReader::new(tty.try_clone().ok()?).read_line(&mut line);
        if hidden {
            stty("echo");
            let _ = writeln!(out);
        }
        read.ok().filter(|n| *n > 0)?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_string();
        Some(Zeroizing::new(trimmed))
    }
}

impl PluginPrompts for TerminalPrompts {
    fn message(&self, text: &str) {
        eprintln!("{text}");
    }
    fn confirm(&self, text: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let choices = match no {
            Some(no) => format!("{text} [{yes}/{no}]"),
            None => format!("{text} [{yes}]"),
        };
        let answer = TerminalPrompts::ask(&choices, false)?;
        Some(no.is_none() || answer.trim().eq_ignore_ascii_case(yes))
    }
    fn public(&self, text: &str) -> Option<String> {
        TerminalPrompts::ask(text, false).map(|s| s.to_string())
    }
    fn secret(&self, text: &str) -> Option<Zeroizing<String>> {
        TerminalPrompts::ask(text, true)
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
        let enc = wrap(TEST_RECIPIENT, &[7u8; 32], &PluginCallbacks::silent()).unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert!(enc.lines().all(|l| l.len() <= 64));
        let env = env(&[("SOPS_AGE_KEY", TEST_IDENTITY.to_string())]);
        let ids = Identities::discover(&env, PluginCallbacks::silent());
        assert_eq!(&ids.unwrap(TEST_RECIPIENT, &enc).unwrap()[..], &[7u8; 32]);
    }

    #[test]
    fn unwraps_the_spec_known_answer_key() {
        // SOPS-SPEC Appendix A: the data key 00..1f wrapped for the test identity.
        let enc = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBxZFRhNnUxMUhteCtuUTdV\nQTc1cGpweXJ1dmppSzE0VTFUZ3hSbERvd0JrCmlHUTdlUUV2bkVnaWtXTVZwNFdv\nTUQyZzlhZUZoMG12d2R0QW9BMHRnNE0KLS0tIGdxYTZJTFUzTVFTZ1pVdFZLWVdE\nYmxFeE9RKzZwblFsYlh4YmNJcmNaaDQKKJUd0ko/UfF6LhIBobo73msbNnRGhW77\nNqGGCWfAvVOBpb3lRysdk8oqEnUf3cIJFaI2yYrBfEzxAY5qAGPLTQ==\n-----END AGE ENCRYPTED FILE-----\n";
        let env = env(&[(
            "SOPS_AGE_KEY",
            format!("# comment\n\n{TEST_IDENTITY} {TEST_IDENTITY}"),
        )]);
        let key = Identities::discover(&env, PluginCallbacks::silent())
            .unwrap(TEST_RECIPIENT, enc)
            .unwrap();
        assert_eq!(&key[..], &(0u8..32).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn reports_where_it_looked() {
        let env = FixedEnv(HashMap::new());
        let err = Identities::discover(&env, PluginCallbacks::silent())
            .unwrap(TEST_RECIPIENT, "x")
            .unwrap_err();
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
