//! The command line: sops's subcommands over the `sesame` library.

pub mod args;
pub mod completion;
pub mod context;
pub mod decrypt;
pub mod diff;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod exit;
pub mod filestatus;
pub mod git;
pub mod groups;
pub mod identity;
#[cfg(feature = "keyservice")]
pub mod keyservice;
pub mod merge;
#[cfg(feature = "publish")]
pub mod publish;
pub mod recipients;
pub mod repo;
pub mod revisions;
pub mod rotate;
pub mod set;
pub mod updatekeys;
