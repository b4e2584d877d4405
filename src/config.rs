//! `.sops.yaml`: discovery from the working directory upward, creation rules (which keys and
//! which selection rule a new file gets) and store settings.

pub mod destination;

use crate::keys::spec::split_list;
use crate::keys::{KeyGroup, KeyKind, MasterKey};
use crate::rules::{Rule, RuleKind};
use crate::store::{self, EmitOptions, Format};
use crate::tree::{Map, Node, Scalar};
use regex::Regex;
use std::path::{Path, PathBuf};

const CONFIG_NAME: &str = ".sops.yaml";
const MAX_DEPTH: usize = 100;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("error loading config: Could not read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("error loading config: Could not unmarshal config file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("error loading config: no matching creation rules found")]
    NoMatchingRule,
    #[error(
        "error loading config: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule"
    )]
    MoreThanOneRule,
    #[error("error loading config: {0}")]
    Invalid(String),
}

/// A loaded `.sops.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was found; creation-rule paths are relative to its folder.
    pub path: PathBuf,
    /// `None` when the file has no `creation_rules` key at all.
    pub creation_rules: Option<Vec<CreationRule>>,
    pub stores: EmitOptions,
    /// `destination_rules`, for `publish`.
    pub destination_rules: Vec<destination::DestinationRule>,
    /// A `.sops.yml` seen on the way up (sops warns and ignores it).
    pub ignored_alternate: Option<PathBuf>,
}

/// One creation rule.
#[derive(Debug, Clone, Default)]
pub struct CreationRule {
    pub path_regex: Option<String>,
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: i64,
    pub rule: Option<Rule>,
    pub mac_only_encrypted: bool,
}

/// Finds the config file: `explicit` (from `--config`/`SOPS_CONFIG`), else `.sops.yaml` in
/// `start` or one of its parents. Returns the path and any ignored `.sops.yml` seen.
pub fn find(explicit: Option<&Path>, start: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    if let Some(p) = explicit {
        return (Some(p.to_path_buf()), None);
    }
    let mut alternate = None;
    let mut dir = start.to_path_buf();
    for _ in 0..MAX_DEPTH {
        let candidate = dir.join(CONFIG_NAME);
        if candidate.is_file() {
            return (Some(candidate), alternate);
        }
        let alt = dir.join(".sops.yml");
        if alternate.is_none() && alt.is_file() {
            alternate = Some(alt);
        }
        if !dir.pop() {
            break;
        }
    }
    (None, alternate)
}

/// Where the `.sops.yaml` in effect is looked for: a `--config` path, or from a folder
/// upward. Kept by a long-running front end to read the config again when it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigSearch {
    pub explicit: Option<PathBuf>,
    /// `None`: no config at all.
    pub start: Option<PathBuf>,
}

impl ConfigSearch {
    /// The config that applies now (none is not an error).
    pub fn load(&self) -> Result<Option<Config>, ConfigError> {
        match (&self.explicit, &self.start) {
            (None, None) => Ok(None),
            (explicit, start) => load(
                explicit.as_deref(),
                start.as_deref().unwrap_or(Path::new(".")),
            ),
        }
    }

    /// Every path a config could appear at or change at: the explicit one, or `.sops.yaml` in
    /// the start folder and each folder above it.
    pub fn candidates(&self) -> Vec<PathBuf> {
        if let Some(p) = &self.explicit {
            return vec![p.clone()];
        }
        let Some(start) = &self.start else {
            return Vec::new();
        };
        start
            .ancestors()
            .take(MAX_DEPTH)
            .map(|d| d.join(CONFIG_NAME))
            .collect()
    }
}

/// Loads the config that applies (none is not an error).
pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Option<Config>, ConfigError> {
    let (path, alternate) = find(explicit, start);
    let Some(path) = path else {
        return Ok(alternate.map(|a| Config {
            ignored_alternate: Some(a),
            ..Config::default()
        }));
    };
    let bytes = std::fs::read(&path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut config = parse(&bytes).map_err(|reason| ConfigError::Parse {
        path: path.display().to_string(),
        reason,
    })?;
    config.path = path;
    config.ignored_alternate = alternate;
    Ok(Some(config))
}

/// Parses config text.
pub fn parse(bytes: &[u8]) -> Result<Config, String> {
    let parsed = store::parse_plain(Format::Yaml, bytes).map_err(|e| e.to_string())?;
    let empty = Map::new();
    let root = parsed.docs.first().unwrap_or(&empty);
    let mut config = Config::default();
    if let Some(Node::Map(stores)) = root.get("stores") {
        let indent = |name: &str| -> Option<i64> {
            match stores.get(name)?.as_map()?.get("indent")?.as_scalar()? {
                Scalar::Int(i) => Some(*i),
                _ => None,
            }
        };
        if let Some(i) = indent("yaml") {
            config.stores.yaml_indent = i;
        }
        if let Some(i) = indent("json") {
            config.stores.json_indent = i;
        }
        if let Some(i) = indent("json_binary") {
            config.stores.json_binary_indent = i;
        }
    }
    if let Some(Node::List(list)) = root.get("destination_rules") {
        for node in list.values() {
            let Node::Map(m) = node else {
                return Err("destination_rules entries must be mappings".into());
            };
            config
                .destination_rules
                .push(destination::DestinationRule::from_map(m, text)?);
        }
    }
    match root.get("creation_rules") {
        None => {}
        Some(Node::List(list)) => {
            let mut rules = Vec::new();
            for node in list.values() {
                let Node::Map(m) = node else {
                    return Err("creation_rules entries must be mappings".into());
                };
                rules.push(parse_rule(m)?);
            }
            config.creation_rules = Some(rules);
        }
        Some(Node::Leaf(l)) if l.value == Scalar::Null => config.creation_rules = None,
        Some(_) => return Err("creation_rules must be a list".into()),
    }
    Ok(config)
}

fn text(node: &Node) -> Option<String> {
    match node.as_scalar()? {
        Scalar::Str(s) => Some(s.to_lossy().into_owned()),
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Float(f) => Some(crate::gotext::float_f(*f)),
        _ => None,
    }
}

/// A string of comma-separated items, or a list of strings (each may itself hold commas).
fn string_list(node: Option<&Node>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut push = |s: &str| out.extend(split_list(s).map(String::from));
    match node {
        None => {}
        Some(Node::List(l)) => {
            for v in l.values() {
                push(&text(v).ok_or("key lists must contain only strings")?);
            }
        }
        Some(n) => {
            if let Some(s) = text(n) {
                push(&s);
            }
        }
    }
    Ok(out)
}

fn parse_rule(m: &Map) -> Result<CreationRule, String> {
    let mut rule = CreationRule {
        path_regex: m.get("path_regex").and_then(text).filter(|s| !s.is_empty()),
        ..CreationRule::default()
    };
    for kind in RuleKind::ALL {
        if let Some(p) = m.get(kind.field()).and_then(text).filter(|s| !s.is_empty()) {
            if rule.rule.is_some() {
                return Err(ConfigError::MoreThanOneRule.to_string());
            }
            rule.rule = Some(Rule::new(kind, p));
        }
    }
    rule.mac_only_encrypted = matches!(
        m.get("mac_only_encrypted").and_then(|n| n.as_scalar()),
        Some(Scalar::Bool(true))
    );
    rule.shamir_threshold = match m.get("shamir_threshold").and_then(|n| n.as_scalar()) {
        Some(Scalar::Int(i)) => *i,
        _ => 0,
    };
    let aws_profile = m.get("aws_profile").and_then(text).unwrap_or_default();
    match m.get("key_groups") {
        // sops compat: an empty `key_groups` list means the rule's top-level keys (one group).
        Some(Node::List(groups)) if groups.values().next().is_some() => {
            for g in groups.values() {
                let Node::Map(gm) = g else {
                    return Err("key_groups entries must be mappings".into());
                };
                rule.key_groups.push(parse_group(gm)?);
            }
        }
        _ => rule.key_groups.push(flat_group(m, &aws_profile)?),
    }
    Ok(rule)
}

/// The keys of a rule's flat fields, in sops's order: age, pgp, kms, gcp_kms, hckms,
/// azure_keyvault, hc_vault_transit_uri.
fn flat_group(m: &Map, aws_profile: &str) -> Result<KeyGroup, String> {
    let mut g = KeyGroup::default();
    for (field, kind) in [
        ("age", KeyKind::Age),
        ("pgp", KeyKind::Pgp),
        ("kms", KeyKind::Kms),
        ("gcp_kms", KeyKind::GcpKms),
        ("hckms", KeyKind::Hckms),
        ("azure_keyvault", KeyKind::AzureKv),
        ("hc_vault_transit_uri", KeyKind::HcVault),
    ] {
        for item in string_list(m.get(field))? {
            let mut key = MasterKey::from_list_item(kind, &item)?;
            if kind == KeyKind::Kms {
                key.set_text("aws_profile", aws_profile);
            }
            g.keys.push(key);
        }
    }
    Ok(g)
}

fn parse_group(m: &Map) -> Result<KeyGroup, String> {
    let mut g = KeyGroup::default();
    if let Some(Node::List(merged)) = m.get("merge") {
        for sub in merged.values() {
            if let Node::Map(sm) = sub {
                g.keys.extend(parse_group(sm)?.keys);
            }
        }
    }
    for r in string_list(m.get("age"))? {
        g.keys.push(MasterKey::age(&r));
    }
    for fp in string_list(m.get("pgp"))? {
        g.keys.push(MasterKey::pgp(&fp));
    }
    if let Some(Node::List(kms)) = m.get("kms") {
        for k in kms.values().filter_map(Node::as_map) {
            let context = k.get("context").and_then(Node::as_map).map(|ctx| {
                ctx.entries()
                    .map(|e| (e.key.clone(), text(&e.value).unwrap_or_default()))
                    .collect()
            });
            let mut key = MasterKey::kms(
                &k.get("arn").and_then(text).unwrap_or_default(),
                &k.get("aws_profile").and_then(text).unwrap_or_default(),
                context,
            );
            if let Some(role) = k.get("role").and_then(text).filter(|r| !r.is_empty()) {
                key.set_text("role", role);
            }
            g.keys.push(key);
        }
    }
    if let Some(Node::List(gcp)) = m.get("gcp_kms") {
        for k in gcp.values().filter_map(Node::as_map) {
            let id = k.get("resource_id").and_then(text).unwrap_or_default();
            g.keys.push(MasterKey::gcp_kms(&id));
        }
    }
    if let Some(Node::List(hc)) = m.get("hckms") {
        for k in hc.values().filter_map(Node::as_map) {
            let id = k.get("key_id").and_then(text).unwrap_or_default();
            g.keys.push(MasterKey::hckms(&id));
        }
    }
    if let Some(Node::List(az)) = m.get("azure_keyvault") {
        for k in az.values().filter_map(Node::as_map) {
            let part = |name: &str| k.get(name).and_then(text).unwrap_or_default();
            g.keys.push(MasterKey::azure_kv(
                &part("vaultUrl"),
                &part("key"),
                &part("version"),
            ));
        }
    }
    for uri in string_list(m.get("hc_vault"))? {
        g.keys.push(MasterKey::hc_vault_from_uri(&uri)?);
    }
    // sops compat: exact duplicates (same type and display string) are dropped.
    let mut seen = Vec::new();
    g.keys.retain(|k| {
        let id = (k.kind, k.display());
        let fresh = !seen.contains(&id);
        seen.push(id);
        fresh
    });
    Ok(g)
}

impl Config {
    /// The first creation rule that applies to `file` (an absolute path): rule paths are matched
    /// against the path relative to the config's folder. `Ok(None)` when there are no rules.
    pub fn rule_for(&self, file: &Path) -> Result<Option<&CreationRule>, ConfigError> {
        let Some(rules) = &self.creation_rules else {
            return Ok(None);
        };
        let dir = self.path.parent().map(absolute).unwrap_or_default();
        let file = file.to_string_lossy();
        let prefix = format!("{}/", dir.display());
        let relative = file.strip_prefix(&prefix).unwrap_or(&file);
        for rule in rules {
            match &rule.path_regex {
                None => return Ok(Some(rule)),
                Some(re) => {
                    let re = Regex::new(re).map_err(|e| {
                        ConfigError::Invalid(format!("can not compile regexp: {e}"))
                    })?;
                    if re.is_match(relative) {
                        return Ok(Some(rule));
                    }
                }
            }
        }
        Err(ConfigError::NoMatchingRule)
    }
}

/// `path` made absolute against the working directory, without resolving links.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_stores() {
        let c = parse(
            b"stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 4\ncreation_rules:\n  - path_regex: \\.prod\\.yaml$\n    age: age1a, age1b\n    encrypted_regex: ^data$\n  - age:\n      - age1c\n",
        )
        .unwrap();
        assert_eq!(c.stores.yaml_indent, 2);
        assert_eq!(c.stores.json_indent, 4);
        let rules = c.creation_rules.as_ref().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].key_groups[0].keys.len(), 2);
        assert_eq!(
            rules[0].rule,
            Some(Rule::new(RuleKind::EncryptedRegex, "^data$"))
        );
        let cfg = Config {
            path: PathBuf::from("/repo/.sops.yaml"),
            ..c
        };
        let r = cfg
            .rule_for(Path::new("/repo/app.prod.yaml"))
            .unwrap()
            .unwrap();
        assert!(r.path_regex.is_some());
        let r = cfg.rule_for(Path::new("/repo/dev.yaml")).unwrap().unwrap();
        assert_eq!(r.key_groups[0].keys[0].text("recipient"), "age1c");
    }

    #[test]
    fn key_groups_merge_and_dedupe() {
        let c = parse(
            b"creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [age1a]\n        merge:\n          - age: [age1a, age1b]\n      - pgp: [ABCD]\n",
        )
        .unwrap();
        let rule = &c.creation_rules.unwrap()[0];
        assert_eq!(rule.shamir_threshold, 2);
        assert_eq!(rule.key_groups.len(), 2);
        let g0: Vec<String> = rule.key_groups[0]
            .keys
            .iter()
            .map(|k| k.display())
            .collect();
        assert_eq!(g0, ["age1a", "age1b"]);
    }

    #[test]
    fn rejects_two_rules_and_finds_no_match() {
        assert!(
            parse(b"creation_rules:\n  - unencrypted_suffix: _u\n    encrypted_regex: x\n")
                .is_err()
        );
        let c = Config {
            path: PathBuf::from("/r/.sops.yaml"),
            ..parse(b"creation_rules:\n  - path_regex: nomatch\n    age: a\n").unwrap()
        };
        assert!(matches!(
            c.rule_for(Path::new("/r/x.yaml")),
            Err(ConfigError::NoMatchingRule)
        ));
    }
}
