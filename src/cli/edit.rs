//! `sesame edit FILE`, `sesame FILE` and `sesame demo`: check the flags, open the file (keys
//! unwrapped before the terminal is taken over) and hand it to `sesame::tui`.

use crate::cli::args::{FileArgs, Flags, on};
use crate::cli::context::{
    Input, config_search, emit_options, key_sources, load_config, open_failure,
};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::store::Format;
use sesame::tui::demo::Demo;
use sesame::tui::keymap::Keymap;
use sesame::tui::privacy::Privacy;
use sesame::tui::session::{self, OpenFailure, OpenRequest};
use sesame::tui::theme::Theme;
use sesame::tui::{self, Outcome, Settings};
use std::io::IsTerminal;

/// Theme (`--theme`/`SESAME_THEME`, `NO_COLOR`) and keymap (the user's file, if any).
fn settings(flags: &Flags) -> CliResult<Settings> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::choose(flags.theme.as_deref(), no_color)
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
    let keymap = Keymap::load(Keymap::user_file().as_deref())
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
    let privacy = Privacy::from_vars(|name| std::env::var(name).ok(), flags.no_reveal)
        .map_err(|e| Failure::new(code::GENERIC, e))?;
    let mouse = !std::env::var("SESAME_MOUSE")
        .is_ok_and(|v| matches!(v.trim(), "off" | "0" | "false" | "no"));
    Ok(Settings {
        theme,
        keymap,
        privacy,
        mouse,
    })
}

fn need_terminal() -> CliResult {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Failure::new(
        code::GENERIC,
        "the editor needs a terminal (stdin and stdout are not one)",
    )
    .hint("use `sesame decrypt FILE`, `sesame set` or `sesame unset` in scripts"))
}

fn launch(req: OpenRequest, flags: &Flags, display: &str) -> CliResult {
    let settings = settings(flags)?;
    need_terminal()?;
    let session = session::open(req).map_err(|e| match e {
        OpenFailure::Read { .. } => Failure::new(code::COULD_NOT_READ_INPUT_FILE, e.to_string()),
        OpenFailure::Open(e) => open_failure(e, display),
        OpenFailure::Merge(_) => Failure::new(code::GENERIC, format!("{display}: {e}")).hint(
            "make the keys of every side available, or settle the file with `git checkout --ours`/`--theirs`",
        ),
    })?;
    match tui::run(session, settings) {
        Ok(Outcome::Quit) => Ok(()),
        // Killed by a signal: the terminal is restored and nothing was written; exit as a
        // shell reports a signal death.
        Ok(Outcome::Signal(sig)) => Err(Failure::new(128 + sig, "")),
        // Nobody is left to read a message: exit as a hang-up does.
        Ok(Outcome::TerminalGone) => Err(Failure::new(128 + libc::SIGHUP, "")),
        Err(e) => Err(Failure::new(code::GENERIC, format!("terminal error: {e}"))),
    }
}

/// Opens FILE in the editor.
pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    let Some(file) = args.file.as_deref().filter(|f| !f.is_empty()) else {
        return Err(
            Failure::new(code::NO_FILE_SPECIFIED, "Error: no file specified")
                .hint("run `sesame FILE` to edit a file, or `sesame demo` to try the editor"),
        );
    };
    if std::path::Path::new(file).is_dir() {
        return run_repository(file, flags);
    }
    if !std::path::Path::new(file).exists() {
        return run_new(file, flags);
    }
    let input = Input::resolve(Some(file), flags)?;
    let config = load_config(flags)?;
    let sources = key_sources(flags, &input)?;
    let path = input.path.clone().expect("a file was given");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    let req = OpenRequest {
        path,
        name,
        format: input.format(flags.input_type.as_deref()),
        emit: emit_options(config.as_ref(), flags),
        sources,
        ignore_mac: on(flags.ignore_mac),
        config: config_search(flags),
        against: flags.against.clone(),
    };
    launch(req, flags, &input.display())
}

/// The document a new file starts with, per format (as `sops edit` starts from a template):
/// one example key to edit or delete, and a comment where the format keeps comments.
fn starter(format: Format) -> &'static str {
    match format {
        Format::Yaml => concat!(
            "# A new sops file. Values are encrypted when it is saved; keys and comments stay\n",
            "# readable. a adds a key, Enter edits, d deletes, Ctrl-S saves, ? lists every key.\n",
            "example_key: example value\n",
        ),
        Format::Json | Format::Binary => "{\"example_key\": \"example value\"}\n",
        Format::Dotenv => "EXAMPLE_KEY=example value\n",
        Format::Ini => "[section]\nexample_key = example value\n",
    }
}

/// `sesame edit NEW`: a new file from the `.sops.yaml` creation rule that matches its name (or
/// the key flags), its format from the extension, starting from a small example document. It
/// is written encrypted before the editor opens (it holds no secret yet) and removed again if
/// the editor ends without a save.
fn run_new(file: &str, flags: &Flags) -> CliResult {
    need_terminal()?;
    let input = Input::new_file(file, flags);
    let path = input.path.clone().expect("a file was given");
    let format = input.format(flags.input_type.as_deref());
    if format == Format::Binary {
        return Err(Failure::new(
            code::GENERIC,
            format!("{file} does not end in .yaml, .yml, .json, .env or .ini, so the editor cannot tell its format"),
        )
        .hint("name the file with one of those extensions, pass --input-type, or use `sesame encrypt` for a binary file"));
    }
    if path.parent().is_some_and(|d| !d.is_dir()) {
        return Err(Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("cannot create {file}: its folder does not exist"),
        ));
    }
    let config = load_config(flags)?;
    let name = input.name.clone().expect("a file was given");
    let rule = crate::cli::context::creation_rule(config.as_ref(), &name)?;
    let sources = key_sources(flags, &input)?;
    let docs = sesame::store::parse_plain(format, starter(format).as_bytes())
        .expect("the starter documents parse")
        .docs;
    let mut doc = crate::cli::encrypt::new_document(flags, rule, format, docs, &sources)
        .map_err(|f| {
            if rule.is_none() && f.message.contains("no key") {
                return f.hint("add a creation rule for this file to .sops.yaml, or pass --age, --pgp, --kms… on the command line");
            }
            f
        })?;
    let emit = emit_options(config.as_ref(), flags);
    let bytes = doc
        .seal_once(&emit)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("a new document always has content to write");
    crate::cli::context::write_file(&path, &bytes, |e| {
        Failure::new(
            code::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("Could not create {}: {e}", path.display()),
        )
    })?;
    let display_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    let req = OpenRequest {
        path: path.clone(),
        name: display_name,
        format,
        emit,
        sources,
        ignore_mac: false,
        config: config_search(flags),
        against: None,
    };
    let result = launch(req, flags, &input.display());
    if std::fs::read(&path).is_ok_and(|now| now == bytes) {
        let _ = std::fs::remove_file(&path);
        eprintln!("sesame: nothing was saved, so {file} was not created.");
    }
    result
}

/// `sesame DIR`: the repository view over every sops file under DIR; Enter opens one in the
/// editor (as `sesame FILE` would), bulk actions are written from the view.
fn run_repository(dir: &str, flags: &Flags) -> CliResult {
    use sesame::tui::repo_view::{self, Host, RepoView};
    let settings = settings(flags)?;
    need_terminal()?;
    let input = Input::resolve(Some(dir), flags)?;
    let sources = key_sources(flags, &input)?;
    let config = load_config(flags)?;
    let emit = emit_options(config.as_ref(), flags);
    let rotate_after = std::env::var(session::ROTATE_AFTER_VAR)
        .ok()
        .and_then(|d| d.trim().parse().ok())
        .filter(|d: &i64| *d > 0)
        .unwrap_or(sesame::keys::plan::DEFAULT_ROTATE_AFTER_DAYS);
    let given = input.path.clone().expect("a folder was given");
    let root = given.canonicalize().unwrap_or(given);
    let view = RepoView::load(&root, config, &sources, rotate_after)
        .map_err(|e| Failure::new(code::GENERIC, e))?;
    let edit = |path: &std::path::Path| -> Result<(), String> {
        let file = path.to_string_lossy().into_owned();
        let args = FileArgs {
            file: Some(file),
            extra: Vec::new(),
        };
        run(&args, flags).map_err(|f| f.message)
    };
    let host = Host {
        sources: &sources,
        emit,
        edit: &edit,
    };
    repo_view::run(view, &settings.theme, &host)
        .map_err(|e| Failure::new(code::GENERIC, format!("terminal error: {e}")))
}

/// Opens a private copy of the bundled demo file with the bundled demo key.
pub fn run_demo(flags: &Flags) -> CliResult {
    let demo = Demo::prepare().map_err(|e| {
        Failure::new(code::GENERIC, format!("could not copy the demo file: {e}"))
            .hint("set TMPDIR to a writable folder")
    })?;
    let req = OpenRequest {
        path: demo.path.clone(),
        name: sesame::tui::demo::NAME.into(),
        format: Format::Yaml,
        emit: emit_options(None, flags),
        sources: demo.sources(),
        ignore_mac: on(flags.ignore_mac),
        config: Default::default(),
        against: None,
    };
    let display = demo.path.display().to_string();
    launch(req, flags, &display)?;
    eprintln!(
        "sesame: the demo edited a private copy; nothing else was touched.\n\
         Next: `sesame FILE` opens one of your sops files (with the age, PGP or cloud keys sops \
         would use), and `sesame encrypt --age AGE_RECIPIENT plain.yaml > secrets.yaml` makes one."
    );
    Ok(())
}
