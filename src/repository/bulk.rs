//! Changes to many sops files at once, worked out from their metadata (no key needed) and
//! written one file at a time, each under the update lock and atomically: the creation rules'
//! keys (`updatekeys --all`), and the repository view's bulk actions.

use crate::config::Config;
use crate::document::{Document, OpenOptions};
use crate::keys::groups::KeySources;
use crate::keys::plan::{Change, Checks, Plan, keep_stored_entries, rule_threshold};
use crate::repository::keyage::KeyHistory;
use crate::repository::scan::Entry;
use crate::store::EmitOptions;
use std::collections::HashMap;
use std::path::PathBuf;

/// One file's staged change.
pub struct Pending {
    pub path: PathBuf,
    pub name: String,
    pub plan: Plan,
    /// The change for people, one line each (`group 1: + age1…`).
    pub lines: Vec<String>,
}

/// The files whose keys differ from their creation rule, each with the rule's keys staged
/// (unchanged entries kept); with `rotate`, a new data key too where a recipient goes or a
/// former recipient still holds the current one (`histories`).
pub fn rule_updates(
    entries: &[Entry],
    config: &Config,
    threshold_flag: Option<i64>,
    rotate: bool,
    histories: &HashMap<PathBuf, KeyHistory>,
) -> Result<Vec<Pending>, String> {
    let mut out = Vec::new();
    for e in entries {
        let Some(md) = e.metadata() else { continue };
        let Ok(Some(rule)) = config.rule_for(&e.path) else {
            continue;
        };
        let threshold = rule_threshold(
            threshold_flag,
            md.shamir_threshold,
            rule.key_groups.len(),
            rule.shamir_threshold,
        );
        let mut plan = Plan::with_checks(&md.key_groups, md.shamir_threshold, Checks::Sops);
        plan.stage(Change::ReplaceGroups {
            groups: keep_stored_entries(&md.key_groups, rule.key_groups.clone()),
            threshold,
        })
        .map_err(|err| format!("{}: {err}", e.name))?;
        let diffs = plan.diff();
        let removed = diffs.iter().any(|d| !d.removed.is_empty());
        let added = diffs.iter().any(|d| !d.added.is_empty());
        let former: Vec<String> = histories
            .get(&e.path)
            .map(|h| h.former.iter().map(|(_, id)| id.clone()).collect())
            .unwrap_or_default();
        let rotates = rotate && (removed || !former.is_empty());
        if !added && !removed && threshold == md.shamir_threshold && !rotates {
            continue;
        }
        let mut lines = Vec::new();
        if threshold != md.shamir_threshold {
            lines.push(format!(
                "shamir_threshold {} → {threshold}",
                md.shamir_threshold
            ));
        }
        for (g, d) in diffs.iter().enumerate() {
            lines.extend(d.added.iter().map(|k| format!("group {}: + {k}", g + 1)));
            lines.extend(d.removed.iter().map(|k| format!("group {}: - {k}", g + 1)));
        }
        if rotates {
            plan.stage(Change::Rotate)
                .map_err(|err| format!("{}: {err}", e.name))?;
            lines.push(if removed {
                "new data key (a recipient is removed)".to_string()
            } else {
                format!(
                    "new data key ({} can still unwrap the current one from Git history)",
                    former.join(", ")
                )
            });
        }
        out.push(Pending {
            path: e.path.clone(),
            name: e.name.clone(),
            plan,
            lines,
        });
    }
    Ok(out)
}

/// Removing `key` (an identifier, or a name `names` gives one) from every file that has it,
/// with a new data key; and a new data key for files it left without one (it still holds it
/// through Git history). The second list says which files cannot lose it (the key is a
/// group's only one): nothing should be written then.
pub fn offboard(
    entries: &[Entry],
    key: &str,
    names: &crate::review::names::Names,
    histories: &HashMap<PathBuf, KeyHistory>,
) -> (Vec<Pending>, Vec<String>) {
    let matches = |id: &str| id == key || names.name(id) == Some(key);
    let mut pending = Vec::new();
    let mut problems = Vec::new();
    for e in entries {
        let Some(md) = e.metadata() else { continue };
        let current = md.all_keys().find(|k| matches(&k.display())).cloned();
        let held = histories
            .get(&e.path)
            .is_some_and(|h| h.former.iter().any(|(_, id)| matches(id)));
        if current.is_none() && !held {
            continue;
        }
        let mut plan = Plan::with_checks(&md.key_groups, md.shamir_threshold, Checks::Sops);
        let mut changes = Vec::new();
        let mut lines = Vec::new();
        if let Some(k) = &current {
            lines.push(format!("- {}", names.label(&k.display())));
            changes.push(Change::RemoveEverywhere(k.clone()));
            lines.push("new data key".to_string());
        } else {
            lines.push("new data key (it still holds the current one through Git history)".into());
        }
        changes.push(Change::Rotate);
        match plan.stage_all(changes) {
            Ok(()) => pending.push(Pending {
                path: e.path.clone(),
                name: e.name.clone(),
                plan,
                lines,
            }),
            Err(err) => problems.push(format!("{}: {err}", e.name)),
        }
    }
    (pending, problems)
}

/// Writes one staged change: under the update lock, decrypt, re-wrap (or rotate), seal and
/// write atomically. Nothing is written on failure. Returns notes about what the write could
/// not keep (owner, links).
pub fn apply(p: &Pending, sources: &KeySources, emit: &EmitOptions) -> Result<Vec<String>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", p.name);
    let _lock = crate::fs::lock_for_update(&p.path).map_err(|e| fail(&e))?;
    let bytes = std::fs::read(&p.path).map_err(|e| fail(&e))?;
    let format = crate::store::Format::from_path(&p.path.to_string_lossy());
    let opts = OpenOptions {
        ignore_mac: false,
        keep_ciphertext: true,
        keep_damaged: false,
    };
    let mut doc = Document::open(format, bytes, sources, opts).map_err(|e| fail(&e))?;
    if doc.metadata().key_groups != p.plan.before() {
        return Err(fail(&"changed since it was read; run again"));
    }
    doc.apply_plan(&p.plan, sources).map_err(|e| fail(&e))?;
    let bytes = doc
        .seal_once(emit)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| fail(&"nothing to write"))?;
    crate::fs::write_atomic(&p.path, &bytes).map_err(|e| fail(&e))
}
