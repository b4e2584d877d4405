//! The one shape of a master key that wraps the data key through a remote service (AWS KMS,
//! Vault transit, ...): wrap, unwrap, and what can be told without calling it; failures sorted
//! into a few causes, each with advice. A new service is one module implementing `KeyService`
//! and one arm in `KeySources::service`.

use crate::keys::MasterKey;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// A service that wraps and unwraps data keys (or Shamir shares) for its type of master key.
pub trait KeyService {
    /// Completes a key before its first wrap (Azure Key Vault: a key named without a version
    /// gets its current version, as sops does when it reads the key's URL).
    fn prepare(&self, key: &mut MasterKey) -> Result<(), ServiceError> {
        let _ = key;
        Ok(())
    }
    /// Encrypts `secret` for `key`; returns the `enc` text the file stores.
    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError>;
    /// Decrypts `key`'s `enc`.
    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError>;
    /// What can be told without a network call (credentials present, address allowed).
    fn availability(&self, key: &MasterKey) -> Availability;
}

/// Whether this machine can unwrap a master key, for the key manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// An identity or credential here unwraps it (where it was found).
    Usable(String),
    /// Nothing here can unwrap it, and why.
    Missing(String),
    /// Only trying it would tell (remote services).
    Unknown(String),
}

impl Availability {
    /// Whether the key can be used here: `None` when only trying would tell.
    pub fn usable(&self) -> Option<bool> {
        match self {
            Availability::Usable(_) => Some(true),
            Availability::Missing(_) => Some(false),
            Availability::Unknown(_) => None,
        }
    }
}

/// Which way the data key was going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Encrypt,
    Decrypt,
}

/// What went wrong, as far as the user can do something about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The key's identifier or stored `enc` is not usable.
    BadKey,
    /// No credentials (token, key, login) were found.
    NoCredentials,
    /// The service refused the credentials for this key.
    PermissionDenied,
    /// The service has no such key.
    KeyNotFound,
    /// The key exists but may not be used now (disabled, sealed, pending deletion).
    KeyDisabled,
    /// The service could not be reached.
    Unreachable,
    /// The service did not answer in time.
    Timeout,
    /// This machine's policy does not allow the service's address.
    NotAllowed,
    /// This build of sesame has no client for the service.
    NotBuiltIn,
    /// Anything else; the detail says what.
    Other,
}

/// A failed service call: which key, why, what to do. Never holds key material or tokens.
#[derive(Clone, Debug)]
pub struct ServiceError {
    pub op: Operation,
    /// The service, for people ("HashiCorp Vault transit").
    pub service: &'static str,
    /// The key's identifier (sops's display string).
    pub key: String,
    pub cause: Cause,
    /// What went wrong, in a few words.
    pub summary: String,
    /// The service's own words, if any.
    pub detail: String,
    /// What to do.
    pub advice: String,
}

impl ServiceError {
    /// `service`'s failure with `key`: its summary and advice for `cause`, and the service's
    /// own words.
    pub fn new(
        op: Operation,
        service: &'static str,
        key: &MasterKey,
        cause: Cause,
        (summary, advice): (String, String),
        detail: String,
    ) -> ServiceError {
        ServiceError {
            op,
            service,
            key: key.display(),
            cause,
            summary,
            detail,
            advice,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.op {
            Operation::Encrypt => "failed to encrypt sops data key with",
            Operation::Decrypt => "failed to decrypt sops data key with",
        };
        write!(
            f,
            "{what} {} key {}: {}",
            self.service, self.key, self.summary
        )?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        write!(f, "; hint: {}", self.advice)
    }
}

impl std::error::Error for ServiceError {}

/// Seconds a service call may take, unless `SESAME_SERVICE_TIMEOUT` says otherwise.
pub const DEFAULT_SERVICE_TIMEOUT: u64 = 30;

/// The time limit for one service call: `SESAME_SERVICE_TIMEOUT` seconds (a value that is not a
/// positive number keeps the default).
pub fn service_timeout(env: &dyn crate::env::Environment) -> Duration {
    let secs = env
        .var("SESAME_SERVICE_TIMEOUT")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_SERVICE_TIMEOUT);
    Duration::from_secs(secs)
}
