//! HashiCorp Vault / OpenBao transit master keys (`hc_vault`): the data key is encrypted by
//! `POST /v1/ENGINE/encrypt/NAME` and decrypted by `.../decrypt/NAME`, as sops's `hcvault` key
//! source does. The server is the key's `vault_address` (not `VAULT_ADDR`); the token is
//! `VAULT_TOKEN`, else `~/.vault-token`; `VAULT_NAMESPACE`, `VAULT_CACERT` and
//! `VAULT_SKIP_VERIFY` are read as the Vault client reads them, and `SOPS_HC_VAULT_ALLOWLIST`
//! limits the addresses used.

use crate::env::Environment;
use crate::keys::MasterKey;
use crate::keys::http::{self, Roots};
use crate::keys::service::{Availability, Cause, KeyService, Operation, ServiceError};
use crate::tree::{Node, Scalar};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::time::Duration;
use zeroize::Zeroizing;

const SERVICE: &str = "HashiCorp Vault transit";

/// The transit side of a process: one HTTP agent, made on first use.
pub struct Vault {
    token: Option<Zeroizing<String>>,
    /// Where the token came from, for messages ("VAULT_TOKEN", "~/.vault-token").
    token_source: &'static str,
    namespace: Option<String>,
    allowlist: Result<Allowlist, String>,
    agent: Result<ureq::Agent, String>,
}

/// sops compat (`SOPS_HC_VAULT_ALLOWLIST`): `all` (the default), `none`, or comma-separated
/// address prefixes, each matched with a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowlist {
    All,
    Prefixes(Vec<String>),
}

impl Allowlist {
    fn parse(text: Option<String>) -> Result<Allowlist, String> {
        let text = text
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "all".into());
        match text.as_str() {
            "all" => return Ok(Allowlist::All),
            "none" => return Ok(Allowlist::Prefixes(Vec::new())),
            _ => {}
        }
        let mut prefixes = Vec::new();
        for (i, entry) in text.split(',').enumerate() {
            let entry = entry.trim_matches(' ');
            if entry.is_empty() {
                return Err(format!(
                    "SOPS_HC_VAULT_ALLOWLIST's entry {} is empty",
                    i + 1
                ));
            }
            prefixes.push(with_slash(entry));
        }
        Ok(Allowlist::Prefixes(prefixes))
    }

    fn allows(&self, address: &str) -> bool {
        match self {
            Allowlist::All => true,
            Allowlist::Prefixes(p) => {
                let address = with_slash(address);
                p.iter().any(|prefix| address.starts_with(prefix))
            }
        }
    }
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

impl Vault {
    /// Reads the token, namespace, TLS settings and allowlist from `env`; `timeout` bounds
    /// each call.
    pub fn new(env: &dyn Environment, timeout: Duration) -> Vault {
        let (token, token_source) = match env.var("VAULT_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) => (Some(Zeroizing::new(t)), "VAULT_TOKEN"),
            None => {
                let file = env.home().map(|h| h.join(".vault-token"));
                let read = file.and_then(|f| std::fs::read_to_string(f).ok());
                let token = read.map(|t| Zeroizing::new(t.trim().to_string()));
                (token.filter(|t| !t.is_empty()), "~/.vault-token")
            }
        };
        Vault {
            token,
            token_source,
            namespace: env.var("VAULT_NAMESPACE").filter(|n| !n.is_empty()),
            allowlist: Allowlist::parse(env.var("SOPS_HC_VAULT_ALLOWLIST")),
            agent: agent(env, timeout),
        }
    }

    fn error(&self, op: Operation, key: &MasterKey, cause: Cause, detail: String) -> ServiceError {
        let address = key.text("vault_address");
        let (summary, advice) = match cause {
            Cause::BadKey => (
                "the key's address, engine path or name is not usable".to_string(),
                "use a key URI like https://vault.example.com:8200/v1/transit/keys/NAME"
                    .to_string(),
            ),
            Cause::NoCredentials => (
                "no Vault token was found".to_string(),
                "set VAULT_TOKEN, or log in with `vault login` (it writes ~/.vault-token)".into(),
            ),
            Cause::PermissionDenied => (
                format!("Vault refused the token from {}", self.token_source),
                format!(
                    "use a token whose policy allows update on {}/{}/{}",
                    key.text("engine_path"),
                    match op {
                        Operation::Encrypt => "encrypt",
                        Operation::Decrypt => "decrypt",
                    },
                    key.text("key_name")
                ),
            ),
            Cause::KeyNotFound => (
                "Vault has no such transit key or engine".to_string(),
                "check the engine path and key name in the URI, and VAULT_NAMESPACE".to_string(),
            ),
            Cause::KeyDisabled => (
                "Vault cannot use the key now".to_string(),
                "unseal Vault, or ask its operators about the key".to_string(),
            ),
            Cause::Unreachable => (
                format!("Vault at {address} could not be reached"),
                "check the address and network; for TLS, VAULT_CACERT (or VAULT_SKIP_VERIFY)"
                    .to_string(),
            ),
            Cause::Timeout => (
                format!("Vault at {address} did not answer in time"),
                "check the server, or raise SESAME_SERVICE_TIMEOUT (seconds)".to_string(),
            ),
            Cause::NotAllowed => (
                format!("SOPS_HC_VAULT_ALLOWLIST does not allow {address}"),
                "add the address to SOPS_HC_VAULT_ALLOWLIST, or use another key of the file"
                    .to_string(),
            ),
            Cause::NotBuiltIn | Cause::Other => (
                "the request failed".to_string(),
                "check the token, the key URI and the Vault server's logs".to_string(),
            ),
        };
        ServiceError::new(op, SERVICE, key, cause, (summary, advice), detail)
    }

    /// `POST {address}/v1/{engine}/{action}/{name}` with `body`; the response's `data.{field}`.
    fn call(
        &self,
        op: Operation,
        key: &MasterKey,
        body: &str,
        field: &str,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let fail = |cause, detail: String| self.error(op, key, cause, detail);
        let address = key.text("vault_address").trim_end_matches('/');
        let (engine, name) = (key.text("engine_path"), key.text("key_name"));
        if address.is_empty() || engine.is_empty() || name.is_empty() {
            return Err(fail(Cause::BadKey, String::new()));
        }
        let allowlist = self
            .allowlist
            .as_ref()
            .map_err(|e| fail(Cause::NotAllowed, e.clone()))?;
        if !allowlist.allows(address) {
            return Err(fail(Cause::NotAllowed, String::new()));
        }
        let agent = self
            .agent
            .as_ref()
            .map_err(|e| fail(Cause::Unreachable, e.clone()))?;
        let action = match op {
            Operation::Encrypt => "encrypt",
            Operation::Decrypt => "decrypt",
        };
        let url = format!("{address}/v1/{engine}/{action}/{name}");
        let mut request = agent.post(&url).header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("X-Vault-Token", token.as_str());
        }
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        let reply = http::send(request, body.as_bytes()).map_err(|e| {
            let (cause, detail) = e.cause();
            fail(cause, detail)
        })?;
        if reply.status != 200 {
            let said = vault_errors(&reply.body);
            let lower = said.to_ascii_lowercase();
            let cause = match reply.status {
                403 if self.token.is_none() || lower.contains("missing client token") => {
                    Cause::NoCredentials
                }
                403 => Cause::PermissionDenied,
                404 => Cause::KeyNotFound,
                400 if lower.contains("not found") => Cause::KeyNotFound,
                503 => Cause::KeyDisabled,
                _ => Cause::Other,
            };
            return Err(fail(cause, format!("HTTP {}: {said}", reply.status)));
        }
        let parsed = http::parse(&reply.body)
            .ok_or_else(|| fail(Cause::Other, "not a Vault response".into()))?;
        match http::text(&parsed, &["data", field]) {
            Some(value) => Ok(Zeroizing::new(value.as_bytes().to_vec())),
            None => Err(fail(
                Cause::Other,
                format!("the response has no data.{field}"),
            )),
        }
    }
}

/// The messages of a Vault error response (`{"errors": [...]}`), or its text.
fn vault_errors(body: &[u8]) -> String {
    let parsed = http::parse(body);
    let errors = parsed
        .as_ref()
        .and_then(Node::as_map)
        .and_then(|d| d.get("errors"));
    match errors {
        Some(Node::List(list)) => list
            .values()
            .filter_map(|n| match n.as_scalar() {
                Some(Scalar::Str(s)) => Some(s.to_lossy().replace('\n', " ")),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => http::excerpt(body),
    }
}

/// An HTTP agent with the call timeout and the Vault client's TLS settings.
fn agent(env: &dyn Environment, timeout: Duration) -> Result<ureq::Agent, String> {
    let skip = env
        .var("VAULT_SKIP_VERIFY")
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "t" | "true"));
    let ca = env.var("VAULT_CACERT").filter(|p| !p.is_empty());
    let roots = match (&ca, skip) {
        (_, true) => Roots::Unverified,
        (Some(path), false) => Roots::File {
            setting: "VAULT_CACERT",
            path,
        },
        (None, false) => Roots::System,
    };
    http::agent(timeout, roots)
}

impl KeyService for Vault {
    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError> {
        let body = Zeroizing::new(format!(r#"{{"plaintext":"{}"}}"#, BASE64.encode(secret)));
        let enc = self.call(Operation::Encrypt, key, &body, "ciphertext")?;
        String::from_utf8(enc.to_vec()).map_err(|_| {
            self.error(
                Operation::Encrypt,
                key,
                Cause::Other,
                "a ciphertext that is not text".into(),
            )
        })
    }

    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let enc = key.enc().trim();
        if !enc.starts_with("vault:") || enc.contains('"') || enc.contains('\\') {
            return Err(self.error(
                Operation::Decrypt,
                key,
                Cause::BadKey,
                "the enc is not a Vault ciphertext".into(),
            ));
        }
        let body = format!(r#"{{"ciphertext":"{enc}"}}"#);
        let encoded = self.call(Operation::Decrypt, key, &body, "plaintext")?;
        let decoded = BASE64.decode(&encoded[..]).map_err(|_| {
            self.error(
                Operation::Decrypt,
                key,
                Cause::Other,
                "the plaintext is not base64".into(),
            )
        })?;
        Ok(Zeroizing::new(decoded))
    }

    fn availability(&self, key: &MasterKey) -> Availability {
        match &self.allowlist {
            Err(e) => return Availability::Missing(e.clone()),
            Ok(a) if !a.allows(key.text("vault_address")) => {
                return Availability::Missing("SOPS_HC_VAULT_ALLOWLIST does not allow it".into());
            }
            Ok(_) => {}
        }
        match &self.token {
            Some(_) => Availability::Unknown(format!(
                "a Vault token from {}; checked when used",
                self.token_source
            )),
            None => Availability::Unknown(
                "no Vault token (VAULT_TOKEN, ~/.vault-token); a Vault agent may not need one"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists_follow_sops() {
        let a = Allowlist::parse(None).unwrap();
        assert!(a.allows("https://anything:8200"));
        let none = Allowlist::parse(Some("none".into())).unwrap();
        assert!(!none.allows("http://127.0.0.1:8200"));
        let some = Allowlist::parse(Some(
            "https://vault.example.com, http://127.0.0.1:8200/".into(),
        ))
        .unwrap();
        assert!(some.allows("https://vault.example.com"));
        assert!(some.allows("http://127.0.0.1:8200"));
        assert!(!some.allows("https://vault.example.com.evil"));
        assert!(
            Allowlist::parse(Some("a,,b".into()))
                .unwrap_err()
                .contains("entry 2 is empty")
        );
        assert_eq!(
            vault_errors(br#"{"errors":["permission denied"]}"#),
            "permission denied"
        );
    }
}
