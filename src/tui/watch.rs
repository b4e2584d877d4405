//! Watches the edited file, and the `.sops.yaml` files that could apply to it, with `notify`,
//! so the editor learns when someone else changes the file or the config appears or changes.
//! Folders are watched (saves by rename replace a file's inode); events for other files are
//! dropped. The loop compares the file's bytes before believing an event, so the editor's own
//! saves do not count.

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

/// What an event touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    File,
    Config,
}

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: RecommendedWatcher,
    /// One message per event touching the file or a config.
    pub events: Receiver<Changed>,
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Starts watching `file` and the possible `configs`. An error on the file's folder (no
/// inotify, too many watches) is reported to the user (the byte comparison at save time still
/// guards against overwriting); a config folder that cannot be watched is skipped (the key
/// manager reads the config again when it needs it).
pub fn start(file: &Path, configs: &[PathBuf]) -> notify::Result<Watch> {
    let (tx, events) = channel();
    let name = file.file_name().map(|n| n.to_os_string());
    let config_paths = configs.to_vec();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        for p in &event.paths {
            let changed = if p.file_name().map(|n| n.to_os_string()) == name {
                Changed::File
            } else if config_paths.iter().any(|c| c == p) {
                Changed::Config
            } else {
                continue;
            };
            let _ = tx.send(changed);
        }
    })?;
    watcher.watch(folder(file), RecursiveMode::NonRecursive)?;
    let mut watched = vec![folder(file).to_path_buf()];
    for config in configs {
        let dir = folder(config).to_path_buf();
        if !watched.contains(&dir) && dir.is_dir() {
            let _ = watcher.watch(&dir, RecursiveMode::NonRecursive);
            watched.push(dir);
        }
    }
    Ok(Watch {
        _watcher: watcher,
        events,
    })
}
