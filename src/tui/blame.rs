//! A value's history (`H`): the commits in which its stored form changed, with author, date
//! and message — a key-free blame — and, with a key, the value as it was at a commit (masked
//! until asked for, decrypted in memory; data keys shared by revisions are unwrapped once).

use crate::git::Repo;
use crate::keys::groups::KeySources;
use crate::path::TreePath;
use crate::review::Revision;
use crate::review::history::{LeafEvent, leaf_history};
use crate::store::Format;
use crate::tree::Node;
use std::collections::HashMap;
use std::path::Path;

/// The history screen's state.
pub struct Blame {
    pub place: String,
    pub doc: usize,
    pub path: TreePath,
    pub events: Vec<LeafEvent>,
    pub cursor: usize,
    /// Values shown, by event index (or why one could not be).
    pub shown: HashMap<usize, Result<Option<Node>, String>>,
    repo: Repo,
    git_path: String,
}

impl std::fmt::Debug for Blame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blame")
            .field("place", &self.place)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// Reads the value's history for the file at `path`.
pub fn load(
    path: &Path,
    format: Format,
    doc: usize,
    tree_path: TreePath,
    place: String,
) -> Result<Blame, String> {
    let dir = path.parent().ok_or("the file has no folder")?;
    let repo = Repo::discover(dir)
        .ok_or_else(|| format!("{} is not in a Git repository: no history", path.display()))?;
    let git_path = repo
        .relative(path)
        .ok_or("the file is outside its repository")?;
    let events =
        leaf_history(&repo, &git_path, format, doc, &tree_path).map_err(|e| e.to_string())?;
    Ok(Blame {
        place,
        doc,
        path: tree_path,
        events,
        cursor: 0,
        shown: HashMap::new(),
        repo,
        git_path,
    })
}

impl Blame {
    /// The value at event `i`'s commit, decrypted with `sources`.
    pub fn value_at(
        &self,
        i: usize,
        format: Format,
        sources: &KeySources,
    ) -> Result<Option<Node>, String> {
        let event = self.events.get(i).ok_or("no such commit")?;
        let spec = format!("{}:{}", event.commit.id, self.git_path);
        let mut blobs = self.repo.blobs().map_err(|e| e.to_string())?;
        let Some(bytes) = blobs.read(&spec).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let mut rev = Revision::read(spec, format, bytes).map_err(|e| e.to_string())?;
        rev.decrypt(sources);
        if let Some(e) = rev.open_error {
            return Err(e);
        }
        Ok(rev
            .opened
            .as_ref()
            .and_then(|d| d.node_at(self.doc, &self.path)))
    }
}
