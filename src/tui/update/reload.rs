//! Reloading a file that changed on disk: the new content replaces the old, and unsaved work
//! is carried over where it does not clash. Value edits are merged three ways (the file as
//! last read or saved, the editor's documents, the file now on disk); staged recipient
//! changes are staged again. What cannot be carried is listed for the user.

use crate::edit::forget_node_ciphertext;
use crate::edit::merge::{self, Reapply};
use crate::edit::ops::{self, Addr, Item, Op};
use crate::path::{Step, TreePath};
use crate::tree::{Entry, Map};
use crate::tui::model::{Mode, Model, ReloadReport, Source};
use crate::tui::update::edit::commit;

/// The file was read again from disk.
pub fn reloaded(m: &mut Model, source: Source) {
    let keep = m.selected_addr();
    let carried = carry_over(m, &source);
    let staged = m.key_manager.plan.changes().to_vec();
    m.source = source;
    m.history = Default::default();
    // The file as read now is the saved state the net review compares with.
    m.saved_leaves = None;
    m.revealed.clear();
    m.disk_changed = false;
    m.mode = Mode::Normal;
    m.read_only = None;
    m.check_integrity();
    let md = m.source.metadata().clone();
    m.key_manager.reset(&md);
    m.rebuild_rows();

    let mut report = ReloadReport::default();
    match carried {
        Ok(None) => {}
        Ok(Some(_)) if m.read_only.is_some() => report
            .dropped
            .push("your unsaved edits: the reloaded file is read-only".into()),
        Ok(Some(merged)) => {
            for change in merged.reapply {
                let place = describe(m, &change);
                if reapply(m, change) {
                    report.kept += 1;
                } else {
                    report
                        .dropped
                        .push(format!("{place}: no longer fits the file"));
                }
            }
            for (doc, path) in merged.conflicts {
                report.dropped.push(format!(
                    "{}: changed on disk too",
                    place_text(m, doc, &path)
                ));
            }
        }
        Err(why) => report.dropped.push(why),
    }
    for change in staged {
        match m.key_manager.plan.stage(change) {
            Ok(()) => report.kept += 1,
            Err(why) => report.dropped.push(format!("recipients: {why}")),
        }
    }
    m.rebuild_rows();
    if let Some(a) = keep {
        m.select_addr(&a);
    }
    m.clamp();
    let kept = match report.kept {
        0 => String::new(),
        1 => "; kept your 1 unsaved change".into(),
        n => format!("; kept your {n} unsaved changes"),
    };
    m.info(format!("reloaded {} from disk{kept}", m.file.name));
    if !report.dropped.is_empty() && matches!(m.mode, Mode::Normal) {
        m.mode = Mode::Reloaded(Box::new(report));
    }
}

/// Our unsaved value edits against the file as last read or saved, merged onto `theirs`.
fn carry_over(m: &Model, theirs: &Source) -> Result<Option<merge::Merge>, String> {
    if !m.history.dirty() {
        return Ok(None);
    }
    let lost = || {
        "your unsaved edits: undone past the last save, they cannot be compared with the disk"
            .to_string()
    };
    let back = m.history.ops_back_to_save().ok_or_else(lost)?;
    let mut base: Vec<Map> = m.docs().to_vec();
    for op in back {
        let doc = base.get_mut(op.addr().doc).ok_or_else(lost)?;
        ops::apply(doc, op.clone()).map_err(|_| lost())?;
    }
    Ok(Some(merge::three_way(&base, m.docs(), theirs.docs())))
}

fn place_text(m: &Model, doc: usize, path: &TreePath) -> String {
    let text = if path.is_empty() {
        "the whole document".to_string()
    } else {
        path.to_string()
    };
    if m.docs().len() > 1 {
        format!("document {} {text}", doc + 1)
    } else {
        text
    }
}

fn describe(m: &Model, change: &Reapply) -> String {
    match change {
        Reapply::Set { doc, path, .. } | Reapply::Remove { doc, path } => place_text(m, *doc, path),
        Reapply::Add {
            doc, parent, key, ..
        } => {
            let mut p = parent.clone();
            p.0.push(Step::Key(key.clone()));
            place_text(m, *doc, &p)
        }
    }
}

/// Redoes one of our edits on the reloaded documents as an undoable step.
fn reapply(m: &mut Model, change: Reapply) -> bool {
    let label = format!("{} (kept over a reload)", describe(m, &change));
    match change {
        Reapply::Set {
            doc,
            path,
            mut value,
        } => {
            let Some(items) = m.docs().get(doc).and_then(|d| ops::addr_of(d, &path)) else {
                return false;
            };
            // Its ciphertexts were made for the old file (perhaps another data key).
            forget_node_ciphertext(&mut value);
            let item = match path.0.last() {
                Some(Step::Key(key)) => Item::Entry(Entry {
                    key: key.clone(),
                    value,
                }),
                _ => Item::Node(value),
            };
            let at = Addr::new(doc, items);
            commit(
                m,
                Op::Replace {
                    at: at.clone(),
                    item,
                },
                format!("changed {label}"),
                at,
                true,
            )
        }
        Reapply::Add {
            doc,
            parent,
            key,
            mut value,
            after,
        } => {
            let Some(map) = m.docs().get(doc).and_then(|d| map_at(d, &parent)) else {
                return false;
            };
            let pos = merge::position_after(map, after.as_deref());
            let Some(parent_items) = m.docs().get(doc).and_then(|d| ops::addr_of(d, &parent))
            else {
                return false;
            };
            forget_node_ciphertext(&mut value);
            let at = Addr::new(doc, parent_items).child(pos);
            commit(
                m,
                Op::Insert {
                    at: at.clone(),
                    item: Item::Entry(Entry { key, value }),
                },
                format!("added {label}"),
                at,
                true,
            )
        }
        Reapply::Remove { doc, path } => {
            let Some(items) = m.docs().get(doc).and_then(|d| ops::addr_of(d, &path)) else {
                return false;
            };
            let at = Addr::new(doc, items);
            commit(
                m,
                Op::Remove { at: at.clone() },
                format!("deleted {label}"),
                at.parent(),
                false,
            )
        }
    }
}

/// The map at `path` (the document itself for the empty path).
fn map_at<'a>(doc: &'a Map, path: &TreePath) -> Option<&'a Map> {
    if path.is_empty() {
        return Some(doc);
    }
    let items = ops::addr_of(doc, path)?;
    ops::item_at(doc, &items)?.node()?.as_map()
}
