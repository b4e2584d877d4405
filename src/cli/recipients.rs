//! The key groups a new file is encrypted for: command-line key flags replace the config's keys.

use crate::cli::args::Flags;
use crate::cli::exit::{CliResult, Failure, code};
use sesame::config::CreationRule;
use sesame::keys::spec::split_list;
use sesame::keys::{KeyGroup, KeyKind, MasterKey};
use std::collections::BTreeMap;

/// Parses `--encryption-context k1:v1,k2:v2` (malformed is exit 6).
pub fn encryption_context(flags: &Flags) -> CliResult<Option<BTreeMap<String, String>>> {
    let Some(text) = flags
        .encryption_context
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let mut ctx = BTreeMap::new();
    for pair in text.split(',') {
        // sops compat: each pair is exactly `key:value`; a second `:` makes it invalid.
        let parts: Vec<&str> = pair.split(':').collect();
        let [k, v] = parts[..] else {
            return Err(Failure::new(
                code::INVALID_KMS_ENCRYPTION_CONTEXT,
                format!("Invalid KMS encryption context format: {pair:?} is not key:value"),
            )
            .hint("pass --encryption-context key1:value1,key2:value2 (no ':' or ',' inside keys or values)"));
        };
        ctx.insert(k.to_string(), v.to_string());
    }
    Ok(Some(ctx))
}

/// The groups for a new file: one group from the key flags if any is given, else the creation
/// rule's groups.
pub fn key_groups(flags: &Flags, rule: Option<&CreationRule>) -> CliResult<Vec<KeyGroup>> {
    let group = flag_group(flags)?;
    if !group.keys.is_empty() {
        return Ok(vec![group]);
    }
    match rule {
        // sops compat: `--encryption-context` is not applied to a rule's KMS keys (sops 3.11
        // loads the rule before parsing the context).
        Some(r) => Ok(r.key_groups.clone()),
        None => Err(Failure::new(
            code::GENERIC,
            "config file not found, or has no creation rules, and no keys provided through command line options",
        )
        .hint("pass --age <recipient> (or SOPS_AGE_RECIPIENTS), or add a creation rule to .sops.yaml")),
    }
}

/// One group of the keys named by the key flags (possibly empty), in sops's order: age, pgp,
/// kms (with `--aws-profile` and `--encryption-context`), gcp_kms, hckms, azure_kv,
/// hc_vault_transit.
pub fn flag_group(flags: &Flags) -> CliResult<KeyGroup> {
    let context = encryption_context(flags)?;
    let mut group = KeyGroup::default();
    for (list, kind) in [
        (&flags.age, KeyKind::Age),
        (&flags.pgp, KeyKind::Pgp),
        (&flags.kms, KeyKind::Kms),
        (&flags.gcp_kms, KeyKind::GcpKms),
        (&flags.hckms, KeyKind::Hckms),
        (&flags.azure_kv, KeyKind::AzureKv),
        (&flags.hc_vault_transit, KeyKind::HcVault),
    ] {
        for item in split_list(list.as_deref().unwrap_or("")) {
            let key = match kind {
                KeyKind::Kms => MasterKey::kms(
                    item,
                    flags.aws_profile.as_deref().unwrap_or(""),
                    context.clone(),
                ),
                _ => MasterKey::from_list_item(kind, item)
                    .map_err(|e| Failure::new(code::GENERIC, e))?,
            };
            group.keys.push(key);
        }
    }
    Ok(group)
}
