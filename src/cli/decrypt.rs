//! `sesame decrypt`: print (or write) the plaintext of an encrypted file, or one value of it.

use crate::cli::args::{FileArgs, Flags, on};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::document::Document;
use sesame::path::{Found, TreePath, lookup};
use sesame::secret::PlainBuffer;
use sesame::store::{self, Format};
use sesame::tree::Scalar;
use zeroize::Zeroizing;

pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    if !args.extra.is_empty() {
        return run_several(args, flags);
    }
    let input = Input::resolve(args.file.as_deref(), flags)?;
    context::check_output_flags(flags, &input)?;
    let output = plaintext(args, flags, true)?;
    if flags.clip {
        return clip(flags, &output);
    }
    context::write_result(flags, &input, &output)
}

/// `--clip`: the extracted value goes to the clipboard through the terminal (OSC 52) and to
/// the system clipboard, and a detached `sesame clip-clear` clears both when its time is up.
/// On X11 that helper also serves the copied text meanwhile (the X clipboard lives in a
/// process), so it gets the value itself, through a pipe; the terminal's path, the time and a
/// salted fingerprint of the value go the same way.
fn clip(flags: &Flags, value: &[u8]) -> CliResult {
    use std::io::{BufRead, Write};
    use std::os::unix::process::CommandExt;
    if flags.extract.as_deref().is_none_or(str::is_empty) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "--clip copies one value: name it with --extract '[\"key\"]'",
        ));
    }
    let fail = |e: String| {
        Failure::new(
            code::GENERIC,
            format!("could not copy to the clipboard: {e}"),
        )
        .hint("--clip needs a terminal (it copies through it, OSC 52) or a display (the system clipboard)")
    };
    let privacy = sesame::tui::privacy::Privacy::from_vars(|n| std::env::var(n).ok(), false)
        .map_err(|e| Failure::new(code::GENERIC, e))?;
    let tty = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/tty")
        .ok();
    let tty_path = tty.as_ref().and_then(tty_name);
    if tty_path.is_none() && !sesame::tui::clipboard::System::may_exist() {
        return Err(fail("there is neither a terminal nor a display".into()));
    }
    let copied = match (tty, &tty_path) {
        (Some(mut tty), Some(_)) => {
            sesame::tui::clipboard::copy_to(&mut tty, value).map_err(|e| fail(e.to_string()))?
        }
        _ => sesame::tui::clipboard::Fingerprint::of(value),
    };
    let me = std::env::current_exe().map_err(|e| fail(e.to_string()))?;
    let mut cmd = std::process::Command::new(me);
    cmd.arg("clip-clear")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe; the child leaves the terminal's session so that
    // closing the terminal does not stop it before it has cleared.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(
            stdin,
            "{}\n{}\n{}",
            copied.to_hex(),
            privacy.clip_for.as_secs(),
            tty_path.as_deref().unwrap_or("-")
        )
        .and_then(|()| stdin.write_all(value));
    }
    // The helper says whether the system clipboard took the value.
    let mut said = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut said);
    }
    let to = match (said.trim() == "system", tty_path.is_some()) {
        (true, true) => "the system + terminal clipboards",
        (true, false) => "the system clipboard",
        (false, true) => "the terminal clipboard",
        (false, false) => return Err(fail("there is neither a terminal nor a display".into())),
    };
    eprintln!(
        "copied {} to {to}; it is cleared in {} s",
        flags.extract.as_deref().unwrap_or(""),
        privacy.clip_for.as_secs()
    );
    Ok(())
}

/// The path of the terminal `f` is open on.
#[allow(unsafe_code)]
fn tty_name(f: &std::fs::File) -> Option<String> {
    use std::os::fd::AsRawFd;
    // SAFETY: ttyname reads a valid open descriptor and returns a static buffer or null,
    // copied out at once.
    unsafe {
        let p = libc::ttyname(f.as_raw_fd());
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// The detached half of `--clip`: puts the value on the system clipboard (serving it there
/// meanwhile, on X11) and says so, waits, then clears it there if it still holds the value,
/// through the terminal, and from tmux paste buffers still holding it.
pub fn clip_clear() -> CliResult {
    use std::io::{Read, Write};
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
    let malformed = || Failure::new(code::GENERIC, "clip-clear: malformed input");
    let mut parts = input.splitn(4, |&b| b == b'\n');
    let mut line = || {
        parts
            .next()
            .and_then(|l| std::str::from_utf8(l).ok())
            .map(str::to_string)
    };
    let fp = line()
        .as_deref()
        .and_then(sesame::tui::clipboard::Fingerprint::from_hex)
        .ok_or_else(malformed)?;
    let secs = line()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(malformed)?;
    let tty = line().ok_or_else(malformed)?;
    let value: &[u8] = parts.next().unwrap_or_default();
    let mut system = sesame::tui::clipboard::System::open();
    let served = match &mut system {
        Some(s) if !value.is_empty() => s.copy(value).is_ok(),
        _ => false,
    };
    if !served {
        system = None;
    }
    // The value is not needed any more: the system clipboard holds its own copy.
    drop(input);
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", if served { "system" } else { "none" });
    let _ = stdout.flush();
    std::thread::sleep(std::time::Duration::from_secs(secs));
    if let Some(s) = &mut system {
        s.clear(&fp);
    }
    // The terminal may be closed by now; tmux's buffers are cleared all the same.
    let mut out: Box<dyn Write> = match std::fs::OpenOptions::new().write(true).open(&tty) {
        Ok(f) if tty != "-" => Box::new(f),
        _ => Box::new(std::io::sink()),
    };
    sesame::tui::clipboard::clear_on(&mut out, &fp);
    Ok(())
}

/// One file's plaintext (or the value `--extract` names). `last`: nothing is opened after
/// this file, so its tree is wiped in place and its memory left to the OS at exit (with
/// several files, each is freed before the next is opened).
fn plaintext(args: &FileArgs, flags: &Flags, last: bool) -> CliResult<PlainBuffer> {
    let input = Input::resolve(args.file.as_deref(), flags)?;
    let out_format = input.format(flags.output_type.as_deref());
    let extract = match flags.extract.as_deref().filter(|e| !e.is_empty()) {
        Some(p) => Some(TreePath::parse(p).map_err(|e| {
            Failure::new(
                code::INVALID_TREE_PATH_FORMAT,
                format!("error parsing --extract path: {e}"),
            )
        })?),
        None => None,
    };
    let Some(path) = &extract else {
        return context::decrypt(input, flags, out_format, |e| dump_failure(e, out_format));
    };
    let context::Opened {
        doc, emit: opts, ..
    } = context::open(input, flags, true)?;
    let plain = extract_value(&doc, path, out_format, &opts);
    if last {
        doc.wipe_and_leak();
    }
    plain.map(PlainBuffer::from)
}

/// Several files: one stream, each file's plaintext followed by `---` before the next (as
/// `sops decrypt a; echo ---; sops decrypt b`), written once all of them decrypted.
fn run_several(args: &FileArgs, flags: &Flags) -> CliResult {
    if on(flags.in_place) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: cannot use --in-place with several files",
        )
        .hint("decrypt them one at a time, or write the stream with --output"));
    }
    let mut stream = Zeroizing::new(Vec::new());
    let files = args.file.iter().chain(&args.extra);
    for (i, file) in files.enumerate() {
        if i > 0 {
            if stream.last().is_some_and(|b| *b != b'\n') {
                stream.push(b'\n');
            }
            stream.extend_from_slice(b"---\n");
        }
        let one = FileArgs {
            file: Some(file.clone()),
            extra: Vec::new(),
        };
        stream.extend_from_slice(&plaintext(&one, flags, false)?);
    }
    let first = Input::resolve(args.file.as_deref(), flags)?;
    context::write_result(flags, &first, &stream)
}

fn dump_failure(e: store::StoreError, format: Format) -> Failure {
    let f = Failure::new(code::ERROR_DUMPING_TREE, format!("Error dumping file: {e}"));
    if format == Format::Binary {
        f.hint("This is likely not an encrypted binary file? If not, use --output-type to select the correct output type.")
    } else {
        f
    }
}

/// sops compat: a string is written raw without a newline, a map as a whole document, anything
/// else through the output format's value writer.
fn extract_value(
    doc: &Document,
    path: &TreePath,
    format: Format,
    opts: &store::EmitOptions,
) -> CliResult<Zeroizing<Vec<u8>>> {
    let first = doc
        .docs()
        .first()
        .ok_or_else(|| Failure::new(code::GENERIC, "the file has no documents"))?;
    let found = lookup(first, path)
        .map_err(|e| Failure::new(code::GENERIC, format!("error truncating tree: {e}")))?;
    let node = match found {
        Found::Document(m) => {
            return store::emit_plain(format, std::slice::from_ref(m), opts)
                .map_err(|e| dump_failure(e, format));
        }
        Found::Node(n) => n,
    };
    match node {
        sesame::tree::Node::Map(m) => store::emit_plain(format, std::slice::from_ref(m), opts)
            .map_err(|e| dump_failure(e, format)),
        sesame::tree::Node::Leaf(l) if matches!(l.value, Scalar::Str(_)) => {
            let Scalar::Str(s) = &l.value else {
                unreachable!()
            };
            Ok(Zeroizing::new(s.expose().to_vec()))
        }
        other => store::emit_value(format, other, opts).map_err(|e| {
            Failure::new(code::ERROR_DUMPING_TREE, format!("Error dumping tree: {e}"))
        }),
    }
}
