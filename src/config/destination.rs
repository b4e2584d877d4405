//! `.sops.yaml` `destination_rules`: where `sesame publish` sends a file.

use crate::env::Environment;
use crate::tree::{Map, Node};
use regex::Regex;

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

    /// The KV engine version (1 or 2).
    pub fn version(&self) -> u8 {
        self.version
    }
}
