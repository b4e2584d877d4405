//! Compatibility with sops versions other than 3.11, on files each test makes: Python-era
//! metadata whose `version` is a number (sops 3 refuses them, sesame reads them: a deliberate
//! difference); a data key that is not 32 bytes (sops fails while decrypting values, exit 25;
//! so does sesame, with a clearer message); the age settings of sops 3.12/3.13
//! (`SOPS_AGE_RECIPIENT` for `SOPS_AGE_KEY_CMD`, several identities on one line,
//! `SOPS_AGE_SSH_PRIVATE_KEY_CMD`); 3.13.0/3.13.1 INI metadata; int64 JSON integers;
//! top-level `sops` entries refused as 3.12.2 does; old files' empty key lists dropped as sops
//! drops them; the metadata's field order (3.11's or 3.13's) and 3.13's inline comments kept
//! per file, new files in 3.11's layout unless `SESAME_LAYOUT=3.13`; `--indent` on every
//! subcommand as in 3.13.

mod common;

use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};

const PLAIN_YAML: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";
const PLAIN_JSON: &str = "{\n\t\"user\": \"admin\",\n\t\"port\": 5432\n}\n";

fn sandbox() -> Sandbox {
    Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY)
}

#[test]
fn python_era_numeric_versions_are_read() {
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN_YAML);
    sb.write("plain.json", PLAIN_JSON);
    let yaml = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.yaml",
    ])))
    .unwrap();
    let json = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.json",
    ])))
    .unwrap();
    let version_line = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("version:") || l.contains("\"version\":"))
            .unwrap()
            .to_string()
    };
    // A YAML float as the Python sops wrote it, and a JSON number.
    let old_yaml = yaml.replace(&version_line(&yaml), "    version: 0.90000000000000002");
    let old_json = json.replace(&version_line(&json), "\t\t\"version\": 1.6");
    sb.write("old.yaml", &old_yaml);
    sb.write("old.json", &old_json);
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "old.yaml"]))).unwrap(),
        PLAIN_YAML
    );
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "old.json"]))).unwrap(),
        PLAIN_JSON
    );
    // The real sops 3 refuses both.
    let err = fails(sb.sops(&["decrypt", "old.yaml"]), 1);
    assert!(err.contains("Major.Minor.Patch"), "{err}");
    let err = fails(sb.sops(&["decrypt", "old.json"]), 1);
    assert!(err.contains("cannot unmarshal number"), "{err}");
    // A one-value change keeps the file's own version line (no churn in the metadata).
    ok(sb.sesame(&["set", "old.yaml", r#"["port"]"#, "5433"]));
    let after = String::from_utf8(sb.read("old.yaml")).unwrap();
    assert!(after.contains("version: 0.90000000000000002"), "{after}");
    assert!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "old.yaml"])))
            .unwrap()
            .contains("port: 5433")
    );
}

#[test]
fn a_data_key_of_the_wrong_size_fails_as_in_sops() {
    let sb = sandbox();
    sb.write("plain.json", PLAIN_JSON);
    let json = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.json",
    ])))
    .unwrap();
    // The age entry now wraps a 16-byte data key (as some sops 2.0-era writers did).
    let short = sesame::keys::age::wrap(
        TEST_RECIPIENT,
        &[7u8; 16],
        &sesame::keys::age::PluginCallbacks::silent(),
    )
    .unwrap();
    let start = json.find("\"enc\": \"").unwrap() + "\"enc\": \"".len();
    let end = start + json[start..].find('"').unwrap();
    let text = format!(
        "{}{}{}",
        &json[..start],
        short.replace('\n', "\\n"),
        &json[end..]
    );
    sb.write("short.json", &text);
    let err = fails(sb.sesame(&["decrypt", "short.json"]), 25);
    assert!(err.contains("16 bytes instead of 32"), "{err}");
    fails(sb.sops(&["decrypt", "short.json"]), 25);
}

/// sops 3.12: `SOPS_AGE_KEY_CMD` runs with the recipient being decrypted in
/// `SOPS_AGE_RECIPIENT`, so a password manager can hand out the one identity it names. sesame
/// runs it once per recipient it tries, and the real sops reads the same setup.
#[test]
fn the_age_key_command_is_told_the_recipient() {
    let (a_id, a) = common::new_age_key();
    let (b_id, b) = common::new_age_key();
    let sb = Sandbox::new();
    let log = sb.path("runs.log").display().to_string();
    let script = sb.write(
        "key-for.sh",
        format!(
            "echo \"$SOPS_AGE_RECIPIENT\" >> {log}\nif [ \"$SOPS_AGE_RECIPIENT\" = \"{b}\" ]; then echo \"{b_id}\"; else echo \"no key for $SOPS_AGE_RECIPIENT\" >&2; exit 1; fi\n"
        ),
    );
    let sb = sb.env("SOPS_AGE_KEY_CMD", format!("sh {}", script.display()));
    sb.write("plain.yaml", PLAIN_YAML);
    // Two recipients, one group: the command knows only B's identity.
    let file = ok(sb.sesame(&["encrypt", "--age", &format!("{a},{b}"), "plain.yaml"]));
    assert!(
        !sb.path("runs.log").exists(),
        "encrypting runs no key command"
    );
    sb.write("s.yaml", &file);
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "s.yaml"]))).unwrap(),
        PLAIN_YAML
    );
    let runs = std::fs::read_to_string(&log).unwrap();
    assert!(runs.lines().all(|r| r == a || r == b), "{runs}");
    assert!(runs.lines().any(|r| r == b), "{runs}");
    assert!(
        runs.lines().filter(|r| *r == b).count() == 1,
        "once per recipient: {runs}"
    );
    std::fs::remove_file(&log).unwrap();
    assert_eq!(
        String::from_utf8(ok(sb.sops(&["decrypt", "s.yaml"]))).unwrap(),
        PLAIN_YAML
    );
    assert!(std::fs::read_to_string(&log).unwrap().contains(&b));
    // A file for A alone: the command's refusal is in the report.
    let only_a = Sandbox::new().env("SOPS_AGE_KEY_CMD", format!("sh {}", script.display()));
    only_a.write("plain.yaml", PLAIN_YAML);
    only_a.write(
        "a.yaml",
        ok(only_a.sesame(&["encrypt", "--age", &a, "plain.yaml"])),
    );
    let err = fails(only_a.sesame(&["decrypt", "a.yaml"]), 128);
    assert!(err.contains(&format!("no key for {a}")), "{err}");
    drop(a_id);
}

/// sops 3.13: `SOPS_AGE_KEY` may hold several identities on one line, separated by spaces.
#[test]
fn several_age_identities_on_one_line() {
    let (a_id, a) = common::new_age_key();
    let (b_id, _) = common::new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", format!("{b_id} {a_id}"));
    sb.write("plain.yaml", PLAIN_YAML);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", &a, "plain.yaml"])),
    );
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "s.yaml"]))).unwrap(),
        PLAIN_YAML
    );
}

/// sops 3.12: `SOPS_AGE_SSH_PRIVATE_KEY_CMD` prints the SSH private key to decrypt with.
#[test]
fn the_ssh_key_command() {
    let key = common::fixture("keys/ssh_ed25519");
    let public = std::fs::read_to_string(common::fixture("keys/ssh_ed25519.pub")).unwrap();
    let sb = Sandbox::new().env(
        "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
        format!("cat {}", key.display()),
    );
    sb.write("plain.yaml", PLAIN_YAML);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", public.trim(), "plain.yaml"])),
    );
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "s.yaml"]))).unwrap(),
        PLAIN_YAML
    );
    // Without it, no identity.
    let without = Sandbox::new();
    without.write("s.yaml", sb.read("s.yaml"));
    fails(without.sesame(&["decrypt", "s.yaml"]), 128);
}

/// sops 3.13.0 and 3.13.1 wrote INI metadata values with newlines as multi-line `"""` values
/// instead of `\n` escapes; 3.13.2 reads both, and so does sesame.
#[test]
fn ini_metadata_with_single_escaped_newlines() {
    let sb = sandbox();
    sb.write("plain.ini", "[db]\nuser = admin\npassword = s3cret\n");
    let file = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.ini",
    ])))
    .unwrap();
    assert!(file.contains("age__list_0__map_enc"), "{file}");
    let multi_line: String = file
        .lines()
        .map(|line| match line.split_once("= ") {
            Some((key, value)) if key.starts_with("age__list_0__map_enc") => {
                format!("{key}= \"\"\"{}\"\"\"\n", value.replace("\\n", "\n"))
            }
            _ => format!("{line}\n"),
        })
        .collect();
    assert!(multi_line.contains("\n-----END AGE ENCRYPTED FILE-----"));
    sb.write("s.ini", &multi_line);
    let plain = String::from_utf8(ok(sb.sesame(&["decrypt", "s.ini"]))).unwrap();
    assert!(plain.contains("password = s3cret"), "{plain}");
    assert!(
        String::from_utf8(ok(sb.sops(&["decrypt", "s.ini"])))
            .unwrap()
            .contains("s3cret")
    );
}

/// sops 3.13.2 keeps JSON integers that fit an int64 exactly (3.11 rounds them through a
/// float when it encrypts); sesame always did.
#[test]
fn json_integers_that_fit_int64_are_kept_exactly() {
    let sb = sandbox();
    let plain = "{\n\t\"big\": 9007199254740993,\n\t\"min\": -9223372036854775808,\n\t\"max\": 9223372036854775807\n}\n";
    sb.write("plain.json", plain);
    sb.write(
        "s.json",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.json"])),
    );
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "s.json"]))).unwrap(),
        plain
    );
    assert_eq!(
        String::from_utf8(ok(sb.sops(&["decrypt", "s.json"]))).unwrap(),
        plain
    );
}

/// A plain file with a top-level `sops` entry that is not a mapping cannot be encrypted:
/// exit 203 as sops; and no edit may add one (sops 3.12.2).
#[test]
fn a_top_level_sops_entry_is_refused() {
    let sb = sandbox();
    sb.write("a.json", r#"{"a": 1, "sops": 5}"#);
    sb.write("b.yaml", "a: 1\nsops: [1]\n");
    for file in ["a.json", "b.yaml"] {
        let err = fails(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, file]), 203);
        assert!(err.contains("top-level entry called 'sops'"), "{err}");
        fails(sb.sops(&["encrypt", "--age", TEST_RECIPIENT, file]), 203);
    }
}

/// The metadata's field names from `sops:` on, in file order (armor lines have no names).
fn metadata_fields(text: &str) -> Vec<String> {
    text[text.find("sops:").expect("a sops block")..]
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches([' ', '-']);
            let (name, _) = l.split_once(':')?;
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
                .then(|| name.to_string())
        })
        .collect()
}

/// Old sops versions wrote every key list, empty ones as `kms: []`; sops 3.11 and 3.13 drop
/// them on the next save, in every document of a multi-document file (empty ones too), and so
/// does sesame.
#[test]
fn an_old_files_empty_key_lists_are_dropped_as_sops_drops_them() {
    let sb = sandbox();
    sb.write("plain.yaml", "a: 1\n---\n---\nb: 2\n");
    let new = String::from_utf8(ok(sb.sops(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.yaml",
    ])))
    .unwrap();
    // The MAC covers values only, so the metadata can be made old-style by hand.
    let old = new.replace(
        "sops:\n    age:",
        "sops:\n    kms: []\n    gcp_kms: []\n    azure_kv: []\n    hc_vault: []\n    age:",
    );
    assert_eq!(old.matches("kms: []").count(), 6, "{old}");
    sb.write("by-sops.yaml", &old);
    sb.write("by-sesame.yaml", &old);
    ok(sb.sops(&["set", "by-sops.yaml", r#"["a"]"#, "5"]));
    ok(sb.sesame(&["set", "by-sesame.yaml", r#"["a"]"#, "5"]));
    let shape = |name: &str| -> Vec<String> {
        String::from_utf8(sb.read(name))
            .unwrap()
            .lines()
            .map(|l| match l.split_once(": ") {
                Some((k, _)) if ["a", "    mac", "    lastmodified"].contains(&k) => k.to_string(),
                _ => l.to_string(),
            })
            .collect()
    };
    let ours = shape("by-sesame.yaml");
    assert_eq!(ours, shape("by-sops.yaml"));
    assert!(!ours.iter().any(|l| l.ends_with("[]")), "{ours:#?}");
    assert!(
        String::from_utf8(ok(sb.sops(&["decrypt", "by-sesame.yaml"])))
            .unwrap()
            .starts_with("a: 5\n")
    );
}

/// sops 3.13 sorts the metadata's fields by name; 3.11 writes them in its record's order. A new
/// file follows 3.11 unless `SESAME_LAYOUT=3.13`; a file read keeps its own order
/// through every save, metadata changes included, so teams on both versions see no churn.
#[test]
fn the_metadata_keeps_the_order_it_was_written_in() {
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN_YAML);
    let (_, second) = common::new_age_key();
    let recipients = format!("{TEST_RECIPIENT},{second}");
    let encrypt = |sb: &Sandbox, tool: &str| {
        let args = ["encrypt", "--age", recipients.as_str(), "plain.yaml"];
        let out = if tool == "sops" {
            sb.sops(&args)
        } else {
            sb.sesame(&args)
        };
        String::from_utf8(ok(out)).unwrap()
    };
    let by_sops = encrypt(&sb, "sops");
    let declared = metadata_fields(&by_sops);
    assert_eq!(
        declared[..4],
        ["sops", "age", "recipient", "enc"],
        "{by_sops}"
    );
    assert_eq!(metadata_fields(&encrypt(&sb, "sesame")), declared);
    let sorted_sb = sandbox().env("SESAME_LAYOUT", "3.13");
    sorted_sb.write("plain.yaml", PLAIN_YAML);
    let by_313 = encrypt(&sorted_sb, "sesame");
    let sorted = metadata_fields(&by_313);
    assert_eq!(sorted[..4], ["sops", "age", "enc", "recipient"], "{by_313}");

    // Rotation rewrites the whole block (a new data key): each file keeps its order, and
    // sesame's rotation of sops's file has the shape of sops's own.
    sb.write("a.yaml", &by_sops);
    sb.write("b.yaml", &by_sops);
    sb.write("c.yaml", &by_313);
    ok(sb.sops(&["rotate", "-i", "a.yaml"]));
    ok(sb.sesame(&["rotate", "-i", "b.yaml"]));
    ok(sb.sesame(&["rotate", "-i", "c.yaml"]));
    let text = |name: &str| String::from_utf8(sb.read(name)).unwrap();
    assert_ne!(text("b.yaml"), by_sops);
    assert_eq!(metadata_fields(&text("a.yaml")), declared);
    assert_eq!(metadata_fields(&text("b.yaml")), declared);
    assert_eq!(metadata_fields(&text("c.yaml")), sorted);
    // So does a value change, and either order reads in the real sops.
    ok(sb.sesame(&["set", "c.yaml", r#"["port"]"#, "1"]));
    assert_eq!(metadata_fields(&text("c.yaml")), sorted);
    for name in ["b.yaml", "c.yaml"] {
        assert!(
            String::from_utf8(ok(sb.sops(&["decrypt", name])))
                .unwrap()
                .contains("password: s3cret")
        );
    }

    let unknown = sandbox().env("SESAME_LAYOUT", "3.14");
    unknown.write("plain.yaml", PLAIN_YAML);
    let err = fails(
        unknown.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"]),
        1,
    );
    assert!(
        err.contains("SESAME_LAYOUT") && err.contains("3.13"),
        "{err}"
    );
}

/// sops 3.13 keeps a comment after a value inline (`a: 1 # note`); 3.11 moves it to its own
/// line above. A new file follows 3.11 unless `SESAME_LAYOUT=3.13`; a file with inline
/// comments keeps them inline through every save.
#[test]
fn inline_comments_stay_where_the_file_has_them() {
    const PLAIN: &str = "# head\nuser: admin # who\nport: 5432\n";
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN);
    let args = ["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"];
    let masked = |text: &str| -> Vec<String> {
        text.lines()
            .take_while(|l| *l != "sops:")
            .map(|l| {
                l.split("ENC[")
                    .enumerate()
                    .map(|(i, part)| match (i, part.split_once(']')) {
                        (0, _) | (_, None) => part.to_string(),
                        (_, Some((_, rest))) => format!("ENC[..]{rest}"),
                    })
                    .collect()
            })
            .collect()
    };
    let by_sops = String::from_utf8(ok(sb.sops(&args))).unwrap();
    let by_sesame = String::from_utf8(ok(sb.sesame(&args))).unwrap();
    assert_eq!(masked(&by_sesame), masked(&by_sops));
    assert_eq!(
        masked(&by_sesame)[..3],
        ["#ENC[..]", "#ENC[..]", "user: ENC[..]"],
        "{by_sesame}"
    );

    let sorted = sandbox().env("SESAME_LAYOUT", "3.13");
    sorted.write("plain.yaml", PLAIN);
    let by_313 = String::from_utf8(ok(sorted.sesame(&args))).unwrap();
    assert_eq!(
        masked(&by_313)[..2],
        ["#ENC[..]", "user: ENC[..] #ENC[..]"],
        "{by_313}"
    );
    sb.write("inline.yaml", &by_313);
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "inline.yaml"]))).unwrap(),
        PLAIN
    );
    // A value change elsewhere keeps the comment inline and its ciphertext as it was.
    ok(sb.sesame(&["set", "inline.yaml", r#"["port"]"#, "5433"]));
    let after = String::from_utf8(sb.read("inline.yaml")).unwrap();
    let line = |text: &str| text.lines().nth(1).unwrap().to_string();
    assert_eq!(line(&after), line(&by_313));
    assert_eq!(
        String::from_utf8(ok(sb.sesame(&["decrypt", "inline.yaml"]))).unwrap(),
        PLAIN.replace("5432", "5433")
    );
    // sops 3.11 reads it (writing the comment on its own line, its own layout).
    assert_eq!(
        String::from_utf8(ok(sb.sops(&["decrypt", "inline.yaml"]))).unwrap(),
        "# head\n# who\nuser: admin\nport: 5433\n"
    );
}

/// sops 3.13: `--indent` counts for every subcommand that writes (3.11 and 3.12 ignored it after
/// a subcommand name), and a file rewritten with it is indented throughout, metadata included;
/// `updatekeys` writes with the `.sops.yaml` store settings alone, as in sops.
#[test]
fn indent_counts_for_every_subcommand() {
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN_YAML);
    let four = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.yaml",
    ])))
    .unwrap();
    assert!(four.contains("\n    user: ENC["), "{four}");
    // Every nested line of a two-space file starts with an even number of spaces, and some
    // with exactly two (four-space files have none).
    let two_spaced = |text: &str| {
        text.lines()
            .any(|l| l.starts_with("  ") && !l.starts_with("   "))
            && text.lines().all(|l| {
                let n = l.len() - l.trim_start().len();
                n % 2 == 0
            })
            && !text.contains("\n    user:")
            && !text.contains("\n    age:")
    };
    let encrypted = String::from_utf8(ok(sb.sesame(&[
        "--indent",
        "2",
        "encrypt",
        "--age",
        TEST_RECIPIENT,
        "plain.yaml",
    ])))
    .unwrap();
    assert!(two_spaced(&encrypted), "{encrypted}");
    sb.write("s.yaml", &four);
    let plain = String::from_utf8(ok(sb.sesame(&["decrypt", "--indent", "2", "s.yaml"]))).unwrap();
    assert_eq!(plain, PLAIN_YAML.replace("    ", "  "));
    let in_place: [&[&str]; 4] = [
        &["--indent", "2", "set", "f.yaml", r#"["port"]"#, "1"],
        &["unset", "--indent", "2", "f.yaml", r#"["port"]"#],
        &["rotate", "--indent", "2", "-i", "f.yaml"],
        &[
            "groups",
            "add",
            "--indent",
            "2",
            "-i",
            "--file",
            "f.yaml",
            "--age",
            TEST_RECIPIENT,
        ],
    ];
    for args in in_place {
        sb.write("f.yaml", &four);
        ok(sb.sesame(args));
        let text = String::from_utf8(sb.read("f.yaml")).unwrap();
        assert!(two_spaced(&text), "{args:?}:\n{text}");
        let out = String::from_utf8(ok(sb.sops(&["decrypt", "f.yaml"]))).unwrap();
        assert!(out.contains("password: s3cret"), "{args:?}: {out}");
    }
    let exec = String::from_utf8(ok(sb.sesame(&[
        "--indent",
        "2",
        "exec-file",
        "s.yaml",
        "cat {}",
    ])))
    .unwrap();
    assert_eq!(exec, PLAIN_YAML.replace("    ", "  "));
    // updatekeys goes by `.sops.yaml` alone, as sops's does.
    let (_, other) = common::new_age_key();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {TEST_RECIPIENT},{other}\n"),
    );
    sb.write("f.yaml", &four);
    ok(sb.sesame(&["updatekeys", "--indent", "2", "-y", "f.yaml"]));
    let text = String::from_utf8(sb.read("f.yaml")).unwrap();
    assert!(
        text.contains(&other) && text.contains("\n    user: ENC["),
        "{text}"
    );
    // Without the flag a file keeps its own indentation.
    sb.write("f.yaml", &encrypted);
    ok(sb.sesame(&["set", "f.yaml", r#"["port"]"#, "1"]));
    assert!(two_spaced(&String::from_utf8(sb.read("f.yaml")).unwrap()));
}
