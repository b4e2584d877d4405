//! Three-way merge of unsaved edits onto a file that changed on disk: `base` is the file as
//! last read or saved, `ours` the editor's documents, `theirs` the file now on disk. Every
//! place we changed is carried over where the disk left it as it was (or made the same
//! change); where both changed it differently, the disk wins and the place is reported.

use crate::edit::same_content;
use crate::path::{Step, TreePath};
use crate::tree::{Map, Node};
use std::collections::HashMap;

/// One of our edits, to redo on the reloaded documents.
#[derive(Clone, Debug, PartialEq)]
pub enum Reapply {
    /// Put `value` at `path` in place of what is there.
    Set {
        doc: usize,
        path: TreePath,
        value: Node,
    },
    /// Add `key` to the map at `parent`, right after the entry `after` (else at its end).
    Add {
        doc: usize,
        parent: TreePath,
        key: String,
        value: Node,
        after: Option<String>,
    },
    Remove {
        doc: usize,
        path: TreePath,
    },
}

/// Where `Reapply::Add` inserts into `map`: right after the entry `after`, else at the end.
pub fn position_after(map: &Map, after: Option<&str>) -> usize {
    after
        .and_then(|a| {
            map.items
                .iter()
                .position(|i| matches!(i, crate::tree::MapItem::Entry(e) if e.key == a))
        })
        .map_or(map.items.len(), |p| p + 1)
}

/// What carries over and what conflicts.
#[derive(Debug, Default)]
pub struct Merge {
    pub reapply: Vec<Reapply>,
    /// Places both sides changed differently (the disk's version stays), by document.
    pub conflicts: Vec<(usize, TreePath)>,
}

/// Merges our changes (from `base` to `ours`) onto `theirs`.
pub fn three_way(base: &[Map], ours: &[Map], theirs: &[Map]) -> Merge {
    let mut out = Merge::default();
    let docs = base.len().max(ours.len());
    for doc in 0..docs {
        match (base.get(doc), ours.get(doc), theirs.get(doc)) {
            (Some(b), Some(o), Some(t)) => merge_maps(doc, &TreePath::default(), b, o, t, &mut out),
            (b, o, _) if maps_equal(b, o) => {}
            _ => out.conflicts.push((doc, TreePath::default())),
        }
    }
    out
}

fn maps_equal(a: Option<&Map>, b: Option<&Map>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => map_same(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn map_same(a: &Map, b: &Map) -> bool {
    same_content(&Node::Map(a.clone()), &Node::Map(b.clone()))
}

fn opt_same(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_content(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn child(path: &TreePath, step: Step) -> TreePath {
    let mut p = path.clone();
    p.0.push(step);
    p
}

/// A map's values by key (maps may be large and flat: no linear lookups).
fn index(map: &Map) -> HashMap<&str, &Node> {
    map.entries().map(|e| (e.key.as_str(), &e.value)).collect()
}

fn merge_maps(doc: usize, path: &TreePath, base: &Map, ours: &Map, theirs: &Map, out: &mut Merge) {
    let (base_ix, ours_ix, theirs_ix) = (index(base), index(ours), index(theirs));
    // Our keys in our order, then the ones we deleted.
    let mut previous: Option<&str> = None;
    for entry in ours.entries() {
        let key = entry.key.as_str();
        merge_node(
            doc,
            &child(path, Step::Key(entry.key.clone())),
            base_ix.get(key).copied(),
            Some(&entry.value),
            theirs_ix.get(key).copied(),
            previous.map(str::to_string),
            out,
        );
        previous = Some(key);
    }
    for entry in base.entries() {
        let key = entry.key.as_str();
        if ours_ix.contains_key(key) {
            continue;
        }
        merge_node(
            doc,
            &child(path, Step::Key(entry.key.clone())),
            Some(&entry.value),
            None,
            theirs_ix.get(key).copied(),
            None,
            out,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn merge_node(
    doc: usize,
    path: &TreePath,
    base: Option<&Node>,
    ours: Option<&Node>,
    theirs: Option<&Node>,
    after: Option<String>,
    out: &mut Merge,
) {
    if opt_same(base, ours) || opt_same(ours, theirs) {
        return; // we did not change it, or both made the same change
    }
    if opt_same(base, theirs) {
        // Only we changed it.
        let change = match (ours, theirs) {
            (None, _) => Reapply::Remove {
                doc,
                path: path.clone(),
            },
            (Some(value), Some(_)) => Reapply::Set {
                doc,
                path: path.clone(),
                value: value.clone(),
            },
            (Some(value), None) => {
                let mut parent = path.clone();
                let Some(Step::Key(key)) = parent.0.pop() else {
                    out.conflicts.push((doc, path.clone()));
                    return;
                };
                Reapply::Add {
                    doc,
                    parent,
                    key,
                    value: value.clone(),
                    after,
                }
            }
        };
        out.reapply.push(change);
        return;
    }
    // Both changed it: look inside containers both still have.
    match (base, ours, theirs) {
        (Some(Node::Map(b)), Some(Node::Map(o)), Some(Node::Map(t))) => {
            merge_maps(doc, path, b, o, t, out)
        }
        (Some(Node::List(b)), Some(Node::List(o)), Some(Node::List(t)))
            if b.values().count() == o.values().count()
                && o.values().count() == t.values().count() =>
        {
            let items = b.values().zip(o.values()).zip(t.values());
            for (i, ((b, o), t)) in items.enumerate() {
                let at = child(path, Step::Index(i));
                merge_node(doc, &at, Some(b), Some(o), Some(t), None, out);
            }
        }
        _ => out.conflicts.push((doc, path.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Format, parse_plain};

    fn docs(yaml: &str) -> Vec<Map> {
        parse_plain(Format::Yaml, yaml.as_bytes()).unwrap().docs
    }

    fn path(text: &str) -> TreePath {
        TreePath::parse(text).unwrap()
    }

    #[test]
    fn our_changes_carry_over_where_the_disk_did_not_touch_them() {
        let base = docs("a: 1\nb: {x: 1, y: 2}\nc: [1, 2]\nd: gone\n");
        let ours = docs("a: 10\nb: {x: 1, y: 20}\nc: [1, 3]\nnew: v\n");
        let theirs = docs("a: 1\nb: {x: 5, y: 2}\nc: [1, 2]\nd: gone\ne: theirs\n");
        let m = three_way(&base, &ours, &theirs);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        let places: Vec<String> = m
            .reapply
            .iter()
            .map(|r| match r {
                Reapply::Set { path, .. } => format!("set {path}"),
                Reapply::Add {
                    parent, key, after, ..
                } => {
                    format!("add {parent}[{key:?}] after {after:?}")
                }
                Reapply::Remove { path, .. } => format!("remove {path}"),
            })
            .collect();
        assert_eq!(
            places,
            [
                r#"set ["a"]"#,
                r#"set ["b"]["y"]"#,
                r#"set ["c"]"#,
                r#"add ["new"] after Some("c")"#,
                r#"remove ["d"]"#,
            ]
        );
    }

    #[test]
    fn places_both_changed_differently_are_conflicts_and_same_changes_are_not() {
        let base = docs("a: 1\nb: 1\nc: [1, 2]\nd: 1\n");
        let ours = docs("a: 2\nb: 2\nc: [1, 2, 3]\n");
        let theirs = docs("a: 3\nb: 2\nc: [0, 2]\nd: 5\n");
        let m = three_way(&base, &ours, &theirs);
        assert_eq!(
            m.conflicts,
            vec![
                (0, path(r#"["a"]"#)),
                (0, path(r#"["c"]"#)),
                (0, path(r#"["d"]"#))
            ]
        );
        assert!(m.reapply.is_empty(), "{:?}", m.reapply);
    }

    #[test]
    fn a_flat_map_of_many_keys_merges_in_linear_time() {
        let mut base = Map::new();
        for i in 0..100_000 {
            base.push(format!("k{i}"), Node::string("v"));
        }
        let mut ours = base.clone();
        ours.push("added", Node::string("x"));
        let started = std::time::Instant::now();
        let m = three_way(
            std::slice::from_ref(&base),
            std::slice::from_ref(&ours),
            std::slice::from_ref(&base),
        );
        assert_eq!(m.reapply.len(), 1);
        // Quadratic lookups would take minutes here; linear ones take well under a second
        // even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn nothing_changed_by_us_means_nothing_to_carry() {
        let base = docs("a: 1\n");
        let theirs = docs("a: 2\nb: 3\n");
        let m = three_way(&base, &base, &theirs);
        assert!(m.reapply.is_empty() && m.conflicts.is_empty());
    }
}
