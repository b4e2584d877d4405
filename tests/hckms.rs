//! HuaweiCloud KMS keys against a loopback KMS built from the official Python SDK
//! (tests/servers/hckms.py: the SDK's models, and its own signer checking every signature) and
//! the real sops, which reaches it through the SDK's endpoint variable: files each writes, the
//! other reads; sesame's signer against the official one; the credentials file; `set`,
//! `updatekeys`, `rotate` and `.sops.yaml`; every failure cause with its message, sops's exit
//! code and no secret key in sight.

mod common;

use common::cloud::CloudServer;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};
use std::net::TcpListener;

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";
const KEY: &str = "cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const SECRET_KEY: &str = "good-sk";

fn start() -> CloudServer {
    CloudServer::start("hckms.py")
}

/// A sandbox that trusts the test CA and sends cn-north-4's KMS calls to the server, with no
/// credentials.
fn bare(kms: &CloudServer) -> Sandbox {
    Sandbox::new()
        .env("SSL_CERT_FILE", kms.file("ca.pem").display().to_string())
        .env(
            "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
            format!("https://127.0.0.1:{}", kms.port("https")),
        )
}

/// `bare` with an access key that may use every key.
fn with_keys(kms: &CloudServer) -> Sandbox {
    bare(kms)
        .env("HUAWEICLOUD_SDK_AK", "good-ak")
        .env("HUAWEICLOUD_SDK_SK", SECRET_KEY)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "test-project-id")
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

/// The official SDK works against the server, and sesame's signature for the SDK's fixed
/// inputs is the one the SDK's signer computes.
#[test]
fn the_official_sdk_proves_the_server_and_sesames_signer() {
    let kms = start();
    let said = kms.run_script(
        "hckms_official_client.py",
        &[
            kms.state.path().display().to_string(),
            kms.port("https").to_string(),
        ],
    );
    assert!(said.contains("official client: ok"), "{said}");
    let theirs = said
        .lines()
        .find_map(|l| l.strip_prefix("vector: "))
        .expect("the SDK's vector");
    let ours = sesame::keys::hckms::authorization(
        "AKVECTOR",
        "SKVECTOR",
        "POST",
        "/v1.0/test-project-id/kms/encrypt-data",
        &[
            ("content-type", "application/json".to_string()),
            ("host", "kms.cn-north-4.myhuaweicloud.com".to_string()),
            ("x-project-id", "test-project-id".to_string()),
            ("x-sdk-date", "20261204T120000Z".to_string()),
        ],
        br#"{"key_id":"k","plain_text":"cA=="}"#,
    );
    assert_eq!(ours, theirs);
}

#[test]
fn files_go_both_ways_with_sops() {
    let kms = start();
    let sb = with_keys(&kms);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "by-sops.yaml",
        ok(sb.sops(&["encrypt", "--hckms", KEY, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sesame(&["decrypt", "by-sops.yaml"])), PLAIN);
    sb.write(
        "by-sesame.yaml",
        ok(sb.sesame(&["encrypt", "--hckms", KEY, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "by-sesame.yaml"])), PLAIN);
    let env = with_keys(&kms).env("SOPS_HUAWEICLOUD_KMS_IDS", KEY);
    env.write("plain.yaml", PLAIN);
    env.write("env.yaml", ok(env.sesame(&["encrypt", "plain.yaml"])));
    assert_eq!(decrypted(env.sops(&["decrypt", "env.yaml"])), PLAIN);

    let ours = String::from_utf8(sb.read("by-sesame.yaml")).unwrap();
    let theirs = String::from_utf8(sb.read("by-sops.yaml")).unwrap();
    // The entry has sops's fields in sops 3.11's order (new files follow it by default).
    assert_eq!(
        common::entry_fields(&ours, "hckms:"),
        common::entry_fields(&theirs, "hckms:")
    );
    let mut sorted = common::entry_fields(&theirs, "hckms:");
    sorted.sort();
    assert_eq!(sorted, ["created_at", "enc", "key_id"], "{ours}");

    // A one-value set on sops's file changes that value, lastmodified and the MAC only.
    common::assert_one_value_set_is_minimal(&sb, "by-sops.yaml", &theirs);
}

/// The SDK's credentials file (`[basic]` ak, sk, project_id), found in HOME or through
/// HUAWEICLOUD_SDK_CREDENTIALS_FILE, by sesame and by sops.
#[test]
fn the_credentials_file() {
    let kms = start();
    let seed = with_keys(&kms);
    seed.write("plain.yaml", PLAIN);
    let file = ok(seed.sesame(&["encrypt", "--hckms", KEY, "plain.yaml"]));
    let profile = "[basic]\nak = good-ak\nsk = good-sk\nproject_id = test-project-id\n";
    let home = bare(&kms);
    home.write("home/.huaweicloud/credentials", profile);
    home.write("s.yaml", &file);
    assert_eq!(decrypted(home.sesame(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(home.sops(&["decrypt", "s.yaml"])), PLAIN);
    let named = bare(&kms);
    let path = named.write("creds.ini", profile);
    let named = named.env(
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        path.display().to_string(),
    );
    named.write("s.yaml", &file);
    assert_eq!(decrypted(named.sesame(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn updatekeys_rotate_and_creation_rules() {
    let kms = start();
    let sb = with_keys(&kms).env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"])),
    );
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - hckms: {KEY}\n    age: {TEST_RECIPIENT}\n"),
    );
    ok(sb.sesame(&["updatekeys", "-y", "s.yaml"]));
    let kms_only = with_keys(&kms);
    kms_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(kms_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "s.yaml"]));
    kms_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(kms_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "--rm-hckms", KEY, "s.yaml"]));
    assert!(
        !String::from_utf8(sb.read("s.yaml"))
            .unwrap()
            .contains("hckms:\n")
    );
    let other = "cn-north-4:1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    ok(sb.sesame(&["rotate", "-i", "--add-hckms", other, "s.yaml"]));
    kms_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(kms_only.sops(&["decrypt", "s.yaml"])), PLAIN);

    let rules = with_keys(&kms);
    rules.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - hckms:\n          - key_id: {KEY}\n      - age: [{TEST_RECIPIENT}]\n"
        ),
    );
    rules.write("plain.yaml", PLAIN);
    rules.write("s.yaml", ok(rules.sesame(&["encrypt", "plain.yaml"])));
    let both = with_keys(&kms).env("SOPS_AGE_KEY", TEST_IDENTITY);
    both.write("s.yaml", rules.read("s.yaml"));
    assert_eq!(decrypted(both.sops(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(both.sesame(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn each_failure_names_its_cause_and_never_the_secret_key() {
    let kms = start();
    let sb = with_keys(&kms);
    sb.write("plain.yaml", PLAIN);
    let file =
        String::from_utf8(ok(sb.sesame(&["encrypt", "--hckms", KEY, "plain.yaml"]))).unwrap();
    let wrong_secret = "AnotherSecretKey4711";
    let missing = "00000000-0000-0000-0000-000000000000";
    let disabled = "dddddddd-0000-0000-0000-000000000000";
    let cases: Vec<(Sandbox, String, &str)> = vec![
        (
            with_keys(&kms).env("HUAWEICLOUD_SDK_SK", wrong_secret),
            file.clone(),
            "HuaweiCloud KMS refused the access key",
        ),
        (
            with_keys(&kms)
                .env("HUAWEICLOUD_SDK_AK", "reader-ak")
                .env("HUAWEICLOUD_SDK_SK", "reader-sk"),
            file.clone(),
            "HuaweiCloud KMS refused the access key",
        ),
        (
            bare(&kms),
            file.clone(),
            "no HuaweiCloud credentials were found",
        ),
        (
            bare(&kms)
                .env("HUAWEICLOUD_SDK_AK", "good-ak")
                .env("HUAWEICLOUD_SDK_SK", SECRET_KEY),
            file.clone(),
            "set HUAWEICLOUD_SDK_PROJECT_ID",
        ),
    ];
    for (case, text, says) in cases {
        case.write("s.yaml", &text);
        let err = fails(case.sesame(&["decrypt", "s.yaml"]), 128);
        assert!(err.contains(says), "{says}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(
            !err.contains(wrong_secret) && !err.contains(SECRET_KEY),
            "no secret key in: {err}"
        );
        if !says.contains("PROJECT_ID") {
            // (The SDK in sops asks IAM for a missing project id; there is no IAM here.)
            fails(case.sops(&["decrypt", "s.yaml"]), 128);
        }
    }
    // A key id that is not REGION:UUID: the file does not load, in sops's words and exit code.
    let bad = with_keys(&kms);
    bad.write(
        "s.yaml",
        file.replace(&format!("key_id: {KEY}"), "key_id: nocolon"),
    );
    let err = fails(bad.sesame(&["decrypt", "s.yaml"]), 1);
    let theirs = fails(bad.sops(&["decrypt", "s.yaml"]), 1);
    assert!(err.contains(theirs.trim()), "{err}\nsops: {theirs}");
    // Keys the service cannot use: encrypting writes nothing and exits 1, as sops.
    for (uuid, says) in [
        (missing, "has no such key"),
        (disabled, "cannot use the key now"),
    ] {
        let id = format!("cn-north-4:{uuid}");
        let err = fails(sb.sesame(&["encrypt", "--hckms", &id, "plain.yaml"]), 1);
        assert!(err.contains(says), "{err}");
        fails(sb.sops(&["encrypt", "--hckms", &id, "plain.yaml"]), 1);
    }
    // A service that never answers is cut off by the timeout.
    let slow = with_keys(&kms).env("SESAME_SERVICE_TIMEOUT", "2");
    slow.write("plain.yaml", PLAIN);
    let hang = "cn-north-4:99999999-0000-0000-0000-000000000000";
    let started = std::time::Instant::now();
    let err = fails(slow.sesame(&["encrypt", "--hckms", hang, "plain.yaml"]), 1);
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // An endpoint nothing listens on.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = with_keys(&kms).env(
        "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
        format!("https://127.0.0.1:{dead}"),
    );
    unreachable.write("s.yaml", &file);
    let err = fails(unreachable.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(
        err.contains("could not be reached")
            && err.contains("HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4"),
        "{err}"
    );
}
