//! Files older sops versions wrote, each made by the test: Python-era metadata whose `version`
//! is a number (sops 3 refuses them, sesame reads them: a deliberate difference), and a data
//! key that is not 32 bytes (sops fails while decrypting values, exit 25; so does sesame, with
//! a clearer message).

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
