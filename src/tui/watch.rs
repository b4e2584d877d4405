//! Watches the edited file with `notify`, so the editor learns when someone else changes it.
//! The folder is watched (saves by rename replace the file's inode); events for other files
//! are dropped. The loop compares the file's bytes before believing an event, so the
//! editor's own saves do not count.

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: RecommendedWatcher,
    /// One message per event touching the file.
    pub events: Receiver<()>,
}

/// Starts watching `file`. An error (no inotify, too many watches) is reported to the user;
/// the byte comparison at save time still guards against overwriting.
pub fn start(file: &Path) -> notify::Result<Watch> {
    let (tx, events) = channel();
    let name = file.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && event
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == name)
        {
            let _ = tx.send(());
        }
    })?;
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(Watch {
        _watcher: watcher,
        events,
    })
}
