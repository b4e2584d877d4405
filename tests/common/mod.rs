//! Helpers shared by the integration tests: run sesame and the real sops in a private temp
//! folder with a controlled environment.
#![allow(dead_code)]

pub mod bao;
pub mod cloud;
pub mod gpg;
pub mod keyring;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The public sops test identity (from the sops repository); the spec's known-answer files are
/// encrypted for it.
pub const TEST_IDENTITY: &str =
    "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
pub const TEST_RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// The real sops binary, installed by `scripts/install-tools.sh`. Missing is a test failure,
/// never a skip: interop tests that do not run prove nothing.
pub fn sops_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SESAME_TEST_SOPS") {
        return PathBuf::from(p);
    }
    let p = root().join(".tools/bin/sops");
    assert!(
        p.exists(),
        "the real sops binary is missing at {}: run scripts/install-tools.sh (the README's test command does)",
        p.display()
    );
    p
}

/// A fresh age identity: (secret, recipient).
pub fn new_age_key() -> (String, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    (
        id.to_string().expose_secret().to_string(),
        id.to_public().to_string(),
    )
}

/// A scratch folder with its own HOME, so no user key or config leaks in.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    /// The kernel keyring its programs share (`with_keyring`), and how they may use keyrings.
    session: Option<keyring::Session>,
    access: keyring::Access,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Sandbox {
            dir,
            env: Vec::new(),
            session: None,
            access: keyring::Access::Confined,
        }
    }

    /// Gives every program of this sandbox one fresh session keyring to share.
    pub fn with_keyring(mut self) -> Sandbox {
        self.session = Some(keyring::Session::new());
        self
    }

    /// Makes every kernel keyring call of the sandbox's programs fail (EACCES).
    pub fn keyring_denied(mut self) -> Sandbox {
        self.access = keyring::Access::Denied;
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Sandbox {
        self.env.push((k.into(), v.into()));
        self
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        keyring::confine(&mut c, self.session.as_ref().map(|s| &s.name), self.access);
        c
    }

    fn run(&self, program: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
        run_command(self.command(program, args), stdin)
    }

    pub fn sesame(&self, args: &[&str]) -> Output {
        self.run(Path::new(env!("CARGO_BIN_EXE_sesame")), args, None)
    }

    pub fn sesame_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.run(Path::new(env!("CARGO_BIN_EXE_sesame")), args, Some(stdin))
    }

    /// sesame with some variables set for this run only.
    pub fn sesame_with(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = self.command(Path::new(env!("CARGO_BIN_EXE_sesame")), args);
        c.envs(vars.iter().copied());
        run_command(c, None)
    }

    pub fn sops(&self, args: &[&str]) -> Output {
        self.run(&sops_path(), args, None)
    }

    /// The JavaScript readers' driver (tests/js/readers.mjs) under the project's Node.js, run
    /// from the folder its packages are installed in (`scripts/install-tools.sh`); file
    /// arguments must be absolute.
    pub fn node(&self, vars: &[(&str, &str)], args: &[&str], stdin: Option<&[u8]>) -> Output {
        let js = root().join(".tools/js");
        let node = root().join(".tools/bin/node");
        assert!(
            node.exists() && js.join("node_modules").is_dir(),
            "Node.js or the JavaScript sops readers are missing in .tools: run scripts/install-tools.sh (the README's test command does)"
        );
        let script = include_str!("../js/readers.mjs");
        let mut all = vec!["--input-type=module", "-e", script, "--"];
        all.extend_from_slice(args);
        let mut c = self.command(&node, &all);
        c.current_dir(js).envs(vars.iter().copied());
        run_command(c, stdin)
    }

    /// The real sops with some variables set for this run only (which identities it holds).
    pub fn sops_with(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = self.command(&sops_path(), args);
        for (k, v) in vars {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).output().expect("run sops")
    }
}

/// Runs a prepared command, feeding `stdin` if any, and collects its output.
fn run_command(mut c: Command, stdin: Option<&[u8]>) -> Output {
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    if let Some(input) = stdin {
        // A command may exit without reading its input (a refused flag): a closed pipe is fine.
        match child.stdin.take().unwrap().write_all(input) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {e}"),
            _ => {}
        }
    }
    child.wait_with_output().expect("wait")
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "command failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Asserts failure with `code` and returns stderr.
#[track_caller]
pub fn fails(out: Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}; stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Runs `sesame set NAME ["db"]["user"] "root"` on a file sops wrote (`before` is its text) and
/// asserts that only that value, `lastmodified` and the MAC changed, and that sops reads it.
#[track_caller]
pub fn assert_one_value_set_is_minimal(sb: &Sandbox, name: &str, before: &str) {
    ok(sb.sesame(&["set", name, r#"["db"]["user"]"#, r#""root""#]));
    let after = String::from_utf8(sb.read(name)).unwrap();
    let changed: Vec<&str> = after
        .lines()
        .filter(|l| !before.lines().any(|o| o == *l))
        .collect();
    // (`lastmodified` has one-second steps: within sops's second it may stay the same.)
    assert!(
        changed.iter().all(|l| ["user:", "lastmodified:", "mac:"]
            .iter()
            .any(|k| l.trim_start().starts_with(k))),
        "{changed:#?}"
    );
    assert!(
        changed.iter().any(|l| l.contains("user:")) && changed.iter().any(|l| l.contains("mac:"))
    );
    let out = String::from_utf8(ok(sb.sops(&["decrypt", name]))).unwrap();
    assert!(out.contains("user: root"), "{out}");
}

/// The field names of the first entry of a `sops` metadata list (`gcp_kms:`), in file order.
pub fn entry_fields(text: &str, list: &str) -> Vec<String> {
    let block = &text[text
        .find(list)
        .unwrap_or_else(|| panic!("no {list} in:\n{text}"))..];
    block
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("        "))
        .filter_map(|l| l.trim_start_matches([' ', '-']).split(':').next())
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

/// The test age plugin (examples/age-plugin-sesametest.rs): a folder holding it under its
/// name, and a new identity with its recipient.
pub fn test_age_plugin() -> (PathBuf, String, String) {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(test_age_plugin_dir).clone();
    let out = Command::new(dir.join("age-plugin-sesametest"))
        .arg("--generate")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_string();
    let identity = text
        .lines()
        .find(|l| l.starts_with("AGE-PLUGIN-SESAMETEST-1"))
        .unwrap()
        .to_string();
    (dir, identity, recipient)
}

/// `cargo test --all-targets` builds the plugin (`harness = false`) as
/// `examples/age_plugin_sesametest-HASH` only; the newest such build (or a `cargo build
/// --example` one) is copied under the plugin's name into a folder of its own. Only a run that
/// built no examples builds it here: apart from the tests, cargo resolves other features and
/// builds every dependency a second time (twice the disk and time).
fn test_age_plugin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_sesame"));
    let out = exe.parent().unwrap();
    let examples = out.join("examples");
    let newest = |examples: &Path| {
        std::fs::read_dir(examples)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name == "age-plugin-sesametest"
                    || name
                        .strip_prefix("age_plugin_sesametest-")
                        .is_some_and(|hash| !hash.contains('.'))
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .max()
            .map(|(_, path)| path)
    };
    let built = newest(&examples).unwrap_or_else(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "age-plugin-sesametest"])
            .current_dir(root())
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the test age plugin failed");
        examples.join("age-plugin-sesametest")
    });
    let dir = out.join("test-age-plugin");
    std::fs::create_dir_all(&dir).unwrap();
    // Copied then renamed: test binaries of another run may be reading the folder.
    let partial = dir.join(format!(".partial-{}", std::process::id()));
    std::fs::copy(&built, &partial).unwrap();
    std::fs::rename(&partial, dir.join("age-plugin-sesametest")).unwrap();
    dir
}

/// `Document::decrypt` (YAML and JSON are written out while read, in one pass) gives what
/// opening the file and writing its plaintext gives, the same text or the same error, for each
/// file of `corpus` (encrypted for the test identity) and damaged copies of it, with and
/// without `ignore_mac`, at each of `indents`. Returns how many decrypted.
pub fn assert_decrypt_matches_open(
    format: sesame::store::Format,
    mut corpus: Vec<Vec<u8>>,
    indents: &[i64],
) -> usize {
    use sesame::document::{Document, OpenOptions};
    use sesame::store::EmitOptions;
    let keys = sesame::keys::groups::KeySources::new(Box::new(sesame::env::FixedEnv(
        [("SOPS_AGE_KEY".to_string(), TEST_IDENTITY.to_string())].into(),
    )));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut rnd = xorshift(0x9e37_79b9_7f4a_7c15);
    for original in corpus.clone() {
        for _ in 0..6 {
            let mut lines: Vec<String> = text(&original).lines().map(String::from).collect();
            let at = rnd() % lines.len();
            match rnd() % 3 {
                0 => {
                    lines.remove(at);
                }
                1 => {
                    let line = &mut lines[at];
                    let pos = rnd() % (line.len() + 1);
                    if line.is_char_boundary(pos) {
                        line.insert(pos, 'Z');
                    }
                }
                _ => {
                    let copy = lines[at].clone();
                    lines.insert(rnd() % lines.len(), copy);
                }
            }
            corpus.push((lines.join("\n") + "\n").into_bytes());
        }
    }
    let mut decrypted = 0;
    for bytes in &corpus {
        for ignore_mac in [false, true] {
            for &indent in indents {
                let opts = OpenOptions {
                    ignore_mac,
                    keep_ciphertext: false,
                    keep_damaged: false,
                };
                let emit = EmitOptions {
                    yaml_indent: indent,
                    json_indent: indent,
                    ..EmitOptions::default()
                };
                let whole = Document::open(format, bytes.clone(), &keys, opts)
                    .map_err(|e| e.to_string())
                    .and_then(|d| {
                        d.plain_bytes(format, &emit)
                            .map(|t| text(&t))
                            .map_err(|e| e.to_string())
                    });
                let streamed = Document::decrypt(format, bytes.clone(), &keys, opts, format, &emit)
                    .map(|d| text(&d.text))
                    .map_err(|e| e.to_string());
                decrypted += usize::from(streamed.is_ok());
                assert_eq!(streamed, whole, "{}", text(bytes));
            }
        }
    }
    decrypted
}

/// A small deterministic random number generator (xorshift64) for generated test inputs.
pub fn xorshift(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    }
}
