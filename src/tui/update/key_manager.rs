//! The key manager: moving over groups and keys, staging recipient changes (each checked by
//! `keys::plan::Plan`, refused with its reason), and the `.sops.yaml` rule preview. Nothing
//! is written here: a save applies the plan.

use crate::keys::plan::{Change, diff_groups, keep_stored_entries, rule_threshold};
use crate::keys::{KeyGroup, MasterKey};
use crate::tui::action::Action;
use crate::tui::key_manager::{Entry, RulePreview};
use crate::tui::model::{Mode, Model, PromptPurpose};
use crate::tui::update::Effect;
use crate::tui::update::edit::{self, ask};

/// Opens the key manager; the session then says what this machine can do with each key.
pub fn open(m: &mut Model) -> Vec<Effect> {
    m.mode = Mode::KeyManager;
    m.key_manager.clamp();
    probe(m)
}

fn probe(m: &Model) -> Vec<Effect> {
    if m.key_manager.unprobed().is_empty() {
        vec![]
    } else {
        vec![Effect::ProbeKeys]
    }
}

pub fn in_key_manager(m: &mut Model, action: Action) -> Vec<Effect> {
    let page = m.height.max(1) as isize / 2;
    match action {
        Action::Up => m.key_manager.step(-1),
        Action::Down => m.key_manager.step(1),
        Action::Scroll(by) => m.key_manager.step(by.signum()),
        Action::PageUp => m.key_manager.step(-page),
        Action::PageDown => m.key_manager.step(page),
        Action::Top => m.key_manager.step(isize::MIN / 2),
        Action::Bottom => m.key_manager.step(isize::MAX / 2),
        Action::Undo => match m.key_manager.plan.unstage_last() {
            Some(label) => {
                m.key_manager.clamp();
                m.info(format!("unstaged: {label}"));
            }
            None => m.info("nothing staged"),
        },
        Action::Save => return crate::tui::update::ask_save(m),
        Action::Help => {
            m.mode = Mode::Help(crate::tui::model::HelpView {
                key_manager: true,
                scroll: 0,
            })
        }
        Action::Cancel | Action::KeyManager => {
            m.mode = Mode::Normal;
            if !m.key_manager.plan.is_empty() {
                m.info("recipient changes staged: Ctrl-S reviews and saves them");
            }
        }
        Action::Add
        | Action::AddGroup
        | Action::Threshold
        | Action::Delete
        | Action::Rotate
        | Action::ApplyRule
            if editable(m) =>
        {
            return change(m, action);
        }
        _ => {}
    }
    vec![]
}

/// Starts or stages a change of recipients.
fn change(m: &mut Model, action: Action) -> Vec<Effect> {
    let selected = m.key_manager.selected();
    match action {
        Action::Add => {
            let group = selected.map_or(0, Entry::group);
            ask(m, PromptPurpose::AddRecipient(group), "");
        }
        Action::AddGroup => ask(m, PromptPurpose::NewGroup, ""),
        Action::Threshold => {
            let now = m.key_manager.plan.raw_threshold().to_string();
            ask(m, PromptPurpose::Threshold, &now);
        }
        Action::Delete => match selected {
            Some(Entry::Key(group, index)) => {
                return stage(m, Change::RemoveKey { group, index });
            }
            Some(Entry::Group(g)) => return stage(m, Change::RemoveGroup(g)),
            None => {}
        },
        Action::Rotate => return stage(m, Change::Rotate),
        Action::ApplyRule => {
            m.info("looking for the file's .sops.yaml creation rule…");
            return vec![Effect::FindRule];
        }
        _ => {}
    }
    vec![]
}

/// Changing recipients needs the document open with its key and a good MAC.
fn editable(m: &mut Model) -> bool {
    edit::allowed(m, ": recipients cannot be changed")
}

/// Stages a change, or shows why it was refused.
fn stage(m: &mut Model, change: Change) -> Vec<Effect> {
    let adds = matches!(
        change,
        Change::AddKey { .. } | Change::AddGroup(_) | Change::ReplaceGroups { .. }
    );
    match m.key_manager.plan.stage(change) {
        Ok(()) => {
            let label = m
                .key_manager
                .plan
                .labels()
                .last()
                .cloned()
                .unwrap_or_default();
            m.info(format!(
                "staged: {label} (Ctrl-S reviews and saves, u unstages)"
            ));
            m.key_manager.clamp();
            if adds {
                return probe(m);
            }
        }
        Err(why) => m.error(format!("refused: {why}")),
    }
    vec![]
}

/// A key manager prompt was accepted.
pub fn prompt_done(m: &mut Model, purpose: PromptPurpose, text: String) -> Vec<Effect> {
    let text = text.trim().to_string();
    match purpose {
        PromptPurpose::Threshold => match text.parse::<i64>() {
            Ok(t) => stage(m, Change::SetThreshold(t)),
            Err(_) => {
                m.error(format!("{text:?} is not a number of groups"));
                vec![]
            }
        },
        PromptPurpose::AddRecipient(_) | PromptPurpose::NewGroup => {
            let group = match purpose {
                PromptPurpose::AddRecipient(g) => Some(g),
                _ => None,
            };
            if text.is_empty() {
                m.error(format!("no recipient given: type {RECIPIENT_FORMS}"));
                return vec![];
            }
            match MasterKey::parse_typed(&text) {
                Ok(Some(key)) => add_keys(m, group, vec![key]),
                Ok(None) => vec![Effect::ImportPgp { group, path: text }],
                Err(why) => {
                    // The prompt stays open with what was typed, to be corrected.
                    ask(m, purpose, &text);
                    m.error(format!("refused: {why}"));
                    vec![]
                }
            }
        }
        _ => vec![],
    }
}

/// What the recipient prompt takes, for messages.
const RECIPIENT_FORMS: &str = "an age1… (or age plugin) or ssh- public key, a PGP fingerprint, an armored public key file, an AWS KMS ARN, a GCP KMS resource id, an Azure Key Vault key URL, a HuaweiCloud REGION:KEY_ID or a Vault transit key URI";

/// Stages new keys in `group`, or as a new group.
fn add_keys(m: &mut Model, group: Option<usize>, keys: Vec<MasterKey>) -> Vec<Effect> {
    match group {
        None => stage(m, Change::AddGroup(KeyGroup { keys })),
        Some(g) => {
            let mut effects = Vec::new();
            for key in keys {
                effects.extend(stage(m, Change::AddKey { group: g, key }));
            }
            effects.dedup();
            effects
        }
    }
}

/// The certificates of a typed key file were read (or not).
pub fn pgp_imported(
    m: &mut Model,
    group: Option<usize>,
    result: Result<Vec<crate::keys::MasterKey>, String>,
) -> Vec<Effect> {
    match result {
        Ok(keys) if keys.is_empty() => {
            m.error("the key file holds no OpenPGP certificate");
            vec![]
        }
        Ok(keys) => add_keys(m, group, keys),
        Err(why) => {
            m.error(format!("refused: {why} (a recipient is {RECIPIENT_FORMS})"));
            vec![]
        }
    }
}

/// The session found the file's creation rule: show what taking it would change.
pub fn rule_found(m: &mut Model, found: Result<Box<RulePreview>, String>) {
    let mut preview = match found {
        Ok(p) => p,
        Err(why) => {
            m.error(why);
            return;
        }
    };
    let plan = &m.key_manager.plan;
    preview.threshold = rule_threshold(
        None,
        plan.raw_threshold(),
        preview.groups.len(),
        preview.threshold,
    );
    preview.groups = keep_stored_entries(plan.groups(), std::mem::take(&mut preview.groups));
    preview.diff = diff_groups(plan.groups(), &preview.groups);
    let unchanged = preview
        .diff
        .iter()
        .all(|d| d.added.is_empty() && d.removed.is_empty())
        && preview.groups.len() == plan.groups().len()
        && preview.threshold == plan.raw_threshold();
    if unchanged {
        m.info(format!(
            "the keys already match the creation rule in {}",
            preview.config
        ));
        return;
    }
    m.mode = Mode::RulePreview(preview);
}

/// The answer to the rule preview.
pub fn in_rule_preview(m: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Confirm => {
            let Mode::RulePreview(preview) = std::mem::replace(&mut m.mode, Mode::KeyManager)
            else {
                return vec![];
            };
            stage(
                m,
                Change::ReplaceGroups {
                    groups: preview.groups,
                    threshold: preview.threshold,
                },
            )
        }
        Action::Cancel => {
            m.mode = Mode::KeyManager;
            m.info("the rule's keys were not taken");
            vec![]
        }
        _ => vec![],
    }
}
