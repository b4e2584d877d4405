//! What every subcommand shares: input and output files, formats, the config, key sources,
//! and turning core errors into sops's messages and exit codes.

use crate::cli::args::{Flags, on};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::config::{self, Config};
use sesame::document::{DecryptError, Document, Layout, OpenError, OpenOptions};
use sesame::env::ProcessEnv;
use sesame::keys::KeyKind;
use sesame::keys::groups::KeySources;
use sesame::keys::plan::Plan;
use sesame::metadata::MetadataError;
use sesame::secret::PlainBuffer;
use sesame::store::{EmitOptions, Format, StoreError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The input a subcommand works on.
pub struct Input {
    /// The file given, absolute; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The name used for format detection and creation rules (`--filename-override`).
    pub name: Option<PathBuf>,
    /// Held from before the file is read until the command ends, when it writes the file back.
    lock: Option<sesame::fs::UpdateLock>,
}

impl Input {
    /// Resolves the file argument: stdin when absent; a missing file is exit 100.
    pub fn resolve(file: Option<&str>, flags: &Flags) -> CliResult<Input> {
        let path = match file {
            None => None,
            Some(f) => {
                let abs = config::absolute(Path::new(f));
                if !abs.exists() {
                    return Err(Failure::new(
                        code::NO_FILE_SPECIFIED,
                        format!(
                            "Error: cannot operate on non-existent file {:?}",
                            abs.display().to_string()
                        ),
                    ));
                }
                Some(abs)
            }
        };
        let name = match &flags.filename_override {
            Some(n) if !n.is_empty() => Some(config::absolute(Path::new(n))),
            _ => path.clone(),
        };
        Ok(Input {
            path,
            name,
            lock: None,
        })
    }

    /// A file that is about to be created (`sesame edit NEW`): not read, so it need not exist.
    pub fn new_file(file: &str, flags: &Flags) -> Input {
        let path = config::absolute(Path::new(file));
        let name = match &flags.filename_override {
            Some(n) if !n.is_empty() => config::absolute(Path::new(n)),
            _ => path.clone(),
        };
        Input {
            path: Some(path),
            name: Some(name),
            lock: None,
        }
    }

    /// Takes the update lock before the file is read, for a command that writes it back, so
    /// no concurrent sesame writer's change is lost.
    pub fn lock_for_update(&mut self) -> CliResult {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.lock.is_none() {
            self.lock = sesame::fs::lock_for_update(path).map_err(|e| {
                Failure::new(
                    code::COULD_NOT_WRITE_OUTPUT_FILE,
                    format!("could not lock {} for writing: {e}", path.display()),
                )
            })?;
        }
        Ok(())
    }

    pub fn is_stdin(&self) -> bool {
        self.path.is_none()
    }

    /// A name for messages.
    pub fn display(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "<stdin>".into(),
        }
    }

    /// Reads the whole input (exit 2 on failure).
    pub fn read(&self) -> CliResult<Vec<u8>> {
        match &self.path {
            Some(p) => std::fs::read(p).map_err(|e| {
                Failure::new(
                    code::COULD_NOT_READ_INPUT_FILE,
                    format!("Error reading file {}: {e}", p.display()),
                )
            }),
            None => {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                    Failure::new(
                        code::COULD_NOT_READ_INPUT_FILE,
                        format!("Error reading from stdin: {e}"),
                    )
                })?;
                Ok(buf)
            }
        }
    }

    /// The format named by `flag`, else by the file name; binary without a name.
    pub fn format(&self, flag: Option<&str>) -> Format {
        if let Some(f) = flag.and_then(Format::from_name) {
            return f;
        }
        match &self.name {
            Some(n) => Format::from_path(&n.to_string_lossy()),
            None => Format::Binary,
        }
    }
}

/// sops compat: `-i` with stdin, and `-i` with `--output`, are exit 8.
pub fn check_output_flags(flags: &Flags, input: &Input) -> CliResult {
    if input.is_stdin() && on(flags.in_place) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: cannot use --in-place when reading from stdin",
        ));
    }
    if on(flags.in_place) && flags.output.as_deref().is_some_and(|o| !o.is_empty()) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: cannot operate on both --output and --in-place",
        ));
    }
    Ok(())
}

/// Writes a result where the flags say: back in place, `--output`, or stdout. Files are written
/// atomically and only once the whole output exists.
pub fn write_result(flags: &Flags, input: &Input, bytes: &[u8]) -> CliResult {
    write_result_with(flags, input, |out| out.write_all(bytes))
}

/// `write_result` of what `write` writes as it makes it (see `sesame::fs::write_atomic_with`).
pub fn write_result_with(
    flags: &Flags,
    input: &Input,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> CliResult {
    let target = if on(flags.in_place) {
        input.path.clone()
    } else {
        flags
            .output
            .as_deref()
            .filter(|o| !o.is_empty())
            .map(PathBuf::from)
    };
    match target {
        Some(path) => write_file_with(&path, write, |e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("Could not write output file {}: {e}", path.display()),
            )
        }),
        None => {
            let mut out = std::io::BufWriter::with_capacity(
                sesame::fs::WRITE_BUFFER,
                std::io::stdout().lock(),
            );
            match write(&mut out).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::new(
                    code::GENERIC,
                    format!("Could not write to stdout: {e}"),
                )),
            }
        }
    }
}

/// Writes a file atomically (`sesame::fs::write_atomic`), with a warning on stderr for what
/// could not be kept (owner, hard links); `failure` words an error.
pub fn write_file(
    path: &Path,
    bytes: &[u8],
    failure: impl FnOnce(std::io::Error) -> Failure,
) -> CliResult {
    write_file_with(path, |out| out.write_all(bytes), failure)
}

/// `write_file` of what `write` writes as it makes it.
fn write_file_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    failure: impl FnOnce(std::io::Error) -> Failure,
) -> CliResult {
    for note in sesame::fs::write_atomic_with(path, write).map_err(failure)? {
        eprintln!("warning: {note}");
    }
    Ok(())
}

/// sops compat: a key change that leaves this machine unable to decrypt the file still goes
/// ahead (scripts hand files over to other keys), with a warning naming who still can.
pub fn warn_if_locked_out(plan: &Plan, sources: &KeySources, input: &Input) {
    if plan.locks_out(|k| sources.availability(k).usable()) {
        eprintln!("warning: {}", plan.lockout_warning(&input.display()));
    }
}

/// The creation rule of `config` that matches the file named `name` (none without a config).
pub fn creation_rule<'c>(
    config: Option<&'c Config>,
    name: &Path,
) -> CliResult<Option<&'c config::CreationRule>> {
    config
        .map(|c| c.rule_for(name))
        .transpose()
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))
        .map(Option::flatten)
}

/// Where `.sops.yaml` is looked for: `--config`/`SOPS_CONFIG`, or upward from the working
/// folder.
pub fn config_search(flags: &Flags) -> config::ConfigSearch {
    config::ConfigSearch {
        explicit: flags
            .config
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(PathBuf::from),
        start: Some(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    }
}

/// Loads `.sops.yaml` (from `--config`/`SOPS_CONFIG` or searched upward from the working
/// folder). A config that exists but cannot be read fails every command, as in sops.
pub fn load_config(flags: &Flags) -> CliResult<Option<Config>> {
    let config = config_search(flags)
        .load()
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
    if let Some(alt) = config.as_ref().and_then(|c| c.ignored_alternate.as_ref()) {
        eprintln!(
            "[CMD]\tWARN\tignoring {:?} when searching for config file; the config file must be called \".sops.yaml\"",
            alt.display().to_string()
        );
    }
    Ok(config)
}

/// Output settings: `--indent` over `.sops.yaml` stores over the defaults. As in sops 3.13,
/// `--indent` counts for every subcommand that writes a file or plaintext (sops 3.11 and 3.12
/// ignored it after a subcommand name), and wins over a file's own indentation.
pub fn emit_options(config: Option<&Config>, flags: &Flags) -> EmitOptions {
    let mut opts = store_options(config);
    if let Some(i) = flags.indent {
        opts.yaml_indent = i;
        opts.json_indent = i;
        opts.json_binary_indent = i;
        opts.indent_given = true;
    }
    opts
}

/// Output settings from `.sops.yaml` stores alone: sops's `updatekeys` and `publish` write with
/// these, without `--indent`.
pub fn store_options(config: Option<&Config>) -> EmitOptions {
    config.map(|c| c.stores).unwrap_or_default()
}

/// The layout of a new file: sops 3.11's unless `SESAME_LAYOUT=3.13` asks for sops 3.13's
/// (sorted metadata, inline comments kept inline).
pub fn new_file_layout() -> CliResult<Layout> {
    match std::env::var("SESAME_LAYOUT") {
        Err(_) => Ok(Layout::default()),
        Ok(name) if name.is_empty() => Ok(Layout::default()),
        Ok(name) => Layout::from_name(&name).ok_or_else(|| {
            Failure::new(
                code::GENERIC,
                format!("SESAME_LAYOUT={name:?} is not a layout sesame writes"),
            )
            .hint("use 3.11 (sops 3.11's layout, the default) or 3.13 (sorted metadata, inline comments)")
        }),
    }
}

/// The key sources, with `--decryption-order` applied (a repeated type is exit 112).
pub fn key_sources(flags: &Flags, input: &Input) -> CliResult<KeySources> {
    let mut sources = KeySources::new(Box::new(ProcessEnv));
    // A repository's `.sops.pub.asc` sits beside the files or in a parent folder.
    let file_dir = input
        .path
        .as_ref()
        .or(input.name.as_ref())
        .and_then(|p| std::path::absolute(p).ok())
        .and_then(|p| p.parent().map(|d| d.to_path_buf()));
    sources.pgp_search_dirs = file_dir
        .into_iter()
        .chain(std::env::current_dir().ok())
        .collect();
    if let Some(order) = flags.decryption_order.as_deref().filter(|o| !o.is_empty()) {
        let mut kinds = Vec::new();
        for name in order.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let kind = KeyKind::from_field(name).ok_or_else(|| {
                Failure::new(code::GENERIC, format!("unknown key type {name:?} in decryption order"))
                    .hint("use comma-separated key types: age, pgp, kms, gcp_kms, azure_kv, hc_vault, hckms")
            })?;
            if kinds.contains(&kind) {
                return Err(Failure::new(
                    code::DUPLICATE_DECRYPTION_KEY_TYPE,
                    format!("Duplicate decryption key type: {name}"),
                ));
            }
            kinds.push(kind);
        }
        sources.decryption_order = kinds;
    }
    let local = flags.enable_local_keyservice.unwrap_or(true);
    let uris: Vec<String> = flags
        .keyservice
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    #[cfg(feature = "keyservice")]
    sources
        .use_key_services(&uris, local)
        .map_err(|e| Failure::new(code::GENERIC, e))?;
    #[cfg(not(feature = "keyservice"))]
    if !uris.is_empty() || !local {
        return Err(not_built_in("keyservice", "--keyservice"));
    }
    Ok(sources)
}

/// The failure of something this build leaves out (a cargo feature of the default build).
#[cfg(not(all(feature = "keyservice", feature = "publish")))]
pub fn not_built_in(feature: &str, what: &str) -> Failure {
    Failure::new(
        code::GENERIC,
        format!("{what} is not in this build of sesame (cargo feature {feature})"),
    )
    .hint("build sesame with its default features: cargo install --path . (or cargo build)")
}

/// An encrypted file opened by a subcommand, with what it was opened with.
pub struct Opened {
    pub input: Input,
    pub doc: Document,
    pub emit: EmitOptions,
    pub sources: KeySources,
}

/// Loads the config and key sources, reads `input` and decrypts it (MAC checked unless
/// `--ignore-mac`). `read_only` skips remembering ciphertexts, for commands that never save.
pub fn open(mut input: Input, flags: &Flags, read_only: bool) -> CliResult<Opened> {
    let (config, sources, bytes) = prepare(&mut input, flags, read_only)?;
    let doc = Document::open(
        input.format(flags.input_type.as_deref()),
        bytes,
        &sources,
        open_options(flags, read_only),
    )
    .map_err(|e| open_failure(e, &input.display()))?;
    warn_undecryptable(doc.undecryptable_comments, &input);
    Ok(Opened {
        input,
        doc,
        emit: emit_options(config.as_ref(), flags),
        sources,
    })
}

/// `open` for a decrypt that only wants the plaintext, in `out` (see `Document::decrypt`).
/// An emit failure is the caller's to report (`dump`).
pub fn decrypt(
    mut input: Input,
    flags: &Flags,
    out: Format,
    dump: impl FnOnce(StoreError) -> Failure,
) -> CliResult<PlainBuffer> {
    let (config, sources, bytes) = prepare(&mut input, flags, true)?;
    let decrypted = Document::decrypt(
        input.format(flags.input_type.as_deref()),
        bytes,
        &sources,
        open_options(flags, true),
        out,
        &emit_options(config.as_ref(), flags),
    )
    .map_err(|e| match e {
        DecryptError::Open(e) => open_failure(e, &input.display()),
        DecryptError::Emit(e) => dump(e),
    })?;
    warn_undecryptable(decrypted.undecryptable_comments, &input);
    Ok(decrypted.text)
}

/// What opening needs: the file locked for a command that writes it, the config, the key
/// sources and the file's bytes.
fn prepare(
    input: &mut Input,
    flags: &Flags,
    read_only: bool,
) -> CliResult<(Option<Config>, KeySources, Vec<u8>)> {
    if !read_only || on(flags.in_place) {
        input.lock_for_update()?;
    }
    let config = load_config(flags)?;
    let sources = key_sources(flags, input)?;
    let bytes = input.read()?;
    Ok((config, sources, bytes))
}

fn open_options(flags: &Flags, read_only: bool) -> OpenOptions {
    OpenOptions {
        ignore_mac: on(flags.ignore_mac),
        keep_ciphertext: !read_only,
        keep_damaged: false,
    }
}

fn warn_undecryptable(count: usize, input: &Input) {
    if count > 0 {
        eprintln!(
            "[SOPS]\tWARN\tFound {} possibly unencrypted comment(s) in {}. This is to be expected if the file was created with an older version of SOPS.",
            count,
            input.display()
        );
    }
}

/// A failure to open an encrypted file, with sops's exit code and a hint.
pub fn open_failure(err: OpenError, file: &str) -> Failure {
    match err {
        OpenError::Parse(e) => Failure::new(code::GENERIC, format!("Error reading {file}: {e}"))
            .hint("check that the file is valid for its format, or pass --input-type"),
        OpenError::Metadata(e @ MetadataError::Invalid(_)) => {
            Failure::new(code::GENERIC, format!("{e} in {file}"))
                .hint("the sops metadata was edited by hand or damaged; restore it from version control")
        }
        OpenError::Metadata(e) => Failure::new(code::GENERIC, format!("{e} in {file}"))
            .hint("is this file encrypted with sops? `sesame encrypt` encrypts a plain file"),
        // sops compat: a data key of the wrong size is only noticed when values are decrypted.
        OpenError::Keys(report) if report.wrong_key_size.is_some() => Failure::new(
            code::ERROR_DECRYPTING_TREE,
            format!("{file}: {report}"),
        )
        .hint("the file's data key is not an AES-256 key: the file was written by a broken tool or damaged; restore it from version control"),
        OpenError::Keys(report) => Failure::new(code::COULD_NOT_RETRIEVE_KEY, format!("{file}: {report}")),
        e @ OpenError::Decrypt(_) => Failure::new(code::ERROR_DECRYPTING_TREE, format!("{file}: {e}"))
            .hint("the value was changed or moved by hand, or the file is damaged; restore it from version control"),
        e @ (OpenError::MacMismatch { .. } | OpenError::MacUndecryptable(_)) => {
            Failure::new(code::MAC_MISMATCH, format!("{file}: {e}")).hint(
                "the file was modified outside sops (tampering or a bad merge); restore it from version control, or pass --ignore-mac if you trust it",
            )
        }
    }
}

/// Asks `question` on stdout until the answer is `y` or `n`; a closed stdin is an error whose
/// hint names the flag (`skip_flag`) that answers yes in advance.
pub fn ask_yes_no(question: &str, skip_flag: &str) -> CliResult<bool> {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let mut out = std::io::stdout().lock();
    loop {
        let _ = write!(out, "{question}");
        let _ = out.flush();
        let mut answer = String::new();
        let read = lines
            .read_line(&mut answer)
            .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
        if read == 0 {
            return Err(
                Failure::new(code::GENERIC, "no answer: standard input is closed")
                    .hint(format!("pass {skip_flag} to go ahead without asking")),
            );
        }
        match answer.trim() {
            "y" => return Ok(true),
            "n" => return Ok(false),
            _ => {}
        }
    }
}
