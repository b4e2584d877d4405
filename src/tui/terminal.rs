//! The real terminal: raw mode, alternate screen (so no plaintext stays in the scrollback)
//! and bracketed paste, restored on every way out: a guard's `Drop`, a panic hook that
//! restores first and then runs the previous hook, and the signal path in the loop.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use std::sync::Once;

/// The terminal type the editor draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was: cooked mode, main screen, no bracketed paste, cursor
/// shown. Safe to call more than once and when the terminal is gone (errors are ignored).
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Ctrl-Z: gives the terminal back to the shell (main screen, cooked mode) and stops the
/// process as the shell's job control expects; when `fg` continues it, takes the terminal
/// again and redraws everything.
#[allow(unsafe_code)]
pub fn suspend(terminal: &mut Term) -> io::Result<()> {
    away(terminal, || {
        // SAFETY: raise has no memory-safety preconditions; SIGTSTP's default action stops
        // the process until SIGCONT, and then raise returns.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
    })
}

/// Gives the terminal back (main screen, cooked mode) while `f` runs, a program that uses the
/// terminal itself, then takes it again and redraws everything.
pub fn away<T>(terminal: &mut Term, f: impl FnOnce() -> T) -> io::Result<T> {
    restore();
    let out = f();
    enable_raw_mode()?;
    take_screen()?;
    terminal.clear()?;
    Ok(out)
}

static HOOK: Once = Once::new();

/// Whether the mouse is read: clicks, double clicks and the wheel (`SESAME_MOUSE=off` leaves
/// the mouse to the terminal, for selecting text).
static MOUSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn take_screen() -> io::Result<()> {
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Enters the editor's screen (reading the mouse unless `mouse` is false) and returns the
/// terminal with its guard.
pub fn enter_with(mouse: bool) -> io::Result<(Term, Guard)> {
    MOUSE.store(mouse, std::sync::atomic::Ordering::Relaxed);
    enter()
}

/// Enters the editor's screen and returns the terminal with its guard.
pub fn enter() -> io::Result<(Term, Guard)> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
    enable_raw_mode()?;
    let guard = Guard(());
    take_screen()?;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}
