//! A dev-mode OpenBao server (the open-source Vault fork, same API) on a free loopback port,
//! for the `publish` and Vault transit tests.

use super::root;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A dev-mode OpenBao server (in-memory, root token `root`), stopped when dropped.
pub struct Bao {
    child: Child,
    pub addr: String,
    home: tempfile::TempDir,
}

fn binary() -> std::path::PathBuf {
    root().join(".tools/bin/bao")
}

impl Bao {
    pub fn start() -> Bao {
        let bao = Bao::spawn(&[], "http");
        let deadline = Instant::now() + Duration::from_secs(30);
        while bao.http("GET", "/v1/sys/health", "").0 != 200 {
            assert!(
                Instant::now() < deadline,
                "OpenBao did not start at {}",
                bao.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // A KV version 1 engine at kv/, beside the dev server's KV version 2 at secret/.
        let (status, body) = bao.http(
            "POST",
            "/v1/sys/mounts/kv",
            r#"{"type":"kv","options":{"version":"1"}}"#,
        );
        assert!(status == 204 || status == 200, "mount kv: {status} {body}");
        bao
    }

    /// A dev server that speaks only TLS, with a CA of its own (`ca()` is its PEM file) and a
    /// transit key `tls`; returns it with that key's sops URI.
    pub fn start_tls() -> (Bao, String) {
        let bao = Bao::spawn(&["-dev-tls"], "https");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !bao.cli(&["status"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "OpenBao (TLS) did not start at {}",
                bao.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mounted = bao.cli(&["secrets", "enable", "transit"]);
        assert!(mounted.status.success(), "{mounted:?}");
        let made = bao.cli(&["write", "-f", "transit/keys/tls"]);
        assert!(made.status.success(), "{made:?}");
        let uri = format!("{}/v1/transit/keys/tls", bao.addr);
        (bao, uri)
    }

    /// A dev server on a free loopback port (`-dev-tls` writes its CA into its home).
    fn spawn(extra: &[&str], scheme: &str) -> Bao {
        let binary = binary();
        assert!(
            binary.exists(),
            "OpenBao is missing at {}: run scripts/install-tools.sh",
            binary.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let home = tempfile::tempdir().unwrap();
        let child = Command::new(&binary)
            .args(["server", "-dev", "-dev-root-token-id=root"])
            .args(extra)
            .arg(format!("-dev-tls-cert-dir={}", home.path().display()))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bao");
        Bao {
            child,
            addr: format!("{scheme}://127.0.0.1:{port}"),
            home,
        }
    }

    /// The CA certificate of a TLS dev server.
    pub fn ca(&self) -> std::path::PathBuf {
        self.home.path().join("vault-ca.pem")
    }

    /// Runs the `bao` command against this server (root token; the CA for TLS).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(binary())
            .args(args)
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", "root")
            .env("VAULT_CACERT", self.ca())
            .env("HOME", self.home.path())
            .output()
            .expect("run bao")
    }

    /// A transit engine at `transit/` with the key `name`; its sops URI.
    pub fn transit_key(&self, name: &str) -> String {
        let (status, _) = self.http("POST", "/v1/sys/mounts/transit", r#"{"type":"transit"}"#);
        assert!(
            status == 204 || status == 200 || status == 400,
            "mount transit: {status}"
        );
        let (status, body) = self.http("POST", &format!("/v1/transit/keys/{name}"), "{}");
        assert!(
            status == 204 || status == 200,
            "create key {name}: {status} {body}"
        );
        format!("{}/v1/transit/keys/{name}", self.addr)
    }

    /// A minimal HTTP/1.1 exchange: (status, body); status 0 when the server is not up yet.
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(self.addr.trim_start_matches("http://")) else {
            return (0, String::new());
        };
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        if s.write_all(req.as_bytes()).is_err() {
            return (0, String::new());
        }
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        let status = resp
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (status, body)
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.home.path();
    }
}
