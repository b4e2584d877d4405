//! `sesame rotate`: a new data key for a file, optionally with keys added (to the first group)
//! or removed (from every group). Nothing is written unless every key could be wrapped.

use crate::cli::args::{Flags, RotateArgs};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::recipients;
use sesame::keys::plan::{Change, Checks, Plan, PlanError};

pub fn run(args: &RotateArgs, flags: &Flags) -> CliResult {
    if args.all {
        return run_all(args, flags);
    }
    let adds = key_flags(
        [
            &args.add_age,
            &args.add_pgp,
            &args.add_kms,
            &args.add_gcp_kms,
            &args.add_azure_kv,
            &args.add_hc_vault_transit,
            &args.add_hckms,
        ],
        flags,
    );
    let removes = key_flags(
        [
            &args.rm_age,
            &args.rm_pgp,
            &args.rm_kms,
            &args.rm_gcp_kms,
            &args.rm_azure_kv,
            &args.rm_hc_vault_transit,
            &args.rm_hckms,
        ],
        flags,
    );
    let added = recipients::flag_group(&adds)?;
    let removed = recipients::flag_group(&removes)?;
    let changes_keys = !added.keys.is_empty() || !removed.keys.is_empty();
    let input = match Input::resolve(args.file.as_deref(), flags) {
        Err(f) if f.code == code::NO_FILE_SPECIFIED && changes_keys => {
            return Err(Failure::new(
                code::CANNOT_CHANGE_KEYS_FROM_NON_EXISTENT_FILE,
                format!(
                    "{}; keys can only be added to or removed from an existing file",
                    f.message
                ),
            ));
        }
        other => other?,
    };
    if input.is_stdin() {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            "Error: no file specified",
        ));
    }
    context::check_output_flags(flags, &input)?;
    let context::Opened {
        input,
        mut doc,
        emit,
        sources,
    } = context::open(input, flags, false)?;
    let md = doc.metadata();
    let mut plan = Plan::with_checks(&md.key_groups, md.shamir_threshold, Checks::Sops);
    // sops compat: added keys go to the first group, removed ones leave every group.
    let mut changes: Vec<Change> = added
        .keys
        .into_iter()
        .map(|key| Change::AddKey { group: 0, key })
        .collect();
    changes.extend(removed.keys.into_iter().map(Change::RemoveEverywhere));
    changes.push(Change::Rotate);
    plan.stage_all(changes).map_err(|e| match e {
        PlanError::WouldEmptyGroup(_) => Failure::new(
            code::GENERIC,
            "removing these keys would leave a key group empty, and nobody could decrypt its part",
        )
        .hint("delete the whole group with `sesame groups delete` instead"),
        other => Failure::new(code::GENERIC, other.to_string()),
    })?;
    context::warn_if_locked_out(&plan, &sources, &input);
    doc.apply_plan(&plan, &sources)
        // sops compat: a new data key that cannot be wrapped for every recipient is exit 1.
        .map_err(|e| Failure::new(code::GENERIC, e))?;
    let bytes = doc
        .seal_once(&emit)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("a rotated document is always written");
    context::write_result(flags, &input, &bytes)
}

/// Key flags (age, pgp, kms, gcp_kms, azure_kv, hc_vault_transit, hckms) with the KMS options of
/// `flags`, so `recipients::flag_group` can build the keys.
fn key_flags(lists: [&Option<String>; 7], flags: &Flags) -> Flags {
    let [age, pgp, kms, gcp_kms, azure_kv, hc_vault_transit, hckms] = lists.map(Clone::clone);
    Flags {
        age,
        pgp,
        kms,
        gcp_kms,
        azure_kv,
        hc_vault_transit,
        hckms,
        aws_profile: flags.aws_profile.clone(),
        encryption_context: flags.encryption_context.clone(),
        ..Flags::default()
    }
}

/// `rotate --all [DIR]`: a new data key for every sops file under the folder; the list is
/// shown and asked about once, then the files are written on several threads, each
/// atomically under the update lock.
fn run_all(args: &RotateArgs, flags: &Flags) -> CliResult {
    use sesame::repository::{bulk::Pending, scan};
    let adding_or_removing = [
        &args.add_age,
        &args.rm_age,
        &args.add_pgp,
        &args.rm_pgp,
        &args.add_kms,
        &args.rm_kms,
        &args.add_gcp_kms,
        &args.rm_gcp_kms,
        &args.add_azure_kv,
        &args.rm_azure_kv,
        &args.add_hc_vault_transit,
        &args.rm_hc_vault_transit,
        &args.add_hckms,
        &args.rm_hckms,
    ]
    .iter()
    .any(|f| f.is_some());
    if adding_or_removing {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "rotate --all replaces data keys only; --add-*/--rm-* change one file",
        )
        .hint("to change recipients everywhere, edit .sops.yaml and run `sesame updatekeys --all --rotate`, or `sesame offboard KEY`"));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let root = args.file.as_deref().map_or(cwd.clone(), Into::into);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let files = scan::files(&[root]).map_err(|e| Failure::new(code::GENERIC, e))?;
    let mut pending = Vec::new();
    for e in scan::scan(files, &cwd, jobs) {
        let Some(md) = e.metadata() else { continue };
        let mut plan = Plan::with_checks(&md.key_groups, md.shamir_threshold, Checks::Sops);
        plan.stage(Change::Rotate)
            .map_err(|err| Failure::new(code::GENERIC, format!("{}: {err}", e.name)))?;
        pending.push(Pending {
            path: e.path.clone(),
            name: e.name.clone(),
            plan,
            lines: vec!["new data key".into()],
        });
    }
    if pending.is_empty() {
        println!("no sops file here");
        return Ok(());
    }
    let how = crate::cli::updatekeys::Bulk {
        dry_run: args.dry_run,
        yes: args.yes,
        jobs,
        verb: ("rotate", "rotated"),
    };
    crate::cli::updatekeys::show_and_write(&pending, &how, flags).map(|_| ())
}
