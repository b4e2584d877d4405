//! The terminal editor: a front end over `document::Document`, Elm style. Keys become
//! `Action`s through the keymap, `update` changes the `Model` and returns effects (save,
//! reload, quit) that the loop runs, and `view` draws the model. Only `terminal`, `event` and
//! `watch` touch the outside world; everything else can be driven from a test.

pub mod action;
pub mod against;
pub mod blame;
pub mod busy;
pub mod clipboard;
pub mod demo;
pub mod event;
pub mod external;
pub mod history;
pub mod key_manager;
pub mod keymap;
pub mod merge;
pub mod model;
pub mod net_changes;
pub mod privacy;
pub mod repo_view;
pub mod rows;
pub mod session;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;
pub mod watch;

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::session::Session;
use crate::tui::theme::Theme;
use crate::tui::update::{Effect, update};
use std::time::Duration;

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The user quit.
    Quit,
    /// A termination signal (SIGTERM, SIGHUP) ended it; nothing was written.
    Signal(i32),
    /// The terminal went away (hung up, closed); nothing was written.
    TerminalGone,
}

/// Looks, keys and privacy of a session.
pub struct Settings {
    pub theme: Theme,
    pub keymap: Keymap,
    pub privacy: privacy::Privacy,
    /// Read the mouse (clicks, double clicks, the wheel); `SESAME_MOUSE=off` leaves it to the
    /// terminal for selecting text.
    pub mouse: bool,
}

/// Runs the editor on an opened file until the user quits, a signal arrives or the terminal
/// goes away. The terminal is restored on every way out.
pub fn run(mut session: Session, settings: Settings) -> std::io::Result<Outcome> {
    session.model.privacy = settings.privacy;
    let outcome = run_loop(&mut session, &settings);
    // However the session ends, a copied value does not stay on the clipboard.
    if let Some(clip) = session.model.clip.take() {
        session.clear_clipboard(&clip.copied);
    }
    outcome
}

fn run_loop(session: &mut Session, settings: &Settings) -> std::io::Result<Outcome> {
    let signals = event::Signals::register()?;
    let tty = event::Tty::open()?;
    let watch = watch::start(&session.path, &session.config_candidates());
    if let Err(e) = &watch {
        session.model.error(format!(
            "not watching the file for changes ({e}); a save still checks it first"
        ));
    }
    session.model.help = settings.keymap.help_lines();
    // From here the terminal is the editor's: age plugins ask in its box.
    let (plugin_prompts, plugin_asks) = busy::EditorPrompts::new();
    session.route_plugin_prompts(plugin_prompts.clone());
    let (mut terminal, _guard) = terminal::enter_with(settings.mouse)?;
    let size = terminal.size()?;
    update(&mut session.model, Action::Resize(size.width, size.height));
    let mut redraw = true;
    let mut buttons = view::Buttons::default();
    loop {
        if let Some(sig) = signals.caught() {
            return Ok(Outcome::Signal(sig));
        }
        if redraw {
            if let Err(e) =
                terminal.draw(|f| buttons = view::view(&session.model, &settings.theme, f))
            {
                return if tty.is_gone() {
                    Ok(Outcome::TerminalGone)
                } else {
                    Err(e)
                };
            }
            redraw = false;
        }
        let mut actions = Vec::new();
        match event::next(
            &tty,
            &settings.keymap,
            &session.model.mode,
            &buttons,
            Duration::from_millis(100),
        )? {
            event::Input::Action(a) => actions.push(a),
            event::Input::Idle => {}
            event::Input::Gone => return Ok(Outcome::TerminalGone),
        }
        // Revealed values and a copied one have deadlines (and a countdown to draw).
        if session.model.reveal_until.is_some() || session.model.clip.is_some() {
            actions.insert(0, Action::Tick(std::time::Instant::now()));
        }
        if let Ok(w) = &watch {
            let (mut file, mut config) = (false, false);
            while let Ok(changed) = w.events.try_recv() {
                match changed {
                    watch::Changed::File => file = true,
                    watch::Changed::Config => config = true,
                }
            }
            if file && !session.model.disk_changed && session.changed_on_disk() {
                actions.push(Action::FileChanged);
            }
            if config {
                session.reload_config();
                redraw = true;
            }
        }
        while let Some(action) = actions.pop() {
            redraw = true;
            for effect in update(&mut session.model, action) {
                if effect == Effect::Suspend {
                    terminal::suspend(&mut terminal)?;
                    session.model.info("resumed");
                    continue;
                }
                // A save can take a moment (a key service, a large file): "saving…" shows first.
                if matches!(effect, Effect::Save { .. }) {
                    terminal.draw(|f| buttons = view::view(&session.model, &settings.theme, f))?;
                }
                if let Effect::EditDocument(start) = effect {
                    let result = edit_document_outside(session, start, &mut terminal)?;
                    actions.push(Action::EditedDocument(result));
                    continue;
                }
                if let Effect::EditExternal(addr) = effect {
                    let result = edit_outside(session, &addr, &mut terminal)?;
                    actions.push(Action::EditedExternally { addr, result });
                    continue;
                }
                let result = if busy::waits_on_services(&effect) {
                    let busy = busy::Busy {
                        prompts: &plugin_prompts,
                        asks: &plugin_asks,
                    };
                    busy::perform(session, effect, &mut terminal, &tty, &settings.theme, &busy)?
                } else {
                    session.perform(effect)
                };
                match result {
                    Some(result) => actions.push(result),
                    None => return Ok(Outcome::Quit),
                }
            }
        }
    }
}

/// Runs `$EDITOR` on the whole document as plain text (or on `start`, text kept from a
/// previous try), with the terminal given over meanwhile.
fn edit_document_outside(
    session: &Session,
    start: Option<crate::secret::SecretBuf>,
    terminal: &mut terminal::Term,
) -> std::io::Result<Result<crate::secret::SecretBuf, String>> {
    let m = &session.model;
    let text = match start {
        Some(text) => text,
        None => match crate::store::emit_plain(m.file.format, m.docs(), session.emit_options()) {
            Ok(mut bytes) => crate::secret::SecretBuf::new(std::mem::take(&mut *bytes)),
            Err(e) => return Ok(Err(format!("could not write the document as text: {e}"))),
        },
    };
    // The file's own name, so the editor picks its syntax from the extension.
    let name = std::path::Path::new(&m.file.name)
        .file_name()
        .map_or("document".into(), |n| n.to_string_lossy().into_owned());
    let edited = terminal::away(terminal, || external::edit(&name, text.expose()))?;
    Ok(edited.map(|mut bytes| crate::secret::SecretBuf::new(std::mem::take(&mut *bytes))))
}

/// Runs `$EDITOR` on the value at `addr`, with the terminal given over meanwhile.
fn edit_outside(
    session: &Session,
    addr: &crate::edit::ops::Addr,
    terminal: &mut terminal::Term,
) -> std::io::Result<Result<crate::secret::SecretText, String>> {
    let text = match session.model.item(addr).and_then(|i| i.node()) {
        Some(crate::tree::Node::Leaf(leaf)) => crate::edit::value::text_of(&leaf.value),
        _ => return Ok(Err("the value is gone".into())),
    };
    let edited = terminal::away(terminal, || external::edit("value.txt", text.expose()))?;
    Ok(edited.and_then(|mut bytes| {
        String::from_utf8(std::mem::take(&mut *bytes))
            .map(crate::secret::SecretText::from)
            .map_err(|e| {
                zeroize::Zeroize::zeroize(&mut e.into_bytes());
                "the edited value is not UTF-8 text; nothing changed".to_string()
            })
    }))
}
