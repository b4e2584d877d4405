//! age plugin recipients and identities (`age1NAME1…`, `AGE-PLUGIN-NAME-1…`, served by an
//! `age-plugin-NAME` on PATH) with a test plugin built from the age-plugin crate
//! (examples/age-plugin-sesametest.rs), both ways with the real sops: encrypt, decrypt, `set`,
//! `updatekeys`, `rotate`, Shamir with native age keys; the plugin's messages; a missing plugin
//! and a refused PIN, with sops's exit codes.

mod common;

use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, new_age_key, ok};
use std::path::PathBuf;

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";

fn plugin_key() -> (String, String) {
    let (_, identity, recipient) = common::test_age_plugin();
    (identity, recipient)
}

fn plugin_dir() -> PathBuf {
    common::test_age_plugin().0
}

/// A sandbox whose PATH finds the plugin.
fn with_plugin() -> Sandbox {
    let path = format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Sandbox::new().env("PATH", path)
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

#[test]
fn files_go_both_ways_with_sops() {
    let (identity, recipient) = plugin_key();
    assert!(recipient.starts_with("age1sesametest1"), "{recipient}");
    let sb = with_plugin().env("SOPS_AGE_KEY", identity.clone());
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "by-sops.yaml",
        ok(sb.sops(&["encrypt", "--age", &recipient, "plain.yaml"])),
    );
    let out = sb.sesame(&["decrypt", "by-sops.yaml"]);
    // The plugin's message reaches the user.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sesametest: unwrapping"),
        "{out:?}"
    );
    assert_eq!(decrypted(out), PLAIN);
    sb.write(
        "by-sesame.yaml",
        ok(sb.sesame(&["encrypt", "--age", &recipient, "plain.yaml"])),
    );
    assert_eq!(decrypted(sb.sops(&["decrypt", "by-sesame.yaml"])), PLAIN);
    // A key file holding the plugin identity next to a native one, as sops reads it.
    let key_file = sb.write(
        "keys.txt",
        format!("# plugin\n{identity}\n{TEST_IDENTITY}\n"),
    );
    let from_file = with_plugin().env("SOPS_AGE_KEY_FILE", key_file.display().to_string());
    from_file.write("s.yaml", sb.read("by-sops.yaml"));
    assert_eq!(decrypted(from_file.sesame(&["decrypt", "s.yaml"])), PLAIN);

    // A one-value set on sops's file changes only that value, lastmodified and the MAC.
    let theirs = String::from_utf8(sb.read("by-sops.yaml")).unwrap();
    // A one-value set on sops's file changes that value, lastmodified and the MAC only.
    common::assert_one_value_set_is_minimal(&sb, "by-sops.yaml", &theirs);
}

#[test]
fn updatekeys_rotate_and_shamir_with_native_keys() {
    let (identity, recipient) = plugin_key();
    let sb = with_plugin().env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"])),
    );
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {TEST_RECIPIENT},{recipient}\n"),
    );
    ok(sb.sesame(&["updatekeys", "-y", "s.yaml"]));
    let plugin_only = with_plugin().env("SOPS_AGE_KEY", identity.clone());
    plugin_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(plugin_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    ok(sb.sesame(&["rotate", "-i", "s.yaml"]));
    plugin_only.write("s.yaml", sb.read("s.yaml"));
    assert_eq!(decrypted(plugin_only.sops(&["decrypt", "s.yaml"])), PLAIN);
    assert_eq!(decrypted(plugin_only.sesame(&["decrypt", "s.yaml"])), PLAIN);

    // Three groups (plugin, native, native), any two of which decrypt.
    let (b_id, b) = new_age_key();
    let rules = with_plugin();
    rules.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{recipient}]\n      - age: [{TEST_RECIPIENT}]\n      - age: [{b}]\n"
        ),
    );
    rules.write("plain.yaml", PLAIN);
    rules.write("s.yaml", ok(rules.sesame(&["encrypt", "plain.yaml"])));
    let plugin_and_b = with_plugin().env("SOPS_AGE_KEY", format!("{identity}\n{b_id}"));
    plugin_and_b.write("s.yaml", rules.read("s.yaml"));
    assert_eq!(
        decrypted(plugin_and_b.sesame(&["decrypt", "s.yaml"])),
        PLAIN
    );
    assert_eq!(decrypted(plugin_and_b.sops(&["decrypt", "s.yaml"])), PLAIN);
    let plugin_alone = with_plugin().env("SOPS_AGE_KEY", identity);
    plugin_alone.write("s.yaml", rules.read("s.yaml"));
    fails(plugin_alone.sesame(&["decrypt", "s.yaml"]), 128);
}

#[test]
fn a_missing_plugin_and_a_refused_pin() {
    let (identity, recipient) = plugin_key();
    let sb = with_plugin();
    sb.write("plain.yaml", PLAIN);
    sb.write(
        "s.yaml",
        ok(sb.sesame(&["encrypt", "--age", &recipient, "plain.yaml"])),
    );
    // No plugin on PATH: encrypting fails (exit 1, nothing written), decrypting names it.
    let bare = Sandbox::new()
        .env("PATH", "/usr/bin:/bin")
        .env("SOPS_AGE_KEY", identity.clone());
    bare.write("plain.yaml", PLAIN);
    let err = fails(
        bare.sesame(&["encrypt", "--age", &recipient, "plain.yaml"]),
        1,
    );
    assert!(
        err.contains("age-plugin-sesametest was not found on PATH"),
        "{err}"
    );
    fails(
        bare.sops(&["encrypt", "--age", &recipient, "plain.yaml"]),
        1,
    );
    bare.write("s.yaml", sb.read("s.yaml"));
    let err = fails(bare.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(
        err.contains("needs age-plugin-sesametest, which is not on PATH"),
        "{err}"
    );
    fails(bare.sops(&["decrypt", "s.yaml"]), 128);
    // The plugin asks for a PIN and no terminal answers: refused, as with sops.
    let no_tty = with_plugin()
        .env("SOPS_AGE_KEY", identity)
        .env("SESAMETEST_PIN", "4711");
    no_tty.write("s.yaml", sb.read("s.yaml"));
    let err = fails(no_tty.sesame(&["decrypt", "s.yaml"]), 128);
    assert!(
        err.contains("wrong PIN") && !err.contains('\u{2068}'),
        "{err}"
    );
    fails(no_tty.sops(&["decrypt", "s.yaml"]), 128);
}

/// A data key shared by several revisions is unwrapped once per run: `sesame diff` of two
/// revisions and `sesame merge` of three ask the plugin once each, not once per revision.
#[test]
fn revisions_sharing_a_data_key_unwrap_it_once() {
    let (identity, recipient) = plugin_key();
    let sb = with_plugin().env("SOPS_AGE_KEY", identity);
    sb.write("plain.yaml", "a: 1\nb: 2\n");
    let base = ok(sb.sops(&["encrypt", "--age", &recipient, "plain.yaml"]));
    for name in ["base.yaml", "ours.yaml", "theirs.yaml"] {
        sb.write(name, &base);
    }
    ok(sb.sops(&["set", "ours.yaml", r#"["a"]"#, "10"]));
    ok(sb.sops(&["set", "theirs.yaml", r#"["b"]"#, "20"]));
    let log = sb.path("unwraps.log");
    let sb = sb.env("SESAMETEST_LOG", log.display().to_string());
    let count = || {
        let n = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count();
        let _ = std::fs::remove_file(&log);
        n
    };
    let diff = decrypted(sb.sesame(&["diff", "base.yaml", "ours.yaml"]));
    assert!(diff.contains("both MACs verified"), "{diff}");
    assert_eq!(count(), 1, "two revisions, one data key, one unwrap");
    let merged = ok(sb.sesame(&["merge", "base.yaml", "ours.yaml", "theirs.yaml"]));
    assert_eq!(count(), 1, "three revisions, one data key, one unwrap");
    sb.write("merged.yaml", merged);
    let plain = decrypted(sb.sops(&["decrypt", "merged.yaml"]));
    assert_eq!(plain, "a: 10\nb: 20\n");
}
