//! `updatekeys`: apply `.sops.yaml` to existing files, checked against the real sops.

mod common;

use common::{Sandbox, fails, new_age_key, ok};

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\n";

fn rule(recipients: &[&str]) -> String {
    format!(
        "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
        recipients.join(",")
    )
}

/// A file sops encrypted for `r1` under a rule naming `r1`; the rule is then changed.
fn setup(id1: &str, r1: &str) -> (Sandbox, String) {
    let sb = Sandbox::new().env("SOPS_AGE_KEY", id1);
    sb.write(".sops.yaml", rule(&[r1]));
    let src = sb.write("f.yaml", PLAIN);
    ok(sb.sops(&["encrypt", "-i", src.to_str().unwrap()]));
    (sb, src.to_str().unwrap().to_string())
}

fn data_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .take_while(|l| *l != "sops:")
        .map(String::from)
        .collect()
}

#[test]
fn adds_a_recipient_like_sops_and_keeps_everything_else() {
    let (id1, r1) = new_age_key();
    let (id2, r2) = new_age_key();
    let (sb, f) = setup(&id1, &r1);
    let before = sb.read("f.yaml");
    sb.write(".sops.yaml", rule(&[&r1, &r2]));
    // sops on a copy, for the expected output.
    let copy = sb.write("copy.yaml", &before);
    let theirs = ok(sb.sops(&["updatekeys", "-y", copy.to_str().unwrap()]));
    let mine = ok(sb.sesame(&["updatekeys", "-y", &f]));
    assert_eq!(
        String::from_utf8_lossy(&mine),
        String::from_utf8_lossy(&theirs)
    );
    assert_eq!(
        String::from_utf8_lossy(&mine),
        format!(
            "The following changes will be made to the file's groups:\nGroup 1\n    {r1}\n+++ {r2}\n"
        )
    );
    let after = sb.read("f.yaml");
    assert_eq!(
        data_lines(&after),
        data_lines(&before),
        "values are untouched"
    );
    let text = String::from_utf8_lossy(&after);
    let old = String::from_utf8_lossy(&before);
    for field in ["lastmodified:", "mac:"] {
        let line = |t: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with(field))
                .map(String::from)
        };
        assert_eq!(line(&text), line(&old), "{field} is kept");
    }
    // The existing recipient's wrapped key is kept byte for byte.
    let first_enc = |t: &str| {
        t.split("enc: |")
            .nth(1)
            .map(|s| s.split("-----END").next().unwrap().to_string())
    };
    assert_eq!(first_enc(&text), first_enc(&old));
    // The new recipient decrypts with the real sops.
    let by_new = Sandbox::new().env("SOPS_AGE_KEY", id2);
    let g = by_new.write("g.yaml", &after);
    assert_eq!(
        ok(by_new.sops(&["decrypt", g.to_str().unwrap()])),
        PLAIN.as_bytes()
    );
}

#[test]
fn asks_before_changing_and_no_leaves_the_file_alone() {
    let (id1, r1) = new_age_key();
    let (_, r2) = new_age_key();
    let (sb, f) = setup(&id1, &r1);
    let before = sb.read("f.yaml");
    sb.write(".sops.yaml", rule(&[&r2]));
    let out = sb.sesame_stdin(&["updatekeys", &f], b"maybe\nn\n");
    let stdout = String::from_utf8_lossy(&ok(out)).into_owned();
    assert!(
        stdout.contains(&format!("+++ {r2}\n--- {r1}\n")),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("Is this okay? (y/n):").count(),
        2,
        "asks again after a bad answer"
    );
    assert_eq!(sb.read("f.yaml"), before);

    let err = fails(sb.sesame_stdin(&["updatekeys", &f], b""), 1);
    assert!(err.contains("pass -y"), "{err}");
    assert_eq!(sb.read("f.yaml"), before);

    let out = sb.sesame_stdin(&["updatekeys", &f], b"y\n");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(out);
    assert!(stderr.contains("synced with new keys"), "{stderr}");
    // Only r2 remains: r1 can no longer open the file in sops.
    let by_old = Sandbox::new().env("SOPS_AGE_KEY", id1);
    let g = by_old.write("g.yaml", sb.read("f.yaml"));
    fails(by_old.sops(&["decrypt", g.to_str().unwrap()]), 128);
}

#[test]
fn up_to_date_files_and_missing_config() {
    let (id1, r1) = new_age_key();
    let (sb, f) = setup(&id1, &r1);
    let before = sb.read("f.yaml");
    let out = sb.sesame(&["updatekeys", "-y", &f]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already up to date"));
    ok(out);
    assert_eq!(sb.read("f.yaml"), before);

    std::fs::remove_file(sb.path(".sops.yaml")).unwrap();
    let err = fails(sb.sesame(&["updatekeys", "-y", &f]), 1);
    assert!(
        err.contains("config file not found") && err.contains("hint:"),
        "{err}"
    );
    fails(sb.sesame(&["updatekeys"]), 100);
    let err = fails(sb.sesame(&["updatekeys", "-y", "missing.yaml"]), 1);
    assert!(err.contains("missing.yaml"), "{err}");
}

#[test]
fn splits_into_groups_with_a_threshold_sops_can_read() {
    let (id1, r1) = new_age_key();
    let (id2, r2) = new_age_key();
    let (id3, r3) = new_age_key();
    let (sb, f) = setup(&id1, &r1);
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{r1}]\n      - age: [{r2}]\n      - age: [{r3}]\n"
        ),
    );
    let out = String::from_utf8(ok(sb.sesame(&["updatekeys", "-y", &f]))).unwrap();
    assert!(out.contains("+++ shamir_threshold: 2\n"), "{out}");
    let after = sb.read("f.yaml");
    for (pair, decrypts) in [
        (vec![&id1, &id2], true),
        (vec![&id2, &id3], true),
        (vec![&id3], false),
    ] {
        let keys: Vec<String> = pair.iter().map(|s| s.to_string()).collect();
        let other = Sandbox::new().env("SOPS_AGE_KEY", keys.join("\n"));
        let g = other.write("g.yaml", &after);
        let out = other.sops(&["decrypt", g.to_str().unwrap()]);
        if decrypts {
            assert_eq!(ok(out), PLAIN.as_bytes());
        } else {
            fails(out, 128);
        }
    }
}
