//! Every screen of the editor, rendered on ratatui's `TestBackend` from key scripts and
//! compared with the snapshots in `snapshots/` (a mismatch fails; nothing is accepted
//! silently). Text snapshots carry no colour, so the cells where colour carries meaning are
//! checked directly.

mod tui_support;

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use sesame::tui::action::Action;
use sesame::tui::theme::Theme;
use sesame::tui::update::update;
use sesame::tui::view::MASK;
use tui_support::{demo_model, goto, press, render, review_model, screen};

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
    press(&mut m, "<enter><bs><bs><bs><bs><bs>deploy");
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
    press(&mut m, "<c-s>");
    let s = screen(&m);
    assert!(s.contains(r#"changed ["database"]["user"]"#), "{s}");
    snapshot("review_before_save", &s);
}

#[test]
fn confirm_delete_and_change_type() {
    let mut m = demo_model();
    goto(&mut m, "password");
    press(&mut m, "d");
    snapshot("confirm_delete", &screen(&m));
    press(&mut m, "<esc>t");
    snapshot("change_type", &screen(&m));
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

#[test]
fn recipients() {
    let mut m = demo_model();
    press(&mut m, "K");
    let s = screen(&m);
    assert!(s.contains("age1w7ndrkveykg0kap00fl0f2f5sju6k3q0yusqtux4cqesxn87e5hs9jn2z4"));
    snapshot("recipients", &s);
}

#[test]
fn mac_warning() {
    let m = tui_support::model_of(&tui_support::tampered_demo(), false);
    snapshot("mac_warning", &screen(&m));
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
        cell(buf, "no key path matches", "n").fg,
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
