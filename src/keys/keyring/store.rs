//! The one keyring entry that holds the bundle: the Linux keyutils store of keyring-core, and
//! on other platforms a clear "no store".

use super::KeyringError;
use super::bundle::Bundle;

#[cfg(target_os = "linux")]
pub(super) use linux::{PLACE, Slot};
#[cfg(not(target_os = "linux"))]
pub(super) use other::{PLACE, Slot};

/// keyring-core's service and user for the entry; keyutils names the key
/// `keyring:age-identities@sesame`.
const SERVICE: &str = "sesame";
const USER: &str = "age-identities";
const DESCRIPTION: &str = "keyring:age-identities@sesame";

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use keyring_core::api::CredentialStoreApi;
    use keyring_core::{Entry, Error};
    use linux_keyutils_keyring_store::{Cred, Store};
    use zeroize::Zeroizing;

    /// The place, for reports.
    pub const PLACE: &str = "the Linux kernel keyring (`sesame identity list`)";

    /// The opened entry, and whether the user's persistent keyring backs it.
    pub struct Slot {
        entry: Entry,
        persistent: bool,
    }

    impl Slot {
        /// Finds the session keyring and links the persistent one into it (keyutils store
        /// behaviour: a new login finds identities added in an earlier one). No key is created.
        pub fn open() -> Result<Slot, KeyringError> {
            let store = Store::new().map_err(unavailable)?;
            let entry = store.build(SERVICE, USER, None).map_err(unavailable)?;
            let persistent = entry
                .as_any()
                .downcast_ref::<Cred>()
                .is_some_and(|c| c.persistent.is_some());
            Ok(Slot { entry, persistent })
        }

        /// A sentence saying where identities are kept and how long they last.
        pub fn location(&self) -> String {
            if self.persistent {
                let expiry =
                    std::fs::read_to_string("/proc/sys/kernel/keys/persistent_keyring_expiry")
                        .ok()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(|s| format!("{} days", s as f64 / 86400.0))
                        .unwrap_or_else(|| "the time set in persistent_keyring_expiry".into());
                format!(
                    "Linux kernel keyring, session and persistent keyrings: kept after logout until \
                     unused for {expiry}, lost at reboot"
                )
            } else {
                "Linux kernel keyring, session keyring only (this kernel gives no persistent \
                 keyring): lost when this login session ends and at reboot"
                    .into()
            }
        }

        fn raw(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeyringError> {
            match self.entry.get_secret() {
                Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
                Err(Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(e)),
            }
        }

        /// The stored bundle; empty when nothing was stored.
        pub fn read(&self) -> Result<Bundle, KeyringError> {
            match self.raw()? {
                Some(bytes) => Bundle::parse(&bytes).map_err(|reason| KeyringError::Corrupt {
                    entry: DESCRIPTION.into(),
                    reason: format!(
                        "{reason} (remove it with `keyctl purge user {DESCRIPTION}` and add your identities again)"
                    ),
                }),
                None => Ok(Bundle::default()),
            }
        }

        /// Replaces the bundle (an empty one removes the entry). When the store fails half
        /// way (keyutils adds the key to the session keyring before linking it into the
        /// persistent one), the old content is put back so both keyrings agree again.
        pub fn write(&self, bundle: &Bundle) -> Result<(), KeyringError> {
            let before = self.raw()?;
            let result = match bundle.is_empty() {
                true => self.entry.delete_credential(),
                false => self.entry.set_secret(bundle.to_text().as_bytes()),
            };
            let Err(e) = result else { return Ok(()) };
            if bundle.is_empty() && matches!(e, Error::NoEntry) {
                return Ok(());
            }
            let restored = match &before {
                Some(old) => self.entry.set_secret(old),
                None => self.entry.delete_credential(),
            };
            let state = match (restored, self.raw()) {
                (_, Ok(now)) if now == before => "the keyring was left as it was",
                (Err(Error::NoEntry), Ok(None)) => "the keyring was left as it was",
                _ => {
                    "the keyring may hold the change in this session only; run `sesame identity list`"
                }
            };
            Err(KeyringError::Write {
                location: "Linux kernel keyring".into(),
                reason: format!("{}; {state}", describe(&e)),
            })
        }
    }

    fn unavailable(e: Error) -> KeyringError {
        KeyringError::Unavailable {
            location: "Linux kernel keyring".into(),
            reason: describe(&e),
        }
    }

    /// keyring-core errors in words; never their payloads (some variants carry secret bytes).
    fn describe(e: &Error) -> String {
        match e {
            Error::NoStorageAccess(p) => format!(
                "the kernel refused access ({p}); inside a container keyctl is often blocked"
            ),
            Error::PlatformFailure(p) if p.to_string().contains("QuotaExceeded") => {
                "your kernel key quota is full (see /proc/sys/kernel/keys/maxbytes)".into()
            }
            Error::PlatformFailure(p) => format!("keyutils failed: {p}"),
            Error::Invalid(what, why) => format!("{what} {why}"),
            Error::NoEntry => "the entry disappeared while it was being changed".into(),
            _ => "unexpected keyring error".into(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod other {
    use super::*;

    /// The place, for reports.
    pub const PLACE: &str = "the OS keyring (none on this platform)";

    /// No store on this platform: `open` always fails, so no `Slot` exists.
    pub enum Slot {}

    impl Slot {
        pub fn open() -> Result<Slot, KeyringError> {
            let _ = (SERVICE, USER, DESCRIPTION);
            Err(KeyringError::NoStore)
        }
        pub fn location(&self) -> String {
            match *self {}
        }
        pub fn read(&self) -> Result<Bundle, KeyringError> {
            match *self {}
        }
        pub fn write(&self, _: &Bundle) -> Result<(), KeyringError> {
            match *self {}
        }
    }
}
