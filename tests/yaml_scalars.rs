//! YAML store tests for scalars: the spec's quoting table (SOPS-SPEC §7.1.5) and typing table
//! (§7.1.1), explicit keys, Go number formatting, binary values and sops's literal quirk.

use sesame::store::yaml::{emit, parse};
use sesame::tree::{Comment, List, ListItem, Map, Node, Scalar};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn string_map(value: &str) -> Map {
    let mut m = Map::new();
    m.push("k", Node::string(value));
    m
}

fn render(value: &str) -> String {
    let out = emit(&[string_map(value)], None, 4).unwrap();
    let t = text(&out.bytes);
    t.strip_prefix("k: ").unwrap_or(&t).to_string()
}

#[test]
fn spec_scalar_quoting_table() {
    let plain = [
        "hello world",
        "a#b",
        "-x",
        "?x",
        ":x",
        "a,b",
        "nUll",
        "tRue",
        "2001-12-14x",
        "3.13.2",
        "é✓",
        "it's",
    ];
    for s in plain {
        assert_eq!(render(s), format!("{s}\n"), "{s:?}");
    }
    let single = [
        "a: b", "a #b", "- x", "-", "? x", ": x", "#c", "[x]", "*a", "&a", "!t", "%x", "@x", "`x",
        "---", "...", "\"q\"", " lead", "trail ",
    ];
    for s in single {
        assert_eq!(render(s), format!("'{s}'\n"), "{s:?}");
    }
    assert_eq!(render("'s'"), "'''s'''\n");
    let double = [
        "true",
        "yes",
        "y",
        "null",
        "~",
        "",
        "123",
        "1.5",
        "1e3",
        "0x1F",
        "012",
        "1_000",
        "+1",
        ".5",
        "1.",
        "12:30",
        "2024-01-02",
        "0b101",
        "Off",
    ];
    for s in double {
        assert_eq!(render(s), format!("\"{s}\"\n"), "{s:?}");
    }
    for (s, out) in [
        ("tab\there", "\"tab\\there\"\n"),
        ("ctl\x01", "\"ctl\\x01\"\n"),
        ("tab\there 😀", "\"tab\\there \\U0001F600\"\n"),
        ("x \ny", "\"x \\ny\"\n"),
        ("a\r\nb", "\"a\\r\\nb\"\n"),
        ("\u{feff}ab", "\"\\uFEFF\\x61\\x62\"\n"),
        ("nel\u{85}", "\"nel\\N\"\n"),
        ("a\nb", "|-\n    a\n    b\n"),
        ("a\nb\n", "|\n    a\n    b\n"),
        ("a\n\n", "|+\n    a\n\n"),
        ("\n", "|4+\n\n"),
        (" a\nb", "|4-\n     a\n    b\n"),
    ] {
        assert_eq!(render(s), out, "{s:?}");
    }
    // Keys follow the same rules.
    let mut m = Map::new();
    for k in ["n", "123", "a b", "<<"] {
        m.push(k, Node::scalar(Scalar::Int(1)));
    }
    let out = emit(&[m], None, 4).unwrap();
    assert_eq!(
        text(&out.bytes),
        "\"n\": 1\n\"123\": 1\na b: 1\n!!merge <<: 1\n"
    );
}

#[test]
fn long_and_multiline_keys_use_the_explicit_form() {
    let mut m = Map::new();
    m.push("k".repeat(128), Node::string("short"));
    m.push("l".repeat(129), Node::string("long"));
    m.push("a\nb", Node::scalar(Scalar::Int(1)));
    let mut inner = Map::new();
    inner.push("x", Node::scalar(Scalar::Int(1)));
    m.push("m".repeat(130), Node::Map(inner));
    let out = text(&emit(&[m], None, 4).unwrap().bytes);
    let expected = format!(
        "{}: short\n? {}\n: long\n? |-\n    a\n    b\n: 1\n? {}\n:   x: 1\n",
        "k".repeat(128),
        "l".repeat(129),
        "m".repeat(130)
    );
    assert_eq!(out, expected);
}

fn scalar_of(value: &str) -> Scalar {
    let parsed = parse(format!("k: {value}\n").as_bytes()).unwrap();
    parsed.docs[0]
        .get("k")
        .and_then(Node::as_scalar)
        .cloned()
        .expect("scalar")
}

#[test]
fn spec_typing_table() {
    for v in ["", "~", "null", "Null", "NULL"] {
        assert_eq!(scalar_of(v), Scalar::Null, "{v:?}");
    }
    for (v, b) in [
        ("true", true),
        ("True", true),
        ("TRUE", true),
        ("false", false),
        ("FALSE", false),
    ] {
        assert_eq!(scalar_of(v), Scalar::Bool(b), "{v}");
    }
    for (v, i) in [
        ("42", 42),
        ("-7", -7),
        ("017", 15),
        ("0x1F", 31),
        ("0o17", 15),
        ("0b101", 5),
        ("1_000", 1000),
        ("+5", 5),
        ("9223372036854775807", i64::MAX),
    ] {
        assert_eq!(scalar_of(v), Scalar::Int(i), "{v}");
    }
    assert_eq!(scalar_of("9223372036854775808"), Scalar::Uint(1 << 63));
    assert_eq!(scalar_of("18446744073709551615"), Scalar::Uint(u64::MAX));
    for (v, f) in [
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("08", 8.0),
        ("-.5", -0.5),
        (".inf", f64::INFINITY),
        ("-.Inf", f64::NEG_INFINITY),
    ] {
        assert_eq!(scalar_of(v), Scalar::Float(f), "{v}");
    }
    assert!(matches!(scalar_of(".nan"), Scalar::Float(f) if f.is_nan()));
    assert_eq!(
        scalar_of("18446744073709551616"),
        Scalar::Float(18446744073709551616.0)
    );
    for v in [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "1e400",
        "0x",
        "2023-02-30",
        "3.13.2",
        "0b2",
        "a: b",
    ] {
        let want = v.trim_matches('"');
        match scalar_of(&format!("\"{v}\"")) {
            Scalar::Str(s) => assert_eq!(s.as_str(), Some(want)),
            other => panic!("{v}: {other:?}"),
        }
        if v != "a: b" {
            assert!(matches!(scalar_of(v), Scalar::Str(_)), "{v}");
        }
    }
    let time = |v: &str| match scalar_of(v) {
        Scalar::Time(t) => sesame::gotext::time_nano(&t),
        other => panic!("{v}: {other:?}"),
    };
    assert_eq!(time("2024-01-01"), "2024-01-01T00:00:00Z");
    assert_eq!(
        time("2001-12-14t21:59:43.10-05:00"),
        "2001-12-14T21:59:43.1-05:00"
    );
    assert_eq!(time("2001-12-14 21:59:43.10"), "2001-12-14T21:59:43.1Z");
    assert_eq!(time("2001-1-2T3:04:05Z"), "2001-01-02T03:04:05Z");
    // Explicit tags.
    assert_eq!(scalar_of("!!str 123"), Scalar::str("123"));
    assert_eq!(scalar_of("!!int \"42\""), Scalar::Int(42));
    assert_eq!(scalar_of("!!float 3"), Scalar::Float(3.0));
    assert_eq!(scalar_of("!!binary aGVsbG8="), Scalar::str("hello"));
    assert_eq!(scalar_of("!foo bar"), Scalar::str("bar"));
    assert_eq!(scalar_of("'single'"), Scalar::str("single"));
    assert_eq!(scalar_of("\"esc\\t\\u00e9\""), Scalar::str("esc\té"));
}

#[test]
fn non_string_values_are_written_like_go() {
    let mut m = Map::new();
    for (k, v) in [
        ("i", Scalar::Int(-7)),
        ("u", Scalar::Uint(u64::MAX)),
        ("f", Scalar::Float(1e6)),
        ("g", Scalar::Float(0.0001)),
        ("h", Scalar::Float(1.0)),
        ("n", Scalar::Float(f64::NAN)),
        ("b", Scalar::Bool(false)),
        ("z", Scalar::Null),
        ("bin", Scalar::Str(vec![0xff, 0xfe].into())),
    ] {
        m.push(k, Node::scalar(v));
    }
    m.push("long", Node::scalar(Scalar::Str(vec![0xff; 60].into())));
    let out = text(&emit(&[m], None, 4).unwrap().bytes);
    let b64 = "/".repeat(70);
    let expected = format!(
        "i: -7\nu: 18446744073709551615\nf: 1e+06\ng: 0.0001\nh: 1\n\"n\": .nan\nb: false\nz: \
         null\nbin: !!binary //4=\nlong: !!binary |\n    {b64}\n    {}\n",
        "/".repeat(10)
    );
    assert_eq!(out, expected);
    // Binary values come back as the same bytes.
    let back = parse(out.as_bytes()).unwrap();
    assert_eq!(
        back.docs[0].get("long").and_then(Node::as_scalar),
        Some(&Scalar::Str(vec![0xff; 60].into()))
    );
}

#[test]
fn sops_loses_literals_starting_with_a_tab() {
    // sops compat: sops writes null for such values (its encode/parse round trip fails).
    assert_eq!(render("\tx\ny"), "null\n");
    assert_eq!(render("a\n\tb"), "|-\n    a\n    \tb\n");
    let mut m = Map::new();
    m.push("a", Node::scalar(Scalar::Int(1)));
    let mut l = List::new();
    l.items.push(ListItem::Node(Node::string("x")));
    l.items.push(ListItem::Comment(Comment::new(" c")));
    l.items.push(ListItem::Node(Node::string("\tq\nr")));
    m.push("l", Node::List(l));
    let err = emit(&[m], None, 4).unwrap_err().to_string();
    assert!(
        err.contains("cannot encode node with unknown kind 0"),
        "{err}"
    );
}
