//! `check` without a key: what is wrong with the sops files of a repository, against
//! `.sops.yaml` and a policy, as findings a pre-commit hook or CI can fail on.

use crate::config::{Config, CreationRule};
use crate::crypto::cipher::parse_enc;
use crate::crypto::data_key::DataKey;
use crate::crypto::walk;
use crate::metadata::Metadata;
use crate::path::{Step, TreePath};
use crate::repository::scan::{Entry, State};
use crate::review::diff::rule_drift;
use crate::review::leaves::dotted;
use crate::review::names::Names;
use crate::rules::Selector;
use crate::tree::{ListItem, Map, MapItem, Node, Scalar};

/// How bad a finding is. Errors and warnings fail a check; notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// One thing wrong with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// A stable identifier of the check (`unencrypted`, `drift`, ...).
    pub rule: &'static str,
    pub level: Level,
    /// The file as shown.
    pub file: String,
    pub message: String,
}

/// The checks' identifiers with a line about each (SARIF's rule list, `--help`).
pub const RULES: &[(&str, &str)] = &[
    (
        "unencrypted",
        "a file a creation rule covers is not encrypted with sops",
    ),
    (
        "plain-value",
        "a value the file's own rule says must be encrypted is stored in plain text",
    ),
    (
        "drift",
        "recipients, groups, threshold or selection rule differ from the creation rule",
    ),
    (
        "no-rule",
        "no creation rule of .sops.yaml covers this sops file",
    ),
    (
        "malformed",
        "the file or its sops metadata cannot be read, or an ENC value is damaged",
    ),
    (
        "key-order",
        "the recipients match the rule but in another order",
    ),
    ("require", "a key the policy requires is missing"),
    ("forbid", "a key the policy forbids is present"),
    (
        "data-key-age",
        "the data key is older than the policy allows",
    ),
    ("mac", "the MAC does not match the values"),
];

/// Policy flags.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Keys (identifiers or `.sops.yaml` names) every sops file must have.
    pub require: Vec<String>,
    /// Keys no sops file may have.
    pub forbid: Vec<String>,
    /// The oldest a data key may be, in days.
    pub max_data_key_age_days: Option<i64>,
}

/// The findings for `entries`. `ages` gives each sops file's data key age in days, when the
/// policy needs them.
pub fn check(
    entries: &[Entry],
    config: Option<&Config>,
    names: &Names,
    policy: &Policy,
    ages: &dyn Fn(&Entry) -> Option<i64>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let config_path = config.map(|c| crate::config::absolute(&c.path));
    for e in entries {
        let finding = |rule, level, message: String| Finding {
            rule,
            level,
            file: e.name.clone(),
            message,
        };
        if config_path.as_deref() == Some(e.path.as_path()) {
            continue;
        }
        let rule = config.and_then(|c| c.rule_for(&e.path).ok().flatten());
        match &e.state {
            State::Plain => {
                if let Some(r) = rule.filter(|r| r.path_regex.is_some()) {
                    out.push(finding(
                        "unencrypted",
                        Level::Error,
                        format!(
                            "not encrypted, but the creation rule for {:?} covers it: encrypt it with `sesame encrypt -i {}`",
                            r.path_regex.as_deref().unwrap_or_default(),
                            e.name
                        ),
                    ));
                }
            }
            State::Broken(why) => out.push(finding("malformed", Level::Error, why.clone())),
            State::Sops { metadata, raw } => {
                sops_file(e, metadata, raw, rule, config.is_some(), &mut out);
                policy_findings(e, metadata, names, policy, ages, &mut out);
            }
        }
    }
    out
}

fn sops_file(
    e: &Entry,
    md: &Metadata,
    raw: &[Map],
    rule: Option<&CreationRule>,
    have_config: bool,
    out: &mut Vec<Finding>,
) {
    let mut push = |rule, level, message: String| {
        out.push(Finding {
            rule,
            level,
            file: e.name.clone(),
            message,
        })
    };
    match rule {
        None if have_config => push(
            "no-rule",
            Level::Warning,
            "no creation rule of .sops.yaml covers it: add one, or `updatekeys` cannot keep its recipients in step".into(),
        ),
        None => {}
        Some(r) => {
            let drift = rule_drift(md, r);
            if !drift.is_empty() {
                push(
                    "drift",
                    Level::Error,
                    format!(
                        "differs from its creation rule: {}; run `sesame updatekeys {}`",
                        drift.join("; "),
                        e.name
                    ),
                );
            } else if key_order(md) != key_order_of(&r.key_groups) {
                push(
                    "key-order",
                    Level::Note,
                    "the recipients are those of the creation rule, in another order".into(),
                );
            }
        }
    }
    for (path, what) in damaged_values(raw) {
        push("malformed", Level::Error, format!("{path}: {what}"));
    }
    for path in plain_values(md, raw) {
        push(
            "plain-value",
            Level::Error,
            format!(
                "{path} is stored in plain text, but the file's rule ({}) says it must be encrypted: it was added by hand; run `sesame encrypt` over it again or set it with `sesame set`",
                crate::review::diff::rule_text(md)
            ),
        );
    }
}

fn key_order(md: &Metadata) -> Vec<Vec<String>> {
    key_order_of(&md.key_groups)
}

fn key_order_of(groups: &[crate::keys::KeyGroup]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| g.keys.iter().map(|k| k.display()).collect())
        .collect()
}

fn policy_findings(
    e: &Entry,
    md: &Metadata,
    names: &Names,
    policy: &Policy,
    ages: &dyn Fn(&Entry) -> Option<i64>,
    out: &mut Vec<Finding>,
) {
    let has = |want: &str| {
        md.all_keys().any(|k| {
            let id = k.display();
            id == want || names.name(&id) == Some(want)
        })
    };
    for key in &policy.require {
        if !has(key) {
            out.push(Finding {
                rule: "require",
                level: Level::Error,
                file: e.name.clone(),
                message: format!("{key} is required by the policy but is not a recipient"),
            });
        }
    }
    for key in &policy.forbid {
        if has(key) {
            out.push(Finding {
                rule: "forbid",
                level: Level::Error,
                file: e.name.clone(),
                message: format!(
                    "{key} is a recipient, which the policy forbids: remove it and rotate the data key (`sesame rotate -i --rm-… {}`)",
                    e.name
                ),
            });
        }
    }
    if let Some(max) = policy.max_data_key_age_days
        && let Some(age) = ages(e)
        && age > max
    {
        out.push(Finding {
            rule: "data-key-age",
            level: Level::Error,
            file: e.name.clone(),
            message: format!(
                "the data key is {age} days old (the policy allows {max}): run `sesame rotate -i {}`",
                e.name
            ),
        });
    }
}

/// `ENC[...]` values that do not parse.
fn damaged_values(raw: &[Map]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut path = TreePath::default();
    for doc in raw {
        visit_map(doc, &mut path, &mut |p, leaf| {
            if let Scalar::Str(s) = leaf
                && let Some(text) = s.as_str()
                && text.starts_with("ENC[")
                && let Err(e) = parse_enc(text)
            {
                out.push((dotted(p), e.to_string()));
            }
        });
    }
    out
}

fn visit_map(map: &Map, path: &mut TreePath, f: &mut dyn FnMut(&TreePath, &Scalar)) {
    for item in &map.items {
        if let MapItem::Entry(e) = item {
            path.0.push(Step::Key(e.key.clone()));
            visit_node(&e.value, path, f);
            path.0.pop();
        }
    }
}

fn visit_node(node: &Node, path: &mut TreePath, f: &mut dyn FnMut(&TreePath, &Scalar)) {
    match node {
        Node::Map(m) => visit_map(m, path, f),
        Node::List(l) => {
            for (i, n) in l.values().enumerate() {
                path.0.push(Step::Index(i));
                visit_node(n, path, f);
                path.0.pop();
            }
        }
        Node::Leaf(leaf) => f(path, &leaf.value),
    }
}

/// Values stored in clear that the file's own rule would encrypt: what a save by sops would
/// store as `ENC[...]`, found by sealing the stored documents under a throwaway key and
/// comparing (values already encrypted are sealed again and ignored).
fn plain_values(md: &Metadata, raw: &[Map]) -> Vec<String> {
    let selector = Selector::new(&md.effective_rule());
    let Ok(sealed) =
        walk::encrypt_docs(raw, &selector, md.mac_only_encrypted, &DataKey::generate())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut path = TreePath::default();
    for (a, b) in raw.iter().zip(&sealed.docs) {
        compare_maps(a, b, &mut path, &mut out);
    }
    out
}

fn is_enc(s: &Scalar) -> bool {
    matches!(s, Scalar::Str(t) if t.expose().starts_with(b"ENC[AES256_GCM,"))
}

fn compare_maps(a: &Map, b: &Map, path: &mut TreePath, out: &mut Vec<String>) {
    for (x, y) in a.items.iter().zip(&b.items) {
        if let (MapItem::Entry(x), MapItem::Entry(y)) = (x, y) {
            path.0.push(Step::Key(x.key.clone()));
            compare_nodes(&x.value, &y.value, path, out);
            path.0.pop();
        }
    }
}

fn compare_nodes(a: &Node, b: &Node, path: &mut TreePath, out: &mut Vec<String>) {
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => compare_maps(x, y, path, out),
        (Node::List(x), Node::List(y)) => {
            let xs = x.items.iter().filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            });
            let ys = y.items.iter().filter_map(|i| match i {
                ListItem::Node(n) => Some(n),
                ListItem::Comment(_) => None,
            });
            for (i, (x, y)) in xs.zip(ys).enumerate() {
                path.0.push(Step::Index(i));
                compare_nodes(x, y, path, out);
                path.0.pop();
            }
        }
        (Node::Leaf(x), Node::Leaf(y)) if !is_enc(&x.value) && is_enc(&y.value) => {
            out.push(dotted(path));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::parse_plain;

    #[test]
    fn a_value_added_in_clear_under_the_default_rule_is_found() {
        let enc = "ENC[AES256_GCM,data:aGVsbG8=,iv:AAAA,tag:BBBB,type:str]";
        let docs = parse_plain(
            crate::store::Format::Yaml,
            format!(
                "a: {enc}\nb: hunter2\nc_unencrypted: fine\nd: ''\nbad: ENC[AES256_GCM,data:x]\n"
            )
            .as_bytes(),
        )
        .unwrap()
        .docs;
        let md = Metadata::default();
        let plain = plain_values(&md, &docs);
        assert_eq!(plain, vec!["b".to_string()]);
        let damaged = damaged_values(&docs);
        assert_eq!(damaged.len(), 1);
        assert_eq!(damaged[0].0, "bad");
    }
}
