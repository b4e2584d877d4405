//! The library core stays free of front-end crates: only `main.rs` and `src/cli/` (and later
//! the editor) may use argument parsing or terminal crates.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_has_no_front_end_dependencies() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let front_end = ["main.rs", "cli.rs", "cli/", "tui.rs", "tui/"];
    let mut checked = 0;
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if front_end
            .iter()
            .any(|f| rel == *f || (f.ends_with('/') && rel.starts_with(f)))
        {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&file).unwrap();
        for banned in ["clap::", "ratatui", "crossterm", "anyhow::"] {
            assert!(
                !text.contains(banned),
                "{rel} uses {banned}: the core must not depend on front ends"
            );
        }
    }
    assert!(checked > 20, "scanned {checked} core files");
}
