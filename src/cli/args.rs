//! Command-line syntax: sops's subcommands and flags (global flags may come before the
//! subcommand or after it), with sops's environment variable defaults.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "sesame",
    version,
    about = "Edit, encrypt and decrypt SOPS files: a terminal editor and a drop-in sops command line",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub flags: Flags,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `sesame keyservice`'s options (sops's).
#[derive(Args, Debug)]
pub struct KeyserviceArgs {
    /// Network to listen on: tcp or unix.
    #[arg(long, visible_alias = "net", default_value = "tcp")]
    pub network: String,
    /// Address to listen on: HOST:PORT for tcp, a socket path for unix.
    #[arg(long, visible_alias = "addr", default_value = "127.0.0.1:5000")]
    pub address: String,
    /// Ask on the terminal before answering each request.
    #[arg(long)]
    pub prompt: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file and print the result (stdin when no file is given).
    Encrypt(FileArgs),
    /// Decrypt a file and print the result (stdin when no file is given).
    Decrypt(FileArgs),
    /// Print whether a file is encrypted with sops: {"encrypted":true|false}.
    Filestatus(FileArgs),
    /// Set the value at a path, e.g. `sesame set f.yaml '["db"]["user"]' '"admin"'` (JSON value).
    Set(SetArgs),
    /// Remove the value at a path.
    Unset(UnsetArgs),
    /// Edit a file in the terminal editor (also `sesame FILE`; `sesame DIR` opens the
    /// repository view).
    Edit(FileArgs),
    /// Open a bundled demo file in the editor, with its bundled key (a private copy; nothing to set up).
    Demo,
    /// Generate a new data key and encrypt every value again, optionally adding or removing keys.
    Rotate(Box<RotateArgs>),
    /// Apply the matching `.sops.yaml` creation rule's keys to existing files (shows the
    /// recipient changes and asks first unless --yes).
    Updatekeys(UpdatekeysArgs),
    /// Publish a file (or with --recursive a folder) to the destination its `.sops.yaml`
    /// destination rule names (Vault/OpenBao KV).
    Publish(PublishArgs),
    /// Add or delete a key group (the data key is re-wrapped; values are untouched).
    Groups {
        #[command(subcommand)]
        command: GroupsCommand,
    },
    /// Run a command (through /bin/sh -c) with the file's top-level values in its environment.
    ExecEnv(ExecEnvArgs),
    /// Run a command with the decrypted file at a temporary path ({} in the command).
    ExecFile(ExecFileArgs),
    /// Serve sops's key service protocol with this machine's keys (for `--keyservice`).
    Keyservice(KeyserviceArgs),
    /// Print a shell completion script: bash, zsh or fish.
    Completion {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Show what changed between two revisions of a sops file, value by value, with or without
    /// a key: `sesame diff OLD NEW` (files or Git `REV:path`), `sesame diff FILE` (index vs
    /// working tree), `sesame diff --rev A..B FILE`.
    Diff(DiffArgs),
    /// Merge two revisions of a sops file with their common ancestor, reusing ciphertext
    /// (exit 1 on a conflict, with the places listed and no value shown).
    Merge(MergeArgs),
    /// Git integration: set up the diff and merge drivers, check them, resolve a conflict.
    Git {
        #[command(subcommand)]
        command: GitCommand,
    },
    /// List the sops files under the paths (default: here), found by content: format,
    /// recipients, the creation rule that covers each, the data key's age.
    Ls(RepoArgs),
    /// Check every sops file (and every file a creation rule covers) without a key: exit 1 on
    /// an error or warning. For pre-commit hooks and CI.
    Check(CheckArgs),
    /// Who can decrypt which file: alone, with more groups (Shamir), or not; with --history,
    /// also former recipients who can still unwrap the current data key from Git history.
    Access(AccessArgs),
    /// Each sops file's data key age, former recipients and timeline, from Git history (no
    /// key needed).
    Audit(RepoArgs),
    /// Remove a key from every sops file under the paths and replace the data keys it held
    /// (including files it left without a rotation): one table, one question, parallel writes.
    Offboard(OffboardArgs),
    /// Print a stable text view of a sops file for Git's textconv (values hidden unless
    /// SESAME_TEXTCONV_VALUES=1 and a key is at hand).
    Textconv {
        /// The file Git passes.
        file: String,
    },
    /// Clears the clipboard after `decrypt --clip` (run by it, detached; reads what to clear
    /// from stdin).
    #[command(hide = true)]
    ClipClear,
    /// Git's external diff interface (diff.sesame.command): PATH OLD-FILE OLD-HEX OLD-MODE
    /// NEW-FILE NEW-HEX NEW-MODE.
    #[command(hide = true)]
    GitDiff {
        #[arg(num_args = 1..=9)]
        args: Vec<String>,
    },
    /// Store, list and remove age identities in the OS keyring.
    #[command(long_about = crate::cli::identity::ABOUT)]
    Identity {
        #[command(subcommand)]
        command: crate::cli::identity::IdentityCommand,
    },
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// OLD and NEW (files or `REV:path`), or one file to compare with the index (or with
    /// --rev).
    #[arg(num_args = 1..=2, required = true)]
    pub files: Vec<String>,
    /// Revisions: `A..B` compares A with B, `A` compares A with the working tree.
    #[arg(long)]
    pub rev: Option<String>,
    /// Output: human, json or markdown.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "markdown"])]
    pub format: String,
    /// Print the values themselves (with a key). Off by default: values are masked.
    #[arg(long)]
    pub show_values: bool,
    /// Exit 1 on a value now stored in plain text, a recipient removed while the data key
    /// stayed, or a file that no longer matches its `.sops.yaml` rule.
    #[arg(long)]
    pub check: bool,
    /// Compare by what is stored only, without trying to decrypt.
    #[arg(long)]
    pub no_decrypt: bool,
    /// Colours: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

#[derive(Args, Debug)]
pub struct RepoArgs {
    /// Files and folders (default: the working folder).
    pub paths: Vec<String>,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Threads reading files (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files and folders (default: the working folder).
    pub paths: Vec<String>,
    /// Output: text, json or sarif (SARIF 2.1.0, for code scanning).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
    pub format: String,
    /// Threads reading files (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Also decrypt each file this machine can and verify its MAC.
    #[arg(long)]
    pub verify_mac: bool,
    /// A key (identifier or .sops.yaml name) every sops file must have; repeatable.
    #[arg(long, value_name = "KEY")]
    pub require: Vec<String>,
    /// A key no sops file may have; repeatable.
    #[arg(long, value_name = "KEY")]
    pub forbid: Vec<String>,
    /// The oldest a data key may be, e.g. 180d (from Git history).
    #[arg(long, value_name = "AGE")]
    pub max_data_key_age: Option<String>,
}

#[derive(Args, Debug)]
pub struct OffboardArgs {
    /// The key: an identifier (age1…, a fingerprint, an ARN…) or a .sops.yaml name.
    pub key: String,
    /// Files and folders (default: the working folder).
    pub paths: Vec<String>,
    /// Apply without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the changes and exit 1 if there are any; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Files written at once (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
}

#[derive(Args, Debug)]
pub struct AccessArgs {
    /// Files and folders (default: the working folder).
    pub paths: Vec<String>,
    /// Only this key: an identifier (age1…, a fingerprint, an ARN…) or a .sops.yaml name.
    #[arg(long, value_name = "KEY")]
    pub who: Option<String>,
    /// Add former recipients who still hold the current data key through Git history.
    #[arg(long)]
    pub history: bool,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The common ancestor.
    pub base: String,
    /// Our revision.
    pub ours: String,
    /// Their revision.
    pub theirs: String,
    /// Where the result goes (default: stdout). Use --output.
    #[arg(short = 'o', hide = true)]
    pub out: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum GitCommand {
    /// Write `.gitattributes` entries for the sops files and this repository's Git config for
    /// the textconv, diff and merge drivers.
    Setup {
        /// Write the driver config into the user's Git config instead of the repository's.
        #[arg(long)]
        global: bool,
        /// The command Git runs (default: this sesame's absolute path).
        #[arg(long)]
        command: Option<String>,
    },
    /// Check the drivers: config, command, attributes of every sops file, textconv caching.
    Doctor,
    /// Git's merge driver: `sesame git merge-driver %O %A %B %P` (writes the result to %A).
    MergeDriver {
        base: String,
        ours: String,
        theirs: String,
        path: Option<String>,
    },
    /// Merge a file that Git left in conflict (reads the index stages) and stage the result.
    Resolve {
        /// The conflicted file.
        path: String,
    },
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The encrypted file (with --all: a folder, default the working folder).
    pub file: Option<String>,
    /// Every sops file under the folder: one list, one question, parallel atomic writes.
    #[arg(long)]
    pub all: bool,
    /// With --all: rotate without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// With --all: list the files and exit 1 if there are any; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --all: files written at once (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// age recipients to add to the first group, comma separated.
    #[arg(long)]
    pub add_age: Option<String>,
    /// age recipients to remove from every group, comma separated.
    #[arg(long)]
    pub rm_age: Option<String>,
    /// PGP fingerprints to add to the first group.
    #[arg(long)]
    pub add_pgp: Option<String>,
    /// PGP fingerprints to remove.
    #[arg(long)]
    pub rm_pgp: Option<String>,
    /// AWS KMS ARNs to add to the first group.
    #[arg(long)]
    pub add_kms: Option<String>,
    /// AWS KMS ARNs to remove.
    #[arg(long)]
    pub rm_kms: Option<String>,
    /// GCP KMS resource ids to add to the first group.
    #[arg(long)]
    pub add_gcp_kms: Option<String>,
    /// GCP KMS resource ids to remove.
    #[arg(long)]
    pub rm_gcp_kms: Option<String>,
    /// Azure Key Vault key URLs to add to the first group.
    #[arg(long)]
    pub add_azure_kv: Option<String>,
    /// Azure Key Vault key URLs to remove.
    #[arg(long)]
    pub rm_azure_kv: Option<String>,
    /// Vault transit URIs to add to the first group.
    #[arg(long)]
    pub add_hc_vault_transit: Option<String>,
    /// Vault transit URIs to remove.
    #[arg(long)]
    pub rm_hc_vault_transit: Option<String>,
    /// HuaweiCloud KMS key ids to add to the first group.
    #[arg(long)]
    pub add_hckms: Option<String>,
    /// HuaweiCloud KMS key ids to remove.
    #[arg(long)]
    pub rm_hckms: Option<String>,
}

#[derive(Args, Debug)]
pub struct UpdatekeysArgs {
    /// The encrypted files (with --all: files and folders, default the working folder).
    #[arg(required = false)]
    pub files: Vec<String>,
    /// Apply the changes without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Every sops file under the paths: one table of changes, one question, parallel writes.
    #[arg(long)]
    pub all: bool,
    /// With --all: show the changes and exit 1 if there are any; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --all: also replace the data key of files that lose a recipient.
    #[arg(long)]
    pub rotate: bool,
    /// With --all: files written at once (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// With --all: a folder to update too (as a PATH); repeatable.
    #[arg(short = 'r', long = "recursive", value_name = "DIR")]
    pub recursive: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The encrypted file, or a folder with --recursive.
    pub file: Option<String>,
    /// Publish without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Leave file extensions out of the destination path.
    #[arg(long)]
    pub omit_extensions: bool,
    /// Publish every file under a folder.
    #[arg(long)]
    pub recursive: bool,
}

#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// Add a group made of the keys given with --age, --pgp, --kms, ... (before or after `add`).
    Add {
        /// The encrypted file.
        #[arg(short = 'f', long)]
        file: String,
    },
    /// Delete the group at INDEX (0-based).
    Delete {
        /// The encrypted file.
        #[arg(short = 'f', long)]
        file: String,
        /// Which group.
        index: usize,
    },
}

#[derive(Args, Debug)]
pub struct ExecEnvArgs {
    /// FILE 'COMMAND'.
    pub args: Vec<String>,
    /// Give the command only the decrypted values, not this environment.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub pristine: Option<bool>,
    /// Run the command as this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Replace this process with the command instead of running a child.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub same_process: Option<bool>,
    /// Do not wait for the command (deprecated in sops).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub background: Option<bool>,
}

#[derive(Args, Debug)]
pub struct ExecFileArgs {
    /// FILE 'COMMAND'.
    pub args: Vec<String>,
    /// Use a private temporary file (removed afterwards) instead of a FIFO.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub no_fifo: Option<bool>,
    /// Name of the temporary file (default tmp-file).
    #[arg(long)]
    pub filename: Option<String>,
    /// Run the command as this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Do not wait for the command (deprecated in sops).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub background: Option<bool>,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// FILE PATH VALUE (VALUE is JSON; with --value-stdin only FILE PATH).
    pub args: Vec<String>,
    /// VALUE is the name of a file holding the JSON value.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub value_file: Option<bool>,
    /// Read the JSON value from stdin.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub value_stdin: Option<bool>,
    /// Do not write the file when the value is already set.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub idempotent: Option<bool>,
}

#[derive(Args, Debug)]
pub struct UnsetArgs {
    /// FILE PATH.
    pub args: Vec<String>,
    /// A missing key is not an error.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub idempotent: Option<bool>,
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// The file (omit to read stdin).
    pub file: Option<String>,
    /// Extra arguments sops would ignore with a warning.
    #[arg(hide = true, trailing_var_arg = false)]
    pub extra: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct Flags {
    /// Write the result back to the input file.
    #[arg(short = 'i', long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub in_place: Option<bool>,
    /// Write the result to this file instead of stdout.
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<String>,
    /// Decrypt only the value at this path, e.g. '["db"]["password"]'.
    #[arg(long, global = true, value_name = "PATH")]
    pub extract: Option<String>,
    /// With decrypt --extract: put the value on the clipboard through the terminal (OSC 52)
    /// instead of printing it; it is cleared after SESAME_CLIP_TIME seconds (45).
    #[arg(long, global = true)]
    pub clip: bool,
    /// Format of the input: yaml, json, dotenv, ini or binary (default: from the extension).
    #[arg(long, global = true, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Format of the output (default: from the extension).
    #[arg(long, global = true, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Use this file name for format detection and creation rules (e.g. for stdin).
    #[arg(long, global = true, value_name = "NAME")]
    pub filename_override: Option<String>,
    /// Editor: mark what changed since this Git revision (a commit, branch or tag).
    #[arg(long, global = true, value_name = "REV")]
    pub against: Option<String>,
    /// Decrypt even if the MAC does not match (the file may have been tampered with).
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub ignore_mac: Option<bool>,
    /// Compute the MAC over encrypted values only.
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub mac_only_encrypted: Option<bool>,

    /// age recipients, comma separated.
    #[arg(
        short = 'a',
        long,
        global = true,
        env = "SOPS_AGE_RECIPIENTS",
        value_name = "RECIPIENTS"
    )]
    pub age: Option<String>,
    /// PGP fingerprints, comma separated.
    #[arg(
        short = 'p',
        long,
        global = true,
        env = "SOPS_PGP_FP",
        value_name = "FPS"
    )]
    pub pgp: Option<String>,
    /// AWS KMS ARNs (arn or arn+role), comma separated.
    #[arg(
        short = 'k',
        long,
        global = true,
        env = "SOPS_KMS_ARN",
        value_name = "ARNS"
    )]
    pub kms: Option<String>,
    /// GCP KMS resource ids, comma separated.
    #[arg(long, global = true, env = "SOPS_GCP_KMS_IDS", value_name = "IDS")]
    pub gcp_kms: Option<String>,
    /// Azure Key Vault key URLs, comma separated.
    #[arg(
        long,
        global = true,
        env = "SOPS_AZURE_KEYVAULT_URLS",
        value_name = "URLS"
    )]
    pub azure_kv: Option<String>,
    /// Vault transit key URIs, comma separated.
    #[arg(long, global = true, env = "SOPS_VAULT_URIS", value_name = "URIS")]
    pub hc_vault_transit: Option<String>,
    /// HuaweiCloud KMS key ids, comma separated.
    #[arg(
        long,
        global = true,
        env = "SOPS_HUAWEICLOUD_KMS_IDS",
        value_name = "IDS"
    )]
    pub hckms: Option<String>,
    /// AWS profile for the KMS keys.
    #[arg(long, global = true, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context, k1:v1,k2:v2.
    #[arg(long, global = true, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,

    /// Leave values under keys with this suffix unencrypted.
    #[arg(long, global = true, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only values under keys with this suffix.
    #[arg(long, global = true, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Leave values under keys matching this regex unencrypted.
    #[arg(long, global = true, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values under keys matching this regex.
    #[arg(long, global = true, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
    /// Leave values after a comment matching this regex unencrypted.
    #[arg(long, global = true, value_name = "REGEX")]
    pub unencrypted_comment_regex: Option<String>,
    /// Encrypt only values after a comment matching this regex.
    #[arg(long, global = true, value_name = "REGEX")]
    pub encrypted_comment_regex: Option<String>,

    /// Number of key groups needed to decrypt.
    #[arg(long, global = true, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<i64>,
    /// Indentation of YAML and JSON output.
    #[arg(long, global = true, value_name = "N", allow_negative_numbers = true)]
    pub indent: Option<i64>,
    /// Editor presentation mode: values are never revealed, copied or shown for editing.
    #[arg(long, global = true)]
    pub no_reveal: bool,
    /// Editor colour theme: dark, light or high-contrast (NO_COLOR turns colours off).
    #[arg(long, global = true, env = "SESAME_THEME", value_name = "NAME")]
    pub theme: Option<String>,
    /// Path of the .sops.yaml to use (default: searched from the current folder upward).
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "PATH")]
    pub config: Option<String>,
    /// Key types to try first when decrypting, comma separated (default: age,pgp).
    #[arg(
        long,
        global = true,
        env = "SOPS_DECRYPTION_ORDER",
        value_name = "TYPES"
    )]
    pub decryption_order: Option<String>,

    /// Log more (accepted for sops compatibility).
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub verbose: Option<bool>,
    /// Accepted for sops compatibility; sesame never checks for updates over the network.
    #[arg(long, global = true, env = "SOPS_DISABLE_VERSION_CHECK", num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool, hide = true)]
    pub disable_version_check: Option<bool>,
    /// Use this machine's keys (default true; =false uses only the --keyservice ones).
    #[arg(long, global = true, env = "SOPS_ENABLE_LOCAL_KEYSERVICE", num_args = 0..=1, default_missing_value = "true", require_equals = true, value_parser = go_bool)]
    pub enable_local_keyservice: Option<bool>,
    /// A sops key service to use after the local keys: tcp://HOST:PORT or unix:///PATH
    /// (repeatable; SOPS_KEYSERVICE takes a comma-separated list).
    #[arg(
        long,
        global = true,
        env = "SOPS_KEYSERVICE",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub keyservice: Vec<String>,

    /// Key flags whose value came from an environment variable rather than the command line
    /// (commands that change recipients ignore those).
    #[arg(skip)]
    pub from_env: Vec<&'static str>,
}

/// The key flags that have environment defaults, by argument id.
pub const KEY_FLAGS: [&str; 7] = [
    "age",
    "pgp",
    "kms",
    "gcp_kms",
    "azure_kv",
    "hc_vault_transit",
    "hckms",
];

impl Flags {
    /// A copy of the key flags only.
    pub fn clone_keys(&self) -> Flags {
        Flags {
            age: self.age.clone(),
            pgp: self.pgp.clone(),
            kms: self.kms.clone(),
            gcp_kms: self.gcp_kms.clone(),
            azure_kv: self.azure_kv.clone(),
            hc_vault_transit: self.hc_vault_transit.clone(),
            hckms: self.hckms.clone(),
            aws_profile: self.aws_profile.clone(),
            encryption_context: self.encryption_context.clone(),
            ..Flags::default()
        }
    }

    /// Forgets one key flag (by argument id).
    pub fn clear_key(&mut self, id: &str) {
        match id {
            "age" => self.age = None,
            "pgp" => self.pgp = None,
            "kms" => self.kms = None,
            "gcp_kms" => self.gcp_kms = None,
            "azure_kv" => self.azure_kv = None,
            "hc_vault_transit" => self.hc_vault_transit = None,
            "hckms" => self.hckms = None,
            _ => {}
        }
    }
}

/// Boolean flags take `--flag` or `--flag=true|false`, as sops's do.
pub fn on(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

/// sops compat: flag and variable values parse like Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Result<bool, String> {
    sesame::gotext::parse_bool(s).ok_or_else(|| format!("{s:?} is not a boolean (true or false)"))
}

/// The arguments with sops's legacy forms turned into subcommands: `-e`/`--encrypt`,
/// `-d`/`--decrypt`, `-r`/`--rotate` and `--set 'PATH VALUE'` before the file, and a bare
/// `sops [flags] FILE`, which edits. When several modes are given the strongest wins
/// (set > rotate > decrypt > encrypt), as in sops.
pub fn with_legacy_forms(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    use std::ffi::OsString;
    let cmd = Cli::command();
    let takes_value = |flag: &str| -> bool {
        let name = flag.trim_start_matches('-');
        if flag.contains('=') {
            return false;
        }
        cmd.get_arguments().any(|a| {
            let matches = if flag.starts_with("--") {
                a.get_long() == Some(name)
            } else {
                name.len() == 1 && a.get_short() == name.chars().next()
            };
            matches
                && a.get_action().takes_values()
                && a.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
    };
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 2);
    let mut modes: Vec<&str> = Vec::new();
    let mut set_value: Option<String> = None;
    let mut iter = args.into_iter();
    if let Some(program) = iter.next() {
        out.push(program);
    }
    let rest: Vec<OsString> = iter.collect();
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i].to_string_lossy().into_owned();
        match arg.as_str() {
            "-e" | "--encrypt" => modes.push("encrypt"),
            "-d" | "--decrypt" => modes.push("decrypt"),
            "-r" | "--rotate" => modes.push("rotate"),
            "--set" => {
                modes.push("set");
                set_value = rest.get(i + 1).map(|v| v.to_string_lossy().into_owned());
                i += 1;
            }
            _ if arg.starts_with("--set=") => {
                modes.push("set");
                set_value = Some(arg["--set=".len()..].to_string());
            }
            "--" => {
                out.extend(rest[i..].iter().cloned());
                break;
            }
            _ if arg.starts_with('-') && arg.len() > 1 => {
                out.push(rest[i].clone());
                if takes_value(&arg) {
                    if let Some(v) = rest.get(i + 1) {
                        out.push(v.clone());
                    }
                    i += 1;
                }
            }
            _ => {
                if modes.is_empty() && cmd.get_subcommands().any(|s| s.get_name() == arg) {
                    out.extend(rest[i..].iter().cloned());
                    return out;
                }
                // The first positional argument is the file. The mode goes right after the program
                // name, so mode-specific flags given before the file (`-r --add-age X f`) follow it.
                let mode = ["set", "rotate", "decrypt", "encrypt"]
                    .into_iter()
                    .find(|m| modes.contains(m))
                    .unwrap_or("edit");
                if modes.len() > 1 {
                    eprintln!(
                        "[CMD]\tWARN\tseveral modes given ({}); only {mode} takes effect",
                        modes.join(", ")
                    );
                }
                out.insert(1, mode.into());
                out.extend(rest[i..].iter().cloned());
                if mode == "set" {
                    // sops compat: --set takes 'PATH VALUE', split after the first "] ".
                    let value = set_value.unwrap_or_default();
                    match value.split_once("] ") {
                        Some((path, json)) => {
                            out.push(format!("{path}]").into());
                            out.push(json.into());
                        }
                        None => out.push(value.into()),
                    }
                }
                return out;
            }
        }
        i += 1;
    }
    if !modes.is_empty() {
        // A mode without a file: the subcommand reports what is missing (or reads stdin).
        let mode = ["set", "rotate", "decrypt", "encrypt"]
            .into_iter()
            .find(|m| modes.contains(m))
            .unwrap_or("edit");
        out.insert(1, mode.into());
    }
    out
}
