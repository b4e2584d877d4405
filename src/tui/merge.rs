//! A file in the middle of a Git merge: the editor opens the merge of Git's index stages
//! (base, ours, theirs) built in memory, with the conflicting places listed on a conflict
//! screen where each is settled by taking one side (or edited in the tree), then saved and,
//! after a confirmation, staged. Nothing is written before the save; no markers, no plaintext.

use crate::document::Document;
use crate::filemerge::{self, Resolution, Sides, Which};
use crate::git::Repo;
use crate::keys::groups::KeySources;
use crate::path::TreePath;
use crate::review::Revision;
use crate::store::Format;
use crate::tree::Node;
use std::collections::HashMap;
use std::path::Path;

/// One conflicting place with the three values (masked until revealed).
pub struct MergeConflict {
    pub place: String,
    pub doc: usize,
    pub path: TreePath,
    /// Base, ours, theirs (`None`: the place does not exist on that side).
    pub sides: [Option<Node>; 3],
    /// Whether each side's ciphertext is valid in the result (same data key).
    keeps: [bool; 3],
    /// The side taken, if one was (ours is what the result holds until then).
    pub choice: Option<Which>,
}

/// The merge the editor is finishing.
pub struct MergeState {
    /// The file's path as Git names it, for staging.
    pub git_path: String,
    repo: Repo,
    pub conflicts: Vec<MergeConflict>,
    /// Metadata both sides changed differently (ours kept; shown, not settled here).
    pub metadata_conflicts: Vec<String>,
    pub warnings: Vec<String>,
    pub cursor: usize,
    pub revealed: bool,
    /// Saved since opening (the next step is staging).
    pub saved: bool,
}

impl std::fmt::Debug for MergeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeState")
            .field("git_path", &self.git_path)
            .field("conflicts", &self.conflicts.len())
            .finish_non_exhaustive()
    }
}

/// Index of a side in `MergeConflict::sides`.
pub fn side_index(which: Which) -> usize {
    match which {
        Which::Base => 0,
        Which::Ours => 1,
        Which::Theirs => 2,
    }
}

impl MergeConflict {
    /// The change that puts `which`'s value in place, and whether its ciphertext stays valid.
    pub fn take(&self, which: Which) -> (crate::edit::merge::Reapply, bool) {
        let i = side_index(which);
        let change = match &self.sides[i] {
            Some(value) => crate::edit::merge::Reapply::Set {
                doc: self.doc,
                path: self.path.clone(),
                value: value.clone(),
            },
            None => crate::edit::merge::Reapply::Remove {
                doc: self.doc,
                path: self.path.clone(),
            },
        };
        (change, self.keeps[i])
    }
}

impl MergeState {
    pub fn unresolved(&self) -> usize {
        self.conflicts.iter().filter(|c| c.choice.is_none()).count()
    }

    /// Stages the saved file (`git add`).
    pub fn stage(&self) -> Result<(), String> {
        self.repo
            .run(&["add", "--", &self.git_path])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// When `path` is unmerged in its Git repository: the merge of its index stages, decrypted
/// with `sources`, as the document to edit, and the conflicts to settle. `None` when the file
/// is not in a merge (or not in a repository); an error when it is but cannot be merged here.
pub fn from_git(
    path: &Path,
    format: Format,
    sources: &KeySources,
) -> Option<Result<(Document, MergeState), String>> {
    let dir = path.parent()?;
    let repo = Repo::discover(dir)?;
    let git_path = repo.relative(path)?;
    let stages = repo.conflict_stages(&git_path).ok()??;
    Some(merge_stages(repo, git_path, stages, format, sources))
}

fn merge_stages(
    repo: Repo,
    git_path: String,
    stages: [Option<String>; 3],
    format: Format,
    sources: &KeySources,
) -> Result<(Document, MergeState), String> {
    let mut blobs = repo.blobs().map_err(|e| e.to_string())?;
    let mut revs = Vec::new();
    for (object, side) in stages.iter().zip(["base", "ours", "theirs"]) {
        let label = format!("{git_path} ({side})");
        let object = object
            .as_ref()
            .ok_or_else(|| format!("{label} does not exist: the file was added or deleted on one side; keep one with `git checkout --ours` or `--theirs`"))?;
        let bytes = blobs
            .read(object)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{label}: Git has no such object"))?;
        let mut rev =
            Revision::read(label.clone(), format, bytes).map_err(|e| format!("{label}: {e}"))?;
        if !rev.is_sops() {
            return Err(format!("{label} is not a sops file: merge it as text"));
        }
        rev.decrypt(sources);
        if let Some(e) = &rev.open_error {
            return Err(format!("{label}: {e}"));
        }
        revs.push(rev);
    }
    let doc = |i: usize| revs[i].opened.as_ref().expect("decrypted");
    let sides = Sides {
        base: doc(0),
        ours: doc(1),
        theirs: doc(2),
    };
    let plan = filemerge::plan(&sides);
    let host_index = if plan.host == Which::Theirs { 2 } else { 1 };
    let host = Document::open(
        format,
        revs[host_index].bytes().to_vec(),
        sources,
        crate::document::OpenOptions {
            ignore_mac: true,
            keep_ciphertext: true,
            keep_damaged: false,
        },
    )
    .map_err(|e| e.to_string())?;
    let merged = filemerge::build(
        &plan,
        &sides,
        host,
        &HashMap::<usize, Resolution>::new(),
        sources,
    )?;
    let conflicts = plan
        .conflicts
        .iter()
        .map(|c| {
            let all = [sides.base, sides.ours, sides.theirs];
            MergeConflict {
                place: c.place.clone(),
                doc: c.doc,
                path: c.path.clone(),
                sides: all.map(|d| d.node_at(c.doc, &c.path)),
                keeps: all.map(|d| d.same_data_key(&merged)),
                choice: None,
            }
        })
        .collect();
    Ok((
        merged,
        MergeState {
            git_path,
            repo,
            conflicts,
            metadata_conflicts: plan.metadata_conflicts.clone(),
            warnings: plan.warnings.clone(),
            cursor: 0,
            revealed: false,
            saved: false,
        },
    ))
}
