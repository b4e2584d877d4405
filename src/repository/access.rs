//! Who can read a file: a key decrypts it alone, with keys of more groups (Shamir), or not.

use crate::metadata::Metadata;
use crate::review::names::Names;

/// What one key can do with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The key alone decrypts the file.
    Alone,
    /// The key holds shares of some groups; this many more groups are needed.
    WithMore(usize),
    /// The key is not a recipient.
    No,
}

impl Access {
    pub fn words(&self) -> String {
        match self {
            Access::Alone => "alone".into(),
            Access::WithMore(1) => "with one more group".into(),
            Access::WithMore(n) => format!("with {n} more groups"),
            Access::No => "no".into(),
        }
    }
}

/// Whether the key `who` (an identifier, or a name `.sops.yaml` gives one) can decrypt.
pub fn access(md: &Metadata, who: &str, names: &Names) -> Access {
    let holds = md
        .key_groups
        .iter()
        .filter(|g| {
            g.keys.iter().any(|k| {
                let id = k.display();
                id == who || names.name(&id) == Some(who)
            })
        })
        .count();
    let groups = md.key_groups.len();
    // sops compat: with several groups and no threshold, every group is needed.
    let needed = match (groups, md.shamir_threshold) {
        (0 | 1, _) => 1,
        (n, t) if t <= 0 => n,
        (_, t) => t as usize,
    };
    match holds {
        0 => Access::No,
        h if h >= needed => Access::Alone,
        h => Access::WithMore(needed - h),
    }
}
