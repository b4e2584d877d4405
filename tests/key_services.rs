//! Every key service in one file: one Shamir group per service (Vault transit on OpenBao, GCP
//! KMS, Azure Key Vault, HuaweiCloud KMS, AWS KMS on moto) plus one age group, threshold 2.
//! Any two groups decrypt; one alone fails with sops's exit code, naming each key it could not
//! use; and the real sops agrees.

mod common;
#[path = "kms/server.rs"]
mod server;

use common::bao::Bao;
use common::cloud::CloudServer;
use common::{Sandbox, fails, new_age_key, ok};

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";

#[test]
fn one_group_per_service_any_two_decrypt() {
    let bao = Bao::start();
    let vault_key = bao.transit_key("all");
    let gcp = CloudServer::start("gcp_kms.py");
    let azure = CloudServer::start("azure_kv.py");
    let hckms = CloudServer::start("hckms.py");
    let aws = server::Server::connect();
    let arn = aws.create_key();
    let (age_id, age_key) = new_age_key();
    let sb = Sandbox::new();
    let mut bundle = String::new();
    for s in [&gcp, &azure, &hckms] {
        bundle.push_str(&s.file_text("ca.pem"));
    }
    let bundle = sb.write("ca-bundle.pem", bundle).display().to_string();

    // Each group's credentials; a combination is the union of its groups'.
    let gcp_key = "projects/p/locations/global/keyRings/r/cryptoKeys/all";
    let azure_key = "https://all.vault.azure.net/keys/sops";
    let hc_key = "cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    let vars: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("age", vec![("SOPS_AGE_KEY", age_id.clone())]),
        ("vault", vec![("VAULT_TOKEN", "root".into())]),
        (
            "gcp",
            vec![
                ("GOOGLE_OAUTH_ACCESS_TOKEN", "good-token".into()),
                (
                    "SOPS_GCP_KMS_ENDPOINT",
                    format!("127.0.0.1:{}", gcp.port("rest")),
                ),
            ],
        ),
        (
            "azure",
            vec![
                (
                    "AZURE_TENANT_ID",
                    "11111111-2222-3333-4444-555555555555".into(),
                ),
                ("AZURE_CLIENT_ID", "sops-client".into()),
                ("AZURE_CLIENT_SECRET", "good-secret".into()),
                (
                    "HTTPS_PROXY",
                    format!("http://127.0.0.1:{}", azure.port("proxy")),
                ),
            ],
        ),
        (
            "hckms",
            vec![
                ("HUAWEICLOUD_SDK_AK", "good-ak".into()),
                ("HUAWEICLOUD_SDK_SK", "good-sk".into()),
                ("HUAWEICLOUD_SDK_PROJECT_ID", "test-project-id".into()),
            ],
        ),
        (
            "kms",
            vec![
                ("AWS_ACCESS_KEY_ID", server::ACCESS_KEY.into()),
                ("AWS_SECRET_ACCESS_KEY", server::SECRET_KEY.into()),
            ],
        ),
    ];
    let with = |groups: &[&str]| {
        let mut sb = Sandbox::new()
            .env("SSL_CERT_FILE", bundle.clone())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env(
                "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
                format!("https://127.0.0.1:{}", hckms.port("https")),
            )
            .env("AWS_ENDPOINT_URL", aws.endpoint.clone())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", server::REGION)
            .env("SESAME_SERVICE_TIMEOUT", "10");
        for (name, pairs) in &vars {
            if groups.contains(name) {
                for (k, v) in pairs {
                    sb = sb.env(k, v.clone());
                }
            }
        }
        sb
    };
    let all: Vec<&str> = vars.iter().map(|(n, _)| *n).collect();
    let writer = with(&all);
    writer.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{age_key}]\n      - hc_vault: [{vault_key}]\n      - gcp_kms:\n          - resource_id: {gcp_key}\n      - azure_keyvault:\n          - vaultUrl: https://all.vault.azure.net\n            key: sops\n            version: \"\"\n      - hckms:\n          - key_id: {hc_key}\n      - kms:\n          - arn: {arn}\n"
        ),
    );
    writer.write("plain.yaml", PLAIN);
    let file = ok(writer.sesame(&["encrypt", "plain.yaml"]));
    let text = String::from_utf8(file.clone()).unwrap();
    let azure_entry = "vault_url: https://all.vault.azure.net";
    for needle in [
        gcp_key,
        azure_entry,
        hc_key,
        &arn,
        "vault_address",
        &age_key,
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // Any two groups are enough.
    for pair in [
        ["gcp", "azure"],
        ["hckms", "kms"],
        ["vault", "age"],
        ["azure", "hckms"],
        ["kms", "gcp"],
    ] {
        let sb = with(&pair);
        sb.write("s.yaml", &file);
        assert_eq!(
            String::from_utf8(ok(sb.sesame(&["decrypt", "s.yaml"]))).unwrap(),
            PLAIN,
            "{pair:?}"
        );
    }
    // One alone is not, and the message names every key it could not use.
    let one = with(&["vault"]);
    one.write("s.yaml", &file);
    let err = fails(one.sesame(&["decrypt", "s.yaml"]), 128);
    for key in [gcp_key, azure_key, hc_key, &arn, &age_key] {
        assert!(err.contains(key), "{key} not named in:\n{err}");
    }
    // The real sops agrees: one group is not enough, two are (age and Vault need no proxy).
    fails(one.sops(&["decrypt", "s.yaml"]), 128);
    let two = with(&["vault", "age"]);
    two.write("s.yaml", &file);
    assert_eq!(
        String::from_utf8(ok(two.sops(&["decrypt", "s.yaml"]))).unwrap(),
        PLAIN
    );
}
