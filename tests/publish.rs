//! `publish` to a real OpenBao (Vault-compatible) dev server on 127.0.0.1, next to the real
//! sops publishing the same file.

mod common;

use common::bao::Bao;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok};

const PLAIN: &str = "{\n\t\"foo\": 2,\n\t\"bar\": \"baz\",\n\t\"nested\": {\n\t\t\"list\": [\n\t\t\t1,\n\t\t\t\"two\"\n\t\t]\n\t}\n}";

fn setup(bao: &Bao) -> Sandbox {
    let sb = Sandbox::new()
        .env("SOPS_AGE_KEY", TEST_IDENTITY)
        .env("VAULT_ADDR", bao.addr.clone())
        .env("VAULT_TOKEN", "root");
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - age: {TEST_RECIPIENT}\ndestination_rules:\n  - path_regex: v1\\.json$\n    vault_path: team/\n    vault_kv_mount_name: kv/\n    vault_kv_version: 1\n  - path_regex: s3\\.json$\n    s3_bucket: b\n  - vault_path: team\n"
        ),
    );
    sb
}

fn encrypted(sb: &Sandbox, name: &str) -> String {
    let f = sb.write(name, PLAIN);
    ok(sb.sesame(&["encrypt", "-i", f.to_str().unwrap()]));
    f.to_str().unwrap().to_string()
}

#[test]
fn publishes_values_to_kv_v2_and_v1_like_sops() {
    let bao = Bao::start();
    let sb = setup(&bao);
    let expected = r#"{"bar":"baz","foo":2,"nested":{"list":[1,"two"]}}"#;
    for (name, read_path) in [
        ("a.json", "/v1/secret/data/team/a.json"),
        ("a.v1.json", "/v1/kv/team/a.v1.json"),
    ] {
        let f = encrypted(&sb, name);
        ok(sb.sesame(&["publish", "--yes", &f]));
        let (status, body) = bao.http("GET", read_path, "");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(expected), "{name}: {body}");
        // The real sops publishes the same values to a second path: both read back alike.
        let copy = sb.write(&format!("sops-{name}"), sb.read(name));
        ok(sb.sops(&["publish", "--yes", copy.to_str().unwrap()]));
        let (_, theirs) = bao.http("GET", &read_path.replace(name, &format!("sops-{name}")), "");
        assert!(theirs.contains(expected), "sops wrote {theirs}");
    }
}

#[test]
fn unchanged_values_make_no_new_version_and_no_means_no() {
    let bao = Bao::start();
    let sb = setup(&bao);
    let f = encrypted(&sb, "b.json");
    ok(sb.sesame(&["publish", "-y", &f]));
    let out = sb.sesame(&["publish", "-y", &f]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already up-to-date"));
    ok(out);
    let (_, meta) = bao.http("GET", "/v1/secret/metadata/team/b.json", "");
    assert!(meta.contains("\"current_version\":1"), "{meta}");

    let g = encrypted(&sb, "c.json");
    let out = sb.sesame_stdin(&["publish", &g], b"n\n");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = fails(out, 1);
    assert!(
        stdout.contains(&format!(
            "to {}/v1/secret/data/team/c.json ? (y/n): ",
            bao.addr
        )),
        "{stdout}"
    );
    assert!(err.contains("canceled"), "{err}");
    assert_eq!(bao.http("GET", "/v1/secret/data/team/c.json", "").0, 404);
}

#[test]
fn omit_extensions_recursive_and_unsupported_destinations() {
    let bao = Bao::start();
    let sb = setup(&bao);
    encrypted(&sb, "dir/x.json");
    encrypted(&sb, "dir/sub/y.json");
    ok(sb.sesame(&[
        "publish",
        "-y",
        "--recursive",
        "--omit-extensions",
        sb.path("dir").to_str().unwrap(),
    ]));
    assert_eq!(bao.http("GET", "/v1/secret/data/team/x", "").0, 200);
    assert_eq!(bao.http("GET", "/v1/secret/data/team/sub/y", "").0, 200);
    let err = fails(
        sb.sesame(&["publish", "-y", sb.path("dir").to_str().unwrap()]),
        1,
    );
    assert!(err.contains("--recursive"), "{err}");

    let s3 = encrypted(&sb, "to-s3.json");
    let err = fails(sb.sesame(&["publish", "-y", &s3]), 1);
    assert!(
        err.contains("cannot publish to S3") && err.contains("hint:"),
        "{err}"
    );

    // A wrong token is refused with Vault's reason.
    let sb = sb.env("VAULT_TOKEN", "wrong");
    let f = encrypted(&sb, "d.json");
    let err = fails(sb.sesame(&["publish", "-y", &f]), 1);
    assert!(err.contains("403") && err.contains("VAULT_TOKEN"), "{err}");
}
