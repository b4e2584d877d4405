//! `sesame completion bash|zsh|fish`: a completion script generated from the command line's
//! own definition, so it never falls behind the flags.

use crate::cli::args::Cli;
use crate::cli::exit::CliResult;
use clap::CommandFactory;
use clap_complete::Shell;

pub fn run(shell: &str) -> CliResult {
    let shell = match shell {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sesame", &mut script);
    // (A reader that stops early, like `head`, is not an error.)
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
    Ok(())
}
