//! Git integration: `sesame git setup` and `doctor`, the textconv, the external diff and the
//! merge driver Git runs, and `sesame git resolve` for a file Git left in conflict.

use crate::cli::args::{Flags, GitCommand};
use crate::cli::context;
use crate::cli::diff::human;
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::merge::{self, ignore_mac};
use crate::cli::revisions::{self, Reader, git_failure};
use sesame::git::Repo;
use sesame::review::leaves::ValueHasher;
use sesame::review::names::Names;
use sesame::review::{self, Revision, view};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The driver name in `.gitattributes` and Git's config.
const DRIVER: &str = "sesame";
const BLOCK_START: &str = "# sesame: sops files (managed by `sesame git setup`)";
const BLOCK_END: &str = "# end sesame";
/// With this set to 1 and a key at hand, the textconv shows values.
const SHOW_VALUES_VAR: &str = "SESAME_TEXTCONV_VALUES";

pub fn run(command: &GitCommand, flags: &Flags) -> CliResult {
    match command {
        GitCommand::Setup { global, command } => setup(*global, command.as_deref(), flags),
        GitCommand::Doctor => doctor(flags),
        GitCommand::MergeDriver {
            base,
            ours,
            theirs,
            path,
        } => merge_driver(base, ours, theirs, path.as_deref(), flags),
        GitCommand::Resolve { path } => resolve(path, flags),
    }
}

fn repo() -> CliResult<Repo> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Repo::discover(&cwd).ok_or_else(|| {
        Failure::new(code::GENERIC, "not in a Git repository")
            .hint("run this inside the working tree of your repository")
    })
}

/// The sops files of the working tree (tracked, or untracked and not ignored), by content, and
/// the files a creation rule with a `path_regex` covers.
fn sops_files(repo: &Repo, flags: &Flags) -> CliResult<Vec<String>> {
    let config = context::load_config(flags)?;
    let mut out = Vec::new();
    for file in repo.files().map_err(git_failure)? {
        let abs = repo.root.join(&file);
        let covered = config.as_ref().is_some_and(
            |c| matches!(c.rule_for(&abs), Ok(Some(rule)) if rule.path_regex.is_some()),
        );
        if covered || is_sops_file(&abs) {
            out.push(file);
        }
    }
    Ok(out)
}

/// Whether a file holds sops metadata (read without a key; files over 64 MiB are skipped).
fn is_sops_file(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() > 64 << 20 {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    if !bytes.windows(4).any(|w| w == b"sops") {
        return false;
    }
    let format = sesame::store::Format::from_path(&path.to_string_lossy());
    sesame::document::inspect(format, &bytes).is_ok()
}

/// A path quoted for `.gitattributes` (spaces and specials in C-style quotes).
fn attr_pattern(file: &str) -> String {
    if file
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@".contains(c))
    {
        return file.replace('[', "\\[");
    }
    format!("\"{}\"", file.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A command for Git's shell.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@=:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn setup(global: bool, command: Option<&str>, flags: &Flags) -> CliResult {
    let repo = repo()?;
    let exe = match command {
        Some(c) => c.to_string(),
        None => std::env::current_exe()
            .map(|p| shell_quote(&p.to_string_lossy()))
            .map_err(|e| {
                Failure::new(
                    code::GENERIC,
                    format!("cannot find this program's path: {e}"),
                )
            })?,
    };
    let settings = [
        (format!("diff.{DRIVER}.textconv"), format!("{exe} textconv")),
        (format!("diff.{DRIVER}.command"), format!("{exe} git-diff")),
        (
            format!("merge.{DRIVER}.name"),
            "sesame: merge sops files value by value".to_string(),
        ),
        (
            format!("merge.{DRIVER}.driver"),
            format!("{exe} git merge-driver %O %A %B %P"),
        ),
    ];
    for (key, value) in &settings {
        repo.config_set(key, value, global).map_err(git_failure)?;
    }
    let files = sops_files(&repo, flags)?;
    let attributes = repo.root.join(".gitattributes");
    let old = std::fs::read_to_string(&attributes).unwrap_or_default();
    let new = with_block(&old, &files);
    if new != old {
        context::write_file(&attributes, new.as_bytes(), |e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("could not write {}: {e}", attributes.display()),
            )
        })?;
    }
    let scope = if global {
        "your user"
    } else {
        "this repository's"
    };
    println!("Git drivers set in {scope} Git config (diff.{DRIVER}, merge.{DRIVER}).");
    println!(
        "{} sops file(s) marked in {}; commit it so your team's Git uses them too.",
        files.len(),
        attributes.display()
    );
    println!(
        "Run `sesame git setup` again after adding sops files; `sesame git doctor` checks it all."
    );
    Ok(())
}

/// `.gitattributes` text with the managed block holding `files`.
fn with_block(old: &str, files: &[String]) -> String {
    let mut kept = Vec::new();
    let mut inside = false;
    for line in old.lines() {
        if line == BLOCK_START {
            inside = true;
        } else if line == BLOCK_END {
            inside = false;
        } else if !inside {
            kept.push(line.to_string());
        }
    }
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    if !kept.is_empty() {
        kept.push(String::new());
    }
    kept.push(BLOCK_START.into());
    for f in files {
        kept.push(format!("{} diff={DRIVER} merge={DRIVER}", attr_pattern(f)));
    }
    kept.push(BLOCK_END.into());
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

fn doctor(flags: &Flags) -> CliResult {
    let repo = repo()?;
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for key in [
        format!("diff.{DRIVER}.textconv"),
        format!("diff.{DRIVER}.command"),
        format!("merge.{DRIVER}.driver"),
    ] {
        match repo.config_get(&key, false) {
            None => problems.push(format!("{key} is not set: run `sesame git setup`")),
            Some(v) => {
                let program = sesame::env::split_command(&v)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                if program.contains('/') && !Path::new(&program).exists() {
                    problems.push(format!(
                        "{key} runs {program}, which does not exist: run `sesame git setup` again"
                    ));
                } else {
                    ok.push(format!("{key} = {v}"));
                }
            }
        }
    }
    if repo
        .config_get(&format!("diff.{DRIVER}.cachetextconv"), false)
        .as_deref()
        == Some("true")
    {
        problems.push(format!(
            "diff.{DRIVER}.cachetextconv is true: Git would store textconv output in its notes; with {SHOW_VALUES_VAR}=1 that is plaintext in the object store. Unset it."
        ));
    }
    let files = sops_files(&repo, flags)?;
    for f in &files {
        let attrs = repo.attributes(f, &["diff", "merge"]);
        let has = |name: &str| attrs.iter().any(|(n, v)| n == name && v == DRIVER);
        if !has("diff") || !has("merge") {
            problems.push(format!(
                "{f} is a sops file without diff={DRIVER} merge={DRIVER}: run `sesame git setup`"
            ));
        }
    }
    for line in &ok {
        println!("✓ {line}");
    }
    println!("✓ {} sops file(s) checked", files.len());
    for p in &problems {
        println!("✗ {p}");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(code::GENERIC, ""))
    }
}

/// The textconv: never fails for lack of a key; a file that is not even readable as its
/// format is printed as it is.
pub fn textconv(file: &str) -> CliResult {
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("Error reading file {file}: {e}"),
        )
    })?;
    let reader = Reader::new(None);
    // Git hands over a temporary file; its name keeps the real file's extension.
    let format = reader.format_of(file);
    let text = match Revision::read(file, format, bytes.clone()) {
        Ok(mut rev) => {
            let show = std::env::var(SHOW_VALUES_VAR).is_ok_and(|v| v == "1");
            if show {
                rev.decrypt(&revisions::key_sources());
            }
            let leaves = rev.leaves(&ValueHasher::default(), show);
            let names = Names::from_config(&revisions::config_text().unwrap_or_default());
            view::text_view(&leaves, rev.raw.len(), rev.metadata.as_ref(), &names).into_bytes()
        }
        Err(_) => bytes,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&text);
    let _ = out.flush();
    Ok(())
}

/// Git's external diff: `PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE` (a lone
/// PATH for an unmerged file).
pub fn external_diff(args: &[String], flags: &Flags) -> CliResult {
    let [path, old_file, _, _, new_file, ..] = args else {
        println!(
            "* Unmerged path {}",
            args.first().map_or("", |s| s.as_str())
        );
        return Ok(());
    };
    let reader = Reader::new(flags.input_type.as_deref());
    let format = reader.format_of(path);
    let load = |file: &str, label: String| -> CliResult<Revision> {
        if file == "/dev/null" {
            return Ok(Revision::absent(label, format));
        }
        let bytes = std::fs::read(file).map_err(|e| {
            Failure::new(
                code::COULD_NOT_READ_INPUT_FILE,
                format!("Error reading file {file}: {e}"),
            )
        })?;
        Revision::read(label.clone(), format, bytes)
            .map_err(|e| Failure::new(code::GENERIC, format!("Error reading {label}: {e}")))
    };
    let mut old = load(old_file, format!("a/{path}"))?;
    let mut new = load(new_file, format!("b/{path}"))?;
    let sources = revisions::key_sources();
    old.decrypt(&sources);
    new.decrypt(&sources);
    let report = review::compare(&old, &new, &ValueHasher::default());
    let names = Names::from_config(&revisions::config_text().unwrap_or_default());
    let color = std::env::var("GIT_PAGER_IN_USE").is_ok_and(|v| v == "true")
        && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "diff --sesame a/{path} b/{path}");
    let _ = out.write_all(human(&old, &new, &report, &names, &[], None, color).as_bytes());
    let _ = out.flush();
    Ok(())
}

/// Git's merge driver: merges %O, %A and %B into %A. Files that are not sops files on every
/// side are merged as text by `git merge-file`.
fn merge_driver(
    base: &str,
    ours: &str,
    theirs: &str,
    path: Option<&str>,
    flags: &Flags,
) -> CliResult {
    let name = path.unwrap_or(ours);
    let reader = Reader::new(flags.input_type.as_deref());
    let format = reader.format_of(name);
    let read = |file: &str, side: &str| -> Option<Revision> {
        let bytes = std::fs::read(file).ok()?;
        Revision::read(format!("{name} ({side})"), format, bytes).ok()
    };
    let sides = (
        read(base, "base"),
        read(ours, "ours"),
        read(theirs, "theirs"),
    );
    let (Some(mut b), Some(mut o), Some(mut t)) = sides else {
        return merge_as_text(base, ours, theirs);
    };
    if !o.is_sops() || !t.is_sops() {
        return merge_as_text(base, ours, theirs);
    }
    let config = context::load_config(flags)?;
    let emit = context::emit_options(config.as_ref(), flags);
    let merged = merge::merge(&mut b, &mut o, &mut t, ignore_mac(flags), &emit)?;
    context::write_file(Path::new(ours), &merged.bytes, |e| {
        Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write the merge of {name}: {e}"),
        )
    })?;
    merged.report(name);
    merged.outcome()
}

/// `git merge-file` into `ours`, for files that are not sops files; its exit code passes on.
fn merge_as_text(base: &str, ours: &str, theirs: &str) -> CliResult {
    let status = std::process::Command::new("git")
        .args([
            "merge-file",
            "-L",
            "ours",
            "-L",
            "base",
            "-L",
            "theirs",
            ours,
            base,
            theirs,
        ])
        .status()
        .map_err(|e| Failure::new(code::GENERIC, format!("cannot run git merge-file: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        _ => Err(Failure::new(code::GENERIC, "")),
    }
}

/// Merges a conflicted file from its index stages, writes it, and stages it when clean.
fn resolve(file: &str, flags: &Flags) -> CliResult {
    let mut reader = Reader::new(flags.input_type.as_deref());
    let git_path = reader.git_path(Path::new(file))?;
    let repo = reader.repo.clone().expect("git_path found a repository");
    let Some(stages) = repo.conflict_stages(&git_path).map_err(git_failure)? else {
        return Err(
            Failure::new(code::GENERIC, format!("{file} is not in conflict"))
                .hint("`git status` lists the files a merge left unresolved"),
        );
    };
    let mut side = |n: usize, label: &str| -> CliResult<Revision> {
        match &stages[n] {
            Some(object) => {
                let mut rev = reader.blob_named(object, file)?;
                rev.label = format!("{file} ({label})");
                Ok(rev)
            }
            None => Ok(Revision::absent(
                format!("{file} ({label})"),
                reader.format_of(file),
            )),
        }
    };
    let (mut b, mut o, mut t) = (side(0, "base")?, side(1, "ours")?, side(2, "theirs")?);
    let config = context::load_config(flags)?;
    let emit = context::emit_options(config.as_ref(), flags);
    let merged = merge::merge(&mut b, &mut o, &mut t, ignore_mac(flags), &emit)?;
    context::write_file(Path::new(file), &merged.bytes, |e| {
        Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {file}: {e}"),
        )
    })?;
    merged.report(file);
    merged.outcome()?;
    repo.run(&["add", "--", &git_path]).map_err(git_failure)?;
    eprintln!("sesame: {file} resolved and staged");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_block_is_replaced_and_other_lines_kept() {
        let old = "*.png binary\n\n# sesame: sops files (managed by `sesame git setup`)\nold.yaml diff=sesame merge=sesame\n# end sesame\n";
        let new = with_block(old, &["a.yaml".into(), "dir/b c.json".into()]);
        assert_eq!(
            new,
            "*.png binary\n\n# sesame: sops files (managed by `sesame git setup`)\na.yaml diff=sesame merge=sesame\n\"dir/b c.json\" diff=sesame merge=sesame\n# end sesame\n"
        );
        assert_eq!(
            with_block(&new, &["a.yaml".into(), "dir/b c.json".into()]),
            new
        );
    }
}
