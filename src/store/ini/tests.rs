//! Unit tests of the INI store: ini.v1 parsing and writing rules, the `[sops]` section.

use super::*;
use crate::tree::{List, ListItem, Scalar};

fn round(input: &str) -> String {
    let parsed = parse(input.as_bytes()).unwrap();
    let md = parsed.metadata.as_ref().map(|m| &m.tree);
    String::from_utf8(emit(&parsed.docs, md).unwrap().bytes).unwrap()
}

fn section<'a>(doc: &'a Map, name: &str) -> &'a Map {
    doc.get(name).and_then(Node::as_map).unwrap()
}

/// The items of a section as `key=value` and `#comment` strings.
fn items(m: &Map) -> Vec<String> {
    m.items
        .iter()
        .map(|item| match item {
            MapItem::Entry(e) => format!("{}={}", e.key, e.value.as_str().unwrap()),
            MapItem::Comment(c) => format!("#{}", c.text.to_lossy()),
        })
        .collect()
}

fn err(input: &str) -> String {
    parse(input.as_bytes()).unwrap_err().to_string()
}

#[test]
fn default_section_comes_first_and_holds_leading_keys() {
    let doc = parse(b"a = 1\n[s]\nb = 2\n").unwrap().docs.remove(0);
    let names: Vec<_> = doc.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(names, ["DEFAULT", "s"]);
    assert_eq!(items(section(&doc, "DEFAULT")), ["a=1"]);
    let doc = parse(b"[s]\n").unwrap().docs.remove(0);
    assert!(section(&doc, "DEFAULT").items.is_empty());
    assert_eq!(round("[s]\nb = 2\n"), "[s]\nb = 2\n");
    assert_eq!(round("a=1\n[s]\nb=2\n"), "a = 1\n\n[s]\nb = 2\n");
}

#[test]
fn values_are_trimmed_cut_at_comments_and_unquoted() {
    let input = "[s]\na =  x y  \nb = x;y\nc = \"q\"\nd = 'q'\ne = \"a\"b\"\nf = `raw;#`\ng = \"\"\"m1\nm2\"\"\" ; after\nh = a \\\n  b\ni =\nj : colon\n";
    let doc = parse(input.as_bytes()).unwrap().docs.remove(0);
    assert_eq!(
        items(section(&doc, "s")),
        [
            "a=x y",
            "b=x",
            "#y",
            "c=q",
            "d=q",
            "e=\"a\"b\"",
            "f=raw;#",
            "g=m1\nm2",
            "#after",
            "h=a b",
            "i=",
            "j=colon"
        ]
    );
}

#[test]
fn comments_attach_like_ini_v1() {
    let input = "; for section\n#  also\n[s]\n# before key\nk = v # inline\n;; x\n;# y\n[t] ; header note\nz = 1\n# dangling at end\n";
    let doc = parse(input.as_bytes()).unwrap().docs.remove(0);
    // The block before a header is the section's comment; a block before a key and its inline
    // comment become one comment after it. Only the first marker run is stripped.
    assert_eq!(
        items(section(&doc, "s")),
        ["#for section\n#  also", "k=v", "#before key\n# inline"]
    );
    assert_eq!(
        items(section(&doc, "t")),
        ["#x\n;# y\n; header note", "z=1"]
    );
    assert_eq!(
        round(input),
        "; for section\n# also\n[s]\n; before key\n# inline\nk = v\n\n; x\n; # y\n; header note\n[t]\nz = 1\n"
    );
}

#[test]
fn duplicate_keys_update_the_first_and_duplicate_sections_stay_apart() {
    let doc = parse(b"[s]\na = 1\nb = 2\na = 3\n[s]\nc = 4\n")
        .unwrap()
        .docs
        .remove(0);
    let secs: Vec<_> = doc.entries().collect();
    assert_eq!(secs.len(), 3);
    assert_eq!(items(secs[1].value.as_map().unwrap()), ["a=3", "b=2"]);
    assert_eq!(items(secs[2].value.as_map().unwrap()), ["c=4"]);
}

#[test]
fn key_names_can_be_quoted_and_auto_numbered() {
    let doc = parse(b"[s]\n`a=b` = 1\n\"c:d\" = 2\n\"\"\"e`f\"\"\" = 3\n- = x\n- = y\n").unwrap();
    let s = section(&doc.docs[0], "s");
    assert_eq!(items(s), ["a=b=1", "c:d=2", "e`f=3", "#1=x", "#2=y"]);
}

#[test]
fn syntax_errors_use_ini_v1_text() {
    let p = "Could not unmarshal input data: ";
    assert_eq!(
        err("[s]\nnodelim\n"),
        format!("{p}key-value delimiter not found: nodelim\n")
    );
    assert_eq!(err("[s]\n= x\n"), format!("{p}empty key name: = x\n"));
    assert_eq!(err("[s\n"), format!("{p}unclosed section: [s\n"));
    assert_eq!(err("[]\n"), format!("{p}empty section name"));
    assert_eq!(
        err("\"\" = x\n"),
        format!("{p}error creating new key: empty key name")
    );
    assert_eq!(
        err("`k = v\n"),
        format!("{p}missing closing key quote: `k = v\n")
    );
    assert_eq!(
        err("k = \"\"\"abc\nno end"),
        format!("{p}missing closing key quote from \"\\\"\\\"\\\"abc\\n\" to \"no end\"")
    );
}

#[test]
fn boms_are_skipped() {
    assert_eq!(round("\u{feff}[s]\na=1\n"), "[s]\na = 1\n");
}

#[test]
fn keys_are_aligned_and_values_quoted() {
    let mut s = Map::new();
    s.push("a", Node::string("plain"));
    s.push("lead", Node::string(" x"));
    s.push("semi", Node::string("a;b"));
    s.push("nl", Node::string("a\nb"));
    s.push("tick", Node::string("a`b"));
    s.push("k=v", Node::string(""));
    s.push("q\"", Node::string("\u{a0}"));
    s.push("b`", Node::string("1"));
    let mut doc = Map::new();
    doc.push("sec", Node::Map(s));
    let out = String::from_utf8(emit(&[doc], None).unwrap().bytes).unwrap();
    assert_eq!(
        out,
        "[sec]\na        = plain\nlead     = \" x\"\nsemi     = `a;b`\nnl       = \"\"\"a\nb\"\"\"\ntick     = \"\"\"a`b\"\"\"\n`k=v`    = \n`q\"`     = \"\u{a0}\"\n\"\"\"b`\"\"\" = 1\n"
    );
}

#[test]
fn emission_converts_values_and_keeps_the_last_key_comment() {
    let mut s = Map::new();
    s.items
        .push(MapItem::Comment(Comment::new("# hash\nplain\n;semi")));
    s.items
        .push(MapItem::Comment(Comment::new("dropped: no key yet")));
    s.push("f", Node::scalar(Scalar::Float(100000.0)));
    s.items.push(MapItem::Comment(Comment::new("first")));
    s.items.push(MapItem::Comment(Comment::new("  last  ")));
    s.push("b", Node::scalar(Scalar::Bool(true)));
    s.push("n", Node::scalar(Scalar::Null));
    let mut l = List::new();
    l.items.push(ListItem::Node(Node::scalar(Scalar::Int(1))));
    s.push("l", Node::List(l));
    s.push("f", Node::scalar(Scalar::Int(2)));
    let mut doc = Map::new();
    doc.items.push(MapItem::Comment(Comment::new(
        "top-level comments are skipped",
    )));
    doc.push("default", Node::Map(Map::new()));
    doc.push("x", Node::Map(s));
    let out = String::from_utf8(emit(&[doc], None).unwrap().bytes).unwrap();
    assert_eq!(
        out,
        "# hash\n; plain\n; semi\n[x]\n; last\nf = 2\nb = true\nn = <nil>\nl = [1]\n"
    );
}

#[test]
fn emission_errors() {
    let mut doc = Map::new();
    doc.push("s", Node::string("x"));
    assert_eq!(
        emit(&[doc], None).unwrap_err().to_string(),
        "Error marshaling to INI: Error encoding section: Section values should always be TreeBranches"
    );
    let mut doc = Map::new();
    doc.push("", Node::Map(Map::new()));
    assert_eq!(
        emit(&[doc], None).unwrap_err().to_string(),
        "Error marshaling to INI: Error encoding section : empty section name"
    );
    let mut s = Map::new();
    s.push("", Node::string("x"));
    let mut doc = Map::new();
    doc.push("s", Node::Map(s));
    assert_eq!(
        emit(std::slice::from_ref(&doc), None)
            .unwrap_err()
            .to_string(),
        "Error marshaling to INI: Error encoding key: error creating new key: empty key name"
    );
    let mut doc = Map::new();
    doc.push("sops", Node::Map(Map::new()));
    assert!(emit(std::slice::from_ref(&doc), None).is_ok());
    assert!(
        emit(&[doc], Some(&Map::new()))
            .unwrap_err()
            .to_string()
            .contains("Found key \"sops\" in encrypted data")
    );
}

#[test]
fn metadata_section_is_flattened_last_with_escaped_newlines() {
    let mut entry = Map::new();
    entry.push("enc", Node::string("line1\nline2\n"));
    entry.push("recipient", Node::string("age1x"));
    let mut age = List::new();
    age.items.push(ListItem::Node(Node::Map(entry)));
    let mut md = Map::new();
    md.push("age", Node::List(age));
    md.push("mac_only_encrypted", Node::scalar(Scalar::Bool(true)));
    md.push("unencrypted_regex", Node::string("^(a|b);"));
    md.push("version", Node::string("3.13.2"));
    let mut s = Map::new();
    s.push("k", Node::string("v"));
    let mut doc = Map::new();
    doc.push("DEFAULT", Node::Map(Map::new()));
    doc.push("s", Node::Map(s));
    let out = emit(&[doc], Some(&md)).unwrap();
    let text = String::from_utf8(out.bytes).unwrap();
    let expected_meta = "[sops]\nage__list_0__map_enc       = line1\\nline2\\n\nage__list_0__map_recipient = age1x\nmac_only_encrypted         = true\nunencrypted_regex          = `^(a|b);`\nversion                    = 3.13.2\n";
    assert_eq!(text, format!("[s]\nk = v\n\n{expected_meta}"));
    assert_eq!(&text[out.metadata_spans[0].clone()], expected_meta);
    // And back: newlines restored, the unflattened tree sorted, spans found.
    let parsed = parse(text.as_bytes()).unwrap();
    let back = parsed.metadata.unwrap();
    assert_eq!(back.span, Some(out.metadata_spans[0].clone()));
    let enc = back
        .tree
        .get("age")
        .unwrap()
        .as_list()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(
        enc.as_map().unwrap().get("enc").unwrap().as_str(),
        Some("line1\nline2\n")
    );
    assert_eq!(
        back.tree.get("unencrypted_regex").unwrap().as_str(),
        Some("^(a|b);")
    );
    assert_eq!(
        back.tree.get("mac_only_encrypted").unwrap().as_str(),
        Some("true")
    );
    assert_eq!(parsed.docs[0].items.len(), 2);
}

#[test]
fn metadata_reading_rules() {
    assert_eq!(
        err("[sops]\na=1\n[sops]\nb=2\n"),
        "Found duplicate sops entry"
    );
    // Real multi-line values (sops 3.13.0/3.13.1) and `\n` sequences both give newlines.
    let input = "[sops]\nlastmodified = 2025-01-02T03:04:05Z\nmac = \"\"\"a\nb\"\"\"\nx = c\\nd\n\n[after]\nk = v\n";
    let parsed = parse(input.as_bytes()).unwrap();
    let md = parsed.metadata.unwrap();
    assert_eq!(md.tree.get("mac").unwrap().as_str(), Some("a\nb"));
    assert_eq!(md.tree.get("x").unwrap().as_str(), Some("c\nd"));
    assert!(md.span.is_none(), "[sops] is not the last section");
    assert_eq!(&input[md.lastmodified.unwrap()], "2025-01-02T03:04:05Z");
    assert_eq!(&input[md.mac.unwrap()], "\"\"\"a\nb\"\"\"");
    // Last section: the span runs to the end of the last non-blank line.
    let input = "[a]\nk=v\n; note\n[sops]\nmac = m ; c\n\n\n";
    let md = parse(input.as_bytes()).unwrap().metadata.unwrap();
    assert_eq!(&input[md.span.unwrap()], "[sops]\nmac = m ; c\n");
    assert_eq!(&input[md.mac.unwrap()], "m");
}

#[test]
fn known_answer_file_round_trips() {
    let kat = include_str!("../../../tests/fixtures/ini/kat.ini");
    assert_eq!(round(kat), kat);
    let md = parse(kat.as_bytes()).unwrap().metadata.unwrap();
    assert!(kat[md.span.unwrap()].starts_with("[sops]\nage__list_0__map_enc"));
    assert_eq!(&kat[md.lastmodified.unwrap()], "2025-01-02T03:04:05Z");
}

#[test]
fn emit_value_is_compact_json() {
    let parsed = crate::store::json::parse(br#"{"l":[1,"a<b",{"b":null},[]]}"#).unwrap();
    let l = parsed.docs[0].get("l").unwrap();
    assert_eq!(
        String::from_utf8(emit_value(l).unwrap()).unwrap(),
        r#"[1,"a\u003cb",[{"Key":"b","Value":null}],null]"#
    );
    assert_eq!(
        emit_value(&Node::scalar(Scalar::Float(1.5))).unwrap(),
        b"1.5"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let alphabet = b"[]=:;#`\"' \n\\ab-sops\xff\xc2\xa0";
    let mut state = 0x853c49e6748fea9bu64;
    for _ in 0..4000 {
        let len = (state % 48) as usize;
        let mut input = Vec::new();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        if let Ok(p) = parse(&input) {
            let md = p.metadata.as_ref().map(|m| &m.tree);
            let _ = emit(&p.docs, md);
        }
    }
}
