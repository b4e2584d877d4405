//! Git through the `git` binary: the user's own Git, with their config, attributes, worktrees
//! and safe-directory rules, and no second implementation of the object store to trust.
//! Many blobs are read through one long-lived `git cat-file --batch` process, so reading 100
//! revisions costs one process start, not 100.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// A failed Git command, with what Git said.
#[derive(Debug, thiserror::Error)]
#[error("git {command}: {message}")]
pub struct GitError {
    pub command: String,
    pub message: String,
}

/// A Git working tree.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The top folder of the working tree.
    pub root: PathBuf,
}

/// One commit of a file's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub author: String,
    /// Author date, strict ISO 8601.
    pub date: String,
    pub subject: String,
}

impl Repo {
    /// The repository `dir` is in, if any (and if `git` runs at all).
    pub fn discover(dir: &Path) -> Option<Repo> {
        let out = Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .current_dir(dir)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let root = String::from_utf8(out.stdout).ok()?;
        Some(Repo {
            root: PathBuf::from(root.trim_end_matches(['\n', '\r'])),
        })
    }

    /// Runs `git ARGS` in the working tree and returns its standard output.
    pub fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError {
                command: args.join(" "),
                message: format!("cannot run git: {e}"),
            })?;
        if !out.status.success() {
            return Err(GitError {
                command: args.join(" "),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(out.stdout)
    }

    /// `path` relative to the working tree's top, with `/` separators (Git's spelling).
    pub fn relative(&self, path: &Path) -> Option<String> {
        let abs = std::path::absolute(path).ok()?;
        let root = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone());
        let abs = match abs.parent().and_then(|p| p.canonicalize().ok()) {
            Some(parent) => parent.join(abs.file_name()?),
            None => abs,
        };
        let rel = abs.strip_prefix(&root).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    /// The commits that changed `path` (newest first), following no renames.
    pub fn log(&self, path: &str, range: Option<&str>) -> Result<Vec<Commit>, GitError> {
        let mut args = vec!["log", "--format=%H%x00%an%x00%aI%x00%s"];
        if let Some(r) = range {
            args.push(r);
        }
        args.extend(["--", path]);
        let out = self.run(&args)?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|line| {
                let mut f = line.splitn(4, '\0');
                Some(Commit {
                    id: f.next()?.to_string(),
                    author: f.next()?.to_string(),
                    date: f.next()?.to_string(),
                    subject: f.next().unwrap_or("").to_string(),
                })
            })
            .collect())
    }

    /// The commits (newest first) of every file in the history of HEAD, by path: one `git
    /// log` for a whole repository instead of one per file.
    pub fn logs_by_file(&self) -> Result<std::collections::HashMap<String, Vec<Commit>>, GitError> {
        let out = self.run(&[
            "-c",
            "core.quotePath=false",
            "log",
            "--no-renames",
            "--format=%x01%H%x00%an%x00%aI%x00%s",
            "--name-only",
        ])?;
        let mut map: std::collections::HashMap<String, Vec<Commit>> = Default::default();
        let text = String::from_utf8_lossy(&out);
        for record in text.split('\x01').filter(|r| !r.is_empty()) {
            let (header, files) = record.split_once('\n').unwrap_or((record, ""));
            let mut f = header.splitn(4, '\0');
            let (Some(id), Some(author), Some(date)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let commit = Commit {
                id: id.to_string(),
                author: author.to_string(),
                date: date.to_string(),
                subject: f.next().unwrap_or("").to_string(),
            };
            for file in files.lines().filter(|l| !l.is_empty()) {
                map.entry(file.to_string())
                    .or_default()
                    .push(commit.clone());
            }
        }
        Ok(map)
    }

    /// The blob ids of a path's unmerged index stages (1 base, 2 ours, 3 theirs), when the
    /// path is in the middle of a merge.
    pub fn conflict_stages(&self, path: &str) -> Result<Option<[Option<String>; 3]>, GitError> {
        let out = self.run(&["ls-files", "-u", "-z", "--", path])?;
        let mut stages: [Option<String>; 3] = [None, None, None];
        let mut any = false;
        for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            // "<mode> <object> <stage>\t<path>"
            let text = String::from_utf8_lossy(record);
            let Some((info, _)) = text.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = info.split(' ').collect();
            if let [_, object, stage] = fields[..]
                && let Ok(n @ 1..=3) = stage.parse::<usize>()
            {
                stages[n - 1] = Some(object.to_string());
                any = true;
            }
        }
        Ok(any.then_some(stages))
    }

    /// Tracked files (and untracked ones Git does not ignore), relative to the top.
    pub fn files(&self) -> Result<Vec<String>, GitError> {
        let out = self.run(&[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])?;
        let mut files: Vec<String> = out
            .split(|b| *b == 0)
            .filter(|r| !r.is_empty())
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect();
        files.dedup();
        Ok(files)
    }

    /// One Git config value, if set (`--global` reads the user's file).
    pub fn config_get(&self, key: &str, global: bool) -> Option<String> {
        let mut args = vec!["config"];
        if global {
            args.push("--global");
        }
        args.extend(["--get", key]);
        let out = self.run(&args).ok()?;
        Some(String::from_utf8_lossy(&out).trim_end().to_string())
    }

    /// Sets one Git config value (`--global`: the user's file).
    pub fn config_set(&self, key: &str, value: &str, global: bool) -> Result<(), GitError> {
        let mut args = vec!["config"];
        if global {
            args.push("--global");
        }
        args.extend([key, value]);
        self.run(&args).map(|_| ())
    }

    /// The attribute values Git sees for `path` (`git check-attr`).
    pub fn attributes(&self, path: &str, names: &[&str]) -> Vec<(String, String)> {
        let mut args = vec!["check-attr", "-z"];
        args.extend_from_slice(names);
        args.extend(["--", path]);
        let Ok(out) = self.run(&args) else {
            return Vec::new();
        };
        let fields: Vec<String> = out
            .split(|b| *b == 0)
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect();
        fields
            .chunks(3)
            .filter(|c| c.len() == 3)
            .map(|c| (c[1].clone(), c[2].clone()))
            .collect()
    }

    /// Starts a blob reader for this repository.
    pub fn blobs(&self) -> Result<Blobs, GitError> {
        Blobs::start(&self.root)
    }
}

/// A running `git cat-file --batch`: reads any number of objects through one process.
pub struct Blobs {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Blobs {
    fn start(dir: &Path) -> Result<Blobs, GitError> {
        let failed = |e: std::io::Error| GitError {
            command: "cat-file --batch".into(),
            message: format!("cannot run git: {e}"),
        };
        let mut child = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(failed)?;
        let input = child.stdin.take().expect("piped stdin");
        let output = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Blobs {
            child,
            input,
            output,
        })
    }

    /// The content of `spec` (`REV:path`, `:path`, `:2:path`, an object id), or `None` when
    /// it names no object (a file that did not exist at that revision).
    pub fn read(&mut self, spec: &str) -> Result<Option<Vec<u8>>, GitError> {
        let broken = |what: &str| GitError {
            command: "cat-file --batch".into(),
            message: what.to_string(),
        };
        if spec.contains('\n') {
            return Err(broken("a revision spec cannot hold a line break"));
        }
        writeln!(self.input, "{spec}")
            .and_then(|_| self.input.flush())
            .map_err(|e| broken(&e.to_string()))?;
        let mut header = String::new();
        self.output
            .read_line(&mut header)
            .map_err(|e| broken(&e.to_string()))?;
        // "<oid> <type> <size>" or "<spec> missing" / "ambiguous".
        let fields: Vec<&str> = header.trim_end().split(' ').collect();
        let [_, kind, size] = fields[..] else {
            return Ok(None);
        };
        let size: usize = size.parse().map_err(|_| broken("unexpected answer"))?;
        let mut body = vec![0; size + 1];
        self.output
            .read_exact(&mut body)
            .map_err(|e| broken(&e.to_string()))?;
        body.truncate(size);
        Ok((kind == "blob").then_some(body))
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        // Closing stdin ends cat-file; reap it so no zombie is left.
        let _ = self.input.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn reads_blobs_of_several_revisions_through_one_process_and_lists_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a.txt"), "one\n").unwrap();
        git(d, &["add", "a.txt"]);
        git(d, &["commit", "-q", "-m", "first"]);
        std::fs::write(d.join("a.txt"), "two\n").unwrap();
        git(d, &["commit", "-q", "-am", "second"]);
        let repo = Repo::discover(d).unwrap();
        let mut blobs = repo.blobs().unwrap();
        assert_eq!(blobs.read("HEAD~1:a.txt").unwrap().unwrap(), b"one\n");
        assert_eq!(blobs.read("HEAD:a.txt").unwrap().unwrap(), b"two\n");
        assert_eq!(blobs.read("HEAD:missing.txt").unwrap(), None);
        assert_eq!(blobs.read("HEAD").unwrap(), None, "a commit is not a blob");
        let log = repo.log("a.txt", None).unwrap();
        let subjects: Vec<&str> = log.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(subjects, ["second", "first"]);
        assert_eq!(repo.relative(&d.join("a.txt")).unwrap(), "a.txt");
        assert_eq!(repo.conflict_stages("a.txt").unwrap(), None);
    }
}
