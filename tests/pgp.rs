//! PGP keys against the real sops and the real gpg: files each writes, the other reads, through
//! the gpg agent path, in-process key files, `.sops.pub.asc`, mixes with age and Shamir groups.

mod common;

use common::gpg::GpgHome;
use common::{Sandbox, fails, fixture, new_age_key, ok};
use std::path::Path;

const RSA: &str = "C00974E4CF25A715D3CE81D962377BD1225D0C0E";
const ED25519: &str = "5D99A110E55C302F150E3ECB26CCDE215B6BEB8B";
const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nlist:\n    - 1\n    - two\n";

fn sandbox(home: &GpgHome) -> Sandbox {
    Sandbox::new().env("GNUPGHOME", home.path().to_str().unwrap())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn sops_encrypts_for_rsa_and_ed25519_and_sesame_decrypts_through_gpg() {
    let both = GpgHome::with(&["rsa.sec.asc", "ed25519.sec.asc"]);
    let sb = sandbox(&both);
    let src = sb.write("in.yaml", PLAIN);
    let enc = ok(sb.sops(&["encrypt", "--pgp", &format!("{RSA},{ED25519}"), path(&src)]));
    for secret in ["rsa.sec.asc", "ed25519.sec.asc"] {
        let one = GpgHome::with(&[secret]);
        let sb = sandbox(&one);
        let f = sb.write("f.yaml", &enc);
        assert_eq!(
            ok(sb.sesame(&["decrypt", path(&f)])),
            PLAIN.as_bytes(),
            "with {secret}"
        );
    }
}

#[test]
fn sesame_encrypts_with_keys_from_the_gpg_keyring_and_sops_decrypts() {
    for (fp, secret) in [(RSA, "rsa.sec.asc"), (ED25519, "ed25519.sec.asc")] {
        let public = GpgHome::with(&["rsa.pub.asc", "ed25519.pub.asc"]);
        let sb = sandbox(&public);
        let src = sb.write("in.yaml", PLAIN);
        let enc = ok(sb.sesame(&["encrypt", "--pgp", fp, path(&src)]));
        let text = String::from_utf8(enc.clone()).unwrap();
        assert!(
            text.contains(&format!("fp: {fp}")) && text.contains("created_at: \""),
            "{text}"
        );
        let private = GpgHome::with(&[secret]);
        let sb = sandbox(&private);
        let f = sb.write("f.yaml", &enc);
        assert_eq!(
            ok(sb.sops(&["decrypt", path(&f)])),
            PLAIN.as_bytes(),
            "{fp}"
        );
        // And the file's layout is the one sops writes.
        let mine = ok(sb.sops(&["encrypt", "--pgp", fp, path(&sb.write("in.yaml", PLAIN))]));
        // Armor lines differ in number; every keyed line must match, in order.
        let keys = |b: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(b)
                .lines()
                .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
                .collect()
        };
        assert_eq!(keys(&enc), keys(&mine));
    }
}

#[test]
fn armored_secret_key_file_decrypts_without_gpg() {
    let both = GpgHome::with(&["rsa.sec.asc", "ed25519.sec.asc"]);
    let enc = ok(sandbox(&both).sops(&[
        "encrypt",
        "--pgp",
        ED25519,
        path(&sandbox(&both).write("in.yaml", PLAIN)),
    ]));
    // No usable gpg at all: only the mounted key file can decrypt.
    let sb = Sandbox::new()
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
        .env("SESAME_PGP_KEY_FILE", path(&fixture("pgp/ed25519.sec.asc")));
    let f = sb.write("f.yaml", &enc);
    assert_eq!(ok(sb.sesame(&["decrypt", path(&f)])), PLAIN.as_bytes());
    // The wrong key file fails with a report naming the fingerprint and what to do.
    let sb = Sandbox::new()
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
        .env("SESAME_PGP_KEY_FILE", path(&fixture("pgp/rsa.sec.asc")));
    let f = sb.write("f.yaml", &enc);
    let err = fails(sb.sesame(&["decrypt", path(&f)]), 128);
    assert!(err.contains(ED25519) && err.contains("FAILED"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("SESAME_PGP_KEY_FILE"),
        "{err}"
    );
    assert!(err.contains("could not run /nonexistent/gpg"), "{err}");
}

#[test]
fn repository_public_keys_file_is_enough_to_encrypt() {
    // An empty keyring and no gpg: the committed .sops.pub.asc supplies the certificates.
    let sb = Sandbox::new().env("SOPS_GPG_EXEC", "/nonexistent/gpg");
    let mut keys = std::fs::read(fixture("pgp/rsa.pub.asc")).unwrap();
    keys.extend(std::fs::read(fixture("pgp/ed25519.pub.asc")).unwrap());
    sb.write("repo/.sops.pub.asc", keys);
    let src = sb.write("repo/apps/in.yaml", PLAIN);
    let enc = ok(sb.sesame(&["encrypt", "--pgp", &format!("{RSA},{ED25519}"), path(&src)]));
    for secret in ["rsa.sec.asc", "ed25519.sec.asc"] {
        let one = GpgHome::with(&[secret]);
        let sb = sandbox(&one);
        let f = sb.write("f.yaml", &enc);
        assert_eq!(
            ok(sb.sops(&["decrypt", path(&f)])),
            PLAIN.as_bytes(),
            "{secret}"
        );
    }
    // Without the file, the missing certificate is named.
    let sb = Sandbox::new().env("SOPS_GPG_EXEC", "/nonexistent/gpg");
    let src = sb.write("in.yaml", PLAIN);
    let err = fails(sb.sesame(&["encrypt", "--pgp", RSA, path(&src)]), 1);
    assert!(
        err.contains(RSA) && err.contains("nothing was written"),
        "{err}"
    );
}

#[test]
fn sops_gpg_exec_is_the_gpg_that_runs() {
    let home = GpgHome::with(&["rsa.sec.asc"]);
    let sb = sandbox(&home);
    let log = sb.path("gpg.log");
    let wrapper = sb.write(
        "mygpg",
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec gpg \"$@\"\n",
            log.display()
        ),
    );
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let enc = ok(sb.sops(&["encrypt", "--pgp", RSA, path(&sb.write("in.yaml", PLAIN))]));
    let sb = sb.env("SOPS_GPG_EXEC", path(&wrapper));
    let f = sb.write("f.yaml", &enc);
    assert_eq!(ok(sb.sesame(&["decrypt", path(&f)])), PLAIN.as_bytes());
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.lines().any(|l| l.trim() == "-d"), "{calls}");
}

#[test]
fn age_and_pgp_in_one_group_each_decrypts() {
    let (id, recipient) = new_age_key();
    let public = GpgHome::with(&["rsa.pub.asc"]);
    let sb = sandbox(&public);
    let src = sb.write("in.yaml", PLAIN);
    let enc = ok(sb.sesame(&["encrypt", "--pgp", RSA, "--age", &recipient, path(&src)]));
    let by_age = Sandbox::new().env("SOPS_AGE_KEY", id);
    let f = by_age.write("f.yaml", &enc);
    assert_eq!(ok(by_age.sops(&["decrypt", path(&f)])), PLAIN.as_bytes());
    let private = GpgHome::with(&["rsa.sec.asc"]);
    let by_pgp = sandbox(&private);
    let f = by_pgp.write("f.yaml", &enc);
    assert_eq!(ok(by_pgp.sops(&["decrypt", path(&f)])), PLAIN.as_bytes());
}

/// Three groups (age, PGP RSA, PGP Ed25519) with threshold 2, written by `writer`: every pair
/// of groups decrypts in both programs, one group alone fails.
fn three_groups_threshold_two(writer: &str) {
    let (id, recipient) = new_age_key();
    let config = format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age:\n          - {recipient}\n      - pgp:\n          - {RSA}\n      - pgp:\n          - {ED25519}\n"
    );
    let public = GpgHome::with(&["rsa.pub.asc", "ed25519.pub.asc"]);
    let sb = sandbox(&public);
    sb.write(".sops.yaml", &config);
    let src = sb.write("in.yaml", PLAIN);
    let enc = ok(if writer == "sops" {
        sb.sops(&["encrypt", path(&src)])
    } else {
        sb.sesame(&["encrypt", path(&src)])
    });
    assert!(String::from_utf8_lossy(&enc).contains("shamir_threshold: 2"));
    let cases: [(&[&str], bool, bool); 6] = [
        (&["rsa.sec.asc", "ed25519.sec.asc"], false, true),
        (&["rsa.sec.asc"], true, true),
        (&["ed25519.sec.asc"], true, true),
        (&["rsa.sec.asc"], false, false),
        (&["ed25519.sec.asc"], false, false),
        (&[], true, false),
    ];
    for (secrets, with_age, decrypts) in cases {
        let home = GpgHome::with(secrets);
        let mut sb = sandbox(&home);
        if with_age {
            sb = sb.env("SOPS_AGE_KEY", id.clone());
        }
        let f = sb.write("f.yaml", &enc);
        for (program, out) in [
            ("sops", sb.sops(&["decrypt", path(&f)])),
            ("sesame", sb.sesame(&["decrypt", path(&f)])),
        ] {
            if decrypts {
                assert_eq!(
                    ok(out),
                    PLAIN.as_bytes(),
                    "{program} with {secrets:?} age={with_age}"
                );
            } else {
                let err = fails(out, 128);
                if program == "sesame" {
                    assert!(
                        err.contains("only 1 of the 2 required Shamir parts"),
                        "{err}"
                    );
                }
            }
        }
    }
}

#[test]
fn three_groups_threshold_two_written_by_sesame() {
    three_groups_threshold_two("sesame");
}

#[test]
fn three_groups_threshold_two_written_by_sops() {
    three_groups_threshold_two("sops");
}

#[test]
fn rotate_swaps_a_pgp_recipient_for_another() {
    let both = GpgHome::with(&["rsa.sec.asc", "ed25519.sec.asc"]);
    let sb = sandbox(&both);
    let enc = ok(sb.sops(&["encrypt", "--pgp", RSA, path(&sb.write("in.yaml", PLAIN))]));
    let f = sb.write("f.yaml", &enc);
    ok(sb.sesame(&[
        "rotate",
        "-i",
        "--add-pgp",
        ED25519,
        "--rm-pgp",
        RSA,
        path(&f),
    ]));
    let rotated = sb.read("f.yaml");
    let only_rsa = GpgHome::with(&["rsa.sec.asc"]);
    let sb_rsa = sandbox(&only_rsa);
    let g = sb_rsa.write("g.yaml", &rotated);
    fails(sb_rsa.sops(&["decrypt", path(&g)]), 128);
    let only_ed = GpgHome::with(&["ed25519.sec.asc"]);
    let sb_ed = sandbox(&only_ed);
    let g = sb_ed.write("g.yaml", &rotated);
    assert_eq!(ok(sb_ed.sops(&["decrypt", path(&g)])), PLAIN.as_bytes());
}

#[test]
fn availability_tells_which_pgp_keys_this_machine_holds() {
    use sesame::env::FixedEnv;
    use sesame::keys::groups::KeySources;
    use sesame::keys::service::Availability;
    use sesame::keys::{KeyKind, MasterKey};
    let pgp = |fp: &str| {
        let mut k = MasterKey::new(KeyKind::Pgp);
        k.set_text("fp", fp);
        k
    };
    let home = GpgHome::with(&["rsa.sec.asc", "ed25519.pub.asc"]);
    let env = FixedEnv([("GNUPGHOME".to_string(), path(home.path()).to_string())].into());
    let sources = KeySources::new(Box::new(env));
    assert_eq!(
        sources.availability(&pgp(RSA)),
        Availability::Usable("gpg's keyring".into())
    );
    assert!(matches!(
        sources.availability(&pgp(ED25519)),
        Availability::Missing(_)
    ));
    let env = FixedEnv(
        [
            ("SOPS_GPG_EXEC".to_string(), "/nonexistent/gpg".to_string()),
            (
                "SESAME_PGP_KEY_FILE".to_string(),
                path(&fixture("pgp/ed25519.sec.asc")).to_string(),
            ),
        ]
        .into(),
    );
    let sources = KeySources::new(Box::new(env));
    assert_eq!(
        sources.availability(&pgp(ED25519)),
        Availability::Usable("a key file".into())
    );
    assert!(matches!(
        sources.availability(&pgp(RSA)),
        Availability::Missing(_)
    ));
}

/// A passphrase-protected key whose passphrase gpg cannot ask for (no pinentry): the error
/// keeps gpg's reason, not only its last line ("No secret key"), and the hint says what to do
/// about the passphrase instead of sending the user to import a key they have.
#[test]
fn a_key_gpg_cannot_unlock_is_named_as_such() {
    let home = GpgHome::with(&[]);
    std::fs::write(
        home.path().join("gpg-agent.conf"),
        "pinentry-program /nonexistent/pinentry\n",
    )
    .unwrap();
    let made = home
        .gpg()
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "pw",
        ])
        .args([
            "--quick-gen-key",
            "Locked <locked@example.com>",
            "default",
            "default",
            "never",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let listed = home
        .gpg()
        .args(["--with-colons", "--list-keys"])
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .unwrap()
        .to_string();
    let sb = sandbox(&home);
    let src = sb.write("in.yaml", PLAIN);
    let enc = ok(sb.sops(&["encrypt", "--pgp", &fp, path(&src)]));
    let f = sb.write("f.yaml", &enc);
    let err = fails(sb.sesame(&["decrypt", path(&f)]), 128);
    assert!(err.contains("No pinentry"), "{err}");
    assert!(
        err.contains("could not ask for the PGP key's passphrase"),
        "{err}"
    );
    assert!(!err.contains("import the secret key"), "{err}");
}
