//! Finding sops files by content: in a Git working tree, the tracked files and the untracked
//! ones Git does not ignore; elsewhere, every file under the folders given. Files are read
//! and their metadata parsed on several threads; values are not decrypted.

use crate::document::{OpenError, inspect};
use crate::git::Repo;
use crate::metadata::{Metadata, MetadataError};
use crate::store::Format;
use crate::tree::Map;
use std::path::{Path, PathBuf};

/// A file that was looked at.
#[derive(Debug)]
pub struct Entry {
    /// Absolute path.
    pub path: PathBuf,
    /// The path as shown (relative to where the search started, when under it).
    pub name: String,
    pub format: Format,
    pub state: State,
}

/// What a file is.
#[derive(Debug)]
pub enum State {
    /// Encrypted with sops: its metadata and its documents as stored.
    Sops {
        metadata: Box<Metadata>,
        raw: Vec<Map>,
    },
    /// Not a sops file.
    Plain,
    /// Looks like a sops file but cannot be read as one (why).
    Broken(String),
}

impl Entry {
    pub fn metadata(&self) -> Option<&Metadata> {
        match &self.state {
            State::Sops { metadata, .. } => Some(metadata),
            _ => None,
        }
    }
}

/// Files larger than this are not read (no sops file is).
const MAX_SIZE: u64 = 64 << 20;

/// The files under `roots` (files or folders): through Git where a folder is in a working
/// tree (so `.gitignore` applies), else by walking it (hidden folders skipped).
pub fn files(roots: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for root in roots {
        let abs = std::path::absolute(root).map_err(|e| format!("{}: {e}", root.display()))?;
        if abs.is_file() {
            out.push(abs);
            continue;
        }
        if !abs.is_dir() {
            return Err(format!("{}: no such file or folder", root.display()));
        }
        match Repo::discover(&abs) {
            Some(repo) => {
                let listed = repo
                    .run(&[
                        "ls-files",
                        "-z",
                        "--cached",
                        "--others",
                        "--exclude-standard",
                        "--",
                        &abs.to_string_lossy(),
                    ])
                    .map_err(|e| e.to_string())?;
                for rel in listed.split(|b| *b == 0).filter(|r| !r.is_empty()) {
                    let p = repo.root.join(String::from_utf8_lossy(rel).as_ref());
                    if p.is_file() {
                        out.push(p);
                    }
                }
            }
            None => walk(&abs, &mut out),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match entry.file_type() {
            Ok(t) if t.is_dir() && !hidden => walk(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// Reads every file (on up to `jobs` threads) and tells sops files from others.
pub fn scan(paths: Vec<PathBuf>, base: &Path, jobs: usize) -> Vec<Entry> {
    let jobs = jobs.max(1).min(paths.len().max(1));
    let chunk = paths.len().div_ceil(jobs).max(1);
    let mut out: Vec<Entry> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|p| look_at(p, base)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// One file, as `scan` sees it.
pub fn look_at(path: &Path, base: &Path) -> Entry {
    let name = path
        .strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let format = Format::from_path(&path.to_string_lossy());
    let state = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_SIZE => State::Plain,
        Ok(_) => match std::fs::read(path) {
            Ok(bytes) => classify(format, &bytes),
            Err(e) => State::Broken(format!("cannot read it: {e}")),
        },
        Err(e) => State::Broken(format!("cannot read it: {e}")),
    };
    Entry {
        path: path.to_path_buf(),
        name,
        format,
        state,
    }
}

fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

fn classify(format: Format, bytes: &[u8]) -> State {
    // Cheap first: every sops file names its metadata block, its MAC and its version.
    if !contains(bytes, b"sops") {
        return State::Plain;
    }
    match inspect(format, bytes) {
        Ok((parsed, metadata)) => State::Sops {
            metadata: Box::new(metadata),
            raw: parsed.docs,
        },
        Err(OpenError::Metadata(MetadataError::NotFound)) => State::Plain,
        Err(e) if contains(bytes, b"mac") && contains(bytes, b"version") => {
            State::Broken(e.to_string())
        }
        Err(_) => State::Plain,
    }
}
