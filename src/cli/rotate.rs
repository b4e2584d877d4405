//! `sesame rotate`: a new data key for a file, optionally with keys added (to the first group)
//! or removed (from every group). Nothing is written unless every key could be wrapped.

use crate::cli::args::{Flags, RotateArgs};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::recipients;

pub fn run(args: &RotateArgs, flags: &Flags) -> CliResult {
    let adds = Flags {
        age: args.add_age.clone(),
        pgp: args.add_pgp.clone(),
        kms: args.add_kms.clone(),
        gcp_kms: args.add_gcp_kms.clone(),
        azure_kv: args.add_azure_kv.clone(),
        hc_vault_transit: args.add_hc_vault_transit.clone(),
        hckms: args.add_hckms.clone(),
        aws_profile: flags.aws_profile.clone(),
        encryption_context: flags.encryption_context.clone(),
        ..Flags::default()
    };
    let removes = Flags {
        age: args.rm_age.clone(),
        pgp: args.rm_pgp.clone(),
        kms: args.rm_kms.clone(),
        gcp_kms: args.rm_gcp_kms.clone(),
        azure_kv: args.rm_azure_kv.clone(),
        hc_vault_transit: args.rm_hc_vault_transit.clone(),
        hckms: args.rm_hckms.clone(),
        aws_profile: flags.aws_profile.clone(),
        encryption_context: flags.encryption_context.clone(),
        ..Flags::default()
    };
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
    let mut groups = doc.metadata().key_groups.clone();
    if let Some(first) = groups.first_mut() {
        first.keys.extend(added.keys);
    }
    let gone: Vec<String> = removed.keys.iter().map(|k| k.display()).collect();
    for group in &mut groups {
        group.keys.retain(|k| !gone.contains(&k.display()));
    }
    if groups.iter().any(|g| g.keys.is_empty()) {
        return Err(Failure::new(
            code::GENERIC,
            "removing these keys would leave a key group empty, and nobody could decrypt its part",
        )
        .hint("delete the whole group with `sesame groups delete` instead"));
    }
    doc.rotate(groups, &sources)
        .map_err(|e| Failure::new(code::COULD_NOT_RETRIEVE_KEY, e))?;
    let bytes = doc
        .seal(&emit)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("a rotated document is always written");
    context::write_result(flags, &input, &bytes)
}
