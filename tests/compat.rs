//! Compatibility with sops versions other than 3.11, on files each test makes: Python-era
//! metadata whose `version` is a number (sops 3 refuses them, sesame reads them: a deliberate
//! difference); a data key that is not 32 bytes (sops fails while decrypting values, exit 25;
//! so does sesame, with a clearer message); the age settings of sops 3.12/3.13
//! (`SOPS_AGE_RECIPIENT` for `SOPS_AGE_KEY_CMD`, several identities on one line,
//! `SOPS_AGE_SSH_PRIVATE_KEY_CMD`); 3.13.0/3.13.1 INI metadata; int64 JSON integers; and
//! top-level `sops` entries refused as 3.12.2 does.

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
