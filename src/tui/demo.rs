//! `sesame demo`: the bundled demo file, copied into a private temporary folder (the tracked
//! copy is never touched), opened with the bundled demo age key (public on purpose: it
//! protects nothing but the demo). Zero setup for a first look at the editor.

use crate::env::FixedEnv;
use crate::keys::groups::KeySources;
use std::path::{Path, PathBuf};

/// The demo file as shipped.
pub const FILE: &[u8] = include_bytes!("../../assets/demo.sops.yaml");
/// The demo identity.
pub const KEY: &str = include_str!("../../assets/demo.agekey");
/// The name the demo file goes by.
pub const NAME: &str = "demo.sops.yaml";

/// A private copy of the demo file; the folder is removed on drop.
pub struct Demo {
    dir: PathBuf,
    pub path: PathBuf,
}

impl Demo {
    /// Copies the demo file into a new folder only this user can read.
    pub fn prepare() -> std::io::Result<Demo> {
        let base = std::env::temp_dir();
        let mut attempt = 0u32;
        let dir = loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let dir = base.join(format!(
                "sesame-demo-{}-{nanos:x}-{attempt}",
                std::process::id()
            ));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            match builder.create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1
                }
                Err(e) => return Err(e),
            }
        };
        let path = dir.join(NAME);
        crate::fs::write_atomic(&path, FILE)?;
        Ok(Demo { dir, path })
    }

    /// Key sources holding only the demo key: nothing from the user's environment is read.
    pub fn sources(&self) -> KeySources {
        let mut env = FixedEnv::default();
        env.0.insert("SOPS_AGE_KEY".into(), KEY.into());
        KeySources::new(Box::new(env))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
