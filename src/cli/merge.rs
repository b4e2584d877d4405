//! `sesame merge BASE OURS THEIRS`, and the merge both Git commands share (the merge driver
//! and `git resolve`): decrypt the three revisions in memory (each distinct data key unwrapped
//! once), merge, seal. Never writes conflict markers or plaintext; a conflict leaves a valid
//! sops file holding ours at the conflicting places.

use crate::cli::args::{Flags, MergeArgs};
use crate::cli::context;
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::revisions::{self, Reader};
use sesame::document::{Document, OpenOptions};
use sesame::filemerge::{self, Sides, keyless_verdict};
use sesame::keys::groups::KeySources;
use sesame::review::Revision;
use sesame::review::leaves::ValueHasher;
use sesame::store::EmitOptions;
use std::collections::HashMap;
use std::io::Write;

pub fn run(args: &MergeArgs, flags: &Flags) -> CliResult {
    let mut reader = Reader::new(flags.input_type.as_deref());
    let mut base = reader.any(&args.base)?;
    let mut ours = reader.any(&args.ours)?;
    let mut theirs = reader.any(&args.theirs)?;
    let config = context::load_config(flags)?;
    let emit = context::emit_options(config.as_ref(), flags);
    let merged = merge(&mut base, &mut ours, &mut theirs, ignore_mac(flags), &emit)?;
    merged.report(&args.ours);
    let target = args
        .out
        .as_deref()
        .or(flags.output.as_deref())
        .filter(|o| !o.is_empty());
    match target {
        Some(path) => context::write_file(std::path::Path::new(path), &merged.bytes, |e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("Could not write output file {path}: {e}"),
            )
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&merged.bytes);
            let _ = out.flush();
        }
    }
    merged.outcome()
}

pub fn ignore_mac(flags: &Flags) -> bool {
    crate::cli::args::on(flags.ignore_mac)
}

/// A merge's result: the file to write (ours where it conflicts) and what to tell.
pub struct Merged {
    pub bytes: Vec<u8>,
    pub conflicts: Vec<String>,
    pub warnings: Vec<String>,
    pub ours_changed: Vec<String>,
    pub theirs_changed: Vec<String>,
}

impl Merged {
    /// Tells on stderr what was merged, what was warned about, and what conflicts.
    pub fn report(&self, name: &str) {
        for w in &self.warnings {
            eprintln!("warning: {name}: {w}");
        }
        if self.conflicts.is_empty() {
            eprintln!(
                "sesame: merged {name} (ours changed {}; theirs changed {})",
                list(&self.ours_changed),
                list(&self.theirs_changed)
            );
            return;
        }
        for c in &self.conflicts {
            eprintln!(
                "CONFLICT (sops value): {name}: {c} changed differently on both sides; ours kept"
            );
        }
        eprintln!(
            "sesame: {name} is a valid sops file holding ours at the conflicting places; open it with `sesame {name}` to choose, or run `sesame git resolve {name}` after editing"
        );
    }

    pub fn outcome(&self) -> CliResult {
        if self.conflicts.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(code::GENERIC, ""))
        }
    }
}

fn list(places: &[String]) -> String {
    match places.len() {
        0 => "nothing".into(),
        1..=5 => places.join(", "),
        n => format!("{}, and {} more", places[..5].join(", "), n - 5),
    }
}

/// Decrypts the three revisions and merges them (see `filemerge`).
pub fn merge(
    base: &mut Revision,
    ours: &mut Revision,
    theirs: &mut Revision,
    ignore_mac: bool,
    emit: &EmitOptions,
) -> CliResult<Merged> {
    if !ours.is_sops() || !theirs.is_sops() {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{} is not a sops file on both sides: merge it as text (`git merge-file`)",
                ours.label
            ),
        ));
    }
    if !base.is_sops() {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{}: both sides added the file: there is no common revision to merge from; keep one side (`git checkout --ours` or `--theirs`)",
                ours.label
            ),
        ));
    }
    let sources = revisions::key_sources();
    for rev in [&mut *base, &mut *ours, &mut *theirs] {
        rev.decrypt(&sources);
    }
    let failed: Vec<String> = [&*base, &*ours, &*theirs]
        .iter()
        .filter_map(|r| r.open_error.as_ref().map(|e| format!("{}: {e}", r.label)))
        .collect();
    if !failed.is_empty() {
        return Err(keyless_failure(base, ours, theirs, &failed));
    }
    fn docs(r: &Revision) -> &Document {
        r.opened.as_ref().expect("decrypted above")
    }
    let problems: Vec<String> = [&*base, &*ours, &*theirs]
        .iter()
        .filter_map(|r| docs(r).mac_problem().map(|p| format!("{}: {p}", r.label)))
        .collect();
    if !problems.is_empty() && !ignore_mac {
        return Err(Failure::new(
            code::MAC_MISMATCH,
            format!("MAC mismatch, not merging: {}", problems.join("; ")),
        )
        .hint(
            "a side was modified outside sops; check it, then pass --ignore-mac to merge anyway",
        ));
    }
    let sides = Sides {
        base: docs(base),
        ours: docs(ours),
        theirs: docs(theirs),
    };
    let plan = filemerge::plan(&sides);
    let host_rev = match plan.host {
        filemerge::Which::Theirs => &*theirs,
        _ => &*ours,
    };
    let host = reopen(host_rev, &sources)?;
    let doc = filemerge::build(&plan, &sides, host, &HashMap::new(), &sources)
        .map_err(|e| Failure::new(code::COULD_NOT_RETRIEVE_KEY, format!("{}: {e}", ours.label)))?;
    let bytes = seal(doc, emit, &ours.label)?;
    let mut conflicts: Vec<String> = plan.conflicts.iter().map(|c| c.place.clone()).collect();
    conflicts.extend(plan.metadata_conflicts.iter().cloned());
    Ok(Merged {
        bytes,
        conflicts,
        warnings: plan.warnings.clone(),
        ours_changed: plan.ours_changed.clone(),
        theirs_changed: plan.theirs_changed.clone(),
    })
}

/// A second decryption of a revision to build on (its data key is cached from the first).
pub fn reopen(rev: &Revision, sources: &KeySources) -> CliResult<Document> {
    let opts = OpenOptions {
        ignore_mac: true,
        keep_ciphertext: true,
        keep_damaged: false,
    };
    Document::open(rev.format, rev.bytes().to_vec(), sources, opts)
        .map_err(|e| context::open_failure(e, &rev.label))
}

/// The merged document as file bytes (lastmodified and MAC renewed).
pub fn seal(mut doc: Document, emit: &EmitOptions, label: &str) -> CliResult<Vec<u8>> {
    doc.seal_once(emit)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, format!("{label}: {e}")))?
        .ok_or_else(|| Failure::new(code::GENERIC, format!("{label}: nothing to write")))
}

/// Without a key: what a merge would do, from what is stored.
fn keyless_failure(
    base: &Revision,
    ours: &Revision,
    theirs: &Revision,
    failed: &[String],
) -> Failure {
    let hasher = ValueHasher::default();
    let docs = base.raw.len().max(ours.raw.len());
    let v = keyless_verdict(
        &base.leaves(&hasher, false),
        &ours.leaves(&hasher, false),
        &theirs.leaves(&hasher, false),
        docs,
    );
    let verdict = if v.both_changed.is_empty() {
        format!(
            "would merge cleanly: ours changed {}; theirs changed {}",
            list(&v.ours_changed),
            list(&v.theirs_changed)
        )
    } else {
        format!(
            "would conflict at {} (ours changed {}; theirs changed {})",
            list(&v.both_changed),
            list(&v.ours_changed),
            list(&v.theirs_changed)
        )
    };
    Failure::new(
        code::COULD_NOT_RETRIEVE_KEY,
        format!(
            "cannot merge {} without its data key ({}); {verdict}; ours left as it was",
            ours.label,
            failed.join("; ")
        ),
    )
    .hint("make a key available (SOPS_AGE_KEY_FILE, a PGP key, cloud credentials) and merge again, e.g. `sesame git resolve FILE`")
}
