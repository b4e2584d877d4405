//! The `sops` metadata record: key groups, MAC, selection rule, version. Converts to and from
//! the generic tree every store reads and writes, its fields in the order sops ≤3.12 declares
//! them or sorted as sops 3.13 writes them.

use crate::gotext;
use crate::keys::{Field, KeyGroup, KeyKind, MasterKey};
use crate::rules::{MORE_THAN_ONE_RULE, Rule, RuleKind};
use crate::tree::{List, ListItem, Map, MapItem, Node, Scalar};
use std::collections::BTreeMap;

/// The sops format version sesame writes into new files (the format it follows byte for byte).
pub const FORMAT_VERSION: &str = "3.13.2";

/// How the fields of the `sops` record follow each other in YAML and JSON files. Both read the
/// same everywhere; a file keeps the order it was written in, so teams on different sops
/// versions see no churn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldOrder {
    /// sops up to 3.12: the order sops's record type declares its fields in.
    #[default]
    Declared,
    /// sops 3.13 and later: every map sorted by name.
    Sorted,
}

/// Where a map sits in the record, for the declared order of its fields.
#[derive(Clone, Copy)]
enum Place {
    Root,
    Group,
    Key(KeyKind),
    /// A KMS encryption context: a Go map, sorted by every sops version.
    Context,
}

impl Place {
    fn declared(self) -> &'static [&'static str] {
        match self {
            Place::Root => &[
                "shamir_threshold",
                "key_groups",
                "kms",
                "gcp_kms",
                "hckms",
                "azure_kv",
                "hc_vault",
                "age",
                "lastmodified",
                "mac",
                "pgp",
                "unencrypted_suffix",
                "encrypted_suffix",
                "unencrypted_regex",
                "encrypted_regex",
                "unencrypted_comment_regex",
                "encrypted_comment_regex",
                "mac_only_encrypted",
                "version",
            ],
            Place::Group => &[
                "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
            ],
            Place::Key(KeyKind::Pgp) => &["created_at", "enc", "fp"],
            Place::Key(KeyKind::Kms) => {
                &["arn", "role", "context", "created_at", "enc", "aws_profile"]
            }
            Place::Key(KeyKind::GcpKms) => &["resource_id", "created_at", "enc"],
            Place::Key(KeyKind::Hckms) => &["key_id", "created_at", "enc"],
            Place::Key(KeyKind::AzureKv) => &["vault_url", "name", "version", "created_at", "enc"],
            Place::Key(KeyKind::HcVault) => &[
                "vault_address",
                "engine_path",
                "key_name",
                "created_at",
                "enc",
            ],
            Place::Key(KeyKind::Age) => &["recipient", "enc"],
            Place::Context => &[],
        }
    }

    /// A field's rank in the declared order; unknown fields go last, by name.
    fn rank(self, name: &str) -> (usize, &str) {
        let declared = self.declared();
        let at = declared.iter().position(|f| *f == name);
        (at.unwrap_or(declared.len()), name)
    }

    /// The place of the maps inside field `name` of a map at this place.
    fn child(self, name: &str) -> Place {
        match (self, KeyKind::from_field(name)) {
            (Place::Root, _) if name == "key_groups" => Place::Group,
            (Place::Root | Place::Group, Some(kind)) => Place::Key(kind),
            _ => Place::Context,
        }
    }
}

impl FieldOrder {
    /// The order a record as read was written in: declared unless some map breaks it.
    pub fn of(tree: &Map) -> FieldOrder {
        fn declared(map: &Map, place: Place) -> bool {
            let ranks: Vec<_> = map.entries().map(|e| place.rank(&e.key)).collect();
            ranks.is_sorted()
                && map.entries().all(|e| {
                    let child = place.child(&e.key);
                    match &e.value {
                        Node::Map(m) => declared(m, child),
                        Node::List(l) => l.values().all(|n| match n {
                            Node::Map(m) => declared(m, child),
                            _ => true,
                        }),
                        Node::Leaf(_) => true,
                    }
                })
        }
        if declared(tree, Place::Root) {
            FieldOrder::Declared
        } else {
            FieldOrder::Sorted
        }
    }

    /// Puts a sorted map's fields (and its children's) in this order.
    fn arrange(self, map: &mut Map, place: Place) {
        if self == FieldOrder::Sorted {
            return;
        }
        map.items.sort_by(|a, b| match (a, b) {
            (MapItem::Entry(a), MapItem::Entry(b)) => place.rank(&a.key).cmp(&place.rank(&b.key)),
            _ => std::cmp::Ordering::Equal,
        });
        for item in &mut map.items {
            let MapItem::Entry(e) = item else { continue };
            let child = place.child(&e.key);
            match &mut e.value {
                Node::Map(m) => self.arrange(m, child),
                Node::List(l) => {
                    for item in &mut l.items {
                        if let ListItem::Node(Node::Map(m)) = item {
                            self.arrange(m, child);
                        }
                    }
                }
                Node::Leaf(_) => {}
            }
        }
    }
}

/// The metadata of an encrypted file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// One group: any key decrypts. Several: Shamir shares, `shamir_threshold` of them needed.
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: i64,
    /// RFC 3339 time of the last change of values, the MAC's AAD.
    pub lastmodified: String,
    /// The encrypted MAC (`ENC[...]`), or "" when the file has none.
    pub mac: String,
    /// The selection rule as stored; `None` behaves as the `_unencrypted` suffix.
    pub rule: Option<Rule>,
    pub mac_only_encrypted: bool,
    pub version: String,
}

/// Metadata that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("sops metadata not found")]
    NotFound,
    #[error("No keys found in file")]
    NoKeys,
    #[error("invalid sops metadata: {0}")]
    Invalid(String),
    #[error("{MORE_THAN_ONE_RULE}")]
    MoreThanOneRule,
}

impl Metadata {
    /// The rule values are selected by (the default suffix when the file has none).
    pub fn effective_rule(&self) -> Rule {
        self.rule.clone().unwrap_or_else(Rule::default_suffix)
    }

    /// All master keys of all groups.
    pub fn all_keys(&self) -> impl Iterator<Item = &MasterKey> {
        self.key_groups.iter().flat_map(|g| g.keys.iter())
    }

    /// Reads the record from its tree, leniently as sops does (numbers become text where text
    /// is expected, unknown fields are ignored).
    pub fn from_tree(tree: &Map) -> Result<Metadata, MetadataError> {
        let text = |name: &str| tree.get(name).and_then(scalar_text).unwrap_or_default();
        let lastmodified = text("lastmodified");
        if gotext::parse_time(&lastmodified).is_none() {
            return Err(MetadataError::Invalid(format!(
                "lastmodified {lastmodified:?} is not an RFC 3339 time"
            )));
        }
        let mut rule = None;
        for kind in RuleKind::ALL {
            let pattern = text(kind.field());
            if !pattern.is_empty() {
                if rule.is_some() {
                    return Err(MetadataError::MoreThanOneRule);
                }
                rule = Some(Rule::new(kind, pattern));
            }
        }
        let flat = read_group(tree)?;
        let key_groups = if !flat.keys.is_empty() {
            // sops compat: when the flat lists hold keys, `key_groups` is ignored.
            vec![flat]
        } else {
            let mut groups = Vec::new();
            if let Some(Node::List(list)) = tree.get("key_groups") {
                for node in list.values() {
                    let Node::Map(m) = node else {
                        return Err(MetadataError::Invalid(
                            "a key group is not a mapping".into(),
                        ));
                    };
                    groups.push(read_group(m)?);
                }
            }
            groups
        };
        if key_groups.iter().all(|g| g.keys.is_empty()) {
            return Err(MetadataError::NoKeys);
        }
        let shamir_threshold = match tree.get("shamir_threshold").and_then(scalar_text) {
            None => 0,
            Some(s) if s.is_empty() => 0,
            Some(s) => s.parse().map_err(|_| {
                MetadataError::Invalid(format!("shamir_threshold {s:?} is not an integer"))
            })?,
        };
        let mac_only_encrypted = matches!(
            tree.get("mac_only_encrypted").and_then(|n| n.as_scalar()),
            Some(Scalar::Bool(true))
        ) || text("mac_only_encrypted") == "true";
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            lastmodified,
            mac: text("mac"),
            rule,
            mac_only_encrypted,
            version: text("version"),
        })
    }

    /// The record as a tree, its fields in `order`.
    pub fn to_tree(&self, order: FieldOrder) -> Map {
        let mut tree = self.sorted_tree();
        order.arrange(&mut tree, Place::Root);
        tree
    }

    /// The record as a tree with every map sorted byte-wise, as sops 3.13 writes it.
    fn sorted_tree(&self) -> Map {
        let mut root: BTreeMap<&str, Node> = BTreeMap::new();
        if self.key_groups.len() == 1 {
            for kind in KeyKind::ALL {
                let list = key_list(&self.key_groups[0], kind);
                if !list.items.is_empty() {
                    root.insert(kind.field(), Node::List(list));
                }
            }
        } else {
            let mut groups = List::new();
            for group in &self.key_groups {
                let mut g: BTreeMap<&str, Node> = BTreeMap::new();
                for kind in KeyKind::ALL {
                    let list = key_list(group, kind);
                    // sops compat: `age` and `hc_vault` are written even when empty.
                    if !list.items.is_empty() || matches!(kind, KeyKind::Age | KeyKind::HcVault) {
                        g.insert(kind.field(), Node::List(list));
                    }
                }
                groups.items.push(ListItem::Node(Node::Map(sorted_map(g))));
            }
            root.insert("key_groups", Node::List(groups));
        }
        root.insert("lastmodified", Node::string(self.lastmodified.as_str()));
        root.insert("mac", Node::string(self.mac.as_str()));
        if self.mac_only_encrypted {
            root.insert("mac_only_encrypted", Node::scalar(Scalar::Bool(true)));
        }
        if self.shamir_threshold != 0 {
            root.insert(
                "shamir_threshold",
                Node::scalar(Scalar::Int(self.shamir_threshold)),
            );
        }
        if let Some(rule) = &self.rule {
            root.insert(rule.kind.field(), Node::string(rule.pattern.as_str()));
        }
        root.insert("version", Node::string(self.version.as_str()));
        sorted_map(root)
    }
}

fn sorted_map(entries: BTreeMap<&str, Node>) -> Map {
    let mut map = Map::new();
    for (k, v) in entries {
        map.push(k, v);
    }
    map
}

fn key_list(group: &KeyGroup, kind: KeyKind) -> List {
    let mut list = List::new();
    for key in group.of_kind(kind) {
        let mut entry = Map::new();
        for (name, field) in &key.fields {
            let value = match field {
                Field::Text(s) => Node::string(s.as_str()),
                Field::Map(m) => {
                    let mut ctx = Map::new();
                    for (k, v) in m {
                        ctx.push(k.as_str(), Node::string(v.as_str()));
                    }
                    Node::Map(ctx)
                }
            };
            entry.push(name.as_str(), value);
        }
        list.items.push(ListItem::Node(Node::Map(entry)));
    }
    list
}

/// The text of a scalar, converted leniently like sops's weakly typed decoding.
fn scalar_text(node: &Node) -> Option<String> {
    Some(match node.as_scalar()? {
        Scalar::Str(s) => s.to_lossy().into_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Float(f) => gotext::float_f(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => gotext::time_seconds(t),
        Scalar::Null => String::new(),
    })
}

/// A group's keys, by type in `KeyKind::ALL` order whatever the file's field order (so a file
/// reads the same in either order).
fn read_group(map: &Map) -> Result<KeyGroup, MetadataError> {
    let mut group = KeyGroup::default();
    for kind in KeyKind::ALL {
        let Some(value) = map.get(kind.field()) else {
            continue;
        };
        let Node::List(list) = value else {
            // sops compat: `kms: null` and the like in old files mean "no keys".
            continue;
        };
        for node in list.values() {
            let Node::Map(m) = node else {
                return Err(MetadataError::Invalid(format!(
                    "an entry of {} is not a mapping",
                    kind.field()
                )));
            };
            group.keys.push(read_key(kind, m)?);
        }
    }
    Ok(group)
}

/// sops compat: a HuaweiCloud key id is `REGION:KEY_UUID`, or the file does not load (sops's
/// own words).
fn hckms_key_id(id: &str) -> Result<(), MetadataError> {
    let quoted = gotext::go_quote(id);
    let Some((region, key)) = id.split_once(':') else {
        return Err(MetadataError::Invalid(format!(
            "invalid key ID format: expected 'region:key-uuid', got {quoted}"
        )));
    };
    if region.trim().is_empty() {
        return Err(MetadataError::Invalid(format!(
            "region cannot be empty in key ID: {quoted}"
        )));
    }
    if key.trim().is_empty() {
        return Err(MetadataError::Invalid(format!(
            "key UUID cannot be empty in key ID: {quoted}"
        )));
    }
    Ok(())
}

fn read_key(kind: KeyKind, map: &Map) -> Result<MasterKey, MetadataError> {
    let mut key = MasterKey::new(kind);
    for entry in map.entries() {
        let field = match &entry.value {
            Node::Map(m) => Field::Map(
                m.entries()
                    .map(|e| (e.key.clone(), scalar_text(&e.value).unwrap_or_default()))
                    .collect(),
            ),
            Node::List(_) => continue,
            leaf => Field::Text(scalar_text(leaf).unwrap_or_default()),
        };
        key.fields.insert(entry.key.clone(), field);
    }
    if kind == KeyKind::Hckms {
        hckms_key_id(key.text("key_id"))?;
    }
    let created = key.text("created_at");
    if !created.is_empty() && gotext::parse_time(created).is_none() {
        return Err(MetadataError::Invalid(format!(
            "created_at {created:?} of a {} key is not an RFC 3339 time",
            kind.field()
        )));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age_key(r: &str) -> MasterKey {
        let mut k = MasterKey::new(KeyKind::Age);
        k.set_text("recipient", r);
        k.set_text("enc", "E");
        k
    }

    fn sample(groups: Vec<KeyGroup>) -> Metadata {
        Metadata {
            key_groups: groups,
            shamir_threshold: 0,
            lastmodified: "2025-01-02T03:04:05Z".into(),
            mac: "ENC[x]".into(),
            rule: Some(Rule::default_suffix()),
            mac_only_encrypted: false,
            version: FORMAT_VERSION.into(),
        }
    }

    fn keys_of(map: &Map) -> Vec<&str> {
        map.entries().map(|e| e.key.as_str()).collect()
    }

    /// The first map of the list at `key`.
    fn first<'a>(map: &'a Map, key: &str) -> &'a Map {
        let Some(Node::List(list)) = map.get(key) else {
            panic!("{key} is a list")
        };
        let Some(Node::Map(m)) = list.values().next() else {
            panic!("the first item of {key} is a map")
        };
        m
    }

    #[test]
    fn single_group_is_flat_and_sorted() {
        let mut gcp = MasterKey::new(KeyKind::GcpKms);
        gcp.set_text("resource_id", "projects/p");
        gcp.set_text("enc", "Q");
        gcp.set_text("created_at", "2025-01-02T03:04:05Z");
        let md = sample(vec![KeyGroup {
            keys: vec![age_key("age1a"), gcp],
        }]);
        let tree = md.to_tree(FieldOrder::Sorted);
        assert_eq!(
            keys_of(&tree),
            [
                "age",
                "gcp_kms",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(Metadata::from_tree(&tree).unwrap(), md);
    }

    #[test]
    fn several_groups_use_key_groups_with_age_and_hc_vault_always() {
        let mut md = sample(vec![
            KeyGroup {
                keys: vec![age_key("age1a")],
            },
            KeyGroup {
                keys: vec![age_key("age1b")],
            },
        ]);
        md.shamir_threshold = 2;
        let tree = md.to_tree(FieldOrder::Sorted);
        assert_eq!(
            keys_of(&tree),
            [
                "key_groups",
                "lastmodified",
                "mac",
                "shamir_threshold",
                "unencrypted_suffix",
                "version"
            ]
        );
        let g0 = first(&tree, "key_groups");
        assert_eq!(keys_of(g0), ["age", "hc_vault"]);
        assert_eq!(Metadata::from_tree(&tree).unwrap(), md);
    }

    #[test]
    fn declared_order_is_sops_3_11_and_each_order_is_recognised() {
        let mut kms = MasterKey::new(KeyKind::Kms);
        for (f, v) in [
            ("arn", "arn:aws:kms:x"),
            ("aws_profile", ""),
            ("created_at", "2025-01-02T03:04:05Z"),
            ("enc", "K"),
            ("role", "r"),
        ] {
            kms.set_text(f, v);
        }
        let mut md = sample(vec![
            KeyGroup {
                keys: vec![age_key("age1a"), kms],
            },
            KeyGroup {
                keys: vec![age_key("age1b")],
            },
        ]);
        md.shamir_threshold = 2;
        let tree = md.to_tree(FieldOrder::Declared);
        assert_eq!(
            keys_of(&tree),
            [
                "shamir_threshold",
                "key_groups",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        let g0 = first(&tree, "key_groups");
        assert_eq!(keys_of(g0), ["kms", "hc_vault", "age"]);
        let k = first(g0, "kms");
        assert_eq!(
            keys_of(k),
            ["arn", "role", "created_at", "enc", "aws_profile"]
        );
        let a = first(g0, "age");
        assert_eq!(keys_of(a), ["recipient", "enc"]);
        assert_eq!(Metadata::from_tree(&tree).unwrap(), md);

        assert_eq!(FieldOrder::of(&tree), FieldOrder::Declared);
        assert_eq!(
            FieldOrder::of(&md.to_tree(FieldOrder::Sorted)),
            FieldOrder::Sorted
        );
        // An age-only file differs between the two only inside its key entries.
        let single = sample(vec![KeyGroup {
            keys: vec![age_key("age1a")],
        }]);
        for order in [FieldOrder::Declared, FieldOrder::Sorted] {
            assert_eq!(FieldOrder::of(&single.to_tree(order)), order);
        }
    }

    #[test]
    fn rejects_what_sops_rejects() {
        let md = sample(vec![KeyGroup::default()]);
        assert_eq!(
            Metadata::from_tree(&md.to_tree(FieldOrder::Sorted)),
            Err(MetadataError::NoKeys)
        );
        let mut tree = sample(vec![KeyGroup {
            keys: vec![age_key("a")],
        }])
        .to_tree(FieldOrder::Sorted);
        tree.push("encrypted_regex", Node::string("x"));
        assert_eq!(
            Metadata::from_tree(&tree),
            Err(MetadataError::MoreThanOneRule)
        );
    }
}
