//! `sesame`: parse the command line, run a subcommand, exit with sops's codes.

mod cli;

use clap::Parser;
use cli::args::{Cli, Command};
use cli::exit::{CliResult, Failure, code};

fn run(cli: Cli) -> CliResult {
    match &cli.command {
        Some(Command::Encrypt(a)) => cli::encrypt::run(a, &cli.flags),
        Some(Command::Decrypt(a)) => cli::decrypt::run(a, &cli.flags),
        None => match &cli.file {
            Some(_) => Err(Failure::new(
                code::NO_EDITOR_FOUND,
                "the editor is not built yet; use `sesame decrypt` and `sesame encrypt`",
            )),
            None => Err(
                Failure::new(code::NO_FILE_SPECIFIED, "Error: no file specified")
                    .hint("run `sesame --help` for the subcommands"),
            ),
        },
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(failure) = run(cli) {
        eprintln!("{failure}");
        std::process::exit(failure.code);
    }
}
