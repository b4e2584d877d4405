//! GCP Cloud KMS keys against a loopback Cloud KMS built from Google's own message types
//! (tests/servers/gcp_kms.py, proven by Google's Python client on gRPC and REST) and the real
//! sops, which reaches it as cloudkms.googleapis.com through a CONNECT proxy and a test CA:
//! files each writes, the other reads; every credential source sops reads; `set`,
//! `updatekeys`, `rotate` and `.sops.yaml`; every failure cause with its message, sops's exit
//! code and no token in sight.

mod common;

use common::cloud::CloudServer;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};
use std::net::TcpListener;

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";
const KEY: &str = "projects/test-project/locations/global/keyRings/sops/cryptoKeys/files";

fn key(name: &str) -> String {
    format!("projects/test-project/locations/global/keyRings/sops/cryptoKeys/{name}")
}

fn start() -> CloudServer {
    CloudServer::start("gcp_kms.py")
}

/// A sandbox holding a token the server accepts.
fn with_token(gcp: &CloudServer) -> Sandbox {
    gcp.sandbox().env("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token")
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

#[test]
fn the_test_server_answers_googles_own_client_on_grpc_and_rest() {
    let gcp = start();
    let said = gcp.run_script(
        "gcp_kms_official_client.py",
        &[
            gcp.state.path().display().to_string(),
            gcp.port("grpc").to_string(),
            gcp.port("rest").to_string(),
            gcp.port("proxy").to_string(),
        ],
    );
    assert!(said.contains("official client: ok"), "{said}");
}

#[test]
fn files_go_both_ways_with_sops() {
    let gcp = start();
    let sb = with_token(&gcp);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "by-sops.yaml",
        ok(sb.sops(&["encrypt", "--gcp-kms", KEY, "plain.yaml"])),
    );
    // sops spoke gRPC to "cloudkms.googleapis.com" through the proxy.
    assert!(
        gcp.file_text("proxy.log")
            .contains("cloudkms.googleapis.com:443")
    );
    assert_eq!(decrypted(sb.sesame(&["decrypt", "by-sops.yaml"])), PLAIN);
    sb.write(
        "by-sesame.yaml",
        ok(sb.sesame(&["encrypt", "--gcp-kms", KEY, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "by-sesame.yaml"])), PLAIN);
    // SOPS_GCP_KMS_IDS names the key as the flag does.
    let env = with_token(&gcp).env("SOPS_GCP_KMS_IDS", KEY);
    env.write("plain.yaml", PLAIN);
    env.write("env.yaml", ok(env.sesame(&["encrypt", "plain.yaml"])));
    assert_eq!(decrypted(env.sops(&["decrypt", "env.yaml"])), PLAIN);

    let ours = String::from_utf8(sb.read("by-sesame.yaml")).unwrap();
    let theirs = String::from_utf8(sb.read("by-sops.yaml")).unwrap();
    // The entry has sops's fields in sops 3.11's order (new files follow it by default).
    assert_eq!(
        common::entry_fields(&ours, "gcp_kms:"),
        common::entry_fields(&theirs, "gcp_kms:")
    );
    let mut sorted = common::entry_fields(&theirs, "gcp_kms:");
    sorted.sort();
    assert_eq!(sorted, ["created_at", "enc", "resource_id"], "{ours}");

    // A one-value set on sops's file changes that value, lastmodified and the MAC only.
    common::assert_one_value_set_is_minimal(&sb, "by-sops.yaml", &theirs);
}

/// Every credential source sops reads, each on its own: a service-account key file
/// (GOOGLE_CREDENTIALS as a path), authorized-user JSON inline (its token endpoint is
/// oauth2.googleapis.com, reached through the proxy), GOOGLE_APPLICATION_CREDENTIALS, gcloud's
/// application default credentials file, and the metadata server.
#[test]
fn every_credential_source_sops_reads() {
    let gcp = start();
    let seed = with_token(&gcp);
    seed.write("plain.yaml", PLAIN);
    let file = ok(seed.sops(&["encrypt", "--gcp-kms", KEY, "plain.yaml"]));
    let sa = gcp.file("sa.json").display().to_string();
    let user = gcp.file_text("user.json");
    let sources: Vec<(&str, Sandbox)> = vec![
        (
            "service account",
            gcp.sandbox().env("GOOGLE_CREDENTIALS", sa.clone()),
        ),
        (
            "authorized user",
            gcp.sandbox().env("GOOGLE_CREDENTIALS", user.clone()),
        ),
        (
            "application default",
            gcp.sandbox()
                .env("GOOGLE_APPLICATION_CREDENTIALS", sa.clone()),
        ),
        (
            "metadata server",
            gcp.sandbox().env(
                "GCE_METADATA_HOST",
                format!("127.0.0.1:{}", gcp.port("metadata")),
            ),
        ),
    ];
    for (what, sb) in sources {
        sb.write("s.yaml", &file);
        assert_eq!(
            decrypted(sb.sesame(&["decrypt", "s.yaml"])),
            PLAIN,
            "{what}"
        );
        sb.write("plain.yaml", PLAIN);
        sb.write(
            "new.yaml",
            ok(sb.sesame(&["encrypt", "--gcp-kms", KEY, "plain.yaml"])),
        );
        seed.write("check.yaml", sb.read("new.yaml"));
        assert_eq!(
            decrypted(seed.sops(&["decrypt", "check.yaml"])),
            PLAIN,
            "{what}"
        );
    }
    // The real sops reads the same service-account and user credentials.
    for creds in [sa.clone(), user] {
        let sb = gcp.sandbox().env("GOOGLE_CREDENTIALS", creds);
        sb.write("s.yaml", &file);
        assert_eq!(decrypted(sb.sops(&["decrypt", "s.yaml"])), PLAIN);
    }
    assert!(
        gcp.file_text("proxy.log")
            .contains("oauth2.googleapis.com:443")
    );
    // gcloud's file in HOME/.config/gcloud.
    let gcloud = gcp.sandbox();
    gcloud.write(
        "home/.config/gcloud/application_default_credentials.json",
        std::fs::read(&sa).unwrap(),
    );
    gcloud.write("s.yaml", &file);
    assert_eq!(decrypted(gcloud.sesame(&["decrypt", "s.yaml"])), PLAIN);
    // SOPS_GCP_KMS_ENDPOINT: straight to the REST port, no proxy, TLS with the test CA.
    let direct = Sandbox::new()
        .env("SSL_CERT_FILE", gcp.file("ca.pem").display().to_string())
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token")
        .env(
            "SOPS_GCP_KMS_ENDPOINT",
            format!("127.0.0.1:{}", gcp.port("rest")),
        )
        .env("SOPS_GCP_KMS_CLIENT_TYPE", "rest");
    direct.write("s.yaml", &file);
    assert_eq!(decrypted(direct.sesame(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn updatekeys_rotate_and_creation_rules() {
    let gcp = start();
    let sb = with_token(&gcp).env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"])),
    );
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - gcp_kms: {KEY}\n    age: {TEST_RECIPIENT}\n"),
    );
    ok(sb.sesame(&["updatekeys", "-y", "s.yaml"]));
    let gcp_only = with_token(&gcp);
    gcp_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(gcp_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "s.yaml"]));
    gcp_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(gcp_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "--rm-gcp-kms", KEY, "s.yaml"]));
    assert!(
        !String::from_utf8(sb.read("s.yaml"))
            .unwrap()
            .contains("gcp_kms:\n")
    );
    ok(sb.sesame(&["rotate", "-i", "--add-gcp-kms", &key("second"), "s.yaml"]));
    gcp_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(gcp_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    // `groups add` with a GCP key, read back by sops.
    ok(sb.sesame(&[
        "groups",
        "add",
        "--file",
        "s.yaml",
        "--gcp-kms",
        &key("third"),
        "-i",
    ]));
    let text = String::from_utf8(sb.read("s.yaml")).unwrap();
    assert!(text.contains(&key("third")), "{text}");
    gcp_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(gcp_only.sops(&["decrypt", "s.yaml"])), PLAIN);

    // key_groups in .sops.yaml mixing GCP and age under Shamir.
    let rules = with_token(&gcp);
    rules.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - gcp_kms:\n          - resource_id: {KEY}\n      - age: [{TEST_RECIPIENT}]\n"
        ),
    );
    rules.write("plain.yaml", PLAIN);
    rules.write("s.yaml", ok(rules.sesame(&["encrypt", "plain.yaml"])));
    let both = with_token(&gcp).env("SOPS_AGE_KEY", TEST_IDENTITY);
    both.write("s.yaml", rules.read("s.yaml"));
    assert_eq!(decrypted(both.sops(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(both.sesame(&["decrypt", "s.yaml"])), PLAIN);
    let err = fails(rules.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("age1"), "{err}");
}

#[test]
fn each_failure_names_its_cause_and_never_the_token() {
    let gcp = start();
    let sb = with_token(&gcp);
    sb.write("plain.yaml", PLAIN);
    let file =
        String::from_utf8(ok(sb.sesame(&["encrypt", "--gcp-kms", KEY, "plain.yaml"]))).unwrap();
    let secret_token = "ya29.NotTheRightToken4711";
    let cases: Vec<(Sandbox, String, &str)> = vec![
        (
            gcp.sandbox().env("GOOGLE_OAUTH_ACCESS_TOKEN", secret_token),
            file.clone(),
            "Cloud KMS refused the credentials from GOOGLE_OAUTH_ACCESS_TOKEN",
        ),
        (
            gcp.sandbox()
                .env("GOOGLE_OAUTH_ACCESS_TOKEN", "reader-token"),
            file.clone(),
            "Cloud KMS refused the credentials",
        ),
        (
            gcp.sandbox(),
            file.clone(),
            "no Google credentials were found",
        ),
        (
            with_token(&gcp),
            file.replace(KEY, &key("missing")),
            "Cloud KMS has no such key",
        ),
        (
            with_token(&gcp),
            file.replace(KEY, &key("disabled")),
            "Cloud KMS cannot use the key now",
        ),
        (
            with_token(&gcp),
            file.replace(KEY, "projects/p/keyRings/r"),
            "resource id or stored enc is not usable",
        ),
        (
            gcp.sandbox()
                .env("GOOGLE_CREDENTIALS", r#"{"type":"external_account"}"#),
            file.clone(),
            "external_account credentials, which sesame cannot use",
        ),
    ];
    for (case, text, says) in cases {
        case.write("s.yaml", &text);
        let err = fails(case.sesame(&["decrypt", "s.yaml"]), 128);
        assert!(err.contains(says), "{says}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(!err.contains(secret_token), "no token in: {err}");
        // The real sops fails the same way.
        fails(case.sops(&["decrypt", "s.yaml"]), 128);
    }
    // Encrypting for a disabled key: nothing written, exit 1 as sops.
    let err = fails(
        sb.sesame(&["encrypt", "--gcp-kms", &key("disabled"), "plain.yaml"]),
        1,
    );
    assert!(err.contains("cannot use the key now"), "{err}");
    fails(
        sb.sops(&["encrypt", "--gcp-kms", &key("disabled"), "plain.yaml"]),
        1,
    );
    // A service that never answers is cut off by the timeout.
    let slow = with_token(&gcp).env("SESAME_SERVICE_TIMEOUT", "2");
    slow.write("s.yaml", file.replace(KEY, &key("hang")));
    let started = std::time::Instant::now();
    let err = fails(slow.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // An endpoint nothing listens on.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = Sandbox::new()
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token")
        .env("SOPS_GCP_KMS_ENDPOINT", format!("127.0.0.1:{dead}"));
    unreachable.write("s.yaml", &file);
    let err = fails(unreachable.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("could not be reached"), "{err}");
}
