//! How people write master keys, turned into `MasterKey`s in one place: the command-line key
//! flags and `.sops.yaml` fields (comma-separated lists, per type), the structured
//! `key_groups` entries, and a recipient typed into the key manager.

use crate::keys::{Field, KeyKind, MasterKey};
use regex::Regex;
use std::collections::BTreeMap;

impl MasterKey {
    fn with(kind: KeyKind, field: &str, value: &str) -> MasterKey {
        let mut k = MasterKey::new(kind);
        k.set_text(field, value.trim());
        k
    }

    /// An age key for an `age1…` or `ssh-…` recipient.
    pub fn age(recipient: &str) -> MasterKey {
        MasterKey::with(KeyKind::Age, "recipient", recipient)
    }

    /// A PGP key from a fingerprint as written (spaces removed).
    pub fn pgp(fingerprint: &str) -> MasterKey {
        MasterKey::with(KeyKind::Pgp, "fp", &fingerprint.replace(' ', ""))
    }

    /// An AWS KMS key from `arn` or `arn+role_arn`, with its profile and encryption context.
    pub fn kms(
        spec: &str,
        aws_profile: &str,
        context: Option<BTreeMap<String, String>>,
    ) -> MasterKey {
        let spec = spec.replace(' ', "");
        let mut key = MasterKey::new(KeyKind::Kms);
        match spec.split_once("+arn:") {
            Some((arn, role)) => {
                key.set_text("arn", arn);
                key.set_text("role", format!("arn:{role}"));
            }
            None => key.set_text("arn", spec),
        }
        key.set_text("aws_profile", aws_profile);
        if let Some(ctx) = context {
            key.fields.insert("context".into(), Field::Map(ctx));
        }
        key
    }

    /// A GCP KMS key from its resource id
    /// (`projects/*/locations/*/keyRings/*/cryptoKeys/*`).
    pub fn gcp_kms(resource_id: &str) -> MasterKey {
        MasterKey::with(KeyKind::GcpKms, "resource_id", resource_id)
    }

    /// A HuaweiCloud KMS key from `REGION:KEY_UUID`.
    pub fn hckms(key_id: &str) -> MasterKey {
        MasterKey::with(KeyKind::Hckms, "key_id", key_id)
    }

    /// An Azure Key Vault key from its parts (an empty version: the key's current one).
    pub fn azure_kv(vault_url: &str, name: &str, version: &str) -> MasterKey {
        let mut key = MasterKey::new(KeyKind::AzureKv);
        key.set_text("vault_url", vault_url);
        key.set_text("name", name);
        key.set_text("version", version);
        key
    }

    /// An Azure Key Vault key from `https://<vault>/keys/<name>[/<version>]`.
    pub fn azure_kv_from_url(url: &str) -> Result<MasterKey, String> {
        let re = Regex::new(r"^(https://[^/]+)/keys/([^/]+)(?:/([^/]+))?/?$").expect("valid regex");
        let caps = re
            .captures(url.trim())
            .ok_or_else(|| format!("could not parse {url:?} as an Azure Key Vault key URL"))?;
        Ok(MasterKey::azure_kv(
            &caps[1],
            &caps[2],
            caps.get(3).map_or("", |m| m.as_str()),
        ))
    }

    /// A Vault transit key from `https://host:port/v1/<engine path>/keys/<name>`.
    pub fn hc_vault_from_uri(uri: &str) -> Result<MasterKey, String> {
        let re = Regex::new(r"^(https?://[^/]+)/v1/(.+)/keys/([^/]+)$").expect("valid regex");
        let caps = re
            .captures(uri.trim())
            .ok_or_else(|| format!("could not parse {uri:?} as a Vault transit key URI"))?;
        let mut key = MasterKey::new(KeyKind::HcVault);
        key.set_text("vault_address", &caps[1]);
        key.set_text("engine_path", &caps[2]);
        key.set_text("key_name", &caps[3]);
        Ok(key)
    }

    /// One entry of a key list as sops's key flags and flat `.sops.yaml` fields give it
    /// (`--gcp-kms a,b`, `hc_vault_transit_uri: …`). KMS keys get no profile or context here.
    pub fn from_list_item(kind: KeyKind, item: &str) -> Result<MasterKey, String> {
        Ok(match kind {
            KeyKind::Age => MasterKey::age(item),
            KeyKind::Pgp => MasterKey::pgp(item),
            KeyKind::Kms => MasterKey::kms(item, "", None),
            // sops compat: resource ids from a list lose their spaces, as fingerprints do.
            KeyKind::GcpKms => MasterKey::gcp_kms(&item.replace(' ', "")),
            KeyKind::Hckms => MasterKey::hckms(&item.replace(' ', "")),
            KeyKind::AzureKv => MasterKey::azure_kv_from_url(item)?,
            KeyKind::HcVault => MasterKey::hc_vault_from_uri(item)?,
        })
    }

    /// What a typed recipient is: an age X25519, plugin or SSH public key, a PGP fingerprint,
    /// an AWS KMS ARN (`arn[+role]`), a Vault transit key URI
    /// (`https://HOST:PORT/v1/ENGINE/keys/NAME`), an Azure Key Vault key URL
    /// (`https://VAULT/keys/NAME[/VERSION]`), a GCP KMS resource id
    /// (`projects/…/cryptoKeys/…`) or a HuaweiCloud KMS key id (`REGION:KEY_UUID`).
    /// Anything else is `None` (the caller may try it as a key file).
    pub fn parse_typed(text: &str) -> Result<Option<MasterKey>, String> {
        let t = text.trim();
        if t.starts_with("http://") || t.starts_with("https://") {
            if t.contains("/v1/") || t.starts_with("http://") {
                return MasterKey::hc_vault_from_uri(t).map(Some);
            }
            return MasterKey::azure_kv_from_url(t).map(Some).map_err(|_| {
                format!(
                    "{t:?} is neither a Vault transit key URI (https://HOST:PORT/v1/ENGINE/keys/NAME) nor an Azure Key Vault key URL (https://VAULT.vault.azure.net/keys/NAME[/VERSION])"
                )
            });
        }
        if t.starts_with("projects/") {
            let parts: Vec<&str> = t.split('/').collect();
            let shaped = parts.len() == 8
                && parts[2] == "locations"
                && parts[4] == "keyRings"
                && parts[6] == "cryptoKeys"
                && parts.iter().all(|p| !p.is_empty());
            if !shaped {
                return Err(format!(
                    "{t:?} is not a GCP KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K)"
                ));
            }
            return Ok(Some(MasterKey::gcp_kms(t)));
        }
        if let Some((region, uuid)) = t.split_once(':')
            && !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && region.contains('-')
            && uuid.len() == 36
            && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        {
            return Ok(Some(MasterKey::hckms(t)));
        }
        if t.starts_with("age1") || t.starts_with("ssh-") {
            crate::keys::age::check_recipient(t).map_err(|e| e.to_string())?;
            return Ok(Some(MasterKey::age(t)));
        }
        if t.starts_with("arn:") {
            let arn = t.split('+').next().unwrap_or(t);
            let parts: Vec<&str> = arn.split(':').collect();
            if parts.len() < 6 || parts[2] != "kms" || parts[3].is_empty() {
                return Err(format!(
                    "{t:?} is not an AWS KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, optionally +ROLE_ARN)"
                ));
            }
            return Ok(Some(MasterKey::kms(t, "", None)));
        }
        let hex: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        if (hex.len() == 40 || hex.len() == 16) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(Some(MasterKey::pgp(&hex.to_ascii_uppercase())));
        }
        Ok(None)
    }
}

/// Splits a key flag or flat `.sops.yaml` value (`a, b,c`) into its items.
pub fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_recipients_are_recognised() {
        let id = age::x25519::Identity::generate();
        let r = id.to_public().to_string();
        let k = MasterKey::parse_typed(&format!("  {r} ")).unwrap().unwrap();
        assert_eq!((k.kind, k.display()), (KeyKind::Age, r));
        assert!(MasterKey::parse_typed("age1notakey").is_err());
        let fp = "c009 74e4 cf25 a715 d3ce 81d9 6237 7bd1 225d 0c0e";
        let k = MasterKey::parse_typed(fp).unwrap().unwrap();
        assert_eq!(k.display(), "C00974E4CF25A715D3CE81D962377BD1225D0C0E");
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/abc+arn:aws:iam::111122223333:role/ops";
        let k = MasterKey::parse_typed(arn).unwrap().unwrap();
        assert_eq!(k.kind, KeyKind::Kms);
        assert_eq!(k.text("role"), "arn:aws:iam::111122223333:role/ops");
        assert!(MasterKey::parse_typed("arn:aws:s3:::bucket").is_err());
        assert_eq!(MasterKey::parse_typed("./keys/ops.asc").unwrap(), None);
        let vault = MasterKey::parse_typed("http://127.0.0.1:8200/v1/transit/keys/team")
            .unwrap()
            .unwrap();
        assert_eq!(vault.kind, KeyKind::HcVault);
        assert_eq!(vault.text("engine_path"), "transit");
        assert!(MasterKey::parse_typed("https://vault.example.com/prefix/v1/x").is_err());
        let az = MasterKey::parse_typed("https://team.vault.azure.net/keys/sops/abc123")
            .unwrap()
            .unwrap();
        assert_eq!((az.kind, az.text("version")), (KeyKind::AzureKv, "abc123"));
        assert!(MasterKey::parse_typed("https://team.vault.azure.net/secrets/x").is_err());
        let gcp = "projects/p/locations/global/keyRings/r/cryptoKeys/k";
        let k = MasterKey::parse_typed(gcp).unwrap().unwrap();
        assert_eq!((k.kind, k.display()), (KeyKind::GcpKms, gcp.to_string()));
        assert!(MasterKey::parse_typed("projects/p/keyRings/r").is_err());
        let hc = "cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
        let k = MasterKey::parse_typed(hc).unwrap().unwrap();
        assert_eq!((k.kind, k.display()), (KeyKind::Hckms, hc.to_string()));
        // An age plugin recipient is taken by its form; its plugin runs when it is used.
        let plugin = "age1sesametest1c7tmzq9nsnl4v895frkh9rzd8yv2ldsvka6dy4cn9ypengcysyhqjtgthz";
        let k = MasterKey::parse_typed(plugin).unwrap().unwrap();
        assert_eq!(k.kind, KeyKind::Age);
    }

    #[test]
    fn list_items_follow_sops() {
        let items: Vec<&str> = split_list(" a, ,b ,c").collect();
        assert_eq!(items, ["a", "b", "c"]);
        let gcp = MasterKey::from_list_item(KeyKind::GcpKms, "projects/p/ locations/l").unwrap();
        assert_eq!(gcp.display(), "projects/p/locations/l");
        let az = MasterKey::from_list_item(KeyKind::AzureKv, "https://v.vault.azure.net/keys/k")
            .unwrap();
        assert_eq!(az.display(), "https://v.vault.azure.net/keys/k/");
        let hv =
            MasterKey::from_list_item(KeyKind::HcVault, "http://127.0.0.1:8200/v1/transit/keys/k")
                .unwrap();
        assert_eq!(hv.display(), "http://127.0.0.1:8200/v1/transit/keys/k");
        assert!(MasterKey::from_list_item(KeyKind::HcVault, "http://x/transit/keys/k").is_err());
        assert!(MasterKey::from_list_item(KeyKind::AzureKv, "http://v/keys/k").is_err());
        let kms = MasterKey::kms("arn:aws:kms:r:1:key/x", "dev", None);
        assert_eq!(kms.display(), "arn:aws:kms:r:1:key/x||dev");
    }
}
