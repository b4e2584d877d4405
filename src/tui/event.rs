//! Where actions come from in a live session: terminal events (keys through the keymap,
//! pastes, resizes), the termination signals, and the terminal going away (an SSH drop, a
//! closed window), all of which end the session without writing.

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::model::Mode;
use crate::tui::view::Buttons;
use crossterm::event::{self, Event, KeyEventKind};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The signals that end a session: SIGTERM and SIGHUP (the terminal went away).
pub struct Signals {
    caught: Arc<AtomicUsize>,
}

impl Signals {
    /// Registers the handlers (they only record the signal; the loop acts on it).
    pub fn register() -> io::Result<Signals> {
        let caught = Arc::new(AtomicUsize::new(0));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register_usize(sig, Arc::clone(&caught), sig as usize)?;
        }
        Ok(Signals { caught })
    }

    /// The signal caught, if any.
    pub fn caught(&self) -> Option<i32> {
        match self.caught.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n as i32),
        }
    }
}

/// What the terminal gave.
pub enum Input {
    /// Nothing bound, or nothing within the timeout.
    Idle,
    Action(Action),
    /// The terminal hung up or closed: nobody can see or answer the editor any more.
    Gone,
}

/// The terminal keys come from (stdin when it is one, else `/dev/tty`, as crossterm reads),
/// watched for hang-ups. crossterm's reader loops forever on a terminal that reads 0 bytes or
/// fails, so it is only asked once this says the terminal is alive.
pub struct Tty {
    fd: RawFd,
    _owned: Option<File>,
}

impl Tty {
    pub fn open() -> io::Result<Tty> {
        use std::io::IsTerminal;
        if io::stdin().is_terminal() {
            return Ok(Tty {
                fd: io::stdin().as_raw_fd(),
                _owned: None,
            });
        }
        let file = File::open("/dev/tty")?;
        Ok(Tty {
            fd: file.as_raw_fd(),
            _owned: Some(file),
        })
    }

    /// Waits up to `timeout` for input: `Ok(true)` when there is some, `Ok(false)` on timeout,
    /// `Err` when the terminal hung up, closed or failed.
    #[allow(unsafe_code)]
    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd on the stack, for the length given.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the terminal went away",
            ));
        }
        Ok(pfd.revents & libc::POLLIN != 0)
    }

    /// Whether the terminal hung up (checked without waiting).
    pub fn is_gone(&self) -> bool {
        self.wait(Duration::ZERO).is_err()
    }
}

/// While work runs in the background: waits up to `timeout` for a key press (other input is
/// dropped); the terminal going away is an error.
pub fn key(tty: &Tty, timeout: Duration) -> io::Result<Option<crossterm::event::KeyEvent>> {
    if !event::poll(Duration::ZERO)? && !tty.wait(timeout)? {
        return Ok(None);
    }
    while event::poll(Duration::ZERO)? {
        if let Event::Key(key) = event::read()?
            && key.kind != KeyEventKind::Release
        {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// A key press or a bracketed paste (for screens that read keys themselves).
pub enum Typed {
    Key(crossterm::event::KeyEvent),
    Paste(String),
}

/// Waits up to `timeout` for a key press or a paste (other input is dropped).
pub fn typed(tty: &Tty, timeout: Duration) -> io::Result<Option<Typed>> {
    if !event::poll(Duration::ZERO)? && !tty.wait(timeout)? {
        return Ok(None);
    }
    while event::poll(Duration::ZERO)? {
        match event::read()? {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                return Ok(Some(Typed::Key(key)));
            }
            Event::Paste(text) => return Ok(Some(Typed::Paste(text))),
            _ => {}
        }
    }
    Ok(None)
}

/// Waits up to `timeout` for a terminal event and turns it into an action. A click on one of
/// `buttons` (those of the frame on screen) is the press of its key.
pub fn next(
    tty: &Tty,
    keymap: &Keymap,
    mode: &Mode,
    buttons: &Buttons,
    timeout: Duration,
) -> io::Result<Input> {
    if tty.is_gone() {
        return Ok(Input::Gone);
    }
    // Events crossterm already parsed (a paste brings several) come first; a resize arrives
    // through crossterm's signal pipe, so crossterm is asked after every wait. It never waits.
    if !event::poll(Duration::ZERO)? {
        if tty.wait(timeout).is_err() || tty.is_gone() {
            return Ok(Input::Gone);
        }
        if !event::poll(Duration::ZERO)? {
            return Ok(Input::Idle);
        }
    }
    let action = match event::read()? {
        Event::Key(key) if key.kind != KeyEventKind::Release => keymap.action(mode, key),
        Event::Paste(text) => Some(Action::Paste(text.into())),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::Mouse(m) => mouse_action(m, keymap, mode, buttons),
        _ => None,
    };
    Ok(action.map_or(Input::Idle, Input::Action))
}

/// What a mouse event asks for: a button's key, a left click, or three rows per wheel step.
pub fn mouse_action(
    m: crossterm::event::MouseEvent,
    keymap: &Keymap,
    mode: &Mode,
    buttons: &Buttons,
) -> Option<Action> {
    use crossterm::event::{MouseButton, MouseEventKind};
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => match buttons.key_at(m.column, m.row) {
            Some(key) => keymap.action(mode, key),
            None => Some(Action::Click(m.column, m.row)),
        },
        MouseEventKind::ScrollUp => Some(Action::Scroll(-3)),
        MouseEventKind::ScrollDown => Some(Action::Scroll(3)),
        _ => None,
    }
}
