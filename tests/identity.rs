//! `sesame identity` against the real kernel keyring (a fresh session keyring per test, see
//! common/keyring.rs), and decryption of files the real sops wrote with keyring identities only.

mod common;

use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, new_age_key, ok};

/// A YAML file encrypted by the real sops for `recipient`.
fn sops_file(sb: &Sandbox, recipient: &str) -> String {
    sb.write("plain.yaml", "db:\n    password: hunter2\n");
    let enc = ok(sb.sops(&["encrypt", "--age", recipient, "plain.yaml"]));
    sb.write("secret.sops.yaml", &enc);
    "secret.sops.yaml".into()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn add_list_decrypt_remove_with_the_keyring_only() {
    let sb = Sandbox::new().with_keyring();
    let (secret, recipient) = new_age_key();
    let file = sops_file(&sb, &recipient);

    // Without the identity, decryption fails and says the keyring was looked at.
    let err = fails(sb.sesame(&["decrypt", &file]), 128);
    assert!(err.contains("the Linux kernel keyring"), "{err}");

    let out = sb.sesame_stdin(
        &["identity", "add", "--name", "work laptop"],
        secret.as_bytes(),
    );
    assert_eq!(text(ok(out)), format!("{recipient}\n"));

    let out = sb.sesame(&["identity", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let listed = text(ok(out));
    assert_eq!(listed, format!("{recipient}\twork laptop\n"));
    assert!(!listed.contains("AGE-SECRET-KEY"));
    // The persistent keyring is out of reach in tests, and the listing says what that means.
    assert!(stderr.contains("session keyring only"), "{stderr}");

    // No SOPS_AGE_KEY_FILE, no keys.txt: the keyring identity alone decrypts.
    let plain = text(ok(sb.sesame(&["decrypt", &file])));
    assert_eq!(plain, "db:\n    password: hunter2\n");

    ok(sb.sesame(&["identity", "remove", "work laptop"]));
    let out = sb.sesame(&["identity", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no identities stored"));
    assert_eq!(text(ok(out)), "");

    let err = fails(sb.sesame(&["decrypt", &file]), 128);
    assert!(err.contains("failed to load age identities"), "{err}");
    assert!(err.contains("Did not find keys in locations"), "{err}");
    assert!(err.contains("the Linux kernel keyring"), "{err}");
}

#[test]
fn generate_prints_only_the_recipient_and_the_key_decrypts() {
    let sb = Sandbox::new().with_keyring();
    let out = sb.sesame(&["identity", "add", "--generate"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let recipient = text(ok(out)).trim_end().to_string();
    assert!(
        recipient.starts_with("age1") && !recipient.contains('\n'),
        "{recipient}"
    );
    assert!(!stderr.contains("AGE-SECRET-KEY"), "{stderr}");
    assert!(stderr.contains("warning:"), "{stderr}");

    let file = sops_file(&sb, &recipient);
    let plain = text(ok(sb.sesame(&["decrypt", &file])));
    assert!(plain.contains("hunter2"));
    // Removing by recipient works as well as by name.
    ok(sb.sesame(&["identity", "remove", &recipient]));
    fails(sb.sesame(&["decrypt", &file]), 128);
}

#[test]
fn adds_every_identity_of_a_key_file_and_keeps_other_sources_working() {
    let sb = Sandbox::new().with_keyring();
    let (other, other_recipient) = new_age_key();
    sb.write(
        "keys.txt",
        format!(
            "# created: 2026-01-01\n# public key: {TEST_RECIPIENT}\n{TEST_IDENTITY}\n\n{other}\n"
        ),
    );
    let out = text(ok(sb.sesame(&["identity", "add", "keys.txt"])));
    assert_eq!(out, format!("{TEST_RECIPIENT}\n{other_recipient}\n"));
    let listed = text(ok(sb.sesame(&["identity", "list"])));
    assert_eq!(
        listed,
        format!("{TEST_RECIPIENT}\t-\n{other_recipient}\t-\n")
    );

    // A file sops wrote for a key that is only in SOPS_AGE_KEY_FILE still decrypts, quietly.
    let (file_key, file_recipient) = new_age_key();
    let file = sops_file(&sb, &file_recipient);
    sb.write("mine.txt", &file_key);
    let key_file = sb.path("mine.txt").display().to_string();
    let sb = sb.env("SOPS_AGE_KEY_FILE", key_file);
    let out = sb.sesame(&["decrypt", &file]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(text(ok(out)).contains("hunter2"));
}

#[test]
fn bad_input_gets_clear_errors_and_sops_exit_codes() {
    let sb = Sandbox::new().with_keyring();
    sb.write("notakey.txt", "hello secret world\n");
    let err = fails(sb.sesame(&["identity", "add", "notakey.txt"]), 2);
    assert!(
        err.contains("notakey.txt") && err.contains("line 1 is not an age identity"),
        "{err}"
    );
    assert!(err.contains("hint:") && !err.contains("hello"), "{err}");

    let err = fails(
        sb.sesame_stdin(&["identity", "add", "-"], TEST_RECIPIENT.as_bytes()),
        2,
    );
    assert!(err.contains("public recipient"), "{err}");
    let err = fails(sb.sesame(&["identity", "add", "missing.txt"]), 2);
    assert!(err.contains("failed to read missing.txt"), "{err}");

    ok(sb.sesame_stdin(
        &["identity", "add", "--name", "ci"],
        TEST_IDENTITY.as_bytes(),
    ));
    let err = fails(
        sb.sesame_stdin(&["identity", "add"], TEST_IDENTITY.as_bytes()),
        1,
    );
    assert!(
        err.contains(&format!(
            "the identity for {TEST_RECIPIENT} is already in the OS keyring (named \"ci\")"
        )),
        "{err}"
    );
    let (fresh, _) = new_age_key();
    let err = fails(
        sb.sesame_stdin(&["identity", "add", "--name", "ci"], fresh.as_bytes()),
        1,
    );
    assert!(err.contains("the name \"ci\" is already used"), "{err}");
    let err = fails(
        sb.sesame_stdin(&["identity", "add", "--name", "age1x"], fresh.as_bytes()),
        1,
    );
    assert!(err.contains("invalid identity name"), "{err}");
    let two = format!("{fresh}\n{}\n", new_age_key().0);
    let err = fails(
        sb.sesame_stdin(&["identity", "add", "--name", "x"], two.as_bytes()),
        8,
    );
    assert!(err.contains("--name names one identity"), "{err}");

    let err = fails(sb.sesame(&["identity", "remove", "nobody"]), 1);
    assert!(
        err.contains("no identity in the OS keyring has the recipient or name \"nobody\""),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");

    // Nothing that failed was stored.
    let listed = text(ok(sb.sesame(&["identity", "list"])));
    assert_eq!(listed, format!("{TEST_RECIPIENT}\tci\n"));
}

#[test]
fn an_unusable_keyring_is_quiet_for_decrypt_and_clear_for_identity() {
    let sb = Sandbox::new().keyring_denied();
    let (key, recipient) = new_age_key();
    let file = sops_file(&sb, &recipient);
    sb.write("keys.txt", &key);
    let key_file = sb.path("keys.txt").display().to_string();
    let sb = sb.env("SOPS_AGE_KEY_FILE", key_file);
    let out = sb.sesame(&["decrypt", &file]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(text(ok(out)).contains("hunter2"));

    // Without a usable key, the report names the keyring and why it could not be read.
    let (_, stranger) = new_age_key();
    let other = sops_file(&sb, &stranger);
    let err = fails(sb.sesame(&["decrypt", &other]), 128);
    assert!(
        err.contains("the Linux kernel keyring (`sesame identity list`) (the OS keyring"),
        "{err}"
    );

    let err = fails(sb.sesame(&["identity", "list"]), 128);
    assert!(
        err.contains("the OS keyring (Linux kernel keyring) cannot be used"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}
