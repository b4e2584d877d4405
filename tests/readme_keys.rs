//! The README's table of editor keys is generated from the default keymap, the same table the
//! help overlay is drawn from, so the two cannot drift. `SESAME_UPDATE_README=1 cargo test
//! --test readme_keys` rewrites it after a change to the keymap.

use sesame::tui::keymap::Keymap;

const START: &str = "<!-- keys: generated from the keymap by tests/readme_keys.rs -->\n";
const END: &str = "<!-- keys end -->\n";

fn table() -> String {
    let help = Keymap::default().help_lines();
    let mut out = String::from(START);
    for (title, lines) in [
        ("In the tree", &help.tree),
        ("In the key manager", &help.key_manager),
    ] {
        out.push_str(&format!("\n| {title} | |\n|---|---|\n"));
        for (keys, what) in lines.iter() {
            let keys: Vec<String> = keys
                .split(' ')
                .map(|k| format!("`{}`", k.replace('|', "\\|")))
                .collect();
            out.push_str(&format!("| {} | {what} |\n", keys.join(" ")));
        }
    }
    out.push('\n');
    out.push_str(END);
    out
}

#[test]
fn the_readme_lists_the_keymaps_keys() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(START)
        .expect("the README has the generated key table");
    let end = readme[start..].find(END).expect("the key table ends") + start + END.len();
    let want = table();
    if std::env::var_os("SESAME_UPDATE_README").is_some() {
        let updated = format!("{}{want}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..end],
        want,
        "the README's key table is out of date: run SESAME_UPDATE_README=1 cargo test --test readme_keys"
    );
}
