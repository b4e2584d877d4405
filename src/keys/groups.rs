//! Key groups: unwrap the data key from whichever master keys this machine can use (combining
//! Shamir shares across groups), and wrap a data key for every key of every group.

use crate::crypto::data_key::DataKey;
use crate::env::Environment;
use crate::keys::age::{self, Identities, PluginCallbacks};
#[cfg(feature = "azure-kv")]
use crate::keys::azure_kv::AzureKv;
#[cfg(feature = "gcp-kms")]
use crate::keys::gcp_kms::GcpKms;
#[cfg(feature = "hckms")]
use crate::keys::hckms::Hckms;
use crate::keys::kms::Kms;
use crate::keys::pgp;
use crate::keys::service::{Availability, KeyService};
use crate::keys::shamir;
#[cfg(feature = "hc-vault")]
use crate::keys::vault::Vault;
use crate::keys::{KeyGroup, KeyKind, MasterKey};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// A wrapped data key (or share) as stored: its key type and `enc` text.
type WrappedKey = (KeyKind, String);

/// Where master keys find their secrets: the environment, loaded lazily and once per process.
pub struct KeySources {
    env: Box<dyn Environment>,
    age: OnceCell<Identities>,
    pgp: OnceCell<pgp::Keyring>,
    kms: OnceCell<Kms>,
    #[cfg(feature = "hc-vault")]
    vault: OnceCell<Vault>,
    #[cfg(feature = "gcp-kms")]
    gcp_kms: OnceCell<GcpKms>,
    #[cfg(feature = "hckms")]
    hckms: OnceCell<Hckms>,
    #[cfg(feature = "azure-kv")]
    azure_kv: OnceCell<AzureKv>,
    /// Folders whose `.sops.pub.asc` files (and their parents') hold PGP public keys.
    pub pgp_search_dirs: Vec<PathBuf>,
    /// Key types to try first, in this order (`--decryption-order`).
    pub decryption_order: Vec<KeyKind>,
    /// How age plugins ask the user: the terminal, unless a front end routes them elsewhere
    /// (`route_plugin_prompts`, which reaches identities already found too).
    plugin_prompts: PluginCallbacks,
    /// What is being asked of which service now, and whether the user gave up waiting.
    progress: Arc<Progress>,
    /// Whether this machine's keys are used (`--enable-local-keyservice`, on by default).
    local: bool,
    /// Remote key services (`--keyservice`), tried after the local keys.
    #[cfg(feature = "keyservice")]
    remote: Option<crate::keys::keyservice::RemoteServices>,
    /// Each wrapped data key (or share) unwrapped in this run, by its `enc` text: commands
    /// that open many files or revisions sharing a data key ask a key service once, not once
    /// per file. In memory only; zeroized on drop.
    unwrapped: RefCell<HashMap<WrappedKey, Zeroizing<Vec<u8>>>>,
}

/// The service call in flight, for a front end that keeps drawing while it waits, and the
/// user's wish to stop: checked before every key, so nothing more is asked once it is set
/// (a call already made ends by its answer or its timeout).
#[derive(Default)]
pub struct Progress {
    asking: Mutex<Option<String>>,
    cancelled: AtomicBool,
}

impl Progress {
    /// The call in flight ("GCP KMS key projects/…"), if any.
    pub fn asking(&self) -> Option<String> {
        self.asking.lock().map(|a| a.clone()).unwrap_or(None)
    }

    /// Asks the work to stop before its next key.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Clears a previous cancel, before new work starts.
    pub fn reset(&self) {
        self.cancelled.store(false, Ordering::SeqCst);
        self.set(None);
    }

    fn set(&self, asking: Option<String>) {
        if let Ok(mut a) = self.asking.lock() {
            *a = asking;
        }
    }
}

/// Message of work stopped by `Progress::cancel`.
pub const CANCELLED: &str = "stopped at your request before asking the next key service";

impl KeySources {
    pub fn new(env: Box<dyn Environment>) -> Self {
        KeySources {
            env,
            age: OnceCell::new(),
            pgp: OnceCell::new(),
            kms: OnceCell::new(),
            #[cfg(feature = "hc-vault")]
            vault: OnceCell::new(),
            #[cfg(feature = "gcp-kms")]
            gcp_kms: OnceCell::new(),
            #[cfg(feature = "hckms")]
            hckms: OnceCell::new(),
            #[cfg(feature = "azure-kv")]
            azure_kv: OnceCell::new(),
            pgp_search_dirs: Vec::new(),
            decryption_order: vec![KeyKind::Age, KeyKind::Pgp],
            plugin_prompts: PluginCallbacks::terminal(),
            progress: Arc::new(Progress::default()),
            local: true,
            #[cfg(feature = "keyservice")]
            remote: None,
            unwrapped: RefCell::new(HashMap::new()),
        }
    }

    /// Uses the key services at `uris` (`tcp://HOST:PORT`, `unix:///PATH`) after, or with
    /// `local` false instead of, this machine's keys.
    #[cfg(feature = "keyservice")]
    pub fn use_key_services(&mut self, uris: &[String], local: bool) -> Result<(), String> {
        self.local = local;
        if !uris.is_empty() {
            let timeout = crate::keys::service::service_timeout(self.env.as_ref());
            self.remote = Some(crate::keys::keyservice::RemoteServices::new(uris, timeout)?);
        }
        Ok(())
    }

    /// The shared view of service calls in flight (and the way to stop before the next).
    pub fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.progress)
    }

    /// Marks a call to `key`'s service (or age plugin) in flight; fails when cancelled.
    fn asking(&self, key: &MasterKey) -> Result<(), String> {
        if self.progress.cancelled() {
            return Err(CANCELLED.to_string());
        }
        let remote = !matches!(key.kind, KeyKind::Age | KeyKind::Pgp)
            || age::plugin_of_recipient(key.text("recipient")).is_some();
        if remote {
            self.progress
                .set(Some(format!("{} key {}", key.kind.label(), key.display())));
        }
        Ok(())
    }

    /// Routes age plugins' messages and questions from now on, for identities already found
    /// too (the editor shows them in its own prompt while it owns the terminal).
    pub fn route_plugin_prompts(&self, prompts: Arc<dyn age::PluginPrompts>) {
        self.plugin_prompts.route_to(prompts);
    }

    fn age(&self) -> &Identities {
        self.age
            .get_or_init(|| Identities::discover(self.env.as_ref(), self.plugin_prompts.clone()))
    }

    fn pgp(&self) -> &pgp::Keyring {
        self.pgp
            .get_or_init(|| pgp::Keyring::discover(self.env.as_ref(), &self.pgp_search_dirs))
    }

    /// The service that wraps data keys for `kind`, set up on first use; `None` for the
    /// local key types and the services sesame has no client for yet.
    fn service(&self, kind: KeyKind) -> Option<&dyn KeyService> {
        let timeout = || crate::keys::service::service_timeout(self.env.as_ref());
        match kind {
            KeyKind::Kms => Some(self.kms.get_or_init(|| Kms::new(timeout()))),
            #[cfg(feature = "hc-vault")]
            KeyKind::HcVault => Some(
                self.vault
                    .get_or_init(|| Vault::new(self.env.as_ref(), timeout())),
            ),
            #[cfg(feature = "gcp-kms")]
            KeyKind::GcpKms => Some(
                self.gcp_kms
                    .get_or_init(|| GcpKms::new(self.env.as_ref(), timeout())),
            ),
            #[cfg(feature = "hckms")]
            KeyKind::Hckms => Some(
                self.hckms
                    .get_or_init(|| Hckms::new(self.env.as_ref(), timeout())),
            ),
            #[cfg(feature = "azure-kv")]
            KeyKind::AzureKv => Some(
                self.azure_kv
                    .get_or_init(|| AzureKv::new(self.env.as_ref(), timeout())),
            ),
            _ => None,
        }
    }

    /// Unwraps one master key's `enc`: with this machine's keys (unless
    /// `--enable-local-keyservice=false`), then through each remote key service, as sops does.
    pub fn unwrap_key(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        let id = (key.kind, key.enc().to_string());
        if let Some(secret) = self.unwrapped.borrow().get(&id) {
            return Ok(secret.clone());
        }
        self.asking(key)?;
        let result = self.unwrap_anywhere(key);
        self.progress.set(None);
        if let Ok(secret) = &result
            && !id.1.is_empty()
        {
            self.unwrapped.borrow_mut().insert(id, secret.clone());
        }
        result
    }

    fn unwrap_anywhere(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut errors = Vec::new();
        if self.local {
            match self.unwrap_now(key) {
                Ok(secret) => return Ok(secret),
                Err(e) => errors.push(e),
            }
        }
        #[cfg(feature = "keyservice")]
        if let Some(remote) = &self.remote {
            match remote.unwrap(key) {
                Ok(secret) => return Ok(secret),
                Err(e) => errors.extend(e),
            }
        }
        Err(self.no_service_left(errors))
    }

    /// The failures of every service tried, or why none was.
    fn no_service_left(&self, errors: Vec<String>) -> String {
        if errors.is_empty() {
            "no key service to use: the local one is disabled (--enable-local-keyservice=false) and no --keyservice is given".to_string()
        } else {
            errors.join("; ")
        }
    }

    fn unwrap_now(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        match key.kind {
            KeyKind::Age => self.age().unwrap(key.text("recipient"), key.enc()),
            KeyKind::Pgp => self.pgp().unwrap(key.text("fp"), key.enc()),
            kind => match self.service(kind) {
                Some(service) => service.unwrap(key).map_err(|e| e.to_string()),
                None => Err(format!(
                    "this build of sesame has no {} client (a cargo feature left out); the key is kept in the file untouched",
                    kind.label()
                )),
            },
        }
    }

    /// Wraps `secret` for one master key, filling in its `enc` (and `created_at` where the
    /// type has one): with this machine's keys, then through each remote key service.
    pub fn wrap_key(&self, key: &mut MasterKey, secret: &[u8]) -> Result<(), String> {
        self.asking(key)?;
        let result = self.wrap_anywhere(key, secret);
        self.progress.set(None);
        key.set_text("enc", result?);
        key.stamp_created_at();
        Ok(())
    }

    fn wrap_anywhere(&self, key: &mut MasterKey, secret: &[u8]) -> Result<String, String> {
        let mut errors = Vec::new();
        if self.local {
            match self.wrap_now(key, secret) {
                Ok(enc) => return Ok(enc),
                Err(e) => errors.push(e),
            }
        }
        #[cfg(feature = "keyservice")]
        if let Some(remote) = &self.remote {
            match remote.wrap(key, secret) {
                Ok(enc) => return Ok(enc),
                Err(e) => errors.extend(e),
            }
        }
        Err(self.no_service_left(errors))
    }

    fn wrap_now(&self, key: &mut MasterKey, secret: &[u8]) -> Result<String, String> {
        let enc = match key.kind {
            KeyKind::Age => age::wrap(key.text("recipient"), secret, &self.plugin_prompts)
                .map_err(|e| e.to_string())?,
            KeyKind::Pgp => self.pgp().wrap(key.text("fp"), secret)?,
            kind => match self.service(kind) {
                Some(service) => {
                    service.prepare(key).map_err(|e| e.to_string())?;
                    service.wrap(key, secret).map_err(|e| e.to_string())?
                }
                None => {
                    return Err(format!(
                        "this build of sesame has no {} client (a cargo feature left out), so it cannot encrypt for {}",
                        kind.label(),
                        key.display()
                    ));
                }
            },
        };
        Ok(enc)
    }

    fn ordered<'a>(&self, group: &'a KeyGroup) -> Vec<&'a MasterKey> {
        let mut keys = group.in_read_order();
        keys.sort_by_key(|k| {
            self.decryption_order
                .iter()
                .position(|kind| *kind == k.kind)
                .unwrap_or(usize::MAX)
        });
        keys
    }
}

impl KeySources {
    /// Checks, without prompting or network calls, whether `key` could be unwrapped here. An
    /// age key not yet written (no `enc`) is checked by wrapping a throwaway secret for it.
    pub fn availability(&self, key: &MasterKey) -> Availability {
        let here = if self.local {
            self.local_availability(key)
        } else {
            Availability::Missing("this machine's keys are not used".into())
        };
        #[cfg(feature = "keyservice")]
        if here.usable() != Some(true)
            && let Some(remote) = &self.remote
        {
            let uris: Vec<&str> = remote.uris().collect();
            return Availability::Unknown(format!(
                "through the key service {}; checked when used",
                uris.join(", ")
            ));
        }
        here
    }

    fn local_availability(&self, key: &MasterKey) -> Availability {
        match key.kind {
            // Running a plugin could ask for a PIN or a touch: only whether one could.
            KeyKind::Age if let Some(name) = age::plugin_of_recipient(key.text("recipient")) => {
                if self.age().has_plugin(&name) {
                    Availability::Unknown(format!(
                        "an age-plugin-{name} identity; checked when used"
                    ))
                } else {
                    Availability::Missing(format!("no age-plugin-{name} identity here"))
                }
            }
            KeyKind::Age if key.enc().is_empty() => {
                let probe = age::wrap(
                    key.text("recipient"),
                    b"sesame availability probe",
                    &PluginCallbacks::silent(),
                );
                let recipient = key.text("recipient");
                match probe.map(|enc| self.age().unwrap_quietly(recipient, &enc)) {
                    Ok(Ok(_)) => Availability::Usable("an age identity".into()),
                    _ => Availability::Missing("no matching age identity".into()),
                }
            }
            KeyKind::Age => match self.age().unwrap_quietly(key.text("recipient"), key.enc()) {
                Ok(_) => Availability::Usable("an age identity".into()),
                Err(_) => Availability::Missing("no matching age identity".into()),
            },
            KeyKind::Pgp => match self.pgp().secret_location(key.text("fp")) {
                Some(place) => Availability::Usable(place.into()),
                None => Availability::Missing("no secret key in gpg or key files".into()),
            },
            kind => match self.service(kind) {
                Some(service) => service.availability(key),
                None => Availability::Missing(format!(
                    "this build of sesame has no {} client",
                    kind.label()
                )),
            },
        }
    }
}

impl KeySources {
    /// The user id of a PGP key, when a key file or gpg knows it.
    pub fn pgp_user_id(&self, fingerprint: &str) -> Option<String> {
        self.pgp().user_id(fingerprint)
    }

    /// Why a data key could not be wrapped for this PGP key (no public key found), if so.
    pub fn pgp_public_key_problem(&self, fingerprint: &str) -> Option<String> {
        self.pgp().public_key_problem(fingerprint)
    }

    /// Reads an armored OpenPGP key file and makes its certificates usable for wrapping;
    /// returns one PGP master key per certificate.
    pub fn import_pgp_file(&mut self, path: &std::path::Path) -> Result<Vec<MasterKey>, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.pgp();
        let ring = self.pgp.get_mut().expect("initialised just above");
        let fps = ring
            .import(&bytes)
            .map_err(|e| format!("{}: not an OpenPGP key file: {e}", path.display()))?;
        Ok(fps.iter().map(|fp| MasterKey::pgp(fp)).collect())
    }
}

/// One key that was tried, and why it failed (`None` on success).
#[derive(Debug, Clone)]
pub struct KeyAttempt {
    pub key: String,
    pub kind: KeyKind,
    pub error: Option<String>,
}

/// What happened in every group while unwrapping the data key; shown when it failed.
#[derive(Debug, Clone)]
pub struct UnwrapReport {
    pub groups: Vec<Vec<KeyAttempt>>,
    pub threshold: usize,
    pub recovered: usize,
    pub problem: Option<String>,
    /// The size of a data key that was unwrapped but is not 32 bytes (old or broken writers);
    /// sops gets as far as decrypting values with it and fails there.
    pub wrong_key_size: Option<usize>,
}

impl UnwrapReport {
    fn group_ok(group: &[KeyAttempt]) -> bool {
        group.iter().any(|a| a.error.is_none())
    }
}

impl fmt::Display for UnwrapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Failed to get the data key required to decrypt the SOPS file."
        )?;
        for (i, group) in self.groups.iter().enumerate() {
            let status = if Self::group_ok(group) {
                "SUCCESS"
            } else {
                "FAILED"
            };
            writeln!(f, "\nGroup {i}: {status}")?;
            for attempt in group {
                match &attempt.error {
                    None => writeln!(f, "  {}: SUCCESS", attempt.key)?,
                    Some(e) => {
                        writeln!(f, "  {}: FAILED", attempt.key)?;
                        writeln!(f, "    - | {e}")?;
                    }
                }
            }
        }
        writeln!(f)?;
        if let Some(p) = &self.problem {
            writeln!(f, "{p}")?;
        } else if self.groups.len() > 1 {
            writeln!(
                f,
                "Recovery failed because only {} of the {} required Shamir parts were recovered.",
                self.recovered, self.threshold
            )?;
        } else {
            writeln!(
                f,
                "Recovery failed because no master key was able to decrypt the file."
            )?;
        }
        write!(f, "hint: {}", self.hint())
    }
}

impl UnwrapReport {
    /// What the user can do, from the kinds of keys that failed.
    pub fn hint(&self) -> String {
        let kinds: Vec<KeyKind> = self.groups.iter().flatten().map(|a| a.kind).collect();
        let mut hints = Vec::new();
        if kinds.contains(&KeyKind::Age) {
            hints.push(
                "provide the age identity of one of the recipients above with SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or SOPS_AGE_KEY_CMD (or put it in ~/.config/sops/age/keys.txt)",
            );
        }
        let pgp_advice: Vec<&str> = self
            .groups
            .iter()
            .flatten()
            .filter(|a| a.kind == KeyKind::Pgp)
            .filter_map(|a| a.error.as_deref().and_then(pgp::advice))
            .collect();
        if let Some(advice) = pgp_advice.first() {
            hints.push(advice);
        } else if kinds.contains(&KeyKind::Pgp) {
            hints.push(
                "for PGP, import the secret key of one of the fingerprints above into gpg (check GNUPGHOME, SOPS_GPG_EXEC and that gpg-agent can ask for the passphrase), or point SESAME_PGP_KEY_FILE at an armored secret key file",
            );
        }
        if kinds.contains(&KeyKind::Kms) {
            hints.push(
                "for AWS KMS, provide credentials allowed to use one of the ARNs above (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE or the key's aws_profile naming a profile in ~/.aws/credentials or ~/.aws/config); the region is taken from the ARN, and a key with a role (arn+role) needs credentials that may assume that role",
            );
        }
        if kinds
            .iter()
            .any(|k| !matches!(k, KeyKind::Age | KeyKind::Pgp | KeyKind::Kms))
        {
            hints.push(
                "keys of other types need their own credentials or a sops build that supports them",
            );
        }
        hints.join("; ")
    }
}

/// Recovers the data key of a file from its key groups and Shamir threshold.
pub fn unwrap_data_key(
    key_groups: &[KeyGroup],
    shamir_threshold: i64,
    sources: &KeySources,
) -> Result<DataKey, UnwrapReport> {
    let mut report = UnwrapReport {
        groups: Vec::new(),
        threshold: 0,
        recovered: 0,
        problem: None,
        wrong_key_size: None,
    };
    let mut parts: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    // sops compat: every group is tried, even after enough parts were recovered.
    for group in key_groups {
        let mut attempts = Vec::new();
        let mut got = None;
        for key in sources.ordered(group) {
            match sources.unwrap_key(key) {
                Ok(secret) => {
                    attempts.push(KeyAttempt {
                        key: key.display(),
                        kind: key.kind,
                        error: None,
                    });
                    got = Some(secret);
                    break;
                }
                Err(e) => attempts.push(KeyAttempt {
                    key: key.display(),
                    kind: key.kind,
                    error: Some(e),
                }),
            }
        }
        if let Some(secret) = got {
            parts.push(secret);
        }
        report.groups.push(attempts);
    }
    report.recovered = parts.len();
    let secret = if key_groups.len() <= 1 {
        report.threshold = 1;
        parts.pop().ok_or_else(|| report.clone())?
    } else {
        let threshold = if shamir_threshold > 0 {
            shamir_threshold as usize
        } else {
            key_groups.len()
        };
        report.threshold = threshold;
        if parts.len() < threshold {
            return Err(report);
        }
        let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
        shamir::combine(&refs).map_err(|e| UnwrapReport {
            problem: Some(format!(
                "The recovered Shamir parts could not be combined: {e}."
            )),
            ..report.clone()
        })?
    };
    DataKey::from_slice(&secret).ok_or_else(|| UnwrapReport {
        problem: Some(format!(
            "The unwrapped data key has {} bytes instead of 32 (invalid key size for AES-256).",
            secret.len()
        )),
        wrong_key_size: Some(secret.len()),
        ..report
    })
}

/// Wraps `key` for every master key of every group (Shamir-splitting it across groups when
/// there are several). Nothing is changed unless every key could be wrapped.
pub fn wrap_data_key(
    groups: &mut [KeyGroup],
    threshold: i64,
    key: &DataKey,
    sources: &KeySources,
) -> Result<(), String> {
    if groups.is_empty() {
        return Err("Could not generate data key: [no key groups provided]".into());
    }
    if groups.iter().any(|g| g.keys.is_empty()) {
        return Err("Could not generate data key: [empty key group provided]".into());
    }
    let secrets: Vec<Zeroizing<Vec<u8>>> = if groups.len() == 1 {
        vec![Zeroizing::new(key.expose().to_vec())]
    } else {
        let t = if threshold > 0 {
            threshold as usize
        } else {
            groups.len()
        };
        shamir::split(key.expose(), groups.len(), t)
            .map_err(|e| format!("Could not split the data key: {e}"))?
    };
    let mut wrapped: Vec<KeyGroup> = groups.to_vec();
    let mut errors = Vec::new();
    for (group, secret) in wrapped.iter_mut().zip(&secrets) {
        for master in &mut group.keys {
            if let Err(e) = sources.wrap_key(master, secret) {
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "Could not wrap the data key for every recipient, so nothing was written:\n  - {}",
            errors.join("\n  - ")
        ));
    }
    groups.clone_from_slice(&wrapped);
    Ok(())
}
