//! Interop with the real sops, both ways: files sops encrypts, sesame decrypts to exactly the
//! bytes `sops decrypt` prints; files sesame encrypts, sops decrypts to the same content.

mod common;

use common::{Sandbox, fails, fixture, new_age_key, ok};

/// The plaintext inputs: (fixture, extension).
const SAMPLES: [(&str, &str); 3] = [
    ("plain/sample.yaml", "yaml"),
    ("plain/sample.json", "json"),
    ("plain/comments.yaml", "yaml"),
];

fn plain(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap()
}

/// Encrypts `input` with each tool using `args`, then checks both directions.
fn both_ways(sb: &Sandbox, input: &[u8], ext: &str, args: &[&str]) {
    let src = sb.write(&format!("in.{ext}"), input);
    let src = src.to_str().unwrap();
    let mut enc_args = vec!["encrypt"];
    enc_args.extend_from_slice(args);
    enc_args.push(src);

    // sops encrypts → sesame decrypts exactly as sops does.
    let by_sops = ok(sb.sops(&enc_args));
    let f = sb.write(&format!("by_sops.{ext}"), &by_sops);
    let f = f.to_str().unwrap();
    let sops_plain = ok(sb.sops(&["decrypt", f]));
    let sesame_plain = ok(sb.sesame(&["decrypt", f]));
    assert_eq!(
        String::from_utf8_lossy(&sesame_plain),
        String::from_utf8_lossy(&sops_plain),
        "sesame decrypt of a sops file ({args:?})"
    );

    // sesame encrypts → sops decrypts to the same content.
    let by_sesame = ok(sb.sesame(&enc_args));
    let g = sb.write(&format!("by_sesame.{ext}"), &by_sesame);
    let g = g.to_str().unwrap();
    let sops_of_ours = ok(sb.sops(&["decrypt", g]));
    assert_eq!(
        String::from_utf8_lossy(&sops_of_ours),
        String::from_utf8_lossy(&sops_plain),
        "sops decrypt of a sesame file ({args:?})"
    );
    let ours_of_ours = ok(sb.sesame(&["decrypt", g]));
    assert_eq!(ours_of_ours, sops_plain);

    // Both tools write the same data layout and leave the same values in clear: only the
    // ciphertexts and the metadata (3.11 vs 3.13 key order, age armor) differ.
    assert_eq!(
        data_shape(&by_sesame),
        data_shape(&by_sops),
        "data layout ({args:?})"
    );
}

/// The file's data lines (metadata blocks left out), with every ciphertext replaced by `ENC`.
fn data_shape(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut in_meta = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l == "sops:" || l == "\t\"sops\": {" || l == "[sops]" {
            in_meta = true;
        } else if in_meta && (l == "---" || l == "\t}") {
            in_meta = false;
            if l == "\t}" {
                continue;
            }
        }
        if in_meta || l.starts_with("sops_") {
            continue;
        }
        out.push(match (l.find("ENC["), l.rfind(']')) {
            (Some(a), Some(b)) if b > a => format!("{}ENC{}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        });
    }
    out
}

#[test]
fn one_age_recipient_yaml_and_json() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    for (rel, ext) in SAMPLES {
        both_ways(&sb, &plain(rel), ext, &["--age", &r]);
    }
}

#[test]
fn dotenv_ini_binary_and_multidoc_yaml() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    for (rel, ext) in [
        ("plain/sample.env", "env"),
        ("plain/sample.ini", "ini"),
        ("plain/sample.bin", "bin"),
        ("plain/multidoc.yaml", "yaml"),
        ("kat/kat.env.plain", "env"),
        ("kat/kat.ini.plain", "ini"),
    ] {
        both_ways(&sb, &plain(rel), ext, &["--age", &r]);
    }
}

/// A binary file past a MiB, whose MAC is hashed on a second thread while it is encrypted:
/// sops reads it (and checks its MAC), and the other way round.
#[test]
fn a_large_binary_file_both_ways() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let big: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    both_ways(&sb, &big, "bin", &["--age", &r]);
}

/// Values edited by hand the way Go's regexp and base64 decoder still read them, or not: a
/// carriage return in the base64, unused bits set in the tag's last digit and text after the
/// `]` that ends the first line are read by both tools; a line feed inside the value is a
/// malformed value for both.
#[test]
fn hand_edited_values_read_as_sops_reads_them() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let src = sb.write("in.json", br#"{"a": "hello", "b": "world"}"#);
    let text = String::from_utf8(ok(sb.sops(&[
        "encrypt",
        "--age",
        &r,
        src.to_str().unwrap(),
    ])))
    .unwrap();
    let plain = ok(sb.sops(&["decrypt", sb.write("as.json", &text).to_str().unwrap()]));
    let edit = |name: &str, f: &dyn Fn(&str) -> String| {
        let line = text.lines().find(|l| l.contains("\"a\": \"ENC[")).unwrap();
        let edited = text.replacen(line, &f(line), 1);
        assert_ne!(edited, text);
        sb.write(name, edited)
    };
    let tag_digit = |l: &str| {
        // The tag's last digit before "==" carries 2 bits; setting its lowest sets an unused one.
        let at = l.find("==,type:").unwrap() - 1;
        let digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let d = digits.find(&l[at..at + 1]).unwrap();
        format!(
            "{}{}{}",
            &l[..at],
            &digits[d | 1..(d | 1) + 1],
            &l[at + 1..]
        )
    };
    let read_by_both = [
        edit("cr.json", &|l: &str| l.replacen(",iv:", ",iv:\\r", 1)),
        edit("bits.json", &tag_digit),
        edit("after.json", &|l: &str| {
            l.replacen("type:str]", "type:str]\\nx]", 1)
        }),
    ];
    for f in read_by_both {
        let f = f.to_str().unwrap();
        assert_eq!(ok(sb.sops(&["decrypt", f])), plain, "sops, {f}");
        assert_eq!(ok(sb.sesame(&["decrypt", f])), plain, "sesame, {f}");
    }
    let broken = edit("lf.json", &|l: &str| l.replacen(",iv:", ",iv:\\n", 1));
    let broken = broken.to_str().unwrap();
    fails(sb.sops(&["decrypt", broken]), 25);
    fails(sb.sesame(&["decrypt", broken]), 25);
}

#[test]
fn several_age_recipients_each_decrypt() {
    let keys: Vec<(String, String)> = (0..3).map(|_| new_age_key()).collect();
    let recipients: Vec<&str> = keys.iter().map(|(_, r)| r.as_str()).collect();
    let list = recipients.join(",");
    for (id, _) in &keys {
        let sb = Sandbox::new().env("SOPS_AGE_KEY", id.clone());
        both_ways(&sb, &plain("plain/sample.yaml"), "yaml", &["--age", &list]);
    }
}

#[test]
fn ssh_recipients() {
    for key in ["ssh_ed25519", "ssh_rsa"] {
        let public = std::fs::read_to_string(fixture(&format!("keys/{key}.pub"))).unwrap();
        let private = fixture(&format!("keys/{key}"));
        let sb = Sandbox::new().env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", private.to_str().unwrap());
        both_ways(
            &sb,
            &plain("plain/sample.json"),
            "json",
            &["--age", public.trim()],
        );
    }
}

/// YAML with thousands of top-level entries, which sesame decrypts a slice at a time while it
/// reads the file: both ways, whole and with a rule that leaves some entries in clear.
#[test]
fn a_large_yaml_file_both_ways() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let mut text = String::from("# generated\n");
    for i in 0..3000 {
        match i % 4 {
            0 => text.push_str(&format!("k{i}: value {i} # note {i}\n")),
            1 => text.push_str(&format!("k{i}:\n    inner: {i}\n    on: true\n")),
            2 => text.push_str(&format!("# about k{i}\nk{i}:\n    - {i}.5\n    - x\n")),
            _ => text.push_str(&format!("k{i}: \"\"\n")),
        }
    }
    both_ways(&sb, text.as_bytes(), "yaml", &["--age", &r]);
    both_ways(
        &sb,
        text.as_bytes(),
        "yaml",
        &["--age", &r, "--unencrypted-regex", "^k1"],
    );
}

#[test]
fn every_selection_rule() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let cases = [
        ("--unencrypted-suffix", "_unencrypted"),
        ("--encrypted-suffix", "word"),
        ("--unencrypted-regex", "^(host|port)$"),
        ("--encrypted-regex", "^(database|tokens)$"),
    ];
    for (flag, value) in cases {
        both_ways(
            &sb,
            &plain("plain/sample.yaml"),
            "yaml",
            &["--age", &r, flag, value],
        );
    }
    both_ways(
        &sb,
        &plain("plain/sample.json"),
        "json",
        &["--age", &r, "--encrypted-regex", "^pass"],
    );
    // sops 3.11's `encrypt` subcommand ignores the global-only comment-regex flags, so the
    // comment rules are compared through `.sops.yaml`, which both tools honour.
    for rule in ["unencrypted_comment_regex", "encrypted_comment_regex"] {
        sb.write(
            ".sops.yaml",
            format!("creation_rules:\n  - age: {r}\n    {rule}: sops:enc\n"),
        );
        both_ways(&sb, &plain("plain/comments.yaml"), "yaml", &[]);
    }
}

#[test]
fn mac_only_encrypted() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    // Through `.sops.yaml`: sops 3.11's `encrypt` subcommand ignores the global-only flag.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - age: {r}\n    mac_only_encrypted: true\n    encrypted_regex: ^(password|database|secret_a)$\n"
        ),
    );
    for (rel, ext) in SAMPLES {
        both_ways(&sb, &plain(rel), ext, &[]);
        let enc = ok(sb.sesame(&["encrypt", fixture(rel).to_str().unwrap()]));
        assert!(String::from_utf8_lossy(&enc).contains("mac_only_encrypted"));
    }
}

#[test]
fn creation_rules_from_sops_yaml() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    sb.write(
        ".sops.yaml",
        format!(
            "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - path_regex: \\.json$\n    age: {r}\n    encrypted_regex: ^password$\n  - age: '{r}'\n"
        ),
    );
    both_ways(&sb, &plain("plain/sample.yaml"), "yaml", &[]);
    both_ways(&sb, &plain("plain/sample.json"), "json", &[]);
}

#[test]
fn groups_add_and_delete_are_read_by_sops() {
    let (id1, r1) = new_age_key();
    let (id2, r2) = new_age_key();
    let both = format!("{id1}\n{id2}");
    let sb = Sandbox::new().env("SOPS_AGE_KEY", both.clone());
    let src = sb.write("in.yaml", plain("plain/sample.yaml"));
    let enc = ok(sb.sops(&["encrypt", "--age", &r1, src.to_str().unwrap()]));
    let f = sb.write("f.yaml", &enc);
    let f = f.to_str().unwrap();
    let expected = ok(sb.sops(&["decrypt", f]));

    ok(sb.sesame(&["groups", "add", "--file", f, "--age", &r2, "-i"]));
    let after_add = String::from_utf8(sb.read("f.yaml")).unwrap();
    assert!(after_add.contains("shamir_threshold: 2"), "{after_add}");
    // Values, lastmodified and mac are untouched.
    let data = |t: &str| {
        t.lines()
            .take_while(|l| *l != "sops:")
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        data(&after_add),
        data(&String::from_utf8(enc.clone()).unwrap())
    );
    assert_eq!(ok(sb.sops(&["decrypt", f])), expected);
    for one in [&id1, &id2] {
        let alone = Sandbox::new().env("SOPS_AGE_KEY", one.clone());
        let g = alone.write("g.yaml", after_add.as_bytes());
        let out = alone.sops(&["decrypt", g.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(128),
            "one group alone must not decrypt"
        );
    }

    ok(sb.sesame(&["groups", "delete", "--file", f, "1", "-i"]));
    let alone = Sandbox::new().env("SOPS_AGE_KEY", id1.clone());
    let g = alone.write("g.yaml", sb.read("f.yaml"));
    assert_eq!(ok(alone.sops(&["decrypt", g.to_str().unwrap()])), expected);
}

#[test]
fn rotate_adds_and_removes_recipients_readable_by_sops() {
    let (id1, r1) = new_age_key();
    let (id2, r2) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id1.clone());
    let src = sb.write("in.yaml", plain("plain/sample.yaml"));
    let enc = ok(sb.sops(&["encrypt", "--age", &r1, src.to_str().unwrap()]));
    let f = sb.write("f.yaml", &enc);
    let f = f.to_str().unwrap();
    let expected = ok(sb.sops(&["decrypt", f]));

    // Legacy form, with a key added to the first group.
    ok(sb.sesame(&["-r", "-i", "--add-age", &r2, f]));
    let rotated = sb.read("f.yaml");
    let new_key = Sandbox::new().env("SOPS_AGE_KEY", id2.clone());
    let g = new_key.write("g.yaml", &rotated);
    assert_eq!(
        ok(new_key.sops(&["decrypt", g.to_str().unwrap()])),
        expected
    );
    // Every value got new ciphertext under the new data key.
    let old = String::from_utf8_lossy(&enc);
    let new = String::from_utf8_lossy(&rotated);
    for line in new.lines().filter(|l| l.contains("ENC[")) {
        assert!(
            !old.contains(line),
            "unchanged ciphertext after rotate: {line}"
        );
    }

    ok(sb.sesame(&["rotate", "-i", "--rm-age", &r1, f]));
    let after = sb.read("f.yaml");
    let removed = Sandbox::new().env("SOPS_AGE_KEY", id1);
    let h = removed.write("h.yaml", &after);
    assert_eq!(
        removed
            .sops(&["decrypt", h.to_str().unwrap()])
            .status
            .code(),
        Some(128)
    );
    let kept = Sandbox::new().env("SOPS_AGE_KEY", id2);
    let k = kept.write("k.yaml", &after);
    assert_eq!(ok(kept.sops(&["decrypt", k.to_str().unwrap()])), expected);
}
