//! Where configuration comes from: the process environment, or a fixed set of variables in
//! tests; how a configured command line is split into words without a shell, and run with a
//! time limit (key commands such as `SOPS_AGE_KEY_CMD`).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Seconds a key command may take, unless `SESAME_COMMAND_TIMEOUT` says otherwise: long enough
/// to type a passphrase or touch a security key, short enough that a hung command is noticed.
pub const DEFAULT_COMMAND_TIMEOUT: u64 = 120;

/// The time limit for key commands: `SESAME_COMMAND_TIMEOUT` (seconds; 0 = none), else
/// `DEFAULT_COMMAND_TIMEOUT`. A value that is not a number is an error naming it.
pub fn command_timeout(env: &dyn Environment) -> Result<Option<Duration>, String> {
    match env
        .var("SESAME_COMMAND_TIMEOUT")
        .filter(|v| !v.trim().is_empty())
    {
        None => Ok(Some(Duration::from_secs(DEFAULT_COMMAND_TIMEOUT))),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(0) => Ok(None),
            Ok(secs) => Ok(Some(Duration::from_secs(secs))),
            Err(_) => Err(format!(
                "SESAME_COMMAND_TIMEOUT={v:?} is not a number of seconds (0 turns the limit off)"
            )),
        },
    }
}

/// Runs a configured command line (split as a shell would, but without one) and returns its
/// standard output, zeroized on drop. Fails, naming the command and showing its standard error,
/// when it cannot start, exits unsuccessfully, or runs past `timeout` (it is then killed). Its
/// standard input and the terminal stay the user's, so it can prompt.
pub fn run_command(cmd: &str, timeout: Option<Duration>) -> Result<Zeroizing<Vec<u8>>, String> {
    run_command_with(cmd, timeout, &[])
}

/// `run_command` with these variables added to the command's environment.
pub fn run_command_with(
    cmd: &str,
    timeout: Option<Duration>,
    vars: &[(&str, &str)],
) -> Result<Zeroizing<Vec<u8>>, String> {
    let args = split_command(cmd);
    let Some((program, rest)) = args.split_first() else {
        return Err("the command is empty".into());
    };
    let mut child = Command::new(program)
        .args(rest)
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::new());
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if timeout.is_some_and(|t| started.elapsed() >= t) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "it did not finish within {} s and was stopped (SESAME_COMMAND_TIMEOUT sets the limit)",
                    timeout.unwrap_or_default().as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(e.to_string()),
        }
    };
    // A grandchild may keep the pipes open after a kill: do not wait for it then.
    let (out, err) = if status.is_ok() {
        (
            out_reader.join().unwrap_or_default(),
            err_reader.join().unwrap_or_default(),
        )
    } else {
        (Zeroizing::new(Vec::new()), Vec::new())
    };
    let said = String::from_utf8_lossy(&err);
    let said = said.trim();
    let said = if said.is_empty() {
        String::new()
    } else {
        format!("; it said: {}", said.chars().take(2000).collect::<String>())
    };
    match status {
        Ok(s) if s.success() => Ok(out),
        Ok(s) => Err(format!("it failed ({s}){said}")),
        Err(why) => Err(why),
    }
}

/// Where to look, so tests can supply their own environment. (`Send + Sync`: the editor
/// seals on a worker thread while it keeps drawing.)
pub trait Environment: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable whose name starts with `prefix` (per-region endpoint overrides).
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
    fn home(&self) -> Option<PathBuf> {
        self.var("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
    /// Whether identities stored with `sesame identity add` are looked up too.
    fn os_keyring(&self) -> bool {
        false
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                k.starts_with(prefix)
                    .then(|| (k, v.to_string_lossy().into_owned()))
            })
            .collect()
    }
    fn os_keyring(&self) -> bool {
        true
    }
}

/// A fixed set of variables, for callers that must not read the process environment (tests);
/// the OS keyring is not read either.
#[derive(Default)]
pub struct FixedEnv(pub std::collections::HashMap<String, String>);

impl FixedEnv {
    /// An environment holding exactly `vars`.
    pub fn new(vars: &[(&str, &str)]) -> FixedEnv {
        FixedEnv(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Environment for FixedEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Splits a command line into words like a POSIX shell would (quotes and backslashes), without
/// running a shell.
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        _ => cur.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_run_with_a_limit_and_their_errors_are_shown() {
        let out = run_command("printf 'a b'", Some(Duration::from_secs(10))).unwrap();
        assert_eq!(&out[..], b"a b");
        let err = run_command("sh -c 'echo nope >&2; exit 3'", None).unwrap_err();
        assert!(
            err.contains("exit status: 3") && err.contains("it said: nope"),
            "{err}"
        );
        let started = Instant::now();
        let err = run_command("sleep 30", Some(Duration::from_millis(200))).unwrap_err();
        assert!(err.contains("did not finish within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            run_command("/nonexistent/cmd", None)
                .unwrap_err()
                .contains("could not run")
        );
        let env =
            |v: &str| FixedEnv([("SESAME_COMMAND_TIMEOUT".to_string(), v.to_string())].into());
        assert_eq!(command_timeout(&env("0")), Ok(None));
        assert_eq!(command_timeout(&env("5")), Ok(Some(Duration::from_secs(5))));
        assert!(command_timeout(&env("soon")).is_err());
        assert_eq!(
            command_timeout(&FixedEnv::default()),
            Ok(Some(Duration::from_secs(DEFAULT_COMMAND_TIMEOUT)))
        );
    }

    #[test]
    fn splits_commands_like_a_shell() {
        assert_eq!(
            split_command(r#"cat "a b" 'c d' e\ f"#),
            ["cat", "a b", "c d", "e f"]
        );
    }
}
