//! `publish` destinations from `.sops.yaml` `destination_rules`, and the upload of a file's
//! decrypted values to a Vault (or OpenBao) KV engine over its HTTP API.

use crate::keys::age::Environment;
use crate::store::{self, Format};
use crate::tree::{Map, Node};
use regex::Regex;
use zeroize::Zeroizing;

/// Where a destination rule sends files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
    Vault(VaultKv),
}

/// One `destination_rules` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationRule {
    pub path_regex: Option<String>,
    pub destination: Destination,
    pub omit_extensions: bool,
}

impl DestinationRule {
    /// Parses a rule; exactly one of s3_bucket, gcs_bucket, vault_path must be set.
    pub fn from_map(m: &Map, text: impl Fn(&Node) -> Option<String>) -> Result<Self, String> {
        let field = |name: &str| m.get(name).and_then(&text).unwrap_or_default();
        let mut found = Vec::new();
        if !field("s3_bucket").is_empty() {
            found.push(Destination::S3 {
                bucket: field("s3_bucket"),
                prefix: field("s3_prefix"),
            });
        }
        if !field("gcs_bucket").is_empty() {
            found.push(Destination::Gcs {
                bucket: field("gcs_bucket"),
                prefix: field("gcs_prefix"),
            });
        }
        if !field("vault_path").is_empty() {
            found.push(Destination::Vault(VaultKv::new(
                &field("vault_address"),
                &field("vault_path"),
                &field("vault_kv_mount_name"),
                field("vault_kv_version").parse().unwrap_or(2),
            )));
        }
        if found.len() > 1 {
            return Err("error loading config: more than one destinations were found in a single destination rule, you can only use one per rule".into());
        }
        let destination = found
            .pop()
            .ok_or("a destination rule needs one of s3_bucket, gcs_bucket or vault_path")?;
        Ok(DestinationRule {
            path_regex: Some(field("path_regex")).filter(|s| !s.is_empty()),
            destination,
            omit_extensions: field("omit_extensions") == "true",
        })
    }

    /// sops compat: the first rule without a regex, or whose regex matches the path as given.
    pub fn find<'a>(rules: &'a [DestinationRule], path: &str) -> Result<&'a Self, String> {
        for rule in rules {
            match &rule.path_regex {
                None => return Ok(rule),
                Some(re) => {
                    let re =
                        Regex::new(re).map_err(|e| format!("invalid path_regex {re:?}: {e}"))?;
                    if re.is_match(path) {
                        return Ok(rule);
                    }
                }
            }
        }
        Err("error loading config: no matching destination found in config".into())
    }
}

/// A KV secrets engine path: `<mount><path><file>` (v1) or `<mount>data/<path><file>` (v2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultKv {
    address: String,
    path: String,
    mount: String,
    version: u8,
}

impl VaultKv {
    /// sops compat: path and mount end in `/`, the mount defaults to `secret/`, any version
    /// other than 1 is 2.
    pub fn new(address: &str, path: &str, mount: &str, version: i64) -> VaultKv {
        let slash = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        VaultKv {
            address: address.to_string(),
            path: slash(path),
            mount: slash(if mount.is_empty() { "secret" } else { mount }),
            version: if version == 1 { 1 } else { 2 },
        }
    }

    fn secrets_path(&self, name: &str) -> String {
        match self.version {
            1 => format!("{}{}{name}", self.mount, self.path),
            _ => format!("{}data/{}{name}", self.mount, self.path),
        }
    }

    /// The server: the rule's `vault_address`, else `VAULT_ADDR`, else Vault's default.
    fn address(&self, env: &dyn Environment) -> String {
        let addr = if self.address.is_empty() {
            env.var("VAULT_ADDR")
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "https://127.0.0.1:8200".into())
        } else {
            self.address.clone()
        };
        addr.trim_end_matches('/').to_string()
    }

    /// The URL a file is published to (shown before asking).
    pub fn url(&self, env: &dyn Environment, name: &str) -> String {
        format!("{}/v1/{}", self.address(env), self.secrets_path(name))
    }

    /// Writes `doc` (the decrypted values) as the secret `name`, unless the secret already
    /// holds exactly these values. Returns whether a new version was written.
    pub fn upload(&self, env: &dyn Environment, name: &str, doc: &Map) -> Result<bool, String> {
        let token = vault_token(env)?;
        let url = self.url(env, name);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let data = Zeroizing::new(
            store::emit_plain(
                Format::Json,
                std::slice::from_ref(doc),
                &store::EmitOptions::default(),
            )
            .map_err(|e| e.to_string())?,
        );
        // Compare through JSON on both sides, so number and string types are read alike.
        let ours = store::parse_plain(Format::Json, &data)
            .map_err(|e| e.to_string())?
            .docs;
        if let Ok(mut response) = authorized(agent.get(&url), &token, env).call()
            && response.status() == 200
            && let Ok(body) = response.body_mut().read_to_vec()
        {
            let body = Zeroizing::new(body);
            if let (Some(theirs), Some(ours)) = (self.stored_data(&body), ours.first())
                && same_map(ours, &theirs)
            {
                return Ok(false);
            }
        }
        let mut body = Zeroizing::new(Vec::with_capacity(data.len() + 16));
        if self.version == 2 {
            body.extend_from_slice(b"{\"data\":");
            body.extend_from_slice(&data);
            body.push(b'}');
        } else {
            body.extend_from_slice(&data);
        }
        let mut response = authorized(agent.put(&url), &token, env)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| format!("could not reach Vault at {url}: {e}"))?;
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Err(format!(
            "Vault refused the write to {url} ({status}): {}",
            text.trim()
        ))
    }

    /// The values of a stored secret in a read response (`data`, or `data.data` for v2).
    fn stored_data(&self, body: &[u8]) -> Option<Map> {
        let parsed = store::parse_plain(Format::Json, body).ok()?;
        let data = parsed.docs.first()?.get("data")?.as_map()?;
        let data = match self.version {
            1 => data,
            _ => data.get("data")?.as_map()?,
        };
        Some(data.clone())
    }
}

/// Whether two maps hold the same values, whatever the key order (Vault sorts keys).
fn same_map(a: &Map, b: &Map) -> bool {
    a.entries().count() == b.entries().count()
        && a.entries()
            .all(|e| b.get(&e.key).is_some_and(|v| same_node(&e.value, v)))
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => same_map(x, y),
        (Node::List(x), Node::List(y)) => {
            x.values().count() == y.values().count()
                && x.values().zip(y.values()).all(|(p, q)| same_node(p, q))
        }
        (Node::Leaf(x), Node::Leaf(y)) => x.value == y.value,
        _ => false,
    }
}

/// Adds the token and, when set, the namespace (`VAULT_NAMESPACE`) to a request.
fn authorized<B>(
    req: ureq::RequestBuilder<B>,
    token: &str,
    env: &dyn Environment,
) -> ureq::RequestBuilder<B> {
    let req = req.header("X-Vault-Token", token);
    match env.var("VAULT_NAMESPACE").filter(|n| !n.is_empty()) {
        Some(ns) => req.header("X-Vault-Namespace", ns),
        None => req,
    }
}

/// `VAULT_TOKEN`, else the token file the vault CLI writes (`~/.vault-token`).
fn vault_token(env: &dyn Environment) -> Result<Zeroizing<String>, String> {
    if let Some(t) = env.var("VAULT_TOKEN").filter(|t| !t.is_empty()) {
        return Ok(Zeroizing::new(t));
    }
    if let Some(home) = env.home() {
        let file = home.join(".vault-token");
        if let Ok(t) = std::fs::read_to_string(&file) {
            return Ok(Zeroizing::new(t.trim().to_string()));
        }
    }
    Err("no Vault token: set VAULT_TOKEN or log in with `vault login` (~/.vault-token)".into())
}
