//! The Python test servers for the cloud key services (`tests/servers/*.py`, built from each
//! service's official client library's message types): started on free loopback ports, with a
//! throwaway CA and a CONNECT proxy so unmodified clients (the real sops) reach them under the
//! service's public host name; stopped when dropped.

use super::{Sandbox, root};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A running test server: its ports by name and its state folder (ca.pem, credentials, the
/// proxy's log).
pub struct CloudServer {
    child: Child,
    /// Held open: the server exits when it closes (and stops its own children first).
    stdin: Option<ChildStdin>,
    ports: Vec<(String, u16)>,
    pub state: tempfile::TempDir,
}

impl CloudServer {
    /// Starts `tests/servers/{script}` with a fresh state folder and waits for its ports.
    pub fn start(script: &str) -> CloudServer {
        let python = root().join(".tools/venv/bin/python");
        assert!(
            python.exists(),
            "the test venv is missing at {}: run scripts/install-tools.sh",
            python.display()
        );
        let state = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(root().join("tests/servers").join(script))
            .arg(state.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the test server");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(!line.is_empty(), "{script} did not start");
        let ports = line
            .trim()
            .trim_matches(['{', '}'])
            .split(',')
            .map(|pair| {
                let (name, port) = pair.split_once(':').unwrap();
                (
                    name.trim().trim_matches('"').to_string(),
                    port.trim().parse().unwrap(),
                )
            })
            .collect();
        CloudServer {
            child,
            stdin: Some(stdin),
            ports,
            state,
        }
    }

    pub fn port(&self, name: &str) -> u16 {
        self.ports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no {name} port"))
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.state.path().join(name)
    }

    pub fn file_text(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    /// A sandbox whose programs trust the test CA and reach the service's public host names
    /// through the proxy (loopback addresses directly).
    pub fn sandbox(&self) -> Sandbox {
        Sandbox::new()
            .env("SSL_CERT_FILE", self.file("ca.pem").display().to_string())
            .env(
                "HTTPS_PROXY",
                format!("http://127.0.0.1:{}", self.port("proxy")),
            )
            .env("NO_PROXY", "127.0.0.1,localhost")
    }

    /// Runs a Python script of `tests/servers` with these arguments; asserts it succeeds.
    pub fn run_script(&self, script: &str, args: &[String]) -> String {
        let out = Command::new(root().join(".tools/venv/bin/python"))
            .arg(root().join("tests/servers").join(script))
            .args(args)
            .output()
            .expect("run the script");
        assert!(
            out.status.success(),
            "{script} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for CloudServer {
    fn drop(&mut self) {
        // Closing stdin lets the server stop what it started (kms_tls.py's moto_server); a
        // kill would orphan that. Killed after a few seconds all the same.
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
