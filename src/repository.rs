//! Every sops file of a repository at once, for the CLI's `ls`, `check`, `access`, `audit` and
//! `updatekeys --all`: finding the files by content, checking them against `.sops.yaml`
//! without a key, who can read what, and what Git history says about each data key.

pub mod access;
pub mod bulk;
pub mod check;
pub mod keyage;
pub mod scan;
pub mod timeline;
