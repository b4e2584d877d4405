//! Azure Key Vault keys against a loopback Key Vault built from the REST definition's generated
//! models (tests/servers/azure_kv.py: the 401 challenge, key GET, RSA-OAEP-256 with real
//! RSA-2048, the Entra token endpoint, a managed-identity endpoint; proven by Microsoft's own
//! Python clients) and the real sops, which reaches it as *.vault.azure.net through a CONNECT
//! proxy and a test CA: files each writes, the other reads; a key named without a version;
//! every credential DefaultAzureCredential tries here; `set`, `updatekeys`, `rotate`,
//! `.sops.yaml`; every failure cause with its message, sops's exit code and no secret in sight.

mod common;

use common::cloud::CloudServer;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};
use std::net::TcpListener;

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";
const VAULT: &str = "https://sops-test.vault.azure.net";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "good-secret";

fn key(name: &str) -> String {
    format!("{VAULT}/keys/{name}")
}

fn start() -> CloudServer {
    CloudServer::start("azure_kv.py")
}

/// A sandbox with the client secret of an application that may use every key.
fn with_secret(az: &CloudServer) -> Sandbox {
    az.sandbox()
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", "sops-client")
        .env("AZURE_CLIENT_SECRET", SECRET)
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

#[test]
fn the_test_server_answers_microsofts_own_clients() {
    let az = start();
    let said = az.run_script(
        "azure_kv_official_client.py",
        &[
            az.state.path().display().to_string(),
            az.port("proxy").to_string(),
            az.port("identity").to_string(),
        ],
    );
    assert!(said.contains("official client: ok"), "{said}");
}

#[test]
fn files_go_both_ways_with_sops() {
    let az = start();
    let sb = with_secret(&az);
    sb.write("plain.yaml", PLAIN);
    // Without a version: both look the current one up and store it.
    sb.write(
        "by-sops.yaml",
        ok(sb.sops(&["encrypt", "--azure-kv", &key("sops"), "plain.yaml"])),
    );
    assert!(
        az.file_text("proxy.log")
            .contains("sops-test.vault.azure.net:443")
    );
    assert_eq!(decrypted(sb.sesame(&["decrypt", "by-sops.yaml"])), PLAIN);
    sb.write(
        "by-sesame.yaml",
        ok(sb.sesame(&["encrypt", "--azure-kv", &key("sops"), "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "by-sesame.yaml"])), PLAIN);
    let ours = String::from_utf8(sb.read("by-sesame.yaml")).unwrap();
    let theirs = String::from_utf8(sb.read("by-sops.yaml")).unwrap();
    let version = |text: &str| -> String {
        let at = text.find("version: ").unwrap() + "version: ".len();
        text[at..].lines().next().unwrap().to_string()
    };
    assert_eq!(version(&ours), version(&theirs));
    assert_eq!(version(&ours).len(), 32, "{ours}");
    // With the version in the URL, and through SOPS_AZURE_KEYVAULT_URLS.
    let versioned = format!("{}/{}", key("sops"), version(&theirs));
    let env = with_secret(&az).env("SOPS_AZURE_KEYVAULT_URLS", versioned.clone());
    env.write("plain.yaml", PLAIN);
    env.write("env.yaml", ok(env.sesame(&["encrypt", "plain.yaml"])));
    assert_eq!(decrypted(env.sops(&["decrypt", "env.yaml"])), PLAIN);

    // The entry has sops's fields in sops 3.11's order (new files follow it by default).
    assert_eq!(
        common::entry_fields(&ours, "azure_kv:"),
        common::entry_fields(&theirs, "azure_kv:")
    );
    let mut sorted = common::entry_fields(&theirs, "azure_kv:");
    sorted.sort();
    assert_eq!(
        sorted,
        ["created_at", "enc", "name", "vault_url", "version"],
        "{ours}"
    );

    // A one-value set on sops's file changes that value, lastmodified and the MAC only.
    common::assert_one_value_set_is_minimal(&sb, "by-sops.yaml", &theirs);
}

/// Each credential DefaultAzureCredential tries that works on a test machine: client secret,
/// client certificate, workload identity (a federated token file) and a managed identity.
#[test]
fn every_credential_default_azure_credential_tries() {
    let az = start();
    let seed = with_secret(&az);
    seed.write("plain.yaml", PLAIN);
    let file = ok(seed.sops(&["encrypt", "--azure-kv", &key("sops"), "plain.yaml"]));
    let app = |client: &str| {
        az.sandbox()
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", client)
    };
    let sources: Vec<(&str, Sandbox)> = vec![
        (
            "client certificate",
            app("cert-client").env(
                "AZURE_CLIENT_CERTIFICATE_PATH",
                az.file("client.pem").display().to_string(),
            ),
        ),
        (
            "workload identity",
            app("workload-client").env(
                "AZURE_FEDERATED_TOKEN_FILE",
                az.file("federated-token").display().to_string(),
            ),
        ),
        (
            "managed identity",
            az.sandbox()
                .env(
                    "IDENTITY_ENDPOINT",
                    format!("http://127.0.0.1:{}/msi/token", az.port("identity")),
                )
                .env("IDENTITY_HEADER", az.file_text("identity-header")),
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
            ok(sb.sesame(&["encrypt", "--azure-kv", &key("sops"), "plain.yaml"])),
        );
        seed.write("check.yaml", sb.read("new.yaml"));
        assert_eq!(
            decrypted(seed.sops(&["decrypt", "check.yaml"])),
            PLAIN,
            "{what}"
        );
        // The real sops takes the same credential.
        assert_eq!(decrypted(sb.sops(&["decrypt", "s.yaml"])), PLAIN, "{what}");
    }
}

#[test]
fn updatekeys_rotate_and_creation_rules() {
    let az = start();
    let sb = with_secret(&az).env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"])),
    );
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - azure_keyvault: {}\n    age: {TEST_RECIPIENT}\n",
            key("sops")
        ),
    );
    ok(sb.sesame(&["updatekeys", "-y", "s.yaml"]));
    let az_only = with_secret(&az);
    az_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(az_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "s.yaml"]));
    az_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(az_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "--add-azure-kv", &key("second"), "s.yaml"]));
    let text = String::from_utf8(sb.read("s.yaml")).unwrap();
    assert!(text.contains("name: second"), "{text}");
    az_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(az_only.sops(&["decrypt", "s.yaml"])), PLAIN);

    let rules = with_secret(&az);
    rules.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - azure_keyvault:\n          - vaultUrl: {VAULT}\n            key: sops\n            version: \"\"\n      - age: [{TEST_RECIPIENT}]\n"
        ),
    );
    rules.write("plain.yaml", PLAIN);
    rules.write("s.yaml", ok(rules.sesame(&["encrypt", "plain.yaml"])));
    let both = with_secret(&az).env("SOPS_AGE_KEY", TEST_IDENTITY);
    both.write("s.yaml", rules.read("s.yaml"));
    assert_eq!(decrypted(both.sops(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(both.sesame(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn each_failure_names_its_cause_and_never_the_secret() {
    let az = start();
    let sb = with_secret(&az);
    sb.write("plain.yaml", PLAIN);
    let file = String::from_utf8(ok(sb.sesame(&[
        "encrypt",
        "--azure-kv",
        &key("sops"),
        "plain.yaml",
    ])))
    .unwrap();
    let wrong = "AnotherClientSecret~4711";
    let cases: Vec<(Sandbox, String, &str)> = vec![
        (
            with_secret(&az).env("AZURE_CLIENT_SECRET", wrong),
            file.clone(),
            "Azure refused the credentials from AZURE_CLIENT_SECRET",
        ),
        (
            with_secret(&az)
                .env("AZURE_CLIENT_ID", "reader-client")
                .env("AZURE_CLIENT_SECRET", "reader-secret"),
            file.clone(),
            "Azure refused the credentials",
        ),
        (
            az.sandbox().env("PATH", "/nonexistent"),
            file.clone(),
            "no Azure credentials were found",
        ),
        (
            with_secret(&az),
            file.replace("name: sops", "name: missing-key"),
            "has no such key",
        ),
        (
            with_secret(&az),
            file.replace("name: sops", "name: disabled-key"),
            "the key is disabled",
        ),
        (
            with_secret(&az),
            file.replace(VAULT, "https://impostor.vault.example.com"),
            "challenge names another domain",
        ),
    ];
    for (case, text, says) in cases {
        case.write("s.yaml", &text);
        let err = fails(case.sesame(&["decrypt", "s.yaml"]), 128);
        assert!(err.contains(says), "{says}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(
            !err.contains(wrong) && !err.contains(SECRET),
            "no secret in: {err}"
        );
        fails(case.sops(&["decrypt", "s.yaml"]), 128);
    }
    // A version the vault does not have.
    let gone = with_secret(&az);
    let at = file.find("version: ").unwrap() + "version: ".len();
    let version = file[at..].lines().next().unwrap().to_string();
    gone.write(
        "s.yaml",
        file.replace(&version, "0123456789abcdef0123456789abcdef"),
    );
    let err = fails(gone.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("no such key or key version"), "{err}");
    // Encrypting for a disabled key: nothing written, exit 1 as sops.
    let err = fails(
        sb.sesame(&["encrypt", "--azure-kv", &key("disabled-key"), "plain.yaml"]),
        1,
    );
    assert!(err.contains("the key is disabled"), "{err}");
    fails(
        sb.sops(&["encrypt", "--azure-kv", &key("disabled-key"), "plain.yaml"]),
        1,
    );
    // A vault that never answers is cut off by the timeout.
    let slow = with_secret(&az).env("SESAME_SERVICE_TIMEOUT", "2");
    slow.write("s.yaml", file.replace("name: sops", "name: hang"));
    let started = std::time::Instant::now();
    let err = fails(slow.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // No way to the vault at all.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = with_secret(&az).env("HTTPS_PROXY", format!("http://127.0.0.1:{dead}"));
    unreachable.write("s.yaml", &file);
    let err = fails(unreachable.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("could not be reached"), "{err}");
}
