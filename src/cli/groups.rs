//! `sesame groups add|delete`: change the key groups of a file; the data key is re-wrapped and
//! values, `lastmodified` and the MAC stay as they are.

use crate::cli::args::{Flags, GroupsCommand, KEY_FLAGS};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::recipients;
use sesame::keys::plan::{Change, Checks, Plan, PlanError};

pub fn run(command: &GroupsCommand, flags: &Flags) -> CliResult {
    let file = match command {
        GroupsCommand::Add { file } | GroupsCommand::Delete { file, .. } => file,
    };
    let context::Opened {
        input,
        mut doc,
        emit: opts,
        sources,
    } = context::open(Input::resolve(Some(file), flags)?, flags, false)?;
    let md = doc.metadata();
    let mut plan = Plan::with_checks(&md.key_groups, md.shamir_threshold, Checks::Sops);
    let threshold = flags.shamir_secret_sharing_threshold.filter(|t| *t != 0);
    let (group_count, file_threshold) = (md.key_groups.len(), md.shamir_threshold);
    let deleting = matches!(command, GroupsCommand::Delete { .. });
    let changes = match command {
        GroupsCommand::Add { .. } => {
            // Only keys named on the command line: environment defaults (SOPS_AGE_RECIPIENTS...)
            // must not slip into a new group.
            let mut explicit = flags.clone_keys();
            for id in &flags.from_env {
                explicit.clear_key(id);
            }
            let new = recipients::flag_group(&explicit)?;
            let mut changes = vec![Change::AddGroup(new)];
            changes.extend(threshold.map(Change::SetThreshold));
            changes
        }
        GroupsCommand::Delete { index, .. } => {
            let mut changes: Vec<Change> =
                threshold.map(Change::SetThreshold).into_iter().collect();
            changes.push(Change::RemoveGroup(*index));
            changes
        }
    };
    plan.stage_all(changes).map_err(|e| match e {
        PlanError::EmptyNewGroup => Failure::new(code::GENERIC, "error: the new group has no keys")
            .hint(format!(
                "name its keys with --{}",
                KEY_FLAGS.join(", --").replace('_', "-")
            )),
        PlanError::NoGroup(index) => Failure::new(
            code::GENERIC,
            format!("there is no group {index}: the file has {group_count} key groups (0-based)"),
        ),
        // sops compat: deleting the only group, or below the threshold, is worded as sops does.
        PlanError::OnlyGroup => impossible_threshold(threshold.unwrap_or(file_threshold), 0),
        PlanError::ImpossibleThreshold { threshold, groups } if deleting => {
            impossible_threshold(threshold, groups)
        }
        other => Failure::new(code::GENERIC, other.to_string()),
    })?;
    context::warn_if_locked_out(&plan, &sources, &input);
    doc.apply_plan(&plan, &sources)
        .map_err(|e| Failure::new(code::COULD_NOT_RETRIEVE_KEY, e))?;
    let bytes = doc
        .seal_once(&opts)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("changed key groups are always written");
    context::write_result(flags, &input, &bytes)
}

fn impossible_threshold(threshold: i64, groups: usize) -> Failure {
    Failure::new(
        code::GENERIC,
        format!(
            "removing this key group will make the Shamir threshold impossible to satisfy: Shamir threshold is {threshold}, but we only have {groups} key groups"
        ),
    )
}
