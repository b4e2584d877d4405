//! Metadata flattening for the flat formats (dotenv, INI; spec §6.4) and the Go text forms those
//! stores share: `ValToString` (§7.6), `%v` and `%q`.

use crate::gotext::{self, go_quote};
use crate::secret::SecretBuf;
use crate::store::StoreError;
use crate::store::json::MAX_DEPTH;
use crate::tree::{ListItem, Map, MapItem, Node, Scalar};
use std::collections::{BTreeMap, HashSet};

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

/// Flattens a metadata tree depth-first in its own order: `prefix` + key at the root,
/// `__map_<key>` and `__list_<i>` below. Empty maps and lists produce nothing. Each scalar comes
/// back with its full name.
pub fn flatten<'a>(md: &'a Map, prefix: &str) -> Result<Vec<(String, &'a Scalar)>, StoreError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    flatten_map(md, 0, prefix, &mut out, &mut seen)?;
    Ok(out)
}

fn flatten_map<'a>(
    map: &'a Map,
    depth: usize,
    prefix: &str,
    out: &mut Vec<(String, &'a Scalar)>,
    seen: &mut HashSet<String>,
) -> Result<(), StoreError> {
    for entry in map.entries() {
        flatten_value(
            &entry.value,
            depth + 1,
            format!("{prefix}{}", entry.key),
            out,
            seen,
        )?;
    }
    Ok(())
}

fn flatten_value<'a>(
    value: &'a Node,
    depth: usize,
    name: String,
    out: &mut Vec<(String, &'a Scalar)>,
    seen: &mut HashSet<String>,
) -> Result<(), StoreError> {
    if depth > MAX_DEPTH {
        return Err(StoreError::Emit(
            "Error marshaling metadata: exceeded max depth".into(),
        ));
    }
    match value {
        Node::Map(m) => flatten_map(m, depth, &format!("{name}{MAP_SEP}"), out, seen),
        Node::List(l) => {
            for (i, v) in l.values().enumerate() {
                flatten_value(v, depth + 1, format!("{name}{LIST_SEP}{i}"), out, seen)?;
            }
            Ok(())
        }
        Node::Leaf(leaf) => {
            if !seen.insert(name.clone()) {
                return Err(StoreError::Emit(format!(
                    "Error marshaling metadata: Error while flattening metadata: Found key \
                     collision {} while flattening",
                    go_quote(&name)
                )));
            }
            out.push((name, &leaf.value));
            Ok(())
        }
    }
}

/// One step of a flattened name.
enum Token<'a> {
    Key(&'a str),
    Index(i64),
}

/// sops `tokenize`: splits a name at every `__map_`/`__list_` marker.
fn tokenize<'a>(path: &'a str) -> Vec<Token<'a>> {
    #[derive(PartialEq)]
    enum St {
        Normal,
        Map,
        List,
    }
    let mut tokens = Vec::new();
    let mut state = St::Normal;
    let mut last = 0;
    let mut i = 0;
    let finish = |tokens: &mut Vec<Token<'a>>, state: &St, last: usize, i: usize| match state {
        St::Normal => tokens.push(Token::Key(&path[last..i])),
        St::Map => tokens.push(Token::Key(&path[last + MAP_SEP.len()..i])),
        // sops compat: `strconv.Atoi` errors are ignored, giving index 0.
        St::List => tokens.push(Token::Index(atoi(&path[last + LIST_SEP.len()..i]))),
    };
    while i < path.len() {
        if path[i..].starts_with(MAP_SEP) {
            finish(&mut tokens, &state, last, i);
            last = i;
            state = St::Map;
            i += MAP_SEP.len();
        } else if path[i..].starts_with(LIST_SEP) {
            finish(&mut tokens, &state, last, i);
            last = i;
            state = St::List;
            i += LIST_SEP.len();
        } else {
            i += path[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(&mut tokens, &state, last, i);
    tokens
}

/// Go `strconv.Atoi` as sops uses it: 0 on syntax errors, clamped on overflow.
fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse().unwrap_or(if s.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A node of the tree being rebuilt.
#[derive(Default)]
struct Slot {
    value: Option<Node>,
    keys: BTreeMap<String, Slot>,
    indices: BTreeMap<i64, Slot>,
}

/// sops `unflattenTreeBranch`: rebuilds the metadata record from `(name, value)` pairs, maps
/// sorted by key, lists from `__list_0..n-1`.
pub fn unflatten(items: Vec<(String, Node)>) -> Result<Map, StoreError> {
    let mut root = Slot::default();
    for (name, value) in items {
        let tokens = tokenize(&name);
        // Deeper names could not be rebuilt (nor dropped) without deep recursion.
        if tokens.len() > MAX_DEPTH {
            return Err(StoreError::Parse(
                "Error while unflattening: exceeded max depth".into(),
            ));
        }
        let mut slot = &mut root;
        for token in tokens {
            slot = match token {
                Token::Key(k) => slot.keys.entry(k.to_string()).or_default(),
                Token::Index(i) => slot.indices.entry(i).or_default(),
            };
        }
        if slot.value.is_some() {
            return Err(StoreError::Parse(format!(
                "Error while unflattening {}: Duplicate value",
                go_quote(&name)
            )));
        }
        slot.value = Some(value);
    }
    match convert(root)? {
        Node::Map(m) => Ok(m),
        _ => Err(StoreError::Parse("Internal error: cannot find root".into())),
    }
}

fn convert(slot: Slot) -> Result<Node, StoreError> {
    let fail = |what: &str| StoreError::Parse(format!("Error while unflattening: {what}"));
    let kinds = [
        slot.value.is_some(),
        !slot.keys.is_empty(),
        !slot.indices.is_empty(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(fail("Type mismatch"));
    }
    if let Some(v) = slot.value {
        return Ok(v);
    }
    if !slot.indices.is_empty() {
        let n = slot.indices.len() as i64;
        let (first, last) = (slot.indices.keys().next(), slot.indices.keys().next_back());
        if first != Some(&0) || last != Some(&(n - 1)) {
            return Err(fail("Incomplete list"));
        }
        let mut list = crate::tree::List::new();
        for (_, s) in slot.indices {
            list.items.push(ListItem::Node(convert(s)?));
        }
        return Ok(Node::List(list));
    }
    // Byte-wise key order, as Go's sort.Strings; an empty slot is an empty map.
    let mut map = Map::new();
    for (k, s) in slot.keys {
        map.push(k, convert(s)?);
    }
    Ok(Node::Map(map))
}

/// sops `ValToString` (spec §7.6): the text of a non-string value in dotenv, INI and exec-env.
pub fn value_text(v: &Scalar) -> SecretBuf {
    let text = match v {
        Scalar::Str(s) => return s.clone(),
        Scalar::Float(f) => gotext::float_text(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => gotext::time_seconds(t),
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Null => "<nil>".into(),
    };
    SecretBuf::from(text)
}

/// Go `fmt.Sprintf("%v", v)` of a sops value: what `ValToString` gives for a list or map that
/// ends up in an INI section.
pub fn go_v(node: &Node, out: &mut Vec<u8>) {
    go_v_at(node, out, 0);
}

fn go_v_at(node: &Node, out: &mut Vec<u8>, depth: usize) {
    if depth > MAX_DEPTH {
        out.extend_from_slice(b"...");
        return;
    }
    match node {
        Node::Leaf(l) => match &l.value {
            Scalar::Str(s) => out.extend_from_slice(s.expose()),
            Scalar::Float(f) => out.extend_from_slice(gotext::float_yaml(*f).as_bytes()),
            Scalar::Time(t) => out.extend_from_slice(gotext::time_nano(t).as_bytes()),
            other => out.extend_from_slice(value_text(other).expose()),
        },
        Node::List(l) => {
            out.push(b'[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                match item {
                    ListItem::Node(n) => go_v_at(n, out, depth + 1),
                    ListItem::Comment(c) => go_comment(c, out),
                }
            }
            out.push(b']');
        }
        Node::Map(m) => {
            out.push(b'[');
            for (i, item) in m.items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.push(b'{');
                match item {
                    MapItem::Entry(e) => {
                        out.extend_from_slice(e.key.as_bytes());
                        out.push(b' ');
                        go_v_at(&e.value, out, depth + 1);
                    }
                    MapItem::Comment(c) => {
                        go_comment(c, out);
                        out.extend_from_slice(b" <nil>");
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
}

fn go_comment(c: &crate::tree::Comment, out: &mut Vec<u8>) {
    out.push(b'{');
    out.extend_from_slice(c.text.expose());
    out.extend_from_slice(if c.inline { b" true}" } else { b" false}" });
}

#[cfg(test)]
mod tests;
