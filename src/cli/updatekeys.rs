//! `sesame updatekeys FILE...`: give existing files the keys of their `.sops.yaml` creation
//! rule. Shows the recipient changes, asks (unless `-y`), then re-wraps the data key; values,
//! `lastmodified` and the MAC stay. Nothing is written unless every new key could be wrapped.

use crate::cli::args::{Flags, UpdatekeysArgs};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::keys::plan::{Change, Checks, Plan, keep_stored_entries, rule_threshold};
use std::io::Write;

pub fn run(args: &UpdatekeysArgs, flags: &Flags) -> CliResult {
    if args.files.is_empty() {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            "Error: no file specified",
        ));
    }
    if args.files.len() == 1 {
        return update(&args.files[0], args.yes, flags);
    }
    // sops compat: with several files, every file is tried and the failures counted.
    let mut failed = 0;
    for file in &args.files {
        if let Err(e) = update(file, args.yes, flags) {
            eprintln!("{}", e.message);
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(Failure::new(
            code::GENERIC,
            format!("failed updating {failed} key(s)"),
        ));
    }
    Ok(())
}

fn update(file: &str, yes: bool, flags: &Flags) -> CliResult {
    if std::path::Path::new(file).is_dir() {
        return Err(Failure::new(code::GENERIC, "can't operate on a directory"));
    }
    let input = Input::resolve(Some(file), flags).map_err(|f| Failure {
        code: code::GENERIC,
        ..f
    })?;
    let config = context::load_config(flags)?.ok_or_else(|| {
        Failure::new(code::GENERIC, "config file not found").hint(
            "updatekeys applies the creation rules of a .sops.yaml; create one or pass --config",
        )
    })?;
    let name = input.path.clone().expect("updatekeys always names a file");
    let rule = config
        .rule_for(&name)
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?
        .ok_or_else(|| {
            Failure::new(
                code::GENERIC,
                format!(
                    "The config file {} does not contain any creation rule for {}",
                    config.path.display(),
                    input.display()
                ),
            )
        })?
        .clone();
    eprintln!("Syncing keys for file {}", name.display());
    let context::Opened {
        input,
        mut doc,
        emit,
        sources,
    } = context::open(input, flags, false)?;

    let md = doc.metadata();
    let old_threshold = md.shamir_threshold;
    let threshold = rule_threshold(
        flags.shamir_secret_sharing_threshold,
        old_threshold,
        rule.key_groups.len(),
        rule.shamir_threshold,
    );
    let mut plan = Plan::with_checks(&md.key_groups, old_threshold, Checks::Sops);
    plan.stage(Change::ReplaceGroups {
        groups: keep_stored_entries(&md.key_groups, rule.key_groups),
        threshold,
    })
    .map_err(|e| Failure::new(code::GENERIC, format!("{}: {e}", input.display())))?;
    let diffs = plan.diff();
    let keys_change = diffs
        .iter()
        .any(|d| !d.added.is_empty() || !d.removed.is_empty());
    if !keys_change && threshold == old_threshold {
        eprintln!("File {} already up to date", name.display());
        return Ok(());
    }

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "The following changes will be made to the file's groups:"
    );
    let _ = write!(out, "{}", threshold_diff(old_threshold, threshold));
    for (i, d) in diffs.iter().enumerate() {
        let _ = writeln!(out, "Group {}", i + 1);
        for k in &d.common {
            let _ = writeln!(out, "    {k}");
        }
        for k in &d.added {
            let _ = writeln!(out, "+++ {k}");
        }
        for k in &d.removed {
            let _ = writeln!(out, "--- {k}");
        }
    }
    drop(out);
    if !yes && !context::ask_yes_no("Is this okay? (y/n):", "-y")? {
        eprintln!("File {} left unchanged", name.display());
        return Ok(());
    }

    context::warn_if_locked_out(&plan, &sources, &input);
    doc.apply_plan(&plan, &sources)
        .map_err(|e| Failure::new(code::COULD_NOT_RETRIEVE_KEY, e))?;
    let bytes = doc
        .seal(&emit)
        .map_err(|e| Failure::new(code::ERROR_DUMPING_TREE, e.to_string()))?
        .expect("changed key groups are always written");
    context::write_file(&name, &bytes, |e| {
        Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {}: {e}", input.display()),
        )
    })?;
    eprintln!("File {} synced with new keys", name.display());
    if diffs.iter().any(|d| !d.removed.is_empty()) {
        eprintln!(
            "note: the data key is unchanged, so removed recipients can still decrypt older copies (Git history); run `sesame rotate -i {}` to replace it",
            input.display()
        );
    }
    Ok(())
}

/// sops compat: how a threshold change is printed.
fn threshold_diff(old: i64, new: i64) -> String {
    if old > 0 && old == new {
        return format!("shamir_threshold: {new}\n");
    }
    let mut s = String::new();
    if new > 0 {
        s.push_str(&format!("+++ shamir_threshold: {new}\n"));
    }
    if old > 0 {
        s.push_str(&format!("--- shamir_threshold: {old}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_diff_matches_sops() {
        assert_eq!(threshold_diff(2, 2), "shamir_threshold: 2\n");
        assert_eq!(threshold_diff(0, 2), "+++ shamir_threshold: 2\n");
        assert_eq!(
            threshold_diff(3, 2),
            "+++ shamir_threshold: 2\n--- shamir_threshold: 3\n"
        );
        assert_eq!(threshold_diff(2, 0), "--- shamir_threshold: 2\n");
        assert_eq!(threshold_diff(0, 0), "");
    }
}
