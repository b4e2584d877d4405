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

/// Jumps to the next (or previous) match of the current search, saying which of how many it
/// is and when it wrapped around.
pub fn search_step(m: &mut Model, forward: bool) {
    let Some(query) = m.search.clone() else {
        m.info("no search yet: press / to search keys and values");
        return;
    };
    // Edits since the search may have moved or changed what matches.
    let values = matches!(m.source, crate::tui::model::Source::Doc(_));
    m.search_hits = matches(m.docs(), &query, values);
    if m.search_hits.is_empty() {
        m.error(format!("nothing matches {query:?}"));
        return;
    }
    let from = m.selected_addr();
    let hits = &m.search_hits;
    let next = match (&from, forward) {
        (None, true) => Some(0),
        (None, false) => Some(hits.len() - 1),
        (Some(f), true) => hits.iter().position(|h| h > f),
        (Some(f), false) => hits.iter().rposition(|h| h < f),
    };
    let (i, wrapped) = match next {
        Some(i) => (i, false),
        None if forward => (0, true),
        None => (hits.len() - 1, true),
    };
    let addr = hits[i].clone();
    show(m, &addr);
    let wrap = match (wrapped, forward) {
        (false, _) => "",
        (true, true) => " · wrapped to the top",
        (true, false) => " · wrapped to the bottom",
    };
    m.info(format!(
        "/{query}: {} of {}{wrap}",
        i + 1,
        m.search_hits.len()
    ));
}

/// `F`: only the rows leading to the search's matches, or all rows again.
pub fn toggle_filter(m: &mut Model) {
    if !m.filter && m.search_hits.is_empty() {
        m.info("search first (/), then F shows only what matches");
        return;
    }
    m.filter = !m.filter;
    m.rebuild_rows();
    if m.filter {
        m.info(format!(
            "only the {} match(es) and the keys above them · F shows everything",
            m.search_hits.len()
        ));
    } else {
        m.info("every row shown again");
    }
}

/// Searches as the query is typed: every key path and value that contains it (values in
/// memory only: a match is marked on its key, the value stays masked), the selection on the
/// first match from where the search began, and the count in the status line.
pub fn live_search(m: &mut Model, query: &str) {
    let origin = m.search_origin.clone();
    m.search_hits = if query.is_empty() {
        Vec::new()
    } else {
        let values = matches!(m.source, crate::tui::model::Source::Doc(_));
        matches(m.docs(), query, values)
    };
    if query.is_empty() {
        if let Some(o) = &origin {
            m.select_addr(o);
            m.clamp();
        }
        m.info("type to search keys and values · Enter keeps the match · Esc goes back");
        return;
    }
    if m.filter {
        m.rebuild_rows();
    }
    let first = match &origin {
        Some(o) => m.search_hits.iter().position(|h| h >= o).unwrap_or(0),
        None => 0,
    };
    match m.search_hits.get(first).cloned() {
        Some(addr) => {
            show(m, &addr);
            m.info(format!(
                "{} of {} · Enter keeps it, n/N move · Esc goes back",
                first + 1,
                m.search_hits.len()
            ));
        }
        None => {
            if let Some(o) = &origin {
                m.select_addr(o);
                m.clamp();
            }
            m.error(format!("nothing matches {query:?}"));
        }
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

/// Every address whose dotted key path contains `query`, or (with `values`) whose value
/// does, ignoring ASCII case, in document order.
pub fn matches(docs: &[Map], query: &str, values: bool) -> Vec<Addr> {
    let q = Search {
        text: query.to_lowercase(),
        values,
    };
    let mut hits = Vec::new();
    let mut path = String::new();
    for (d, doc) in docs.iter().enumerate() {
        let mut addr = Addr::new(d, Vec::new());
        walk_map(doc, &mut addr, &mut path, &q, &mut hits);
    }
    hits
}

/// What is searched for.
struct Search {
    /// Lower-case.
    text: String,
    values: bool,
}

/// Whether `hay` contains `needle` (lower-case), ignoring ASCII case, without a copy.
fn contains_folded(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay.windows(needle.len()).any(|w| {
            w.iter()
                .zip(needle)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        })
}

/// Whether a value's text contains the query (numbers and booleans as they are written).
fn value_matches(node: &Node, q: &Search) -> bool {
    match node {
        Node::Leaf(leaf) if q.values => match &leaf.value {
            crate::tree::Scalar::Str(s) => contains_folded(s.expose(), q.text.as_bytes()),
            other => contains_folded(
                crate::edit::value::text_of(other).expose(),
                q.text.as_bytes(),
            ),
        },
        _ => false,
    }
}

/// `path` is kept lower-case as it is built, so checking a node allocates nothing.
fn check(path: &str, node: &Node, q: &Search, addr: &Addr, hits: &mut Vec<Addr>) {
    if path.contains(&q.text) || value_matches(node, q) {
        hits.push(addr.clone());
    }
}

fn walk_map(map: &Map, addr: &mut Addr, path: &mut String, q: &Search, hits: &mut Vec<Addr>) {
    for (pos, item) in map.items.iter().enumerate() {
        if let MapItem::Entry(e) = item {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.extend(e.key.chars().flat_map(char::to_lowercase));
            addr.items.push(pos);
            check(path, &e.value, q, addr, hits);
            walk_node(&e.value, addr, path, q, hits);
            addr.items.pop();
            path.truncate(len);
        }
    }
}

fn walk_node(node: &Node, addr: &mut Addr, path: &mut String, q: &Search, hits: &mut Vec<Addr>) {
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
                    check(path, n, q, addr, hits);
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
