//! Moving around: cursor steps, collapse and expand, reveal, and key-path search (which looks
//! through collapsed parts too and opens the way to a match).

use crate::edit::ops::Addr;
use crate::tree::{ListItem, Map, MapItem, Node};
use crate::tui::model::Model;
use crate::tui::rows::RowKind;

/// Moves the cursor by `delta` rows (clamped).
pub fn step(m: &mut Model, delta: isize) {
    let n = m.rows.len() as isize;
    if n == 0 {
        return;
    }
    m.cursor = (m.cursor as isize).saturating_add(delta).clamp(0, n - 1) as usize;
    m.clamp();
}

fn is_container(kind: RowKind) -> bool {
    matches!(kind, RowKind::Map | RowKind::List | RowKind::Doc)
}

/// Collapses the selected container, or goes to the parent row.
pub fn collapse(m: &mut Model) {
    let Some(row) = m.rows.get(m.cursor).copied() else {
        return;
    };
    if is_container(row.kind) && !row.collapsed {
        let addr = m
            .rows
            .addr(m.cursor)
            .unwrap_or_else(|| Addr::new(row.doc as usize, Vec::new()));
        m.collapsed.insert(addr);
        m.rebuild_rows();
    } else if let Some(p) = m.rows.parent(m.cursor) {
        m.cursor = p;
        m.clamp();
    }
}

/// Expands the selected container, or steps into an expanded one.
pub fn expand(m: &mut Model) {
    let Some(row) = m.rows.get(m.cursor).copied() else {
        return;
    };
    if !is_container(row.kind) {
        return;
    }
    if row.collapsed {
        let addr = m
            .rows
            .addr(m.cursor)
            .unwrap_or_else(|| Addr::new(row.doc as usize, Vec::new()));
        m.collapsed.remove(&addr);
        m.rebuild_rows();
    } else if m.rows.parent(m.cursor + 1) == Some(m.cursor) {
        step(m, 1);
    }
}

/// Reveals or masks the selected value.
pub fn reveal(m: &mut Model) {
    let Some(row) = m.rows.get(m.cursor).copied() else {
        return;
    };
    if !matches!(row.kind, RowKind::Leaf | RowKind::Comment) {
        m.info("select a value to reveal it (V reveals all)");
        return;
    }
    let Some(addr) = m.selected_addr() else {
        return;
    };
    if m.reveal_all {
        // Masking one value while all are shown: stop showing all, keep the others.
        m.info("V masks all values again");
        return;
    }
    if !m.revealed.remove(&addr) {
        m.revealed.insert(addr);
    }
}

/// Jumps to the next (or previous) match of the current search.
pub fn search_step(m: &mut Model, forward: bool) {
    let Some(query) = m.search.clone() else {
        m.info("no search yet: press / to search key paths");
        return;
    };
    let from = m.selected_addr();
    match find(m.docs(), &query, from.as_ref(), forward) {
        Some(addr) => {
            show(m, &addr);
            m.info(format!("/{query}"));
        }
        None => m.error(format!("no key path matches {query:?}")),
    }
}

/// Selects `addr`, expanding its collapsed ancestors.
pub fn show(m: &mut Model, addr: &Addr) {
    let before = m.collapsed.len();
    // Every collapsed ancestor (the document row included) opens; the target may stay closed.
    m.collapsed.retain(|c| !(addr.starts_with(c) && c != addr));
    if m.collapsed.len() != before {
        m.rebuild_rows();
    }
    m.select_addr(addr);
    m.clamp();
}

/// The first address after (or before) `from` whose dotted key path contains `query`
/// (case-insensitive), wrapping around.
pub fn find(docs: &[Map], query: &str, from: Option<&Addr>, forward: bool) -> Option<Addr> {
    let q = query.to_lowercase();
    let mut hits = Vec::new();
    let mut path = String::new();
    for (d, doc) in docs.iter().enumerate() {
        let mut addr = Addr::new(d, Vec::new());
        walk_map(doc, &mut addr, &mut path, &q, &mut hits);
    }
    if hits.is_empty() {
        return None;
    }
    let pick = match (from, forward) {
        (None, true) => hits.first(),
        (None, false) => hits.last(),
        (Some(f), true) => hits.iter().find(|h| *h > f).or(hits.first()),
        (Some(f), false) => hits.iter().rev().find(|h| *h < f).or(hits.last()),
    };
    pick.cloned()
}

/// `path` is kept lower-case as it is built, so checking a node allocates nothing.
fn check(path: &str, q: &str, addr: &Addr, hits: &mut Vec<Addr>) {
    if path.contains(q) {
        hits.push(addr.clone());
    }
}

fn walk_map(map: &Map, addr: &mut Addr, path: &mut String, q: &str, hits: &mut Vec<Addr>) {
    for (pos, item) in map.items.iter().enumerate() {
        if let MapItem::Entry(e) = item {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.extend(e.key.chars().flat_map(char::to_lowercase));
            addr.items.push(pos);
            check(path, q, addr, hits);
            walk_node(&e.value, addr, path, q, hits);
            addr.items.pop();
            path.truncate(len);
        }
    }
}

fn walk_node(node: &Node, addr: &mut Addr, path: &mut String, q: &str, hits: &mut Vec<Addr>) {
    match node {
        Node::Map(m) => walk_map(m, addr, path, q, hits),
        Node::List(l) => {
            let mut index = 0;
            for (pos, item) in l.items.iter().enumerate() {
                if let ListItem::Node(n) = item {
                    let len = path.len();
                    use std::fmt::Write;
                    let _ = write!(path, "[{index}]");
                    addr.items.push(pos);
                    check(path, q, addr, hits);
                    walk_node(n, addr, path, q, hits);
                    addr.items.pop();
                    path.truncate(len);
                    index += 1;
                }
            }
        }
        Node::Leaf(_) => {}
    }
}
