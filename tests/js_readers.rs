//! Independent readers of what sesame writes, besides the real sops: the JavaScript packages
//! `sops-age` (age keys; YAML, JSON, dotenv) and `sops-decoder` (AWS KMS; JSON), installed from
//! npm by `scripts/install-tools.sh` and run under the project's Node.js; and `age-encryption`,
//! the TypeScript age by age's author, for hybrid post-quantum age keys (`age1pq1…`) both ways.
//! Each file decrypts to what the real sops decrypts it to. Never skipped.
//!
//! Their limits, not ours (sops writes these too): `sops-age` reads no INI or binary files and,
//! on age-encryption 0.2, no post-quantum keys; `sops-decoder` reads only JSON files with
//! top-level AWS KMS keys.

mod common;
#[path = "kms/server.rs"]
mod server;

use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, ok};
use server::{ACCESS_KEY, REGION, SECRET_KEY, Server};
use std::str::FromStr;

const PLAIN_YAML: &str = "\
db:
    user: admin
    password: s3cr=t \u{e9}\u{1f511}
    port: 5432
    ratio: 0.25
    enabled: true
hosts:
    - a.example
    - b.example
multi: |
    line one
    line two
note_unencrypted: visible
";
const PLAIN_JSON: &str = "{\n\t\"api\": {\n\t\t\"token\": \"t0k\\\"en\",\n\t\t\"retries\": 3,\n\t\t\"weights\": [1.5, 2],\n\t\t\"on\": false\n\t},\n\t\"name\": \"caf\u{e9}\"\n}\n";
const PLAIN_ENV: &str = "USER=admin\nPASSWORD=s3cr=t\nEMPTY=\nURL=https://example.com/?a=1&b=2\n";

/// The real sops's decryption of `name` as canonical JSON, for comparison.
fn sops_json(sb: &Sandbox, name: &str) -> String {
    let json = ok(sb.sops(&["decrypt", "--output-type", "json", name]));
    String::from_utf8(ok(sb.node(&[], &["canon"], Some(&json)))).unwrap()
}

#[test]
fn sops_age_reads_every_format_sesame_writes() {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    let (second_id, second) = common::new_age_key();
    let recipients = format!("{second},{TEST_RECIPIENT}");
    for (name, plain, file_type, secret) in [
        ("s.yaml", PLAIN_YAML, "yaml", "s3cr=t"),
        ("s.json", PLAIN_JSON, "json", "t0k"),
        ("s.env", PLAIN_ENV, "env", "s3cr=t"),
    ] {
        sb.write(&format!("plain-{name}"), plain);
        let encrypted = ok(sb.sesame(&[
            "encrypt",
            "--age",
            &recipients,
            "--filename-override",
            name,
            &format!("plain-{name}"),
        ]));
        sb.write(name, &encrypted);
        let path = sb.path(name);
        let read = |sb: &Sandbox, key: &str| {
            let out = sb.node(
                &[("SESAME_JS_AGE_KEY", key)],
                &["sops-age", path.to_str().unwrap(), file_type],
                None,
            );
            String::from_utf8(ok(out)).unwrap()
        };
        let expected = sops_json(&sb, name);
        assert!(expected.contains(secret), "{expected}");
        assert_eq!(read(&sb, TEST_IDENTITY), expected, "{name}");
        assert_eq!(
            read(&sb, &second_id),
            expected,
            "{name} with the other recipient"
        );
        // After sesame changes one value (new IV, MAC and lastmodified), they still agree.
        let (path_expr, value) = match file_type {
            "env" => (r#"["USER"]"#, r#""root""#),
            "json" => (r#"["api"]["retries"]"#, "4"),
            _ => (r#"["db"]["port"]"#, "5433"),
        };
        ok(sb.sesame(&["set", name, path_expr, value]));
        let expected = sops_json(&sb, name);
        assert!(
            expected.contains("root") || expected.contains('4'),
            "{expected}"
        );
        assert_eq!(read(&sb, TEST_IDENTITY), expected, "{name} after set");
    }
}

#[test]
fn sops_decoder_reads_sesames_kms_json() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = Sandbox::new()
        .env("AWS_ENDPOINT_URL", server.endpoint.as_str())
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    sb.write("plain.json", PLAIN_JSON);
    sb.write(
        "s.json",
        ok(sb.sesame(&["encrypt", "--kms", &arn, "plain.json"])),
    );
    let path = sb.path("s.json");
    let read = || {
        String::from_utf8(ok(sb.node(
            &[],
            &["sops-decoder", path.to_str().unwrap()],
            None,
        )))
    };
    let expected = sops_json(&sb, "s.json");
    assert!(expected.contains("t0k"), "{expected}");
    assert_eq!(read().unwrap(), expected);
    ok(sb.sesame(&["set", "s.json", r#"["name"]"#, r#""renamed""#]));
    let expected = sops_json(&sb, "s.json");
    assert!(expected.contains("renamed"), "{expected}");
    assert_eq!(read().unwrap(), expected);
}

/// The `enc` block of the first age recipient of a YAML file, as an armored age file.
fn first_age_enc(text: &str) -> String {
    let start = text.find("enc: |\n").expect("an age enc block") + "enc: |\n".len();
    text[start..]
        .lines()
        .take_while(|l| !l.trim_start().starts_with("-----END"))
        .chain(std::iter::once("-----END AGE ENCRYPTED FILE-----"))
        .map(|l| l.trim().to_string() + "\n")
        .collect()
}

/// Hybrid post-quantum age keys (ML-KEM-768 + X25519), which sops reads since 3.12: keys made
/// by the TypeScript age derive the same recipient in sesame, each implementation opens what
/// the other wrapped, and sops-format files with such recipients are read and written.
#[test]
fn hybrid_post_quantum_age_keys_both_ways() {
    use sesame::keys::age::hybrid;
    let sb = Sandbox::new();
    // Their key, our derivation of its recipient.
    let keygen = String::from_utf8(ok(sb.node(&[], &["age-keygen"], None))).unwrap();
    let (their_id, their_recipient) = keygen.trim().split_once('\n').unwrap();
    assert!(their_id.starts_with("AGE-SECRET-KEY-PQ-1"), "{keygen}");
    assert_eq!(
        hybrid::Identity::from_str(their_id)
            .unwrap()
            .to_public()
            .to_string(),
        their_recipient
    );
    // Our key: the TypeScript age encrypts to its recipient below.
    let ours = hybrid::Identity::generate();
    let our_id = ours.to_secret_string().to_string();
    let our_recipient = ours.to_public().to_string();

    // sesame writes a file for their recipient and ours; the TypeScript age unwraps the data
    // key from the first, sesame opens the file with either identity.
    const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\n";
    sb.write("plain.yaml", PLAIN);
    let recipients = format!("{their_recipient},{our_recipient}");
    let text = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--age",
        &recipients,
        "plain.yaml",
    ])))
    .unwrap();
    assert!(text.contains(&format!("recipient: {their_recipient}")));
    sb.write("s.yaml", &text);
    for id in [their_id, our_id.as_str()] {
        let out = ok(sb.sesame_with(&[("SOPS_AGE_KEY", id)], &["decrypt", "s.yaml"]));
        assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    }
    let their_unwrap = |text: &str| {
        String::from_utf8(ok(sb.node(
            &[("SESAME_JS_AGE_KEY", their_id)],
            &["age-decrypt"],
            Some(first_age_enc(text).as_bytes()),
        )))
        .unwrap()
    };
    let data_key = their_unwrap(&text);
    assert_eq!(data_key.trim().len(), 64, "a 32-byte data key: {data_key}");

    // The TypeScript age wraps that data key for our recipient; a sops file whose only entry
    // it wrote opens in sesame, and sesame writes it on.
    let armored = String::from_utf8(ok(sb.node(
        &[],
        &["age-encrypt", &our_recipient],
        Some(data_key.trim().as_bytes()),
    )))
    .unwrap();
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let block: String = armored
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    let start = text.find("    age:\n").unwrap();
    let end = text.find("    lastmodified:").unwrap();
    let theirs = format!(
        "{}    age:\n        - recipient: {our_recipient}\n          enc: |\n{block}{}",
        &text[..start],
        &text[end..]
    );
    sb.write("theirs.yaml", &theirs);
    let ours_only = |args: &[&str]| sb.sesame_with(&[("SOPS_AGE_KEY", &our_id)], args);
    assert_eq!(
        String::from_utf8(ok(ours_only(&["decrypt", "theirs.yaml"]))).unwrap(),
        PLAIN
    );
    ok(ours_only(&[
        "set",
        "theirs.yaml",
        r#"["db"]["user"]"#,
        r#""root""#,
    ]));
    // A rotation adds their recipient back: the new data key, wrapped by sesame, opens in the
    // TypeScript age.
    ok(ours_only(&[
        "rotate",
        "-i",
        "--add-age",
        their_recipient,
        "theirs.yaml",
    ]));
    let rotated = String::from_utf8(sb.read("theirs.yaml")).unwrap();
    assert!(rotated.contains(&our_recipient) && rotated.contains(their_recipient));
    let out = String::from_utf8(ok(ours_only(&["decrypt", "theirs.yaml"]))).unwrap();
    assert!(out.contains("user: root"), "{out}");
    let their_entry = &rotated[rotated
        .find(&format!("recipient: {their_recipient}"))
        .unwrap()..];
    let new_key = their_unwrap(their_entry);
    assert_eq!(new_key.trim().len(), 64);
    assert_ne!(new_key, data_key, "rotated");
    // An identity the file is not for opens nothing, and the error names the recipients.
    let stranger = hybrid::Identity::generate().to_secret_string().to_string();
    let err = common::fails(
        sb.sesame_with(&[("SOPS_AGE_KEY", &stranger)], &["decrypt", "theirs.yaml"]),
        128,
    );
    assert!(err.contains(&our_recipient[..20]), "{err}");
}
