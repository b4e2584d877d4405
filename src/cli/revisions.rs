//! Where the review and merge commands get revisions from: files, Git blob specs
//! (`REV:path`, `:path`, `:2:path`), read through one `git cat-file --batch` per run.

use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::OpenError;
use sesame::env::ProcessEnv;
use sesame::git::{Blobs, Repo};
use sesame::keys::groups::KeySources;
use sesame::review::Revision;
use sesame::store::Format;
use std::path::{Path, PathBuf};

/// Reads revisions for one command, starting Git at most once.
pub struct Reader {
    pub repo: Option<Repo>,
    blobs: Option<Blobs>,
    /// `--input-type`, else each name's extension.
    format: Option<Format>,
}

impl Reader {
    pub fn new(input_type: Option<&str>) -> Reader {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Reader {
            repo: Repo::discover(&cwd),
            blobs: None,
            format: input_type.and_then(Format::from_name),
        }
    }

    pub fn format_of(&self, name: &str) -> Format {
        self.format.unwrap_or_else(|| Format::from_path(name))
    }

    /// A file on disk (absent: a revision without it).
    pub fn file(&self, path: &Path, label: &str) -> CliResult<Revision> {
        let format = self.format_of(&path.to_string_lossy());
        match std::fs::read(path) {
            Ok(bytes) => read(label, format, bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Revision::absent(label, format))
            }
            Err(e) => Err(Failure::new(
                code::COULD_NOT_READ_INPUT_FILE,
                format!("Error reading file {}: {e}", path.display()),
            )),
        }
    }

    /// A Git blob (`REV:path`); a path the revision does not have is an absent revision.
    pub fn blob(&mut self, spec: &str) -> CliResult<Revision> {
        let name = spec.rsplit(':').next().unwrap_or(spec).to_string();
        self.blob_named(spec, &name)
    }

    /// A Git blob read in the format `name`'s extension says (for object ids).
    pub fn blob_named(&mut self, spec: &str, name: &str) -> CliResult<Revision> {
        let format = self.format_of(name);
        let Some(repo) = &self.repo else {
            return Err(Failure::new(
                code::GENERIC,
                format!("{spec}: not a file, and not in a Git repository to read it from"),
            ));
        };
        if self.blobs.is_none() {
            self.blobs = Some(repo.blobs().map_err(git_failure)?);
        }
        let blobs = self.blobs.as_mut().expect("just started");
        match blobs.read(spec).map_err(git_failure)? {
            Some(bytes) => read(spec, format, bytes),
            None => Ok(Revision::absent(spec, format)),
        }
    }

    /// A file if one exists at `spec`, else a Git blob spec.
    pub fn any(&mut self, spec: &str) -> CliResult<Revision> {
        let path = Path::new(spec);
        if path.exists() || !spec.contains(':') {
            if !path.exists() {
                return Err(Failure::new(
                    code::NO_FILE_SPECIFIED,
                    format!("Error: cannot operate on non-existent file {spec:?}"),
                ));
            }
            return self.file(path, spec);
        }
        self.blob(spec)
    }

    /// `path` as Git names it (relative to the top of the working tree).
    pub fn git_path(&self, path: &Path) -> CliResult<String> {
        let repo = self.repo.as_ref().ok_or_else(|| {
            Failure::new(code::GENERIC, "not in a Git repository")
                .hint("run this inside the working tree of the repository that holds the file")
        })?;
        repo.relative(path).ok_or_else(|| {
            Failure::new(
                code::GENERIC,
                format!(
                    "{} is outside the repository at {}",
                    path.display(),
                    repo.root.display()
                ),
            )
        })
    }
}

fn read(label: &str, format: Format, bytes: Vec<u8>) -> CliResult<Revision> {
    Revision::read(label, format, bytes).map_err(|e| unreadable(label, e))
}

fn unreadable(label: &str, e: OpenError) -> Failure {
    Failure::new(code::GENERIC, format!("Error reading {label}: {e}"))
        .hint("check that the file is valid for its format, or pass --input-type")
}

pub fn git_failure(e: sesame::git::GitError) -> Failure {
    Failure::new(code::GENERIC, e.to_string())
}

/// This machine's keys, as every command finds them.
pub fn key_sources() -> KeySources {
    KeySources::new(Box::new(ProcessEnv))
}

/// The text of the `.sops.yaml` that governs the working folder, for recipient names.
pub fn config_text() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let (path, _) = sesame::config::find(None, &cwd);
    std::fs::read_to_string(path?).ok()
}
