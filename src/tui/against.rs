//! `sesame FILE --against REV`: what changed since a Git revision, marked in the tree (added,
//! changed, now in plain text, …) with removed values and recipient changes listed in the
//! details pane. Computed once at open, from the revision's blob and the file as read.

use crate::git::Repo;
use crate::keys::groups::KeySources;
use crate::path::TreePath;
use crate::review::diff::ChangeKind;
use crate::review::leaves::ValueHasher;
use crate::review::names::Names;
use crate::review::{self, Revision};
use crate::store::Format;
use std::collections::HashMap;
use std::path::Path;

/// The changes since a revision.
#[derive(Debug)]
pub struct Against {
    pub rev: String,
    marks: HashMap<(usize, String), ChangeKind>,
    /// Places the revision had and the file no longer has.
    pub removed: Vec<String>,
    /// Recipient and rule changes, as lines.
    pub keys: Vec<String>,
    pub summary: String,
}

impl Against {
    /// How the value at `path` of document `doc` changed since the revision, if it did.
    pub fn mark(&self, doc: usize, path: &TreePath) -> Option<&ChangeKind> {
        self.marks.get(&(doc, path.to_string()))
    }
}

/// The one-character mark of a change in the tree.
pub fn glyph(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Exposed => "!",
        ChangeKind::Renamed { .. } => ">",
        _ => "*",
    }
}

/// Compares the file at `path` (as on disk) with its blob at `rev`.
pub fn compute(
    path: &Path,
    format: Format,
    rev: &str,
    sources: &KeySources,
    names: &Names,
) -> Result<Against, String> {
    let dir = path.parent().ok_or("the file has no folder")?;
    let repo = Repo::discover(dir).ok_or_else(|| {
        format!(
            "--against {rev}: {} is not in a Git repository",
            path.display()
        )
    })?;
    let git_path = repo.relative(path).ok_or_else(|| {
        format!(
            "--against {rev}: the file is outside {}",
            repo.root.display()
        )
    })?;
    let mut blobs = repo.blobs().map_err(|e| e.to_string())?;
    let spec = format!("{rev}:{git_path}");
    let mut old = match blobs.read(&spec).map_err(|e| e.to_string())? {
        Some(bytes) => {
            Revision::read(spec.clone(), format, bytes).map_err(|e| format!("{spec}: {e}"))?
        }
        None => Revision::absent(spec.clone(), format),
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut new = Revision::read("the file", format, bytes).map_err(|e| e.to_string())?;
    old.decrypt(sources);
    new.decrypt(sources);
    let report = review::compare(&old, &new, &ValueHasher::default());
    let mut marks = HashMap::new();
    let mut removed = Vec::new();
    for c in &report.changes {
        if c.kind == ChangeKind::Removed {
            removed.push(c.place.clone());
        } else if !c.comment {
            marks.insert((c.doc, c.path.to_string()), c.kind.clone());
        }
    }
    let keys = report
        .keys
        .iter()
        .map(|k| {
            let (mark, text) = k.describe(names);
            format!("{mark} {text}")
        })
        .collect();
    let summary = if report.changes.is_empty() {
        "no value changed".to_string()
    } else {
        format!(
            "{} value(s) changed, added or removed; {} unchanged",
            report.changes.len(),
            report.unchanged
        )
    };
    Ok(Against {
        rev: rev.to_string(),
        marks,
        removed,
        keys,
        summary,
    })
}
