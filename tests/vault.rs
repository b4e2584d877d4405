//! HashiCorp Vault transit keys against a real OpenBao dev server on 127.0.0.1 and the real sops:
//! files each writes, the other reads; sesame's `set`, `updatekeys` and `rotate` on them; the
//! `hc_vault` entry written as sops writes it; Shamir groups mixing Vault and age; and every
//! failure cause with its message, sops's exit code and no token in sight.

mod common;

use common::bao::Bao;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, new_age_key, ok};
use std::net::TcpListener;

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";

/// A sandbox whose programs hold the dev server's root token (and no age key).
fn sandbox() -> Sandbox {
    Sandbox::new().env("VAULT_TOKEN", "root")
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

#[test]
fn files_go_both_ways_with_sops() {
    let bao = Bao::start();
    let uri = bao.transit_key("sops");
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "by-sops.yaml",
        ok(sb.sops(&["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sesame(&["decrypt", "by-sops.yaml"])), PLAIN);
    sb.write(
        "by-sesame.yaml",
        ok(sb.sesame(&["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "by-sesame.yaml"])), PLAIN);
    // SOPS_VAULT_URIS names the key as the flag does.
    let sb_env = sandbox().env("SOPS_VAULT_URIS", uri.clone());
    sb_env.write("plain.yaml", PLAIN);
    sb_env.write("env.yaml", ok(sb_env.sesame(&["encrypt", "plain.yaml"])));
    assert_eq!(decrypted(sb_env.sops(&["decrypt", "env.yaml"])), PLAIN);

    // The entry has sops's fields, in the order sops 3.13 writes them (sorted by name, as
    // sesame writes every new entry; sops 3.11 writes struct order, and reads both).
    let shape = |text: &str| -> Vec<String> {
        let block = &text[text.find("hc_vault:").unwrap()..];
        block
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("        "))
            .filter_map(|l| {
                l.trim_start_matches([' ', '-'])
                    .split(':')
                    .next()
                    .map(String::from)
            })
            .filter(|k| !k.is_empty() && !k.starts_with("vault"))
            .collect()
    };
    let ours = String::from_utf8(sb.read("by-sesame.yaml")).unwrap();
    let theirs = String::from_utf8(sb.read("by-sops.yaml")).unwrap();
    // The entry has sops's fields in sops 3.11's order (new files follow it by default).
    assert_eq!(shape(&ours), shape(&theirs));
    assert!(
        ours.contains(&format!("vault_address: {}", bao.addr)),
        "{ours}"
    );
    assert!(ours.contains("enc: vault:v1:"), "{ours}");

    // A one-value set on sops's file changes that value, lastmodified and the MAC only.
    common::assert_one_value_set_is_minimal(&sb, "by-sops.yaml", &theirs);
}

#[test]
fn updatekeys_and_rotate_with_a_vault_key_sops_reads() {
    let bao = Bao::start();
    let uri = bao.transit_key("team");
    let sb = sandbox().env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"])),
    );
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - hc_vault_transit_uri: {uri}\n    age: {TEST_RECIPIENT}\n"),
    );
    ok(sb.sesame(&["updatekeys", "-y", "s.yaml"]));
    let vault_only = sandbox();
    vault_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(vault_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    // Rotate: a new data key, still readable through Vault alone; then Vault removed.
    ok(sb.sesame(&["rotate", "-i", "s.yaml"]));
    vault_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(vault_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "--rm-hc-vault-transit", &uri, "s.yaml"]));
    assert!(
        !String::from_utf8(sb.read("s.yaml"))
            .unwrap()
            .contains("hc_vault")
    );
    ok(sb.sesame(&["rotate", "-i", "--add-hc-vault-transit", &uri, "s.yaml"]));
    vault_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(vault_only.sops(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn shamir_groups_mixing_vault_and_age() {
    let bao = Bao::start();
    let uri = bao.transit_key("shamir");
    let (a_id, a) = new_age_key();
    let (b_id, b) = new_age_key();
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN);
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{a}]\n      - hc_vault: [{uri}]\n      - age: [{b}]\n"
        ),
    );
    sb.write("s.yaml", ok(sb.sesame(&["encrypt", "plain.yaml"])));
    // Vault and a: enough, for sesame and for sops.
    let with_a = sandbox().env("SOPS_AGE_KEY", a_id.clone());
    with_a.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(with_a.sesame(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(with_a.sops(&["decrypt", "s.yaml"])), PLAIN);
    // Only a (Vault unreachable): sops's exit code, naming the Vault key it could not reach.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = String::from_utf8(sb.read("s.yaml"))
        .unwrap()
        .replace(&bao.addr, &format!("http://127.0.0.1:{dead}"));
    let only_a = Sandbox::new().env("SOPS_AGE_KEY", a_id.clone());
    only_a.write("s.yaml", &text);
    let err = fails(only_a.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(
        err.contains("could not be reached") && err.contains(&format!("127.0.0.1:{dead}")),
        "{err}"
    );
    // a and b without Vault: two groups, enough.
    let a_and_b = Sandbox::new().env("SOPS_AGE_KEY", format!("{a_id}\n{b_id}"));
    a_and_b.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(a_and_b.sesame(&["decrypt", "s.yaml"])), PLAIN);
}

#[test]
fn each_failure_names_its_cause_and_never_the_token() {
    let bao = Bao::start();
    let uri = bao.transit_key("causes");
    let sb = sandbox();
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])),
    );
    let token = "s.NotTheRightToken4711";
    let cases: Vec<(Sandbox, &str)> = vec![
        (
            Sandbox::new().env("VAULT_TOKEN", token),
            "Vault refused the token",
        ),
        (Sandbox::new(), "no Vault token was found"),
        (
            sandbox().env("SOPS_HC_VAULT_ALLOWLIST", "https://vault.example.com"),
            "SOPS_HC_VAULT_ALLOWLIST does not allow",
        ),
    ];
    for (case, says) in cases {
        case.write("s.yaml", sb.read("s.yaml"));
        let err = fails(case.sesame(&["decrypt", "s.yaml"]), 128);
        assert!(err.contains(says), "{says}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(
            !err.contains(token) && !err.contains("root"),
            "no token in: {err}"
        );
    }
    // A key that does not exist (encrypting would create it, as transit does; decrypting
    // with it cannot).
    let gone = sandbox();
    let renamed = String::from_utf8(sb.read("s.yaml"))
        .unwrap()
        .replace("key_name: causes", "key_name: nosuchkey");
    gone.write("s.yaml", renamed);
    let err = fails(gone.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("no such transit key"), "{err}");
    // A server that accepts but never answers is cut off by the timeout.
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    let text = String::from_utf8(sb.read("s.yaml"))
        .unwrap()
        .replace(&bao.addr, &format!("http://127.0.0.1:{port}"));
    let slow = sandbox().env("SESAME_SERVICE_TIMEOUT", "1");
    slow.write("s.yaml", &text);
    let started = std::time::Instant::now();
    let err = fails(slow.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(hang);
}

/// A Vault that speaks TLS with its own CA: `VAULT_CACERT` names the CA (sesame and sops both
/// read it), without it the certificate is refused, `VAULT_SKIP_VERIFY` skips the check.
#[test]
fn tls_with_vault_cacert_and_skip_verify() {
    let (bao, uri) = Bao::start_tls();
    let ca = bao.ca().display().to_string();
    let sb = sandbox().env("VAULT_CACERT", ca);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(sb.sesame(&["decrypt", "s.yaml"])), PLAIN);
    let untrusted = sandbox();
    untrusted.write("s.yaml", sb.read("s.yaml"));
    let err = fails(untrusted.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(
        err.contains("could not be reached") && err.contains("VAULT_CACERT"),
        "{err}"
    );
    let skipping = sandbox().env("VAULT_SKIP_VERIFY", "true");
    skipping.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(skipping.sesame(&["decrypt", "s.yaml"])), PLAIN);
}
