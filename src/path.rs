//! Tree paths in sops's `["key"][0]` syntax, as `--extract`, `set` and `unset` take them, and
//! lookups of them in a tree.

use crate::tree::{ListItem, Map, MapItem, Node};
use std::fmt;

/// One step of a path: a map key or a list index (counting values, not comments).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path from the document root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TreePath(pub Vec<Step>);

/// A path that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct PathSyntaxError(String);

impl TreePath {
    /// Parses `["a"]['b'][0]`.
    ///
    /// sops compat: the text is split at `[`; each piece must end with `]`; a piece starting with
    /// a quote is a key (text between the first and last character, no escapes), anything else
    /// a decimal index.
    pub fn parse(text: &str) -> Result<TreePath, PathSyntaxError> {
        let mut steps = Vec::new();
        for piece in text.split('[').filter(|p| !p.is_empty()) {
            let inner = piece.strip_suffix(']').ok_or_else(|| {
                PathSyntaxError(format!(
                    "component [{piece} is missing its closing ']' (expected a path like [\"key\"][0])"
                ))
            })?;
            if inner.starts_with('"') || inner.starts_with('\'') {
                if inner.len() < 2 {
                    return Err(PathSyntaxError(format!(
                        "component [{inner}] is not a quoted key"
                    )));
                }
                steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
            } else {
                let index = inner.parse().map_err(|_| {
                    PathSyntaxError(format!(
                        "component [{inner}] is neither a quoted key nor a list index"
                    ))
                })?;
                steps.push(Step::Index(index));
            }
        }
        Ok(TreePath(steps))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for TreePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                Step::Key(k) => write!(f, "[\"{k}\"]")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Why a path does not lead to a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    #[error("component [{0:?}] not found")]
    KeyNotFound(String),
    #[error("component [{0}] is integer, but tree part is not a slice")]
    NotAList(usize),
    #[error("component [{0}] accesses out of bounds")]
    OutOfBounds(usize),
    #[error("component [{0:?}] is a key, but tree part is not a map")]
    NotAMap(String),
}

/// The value at `path` in a document (the empty path is the document itself).
pub enum Found<'a> {
    Document(&'a Map),
    Node(&'a Node),
}

/// Follows `path` from a document root.
pub fn lookup<'a>(doc: &'a Map, path: &TreePath) -> Result<Found<'a>, LookupError> {
    let mut current: Found<'a> = Found::Document(doc);
    for step in &path.0 {
        let map_of = |f: &Found<'a>| -> Option<&'a Map> {
            match f {
                Found::Document(m) => Some(m),
                Found::Node(Node::Map(m)) => Some(m),
                _ => None,
            }
        };
        current = match step {
            Step::Key(k) => {
                let map = map_of(&current).ok_or_else(|| LookupError::NotAMap(k.clone()))?;
                let node = map
                    .items
                    .iter()
                    .find_map(|item| match item {
                        MapItem::Entry(e) if &e.key == k => Some(&e.value),
                        _ => None,
                    })
                    .ok_or_else(|| LookupError::KeyNotFound(k.clone()))?;
                Found::Node(node)
            }
            Step::Index(i) => {
                let Found::Node(Node::List(list)) = current else {
                    return Err(LookupError::NotAList(*i));
                };
                let node = list
                    .items
                    .iter()
                    .filter_map(|item| match item {
                        ListItem::Node(n) => Some(n),
                        ListItem::Comment(_) => None,
                    })
                    .nth(*i)
                    .ok_or(LookupError::OutOfBounds(*i))?;
                Found::Node(node)
            }
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            TreePath::parse(r#"["a"]['b'][0]"#).unwrap().0,
            vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]
        );
        assert!(TreePath::parse("").unwrap().is_empty());
        assert!(TreePath::parse(r#"["a""#).is_err());
        assert!(TreePath::parse("[x]").is_err());
        assert_eq!(
            TreePath::parse(r#"["a"][1]"#).unwrap().to_string(),
            r#"["a"][1]"#
        );
    }

    #[test]
    fn looks_up_values() {
        let mut inner = crate::tree::List::new();
        inner
            .items
            .push(ListItem::Comment(crate::tree::Comment::new("c")));
        inner.items.push(ListItem::Node(Node::string("x")));
        let mut doc = Map::new();
        doc.push("l", Node::List(inner));
        let found = lookup(&doc, &TreePath::parse(r#"["l"][0]"#).unwrap()).unwrap();
        assert!(matches!(found, Found::Node(n) if n.as_str() == Some("x")));
        assert_eq!(
            lookup(&doc, &TreePath::parse(r#"["l"][1]"#).unwrap()).err(),
            Some(LookupError::OutOfBounds(1))
        );
        assert_eq!(
            lookup(&doc, &TreePath::parse(r#"["m"]"#).unwrap()).err(),
            Some(LookupError::KeyNotFound("m".into()))
        );
    }
}
