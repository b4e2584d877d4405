//! `sesame`: parse the command line, run a subcommand, exit with sops's codes.

mod cli;

use clap::Parser;
use cli::args::{Cli, Command};
use cli::exit::{CliResult, Failure, code};

fn run(cli: Cli) -> CliResult {
    match &cli.command {
        Some(Command::Encrypt(a)) => cli::encrypt::run(a, &cli.flags),
        Some(Command::Decrypt(a)) => cli::decrypt::run(a, &cli.flags),
        Some(Command::Filestatus(a)) => cli::filestatus::run(a, &cli.flags),
        Some(Command::Set(a)) => cli::set::run_set(a, &cli.flags),
        Some(Command::Unset(a)) => cli::set::run_unset(a, &cli.flags),
        Some(Command::ExecEnv(a)) => cli::exec::run_env(a, &cli.flags),
        Some(Command::ExecFile(a)) => cli::exec::run_file(a, &cli.flags),
        Some(Command::Edit(_)) => Err(Failure::new(
            code::NO_EDITOR_FOUND,
            "the editor is not built yet; use `sesame decrypt`, `sesame set` and `sesame unset`",
        )),
        None => Err(
            Failure::new(code::NO_FILE_SPECIFIED, "Error: no file specified")
                .hint("run `sesame --help` for the subcommands"),
        ),
    }
}

fn main() {
    let cli = Cli::parse_from(cli::args::with_legacy_forms(std::env::args_os().collect()));
    if let Err(failure) = run(cli) {
        // An empty message is a command's own exit code passed through (exec-env, exec-file).
        if !failure.message.is_empty() {
            eprintln!("{failure}");
        }
        std::process::exit(failure.code);
    }
}
