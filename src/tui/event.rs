//! Where actions come from in a live session: terminal events (keys through the keymap,
//! pastes, resizes) and the termination signals, which end the session without writing.

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::model::Mode;
use crossterm::event::{self, Event, KeyEventKind};
use std::io;
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

/// Waits up to `timeout` for a terminal event and turns it into an action.
pub fn next(keymap: &Keymap, mode: &Mode, timeout: Duration) -> io::Result<Option<Action>> {
    if !event::poll(timeout)? {
        return Ok(None);
    }
    Ok(match event::read()? {
        Event::Key(key) if key.kind != KeyEventKind::Release => keymap.action(mode, key),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    })
}
