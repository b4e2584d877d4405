//! sops's key service, both ends, against the real sops: `sops keyservice` (Unix socket and
//! loopback TCP) holding an age and a PGP key the client lacks, used by sesame's `decrypt`,
//! `set` and `rotate` through `--keyservice` (with and without the local keys); `sesame
//! keyservice` serving the real sops, its socket private, `--prompt` refusing; a key service
//! that is down; and the shell completion scripts.

mod common;

use common::gpg::GpgHome;
use common::{Sandbox, TEST_IDENTITY, TEST_RECIPIENT, fails, ok, sops_path};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PLAIN: &str = "db:\n    user: admin\n    password: s3cret\nport: 5432\n";
const RSA: &str = "C00974E4CF25A715D3CE81D962377BD1225D0C0E";

/// A key service process (the real sops's or sesame's), stopped when dropped.
struct KeyService {
    child: Child,
    uri: String,
    _dir: tempfile::TempDir,
}

impl KeyService {
    /// Starts `program keyservice` holding the test age identity and the RSA PGP key, on a
    /// Unix socket or a free loopback port; `answers` is what its terminal will type.
    fn start(
        program: &Path,
        unix: bool,
        gpg: &GpgHome,
        extra: &[&str],
        answers: &str,
    ) -> KeyService {
        // Short path: a Unix socket path has a small length limit.
        let dir = tempfile::Builder::new()
            .prefix("ks")
            .tempdir_in("/tmp")
            .unwrap();
        let (network, address, uri) = if unix {
            let path = dir.path().join("s.sock").display().to_string();
            ("unix", path.clone(), format!("unix://{path}"))
        } else {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let address = format!("127.0.0.1:{port}");
            ("tcp", address.clone(), format!("tcp://{address}"))
        };
        let mut child = Command::new(program)
            .args(["keyservice", "--network", network, "--address", &address])
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("GNUPGHOME", gpg.path())
            .env("SOPS_AGE_KEY", TEST_IDENTITY)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the key service");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = if unix {
                std::os::unix::net::UnixStream::connect(&address).is_ok()
            } else {
                std::net::TcpStream::connect(&address).is_ok()
            };
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} keyservice did not start",
                program.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        KeyService {
            child,
            uri,
            _dir: dir,
        }
    }
}

impl Drop for KeyService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sesame_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sesame"))
}

fn decrypted(out: std::process::Output) -> String {
    String::from_utf8(ok(out)).unwrap()
}

/// A file for the age test key and one for the RSA PGP key, written by the real sops with the
/// keys at hand.
fn files(gpg: &GpgHome) -> (Vec<u8>, Vec<u8>) {
    let sb = Sandbox::new()
        .env("GNUPGHOME", gpg.path().display().to_string())
        .env("SOPS_AGE_KEY", TEST_IDENTITY);
    sb.write("plain.yaml", PLAIN);
    let age = ok(sb.sops(&["encrypt", "--age", TEST_RECIPIENT, "plain.yaml"]));
    let pgp = ok(sb.sops(&["encrypt", "--pgp", RSA, "plain.yaml"]));
    (age, pgp)
}

/// A machine that holds no key (its own empty GnuPG home).
fn keyless() -> (Sandbox, GpgHome) {
    let empty = GpgHome::with(&[]);
    let sb = Sandbox::new().env("GNUPGHOME", empty.path().display().to_string());
    (sb, empty)
}

#[test]
fn sesame_uses_the_real_sops_keyservice() {
    let gpg = GpgHome::with(&["rsa.sec.asc"]);
    let (age_file, pgp_file) = files(&gpg);
    for unix in [true, false] {
        let service = KeyService::start(&sops_path(), unix, &gpg, &[], "");
        let uri = service.uri.as_str();
        let (sb, _empty) = keyless();
        sb.write("age.yaml", &age_file);
        sb.write("pgp.yaml", &pgp_file);
        // Without the service, nothing here decrypts.
        fails(sb.sesame(&["decrypt", "pgp.yaml"]), 128);
        for local in [
            "--enable-local-keyservice=true",
            "--enable-local-keyservice=false",
        ] {
            for file in ["age.yaml", "pgp.yaml"] {
                let out = sb.sesame(&["decrypt", "--keyservice", uri, local, file]);
                assert_eq!(decrypted(out), PLAIN, "{uri} {local} {file}");
            }
        }
        // SOPS_KEYSERVICE names it as the flag does.
        let env = Sandbox::new().env("SOPS_KEYSERVICE", uri);
        env.write("age.yaml", &age_file);
        assert_eq!(decrypted(env.sesame(&["decrypt", "age.yaml"])), PLAIN);
        // set and rotate go through it too (the PGP public key is only at the service).
        ok(sb.sesame(&[
            "set",
            "--keyservice",
            uri,
            "pgp.yaml",
            r#"["db"]["user"]"#,
            r#""root""#,
        ]));
        ok(sb.sesame(&[
            "rotate",
            "-i",
            "--keyservice",
            uri,
            "--enable-local-keyservice=false",
            "pgp.yaml",
        ]));
        let holder = Sandbox::new().env("GNUPGHOME", gpg.path().display().to_string());
        holder.write("pgp.yaml", sb.read("pgp.yaml"));
        assert!(decrypted(holder.sops(&["decrypt", "pgp.yaml"])).contains("user: root"));
    }
}

#[test]
fn the_real_sops_uses_sesame_keyservice() {
    use std::os::unix::fs::PermissionsExt;
    let gpg = GpgHome::with(&["rsa.sec.asc"]);
    let (age_file, pgp_file) = files(&gpg);
    let service = KeyService::start(&sesame_path(), true, &gpg, &[], "");
    let socket = service.uri.trim_start_matches("unix://").to_string();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the socket is private");
    let (sb, _empty) = keyless();
    sb.write("age.yaml", &age_file);
    sb.write("pgp.yaml", &pgp_file);
    for file in ["age.yaml", "pgp.yaml"] {
        let out = sb.sops(&["decrypt", "--keyservice", &service.uri, file]);
        assert_eq!(decrypted(out), PLAIN, "{file}");
    }
    // sops encrypts for a PGP key only the service has.
    sb.write("plain.yaml", PLAIN);
    let out = ok(sb.sops(&[
        "encrypt",
        "--keyservice",
        &service.uri,
        "--pgp",
        RSA,
        "plain.yaml",
    ]));
    let holder = Sandbox::new().env("GNUPGHOME", gpg.path().display().to_string());
    holder.write("new.yaml", out);
    assert_eq!(decrypted(holder.sops(&["decrypt", "new.yaml"])), PLAIN);
    // The same over TCP, used by sesame.
    let tcp = KeyService::start(&sesame_path(), false, &gpg, &[], "");
    let out = sb.sesame(&[
        "decrypt",
        "--keyservice",
        &tcp.uri,
        "--enable-local-keyservice=false",
        "pgp.yaml",
    ]);
    assert_eq!(decrypted(out), PLAIN);
}

#[test]
fn a_refused_prompt_and_a_service_that_is_down() {
    let gpg = GpgHome::with(&["rsa.sec.asc"]);
    let (age_file, pgp_file) = files(&gpg);
    // The operator answers n, then y.
    let service = KeyService::start(&sesame_path(), true, &gpg, &["--prompt"], "n\ny\n");
    let (sb, _empty) = keyless();
    sb.write("pgp.yaml", &pgp_file);
    let err = fails(
        sb.sesame(&["decrypt", "--keyservice", &service.uri, "pgp.yaml"]),
        128,
    );
    assert!(
        err.contains("refused the request: Request rejected by user"),
        "{err}"
    );
    assert_eq!(
        decrypted(sb.sesame(&["decrypt", "--keyservice", &service.uri, "pgp.yaml"])),
        PLAIN
    );
    // The real sops meets a refusal with the same exit code.
    let refusing = KeyService::start(&sesame_path(), true, &gpg, &["--prompt"], "n\n");
    fails(
        sb.sops(&["decrypt", "--keyservice", &refusing.uri, "pgp.yaml"]),
        128,
    );

    // Nothing listens: named with its URI; the local keys are still used when enabled.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("tcp://127.0.0.1:{dead}");
    let local = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
    local.write("age.yaml", &age_file);
    assert_eq!(
        decrypted(local.sesame(&["decrypt", "--keyservice", &down, "age.yaml"])),
        PLAIN
    );
    let err = fails(
        local.sesame(&[
            "decrypt",
            "--keyservice",
            &down,
            "--enable-local-keyservice=false",
            "age.yaml",
        ]),
        128,
    );
    assert!(
        err.contains(&format!("key service {down} could not be reached")),
        "{err}"
    );
    fails(
        local.sops(&[
            "decrypt",
            "--keyservice",
            &down,
            "--enable-local-keyservice=false",
            "age.yaml",
        ]),
        128,
    );
    let err = fails(
        local.sesame(&["decrypt", "--keyservice", "ftp://x", "age.yaml"]),
        1,
    );
    assert!(err.contains("tcp://HOST:PORT or unix:///PATH"), "{err}");
}

#[test]
fn completion_scripts_load() {
    let sb = Sandbox::new();
    let script = ok(sb.sesame(&["completion", "bash"]));
    let path = sb.write("sesame.bash", &script);
    let syntax = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(syntax.success());
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p sesame", path.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains("sesame"),
        "{loaded:?}"
    );
    for shell in ["zsh", "fish"] {
        let text = String::from_utf8(ok(sb.sesame(&["completion", shell]))).unwrap();
        assert!(
            text.contains("keyservice") && text.contains("updatekeys"),
            "{shell}"
        );
    }
    fails(sb.sesame(&["completion", "tcsh"]), 2);
}
