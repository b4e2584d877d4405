//! Tampered files fail with a clear error and a non-zero exit, and print no plaintext.

mod common;

use common::{Sandbox, fails, fixture, new_age_key, ok};

fn encrypted(sb: &Sandbox, r: &str) -> String {
    let src = sb.write(
        "in.yaml",
        std::fs::read(fixture("plain/sample.yaml")).unwrap(),
    );
    String::from_utf8(ok(sb.sops(&["encrypt", "--age", r, src.to_str().unwrap()]))).unwrap()
}

fn decrypt_fails(sb: &Sandbox, text: &str, code: i32, message: &str) {
    let f = sb.write("bad.yaml", text);
    let out = sb.sesame(&["decrypt", f.to_str().unwrap()]);
    assert!(out.stdout.is_empty(), "no plaintext on stdout");
    let stderr = fails(out, code);
    assert!(stderr.contains(message), "{stderr}");
    assert!(
        stderr.contains("bad.yaml"),
        "the error names the file: {stderr}"
    );
    for secret in ["s3cr3t", "abc123", "db.internal"] {
        assert!(!stderr.contains(secret), "no plaintext in errors: {stderr}");
    }
}

/// Replaces the `data:` of the value on the first line containing `key`.
fn edit_value(text: &str, key: &str, f: impl Fn(&str) -> String) -> String {
    text.lines()
        .map(|l| {
            if l.contains(key) && l.contains("ENC[") {
                f(l)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn flipped_ciphertext_byte() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let text = encrypted(&sb, &r);
    let bad = edit_value(&text, "api_key:", |l| {
        let i = l.find("data:").unwrap() + 5;
        let mut b = l.as_bytes().to_vec();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    });
    decrypt_fails(&sb, &bad, 25, "[\"api_key\"]");
}

#[test]
fn changed_mac() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let text = encrypted(&sb, &r);
    // A MAC encrypted for another lastmodified cannot be decrypted.
    let bad = text.replace("lastmodified: \"20", "lastmodified: \"19");
    decrypt_fails(&sb, &bad, 51, "MAC");
    // A clear value changed by hand gives a MAC mismatch.
    let bad = text.replace("public_unencrypted: visible", "public_unencrypted: changed");
    decrypt_fails(&sb, &bad, 51, "MAC mismatch");
    // --ignore-mac still decrypts it.
    let f = sb.write("ignored.yaml", &bad);
    let out = ok(sb.sesame(&["decrypt", "--ignore-mac", f.to_str().unwrap()]));
    assert!(String::from_utf8_lossy(&out).contains("changed"));
}

#[test]
fn removed_value() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let text = encrypted(&sb, &r);
    let bad: String = text
        .lines()
        .filter(|l| !l.starts_with("api_key:"))
        .map(|l| format!("{l}\n"))
        .collect();
    decrypt_fails(&sb, &bad, 51, "MAC mismatch");
}

#[test]
fn malformed_enc_value_and_wrong_key() {
    let (id, r) = new_age_key();
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id);
    let text = encrypted(&sb, &r);
    let bad = edit_value(&text, "api_key:", |_| {
        "api_key: ENC[AES256_GCM,data:garbage]".into()
    });
    decrypt_fails(&sb, &bad, 25, "[\"api_key\"]");

    let (other, _) = new_age_key();
    let sb2 = Sandbox::new().env("SOPS_AGE_KEY", other);
    let f = sb2.write("bad.yaml", &text);
    let out = sb2.sesame(&["decrypt", f.to_str().unwrap()]);
    assert!(out.stdout.is_empty());
    let stderr = fails(out, 128);
    assert!(stderr.contains(&r), "lists the recipient: {stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}
