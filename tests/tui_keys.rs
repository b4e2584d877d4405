//! The key manager against real files and the real sops: recipients added and removed, groups
//! and thresholds changed, the data key rotated and a `.sops.yaml` rule applied, all through
//! key scripts; then sops decrypts with the new keys and refuses the removed ones.

mod common;
mod tui_support;

use common::gpg::GpgHome;
use common::{Sandbox, fails, fixture, new_age_key, ok};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::store::{EmitOptions, Format};
use sesame::tui::model::Mode;
use sesame::tui::session::{self, OpenRequest, Session};
use tui_support::{drive, status};

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\n";

fn sources(identities: &[&str]) -> KeySources {
    let mut env = FixedEnv::default();
    env.0.insert("SOPS_AGE_KEY".into(), identities.join("\n"));
    KeySources::new(Box::new(env))
}

/// `secrets.yaml` encrypted by the real sops for `recipients`.
fn sops_file(sb: &Sandbox, recipients: &[&str]) {
    sb.write("plain.yaml", PLAIN);
    let out = ok(sb.sops(&["encrypt", "--age", &recipients.join(","), "plain.yaml"]));
    sb.write("secrets.yaml", out);
}

fn open(sb: &Sandbox, identities: &[&str]) -> Session {
    let path = sb.path("secrets.yaml");
    let config = sesame::config::ConfigSearch {
        explicit: None,
        start: Some(sb.dir.path().to_path_buf()),
    };
    let mut s = session::open(OpenRequest {
        path,
        name: "secrets.yaml".into(),
        format: Format::Yaml,
        emit: EmitOptions::default(),
        sources: sources(identities),
        ignore_mac: false,
        config,
        against: None,
    })
    .unwrap();
    drive(&mut s, "");
    sesame::tui::update::update(&mut s.model, sesame::tui::action::Action::Resize(100, 30));
    s
}

/// Runs `script`; the status line then contains `needle`.
#[track_caller]
fn says(s: &mut Session, script: &str, needle: &str) {
    drive(s, script);
    let status = status(&s.model);
    assert!(status.contains(needle), "{needle:?} not in: {status}");
}

/// Runs `script`; the status line then starts with `needle`.
#[track_caller]
fn says_first(s: &mut Session, script: &str, needle: &str) {
    drive(s, script);
    let status = status(&s.model);
    assert!(
        status.starts_with(needle),
        "{needle:?} does not start: {status}"
    );
}

/// Saves through the review and checks it was written. A save after which no key here can
/// decrypt the file (handing it over to other keys) needs the typed "yes".
fn save(s: &mut Session) {
    drive(s, "<ctrl-s>");
    let risky = matches!(&s.model.mode, Mode::ReviewSave(r) if r.is_risky());
    drive(s, if risky { "yyes<enter>" } else { "y" });
    assert!(!s.model.dirty(), "not saved: {}", status(&s.model));
    assert!(
        status(&s.model).starts_with("saved"),
        "{}",
        status(&s.model)
    );
}

/// sops decrypts `secrets.yaml` holding only `identities`.
fn sops_decrypts(sb: &Sandbox, identities: &[&str]) -> bool {
    let keys = identities.join("\n");
    let out = sb.sops_with(&[("SOPS_AGE_KEY", &keys)], &["decrypt", "secrets.yaml"]);
    if out.status.success() {
        assert_eq!(String::from_utf8_lossy(&out.stdout), PLAIN);
        return true;
    }
    assert_eq!(
        out.status.code(),
        Some(128),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
fn add_remove_and_rotate_then_sops_reads_with_the_new_key_only() {
    let (a_id, a) = new_age_key();
    let (b_id, b) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let before = sb.read("secrets.yaml");
    let mut s = open(&sb, &[&a_id]);
    // The key list: group 1 (0), a (1). Add b, remove a, rotate.
    drive(&mut s, &format!("Ka{b}<enter>"));
    says_first(&mut s, "gjd", "staged: remove age");
    drive(&mut s, "R");
    assert_eq!(s.model.key_manager.plan.labels().len(), 3);
    assert_eq!(
        sb.read("secrets.yaml"),
        before,
        "nothing is written before a save"
    );
    save(&mut s);
    assert!(
        s.model.key_manager.plan.is_empty(),
        "a save starts a new plan"
    );
    assert!(sops_decrypts(&sb, &[&b_id]));
    assert!(!sops_decrypts(&sb, &[&a_id]), "the removed key is refused");
    let text = String::from_utf8(sb.read("secrets.yaml")).unwrap();
    assert!(text.contains(&b) && !text.contains(&a));
}

/// Handing the file over to a key this machine does not hold: the review says nobody here
/// could decrypt it afterwards and who still can; without the typed "yes" nothing is written.
#[test]
fn a_save_that_locks_this_machine_out_needs_a_typed_yes() {
    let (a_id, a) = new_age_key();
    let (_, b) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let before = sb.read("secrets.yaml");
    let mut s = open(&sb, &[&a_id]);
    drive(&mut s, &format!("Ka{b}<enter>"));
    says_first(&mut s, "gjd", "staged: remove age");
    drive(&mut s, "<ctrl-s>");
    let Mode::ReviewSave(review) = &s.model.mode else {
        panic!("no review: {}", status(&s.model))
    };
    let why = review.lockout.clone().expect("a lockout is reported");
    assert!(why.contains("no key on this machine can decrypt"), "{why}");
    assert!(why.contains(&b) && !why.contains(&a), "{why}");
    drive(&mut s, "ynope<enter>");
    assert!(
        status(&s.model).starts_with("not saved"),
        "{}",
        status(&s.model)
    );
    assert_eq!(sb.read("secrets.yaml"), before, "nothing was written");
    assert!(s.model.dirty());
    // Adding a key of ours back makes it an ordinary save.
    drive(&mut s, &format!("Ka{a}<enter>"));
    drive(&mut s, "<ctrl-s>");
    assert!(matches!(&s.model.mode, Mode::ReviewSave(r) if !r.is_risky()));
}

#[test]
fn groups_and_a_threshold_made_in_the_editor_are_sops_shamir_groups() {
    let (a_id, a) = new_age_key();
    let (b_id, b) = new_age_key();
    let (c_id, c) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[&a_id]);
    drive(&mut s, &format!("Kn{b}<enter>n{c}<enter>"));
    assert_eq!(s.model.key_manager.plan.groups().len(), 3);
    says(&mut s, "t<backspace>4<enter>", "impossible");
    says_first(&mut s, "t<backspace>2<enter>", "staged");
    save(&mut s);
    let text = String::from_utf8(sb.read("secrets.yaml")).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    assert!(sops_decrypts(&sb, &[&a_id, &c_id]));
    assert!(sops_decrypts(&sb, &[&b_id, &c_id]));
    assert!(
        !sops_decrypts(&sb, &[&c_id]),
        "one group of three is not enough"
    );

    // Back to one group: remove group 3 (2 of 2 left), then group 2.
    let mut s = open(&sb, &[&b_id, &c_id]);
    drive(&mut s, "KGkd");
    assert!(
        s.model
            .key_manager
            .plan
            .who_can_decrypt()
            .contains("each of the 2 groups")
    );
    drive(&mut s, "Gkd");
    assert_eq!(
        s.model.key_manager.plan.groups().len(),
        1,
        "{}",
        status(&s.model)
    );
    save(&mut s);
    assert!(sops_decrypts(&sb, &[&a_id]));
    assert!(!sops_decrypts(&sb, &[&b_id, &c_id]));
}

#[test]
fn refusals_say_why_and_stage_nothing() {
    let (a_id, a) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[&a_id]);
    says(&mut s, "Kjd", "would leave it empty");
    says(&mut s, "gd", "only key group");
    says(&mut s, "t<backspace>2<enter>", "several key groups");
    says(&mut s, &format!("a{a}<enter>"), "already has");
    says(&mut s, "aage1nope<enter>", "failed to parse age recipient");
    // (The refused text stays in the prompt to be corrected; Esc leaves it.)
    says(&mut s, "<esc>ano-such-key.asc<enter>", "no-such-key.asc");
    says(&mut s, "c", "no .sops.yaml");
    assert!(s.model.key_manager.plan.is_empty() && !s.model.dirty());
    drive(&mut s, "<esc>");
    assert!(matches!(s.model.mode, Mode::Normal));
}

#[test]
fn the_sops_yaml_rule_is_previewed_then_staged() {
    let (a_id, a) = new_age_key();
    let (b_id, b) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {b}\n"),
    );
    let mut s = open(&sb, &[&a_id]);
    drive(&mut s, "Kc");
    let Mode::RulePreview(p) = &s.model.mode else {
        panic!("no preview: {}", status(&s.model));
    };
    assert_eq!(p.diff[0].added, vec![b.clone()]);
    assert_eq!(p.diff[0].removed, vec![a.clone()]);
    let screen = tui_support::screen(&s.model);
    assert!(screen.contains(&format!("+++ {b}")) && screen.contains(&format!("--- {a}")));
    drive(&mut s, "n");
    assert!(
        s.model.key_manager.plan.is_empty(),
        "n keeps the current keys"
    );
    drive(&mut s, "cy");
    assert_eq!(s.model.key_manager.plan.labels().len(), 1);
    says(&mut s, "c", "already match");
    save(&mut s);
    assert!(sops_decrypts(&sb, &[&b_id]));
    assert!(!sops_decrypts(&sb, &[&a_id]));
}

#[test]
fn an_armored_public_key_file_adds_a_pgp_recipient_sops_decrypts_with() {
    let (a_id, a) = new_age_key();
    let home = GpgHome::with(&["rsa.sec.asc"]);
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[&a_id]);
    let key_file = fixture("pgp/rsa.pub.asc");
    says(
        &mut s,
        &format!("Ka{}<enter>", key_file.display()),
        "add pgp C00974E4CF25A715D3CE81D962377BD1225D0C0E",
    );
    let facts = s
        .model
        .key_manager
        .facts
        .values()
        .find(|f| f.user_id.is_some());
    assert_eq!(
        facts.and_then(|f| f.user_id.clone()).as_deref(),
        Some("sesame test RSA <rsa@sesame.test>")
    );
    save(&mut s);
    let gnupg = home.path().to_str().unwrap();
    let out = sb.sops_with(&[("GNUPGHOME", gnupg)], &["decrypt", "secrets.yaml"]);
    assert_eq!(String::from_utf8(ok(out)).unwrap(), PLAIN);
    fails(
        sb.sops_with(
            &[("GNUPGHOME", "/nonexistent")],
            &["decrypt", "secrets.yaml"],
        ),
        128,
    );
}

#[test]
fn a_read_only_file_shows_its_keys_but_changes_none() {
    let (_, a) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[]);
    drive(&mut s, "K");
    assert!(matches!(s.model.mode, Mode::KeyManager));
    assert!(tui_support::screen(&s.model).contains(&a));
    says(&mut s, "R", "recipients cannot be changed");
    assert!(s.model.key_manager.plan.is_empty());
}

/// Recipients `.sops.yaml` names (an anchor, a comment) show with those names in the key
/// manager.
#[test]
fn the_key_manager_names_recipients_as_sops_yaml_does() {
    let sb = Sandbox::new();
    let (alice_id, alice) = new_age_key();
    let (_, bob) = new_age_key();
    sb.write(
        ".sops.yaml",
        format!(
            "keys:\n  - &alice {alice}\n  - {bob} # bob's laptop\ncreation_rules:\n  - age: [*alice]\n"
        ),
    );
    sops_file(&sb, &[&alice, &bob]);
    let mut s = open(&sb, &[&alice_id]);
    drive(&mut s, "K");
    let screen = tui_support::screen(&s.model);
    assert!(screen.contains("alice (named in .sops.yaml)"), "{screen}");
    assert!(
        screen.contains("bob's laptop (named in .sops.yaml)"),
        "{screen}"
    );
}

/// A hybrid post-quantum age recipient (some 2,000 characters) added in the key manager: shown
/// by its start and end on one line, marked usable once its identity is at hand, and the saved
/// file opens with that identity alone.
#[test]
fn a_post_quantum_recipient_in_the_key_manager() {
    use sesame::keys::age::hybrid;
    let (a_id, a) = new_age_key();
    let pq = hybrid::Identity::generate();
    let pq_id = pq.to_secret_string().to_string();
    let pq_recipient = pq.to_public().to_string();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[&a_id, &pq_id]);
    drive(&mut s, &format!("Ka{pq_recipient}<enter>"));
    says_first(&mut s, "", "staged: add age");
    save(&mut s);
    drive(&mut s, "K");
    let screen = tui_support::screen(&s.model);
    let shown = format!(
        "{}…{}",
        &pq_recipient[..48],
        &pq_recipient[pq_recipient.len() - 12..]
    );
    assert!(screen.contains(&shown), "{screen}");
    let mut lines = screen.lines().skip_while(|l| !l.contains(&shown));
    lines.next();
    let status = lines.next().unwrap();
    assert!(status.contains("✓ can decrypt here"), "{screen}");
    let text = String::from_utf8(sb.read("secrets.yaml")).unwrap();
    assert!(text.contains(&pq_recipient));
    let out = ok(sb.sesame_with(&[("SOPS_AGE_KEY", &pq_id)], &["decrypt", "secrets.yaml"]));
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
}

/// `D` duplicates a map under a new key (its values encrypted anew for their new place) and
/// `Ctrl-U` clears a prompt; the real sops reads the saved copy.
#[test]
fn a_duplicated_map_is_saved_and_read_by_sops() {
    let (a_id, a) = new_age_key();
    let sb = Sandbox::new();
    sops_file(&sb, &[&a]);
    let mut s = open(&sb, &[&a_id]);
    tui_support::goto(&mut s.model, "db");
    drive(&mut s, "D");
    assert!(
        matches!(s.model.mode, Mode::Prompt(_)),
        "{}",
        status(&s.model)
    );
    drive(&mut s, "<ctrl-u>copy<enter>");
    save(&mut s);
    let out = ok(sb.sops_with(&[("SOPS_AGE_KEY", &a_id)], &["decrypt", "secrets.yaml"]));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{PLAIN}copy:\n    user: admin\n    password: s3cret\n")
    );
}
