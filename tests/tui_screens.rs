//! Every screen of the editor, rendered on ratatui's `TestBackend` from key scripts and
//! compared with the snapshots in `snapshots/` (a mismatch fails; nothing is accepted
//! silently). Text snapshots carry no colour, so the cells where colour carries meaning are
//! checked directly.

mod common;
mod tui_support;

use sesame::document::{Document, NewFile};
use sesame::env::FixedEnv;
use sesame::keys::groups::KeySources;
use sesame::keys::{KeyGroup, KeyKind, MasterKey};
use sesame::store::{self, EmitOptions, Format};
use sesame::tui::demo;
use sesame::tui::model::Model;

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use sesame::tui::action::Action;
use sesame::tui::theme::Theme;
use sesame::tui::update::update;
use sesame::tui::view::MASK;
use tui_support::{
    demo_model, demo_sources, fix_today, goto, model_of, model_with, press, probe, render,
    review_model, screen,
};

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// The cell showing `symbol` on the first row of the tree pane (the left 60 columns) whose
/// text contains `needle`.
fn cell<'a>(buf: &'a Buffer, needle: &str, symbol: &str) -> &'a ratatui::buffer::Cell {
    let width = 60;
    for y in 0..buf.area.height {
        let line: String = (0..width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if line.contains(needle) {
            for x in 0..width {
                if buf[(x, y)].symbol() == symbol {
                    return &buf[(x, y)];
                }
            }
        }
    }
    panic!("no {symbol:?} on a row with {needle:?}");
}

#[test]
fn tree() {
    let m = demo_model();
    let s = screen(&m);
    assert!(s.contains(MASK));
    snapshot("tree", &s);
}

#[test]
fn tree_with_a_value_revealed_and_collapsed_parts() {
    let mut m = demo_model();
    goto(&mut m, "api");
    press(&mut m, "h");
    goto(&mut m, "user");
    press(&mut m, "<space>");
    snapshot("tree_revealed", &screen(&m));
}

#[test]
fn editing() {
    let mut m = demo_model();
    goto(&mut m, "user");
    press(
        &mut m,
        "<enter><backspace><backspace><backspace><backspace><backspace>deploy",
    );
    snapshot("editing", &screen(&m));
}

#[test]
fn add_key_prompt() {
    let mut m = demo_model();
    goto(&mut m, "host");
    press(&mut m, "aport");
    snapshot("add_key_prompt", &screen(&m));
}

#[test]
fn review_before_save() {
    let mut m = demo_model();
    goto(&mut m, "user");
    press(&mut m, "<enter>x<enter>");
    goto(&mut m, "debug");
    press(&mut m, "dy");
    goto(&mut m, "api");
    press(&mut m, "r2<enter>");
    press(&mut m, "<ctrl-s>");
    let s = screen(&m);
    // The net result, not the log of edits: a renamed map is one line.
    assert!(s.contains(r#"~ ["database"]["user"]  changed"#), "{s}");
    assert!(
        s.contains(r#"~ ["api"]  renamed to ["api2"] (4 values)"#),
        "{s}"
    );
    assert!(s.contains(r#"- ["app"]["debug"]  removed"#), "{s}");
    snapshot("review_before_save", &s);
}

/// A new key edited twice is one added value; a value changed and changed back is no change.
#[test]
fn the_review_shows_the_net_result() {
    let mut m = demo_model();
    goto(&mut m, "host");
    press(&mut m, "aport<enter>1<enter>");
    press(&mut m, "<enter><backspace>2<enter>");
    goto(&mut m, "name");
    press(&mut m, "<enter>x<enter>");
    press(&mut m, "u");
    press(&mut m, "<ctrl-s>");
    let s = screen(&m);
    assert!(s.contains(r#"+ ["database"]["port"]  added"#), "{s}");
    assert_eq!(
        s.matches(r#"["database"]["port"]"#).count(),
        1,
        "one line: {s}"
    );
    assert!(!s.contains(r#"~ ["app"]["name"]"#), "undone: {s}");
    press(&mut m, "<esc>");
    goto(&mut m, "port");
    press(&mut m, "dy");
    press(&mut m, "<ctrl-s>");
    let s = screen(&m);
    assert!(s.contains("The edits cancel out"), "{s}");
}

#[test]
fn confirm_delete_and_change_type() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "d");
    snapshot("confirm_delete", &screen(&m));
    press(&mut m, "<esc>t");
    snapshot("change_type", &screen(&m));
    // Deleting a map or a list says how much goes with it.
    press(&mut m, "<esc>");
    goto(&mut m, "database");
    press(&mut m, "d");
    assert!(screen(&m).contains("(a map of"), "{}", screen(&m));
    press(&mut m, "<esc>");
    goto(&mut m, "allowed_origins");
    press(&mut m, "d");
    assert!(screen(&m).contains("(a list of"), "{}", screen(&m));
}

#[test]
fn search() {
    let mut m = demo_model();
    press(&mut m, "/secr");
    snapshot("search_prompt", &screen(&m));
    press(&mut m, "<enter>");
    snapshot("search_found", &screen(&m));
}

#[test]
fn help() {
    let mut m = demo_model();
    press(&mut m, "?");
    let s = screen(&m);
    assert!(s.contains("Ctrl-R"), "help is generated from the keymap");
    snapshot("help", &s);
}

/// "Today" for the key manager's screens.
const TODAY: &str = "2026-11-23T00:00:00Z";

fn key_manager(m: &mut Model, sources: &KeySources) -> String {
    fix_today(m, TODAY);
    press(m, "K");
    assert!(
        screen(m).contains("checking…"),
        "facts come from the session"
    );
    probe(m, sources);
    screen(m)
}

#[test]
fn keys_one_age_recipient() {
    let mut m = demo_model();
    let s = key_manager(&mut m, &demo_sources());
    assert!(s.contains("age1w7ndrkveykg0kap00fl0f2f5sju6k3q0yusqtux4cqesxn87e5hs9jn2z4"));
    assert!(s.contains("✓ can decrypt here (an age identity)"));
    assert!(s.contains("Its one key can decrypt."));
    snapshot("keys_one_age", &s);
}

/// The demo file with a PGP, an AWS KMS and a GCP KMS key added to its one group (the MAC
/// covers values only, so it still verifies).
fn demo_with_mixed_keys() -> Vec<u8> {
    let extra = r#"    gcp_kms:
        - resource_id: projects/acme/locations/global/keyRings/sops/cryptoKeys/ops
          created_at: "2026-04-01T10:00:00Z"
          enc: CiQAbogusciphertextonlyforthescreen
    kms:
        - arn: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
          role: arn:aws:iam::111122223333:role/sops-ops
          context:
            team: payments
          created_at: "2026-03-01T10:00:00Z"
          enc: AQICAHbogusciphertextonlyforthescreen
          aws_profile: ""
    pgp:
        - created_at: "2026-02-01T10:00:00Z"
          enc: |
            -----BEGIN PGP MESSAGE-----
            bm90IGEgcmVhbCBtZXNzYWdl
            -----END PGP MESSAGE-----
          fp: C00974E4CF25A715D3CE81D962377BD1225D0C0E
"#;
    let text = String::from_utf8(demo::FILE.to_vec()).unwrap();
    text.replacen("    lastmodified:", &format!("{extra}    lastmodified:"), 1)
        .into_bytes()
}

#[test]
fn keys_of_every_type_and_one_this_machine_cannot_use() {
    let mut env = FixedEnv::default();
    env.0.insert("SOPS_AGE_KEY".into(), demo::KEY.into());
    let key_file = common::fixture("pgp/rsa.sec.asc");
    env.0.insert(
        "SESAME_PGP_KEY_FILE".into(),
        key_file.to_str().unwrap().into(),
    );
    let sources = KeySources::new(Box::new(env));
    let mut m = model_of(&demo_with_mixed_keys(), false);
    assert!(m.read_only.is_none(), "the MAC still verifies");
    let s = key_manager(&mut m, &sources);
    for part in [
        "✓ can decrypt here (a key file)",
        "C00974E4CF25A715D3CE81D962377BD1225D0C0E",
        "role arn:aws:iam::111122223333:role/sops-ops",
        "context team=payments",
        "? needs AWS credentials",
        "✗ cannot decrypt here: no Google credentials found",
        "Data key ≥294 days old (estimated).",
        "rotating it is suggested (R)",
    ] {
        assert!(s.contains(part), "{part:?} missing in\n{s}");
    }
    snapshot("keys_mixed_types", &s);
}

/// Three groups, one age key each, any two of which decrypt.
fn three_groups() -> (Vec<u8>, KeySources) {
    let recipients = [
        "age1w7ndrkveykg0kap00fl0f2f5sju6k3q0yusqtux4cqesxn87e5hs9jn2z4",
        common::TEST_RECIPIENT,
        "age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep",
    ];
    let groups = recipients
        .iter()
        .map(|r| {
            let mut k = MasterKey::new(KeyKind::Age);
            k.set_text("recipient", *r);
            KeyGroup { keys: vec![k] }
        })
        .collect();
    let plain = store::parse_plain(Format::Yaml, b"token: abc\n")
        .unwrap()
        .docs;
    let settings = NewFile {
        key_groups: groups,
        shamir_threshold: 2,
        rule: None,
        mac_only_encrypted: false,
        ..NewFile::default()
    };
    let mut doc = Document::create(Format::Yaml, plain, settings, &demo_sources()).unwrap();
    let bytes = doc.seal(&EmitOptions::default()).unwrap().unwrap();
    let mut env = FixedEnv::default();
    env.0.insert(
        "SOPS_AGE_KEY".into(),
        format!("{}\n{}", demo::KEY.trim(), common::TEST_IDENTITY),
    );
    (bytes, KeySources::new(Box::new(env)))
}

#[test]
fn keys_three_groups_threshold_two() {
    let (bytes, sources) = three_groups();
    let mut m = model_with(&bytes, false, &sources);
    let s = key_manager(&mut m, &sources);
    assert!(s.contains("A key from any 2 of these 3 groups is needed to decrypt."));
    assert_eq!(s.matches("✓ can decrypt here").count(), 2, "{s}");
    assert_eq!(s.matches("✗ cannot decrypt here").count(), 1, "{s}");
    snapshot("keys_three_groups", &s);
}

#[test]
fn keys_staged_add_and_remove_before_save() {
    let mut m = demo_model();
    key_manager(&mut m, &demo_sources());
    press(&mut m, &format!("a{}<enter>", common::TEST_RECIPIENT));
    probe(&mut m, &demo_sources());
    press(&mut m, "jd");
    let s = screen(&m);
    assert!(s.contains("1. add age age1lzd99"), "{s}");
    assert!(s.contains("2. remove age age1w7ndrkv"), "{s}");
    assert!(s.contains("new: written on save"), "{s}");
    snapshot("keys_staged", &s);
    press(&mut m, "<ctrl-s>");
    let review = screen(&m);
    assert!(
        review.contains("+ gains access:  group 1: age age1lzd99"),
        "{review}"
    );
    assert!(
        review.contains("- loses access:  group 1: age age1w7ndrkv"),
        "{review}"
    );
}

#[test]
fn mac_warning() {
    let m = tui_support::model_of(&tui_support::tampered_demo(), false);
    snapshot("mac_warning", &screen(&m));
}

#[test]
fn a_value_that_does_not_decrypt_opens_read_only_and_marked() {
    let mut m = tui_support::model_of(&tui_support::damaged_demo(), true);
    let warning = screen(&m);
    assert!(
        warning.contains(r#"✗ ["database"]["password"]"#),
        "{warning}"
    );
    snapshot("damaged_warning", &warning);
    press(&mut m, "<esc>");
    goto(&mut m, "password");
    press(&mut m, "<space>");
    let s = screen(&m);
    // Read-only even with --ignore-mac: a damaged value cannot be written back.
    assert!(m.read_only.is_some());
    assert!(s.contains("✗ does not decrypt"), "{s}");
    assert!(
        !s.contains("ENC["),
        "the stored text is never shown as the value:\n{s}"
    );
    snapshot("damaged_value", &s);
    let theme = Theme::named("dark").unwrap();
    let t = render(&m, &theme);
    assert_eq!(
        cell(t.backend().buffer(), "password", "✗").fg,
        theme.error.fg.unwrap()
    );
    // The other values decrypt and reveal as usual.
    goto(&mut m, "user");
    press(&mut m, "<space>");
    let user = screen(&m);
    let row = user.lines().find(|l| l.contains("user: ")).unwrap();
    assert!(!row.contains(MASK) && !row.contains("✗"), "{user}");
    // Nothing to copy or compare.
    goto(&mut m, "password");
    press(&mut m, "y");
    assert!(screen(&m).contains("does not decrypt: there is nothing to copy"));
    press(&mut m, "<enter>");
    assert!(screen(&m).contains("read-only"), "{}", screen(&m));
}

#[test]
fn file_changed_on_disk() {
    let mut m = demo_model();
    update(&mut m, Action::FileChanged);
    update(&mut m, Action::Conflict);
    snapshot("conflict", &screen(&m));
}

#[test]
fn review_mode_without_key() {
    let mut m = review_model();
    goto(&mut m, "password");
    press(&mut m, "<space>");
    let s = screen(&m);
    assert!(s.contains("REVIEW"));
    snapshot("review_mode", &s);
}

#[test]
fn marks_carry_their_colours() {
    let theme = Theme::named("dark").unwrap();
    let mut m = demo_model();
    goto(&mut m, "user");
    press(&mut m, "<enter>x<enter>");
    goto(&mut m, "host");
    let t = render(&m, &theme);
    let buf = t.backend().buffer();
    assert_eq!(cell(buf, "password", "●").fg, theme.encrypted.fg.unwrap());
    assert_eq!(cell(buf, "support_email", "○").fg, theme.plain.fg.unwrap());
    let changed = cell(buf, "user", "~");
    assert_eq!(changed.fg, theme.changed.fg.unwrap());
    assert!(changed.modifier.contains(Modifier::BOLD));
    // The selected row is drawn in the selection colours.
    let sel = cell(buf, "host", "h");
    assert_eq!(sel.bg, theme.selection.bg.unwrap());
    // An error in the status line uses the error style.
    press(&mut m, "/zzz<enter>");
    let t = render(&m, &theme);
    let buf = t.backend().buffer();
    assert_eq!(
        cell(buf, "nothing matches", "n").fg,
        theme.error.fg.unwrap()
    );
}

#[test]
fn no_color_keeps_meaning_in_modifiers() {
    let theme = Theme::no_color();
    let mut m = demo_model();
    goto(&mut m, "user");
    press(&mut m, "<enter>x<enter>");
    goto(&mut m, "host");
    let t = render(&m, &theme);
    let buf = t.backend().buffer();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            assert_eq!(c.fg, ratatui::style::Color::Reset, "colour at {x},{y}");
            assert_eq!(c.bg, ratatui::style::Color::Reset, "colour at {x},{y}");
        }
    }
    assert!(
        cell(buf, "support_email", "○")
            .modifier
            .contains(Modifier::ITALIC)
    );
    let changed = cell(buf, "user", "~");
    assert!(changed.modifier.contains(Modifier::BOLD));
    let sel = cell(buf, "host", "h");
    assert!(sel.modifier.contains(Modifier::REVERSED));
}

/// With `--keyservice`, a key this machine cannot use shows as reachable through the service.
#[test]
fn keys_reachable_through_a_key_service() {
    let mut sources = KeySources::new(Box::new(FixedEnv::default()));
    sources
        .use_key_services(&["tcp://127.0.0.1:5000".to_string()], true)
        .unwrap();
    let mut m = model_of(&demo_with_mixed_keys(), false);
    let s = key_manager(&mut m, &sources);
    assert!(
        s.contains("? through the key service tcp://127.0.0.1:5000"),
        "{s}"
    );
}

/// The main screens at the sizes people use: 80×24 (nothing cut that matters: the help
/// scrolls and says so), 120×40 and 200×50.
#[test]
fn main_screens_fit_every_terminal_size() {
    use tui_support::screen_at;
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let size = format!("{w}x{h}");
        let mut m = demo_model();
        snapshot(&format!("size_{size}_tree"), &screen_at(&mut m, w, h));
        press(&mut m, "?");
        let help = screen_at(&mut m, w, h);
        assert!(help.contains("[Esc Close]"), "{size}:\n{help}");
        snapshot(&format!("size_{size}_help"), &help);
        if h < 30 {
            assert!(
                help.contains("scroll"),
                "a help that does not fit scrolls:\n{help}"
            );
            press(&mut m, "<pgdn><pgdn><pgdn>");
            let end = screen_at(&mut m, w, h);
            assert!(
                end.contains("changed"),
                "the last lines are reachable:\n{end}"
            );
            snapshot(&format!("size_{size}_help_end"), &end);
        }
        press(&mut m, "<esc>/demo");
        let search = screen_at(&mut m, w, h);
        assert!(search.contains(" of 5"), "the count: {search}");
        snapshot(&format!("size_{size}_search"), &search);
        press(&mut m, "<esc>:co");
        snapshot(&format!("size_{size}_palette"), &screen_at(&mut m, w, h));
        press(&mut m, "<esc>");
        goto(&mut m, "user");
        press(&mut m, "d");
        press(&mut m, "y");
        press(&mut m, "<ctrl-s>");
        snapshot(
            &format!("size_{size}_save_review"),
            &screen_at(&mut m, w, h),
        );
        press(&mut m, "<esc>");
        let sources = demo_sources();
        fix_today(&mut m, TODAY);
        press(&mut m, "K");
        probe(&mut m, &sources);
        snapshot(
            &format!("size_{size}_key_manager"),
            &screen_at(&mut m, w, h),
        );
        press(&mut m, "?");
        let km_help = screen_at(&mut m, w, h);
        assert!(km_help.contains("Help: key manager"), "{size}:\n{km_help}");
        snapshot(&format!("size_{size}_key_manager_help"), &km_help);
    }
}
