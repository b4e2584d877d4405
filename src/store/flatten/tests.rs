//! Unit tests of metadata flattening and the Go text forms.

use super::*;
use crate::tree::List;

fn leaf(s: &str) -> Node {
    Node::string(s)
}

fn list(items: Vec<Node>) -> Node {
    Node::List(List {
        items: items.into_iter().map(ListItem::Node).collect(),
    })
}

fn map(items: Vec<(&str, Node)>) -> Node {
    let mut m = Map::new();
    for (k, v) in items {
        m.push(k, v);
    }
    Node::Map(m)
}

fn names(md: &Map, prefix: &str) -> Vec<String> {
    flatten(md, prefix)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[test]
fn flattens_depth_first_in_tree_order() {
    let groups = list(vec![
        map(vec![
            ("age", list(vec![])),
            ("pgp", list(vec![map(vec![("fp", leaf("F"))])])),
        ]),
        map(vec![("hc_vault", list(vec![]))]),
    ]);
    let kms = list(vec![map(vec![
        ("arn", leaf("a")),
        ("context", map(vec![("Environment", leaf("prod"))])),
    ])]);
    let elevens: Vec<Node> = (0..11).map(|i| leaf(&i.to_string())).collect();
    let Node::Map(md) = map(vec![
        ("key_groups", groups),
        ("kms", kms),
        ("list", list(elevens)),
        ("empty", map(vec![])),
        ("shamir_threshold", Node::scalar(Scalar::Int(2))),
    ]) else {
        unreachable!()
    };
    let got = names(&md, "sops_");
    assert_eq!(got[0], "sops_key_groups__list_0__map_pgp__list_0__map_fp");
    assert_eq!(got[1], "sops_kms__list_0__map_arn");
    assert_eq!(got[2], "sops_kms__list_0__map_context__map_Environment");
    // Numeric order: `__list_10` after `__list_9`.
    assert_eq!(got[3 + 9], "sops_list__list_9");
    assert_eq!(got[3 + 10], "sops_list__list_10");
    assert_eq!(got.last().unwrap(), "sops_shamir_threshold");
    assert_eq!(got.len(), 15);
    assert_eq!(
        names(&md, "")[0],
        "key_groups__list_0__map_pgp__list_0__map_fp"
    );
}

#[test]
fn flatten_reports_collisions() {
    let Node::Map(md) = map(vec![
        ("a__map_b", leaf("x")),
        ("a", map(vec![("b", leaf("y"))])),
    ]) else {
        unreachable!()
    };
    assert_eq!(
        flatten(&md, "").unwrap_err().to_string(),
        "Error marshaling metadata: Error while flattening metadata: Found key collision \
         \"a__map_b\" while flattening"
    );
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, Node)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), leaf(v)))
        .collect()
}

#[test]
fn unflatten_rebuilds_sorted_maps_and_lists() {
    let md = unflatten(pairs(&[
        ("version", "3.13.2"),
        ("age__list_1__map_recipient", "r1"),
        ("age__list_0__map_recipient", "r0"),
        ("age__list_0__map_enc", "e0"),
        ("kms__list_0__map_context__map_B", "b"),
        ("kms__list_0__map_context__map_A", "a"),
    ]))
    .unwrap();
    let keys: Vec<_> = md.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["age", "kms", "version"]);
    let age = md.get("age").unwrap().as_list().unwrap();
    let first = age.values().next().unwrap().as_map().unwrap();
    let keys: Vec<_> = first.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["enc", "recipient"]);
    assert_eq!(
        age.values()
            .nth(1)
            .unwrap()
            .as_map()
            .unwrap()
            .get("recipient")
            .unwrap()
            .as_str(),
        Some("r1")
    );
}

#[test]
fn unflatten_errors_match_sops() {
    let e = |items: &[(&str, &str)]| unflatten(pairs(items)).unwrap_err().to_string();
    assert_eq!(
        e(&[("a__list_1", "x")]),
        "Error while unflattening: Incomplete list"
    );
    assert_eq!(
        e(&[("a", "x"), ("a__map_b", "y")]),
        "Error while unflattening: Type mismatch"
    );
    assert_eq!(
        e(&[("a", "x"), ("a", "y")]),
        "Error while unflattening \"a\": Duplicate value"
    );
    // sops compat: an unparsable index counts as 0.
    let md = unflatten(pairs(&[("a__list_x", "v")])).unwrap();
    assert_eq!(md.get("a").unwrap().as_list().unwrap().items.len(), 1);
    // No items: an empty record.
    assert!(unflatten(vec![]).unwrap().items.is_empty());
}

#[test]
fn tokenize_splits_at_every_marker() {
    let t = tokenize("__map_a__list_2__map___list_");
    assert!(matches!(t[0], Token::Key("")));
    assert!(matches!(t[1], Token::Key("a")));
    assert!(matches!(t[2], Token::Index(2)));
    assert!(matches!(t[3], Token::Key("")));
    assert!(matches!(t[4], Token::Index(0)));
    assert_eq!(atoi("+3"), 3);
    assert_eq!(atoi("99999999999999999999"), i64::MAX);
}

#[test]
fn value_text_is_val_to_string() {
    let text = |s: Scalar| String::from_utf8(value_text(&s).expose().to_vec()).unwrap();
    assert_eq!(text(Scalar::Float(1.0)), "1.0");
    assert_eq!(text(Scalar::Float(1e21)), "1E+21");
    assert_eq!(text(Scalar::Bool(true)), "true");
    assert_eq!(text(Scalar::Int(-2)), "-2");
    assert_eq!(text(Scalar::Null), "<nil>");
    let t = gotext::parse_time("2025-01-02T03:04:05.25Z").unwrap();
    assert_eq!(text(Scalar::Time(t)), "2025-01-02T03:04:05Z");
}

#[test]
fn go_v_prints_lists_and_maps_like_fmt() {
    let node = list(vec![
        leaf("a b"),
        Node::scalar(Scalar::Float(1e6)),
        map(vec![("k", Node::scalar(Scalar::Null))]),
    ]);
    let mut out = Vec::new();
    go_v(&node, &mut out);
    assert_eq!(out, b"[a b 1e+06 [{k <nil>}]]");
}

#[test]
fn deep_names_and_trees_are_refused_not_fatal() {
    crate::process::on_deep_stack(deep_names_and_trees);
}

fn deep_names_and_trees() {
    let name = "a__map_".repeat(MAX_DEPTH + 1) + "b";
    let err = unflatten(vec![(name, leaf("x"))]).unwrap_err().to_string();
    assert_eq!(err, "Error while unflattening: exceeded max depth");
    let mut node = leaf("x");
    for _ in 0..MAX_DEPTH + 2 {
        node = list(vec![node]);
    }
    let Node::Map(md) = map(vec![("deep", node)]) else {
        unreachable!()
    };
    assert!(flatten(&md, "").is_err());
}
