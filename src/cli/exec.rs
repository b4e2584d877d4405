//! `sesame exec-env` and `sesame exec-file`: run a command with the decrypted values in its
//! environment, or with the decrypted file behind a FIFO (or a private temp file that is removed
//! on every exit path, signals included). The command's exit code becomes ours.

use crate::cli::args::{ExecEnvArgs, ExecFileArgs, Flags, on};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::store::flatten::value_text;
use sesame::tree::{MapItem, Node, Scalar};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use zeroize::Zeroizing;

fn open(file: &str, flags: &Flags) -> CliResult<context::Opened> {
    context::open(Input::resolve(Some(file), flags)?, flags, true)
}

fn two_args(args: &[String]) -> CliResult<(&str, &str)> {
    match args {
        [file, command] => Ok((file, command)),
        _ => Err(Failure::new(code::GENERIC, "error: missing file to decrypt")
            .hint("usage: sesame exec-env FILE 'COMMAND' (the command is one argument, run by /bin/sh -c)")),
    }
}

/// `/bin/sh -c COMMAND`, as sops runs it, with the core-dump limit sesame started with.
#[allow(unsafe_code)]
fn shell(command: &str, user: Option<&str>) -> CliResult<Command> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    // SAFETY: the hook only calls setrlimit, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(sesame::process::restore_core_limit_in_child);
    }
    if let Some(name) = user.filter(|u| !u.is_empty()) {
        let (uid, gid) = lookup_user(name)?;
        cmd.uid(uid).gid(gid);
    }
    Ok(cmd)
}

#[allow(unsafe_code)]
fn lookup_user(name: &str) -> CliResult<(u32, u32)> {
    let c_name = std::ffi::CString::new(name)
        .map_err(|_| Failure::new(code::GENERIC, format!("invalid user name {name:?}")))?;
    // SAFETY: getpwnam reads a NUL-terminated name and returns a pointer to static storage (or
    // null), which is read at once on this thread.
    let pw = unsafe { libc::getpwnam(c_name.as_ptr()) };
    if pw.is_null() {
        return Err(Failure::new(
            code::GENERIC,
            format!("user: unknown user {name}"),
        ));
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

/// Our exit code for the command's status: its code, or 128 + the signal that ended it.
fn status_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Runs `cmd` to completion, forwarding SIGINT, SIGTERM and SIGHUP to it so that we outlive it
/// and can clean up.
#[allow(unsafe_code)]
fn run_forwarding_signals(mut cmd: Command) -> CliResult<ExitStatus> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Failure::new(code::GENERIC, format!("cannot watch signals: {e}")))?;
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::new(code::GENERIC, format!("cannot run /bin/sh: {e}")))?;
    let pid = child.id() as libc::pid_t;
    let handle = signals.handle();
    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            // SAFETY: kill only sends a signal to the child we started.
            unsafe { libc::kill(pid, sig) };
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status.map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("waiting for the command failed: {e}"),
        )
    })
}

fn finish(status: ExitStatus) -> CliResult {
    match status_code(status) {
        0 => Ok(()),
        n => Err(Failure::new(n, String::new())),
    }
}

pub fn run_env(args: &ExecEnvArgs, flags: &Flags) -> CliResult {
    // FILE... COMMAND: several files give one environment, later files winning.
    let (command, files) = match args.args.split_last() {
        Some((command, files)) if !files.is_empty() => (command.as_str(), files),
        _ => return two_args(&args.args).map(|_| ()),
    };
    if on(args.background) && on(args.same_process) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: The --same-process flag cannot be used with --background",
        ));
    }
    let mut env: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    for file in files {
        for (key, value) in env_of(&open(file, flags)?.doc)? {
            env.retain(|(k, _)| *k != key);
            env.push((key, value));
        }
    }
    run_with_env(args, command, env)
}

/// The top-level values of a document as environment variables.
fn env_of(doc: &sesame::document::Document) -> CliResult<Vec<(String, Zeroizing<Vec<u8>>)>> {
    let mut env = Vec::new();
    if let Some(first) = doc.docs().first() {
        for item in &first.items {
            let MapItem::Entry(entry) = item else {
                continue;
            };
            let value = match &entry.value {
                Node::Map(_) | Node::List(_) => {
                    return Err(Failure::new(
                        code::GENERIC,
                        format!(
                            "cannot use complex value in environment; offending key {}",
                            entry.key
                        ),
                    ));
                }
                Node::Leaf(leaf) => match &leaf.value {
                    Scalar::Str(s) => Zeroizing::new(s.expose().to_vec()),
                    other => Zeroizing::new(value_text(other).expose().to_vec()),
                },
            };
            if entry.key.contains('=') {
                return Err(Failure::new(
                    code::GENERIC,
                    format!("cannot use keys with '=' in environment: {}", entry.key),
                ));
            }
            env.push((entry.key.clone(), value));
        }
    }
    Ok(env)
}

/// Runs the command of `exec-env` with `env` added to (or, `--pristine`, instead of) ours.
fn run_with_env(
    args: &ExecEnvArgs,
    command: &str,
    env: Vec<(String, Zeroizing<Vec<u8>>)>,
) -> CliResult {
    if on(args.background) {
        eprintln!("[EXEC]\tWARN\texec-env's --background option is deprecated");
    }
    let mut cmd = shell(command, args.user.as_deref())?;
    if on(args.pristine) {
        cmd.env_clear();
    }
    for (k, v) in &env {
        cmd.env(k, OsString::from_vec(v.to_vec()));
    }
    if on(args.same_process) {
        let err = cmd.exec();
        return Err(Failure::new(
            code::GENERIC,
            format!("cannot run /bin/sh: {err}"),
        ));
    }
    if on(args.background) {
        cmd.spawn()
            .map_err(|e| Failure::new(code::GENERIC, format!("cannot run /bin/sh: {e}")))?;
        return Ok(());
    }
    finish(run_forwarding_signals(cmd)?)
}

/// A private folder for the decrypted file, removed (with its content overwritten) on drop.
struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    fn create() -> CliResult<PrivateDir> {
        use rand::Rng;
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        for _ in 0..16 {
            let suffix: u64 = rand::thread_rng().r#gen();
            let path = base.join(format!(".sops{suffix:016x}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Failure::new(
                        code::COULD_NOT_WRITE_OUTPUT_FILE,
                        format!(
                            "cannot create a temporary folder in {}: {e}",
                            base.display()
                        ),
                    ));
                }
            }
        }
        Err(Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            "cannot create a temporary folder",
        ))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.path) {
            for entry in entries.flatten() {
                let p = entry.path();
                // Overwrite regular files before unlinking, so no plaintext stays on disk.
                if let Ok(meta) = std::fs::symlink_metadata(&p)
                    && meta.is_file()
                    && let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&p)
                {
                    let _ = f.write_all(&vec![0u8; meta.len() as usize]);
                    let _ = f.sync_all();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// sops compat: `--filename` must be a relative path inside the temp folder.
fn checked_name(name: Option<&str>) -> CliResult<&str> {
    let name = name.filter(|n| !n.is_empty()).unwrap_or("tmp-file");
    let ok = Path::new(name)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(Failure::new(
            code::GENERIC,
            format!("--filename must be a relative local path, got {name:?}"),
        ));
    }
    Ok(name)
}

pub fn run_file(args: &ExecFileArgs, flags: &Flags) -> CliResult {
    let (file, command) = two_args(&args.args)?;
    let name = checked_name(args.filename.as_deref())?;
    let context::Opened {
        input,
        doc,
        emit: opts,
        ..
    } = open(file, flags)?;
    let format = input.format(flags.output_type.as_deref());
    let plaintext =
        Arc::new(doc.plain_bytes(format, &opts).map_err(|e| {
            Failure::new(code::ERROR_DUMPING_TREE, format!("Error dumping file: {e}"))
        })?);
    drop(doc);
    if on(args.background) {
        eprintln!("[EXEC]\tWARN\texec-file's --background option is deprecated");
    }
    let dir = PrivateDir::create()?;
    let path = dir.path.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("cannot create {}: {e}", parent.display()),
            )
        })?;
    }
    if on(args.no_fifo) {
        write_private_file(&path, &plaintext)?;
    } else {
        make_fifo(&path)?;
        let fifo = path.clone();
        let data = Arc::clone(&plaintext);
        // Opening a FIFO for writing blocks until the command opens it for reading.
        std::thread::spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                let _ = f.write_all(&data);
            }
        });
    }
    let command = command.replace("{}", &path.to_string_lossy());
    let cmd = shell(&command, args.user.as_deref())?;
    if on(args.background) {
        let mut cmd = cmd;
        cmd.spawn()
            .map_err(|e| Failure::new(code::GENERIC, format!("cannot run /bin/sh: {e}")))?;
        return Ok(());
    }
    let status = run_forwarding_signals(cmd);
    drop(dir);
    finish(status?)
}

fn write_private_file(path: &Path, bytes: &[u8]) -> CliResult {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes).map(|_| f))
        .map_err(|e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    let _ = f.flush();
    Ok(())
}

#[allow(unsafe_code)]
fn make_fifo(path: &Path) -> CliResult {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| Failure::new(code::GENERIC, "temporary path contains a NUL byte"))?;
    // SAFETY: mkfifo reads a NUL-terminated path.
    if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
        return Err(Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!(
                "cannot create FIFO {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ),
        ));
    }
    Ok(())
}
