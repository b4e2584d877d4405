//! `sesame updatekeys FILE...`: give existing files the keys of their `.sops.yaml` creation
//! rule. Shows the recipient changes, asks (unless `-y`), then re-wraps the data key; values,
//! `lastmodified` and the MAC stay. Nothing is written unless every new key could be wrapped.

use crate::cli::args::{Flags, UpdatekeysArgs};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::keys::plan::{Change, Checks, Plan, keep_stored_entries, rule_threshold};
use std::io::Write;

pub fn run(args: &UpdatekeysArgs, flags: &Flags) -> CliResult {
    if args.all {
        return run_all(args, flags);
    }
    if args.dry_run || args.rotate || args.jobs.is_some() || !args.recursive.is_empty() {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "--dry-run, --rotate, --jobs and -r go with --all",
        )
        .hint("`sesame updatekeys --all [PATH...]` updates every sops file under the paths"));
    }
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
        sources,
        ..
    } = context::open(input, flags, false)?;
    let emit = context::store_options(Some(&config));

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
        .seal_once(&emit)
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

/// `updatekeys --all`: every sops file under the paths that a creation rule covers gets that
/// rule's keys (`repository::bulk`). The changes are worked out from the metadata (no key
/// needed), shown as one table and asked about once; then the files are written on several
/// threads, each atomically.
fn run_all(args: &UpdatekeysArgs, flags: &Flags) -> CliResult {
    use sesame::repository::{bulk, keyage, scan};
    let config = context::load_config(flags)?.ok_or_else(|| {
        Failure::new(code::GENERIC, "config file not found").hint(
            "updatekeys applies the creation rules of a .sops.yaml; create one or pass --config",
        )
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let given: Vec<&String> = args.files.iter().chain(&args.recursive).collect();
    let roots: Vec<std::path::PathBuf> = if given.is_empty() {
        vec![cwd.clone()]
    } else {
        given.into_iter().map(Into::into).collect()
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let files = scan::files(&roots).map_err(|e| Failure::new(code::GENERIC, e))?;
    let entries = scan::scan(files, &cwd, jobs);
    // With --rotate, files whose data key former recipients still hold (from Git history)
    // get a new one too.
    let histories = if args.rotate {
        keyage::histories(&entries, jobs)
    } else {
        Default::default()
    };
    let pending = bulk::rule_updates(
        &entries,
        &config,
        flags.shamir_secret_sharing_threshold,
        args.rotate,
        &histories,
    )
    .map_err(|e| Failure::new(code::GENERIC, e))?;
    if pending.is_empty() {
        println!("every sops file is in step with {}", config.path.display());
        return Ok(());
    }
    let written = show_and_write(
        &pending,
        &Bulk {
            dry_run: args.dry_run,
            yes: args.yes,
            jobs,
            verb: ("update", "updated"),
        },
        flags,
    )?;
    if written
        && !args.rotate
        && pending
            .iter()
            .any(|p| p.plan.diff().iter().any(|d| !d.removed.is_empty()))
    {
        eprintln!(
            "note: removed recipients can still decrypt older copies of files whose data key stayed (Git history); `sesame updatekeys --all --rotate` replaces those data keys"
        );
    }
    Ok(())
}

/// How a bulk change is confirmed and written.
pub struct Bulk {
    pub dry_run: bool,
    pub yes: bool,
    pub jobs: usize,
    /// "update"/"updated", "rotate"/"rotated".
    pub verb: (&'static str, &'static str),
}

/// Shows the staged changes as one table; a dry run then exits 1, otherwise (after one
/// question unless `yes`) they are written in parallel. Whether anything was written.
pub fn show_and_write(
    pending: &[sesame::repository::bulk::Pending],
    how: &Bulk,
    flags: &Flags,
) -> CliResult<bool> {
    for p in pending {
        println!("{}:", p.name);
        for line in &p.lines {
            println!("    {line}");
        }
    }
    println!("{} file(s) to {}", pending.len(), how.verb.0);
    if how.dry_run {
        return Err(Failure::new(code::GENERIC, ""));
    }
    if !how.yes && !context::ask_yes_no("Apply these changes? (y/n):", "-y")? {
        eprintln!("nothing was changed");
        return Ok(false);
    }
    let failures = write_all(pending, how.jobs, flags);
    for f in &failures {
        eprintln!("{f}");
    }
    eprintln!("{} file(s) {}", pending.len() - failures.len(), how.verb.1);
    if !failures.is_empty() {
        return Err(Failure::new(
            code::GENERIC,
            format!("failed to {} {} file(s)", how.verb.0, failures.len()),
        ));
    }
    Ok(true)
}

/// Writes every pending change on `jobs` threads (each with this command's key sources);
/// the failures, one line each.
pub fn write_all(
    pending: &[sesame::repository::bulk::Pending],
    jobs: usize,
    flags: &Flags,
) -> Vec<String> {
    let chunk = pending.len().div_ceil(jobs.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = pending
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|p| apply(p, flags).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a writer thread failed".into()])
            })
            .collect()
    })
}

/// One pending change, with the key sources and output settings the flags give.
fn apply(p: &sesame::repository::bulk::Pending, flags: &Flags) -> Result<(), String> {
    let input = Input::resolve(Some(&p.path.to_string_lossy()), flags).map_err(|f| f.message)?;
    let sources = context::key_sources(flags, &input).map_err(|f| f.message)?;
    let config = context::load_config(flags).map_err(|f| f.message)?;
    let emit = context::store_options(config.as_ref());
    for note in sesame::repository::bulk::apply(p, &sources, &emit)? {
        eprintln!("warning: {}: {note}", p.name);
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
