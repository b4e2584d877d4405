//! AWS KMS keys against a real KMS API server on 127.0.0.1 (moto, started by scripts/test.sh),
//! with the real sops both ways: plain keys, encryption context, roles, profiles, KMS+age,
//! rotate, `.sops.yaml` rules, and failures that say which key failed, why and what to do.

mod common;
#[path = "kms/server.rs"]
mod server;

use common::{Sandbox, fails, new_age_key, ok};
use server::{ACCESS_KEY, REGION, SECRET_KEY, Server, unique};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\nlist:\n    - 1\n    - two\n";

/// A sandbox that reaches the server with test credentials in the environment.
fn aws(server: &Server) -> Sandbox {
    no_credentials(server)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
}

/// A sandbox that reaches the server but has no credentials (and no instance metadata).
fn no_credentials(server: &Server) -> Sandbox {
    Sandbox::new()
        .env("AWS_ENDPOINT_URL", server.endpoint.as_str())
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

fn text(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap()
}

/// Encrypts PLAIN with both tools using `args` in `sb`, checks each tool decrypts the other's
/// file to PLAIN, and returns (sesame's file, sops's file).
fn both_ways(sb: &Sandbox, args: &[&str]) -> (String, String) {
    let src = sb.write("in.yaml", PLAIN);
    let mut enc = vec!["encrypt"];
    enc.extend_from_slice(args);
    enc.push(src.to_str().unwrap());
    let by_sops = text(ok(sb.sops(&enc)));
    let by_sesame = text(ok(sb.sesame(&enc)));
    sb.write("by_sops.yaml", &by_sops);
    sb.write("by_sesame.yaml", &by_sesame);
    for file in ["by_sops.yaml", "by_sesame.yaml"] {
        assert_eq!(
            text(ok(sb.sesame(&["decrypt", file]))),
            PLAIN,
            "sesame decrypt {file}"
        );
        assert_eq!(
            text(ok(sb.sops(&["decrypt", file]))),
            PLAIN,
            "sops decrypt {file}"
        );
    }
    (by_sesame, by_sops)
}

/// The `kms:` entries of a file's metadata as sorted `field: value` lines, with the values
/// that differ on every run (enc, created_at) checked for form and masked.
fn kms_fields(file: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut inside = false;
    for l in file.lines() {
        if l == "    kms:" {
            inside = true;
            continue;
        }
        if inside && !l.starts_with("        ") && !l.starts_with("      - ") {
            inside = false;
        }
        if !inside {
            continue;
        }
        let t = l.trim_start_matches([' ', '-']).to_string();
        if let Some(enc) = t.strip_prefix("enc: ") {
            assert!(enc.len() > 40 && !enc.contains(' '), "enc is base64: {enc}");
            lines.push("enc: ...".into());
        } else if let Some(at) = t.strip_prefix("created_at: ") {
            let at = at.trim_matches('"');
            assert!(
                at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
                "created_at like sops: {at}"
            );
            lines.push("created_at: ...".into());
        } else {
            lines.push(t);
        }
    }
    lines.sort();
    lines
}

#[test]
fn kms_key_both_ways_with_the_same_metadata_as_sops() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = aws(&server);
    let (ours, theirs) = both_ways(&sb, &["--kms", &arn]);
    assert_eq!(kms_fields(&ours), kms_fields(&theirs));
    assert!(kms_fields(&ours).contains(&format!("arn: {arn}")));
    assert!(kms_fields(&ours).contains(&"aws_profile: \"\"".to_string()));

    // SOPS_KMS_ARN stands for --kms, as in sops.
    let sb = aws(&server).env("SOPS_KMS_ARN", arn.as_str());
    let src = sb.write("in.yaml", PLAIN);
    let out = text(ok(sb.sesame(&["encrypt", src.to_str().unwrap()])));
    assert!(out.contains(&arn));
    sb.write("env.yaml", &out);
    assert_eq!(text(ok(sb.sops(&["decrypt", "env.yaml"]))), PLAIN);
}

/// Over HTTPS (moto behind a throwaway CA that SSL_CERT_FILE names): sesame's AWS client,
/// rustls on ring, verifies the server as the real sops does, and each reads the other's file;
/// without the CA the certificate is refused.
#[test]
fn kms_over_https_verifies_the_server() {
    let server = common::cloud::CloudServer::start("kms_tls.py");
    let endpoint = format!("https://localhost:{}", server.port("kms"));
    let ca = server.file("ca.pem").display().to_string();
    let tls = |sb: Sandbox| {
        sb.env("AWS_ENDPOINT_URL", endpoint.as_str())
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    };
    let sb = tls(Sandbox::new()).env("SSL_CERT_FILE", ca.as_str());
    let arn = create_key_over_https(&endpoint, &ca);
    let (ours, theirs) = both_ways(&sb, &["--kms", &arn]);
    assert_eq!(kms_fields(&ours), kms_fields(&theirs));
    // The same request without the CA: the certificate is not trusted.
    let untrusted = tls(Sandbox::new()).env("SSL_CERT_FILE", "/dev/null");
    untrusted.write("ours.yaml", &ours);
    let out = untrusted.sesame(&["decrypt", "ours.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    // SSL_CERT_FILE names a file without certificates: the request is not sent, and the
    // message says what to check.
    assert!(err.contains("no trusted root certificate"), "{err}");
    assert!(err.contains("SSL_CERT_FILE"), "{err}");
}

/// Creates a key on the HTTPS endpoint with boto3 (in the test venv with moto; the test
/// helper's Rust client is built for plain HTTP) and returns its ARN.
fn create_key_over_https(endpoint: &str, ca: &str) -> String {
    let python = common::root().join(".tools/venv/bin/python");
    let script = format!(
        "import boto3; print(boto3.client('kms', endpoint_url='{endpoint}', region_name='{REGION}', \
         aws_access_key_id='{ACCESS_KEY}', aws_secret_access_key='{SECRET_KEY}', \
         verify='{ca}').create_key()['KeyMetadata']['Arn'])"
    );
    let out = std::process::Command::new(python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn encryption_context_both_ways_and_checked_by_kms() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = aws(&server);
    let (ours, theirs) = both_ways(
        &sb,
        &["--kms", &arn, "--encryption-context", "app:sesame,env:test"],
    );
    assert_eq!(kms_fields(&ours), kms_fields(&theirs));
    assert!(
        ours.contains("            app: sesame\n            env: test\n"),
        "{ours}"
    );

    // KMS binds the ciphertext to the context: change it and both tools fail the same way.
    sb.write("tampered.yaml", ours.replace("env: test", "env: prod"));
    let sops_code = sb
        .sops(&["decrypt", "tampered.yaml"])
        .status
        .code()
        .unwrap();
    let err = fails(sb.sesame(&["decrypt", "tampered.yaml"]), sops_code);
    assert!(err.contains(&arn), "{err}");
    assert!(err.contains("another encryption context"), "{err}");

    // sops compat: a pair with a second ':' is not key:value (exit 6).
    let src = sb.write("in.yaml", PLAIN);
    let args = [
        "encrypt",
        "--kms",
        &arn,
        "--encryption-context",
        "a:b:c",
        src.to_str().unwrap(),
    ];
    let code = sb.sops(&args).status.code().unwrap();
    assert_eq!(code, 6);
    fails(sb.sesame(&args), code);
}

#[test]
fn role_is_assumed_with_the_session_name_sops_uses() {
    let server = Server::connect();
    let arn = server.create_key();
    let role = format!("arn:aws:iam::123456789012:role/{}", unique("sesame"));
    let sessions = |who: &str| -> Vec<String> {
        let all = server.assumed_roles();
        assert!(!all.is_empty(), "{who}: no role session at all");
        all.into_iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, s)| s)
            .collect()
    };
    let sb = aws(&server);
    let src = sb.write("in.yaml", PLAIN);
    let spec = format!("{arn}+{role}");
    let by_sops = text(ok(sb.sops(&[
        "encrypt",
        "--kms",
        &spec,
        src.to_str().unwrap(),
    ])));
    let after_sops = sessions("sops");
    assert_eq!(after_sops.len(), 1, "sops assumed the role once");
    let by_sesame = text(ok(sb.sesame(&[
        "encrypt",
        "--kms",
        &spec,
        src.to_str().unwrap(),
    ])));
    let after_sesame = sessions("sesame");
    assert_eq!(after_sesame.len(), 2, "sesame assumed the role once");
    assert_eq!(after_sesame[1], after_sops[0], "session name like sops's");
    assert!(after_sops[0].starts_with("sops@"));
    assert!(by_sesame.contains(&format!("role: {role}")), "{by_sesame}");
    assert_eq!(kms_fields(&by_sesame), kms_fields(&by_sops));

    sb.write("by_sops.yaml", &by_sops);
    sb.write("by_sesame.yaml", &by_sesame);
    assert_eq!(text(ok(sb.sesame(&["decrypt", "by_sops.yaml"]))), PLAIN);
    assert_eq!(text(ok(sb.sops(&["decrypt", "by_sesame.yaml"]))), PLAIN);
    assert_eq!(sessions("both decrypts").len(), 4);
}

#[test]
fn aws_profile_from_the_credentials_file() {
    let server = Server::connect();
    let arn = server.create_key();
    let profile = unique("team");
    // Only the profile has credentials: nothing in the environment.
    let sb = no_credentials(&server);
    sb.write(
        "home/.aws/credentials",
        format!(
            "[{profile}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    );
    let (ours, theirs) = both_ways(&sb, &["--kms", &arn, "--aws-profile", &profile]);
    assert!(ours.contains(&format!("aws_profile: {profile}")), "{ours}");
    assert_eq!(kms_fields(&ours), kms_fields(&theirs));

    // The same key without the profile finds no credentials, in both tools.
    sb.write(
        "noprofile.yaml",
        ours.replace(&format!("aws_profile: {profile}"), "aws_profile: \"\""),
    );
    let code = sb
        .sops(&["decrypt", "noprofile.yaml"])
        .status
        .code()
        .unwrap();
    let err = fails(sb.sesame(&["decrypt", "noprofile.yaml"]), code);
    assert!(err.contains("no AWS credentials were found"), "{err}");
}

#[test]
fn kms_and_age_in_one_file_each_key_alone_decrypts() {
    let server = Server::connect();
    let arn = server.create_key();
    let (identity, recipient) = new_age_key();
    let sb = aws(&server).env("SOPS_AGE_KEY", identity.as_str());
    let (ours, _) = both_ways(&sb, &["--kms", &arn, "--age", &recipient]);
    sb.write("mixed.yaml", &ours);
    sb.write(
        "theirs.yaml",
        std::fs::read(sb.path("by_sops.yaml")).unwrap(),
    );
    // Only AWS credentials: the KMS key decrypts.
    let kms_only = aws(&server);
    std::fs::copy(sb.path("mixed.yaml"), kms_only.path("mixed.yaml")).unwrap();
    std::fs::copy(sb.path("theirs.yaml"), kms_only.path("theirs.yaml")).unwrap();
    assert_eq!(text(ok(kms_only.sops(&["decrypt", "mixed.yaml"]))), PLAIN);
    assert_eq!(
        text(ok(kms_only.sesame(&["decrypt", "theirs.yaml"]))),
        PLAIN
    );
    // Only the age identity: the age key decrypts.
    let age_only = no_credentials(&server).env("SOPS_AGE_KEY", identity.as_str());
    std::fs::copy(sb.path("mixed.yaml"), age_only.path("mixed.yaml")).unwrap();
    assert_eq!(text(ok(age_only.sops(&["decrypt", "mixed.yaml"]))), PLAIN);
}

#[test]
fn rotate_adds_and_removes_kms_keys_readable_by_sops() {
    let server = Server::connect();
    let arn = server.create_key();
    let (identity, recipient) = new_age_key();
    let sb = aws(&server).env("SOPS_AGE_KEY", identity.as_str());
    let src = sb.write("in.yaml", PLAIN);
    let file = text(ok(sb.sesame(&[
        "encrypt",
        "--age",
        &recipient,
        src.to_str().unwrap(),
    ])));
    sb.write("f.yaml", &file);

    ok(sb.sesame(&[
        "rotate",
        "-i",
        "--add-kms",
        &arn,
        "--encryption-context",
        "team:a",
        "f.yaml",
    ]));
    let added = String::from_utf8(sb.read("f.yaml")).unwrap();
    assert!(added.contains(&arn) && added.contains("team: a"), "{added}");
    let kms_only = aws(&server);
    kms_only.write("f.yaml", &added);
    assert_eq!(text(ok(kms_only.sops(&["decrypt", "f.yaml"]))), PLAIN);

    // sops compat: --rm-kms matches the whole key (ARN, role, context, profile).
    ok(sb.sesame(&["rotate", "-i", "--rm-kms", &arn, "f.yaml"]));
    assert!(String::from_utf8(sb.read("f.yaml")).unwrap().contains(&arn));
    ok(sb.sesame(&[
        "rotate",
        "-i",
        "--rm-kms",
        &arn,
        "--encryption-context",
        "team:a",
        "f.yaml",
    ]));
    let removed = String::from_utf8(sb.read("f.yaml")).unwrap();
    assert!(!removed.contains(&arn), "{removed}");
    assert_eq!(text(ok(sb.sops(&["decrypt", "f.yaml"]))), PLAIN);
    kms_only.write("f.yaml", &removed);
    fails(kms_only.sops(&["decrypt", "f.yaml"]), 128);
}

#[test]
fn sops_yaml_rules_with_kms_keys() {
    let server = Server::connect();
    let (a, b) = (server.create_key(), server.create_key());
    let sb = aws(&server);
    // A flat rule takes the command line's encryption context; key_groups keep their own.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: flat\\.yaml$\n    kms: {a}\n  - path_regex: groups\\.yaml$\n    key_groups:\n      - kms:\n          - arn: {b}\n            context:\n              tier: gold\n"
        ),
    );
    for name in ["flat.yaml", "groups.yaml"] {
        sb.write(name, PLAIN);
        let args = ["encrypt", "--encryption-context", "cli:yes", name];
        let theirs = text(ok(sb.sops(&args)));
        let ours = text(ok(sb.sesame(&args)));
        assert_eq!(kms_fields(&ours), kms_fields(&theirs), "{name}");
        sb.write(&format!("enc-{name}"), &ours);
        assert_eq!(
            text(ok(sb.sops(&["decrypt", &format!("enc-{name}")]))),
            PLAIN
        );
    }
}

#[test]
fn endpoint_for_kms_alone_is_honoured() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = Sandbox::new()
        .env("AWS_ENDPOINT_URL_KMS", server.endpoint.as_str())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    both_ways(&sb, &["--kms", &arn]);
}

#[test]
fn failures_name_the_key_the_cause_and_what_to_do() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = aws(&server);
    let src = sb.write("in.yaml", PLAIN);
    let file = text(ok(sb.sesame(&[
        "encrypt",
        "--kms",
        &arn,
        src.to_str().unwrap(),
    ])));
    sb.write("f.yaml", &file);

    // No credentials anywhere.
    let bare = no_credentials(&server);
    bare.write("f.yaml", &file);
    let code = bare.sops(&["decrypt", "f.yaml"]).status.code().unwrap();
    assert_eq!(code, 128);
    let err = fails(bare.sesame(&["decrypt", "f.yaml"]), code);
    for want in [
        arn.as_str(),
        "no AWS credentials were found",
        "AWS_PROFILE",
        "Group 0: FAILED",
        "hint: for AWS KMS",
    ] {
        assert!(err.contains(want), "{want:?} in:\n{err}");
    }

    // The key is looked for in the ARN's region, where it does not exist.
    let moved = arn.replace(":us-east-1:", ":eu-west-1:");
    sb.write("moved.yaml", file.replace(&arn, &moved));
    let code = sb.sops(&["decrypt", "moved.yaml"]).status.code().unwrap();
    let err = fails(sb.sesame(&["decrypt", "moved.yaml"]), code);
    assert!(
        err.contains(&moved) && err.contains("not found in the ARN's account and region"),
        "{err}"
    );

    // Encrypting for a key that does not exist writes nothing.
    let unknown = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    let args = ["encrypt", "--kms", unknown, src.to_str().unwrap()];
    let sops_out = sb.sops(&args);
    let code = sops_out.status.code().unwrap();
    assert_ne!(code, 0);
    let out = sb.sesame(&args);
    assert!(out.stdout.is_empty());
    let err = fails(out, code);
    assert!(
        err.contains(unknown) && err.contains("not found") && err.contains("hint:"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));

    // Adding a key that does not exist leaves the file as it was.
    let args = ["rotate", "-i", "--add-kms", unknown, "f.yaml"];
    let code = sb.sops(&args).status.code().unwrap();
    assert_ne!(code, 0);
    let err = fails(sb.sesame(&args), code);
    assert!(
        err.contains("nothing was written") && err.contains(unknown),
        "{err}"
    );
    assert_eq!(text(sb.read("f.yaml")), file);

    // Not an ARN at all.
    let args = ["encrypt", "--kms", "alias/sops", src.to_str().unwrap()];
    let code = sb.sops(&args).status.code().unwrap();
    let err = fails(sb.sesame(&args), code);
    assert!(err.contains("no valid ARN found in 'alias/sops'"), "{err}");
}

/// A KMS endpoint that accepts connections but never answers: the call gives up after
/// `SESAME_SERVICE_TIMEOUT` seconds, with sops's exit code and a message that says so.
#[test]
fn a_hanging_endpoint_is_cut_off_by_the_timeout() {
    let server = Server::connect();
    let arn = server.create_key();
    let sb = aws(&server);
    let src = sb.write("in.yaml", PLAIN);
    let file = text(ok(sb.sesame(&[
        "encrypt",
        "--kms",
        &arn,
        src.to_str().unwrap(),
    ])));
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = Sandbox::new()
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://{}", hang.local_addr().unwrap()),
        )
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("SESAME_SERVICE_TIMEOUT", "2");
    slow.write("f.yaml", &file);
    let started = std::time::Instant::now();
    let err = fails(slow.sesame(&["decrypt", "f.yaml"]), 128);
    assert!(
        err.contains(&arn) && err.contains("did not answer in time"),
        "{err}"
    );
    assert!(err.contains("SESAME_SERVICE_TIMEOUT"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    drop(hang);
}
