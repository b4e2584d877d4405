//! Pure tests of `update`: every action, through the default keymap where it has a key, on the
//! demo document. No terminal, no files.

mod tui_support;

use sesame::path::{Found, TreePath, lookup};
use sesame::tree::{Node, Scalar};
use sesame::tui::action::Action;
use sesame::tui::model::{Confirm, Mode, Model, PromptPurpose, Source};
use sesame::tui::rows::RowKind;
use sesame::tui::update::{Effect, update};
use tui_support::{click_button, demo_model, goto, press, review_model, status};

fn value(m: &Model, path: &str) -> Option<Scalar> {
    match lookup(&m.docs()[0], &TreePath::parse(path).unwrap()).ok()? {
        Found::Node(Node::Leaf(l)) => Some(l.value.clone()),
        _ => None,
    }
}

fn exists(m: &Model, path: &str) -> bool {
    lookup(&m.docs()[0], &TreePath::parse(path).unwrap()).is_ok()
}

fn text(m: &Model, path: &str) -> String {
    match value(m, path) {
        Some(Scalar::Str(s)) => s.as_str().unwrap().to_string(),
        other => panic!("{path} is {other:?}"),
    }
}

#[test]
fn moves_with_every_navigation_key() {
    let mut m = demo_model();
    // The demo file opens with a comment: the cursor starts on the first key after it.
    assert_eq!(m.cursor, 1);
    assert_eq!(m.rows.get(0).unwrap().kind, RowKind::Comment);
    press(&mut m, "g");
    assert_eq!(m.cursor, 0);
    press(&mut m, "jj");
    assert_eq!(m.cursor, 2);
    press(&mut m, "<down><up>k");
    assert_eq!(m.cursor, 1);
    press(&mut m, "G");
    assert_eq!(m.cursor, m.rows.len() - 1);
    press(&mut m, "g");
    assert_eq!(m.cursor, 0);
    update(&mut m, Action::Resize(100, 10));
    assert_eq!(m.height, 6);
    press(&mut m, "<pgdn>");
    assert_eq!(m.cursor, 6);
    assert!(m.scroll > 0, "the cursor stays on screen");
    press(&mut m, "<pgup>");
    assert_eq!(m.cursor, 0);
    assert_eq!(m.scroll, 0);
}

#[test]
fn collapses_and_expands() {
    let mut m = demo_model();
    let all = m.rows.len();
    goto(&mut m, "database");
    press(&mut m, "h");
    assert!(m.rows.len() < all);
    assert!(m.rows.get(m.cursor).unwrap().collapsed);
    press(&mut m, "l");
    assert_eq!(m.rows.len(), all);
    // Right on an open container steps in; left on a leaf goes to the parent.
    press(&mut m, "<right>");
    assert_eq!(m.rows.get(m.cursor).unwrap().kind, RowKind::Leaf);
    press(&mut m, "<left>");
    assert_eq!(m.rows.get(m.cursor).unwrap().kind, RowKind::Map);
    // Enter on a container toggles it.
    press(&mut m, "<enter>");
    assert!(m.rows.get(m.cursor).unwrap().collapsed);
}

#[test]
fn reveals_one_value_or_all() {
    let mut m = demo_model();
    goto(&mut m, "password");
    let addr = m.selected_addr().unwrap();
    assert!(!m.is_revealed(&addr));
    press(&mut m, "<space>");
    assert!(m.is_revealed(&addr));
    press(&mut m, "<space>");
    assert!(!m.is_revealed(&addr));
    press(&mut m, "V");
    assert!(m.reveal_all && m.is_revealed(&addr));
    press(&mut m, "V");
    assert!(!m.is_revealed(&addr));
}

#[test]
fn edits_a_value_and_commits_or_cancels() {
    let mut m = demo_model();
    goto(&mut m, "user");
    let before = text(&m, r#"["database"]["user"]"#);
    press(&mut m, "<enter>");
    assert!(matches!(m.mode, Mode::Edit(_)));
    press(&mut m, "XY<esc>");
    assert!(matches!(m.mode, Mode::Normal));
    assert_eq!(text(&m, r#"["database"]["user"]"#), before);
    assert!(!m.dirty());
    press(&mut m, "<enter>Z<enter>");
    assert_eq!(text(&m, r#"["database"]["user"]"#), format!("{before}Z"));
    assert!(m.dirty());
    assert!(m.history.touched(&m.selected_addr().unwrap()));
}

#[test]
fn multi_line_values_paste_and_newline() {
    let mut m = demo_model();
    goto(&mut m, "certificate");
    press(&mut m, "<enter>");
    let Mode::Edit(state) = &m.mode else { panic!() };
    let lines = state.area.lines().len();
    assert!(lines > 1, "the demo certificate spans lines");
    // Enter in a multi-line value adds a line; Ctrl-S commits.
    press(&mut m, "<enter>");
    let Mode::Edit(state) = &m.mode else { panic!() };
    assert_eq!(state.area.lines().len(), lines + 1);
    update(&mut m, Action::Paste("pasted\r\nline".into()));
    press(&mut m, "<ctrl-s>");
    assert!(matches!(m.mode, Mode::Normal));
    let cert = text(&m, r#"["tls"]["certificate"]"#);
    assert!(cert.ends_with("pasted\nline"), "{cert:?}");
    // A one-line value becomes multi-line with Alt-Enter.
    goto(&mut m, "user");
    press(&mut m, "<enter><alt-enter>x<ctrl-s>");
    assert!(text(&m, r#"["database"]["user"]"#).ends_with("\nx"));
    // Paste outside the editor only explains.
    update(&mut m, Action::Paste("ignored".into()));
    assert!(matches!(m.mode, Mode::Normal));
}

#[test]
fn typed_values_are_validated() {
    let mut m = demo_model();
    goto(&mut m, "replicas");
    press(&mut m, "<enter>x<enter>");
    // Not an integer: the editor stays open with the text, and an error shows.
    assert!(matches!(m.mode, Mode::Edit(_)));
    assert!(
        matches!(&m.status, Some((sesame::tui::model::Level::Error, msg)) if msg.contains("integer"))
    );
    press(&mut m, "<backspace><backspace>7<enter>");
    assert_eq!(value(&m, r#"["app"]["replicas"]"#), Some(Scalar::Int(7)));
}

#[test]
fn changes_types() {
    let mut m = demo_model();
    goto(&mut m, "replicas");
    press(&mut m, "t");
    assert!(matches!(m.mode, Mode::ChangeType));
    press(&mut m, "s");
    assert!(matches!(
        value(&m, r#"["app"]["replicas"]"#),
        Some(Scalar::Str(_))
    ));
    press(&mut m, "ti");
    assert!(matches!(
        value(&m, r#"["app"]["replicas"]"#),
        Some(Scalar::Int(_))
    ));
    press(&mut m, "tb");
    assert!(matches!(
        value(&m, r#"["app"]["replicas"]"#),
        Some(Scalar::Bool(_))
    ));
    goto(&mut m, "user");
    press(&mut m, "ti");
    // A name is no integer: nothing changes and the error names the path, not the value.
    assert!(matches!(
        value(&m, r#"["database"]["user"]"#),
        Some(Scalar::Str(_))
    ));
    let Some((_, msg)) = &m.status else { panic!() };
    assert!(msg.contains(r#"["database"]["user"]"#), "{msg}");
    assert!(!msg.contains(&text(&m, r#"["database"]["user"]"#)));
    press(&mut m, "t<esc>");
    assert!(matches!(m.mode, Mode::Normal));
}

#[test]
fn adds_keys_and_list_items() {
    let mut m = demo_model();
    goto(&mut m, "host");
    press(&mut m, "a");
    assert!(matches!(&m.mode, Mode::Prompt(p) if matches!(p.purpose, PromptPurpose::NewKey(_))));
    press(&mut m, "port<enter>");
    assert!(
        matches!(m.mode, Mode::Edit(_)),
        "the value editor opens on the new key"
    );
    press(&mut m, "5432<enter>");
    // Typed as YAML reads it: an int.
    assert_eq!(
        value(&m, r#"["database"]["port"]"#),
        Some(Scalar::Int(5432))
    );
    // The new key sits right after the selected one.
    let db = m.docs()[0].get("database").unwrap().as_map().unwrap();
    let keys: Vec<&str> = db.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(&keys[..3], ["host", "port", "user"]);
    // A duplicate key is refused.
    press(&mut m, "auser<enter>");
    assert!(matches!(
        &m.status,
        Some((sesame::tui::model::Level::Error, _))
    ));
    // In a list, an item is added after the selected one.
    goto(&mut m, "ports");
    press(&mut m, "a\"8080\"<enter>");
    assert_eq!(text(&m, r#"["database"]["ports"][2]"#), "8080");
    assert!(m.history.touched(&m.selected_addr().unwrap()));
}

#[test]
fn renames_keys() {
    let mut m = demo_model();
    goto(&mut m, "api");
    press(&mut m, "r");
    press(&mut m, "<backspace><backspace><backspace>stripe<enter>");
    assert!(exists(&m, r#"["stripe"]["stripe_key"]"#));
    assert!(!exists(&m, r#"["api"]"#));
    // Everything below a renamed key counts as changed (its ciphertext must be renewed).
    goto(&mut m, "webhook_secret");
    assert!(m.history.touched(&m.selected_addr().unwrap()));
    // List items have no key.
    goto(&mut m, "allowed_origins");
    press(&mut m, "jr");
    assert!(matches!(m.mode, Mode::Normal));
    // No top-level key may be named `sops` (sops keeps its metadata there).
    goto(&mut m, "stripe");
    press(&mut m, "r");
    press(
        &mut m,
        "<backspace><backspace><backspace><backspace><backspace><backspace>sops<enter>",
    );
    assert!(exists(&m, r#"["stripe"]"#));
    let Some((level, msg)) = &m.status else {
        panic!()
    };
    assert!(matches!(level, sesame::tui::model::Level::Error), "{msg}");
    assert!(msg.contains("cannot be named 'sops'"), "{msg}");
}

/// A rename onto the plain suffix would store a secret in PLAIN TEXT: the review lists it, and
/// only a typed "yes" saves; anything else does not.
#[test]
fn a_secret_moved_into_plain_text_needs_a_typed_yes() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "r");
    press(&mut m, "_unencrypted<enter>");
    assert!(exists(&m, r#"["database"]["password_unencrypted"]"#));
    press(&mut m, "<ctrl-s>");
    let Mode::ReviewSave(review) = &m.mode else {
        panic!("no review: {:?}", m.status)
    };
    assert_eq!(
        review.exposed,
        vec![r#"["database"]["password_unencrypted"]"#.to_string()]
    );
    assert!(review.lockout.is_none());
    let screen = tui_support::screen(&m);
    assert!(screen.contains("PLAIN TEXT"), "{screen}");
    assert!(!screen.contains("fresh encryption; all others"), "{screen}");
    // y asks for the typed word; a wrong word saves nothing.
    assert!(press(&mut m, "y").is_empty());
    assert!(matches!(&m.mode, Mode::Prompt(p) if p.purpose == PromptPurpose::ConfirmSave));
    assert!(press(&mut m, "y<enter>").is_empty());
    assert!(matches!(&m.status, Some((_, s)) if s.starts_with("not saved")));
    let effects = press(&mut m, "<ctrl-s>yyes<enter>");
    assert!(
        matches!(effects[..], [Effect::Save { force: false }]),
        "{effects:?}"
    );
    // Renaming it back: nothing is exposed any more, the save is an ordinary one.
    let mut m = demo_model();
    goto(&mut m, "user");
    press(&mut m, "<enter>Q<enter><ctrl-s>");
    assert!(matches!(&m.mode, Mode::ReviewSave(r) if !r.is_risky()));
    assert!(matches!(
        press(&mut m, "y")[..],
        [Effect::Save { force: false }]
    ));
}

#[test]
fn deletes_after_confirmation() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "d");
    assert!(matches!(m.mode, Mode::Confirm(Confirm::Delete(_))));
    press(&mut m, "n");
    assert!(exists(&m, r#"["database"]["password"]"#));
    press(&mut m, "dy");
    assert!(!exists(&m, r#"["database"]["password"]"#));
    assert!(m.dirty());
}

#[test]
fn undo_and_redo_restore_the_very_nodes() {
    let mut m = demo_model();
    let original = m.docs()[0].clone();
    goto(&mut m, "password");
    press(&mut m, "dy");
    goto(&mut m, "user");
    press(&mut m, "<enter>Q<enter>");
    goto(&mut m, "app");
    press(&mut m, "rX<enter>");
    assert!(m.dirty());
    press(&mut m, "uuu");
    // Back to the file as opened, remembered ciphertexts included: nothing to save.
    assert_eq!(m.docs()[0], original);
    assert!(!m.dirty());
    press(&mut m, "u");
    assert!(matches!(&m.status, Some((_, s)) if s.contains("nothing to undo")));
    press(&mut m, "<ctrl-r><ctrl-r>");
    assert!(!exists(&m, r#"["database"]["password"]"#));
    assert!(text(&m, r#"["database"]["user"]"#).ends_with('Q'));
    press(&mut m, "<ctrl-r><ctrl-r>");
    assert!(exists(&m, r#"["appX"]"#));
    assert!(matches!(&m.status, Some((_, s)) if s.contains("nothing to redo")));
}

#[test]
fn searches_key_paths_forward_and_back() {
    let mut m = demo_model();
    press(&mut m, "/secret");
    assert!(matches!(&m.mode, Mode::Prompt(p) if p.purpose == PromptPurpose::Search));
    press(&mut m, "<enter>");
    assert_eq!(
        m.path_text(&m.selected_addr().unwrap()),
        r#"["api"]["webhook_secret"]"#
    );
    press(&mut m, "g/port<enter>");
    let first = m.path_text(&m.selected_addr().unwrap());
    assert_eq!(first, r#"["database"]["ports"]"#);
    press(&mut m, "n");
    assert_eq!(
        m.path_text(&m.selected_addr().unwrap()),
        r#"["database"]["ports"][0]"#
    );
    press(&mut m, "N");
    assert_eq!(m.path_text(&m.selected_addr().unwrap()), first);
    // Matches inside collapsed parts open the way.
    goto(&mut m, "tls");
    press(&mut m, "h/certif<enter>");
    assert_eq!(
        m.path_text(&m.selected_addr().unwrap()),
        r#"["tls"]["certificate"]"#
    );
    press(&mut m, "/nomatch<enter>");
    assert!(matches!(
        &m.status,
        Some((sesame::tui::model::Level::Error, _))
    ));
}

#[test]
fn saving_reviews_first_and_asks_on_conflict() {
    let mut m = demo_model();
    assert!(press(&mut m, "<ctrl-s>").is_empty(), "nothing to save");
    goto(&mut m, "user");
    press(&mut m, "<enter>Z<enter>");
    assert!(press(&mut m, "<ctrl-s>").is_empty());
    assert!(matches!(m.mode, Mode::ReviewSave(_)));
    assert!(press(&mut m, "<esc>").is_empty());
    assert_eq!(
        press(&mut m, "<ctrl-s>y"),
        vec![Effect::Save { force: false }]
    );
    // The loop found the file changed on disk: reload, overwrite or cancel.
    update(&mut m, Action::Conflict);
    assert!(matches!(m.mode, Mode::Conflict));
    assert_eq!(press(&mut m, "o"), vec![Effect::Save { force: true }]);
    update(&mut m, Action::Conflict);
    assert_eq!(press(&mut m, "r"), vec![Effect::Reload]);
    update(&mut m, Action::Conflict);
    assert!(press(&mut m, "<esc>").is_empty());
    assert!(matches!(m.mode, Mode::Normal));
    update(&mut m, Action::Saved);
    assert!(!m.dirty());
    assert!(!m.history.touched(&m.selected_addr().unwrap()));
    update(&mut m, Action::Failed("could not write".into()));
    assert!(matches!(
        &m.status,
        Some((sesame::tui::model::Level::Error, _))
    ));
}

#[test]
fn quitting_asks_when_dirty() {
    let mut m = demo_model();
    assert_eq!(press(&mut m, "q"), vec![Effect::Quit]);
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "dy");
    assert!(press(&mut m, "q").is_empty());
    assert!(matches!(m.mode, Mode::Confirm(Confirm::QuitUnsaved)));
    assert!(press(&mut m, "n").is_empty());
    // Enter keeps the editor open (the safe default); so does Ctrl-C there.
    assert!(press(&mut m, "q<enter>").is_empty());
    assert!(matches!(m.mode, Mode::Normal) && !m.quit);
    assert!(press(&mut m, "q<ctrl-c>").is_empty());
    assert!(matches!(m.mode, Mode::Normal) && !m.quit);
    // Ctrl-C in the tree asks as q does.
    assert!(press(&mut m, "<ctrl-c>").is_empty());
    assert!(matches!(m.mode, Mode::Confirm(Confirm::QuitUnsaved)));
    assert_eq!(press(&mut m, "y"), vec![Effect::Quit]);
    assert!(m.quit);
    // Enter does not delete either.
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "d<enter>");
    assert!(exists(&m, r#"["database"]["password"]"#));
    // Ctrl-C cancels a prompt.
    press(&mut m, "a<ctrl-c>");
    assert!(matches!(m.mode, Mode::Normal));
}

#[test]
fn the_whole_document_edited_as_text_becomes_one_undoable_change() {
    use sesame::secret::SecretBuf;
    use sesame::store::{EmitOptions, Format, emit_plain};
    let mut m = demo_model();
    assert!(press(&mut m, ":edit document<enter>").is_empty());
    assert!(matches!(m.mode, Mode::Confirm(Confirm::EditDocument)));
    // The question says where the plaintext goes; No (and Enter) keeps it from the disk.
    assert!(tui_support::screen(&m).contains("private folder"));
    assert!(press(&mut m, "<enter>").is_empty());
    assert!(matches!(m.mode, Mode::Normal));
    press(&mut m, ":edit document<enter>");
    assert_eq!(press(&mut m, "y"), vec![Effect::EditDocument(None)]);
    let before = m.docs().to_vec();
    let plain = emit_plain(Format::Yaml, m.docs(), &EmitOptions::default()).unwrap();
    let plain = String::from_utf8(plain.to_vec()).unwrap();
    let host = text(&m, r#"["database"]["host"]"#);
    let edited = plain
        .replace(&format!("host: {host}"), "host: db.example.org")
        .replace("app:\n", "added: 30\napp:\n");
    assert_ne!(edited, plain);
    update(
        &mut m,
        Action::EditedDocument(Ok(SecretBuf::new(edited.clone().into_bytes()))),
    );
    assert_eq!(text(&m, r#"["database"]["host"]"#), "db.example.org");
    assert_eq!(value(&m, r#"["added"]"#), Some(Scalar::Int(30)));
    // Values left alone keep their ciphertext (the save's diff is the change).
    let cipher = |m: &Model, path: &str| match lookup(&m.docs()[0], &TreePath::parse(path).unwrap())
    {
        Ok(Found::Node(Node::Leaf(l))) => l.cipher.clone(),
        _ => None,
    };
    assert!(cipher(&m, r#"["database"]["password"]"#).is_some());
    assert!(cipher(&m, r#"["database"]["host"]"#).is_none());
    // One undo takes the whole change back; one redo brings it again.
    press(&mut m, "u");
    assert_eq!(m.docs(), &before[..]);
    assert!(!m.dirty());
    press(&mut m, "<ctrl-r>");
    assert_eq!(text(&m, r#"["database"]["host"]"#), "db.example.org");
    assert!(exists(&m, r#"["added"]"#));
    // Text that does not parse is kept, to edit again or discard; nothing changes.
    let now = m.docs().to_vec();
    update(
        &mut m,
        Action::EditedDocument(Ok(SecretBuf::new(b"a: [unclosed\n".to_vec()))),
    );
    assert!(matches!(m.mode, Mode::Confirm(Confirm::EditAgain(_))));
    assert_eq!(m.docs(), &now[..]);
    assert_eq!(
        press(&mut m, "y"),
        vec![Effect::EditDocument(Some(SecretBuf::new(
            b"a: [unclosed\n".to_vec()
        )))]
    );
    update(
        &mut m,
        Action::EditedDocument(Ok(SecretBuf::new(b"sops: 1\n".to_vec()))),
    );
    assert!(matches!(m.mode, Mode::Confirm(Confirm::EditAgain(_))));
    press(&mut m, "n");
    assert!(m.pending_document.is_none());
    assert_eq!(m.docs(), &now[..]);
    // Read-only files and presentation mode are not offered it.
    let mut r = review_model();
    press(&mut r, ":edit document<enter>");
    assert!(matches!(r.mode, Mode::Normal));
}

#[test]
fn overlay_buttons_answer_as_their_keys() {
    let mut m = demo_model();
    // A question: the safe answer, then the other.
    goto(&mut m, "password");
    press(&mut m, "d");
    assert!(click_button(&mut m, "n No").is_empty());
    assert!(matches!(m.mode, Mode::Normal));
    assert!(exists(&m, r#"["database"]["password"]"#));
    press(&mut m, "d");
    click_button(&mut m, "y Yes");
    assert!(!exists(&m, r#"["database"]["password"]"#));
    // A choice among several.
    goto(&mut m, "replicas");
    press(&mut m, "t");
    click_button(&mut m, "s string");
    assert!(matches!(
        value(&m, r#"["app"]["replicas"]"#),
        Some(Scalar::Str(_))
    ));
    // The save review goes back or on.
    press(&mut m, "<ctrl-s>");
    assert!(matches!(m.mode, Mode::ReviewSave(_)));
    click_button(&mut m, "n Back");
    assert!(matches!(m.mode, Mode::Normal));
    press(&mut m, "<ctrl-s>");
    assert_eq!(
        click_button(&mut m, "y Save"),
        vec![Effect::Save { force: false }]
    );
    // Quitting with unsaved changes: No keeps the editor open.
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "dy");
    press(&mut m, "q");
    assert!(click_button(&mut m, "n No").is_empty());
    assert!(!m.quit);
    // Notices and the help close.
    press(&mut m, "?");
    click_button(&mut m, "Esc Close");
    assert!(matches!(m.mode, Mode::Normal));
    update(&mut m, Action::FileChanged);
    update(&mut m, Action::Conflict);
    assert_eq!(click_button(&mut m, "r Reload"), vec![Effect::Reload]);
    let mut m = tui_support::model_of(&tui_support::tampered_demo(), false);
    assert!(matches!(m.mode, Mode::MacWarning));
    click_button(&mut m, "Enter Continue");
    assert!(matches!(m.mode, Mode::Normal));
}

#[test]
fn overlays_open_and_close() {
    let mut m = demo_model();
    press(&mut m, "?");
    assert!(matches!(m.mode, Mode::Help(_)));
    press(&mut m, "<esc>K");
    assert!(matches!(m.mode, Mode::KeyManager));
    press(&mut m, "q");
    assert!(matches!(m.mode, Mode::Normal));
    press(&mut m, "<esc>");
    assert!(m.status.is_none());
}

#[test]
fn outside_events_update_the_model() {
    let mut m = demo_model();
    update(&mut m, Action::FileChanged);
    assert!(m.disk_changed);
    goto(&mut m, "user");
    press(&mut m, "<enter>Z<enter>");
    let Source::Doc(_) = &m.source else { panic!() };
    let fresh = demo_model().source;
    update(&mut m, Action::Reloaded(Box::new(fresh)));
    assert!(!m.disk_changed);
    assert!(m.dirty(), "the unsaved edit is carried over the reload");
    assert!(text(&m, r#"["database"]["user"]"#).ends_with('Z'));
    press(&mut m, "u");
    assert!(!m.dirty(), "and undoes as one step");
    assert!(!text(&m, r#"["database"]["user"]"#).ends_with('Z'));
}

#[test]
fn review_mode_is_read_only() {
    let mut m = review_model();
    assert!(m.read_only.is_some());
    goto(&mut m, "password");
    for script in ["<enter>", "a", "r", "d", "t"] {
        press(&mut m, script);
        assert!(matches!(m.mode, Mode::Normal), "{script} opened a modal");
        assert!(
            matches!(&m.status, Some((sesame::tui::model::Level::Error, s)) if s.contains("read-only"))
        );
    }
    // Encrypted and plain leaves are told apart from the ciphertext alone.
    let row = *m.rows.get(m.cursor).unwrap();
    assert!(row.encrypted);
    goto(&mut m, "support_email");
    assert!(!m.rows.get(m.cursor).unwrap().encrypted);
    press(&mut m, "<ctrl-s>");
    assert!(matches!(m.mode, Mode::Normal));
}

#[test]
fn a_bad_mac_opens_read_only_unless_ignored() {
    let bytes = tui_support::tampered_demo();
    let mut m = tui_support::model_of(&bytes, false);
    assert!(matches!(m.mode, Mode::MacWarning));
    press(&mut m, "<enter>");
    assert!(matches!(m.mode, Mode::Normal));
    goto(&mut m, "user");
    press(&mut m, "<enter>");
    assert!(matches!(m.mode, Mode::Normal));
    let mut m = tui_support::model_of(&bytes, true);
    assert!(matches!(m.mode, Mode::MacWarning));
    press(&mut m, "<esc>");
    goto(&mut m, "user");
    press(&mut m, "<enter>");
    assert!(matches!(m.mode, Mode::Edit(_)));
}

#[test]
fn plain_by_rule_and_encrypted_leaves_are_marked() {
    let mut m = demo_model();
    goto(&mut m, "support_email");
    assert!(!m.rows.get(m.cursor).unwrap().encrypted);
    goto(&mut m, "password");
    assert!(m.rows.get(m.cursor).unwrap().encrypted);
    // Renaming under the suffix rule changes what a save encrypts.
    goto(&mut m, "password");
    press(&mut m, "r_unencrypted<enter>");
    goto(&mut m, "password_unencrypted");
    assert!(!m.rows.get(m.cursor).unwrap().encrypted);
}

#[test]
fn a_reload_carries_new_keys_to_their_place_and_list_edits_by_index() {
    let mut m = demo_model();
    goto(&mut m, "host");
    press(&mut m, "aport<enter>\"5432\"<enter>");
    goto(&mut m, "ports");
    press(
        &mut m,
        "jj<enter><backspace><backspace><backspace><backspace>7000<enter>",
    );
    let fresh = demo_model().source;
    update(&mut m, Action::Reloaded(Box::new(fresh)));
    assert!(matches!(m.mode, Mode::Normal), "no conflicts");
    assert_eq!(text(&m, r#"["database"]["port"]"#), "5432");
    assert_eq!(
        value(&m, r#"["database"]["ports"][1]"#),
        Some(Scalar::Int(7000))
    );
    let db = m.docs()[0].get("database").unwrap().as_map().unwrap();
    let keys: Vec<&str> = db.entries().map(|e| e.key.as_str()).collect();
    assert_eq!(
        &keys[..3],
        ["host", "port", "user"],
        "after the same key as before"
    );
    press(&mut m, "uu");
    assert!(!m.dirty(), "two carried steps, undone one by one");
}

/// A refused recipient keeps the prompt open with what was typed, to be corrected.
#[test]
fn a_refused_recipient_keeps_what_was_typed() {
    let mut m = demo_model();
    press(&mut m, "Ka");
    assert!(matches!(&m.mode, Mode::Prompt(_)));
    press(&mut m, "projects/p/keyRings<enter>");
    let Mode::Prompt(prompt) = &m.mode else {
        panic!("the prompt closed")
    };
    assert_eq!(prompt.area.lines().join(""), "projects/p/keyRings");
    assert!(status(&m).contains("refused:"), "{}", status(&m));
    press(&mut m, "<esc>");
    assert!(matches!(m.mode, Mode::KeyManager));
}

/// A revealed value stays revealed when a key is added or deleted before it, and its own
/// deletion forgets it.
#[test]
fn reveals_follow_their_values_past_adds_and_deletes() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "<space>");
    let revealed = m.selected_addr().unwrap();
    assert!(m.is_revealed(&revealed));
    // Delete a key before it: the reveal moves with the value.
    goto(&mut m, "host");
    press(&mut m, "dy");
    goto(&mut m, "password");
    let moved = m.selected_addr().unwrap();
    assert_ne!(moved, revealed);
    assert!(m.is_revealed(&moved), "the reveal followed the value");
    // Add a key before it: still revealed.
    goto(&mut m, "user");
    press(&mut m, "anew<enter>x<enter>");
    goto(&mut m, "password");
    assert!(m.is_revealed(&m.selected_addr().unwrap()));
    // Its own deletion forgets it: what takes its place is masked.
    press(&mut m, "dy");
    assert!(m.revealed.is_empty(), "{:?}", m.revealed);
}

/// Revealed values mask again when their time is up (`SESAME_REVEAL_TIME`); each reveal
/// restarts the time; with the time off they stay.
#[test]
fn revealed_values_mask_again_after_their_time() {
    use std::time::{Duration, Instant};
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, " ");
    assert_eq!(m.revealed.len(), 1);
    let until = m.reveal_until.expect("a deadline");
    assert!(until > Instant::now() + Duration::from_secs(50));
    update(&mut m, Action::Tick(until - Duration::from_secs(1)));
    assert_eq!(m.revealed.len(), 1, "not yet");
    update(&mut m, Action::Tick(until));
    assert!(m.revealed.is_empty() && m.reveal_until.is_none());
    assert!(status(&m).contains("masked again"), "{}", status(&m));
    press(&mut m, "V");
    let until = m.reveal_until.unwrap();
    update(&mut m, Action::Tick(until));
    assert!(!m.reveal_all);

    m.privacy.reveal_for = None;
    press(&mut m, " ");
    assert!(m.reveal_until.is_none());
    update(
        &mut m,
        Action::Tick(Instant::now() + Duration::from_secs(3600)),
    );
    assert_eq!(m.revealed.len(), 1, "no time limit");
}

/// `y` copies the selected value (through an effect the session performs), the clipboard is
/// cleared when its time is up, and quitting clears it at once; `Y` copies the path.
#[test]
fn copying_a_value_clears_the_clipboard_later_or_on_quit() {
    use sesame::tui::clipboard::Fingerprint;
    use std::time::Duration;
    let mut m = demo_model();
    goto(&mut m, "password");
    let addr = m.selected_addr().unwrap();
    assert_eq!(press(&mut m, "y"), vec![Effect::Copy(addr.clone())]);
    assert_eq!(
        press(&mut m, "Y"),
        vec![Effect::CopyText(m.path_text(&addr))]
    );
    // What the session hands back after copying (a fingerprint of the value, never the value).
    let copied = Fingerprint::of(b"hunter2");
    let what = m.path_text(&addr);
    update(
        &mut m,
        Action::Copied {
            what,
            to: "terminal clipboard",
            secret: Some(copied.clone()),
        },
    );
    let until = m.clip.as_ref().expect("a copied value").until;
    assert!(status(&m).contains("copied the value of"), "{}", status(&m));
    assert!(
        tui_support::screen(&m).contains("clipboard clears in 45 s"),
        "{}",
        tui_support::screen(&m)
    );
    assert!(update(&mut m, Action::Tick(until - Duration::from_secs(1))).is_empty());
    assert_eq!(
        update(&mut m, Action::Tick(until)),
        vec![Effect::ClearClipboard(copied.clone())]
    );
    assert!(m.clip.is_none());
    // Copied again, then quit: the clipboard is cleared before the editor ends.
    update(
        &mut m,
        Action::Copied {
            what: "x".into(),
            to: "terminal clipboard",
            secret: Some(copied.clone()),
        },
    );
    let effects = press(&mut m, "q");
    assert_eq!(effects, vec![Effect::ClearClipboard(copied), Effect::Quit]);
}

/// Presentation mode (`--no-reveal`): nothing is revealed, copied or opened for editing; new
/// keys can still be added.
#[test]
fn presentation_mode_shows_and_copies_nothing() {
    let mut m = demo_model();
    m.privacy.no_reveal = true;
    goto(&mut m, "password");
    for key in [" ", "V", "y"] {
        assert!(press(&mut m, key).is_empty());
        assert!(
            status(&m).contains("presentation mode"),
            "{key}: {}",
            status(&m)
        );
    }
    assert!(m.revealed.is_empty() && !m.reveal_all);
    press(&mut m, "<enter>");
    assert!(
        matches!(m.mode, Mode::Normal),
        "no editor on a hidden value"
    );
    press(&mut m, "anew_key<enter>");
    assert!(matches!(m.mode, Mode::Edit(_)), "a new value may be typed");
}

/// The search runs as the query is typed, over keys and values, counts its matches, moves with
/// n/N (saying when it wraps) and goes back where it began on Esc.
#[test]
fn search_is_live_over_keys_and_values() {
    let mut m = demo_model();
    goto(&mut m, "host");
    let origin = m.selected_addr();
    press(&mut m, "/");
    press(&mut m, "demo");
    let hits = m.search_hits.len();
    assert!(hits >= 2, "values hold \"demo\": {hits}");
    // The first match from where the search began: `user: demo`, after `host`.
    assert!(
        status(&m).starts_with(&format!("2 of {hits}")),
        "{}",
        status(&m)
    );
    assert!(m.search_hits.contains(&m.selected_addr().unwrap()));
    assert_ne!(m.selected_addr(), origin, "the selection follows the match");
    press(&mut m, "<esc>");
    assert_eq!(m.selected_addr(), origin, "Esc goes back");
    assert!(m.search_hits.is_empty());
    press(&mut m, "/demo<enter>");
    // From the second match, the fourth step wraps around to the first.
    for _ in 0..hits - 1 {
        press(&mut m, "n");
    }
    assert!(status(&m).contains("wrapped to the top"), "{}", status(&m));
    press(&mut m, "N");
    assert!(
        status(&m).contains("wrapped to the bottom"),
        "{}",
        status(&m)
    );
}

/// A click selects the row under it, a second click on it edits it, the wheel moves the
/// selection; clicks outside the tree pane do nothing.
#[test]
fn the_mouse_selects_edits_and_scrolls() {
    let mut m = demo_model();
    update(&mut m, Action::Resize(100, 30));
    // Screen row 2 is the tree's first row (title bar, then the pane's border).
    update(&mut m, Action::Click(10, 2 + 6));
    assert_eq!(m.cursor, 6);
    assert!(matches!(m.mode, Mode::Normal));
    update(&mut m, Action::Click(10, 2 + 6));
    assert!(matches!(m.mode, Mode::Edit(_)), "a double click edits");
    press(&mut m, "<esc>");
    update(&mut m, Action::Click(90, 2 + 3));
    assert_eq!(m.cursor, 6, "a click on the detail pane selects nothing");
    update(&mut m, Action::Scroll(3));
    assert_eq!(m.cursor, 9);
    update(&mut m, Action::Scroll(-3));
    assert_eq!(m.cursor, 6);
}

/// `:` lists every action by name with its keys; typing filters them, Enter runs the chosen
/// one; a key path jumps there.
#[test]
fn the_command_palette_runs_actions_by_name_and_jumps_to_paths() {
    let mut m = demo_model();
    goto(&mut m, "password");
    let addr = m.selected_addr().unwrap();
    press(&mut m, ":");
    assert!(matches!(m.mode, Mode::Palette(_)));
    let effects = press(&mut m, "copy path<enter>");
    assert_eq!(effects, vec![Effect::CopyText(m.path_text(&addr))]);
    assert!(matches!(m.mode, Mode::Normal));
    // Arrows pick among the matches: "copy" matches the value first, then the path.
    press(&mut m, ":copy<down><enter>");
    assert!(matches!(m.mode, Mode::Normal));
    press(&mut m, r#":goto ["api"]["webhook_secret"]<enter>"#);
    assert_eq!(
        m.path_text(&m.selected_addr().unwrap()),
        r#"["api"]["webhook_secret"]"#
    );
    press(&mut m, r#":["nope"]<enter>"#);
    assert!(status(&m).contains("no key at"), "{}", status(&m));
    press(&mut m, ":zzzz<enter>");
    assert!(status(&m).contains("no action matches"), "{}", status(&m));
    press(&mut m, ":help<enter>");
    assert!(
        matches!(m.mode, Mode::Help(_)),
        "the palette reaches every action"
    );
}

/// `=` on one value then another says whether they hold the same, showing neither.
#[test]
fn two_values_are_compared_without_showing_them() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "=");
    assert!(status(&m).contains("marked"), "{}", status(&m));
    goto(&mut m, "user");
    press(&mut m, "=");
    assert!(
        status(&m).contains("hold different values"),
        "{}",
        status(&m)
    );
    assert!(!status(&m).contains("correct-horse"), "{}", status(&m));
    press(&mut m, "=");
    goto(&mut m, "user");
    press(&mut m, "aother<enter>demo<enter>");
    press(&mut m, "=");
    assert!(status(&m).contains("hold the same value"), "{}", status(&m));
    goto(&mut m, "replicas");
    press(&mut m, "=");
    goto(&mut m, "debug");
    press(&mut m, "=");
    assert!(
        status(&m).contains("differ (types int and bool)"),
        "{}",
        status(&m)
    );
    assert!(m.revealed.is_empty());
}

/// `D` on a list item puts a copy right after it, to be saved under its new place.
#[test]
fn a_list_item_is_duplicated_after_itself() {
    let mut m = demo_model();
    goto(&mut m, "ports");
    press(&mut m, "jD");
    assert_eq!(
        value(&m, r#"["database"]["ports"][1]"#),
        value(&m, r#"["database"]["ports"][0]"#)
    );
    assert_eq!(
        value(&m, r#"["database"]["ports"][2]"#),
        Some(Scalar::Int(6432))
    );
    let Some(Found::Node(Node::Leaf(copy))) = lookup(
        &m.docs()[0],
        &TreePath::parse(r#"["database"]["ports"][1]"#).unwrap(),
    )
    .ok() else {
        panic!("the copy is a value")
    };
    assert!(copy.cipher.is_none(), "encrypted anew for its place");
}

/// `F` after a search shows only the rows that lead to a match; `F` again shows every row.
#[test]
fn a_search_can_show_only_its_matching_branches() {
    let mut m = demo_model();
    let all = m.rows.len();
    press(&mut m, "F");
    assert!(status(&m).contains("search first"), "{}", status(&m));
    press(&mut m, "/webhook<enter>F");
    let shown: Vec<String> = (0..m.rows.len())
        .filter_map(|i| m.rows.addr(i))
        .map(|a| m.path_text(&a))
        .collect();
    assert_eq!(shown, [r#"["api"]"#, r#"["api"]["webhook_secret"]"#]);
    assert!(status(&m).contains("only the 1 match"), "{}", status(&m));
    press(&mut m, "F");
    assert_eq!(m.rows.len(), all);
}
