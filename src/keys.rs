//! Master keys: the entries of a file's key groups, each holding the data key (or a Shamir
//! share of it) wrapped for one recipient.

pub mod age;
#[cfg(feature = "azure-kv")]
pub mod azure_kv;
#[cfg(feature = "gcp-kms")]
pub mod gcp_kms;
pub mod groups;
#[cfg(feature = "hckms")]
pub mod hckms;
#[cfg(feature = "service-http")]
pub mod http;
#[cfg(any(feature = "gcp-kms", feature = "azure-kv"))]
pub mod jwt;
pub mod keyring;
#[cfg(feature = "keyservice")]
pub mod keyservice;
pub mod kms;
pub mod pgp;
pub mod plan;
pub mod service;
pub mod shamir;
pub mod spec;
#[cfg(feature = "hc-vault")]
pub mod vault;

use std::collections::BTreeMap;

/// The key types sops knows, by metadata list name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    Age,
    AzureKv,
    GcpKms,
    HcVault,
    Hckms,
    Kms,
    Pgp,
}

impl KeyKind {
    /// Alphabetical, the order sops 3.13 writes the lists in.
    pub const ALL: [KeyKind; 7] = [
        KeyKind::Age,
        KeyKind::AzureKv,
        KeyKind::GcpKms,
        KeyKind::HcVault,
        KeyKind::Hckms,
        KeyKind::Kms,
        KeyKind::Pgp,
    ];

    /// The metadata list name, also the type id of `--decryption-order`.
    pub fn field(self) -> &'static str {
        match self {
            KeyKind::Age => "age",
            KeyKind::AzureKv => "azure_kv",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::HcVault => "hc_vault",
            KeyKind::Hckms => "hckms",
            KeyKind::Kms => "kms",
            KeyKind::Pgp => "pgp",
        }
    }

    pub fn from_field(name: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.field() == name)
    }

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Age => "age",
            KeyKind::AzureKv => "Azure Key Vault",
            KeyKind::GcpKms => "GCP KMS",
            KeyKind::HcVault => "HashiCorp Vault transit",
            KeyKind::Hckms => "HuaweiCloud KMS",
            KeyKind::Kms => "AWS KMS",
            KeyKind::Pgp => "PGP",
        }
    }

    /// sops compat: the order keys of one group are read in (and so tried in by default).
    fn read_rank(self) -> u8 {
        match self {
            KeyKind::Kms => 0,
            KeyKind::GcpKms => 1,
            KeyKind::Hckms => 2,
            KeyKind::AzureKv => 3,
            KeyKind::HcVault => 4,
            KeyKind::Pgp => 5,
            KeyKind::Age => 6,
        }
    }
}

/// A field of a master-key entry: text, or (KMS `context`) a map of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Text(String),
    Map(BTreeMap<String, String>),
}

/// One master key as stored: its type and all its fields, kept verbatim (so key types sesame
/// cannot use survive every save untouched).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterKey {
    pub kind: KeyKind,
    pub fields: BTreeMap<String, Field>,
}

impl MasterKey {
    pub fn new(kind: KeyKind) -> Self {
        MasterKey {
            kind,
            fields: BTreeMap::new(),
        }
    }

    /// A text field, or "" when absent.
    pub fn text(&self, name: &str) -> &str {
        match self.fields.get(name) {
            Some(Field::Text(s)) => s,
            _ => "",
        }
    }

    pub fn set_text(&mut self, name: &str, value: impl Into<String>) {
        self.fields
            .insert(name.to_string(), Field::Text(value.into()));
    }

    /// Records when this key's `enc` was made (sops writes `created_at` for every key type but
    /// age, in UTC seconds).
    pub fn stamp_created_at(&mut self) {
        if self.kind != KeyKind::Age {
            self.set_text("created_at", crate::gotext::now_seconds());
        }
    }

    /// The wrapped data key (or share) as stored.
    pub fn enc(&self) -> &str {
        self.text("enc")
    }

    /// sops compat: the display string used in reports, `--rm-*` matching and de-duplication.
    pub fn display(&self) -> String {
        match self.kind {
            KeyKind::Age => self.text("recipient").to_string(),
            KeyKind::Pgp => self.text("fp").to_string(),
            KeyKind::GcpKms => self.text("resource_id").to_string(),
            KeyKind::Hckms => self.text("key_id").to_string(),
            KeyKind::AzureKv => format!(
                "{}/keys/{}/{}",
                self.text("vault_url"),
                self.text("name"),
                self.text("version")
            ),
            KeyKind::HcVault => format!(
                "{}/v1/{}/keys/{}",
                self.text("vault_address"),
                self.text("engine_path"),
                self.text("key_name")
            ),
            KeyKind::Kms => {
                let mut s = self.text("arn").to_string();
                let role = self.text("role");
                if !role.is_empty() {
                    s.push('+');
                    s.push_str(role);
                }
                // sops compat: `arn[+role]`, then `|k1:v1,k2:v2` (sorted) when there is a
                // context, and `|context|profile` (context possibly empty) with a profile.
                let context = match self.fields.get("context") {
                    Some(Field::Map(ctx)) => ctx
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => String::new(),
                };
                let profile = self.text("aws_profile");
                if !profile.is_empty() {
                    s = format!("{s}|{context}|{profile}");
                } else if !context.is_empty() {
                    s = format!("{s}|{context}");
                }
                s
            }
        }
    }
}

/// A key group: any one of its keys can unwrap the group's data key (or share).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyGroup {
    pub keys: Vec<MasterKey>,
}

impl KeyGroup {
    /// Keys in sops's read order (kms, gcp_kms, hckms, azure_kv, hc_vault, pgp, age), each type
    /// keeping its own order.
    pub fn in_read_order(&self) -> Vec<&MasterKey> {
        let mut keys: Vec<&MasterKey> = self.keys.iter().collect();
        keys.sort_by_key(|k| k.kind.read_rank());
        keys
    }

    /// The keys of one type, in order.
    pub fn of_kind(&self, kind: KeyKind) -> impl Iterator<Item = &MasterKey> {
        self.keys.iter().filter(move |k| k.kind == kind)
    }
}
