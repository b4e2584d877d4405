//! `sesame diff`: what changed between two revisions of a sops file, value by value, in
//! words a reviewer can act on; as text, JSON or Markdown; `--check` for CI.

use crate::cli::args::{DiffArgs, Flags};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::revisions::{self, Reader};
use sesame::gotext::json_quote;
use sesame::review::diff::{
    ChangeKind, DataKeyVerdict, FileDiff, KeyChange, Shape, Verification, rule_drift,
};
use sesame::review::leaves::ValueHasher;
use sesame::review::names::Names;
use sesame::review::{self, Revision};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(args: &DiffArgs, flags: &Flags) -> CliResult {
    let mut reader = Reader::new(flags.input_type.as_deref());
    let (mut old, mut new, new_path) = revisions_to_compare(args, &mut reader)?;
    if !args.no_decrypt || args.show_values {
        let sources = revisions::key_sources();
        old.decrypt(&sources);
        new.decrypt(&sources);
    }
    if args.show_values
        && (old.opened.is_none() && old.is_sops() || new.opened.is_none() && new.is_sops())
    {
        let why = old.open_error.as_ref().or(new.open_error.as_ref());
        return Err(Failure::new(
            code::COULD_NOT_RETRIEVE_KEY,
            format!(
                "--show-values needs both revisions decrypted: {}",
                why.map_or("no key", |w| w)
            ),
        ));
    }
    let hasher = ValueHasher::default();
    let report = review::compare(&old, &new, &hasher);
    let mut names = Names::from_config(&revisions::config_text().unwrap_or_default());
    name_pgp_keys(&mut names, &report);
    let problems = if args.check {
        problems(&report, &new, new_path.as_deref(), flags)?
    } else {
        Vec::new()
    };
    let values = args.show_values.then(|| shown_values(&old, &new, &hasher));
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format.as_str() {
        "json" => json(&old, &new, &report, &names, &problems),
        "markdown" => markdown(&old, &new, &report, &names, &problems),
        _ => human(
            &old,
            &new,
            &report,
            &names,
            &problems,
            values.as_ref(),
            color,
        ),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if !problems.is_empty() {
        return Err(Failure::new(code::GENERIC, ""));
    }
    Ok(())
}

/// PGP keys that `.sops.yaml` does not name are named by their user id, when the local
/// keyring has them.
fn name_pgp_keys(names: &mut Names, report: &FileDiff) {
    let pgp: Vec<&String> = report
        .keys
        .iter()
        .filter_map(|k| match k {
            KeyChange::RecipientAdded { kind, id, .. }
            | KeyChange::RecipientRemoved { kind, id, .. }
                if *kind == sesame::keys::KeyKind::Pgp && names.name(id).is_none() =>
            {
                Some(id)
            }
            _ => None,
        })
        .collect();
    if pgp.is_empty() {
        return;
    }
    let sources = revisions::key_sources();
    for id in pgp {
        if let Some(user) = sources.pgp_user_id(id) {
            names.add(id, user);
        }
    }
}

/// OLD and NEW from the arguments, and NEW's path on disk when it is a working file.
fn revisions_to_compare(
    args: &DiffArgs,
    reader: &mut Reader,
) -> CliResult<(Revision, Revision, Option<std::path::PathBuf>)> {
    if let [old, new] = &args.files[..] {
        if args.rev.is_some() {
            return Err(Failure::new(
                code::CONFLICTING_PARAMETERS,
                "--rev takes one file, not two revisions",
            ));
        }
        let new_path = Path::new(new)
            .exists()
            .then(|| Path::new(new).to_path_buf());
        return Ok((reader.any(old)?, reader.any(new)?, new_path));
    }
    let file = &args.files[0];
    let path = Path::new(file);
    let git_path = reader.git_path(path)?;
    match args.rev.as_deref() {
        Some(range) if range.contains("..") => {
            let (a, b) = range.split_once("..").expect("checked");
            let a = if a.is_empty() { "HEAD" } else { a };
            let b = if b.is_empty() { "HEAD" } else { b };
            Ok((
                reader.blob(&format!("{a}:{git_path}"))?,
                reader.blob(&format!("{b}:{git_path}"))?,
                None,
            ))
        }
        Some(rev) => Ok((
            reader.blob(&format!("{rev}:{git_path}"))?,
            reader.file(path, file)?,
            Some(path.to_path_buf()),
        )),
        None => Ok((
            reader.blob(&format!(":{git_path}"))?,
            reader.file(path, file)?,
            Some(path.to_path_buf()),
        )),
    }
}

/// What `--check` fails on.
fn problems(
    report: &FileDiff,
    new: &Revision,
    new_path: Option<&Path>,
    flags: &Flags,
) -> CliResult<Vec<String>> {
    let mut out: Vec<String> = report
        .exposed()
        .map(|c| format!("{} was encrypted and is now stored in PLAIN TEXT", c.place))
        .collect();
    for k in report.removed_without_rotation() {
        if let KeyChange::RecipientRemoved { kind, id, .. } = k {
            out.push(format!(
                "{} {id} was removed but the data key was not replaced: it can still decrypt this file (run `sesame rotate -i`)",
                kind.field()
            ));
        }
    }
    if let Verification::MacProblem(p) = &report.verification {
        out.extend(p.iter().map(|p| format!("MAC mismatch: {p}")));
    }
    if let (Some(path), Some(md)) = (new_path, new.metadata.as_ref()) {
        let config = crate::cli::context::load_config(flags)?;
        let abs = sesame::config::absolute(path);
        if let Some(config) = config
            && let Some(rule) = config
                .rule_for(&abs)
                .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?
        {
            out.extend(
                rule_drift(md, rule)
                    .into_iter()
                    .map(|d| format!("does not match its .sops.yaml creation rule: {d}")),
            );
        }
    }
    if !new.is_sops() && old_was_sops(report) {
        out.push("the file is no longer encrypted with sops".into());
    }
    Ok(out)
}

fn old_was_sops(report: &FileDiff) -> bool {
    report
        .changes
        .iter()
        .any(|c| c.old.as_ref().is_some_and(|s| s.encrypted))
}

/// Old and new plaintext per place, for `--show-values`.
type Values = HashMap<String, (Option<String>, Option<String>)>;

fn shown_values(old: &Revision, new: &Revision, hasher: &ValueHasher) -> Values {
    let mut out: Values = HashMap::new();
    let docs = old.raw.len().max(new.raw.len());
    for (i, rev) in [old, new].into_iter().enumerate() {
        for leaf in rev.leaves(hasher, true) {
            let text = leaf.plain.as_ref().map(|p| p.to_lossy().into_owned());
            let slot = out.entry(leaf.place(docs)).or_default();
            if i == 0 {
                slot.0 = text;
            } else {
                slot.1 = text;
            }
        }
    }
    out
}

fn shape(s: &Shape) -> String {
    let state = if s.encrypted { "enc" } else { "PLAIN" };
    format!("[{state}] {} {}b", s.type_name, s.len)
}

fn data_key_text(v: DataKeyVerdict) -> String {
    match v {
        DataKeyVerdict::Same { verified: true, .. } => "data key same (verified)".into(),
        DataKeyVerdict::Same { shared, .. } => {
            format!("data key same ({shared} value(s) kept their ciphertext)")
        }
        DataKeyVerdict::Replaced { verified: true } => "data key replaced (verified)".into(),
        DataKeyVerdict::Replaced { .. } => "data key replaced (every value stored anew)".into(),
        DataKeyVerdict::Unknown => "data key: cannot tell without a key".into(),
    }
}

fn verification_text(v: &Verification) -> String {
    match v {
        Verification::Keyless => "no key: compared by ciphertext, MAC not verified".into(),
        Verification::Verified => "decrypted, both MACs verified".into(),
        Verification::MacProblem(p) => format!("MAC MISMATCH: {}", p.join("; ")),
    }
}

fn summary(report: &FileDiff) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for c in &report.changes {
        let name = match change_name(&c.kind) {
            "exposed" => "now in PLAIN TEXT",
            "protected" => "now encrypted",
            other => other,
        };
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name, 1)),
        }
    }
    if counts.is_empty() {
        return format!("no value changed ({} unchanged)", report.unchanged);
    }
    let parts: Vec<String> = counts.iter().map(|(n, k)| format!("{k} {n}")).collect();
    format!("{}, {} unchanged", parts.join(", "), report.unchanged)
}

/// The report for people, coloured on a terminal.
pub fn human(
    old: &Revision,
    new: &Revision,
    report: &FileDiff,
    names: &Names,
    problems: &[String],
    values: Option<&Values>,
    color: bool,
) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "{} → {}: {}\n  {} · {}\n",
        old.label,
        new.label,
        summary(report),
        data_key_text(report.data_key),
        verification_text(&report.verification)
    );
    let width = report
        .changes
        .iter()
        .map(|c| c.place.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for c in &report.changes {
        let (mark, code) = match c.kind {
            ChangeKind::Added => ('+', "32"),
            ChangeKind::Removed => ('-', "31"),
            ChangeKind::Exposed => ('!', "1;31"),
            ChangeKind::Protected => ('~', "32"),
            _ => ('~', "33"),
        };
        let shapes = match (&c.old, &c.new) {
            (Some(o), Some(n)) if o == n => shape(n),
            (Some(o), Some(n)) => format!("{} → {}", shape(o), shape(n)),
            (Some(s), None) | (None, Some(s)) => shape(s),
            (None, None) => String::new(),
        };
        let mut line = format!(
            "{mark} {:<width$}  {}  {shapes}",
            c.place,
            c.kind.describe()
        );
        if let Some((a, b)) = values.and_then(|v| v.get(&c.place)) {
            let show =
                |v: &Option<String>| v.as_ref().map_or("(none)".into(), |s| format!("{s:?}"));
            line.push_str(&format!("  {} → {}", show(a), show(b)));
        }
        out.push_str(&format!("  {}\n", paint(code, &line)));
    }
    if !report.keys.is_empty() {
        out.push_str("  keys:\n");
        for k in &report.keys {
            let (mark, text) = k.describe(names);
            let code = match mark {
                '+' => "32",
                '-' => "31",
                _ => "33",
            };
            out.push_str(&format!("  {}\n", paint(code, &format!("{mark} {text}"))));
        }
    }
    for p in problems {
        out.push_str(&format!("  {}\n", paint("1;31", &format!("✗ {p}"))));
    }
    out
}

fn json_shape(s: Option<&Shape>) -> String {
    match s {
        None => "null".into(),
        Some(s) => format!(
            "{{\"encrypted\":{},\"type\":{},\"length\":{}}}",
            s.encrypted,
            json_quote(&s.type_name),
            s.len
        ),
    }
}

fn change_name(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
        ChangeKind::TypeChanged => "type changed",
        ChangeKind::ReEncrypted => "re-encrypted",
        ChangeKind::Exposed => "exposed",
        ChangeKind::Protected => "protected",
        ChangeKind::Renamed { .. } => "renamed",
    }
}

/// The report as one JSON object (no values, ever).
pub fn json(
    old: &Revision,
    new: &Revision,
    report: &FileDiff,
    names: &Names,
    problems: &[String],
) -> String {
    let changes: Vec<String> = report
        .changes
        .iter()
        .map(|c| {
            let from = match &c.kind {
                ChangeKind::Renamed { from } => format!(",\"from\":{}", json_quote(from)),
                _ => String::new(),
            };
            format!(
                "{{\"place\":{},\"path\":{},\"document\":{},\"comment\":{},\"change\":\"{}\"{from},\"old\":{},\"new\":{},\"value_changed\":{}}}",
                json_quote(&c.place),
                json_quote(&c.path.to_string()),
                c.doc,
                c.comment,
                change_name(&c.kind),
                json_shape(c.old.as_ref()),
                json_shape(c.new.as_ref()),
                c.value_changed.map_or("null".into(), |v| v.to_string())
            )
        })
        .collect();
    let keys: Vec<String> = report
        .keys
        .iter()
        .map(|k| match k {
            KeyChange::RecipientAdded { group, kind, id }
            | KeyChange::RecipientRemoved { group, kind, id } => format!(
                "{{\"change\":\"{}\",\"group\":{},\"type\":\"{}\",\"id\":{},\"name\":{}}}",
                if matches!(k, KeyChange::RecipientAdded { .. }) {
                    "recipient added"
                } else {
                    "recipient removed"
                },
                group + 1,
                kind.field(),
                json_quote(id),
                names.name(id).map_or("null".into(), json_quote)
            ),
            other => {
                let (_, text) = other.describe(names);
                format!("{{\"change\":\"metadata\",\"text\":{}}}", json_quote(&text))
            }
        })
        .collect();
    let (data_key, verified) = match report.data_key {
        DataKeyVerdict::Same { verified, .. } => ("same", verified),
        DataKeyVerdict::Replaced { verified } => ("replaced", verified),
        DataKeyVerdict::Unknown => ("unknown", false),
    };
    let verification = match &report.verification {
        Verification::Keyless => "keyless",
        Verification::Verified => "verified",
        Verification::MacProblem(_) => "mac-mismatch",
    };
    let problems: Vec<String> = problems.iter().map(|p| json_quote(p)).collect();
    format!(
        "{{\"old\":{},\"new\":{},\"verification\":\"{verification}\",\"data_key\":\"{data_key}\",\"data_key_verified\":{verified},\"unchanged\":{},\"changes\":[{}],\"keys\":[{}],\"problems\":[{}]}}\n",
        json_quote(&old.label),
        json_quote(&new.label),
        report.unchanged,
        changes.join(","),
        keys.join(","),
        problems.join(",")
    )
}

/// The report as Markdown, for a pull-request comment (no values, ever).
pub fn markdown(
    old: &Revision,
    new: &Revision,
    report: &FileDiff,
    names: &Names,
    problems: &[String],
) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "### `{}` → `{}`\n\n{} · {} · {}\n\n",
        cell(&old.label),
        cell(&new.label),
        summary(report),
        data_key_text(report.data_key),
        verification_text(&report.verification)
    );
    if !report.changes.is_empty() {
        out.push_str("| | place | change | stored |\n|---|---|---|---|\n");
        for c in &report.changes {
            let mark = match c.kind {
                ChangeKind::Exposed => "⚠️",
                ChangeKind::Added => "+",
                ChangeKind::Removed => "−",
                _ => "~",
            };
            let stored = match (&c.old, &c.new) {
                (Some(o), Some(n)) if o != n => format!("{} → {}", shape(o), shape(n)),
                (_, Some(s)) | (Some(s), None) => shape(s),
                _ => String::new(),
            };
            out.push_str(&format!(
                "| {mark} | `{}` | {} | {} |\n",
                cell(&c.place),
                cell(&c.kind.describe()),
                cell(&stored)
            ));
        }
        out.push('\n');
    }
    if !report.keys.is_empty() {
        out.push_str("**Keys**\n\n");
        for k in &report.keys {
            let (mark, text) = k.describe(names);
            out.push_str(&format!("- {mark} {}\n", cell(&text)));
        }
        out.push('\n');
    }
    for p in problems {
        out.push_str(&format!("- ❌ {}\n", cell(p)));
    }
    out
}
