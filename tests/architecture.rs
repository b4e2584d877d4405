//! The shape of the code, checked: the core library stays free of front-end crates, modules
//! do not import each other in circles, and no import runs back up the layers that `lib.rs`
//! and ARCHITECTURE.md describe.
//!
//! Imports are read from the source text (`use` trees and inline `crate::`/`super::` paths,
//! comments, strings and unit-test modules left out) and resolved to the longest module path
//! that exists as a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's layers, lowest first: a module may import its own layer and the ones below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "secret", "process", "env", "gotext", "fs", "git", "tree", "path", "rules",
        ],
    ),
    ("formats", &["store"]),
    ("crypto & keys", &["crypto", "keys", "metadata", "config"]),
    (
        "document operations",
        &[
            "document",
            "edit",
            "publish",
            "review",
            "filemerge",
            "repository",
        ],
    ),
    ("front ends", &["tui"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source files by module path (`store::yaml::load`), for the library (`lib.rs`) or the
/// binary (`main.rs`). Unit-test files (`tests.rs`, `*_tests.rs`) are left out.
fn modules(binary: bool) -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        let in_binary = rel == "main" || rel == "cli" || rel.starts_with("cli/");
        let stem = rel.rsplit('/').next().unwrap();
        if in_binary != binary || stem == "tests" || stem.ends_with("_tests") || rel == "lib" {
            continue;
        }
        let name = if rel == "main" {
            String::new()
        } else {
            rel.replace('/', "::")
        };
        out.insert(name, code_only(&std::fs::read_to_string(&file).unwrap()));
    }
    out
}

/// The text without comments, string and char literals, and inline `#[cfg(test)] mod`.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"'
            || (b[i] == b'r'
                && b.get(i + 1).is_some_and(|c| *c == b'#' || *c == b'"')
                && (i == 0 || !b[i - 1].is_ascii_alphanumeric()))
        {
            // A string: skip to its end (raw strings by their hashes).
            let mut hashes = 0;
            if b[i] == b'r' {
                i += 1;
                while b[i] == b'#' {
                    hashes += 1;
                    i += 1;
                }
                i += 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
            } else {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if b[i] == b'\'' && (b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\')) {
            // A char literal ('x', '\n', '\u{..}'); lifetimes have no closing quote.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every path a file names: each leaf of its `use` trees and each inline path that starts
/// with `crate`, `super` or `sesame`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before_ok = i == 0
            || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before_ok {
            expand_use(&after[..end], Vec::new(), &mut out);
        }
        rest = &after[end.min(after.len())..];
    }
    let words: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < words.len() {
        let starts_word = i == 0
            || !(words[i - 1].is_alphanumeric() || words[i - 1] == '_' || words[i - 1] == ':');
        if starts_word {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let s = j;
                while j < words.len() && (words[j].is_alphanumeric() || words[j] == '_') {
                    j += 1;
                }
                if s == j {
                    break;
                }
                segs.push(words[s..j].iter().collect::<String>());
                if words.get(j) == Some(&':') && words.get(j + 1) == Some(&':') {
                    j += 2;
                } else {
                    break;
                }
            }
            if segs.len() > 1 && ["crate", "super", "sesame"].contains(&segs[0].as_str()) {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Expands one `use` tree (`crate::a::{b, c::{d, e}}`) into its leaf paths.
fn expand_use(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let mut path = prefix;
            path.extend(
                tree.split(" as ")
                    .next()
                    .unwrap()
                    .split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
            out.push(path);
        }
        Some(open) => {
            let mut path = prefix;
            path.extend(
                tree[..open]
                    .split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
            let inner = &tree[open + 1..tree.rfind('}').unwrap()];
            let (mut depth, mut start) = (0, 0);
            for (k, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand_use(&inner[start..k], path.clone(), out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            if !inner[start..].trim().is_empty() {
                expand_use(&inner[start..], path, out);
            }
        }
    }
}

/// The module a path names, from `from`: the longest prefix that is a module, or `None` for
/// other crates. `lib:` marks library modules named from the binary.
fn resolve(from: &str, path: &[String], mods: &BTreeSet<String>, binary: bool) -> Option<String> {
    let mut base: Vec<String> = if from.is_empty() {
        vec![]
    } else {
        from.split("::").map(String::from).collect()
    };
    let mut segs = path;
    match segs.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            segs = &segs[1..];
        }
        Some("super") => {
            while segs.first().map(String::as_str) == Some("super") {
                base.pop();
                segs = &segs[1..];
            }
        }
        Some("sesame") if binary => {
            return resolve(
                "",
                &[&["crate".to_string()], &path[1..]].concat(),
                &library_names(),
                false,
            )
            .map(|m| format!("lib:{m}"));
        }
        Some("self") => segs = &segs[1..],
        _ => return None,
    }
    let mut best = None;
    for n in 1..=segs.len() {
        let mut candidate = base.clone();
        candidate.extend(segs[..n].iter().cloned());
        let name = candidate.join("::");
        if mods.contains(&name) {
            best = Some(name);
        }
    }
    best
}

fn library_names() -> BTreeSet<String> {
    modules(false).into_keys().collect()
}

/// Import edges between modules (a module's own submodules excluded: a parent may use them).
fn edges(binary: bool) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(binary);
    let names: BTreeSet<String> = mods.keys().cloned().collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in &mods {
        for path in paths(code) {
            // The crate root (`main.rs`) owns every module of the binary.
            let own = |t: &str| name.is_empty() || t == name || t.starts_with(&format!("{name}::"));
            if let Some(target) = resolve(name, &path, &names, binary)
                && !own(&target)
            {
                out.entry(name.clone()).or_default().insert(target);
            }
        }
    }
    out
}

/// Edges lifted to siblings: `a::x::y → a::z` counts as `a::x → a::z`, so a circle between
/// two folders shows even when no two files import each other directly. Imports of one's own
/// ancestors (shared parent items) are left out.
fn sibling_edges(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (from, targets) in edges {
        for to in targets {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (from.split("::").collect(), to.split("::").collect());
            let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            if common < a.len() && common < b.len() {
                out.insert((a[..=common].join("::"), b[..=common].join("::")));
            }
        }
    }
    out
}

/// Every circle, as the sorted list of modules in it (Tarjan's strongly connected components).
fn circles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        graph.entry(a).or_default().push(b);
        graph.entry(b).or_default();
    }
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a str, graph: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &graph[v] {
            if !s.index.contains_key(w) {
                visit(w, graph, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on_stack: BTreeSet::new(),
        out: vec![],
    };
    for &v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(v, &graph, &mut s);
        }
    }
    s.out
}

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap();
    LAYERS.iter().position(|(_, mods)| mods.contains(&top))
}

#[test]
fn core_has_no_front_end_dependencies() {
    let mut checked = 0;
    for (name, code) in modules(false) {
        if layer_of(&name) == Some(LAYERS.len() - 1) {
            continue;
        }
        checked += 1;
        for banned in ["clap::", "ratatui", "crossterm", "anyhow::"] {
            assert!(
                !code.contains(banned),
                "{name} uses {banned}: the core must not depend on front ends"
            );
        }
    }
    assert!(checked > 20, "scanned {checked} core files");
}

#[test]
fn every_library_module_has_a_layer() {
    let missing: Vec<String> = modules(false)
        .into_keys()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules with no layer in LAYERS (and ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn no_import_runs_back_up_the_layers() {
    let mut upward = Vec::new();
    for (from, targets) in edges(false) {
        for to in targets {
            if let (Some(a), Some(b)) = (layer_of(&from), layer_of(&to))
                && b > a
            {
                upward.push(format!(
                    "{from} ({}) imports {to} ({})",
                    LAYERS[a].0, LAYERS[b].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports running up the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_import_circles() {
    for binary in [false, true] {
        let found = circles(&sibling_edges(&edges(binary)));
        assert!(
            found.is_empty(),
            "import circles ({}): {found:?}",
            if binary { "binary" } else { "library" }
        );
    }
}

/// The checker itself finds what it must, so a green run means something.
#[test]
fn the_checker_sees_imports_and_circles() {
    let code = code_only(
        "use crate::a::{b::{C, d}, e as f};\n// crate::z::y\nfn g() { crate::h::i(); let s = \"crate::q::r\"; }\n#[cfg(test)]\nmod tests { use crate::t; }",
    );
    let found = paths(&code);
    let mods: BTreeSet<String> = ["a", "a::b", "a::e", "h", "q", "z", "t"]
        .map(String::from)
        .into();
    let resolved: BTreeSet<String> = found
        .iter()
        .filter_map(|p| resolve("x", p, &mods, false))
        .collect();
    assert_eq!(
        resolved,
        ["a", "a::b", "a::e", "h"].map(String::from).into()
    );
    let e: BTreeSet<(String, String)> = [("a::x", "b"), ("b::y", "a::z")]
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .into();
    let lifted: BTreeMap<String, BTreeSet<String>> = e
        .iter()
        .map(|(x, y)| (x.clone(), [y.clone()].into()))
        .collect();
    assert_eq!(
        circles(&sibling_edges(&lifted)),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
    let real = edges(false);
    assert!(
        real["document"].contains("store"),
        "document imports store: {:?}",
        real["document"]
    );
}

/// ARCHITECTURE.md names each layer with its modules, and every source file it names exists.
#[test]
fn architecture_md_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    for (layer, mods) in LAYERS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {layer} |")))
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no row for the {layer} layer"));
        let cell = row.split('|').nth(2).unwrap();
        for m in *mods {
            assert!(
                cell.contains(&format!("`{m}`")) || cell.contains(&format!("`{m}/`")),
                "ARCHITECTURE.md's {layer} row does not name {m}"
            );
        }
    }
    let mut named = 0;
    for token in doc.split('`').skip(1).step_by(2) {
        let token = token.trim_end_matches([',', ')']);
        if token.ends_with(".rs") && !token.contains([' ', '<', '*']) {
            let path = if token.starts_with("tests/") || token.starts_with("src/") {
                root.join(token)
            } else {
                let under_tui = root.join("src/tui").join(token);
                if under_tui.exists() {
                    under_tui
                } else {
                    root.join("src").join(token)
                }
            };
            assert!(
                path.exists(),
                "ARCHITECTURE.md names {token}, which does not exist"
            );
            named += 1;
        }
    }
    assert!(named > 10, "checked {named} file names");
}
