//! `age-plugin-sesametest`: a small age plugin for sesame's tests, speaking the plugin protocol
//! through the `age-plugin` crate. Its recipients (`age1sesametest1…`) are X25519 public keys
//! and its identities (`AGE-PLUGIN-SESAMETEST-1…`) the secret keys; a file key is wrapped with
//! an ephemeral X25519 agreement, HKDF-SHA256 and ChaCha20-Poly1305 (age-core's primitives).
//!
//! When `SESAMETEST_PIN` is set, unwrapping first asks for a PIN through the client's callbacks
//! and fails on a wrong one; every unwrap sends a message too, and is logged to the file
//! `SESAMETEST_LOG` names, when set. `--generate` prints a new
//! identity with its recipient.

use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret;
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::recipient::{self, RecipientPluginV1};
use age_plugin::{Callbacks, PluginHandler, print_new_identity, run_state_machine};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use std::collections::{HashMap, HashSet};
use std::io;
use x25519_dalek::{EphemeralSecret, PublicKey, StaticSecret};

const NAME: &str = "sesametest";
const TAG: &str = "sesametest";
const LABEL: &[u8] = b"sesame-test-plugin";

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Wrapper;
    type IdentityV1 = Unwrapper;

    fn recipient_v1(self) -> io::Result<Wrapper> {
        Ok(Wrapper::default())
    }

    fn identity_v1(self) -> io::Result<Unwrapper> {
        Ok(Unwrapper::default())
    }
}

#[derive(Default)]
struct Wrapper {
    recipients: Vec<PublicKey>,
}

fn key_for(shared: &[u8], ephemeral: &PublicKey, recipient: &PublicKey) -> [u8; 32] {
    let mut salt = ephemeral.as_bytes().to_vec();
    salt.extend_from_slice(recipient.as_bytes());
    hkdf(&salt, LABEL, shared)
}

impl RecipientPluginV1 for Wrapper {
    fn add_recipient(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        match <[u8; 32]>::try_from(bytes) {
            Ok(key) if plugin_name == NAME => {
                self.recipients.push(PublicKey::from(key));
                Ok(())
            }
            _ => Err(recipient::Error::Recipient {
                index,
                message: "not a sesametest recipient".into(),
            }),
        }
    }

    fn add_identity(&mut self, index: usize, _: &str, _: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "sesametest encrypts to recipients only".into(),
        })
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        let stanzas = file_keys
            .iter()
            .map(|file_key| {
                self.recipients
                    .iter()
                    .map(|recipient| {
                        let ephemeral = EphemeralSecret::random_from_rng(rand::rngs::OsRng);
                        let public = PublicKey::from(&ephemeral);
                        let shared = ephemeral.diffie_hellman(recipient);
                        let key = key_for(shared.as_bytes(), &public, recipient);
                        Stanza {
                            tag: TAG.into(),
                            args: vec![B64.encode(public.as_bytes())],
                            body: aead_encrypt(&key, file_key.expose_secret()),
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Ok(stanzas))
    }
}

#[derive(Default)]
struct Unwrapper {
    identities: Vec<StaticSecret>,
}

impl IdentityPluginV1 for Unwrapper {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        match <[u8; 32]>::try_from(bytes) {
            Ok(key) if plugin_name == NAME => {
                self.identities.push(StaticSecret::from(key));
                Ok(())
            }
            _ => Err(identity::Error::Identity {
                index,
                message: "not a sesametest identity".into(),
            }),
        }
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut found = HashMap::new();
        // Tests count the unwraps asked of the plugin: one line per call.
        if let Ok(log) = std::env::var("SESAMETEST_LOG") {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)?;
            writeln!(f, "unwrap")?;
        }
        if let Ok(pin) = std::env::var("SESAMETEST_PIN") {
            let given = callbacks.request_secret("PIN of the sesametest key")?;
            if given.is_err()
                || given
                    .as_ref()
                    .map(|g| g.expose_secret() != pin)
                    .unwrap_or(true)
            {
                for index in 0..files.len() {
                    found.insert(
                        index,
                        Err(vec![identity::Error::Identity {
                            index: 0,
                            message: "wrong PIN".into(),
                        }]),
                    );
                }
                return Ok(found);
            }
        }
        let _ = callbacks.message("sesametest: unwrapping")?;
        for (index, stanzas) in files.iter().enumerate() {
            'stanzas: for stanza in stanzas.iter().filter(|s| s.tag == TAG) {
                let Some(public) = stanza
                    .args
                    .first()
                    .and_then(|a| B64.decode(a).ok())
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .map(PublicKey::from)
                else {
                    continue;
                };
                for secret in &self.identities {
                    let shared = secret.diffie_hellman(&public);
                    let key = key_for(shared.as_bytes(), &public, &PublicKey::from(secret));
                    if let Ok(plain) = aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body) {
                        let file_key = FileKey::init_with_mut(|k| k.copy_from_slice(&plain));
                        found.insert(index, Ok(file_key));
                        break 'stanzas;
                    }
                }
            }
        }
        Ok(found)
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(machine) = args.iter().find_map(|a| a.strip_prefix("--age-plugin=")) {
        return run_state_machine(machine, Handler);
    }
    if args.iter().any(|a| a == "--generate") {
        let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let public = PublicKey::from(&secret);
        print_new_identity(NAME, secret.as_bytes(), public.as_bytes());
        return Ok(());
    }
    // Without either it is being run by `cargo test` (harness = false): nothing to do.
    eprintln!("usage: age-plugin-sesametest --generate");
    Ok(())
}
