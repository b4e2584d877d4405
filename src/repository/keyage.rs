//! What Git history says about a file's data key, without a key: the commit in which the
//! current data key first appeared (its age), and the recipients that held it since then but
//! no longer do (they can still unwrap it from history, so the key should be replaced).
//!
//! Two revisions share their data key when a value kept its ciphertext from one to the next
//! (sops and sesame keep unchanged ciphertext; a value can only decrypt under the key it was
//! encrypted with). The chain is followed back from the file as it is now.

use crate::git::{Blobs, Commit, Repo};
use crate::keys::KeyKind;
use crate::metadata::Metadata;
use crate::repository::scan::Entry;
use crate::review::Revision;
use crate::review::leaves::{Stored, ValueHasher};
use crate::store::Format;
use crate::tree::Map;
use std::collections::HashMap;
use std::collections::HashSet;
use std::path::PathBuf;

/// The data key's story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyHistory {
    /// The oldest commit whose revision has the current data key (`None`: not committed yet).
    pub since: Option<Commit>,
    /// Recipients that had the current data key in some revision and do not now.
    pub former: Vec<(KeyKind, String)>,
}

impl KeyHistory {
    /// The data key's age in whole days at `now` (RFC 3339), from the commit's author date.
    pub fn age_days(&self, now: time::OffsetDateTime) -> Option<i64> {
        let since = self.since.as_ref()?;
        let at = time::OffsetDateTime::parse(
            &since.date,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        Some((now - at).whole_days())
    }
}

fn ciphertexts(raw: &[Map]) -> HashSet<Box<str>> {
    crate::review::leaves::leaves(raw, None, &ValueHasher::default(), false)
        .into_iter()
        .filter_map(|l| match l.stored {
            Stored::Encrypted { enc, .. } => Some(enc),
            Stored::Plain { .. } => None,
        })
        .collect()
}

fn recipients(md: &Metadata) -> HashSet<(KeyKind, String)> {
    md.all_keys().map(|k| (k.kind, k.display())).collect()
}

/// The data key history of `git_path` whose current content is `raw` with `md`.
pub fn history(
    repo: &Repo,
    blobs: &mut Blobs,
    git_path: &str,
    format: Format,
    raw: &[Map],
    md: &Metadata,
) -> Result<KeyHistory, String> {
    let commits = repo.log(git_path, None).map_err(|e| e.to_string())?;
    history_of(&commits, blobs, git_path, format, raw, md)
}

/// As `history`, with the file's commits (newest first) already known.
pub fn history_of(
    commits: &[Commit],
    blobs: &mut Blobs,
    git_path: &str,
    format: Format,
    raw: &[Map],
    md: &Metadata,
) -> Result<KeyHistory, String> {
    let now_keys = recipients(md);
    let mut newer = ciphertexts(raw);
    let mut since = None;
    let mut held: HashSet<(KeyKind, String)> = HashSet::new();
    for commit in commits.iter().cloned() {
        let spec = format!("{}:{git_path}", commit.id);
        let Some(bytes) = blobs.read(&spec).map_err(|e| e.to_string())? else {
            break;
        };
        let Ok(rev) = Revision::read(spec, format, bytes) else {
            break;
        };
        let Some(rev_md) = rev.metadata.as_ref() else {
            break;
        };
        let older = ciphertexts(&rev.raw);
        if older.is_disjoint(&newer) {
            break;
        }
        held.extend(recipients(rev_md));
        since = Some(commit);
        newer = older;
    }
    let mut former: Vec<(KeyKind, String)> = held.difference(&now_keys).cloned().collect();
    former.sort();
    Ok(KeyHistory { since, former })
}

/// A repository and its sops files (with their paths as Git names them).
type RepoFiles<'a> = (Repo, Vec<(&'a Entry, String)>);

/// Each sops file's data key history from Git (files outside a repository have none).
pub fn histories(entries: &[Entry], jobs: usize) -> HashMap<PathBuf, KeyHistory> {
    per_file(entries, jobs, &|commits, blobs, rel, e| {
        let (Some(md), crate::repository::scan::State::Sops { raw, .. }) = (e.metadata(), &e.state)
        else {
            return None;
        };
        history_of(commits, blobs, rel, e.format, raw, md).ok()
    })
}

/// What `per_file` runs for one file: its commits, a blob reader, its Git path, the file.
pub type PerFile<'f, T> =
    dyn Fn(&[crate::git::Commit], &mut crate::git::Blobs, &str, &Entry) -> Option<T> + Sync + 'f;

/// Runs `f` for each sops file in a Git repository with the file's commits (newest first),
/// a blob reader and its path as Git names it: one `git log` per repository, one
/// `git rev-parse` per folder, and the files shared out to `jobs` threads, each with its own
/// `git cat-file` process.
pub fn per_file<T: Send>(entries: &[Entry], jobs: usize, f: &PerFile<T>) -> HashMap<PathBuf, T> {
    let mut by_repo: HashMap<PathBuf, RepoFiles> = HashMap::new();
    let mut repo_of: HashMap<PathBuf, Option<Repo>> = HashMap::new();
    for e in entries.iter().filter(|e| e.metadata().is_some()) {
        let dir = e
            .path
            .parent()
            .unwrap_or(std::path::Path::new("/"))
            .to_path_buf();
        let found = repo_of
            .entry(dir.clone())
            .or_insert_with(|| Repo::discover(&dir));
        let Some(repo) = found.clone() else {
            continue;
        };
        let Some(rel) = repo.relative(&e.path) else {
            continue;
        };
        by_repo
            .entry(repo.root.clone())
            .or_insert_with(|| (repo, Vec::new()))
            .1
            .push((e, rel));
    }
    let mut out = HashMap::new();
    for (repo, files) in by_repo.into_values() {
        let Ok(logs) = repo.logs_by_file() else {
            continue;
        };
        let chunk = files.len().div_ceil(jobs.max(1)).max(1);
        let (repo, logs) = (&repo, &logs);
        let found: Vec<(PathBuf, T)> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let Ok(mut blobs) = repo.blobs() else {
                            return Vec::new();
                        };
                        part.iter()
                            .filter_map(|(e, rel)| {
                                let commits = logs.get(rel).map_or(&[][..], |c| c.as_slice());
                                f(commits, &mut blobs, rel, e).map(|t| (e.path.clone(), t))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        out.extend(found);
    }
    out
}
