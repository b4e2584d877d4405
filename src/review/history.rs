//! A value's history in Git without a key: the commits in which its stored form (ciphertext,
//! or clear text) changed — a key-free "blame" — read through one `git cat-file` process.

use crate::git::{Commit, GitError, Repo};
use crate::path::TreePath;
use crate::review::Revision;
use crate::review::leaves::{Leaf, ValueHasher};
use crate::store::Format;

/// One commit that changed the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafEvent {
    pub commit: Commit,
    /// How the value was stored after the commit (`[enc] str 9b`), `None` when it was removed.
    pub stored: Option<String>,
}

fn describe(leaf: &Leaf) -> String {
    let state = if leaf.is_encrypted() { "enc" } else { "PLAIN" };
    format!("[{state}] {} {}b", leaf.type_name(), leaf.len)
}

/// The commits (newest first) in which the value at `path` of document `doc` of the file
/// `git_path` changed how it is stored, appeared or went away.
pub fn leaf_history(
    repo: &Repo,
    git_path: &str,
    format: Format,
    doc: usize,
    path: &TreePath,
) -> Result<Vec<LeafEvent>, GitError> {
    let commits = repo.log(git_path, None)?;
    let mut blobs = repo.blobs()?;
    let hasher = ValueHasher::default();
    let mut previous: Option<Option<String>> = None;
    let mut events = Vec::new();
    for commit in commits.into_iter().rev() {
        let spec = format!("{}:{git_path}", commit.id);
        let now = match blobs.read(&spec)? {
            None => None,
            Some(bytes) => match Revision::read(spec, format, bytes) {
                // A revision that does not parse says nothing about the value.
                Err(_) => continue,
                Ok(rev) => rev
                    .leaves(&hasher, false)
                    .into_iter()
                    .find(|l| l.doc == doc && l.comment.is_none() && l.path == *path)
                    .map(|l| (l.fingerprint.clone(), describe(&l))),
            },
        };
        let fingerprint = now.as_ref().map(|(f, _)| f.clone());
        if previous.as_ref() != Some(&fingerprint) && (previous.is_some() || now.is_some()) {
            events.push(LeafEvent {
                commit,
                stored: now.map(|(_, d)| d),
            });
        }
        previous = Some(fingerprint);
    }
    events.reverse();
    Ok(events)
}
