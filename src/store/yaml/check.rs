//! sops compat: before building its tree, sops decodes the first document into a Go
//! `map[string]interface{}`. That pass is what rejects duplicate keys, bad merge keys, alias
//! cycles and badly tagged values, so it is reproduced here for the first document only.

use super::compose::{Kind, MAX_DEPTH, NO_NODE, Stream};
use super::resolve::resolve_tagged;
use crate::gotext::go_quote;
use base64::Engine;
use std::collections::{HashMap, HashSet};

/// What the value is being decoded into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The document root: `map[string]interface {}`.
    StringMap,
    /// Any nested value: `interface {}`.
    Any,
    /// A key of a string map.
    Str,
}

struct Checker<'s, 'a> {
    stream: &'s Stream<'a>,
    errors: Vec<String>,
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    active: HashSet<usize>,
    depth: usize,
    /// The duplicate-key reports of each mapping already checked: an alias decodes its
    /// mapping again, and the report must not be worked out again each time.
    duplicates: HashMap<usize, Duplicates>,
    /// Errors past `MAX_REPORTED`, counted but not kept.
    unlisted: usize,
}

/// Duplicate-key lines kept in one error: a crafted file could otherwise ask for millions.
const MAX_REPORTED: usize = 100;

/// One mapping's duplicate keys: the first `MAX_REPORTED` report lines, and how many in all.
#[derive(Clone, Default)]
struct Duplicates {
    lines: Vec<String>,
    total: usize,
}

/// Runs go-yaml's decoding checks on one document; the error is go-yaml's message.
pub(super) fn check_document(stream: &Stream<'_>, doc: usize) -> Result<(), String> {
    let mut c = Checker::new(stream);
    if let Some(&root) = stream.content(doc).first() {
        c.unmarshal(root, Target::StringMap)?;
    }
    c.outcome()
}

/// The checks `check_document` makes of one pair of a root mapping, for a root read pair by
/// pair. The root's own checks (duplicate keys, merge keys) are the caller's.
pub(super) fn check_root_pair(stream: &Stream<'_>, key: usize, value: usize) -> Result<(), String> {
    let mut c = Checker::new(stream);
    if c.unmarshal(key, Target::Str)? {
        c.unmarshal(value, Target::Any)?;
    }
    c.outcome()
}

/// go-yaml's limit on alias expansion, against "billion laughs" documents.
fn allowed_alias_ratio(decode_count: usize) -> f64 {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let n = decode_count as f64;
    if n <= LOW {
        0.99
    } else if n >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((n - LOW) / (HIGH - LOW))
    }
}

impl<'s, 'a> Checker<'s, 'a> {
    fn new(stream: &'s Stream<'a>) -> Self {
        Checker {
            stream,
            errors: Vec::new(),
            decode_count: 0,
            alias_count: 0,
            alias_depth: 0,
            active: HashSet::new(),
            depth: 0,
            duplicates: HashMap::new(),
            unlisted: 0,
        }
    }

    /// The errors reported, as go-yaml's one message.
    fn outcome(mut self) -> Result<(), String> {
        if self.errors.is_empty() {
            return Ok(());
        }
        if self.unlisted > 0 {
            self.errors
                .push(format!("({} more errors not listed)", self.unlisted));
        }
        Err(format!(
            "yaml: unmarshal errors:\n  {}",
            self.errors.join("\n  ")
        ))
    }

    /// Keeps an error line, or only counts it once `MAX_REPORTED` are kept.
    fn report(&mut self, line: String) {
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(line);
        } else {
            self.unlisted += 1;
        }
    }

    fn type_error(&mut self, id: usize, into: &str) {
        let n = &self.stream.nodes[id];
        let tag = self.stream.short_tag(id);
        // sops compat: go-yaml quotes part of the value here; sesame leaves it out so that no
        // plaintext reaches an error message.
        let line = format!("line {}: cannot unmarshal {tag} into {into}", n.line);
        self.report(line);
    }

    fn unmarshal(&mut self, id: usize, target: Target) -> Result<bool, String> {
        if self.depth >= 2 * MAX_DEPTH {
            return Err(format!(
                "yaml: nesting deeper than {MAX_DEPTH} levels is not supported"
            ));
        }
        self.depth += 1;
        let r = self.unmarshal_inner(id, target);
        self.depth -= 1;
        r
    }

    fn unmarshal_inner(&mut self, id: usize, target: Target) -> Result<bool, String> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err("yaml: document contains excessive aliasing".into());
        }
        let n = &self.stream.nodes[id];
        match n.kind {
            Kind::Alias => {
                if !self.active.insert(id) {
                    let name = self.stream.value(id);
                    return Err(format!("yaml: anchor '{name}' value contains itself"));
                }
                self.alias_depth += 1;
                let ok = if n.alias() == NO_NODE {
                    true
                } else {
                    self.unmarshal(n.alias(), target)?
                };
                self.alias_depth -= 1;
                self.active.remove(&id);
                Ok(ok)
            }
            Kind::Scalar => self.scalar(id, target),
            Kind::Sequence => match target {
                Target::StringMap => {
                    self.type_error(id, "map[string]interface {}");
                    Ok(false)
                }
                Target::Str => {
                    self.type_error(id, "string");
                    Ok(false)
                }
                Target::Any => {
                    for &item in self.stream.content(id) {
                        self.unmarshal(item, Target::Any)?;
                    }
                    Ok(true)
                }
            },
            Kind::Mapping => {
                if target == Target::Str {
                    self.type_error(id, "string");
                    return Ok(false);
                }
                self.mapping(id)
            }
            Kind::Document => Ok(true),
        }
    }

    fn scalar(&mut self, id: usize, target: Target) -> Result<bool, String> {
        let n = &self.stream.nodes[id];
        let tag = self.stream.tag(id);
        let is_str = tag == "!!str";
        if !is_str && tag == "!!binary" {
            let cleaned: String = self
                .stream
                .value(id)
                .chars()
                .filter(|c| !matches!(c, '\n' | '\r'))
                .collect();
            if base64::engine::general_purpose::STANDARD
                .decode(cleaned)
                .is_err()
            {
                return Err("yaml: !!binary value contains invalid base64 data".into());
            }
        } else if !is_str
            && n.tagged
            && let Err(msg) = resolve_tagged(tag, self.stream.value(id))
        {
            // The message names the value; keep only the tags.
            let redacted = msg.split('`').step_by(2).collect::<Vec<_>>().join("value");
            return Err(format!("yaml: line {}: {redacted}", n.line));
        }
        if target == Target::StringMap && self.stream.short_tag(id) != "!!null" {
            self.type_error(id, "map[string]interface {}");
            return Ok(false);
        }
        Ok(true)
    }

    fn is_merge(&self, id: usize) -> bool {
        let n = &self.stream.nodes[id];
        n.kind == Kind::Scalar
            && self.stream.value(id) == "<<"
            && matches!(self.stream.tag(id), "" | "!!merge")
    }

    fn mapping(&mut self, id: usize) -> Result<bool, String> {
        let nodes = &self.stream.nodes;
        let content = self.stream.content(id);
        let report = match self.duplicates.get(&id) {
            Some(report) => report.clone(),
            None => {
                let report = duplicate_keys(self.stream, content);
                self.duplicates.insert(id, report.clone());
                report
            }
        };
        if report.total > 0 {
            // sops compat: go-yaml reports a mapping's duplicates again at every alias of it.
            self.unlisted += report.total - report.lines.len();
            for line in report.lines {
                self.report(line);
            }
            return Ok(false);
        }
        let mut merge = None;
        for pair in content.chunks(2) {
            let (k, v) = (pair[0], pair[1]);
            if self.is_merge(k) {
                merge = Some(v);
                continue;
            }
            let kn = &nodes[k];
            let key_kind = match kn.kind {
                Kind::Alias if kn.alias() != NO_NODE => nodes[kn.alias()].kind,
                other => other,
            };
            if matches!(key_kind, Kind::Mapping | Kind::Sequence) {
                // A collection key: go-yaml cannot decode it into a string key.
                self.unmarshal(k, Target::Str)?;
                continue;
            }
            if self.unmarshal(k, Target::Str)? {
                self.unmarshal(v, Target::Any)?;
            }
        }
        if let Some(m) = merge {
            self.merge(m)?;
        }
        Ok(true)
    }

    fn merge(&mut self, m: usize) -> Result<(), String> {
        const WANT_MAP: &str = "yaml: map merge requires map or sequence of maps as the value";
        let nodes = &self.stream.nodes;
        let is_map = |id: usize| {
            let n = &nodes[id];
            match n.kind {
                Kind::Mapping => true,
                Kind::Alias => n.alias() == NO_NODE || nodes[n.alias()].kind == Kind::Mapping,
                _ => false,
            }
        };
        match nodes[m].kind {
            Kind::Mapping | Kind::Alias => {
                if !is_map(m) {
                    return Err(WANT_MAP.into());
                }
                self.unmarshal(m, Target::Any)?;
            }
            Kind::Sequence => {
                for &item in self.stream.content(m) {
                    if !is_map(item) {
                        return Err(WANT_MAP.into());
                    }
                    self.unmarshal(item, Target::Any)?;
                }
            }
            _ => return Err(WANT_MAP.into()),
        }
        Ok(())
    }
}

/// go-yaml's duplicate check: keys of the same kind with the same text, reported for every
/// later duplicate of every key, in key order. Linear in the keys (plus the lines reported,
/// at most `MAX_REPORTED`).
fn duplicate_keys(stream: &Stream<'_>, content: &[usize]) -> Duplicates {
    let nodes = &stream.nodes;
    let id = |k: usize| (nodes[k].kind as u8, stream.value(k));
    let n = content.len() / 2;
    let mut out = Duplicates::default();
    // Nearly every map has no duplicate: one set of its keys says so, without a list per key.
    // foldhash is seeded at random per process, so crafted keys cannot be made to collide.
    let mut seen: HashSet<(u8, &str), foldhash::fast::RandomState> =
        HashSet::with_capacity_and_hasher(n, Default::default());
    if (0..n).all(|i| seen.insert(id(content[2 * i]))) {
        return out;
    }
    let mut positions: HashMap<(u8, &str), Vec<usize>> = HashMap::with_capacity(n);
    for i in 0..n {
        positions.entry(id(content[2 * i])).or_default().push(i);
    }
    for i in 0..n {
        let ki = content[2 * i];
        let same = &positions[&id(ki)];
        let later = same.partition_point(|&j| j <= i);
        out.total += same.len() - later;
        for &j in &same[later..] {
            if out.lines.len() == MAX_REPORTED {
                break;
            }
            let kj = content[2 * j];
            out.lines.push(format!(
                "line {}: mapping key {} already defined at line {}",
                nodes[kj].line,
                go_quote(stream.value(ki)),
                nodes[ki].line
            ));
        }
    }
    out
}
