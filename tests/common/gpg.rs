//! A private GnuPG home for tests that go through gpg (and sops's gpg path).

use super::fixture;
use std::path::Path;
use std::process::Command;

/// A private GnuPG home holding some of the test keys; its agent is stopped when dropped.
pub struct GpgHome {
    dir: tempfile::TempDir,
}

impl GpgHome {
    /// Imports `keys` (fixture names such as `rsa.sec.asc`).
    pub fn with(keys: &[&str]) -> GpgHome {
        // Short path: gpg-agent's socket path must stay under the Unix socket limit.
        let dir = tempfile::Builder::new()
            .prefix("gh")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let home = GpgHome { dir };
        for key in keys {
            let out = home
                .gpg()
                .args(["--batch", "--import"])
                .arg(fixture(&format!("pgp/{key}")))
                .output()
                .expect("gpg must be installed (scripts/install-tools.sh installs it)");
            assert!(
                out.status.success(),
                "gpg --import {key}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        home
    }

    pub fn gpg(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.dir.path());
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.dir.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}
