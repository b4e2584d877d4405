//! `sesame groups add|delete`: change the key groups of a file; the data key is re-wrapped and
//! values, `lastmodified` and the MAC stay as they are.

use crate::cli::args::{Flags, GroupsCommand, KEY_FLAGS};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::recipients;

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
    let mut groups = doc.metadata().key_groups.clone();
    match command {
        GroupsCommand::Add { .. } => {
            // Only keys named on the command line: environment defaults (SOPS_AGE_RECIPIENTS...)
            // must not slip into a new group.
            let mut explicit = flags.clone_keys();
            for id in &flags.from_env {
                explicit.clear_key(id);
            }
            let new = recipients::flag_group(&explicit)?;
            if new.keys.is_empty() {
                return Err(
                    Failure::new(code::GENERIC, "error: the new group has no keys").hint(format!(
                        "name its keys with --{}",
                        KEY_FLAGS.join(", --").replace('_', "-")
                    )),
                );
            }
            groups.push(new);
        }
        GroupsCommand::Delete { index, .. } => {
            if *index >= groups.len() {
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "there is no group {index}: the file has {} key groups (0-based)",
                        groups.len()
                    ),
                ));
            }
            groups.remove(*index);
            let threshold = flags
                .shamir_secret_sharing_threshold
                .filter(|t| *t != 0)
                .unwrap_or(doc.metadata().shamir_threshold);
            if groups.len() > 1 && (groups.len() as i64) < threshold || groups.is_empty() {
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "removing this key group will make the Shamir threshold impossible to satisfy: Shamir threshold is {threshold}, but we only have {} key groups",
                        groups.len()
                    ),
                ));
            }
        }
    }
    let threshold = flags.shamir_secret_sharing_threshold.unwrap_or(0);
    doc.set_key_groups(groups, threshold, &sources)
        .map_err(|e| Failure::new(code::COULD_NOT_RETRIEVE_KEY, e))?;
    let bytes = doc
        .seal(&opts)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("changed key groups are always written");
    context::write_result(flags, &input, &bytes)
}
