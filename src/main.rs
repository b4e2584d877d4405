//! `sesame`: parse the command line, run a subcommand, exit with sops's codes.

mod cli;

use clap::{CommandFactory, FromArgMatches};
use cli::args::{Cli, Command};
use cli::exit::{CliResult, Failure, code};

/// sops records every encryption, decryption and rotation in the PostgreSQL databases
/// `/etc/sops/audit.yaml` names, and stops when it cannot. sesame does not write that audit
/// log, so where an organisation configured one it refuses (sops's exit code for a failed
/// audit backend) rather than quietly bypass the audit trail, unless told to go ahead.
fn refuse_unaudited(command: Option<&Command>) -> CliResult {
    const CONFIG: &str = "/etc/sops/audit.yaml";
    const OVERRIDE: &str = "SESAME_ALLOW_UNAUDITED";
    if matches!(
        command,
        Some(Command::Completion { .. }) | Some(Command::Identity { .. })
    ) {
        return Ok(());
    }
    let config = std::env::var_os("SESAME_SOPS_AUDIT_CONFIG").unwrap_or_else(|| CONFIG.into());
    if !std::path::Path::new(&config).exists() || std::env::var(OVERRIDE).is_ok_and(|v| v == "1") {
        return Ok(());
    }
    Err(Failure::new(
        code::GENERIC,
        format!(
            "{} configures sops's audit log (PostgreSQL), which sesame does not write: refusing, so this machine's audit trail is not bypassed",
            std::path::Path::new(&config).display()
        ),
    )
    .hint(format!(
        "use sops here, or set {OVERRIDE}=1 if your organisation allows unaudited use"
    )))
}

fn run(cli: Cli) -> CliResult {
    refuse_unaudited(cli.command.as_ref())?;
    match &cli.command {
        Some(Command::Encrypt(a)) => cli::encrypt::run(a, &cli.flags),
        Some(Command::Decrypt(a)) => cli::decrypt::run(a, &cli.flags),
        Some(Command::Filestatus(a)) => cli::filestatus::run(a, &cli.flags),
        Some(Command::Set(a)) => cli::set::run_set(a, &cli.flags),
        Some(Command::Unset(a)) => cli::set::run_unset(a, &cli.flags),
        Some(Command::Rotate(a)) => cli::rotate::run(a, &cli.flags),
        #[cfg(feature = "publish")]
        Some(Command::Publish(a)) => cli::publish::run(a, &cli.flags),
        #[cfg(not(feature = "publish"))]
        Some(Command::Publish(_)) => Err(cli::context::not_built_in("publish", "sesame publish")),
        Some(Command::Updatekeys(a)) => cli::updatekeys::run(a, &cli.flags),
        Some(Command::Groups { command }) => cli::groups::run(command, &cli.flags),
        Some(Command::ExecEnv(a)) => cli::exec::run_env(a, &cli.flags),
        Some(Command::ExecFile(a)) => cli::exec::run_file(a, &cli.flags),
        Some(Command::Identity { command }) => cli::identity::run(command),
        #[cfg(feature = "keyservice")]
        Some(Command::Keyservice(a)) => cli::keyservice::run(a, &cli.flags),
        #[cfg(not(feature = "keyservice"))]
        Some(Command::Keyservice(_)) => Err(cli::context::not_built_in(
            "keyservice",
            "sesame keyservice",
        )),
        Some(Command::Completion { shell }) => cli::completion::run(shell),
        Some(Command::Diff(a)) => cli::diff::run(a, &cli.flags),
        Some(Command::Ls(a)) => cli::repo::ls(a, &cli.flags),
        Some(Command::Check(a)) => cli::repo::check(a, &cli.flags),
        Some(Command::Access(a)) => cli::repo::access(a, &cli.flags),
        Some(Command::Audit(a)) => cli::repo::audit(a, &cli.flags),
        Some(Command::Offboard(a)) => cli::repo::offboard(a, &cli.flags),
        Some(Command::Merge(a)) => cli::merge::run(a, &cli.flags),
        Some(Command::Git { command }) => cli::git::run(command, &cli.flags),
        Some(Command::Textconv { file }) => cli::git::textconv(file),
        Some(Command::GitDiff { args }) => cli::git::external_diff(args, &cli.flags),
        Some(Command::ClipClear) => cli::decrypt::clip_clear(),
        Some(Command::Edit(a)) => cli::edit::run(a, &cli.flags),
        Some(Command::Demo) => cli::edit::run_demo(&cli.flags),
        None => Err(
            Failure::new(code::NO_FILE_SPECIFIED, "Error: no file specified")
                .hint("run `sesame FILE` to edit a file, `sesame demo` to try the editor, `sesame --help` for the subcommands"),
        ),
    }
}

fn main() {
    // Before anything is decrypted: no core dump may carry plaintext to disk.
    sesame::process::protect();
    let matches = Cli::command()
        .get_matches_from(cli::args::with_legacy_forms(std::env::args_os().collect()));
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let mut deepest = &matches;
    while let Some((_, sub)) = deepest.subcommand() {
        deepest = sub;
    }
    cli.flags.from_env = cli::args::KEY_FLAGS
        .into_iter()
        .filter(|id| deepest.value_source(id) == Some(clap::parser::ValueSource::EnvVariable))
        .collect();
    // Deep files recurse deeply: the command runs on a stack sized for the deepest sops reads.
    if let Err(failure) = sesame::process::on_deep_stack(|| run(cli)) {
        // An empty message is a command's own exit code passed through (exec-env, exec-file).
        if !failure.message.is_empty() {
            eprintln!("{failure}");
        }
        std::process::exit(failure.code);
    }
}

/// mimalloc instead of the C library's allocator: a file of 100,000 values makes hundreds of
/// thousands of small allocations, and mimalloc took 35-50 % off the CPU time of decrypt,
/// `set` and binary encrypt (`scripts/bench.py`). Built without asking for transparent huge
/// pages (`no_thp`): since a YAML file is read in one pass, they save little CPU, vary a lot
/// after another program freed much memory, and cost 8-10 MiB of peak (README, Speed).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
