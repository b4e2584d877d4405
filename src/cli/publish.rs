//! `sesame publish FILE|DIR`: send files to the destination their `.sops.yaml`
//! `destination_rules` name. Vault/OpenBao KV destinations get the decrypted values.

use crate::cli::args::{Flags, PublishArgs};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::config::destination::{Destination, DestinationRule};
use sesame::env::ProcessEnv;
use std::path::{Path, PathBuf};

pub fn run(args: &PublishArgs, flags: &Flags) -> CliResult {
    let config = context::load_config(flags)?.ok_or_else(|| {
        Failure::new(code::GENERIC, "config file not found")
            .hint("publish sends files where the destination_rules of a .sops.yaml say; create one or pass --config")
    })?;
    let Some(given) = args.file.as_deref() else {
        return Err(Failure::new(
            code::NO_FILE_SPECIFIED,
            "Error: no file specified",
        ));
    };
    let root = Path::new(given);
    let meta = std::fs::metadata(root)
        .map_err(|e| Failure::new(code::GENERIC, format!("{given}: {e}")))?;
    if meta.is_dir() && !args.recursive {
        return Err(Failure::new(
            code::GENERIC,
            "can't operate on a directory without --recursive flag.",
        ));
    }
    let mut files = Vec::new();
    collect(root, &mut files).map_err(|e| Failure::new(code::GENERIC, format!("{given}: {e}")))?;
    for file in files {
        publish_one(&file, root, args, flags, &config.destination_rules)?;
    }
    Ok(())
}

/// Every file under `path` (or `path` itself), in a stable order.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        collect(&entry, out)?;
    }
    Ok(())
}

fn publish_one(
    file: &Path,
    root: &Path,
    args: &PublishArgs,
    flags: &Flags,
    rules: &[DestinationRule],
) -> CliResult {
    let shown = file.to_string_lossy();
    let rule = DestinationRule::find(rules, &shown).map_err(|e| Failure::new(code::GENERIC, e))?;
    let mut name = if args.recursive && root.is_dir() {
        file.strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned()
    } else {
        file.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    if (args.omit_extensions || rule.omit_extensions)
        && let Some(ext) = file.extension()
    {
        name.truncate(name.len() - ext.len() - 1);
    }
    let vault = match &rule.destination {
        Destination::Vault(v) => v,
        Destination::S3 { bucket, .. } | Destination::Gcs { bucket, .. } => {
            let service = if matches!(rule.destination, Destination::S3 { .. }) {
                "S3"
            } else {
                "GCS"
            };
            return Err(Failure::new(
                code::GENERIC,
                format!("sesame cannot publish to {service} buckets ({bucket}), only to Vault/OpenBao KV"),
            )
            .hint("the encrypted file itself can be copied to the bucket as is (e.g. with the cloud provider's CLI)"));
        }
    };
    let opened = context::open(Input::resolve(Some(&shown), flags)?, flags, true)?;
    let env = ProcessEnv;
    let url = vault.url(&env, &name);
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    if !args.yes
        && !context::ask_yes_no(
            &format!("uploading {} to {url} ? (y/n): ", absolute.display()),
            "--yes",
        )?
    {
        let msg = format!("Publication of {} canceled", absolute.display());
        if args.recursive {
            println!("{msg}");
            return Ok(());
        }
        return Err(Failure::new(code::GENERIC, msg));
    }
    let doc = opened.doc.docs().first().cloned().unwrap_or_default();
    match sesame::publish::upload(vault, &env, &name, &doc) {
        Ok(true) => Ok(()),
        Ok(false) => {
            eprintln!("Secret in {url} is already up-to-date.");
            Ok(())
        }
        Err(e) => Err(Failure::new(code::GENERIC, e)
            .hint("check VAULT_ADDR (or the rule's vault_address), VAULT_TOKEN and that the KV engine is mounted")),
    }
}
