//! `sesame identity add|list|remove`: age identities in the OS keyring, which decryption
//! then finds alongside SOPS_AGE_KEY_FILE.

use crate::cli::exit::{CliResult, Failure, code};
use clap::Subcommand;
use sesame::keys::keyring::{self, KeyringError};
use std::io::Read;
use zeroize::Zeroizing;

/// What `identity --help` says about where identities live (Linux keyutils semantics).
pub const ABOUT: &str = "\
Keep age identities in the OS keyring; `sesame decrypt`, `edit` and the other commands try them \
after SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and keys.txt.

On Linux the store is the kernel keyring (keyutils). Identities are added to your session \
keyring and linked into your persistent keyring, which every login of your user shares \
(terminals, SSH, desktop sessions). After you log out they stay until the persistent keyring \
has gone unused for /proc/sys/kernel/keys/persistent_keyring_expiry seconds (3 days by default; \
each use of sesame restarts the clock). A reboot always clears them, and a kernel without \
persistent keyrings keeps them only until the login session ends: `identity list` says which \
applies. Treat the keyring as a cache and keep each identity somewhere durable too.

Other platforms have no store yet.";

#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Store age identities (AGE-SECRET-KEY-1… lines, as in keys.txt) read from FILE or stdin.
    Add {
        /// A key file; `-` or nothing reads stdin.
        file: Option<String>,
        /// A label for the identity, usable with `identity remove`.
        #[arg(long)]
        name: Option<String>,
        /// Make a new identity instead of reading one; prints only its public recipient.
        #[arg(long, conflicts_with = "file")]
        generate: bool,
    },
    /// List stored identities: recipient, name and where they are kept (no secrets).
    List,
    /// Remove the identity with this recipient (age1…) or name.
    Remove {
        /// The recipient or name.
        which: String,
    },
}

/// Runs one `identity` subcommand.
pub fn run(command: &IdentityCommand) -> CliResult {
    match command {
        IdentityCommand::Add {
            file,
            name,
            generate,
        } => add(file.as_deref(), name.clone(), *generate),
        IdentityCommand::List => list(),
        IdentityCommand::Remove { which } => {
            let removed = keyring::remove(which).map_err(failure)?;
            eprintln!("removed {}{}", removed.recipient, label(&removed.name));
            Ok(())
        }
    }
}

fn add(file: Option<&str>, name: Option<String>, generate: bool) -> CliResult {
    let identities = if generate {
        vec![age::x25519::Identity::generate()]
    } else {
        let (bytes, source) = read_input(file)?;
        keyring::parse_identities(&bytes).map_err(|e| {
            Failure::new(
                code::COULD_NOT_READ_INPUT_FILE,
                format!("failed to read age identities from {source}: {e}"),
            )
            .hint("give a file of AGE-SECRET-KEY-1… lines (as `age-keygen` writes), or use --generate")
        })?
    };
    if name.is_some() && identities.len() > 1 {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            format!(
                "--name names one identity, but the input holds {}",
                identities.len()
            ),
        )
        .hint("add them one at a time to name each, or leave out --name"));
    }
    let new = identities.into_iter().map(|i| (i, name.clone())).collect();
    let (recipients, location) = keyring::add(new).map_err(failure)?;
    for r in &recipients {
        println!("{r}");
    }
    eprintln!("stored in the {location}");
    if generate {
        eprintln!(
            "warning: this identity exists only in the keyring; encrypt to a second recipient \
             you keep elsewhere, or a reboot may lock you out"
        );
    }
    Ok(())
}

fn list() -> CliResult {
    let listing = keyring::list().map_err(failure)?;
    if listing.identities.is_empty() {
        eprintln!("no identities stored in the {}", listing.location);
        return Ok(());
    }
    for id in &listing.identities {
        println!("{}\t{}", id.recipient, id.name.as_deref().unwrap_or("-"));
    }
    eprintln!("stored in the {}", listing.location);
    Ok(())
}

fn label(name: &Option<String>) -> String {
    name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
}

/// The key material, from a file or stdin, in zeroizing memory; at most 1 MiB.
fn read_input(file: Option<&str>) -> CliResult<(Zeroizing<Vec<u8>>, String)> {
    const LIMIT: u64 = 1 << 20;
    let mut buf = Zeroizing::new(Vec::new());
    let (result, source) = match file {
        None | Some("-") => (
            std::io::stdin().take(LIMIT + 1).read_to_end(&mut buf),
            "stdin".to_string(),
        ),
        Some(path) => (
            std::fs::File::open(path).and_then(|f| f.take(LIMIT + 1).read_to_end(&mut buf)),
            path.to_string(),
        ),
    };
    if let Err(e) = result {
        return Err(Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("failed to read {source}: {e}"),
        ));
    }
    if buf.len() as u64 > LIMIT {
        return Err(Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("{source} is larger than 1 MiB; an age key file is a few lines"),
        ));
    }
    Ok((buf, source))
}

/// Keyring errors as exit codes: a keyring that cannot be reached is sops's "could not
/// retrieve key" (128); a refused request is a generic failure (1).
fn failure(e: KeyringError) -> Failure {
    let (code, hint) = match &e {
        KeyringError::NoStore => (
            code::COULD_NOT_RETRIEVE_KEY,
            "keep the identity in a file and point SOPS_AGE_KEY_FILE at it".to_string(),
        ),
        KeyringError::Unavailable { .. } => (
            code::COULD_NOT_RETRIEVE_KEY,
            "use SOPS_AGE_KEY_FILE instead, or run sesame outside the container or sandbox"
                .to_string(),
        ),
        KeyringError::Corrupt { .. } => (code::COULD_NOT_RETRIEVE_KEY, String::new()),
        KeyringError::Duplicate { .. } => (
            code::GENERIC,
            "`sesame identity list` shows what is stored".to_string(),
        ),
        KeyringError::NameTaken { .. } => (
            code::GENERIC,
            "choose another --name, or remove the other identity first".to_string(),
        ),
        KeyringError::NotFound(_) => (
            code::GENERIC,
            "`sesame identity list` shows the stored recipients and names".to_string(),
        ),
        KeyringError::BadName { .. } => (code::GENERIC, String::new()),
        KeyringError::Write { .. } => (code::GENERIC, String::new()),
    };
    let f = Failure::new(code, e.to_string());
    if hint.is_empty() { f } else { f.hint(hint) }
}
