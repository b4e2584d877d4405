//! Work that may wait on a key service or an age plugin (save, reload) runs on a worker thread
//! while the loop keeps drawing: the screen as it was, with a box saying what is being waited
//! for and for how long. Esc asks the work to stop before its next key; a call already made ends
//! by its answer or its timeout (`SESAME_SERVICE_TIMEOUT`), and a stopped save writes nothing.
//! An age plugin's messages and questions (a PIN) are shown and answered in that box.

use crate::keys::age::PluginPrompts;
use crate::tui::action::Action;
use crate::tui::event::{self, Tty};
use crate::tui::session::Session;
use crate::tui::terminal::Term;
use crate::tui::theme::Theme;
use crate::tui::update::Effect;
use crate::tui::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Whether an effect may wait on a key service (and so runs in the background).
pub fn waits_on_services(effect: &Effect) -> bool {
    matches!(effect, Effect::Save { .. } | Effect::Reload)
}

/// What an age plugin wants from the person at the keyboard.
pub enum Ask {
    Message(String),
    Question {
        text: String,
        hidden: bool,
        reply: Sender<Option<Zeroizing<String>>>,
    },
}

/// Plugin prompts that go to the editor's box; unanswered (`None`) when no work is running in
/// the background, since nothing would show them.
pub struct EditorPrompts {
    asks: Sender<Ask>,
    listening: AtomicBool,
}

impl EditorPrompts {
    pub fn new() -> (std::sync::Arc<EditorPrompts>, Receiver<Ask>) {
        let (asks, rx) = channel();
        let prompts = EditorPrompts {
            asks,
            listening: AtomicBool::new(false),
        };
        (std::sync::Arc::new(prompts), rx)
    }

    fn ask(&self, text: &str, hidden: bool) -> Option<Zeroizing<String>> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        let (reply, answer) = channel();
        let text = text.to_string();
        self.asks
            .send(Ask::Question {
                text,
                hidden,
                reply,
            })
            .ok()?;
        answer.recv().ok().flatten()
    }
}

impl PluginPrompts for EditorPrompts {
    fn message(&self, text: &str) {
        let _ = self.asks.send(Ask::Message(text.to_string()));
    }
    fn confirm(&self, text: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let choices = match no {
            Some(no) => format!("{text} (type {yes} or {no})"),
            None => format!("{text} (type {yes})"),
        };
        let answer = self.ask(&choices, false)?;
        Some(no.is_none() || answer.trim().eq_ignore_ascii_case(yes))
    }
    fn public(&self, text: &str) -> Option<String> {
        self.ask(text, false).map(|a| a.to_string())
    }
    fn secret(&self, text: &str) -> Option<Zeroizing<String>> {
        self.ask(text, true)
    }
}

/// Where the background work gets its prompts answered.
pub struct Busy<'a> {
    pub prompts: &'a EditorPrompts,
    pub asks: &'a Receiver<Ask>,
}

/// Runs `effect` on a worker thread, drawing progress (and plugin prompts) until it ends; its
/// result as `perform` gives it.
pub fn perform(
    session: &mut Session,
    effect: Effect,
    terminal: &mut Term,
    tty: &Tty,
    theme: &Theme,
    busy: &Busy,
) -> io::Result<Option<Action>> {
    let what = match effect {
        Effect::Reload => format!("Reloading {}", session.model.file.name),
        _ => format!("Saving {}", session.model.file.name),
    };
    let progress = session.progress();
    progress.reset();
    let frozen = terminal
        .draw(|f| {
            view::view(&session.model, theme, f);
        })?
        .buffer
        .clone();
    let started = Instant::now();
    busy.prompts.listening.store(true, Ordering::SeqCst);
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(|| session.perform(effect));
        let mut stopping = false;
        let mut said: Option<String> = None;
        while !worker.is_finished() {
            match busy.asks.try_recv() {
                Ok(Ask::Message(text)) => said = Some(text),
                Ok(Ask::Question {
                    text,
                    hidden,
                    reply,
                }) => {
                    let answer = read_answer(terminal, tty, theme, &frozen, &text, hidden)?;
                    let _ = reply.send(answer);
                    continue;
                }
                Err(_) => {}
            }
            let line = status(
                &what,
                started.elapsed(),
                progress.asking(),
                said.as_deref(),
                stopping,
            );
            terminal.draw(|f| {
                f.buffer_mut().merge(&frozen);
                draw(f, " working ", &line, theme);
            })?;
            if let Some(key) = event::key(tty, Duration::from_millis(100))?
                && is_stop(&key)
                && !stopping
            {
                progress.cancel();
                stopping = true;
            }
        }
        worker
            .join()
            .map_err(|_| io::Error::other(format!("{what} failed unexpectedly")))
    });
    busy.prompts.listening.store(false, Ordering::SeqCst);
    // A question asked as the work ended gets no answer.
    while let Ok(ask) = busy.asks.try_recv() {
        if let Ask::Question { reply, .. } = ask {
            let _ = reply.send(None);
        }
    }
    result
}

fn is_stop(key: &KeyEvent) -> bool {
    key.code == KeyCode::Esc
        || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
}

/// Reads one line in the box (masked when `hidden`); Esc declines.
fn read_answer(
    terminal: &mut Term,
    tty: &Tty,
    theme: &Theme,
    frozen: &ratatui::buffer::Buffer,
    question: &str,
    hidden: bool,
) -> io::Result<Option<Zeroizing<String>>> {
    let mut answer = Zeroizing::new(String::new());
    loop {
        let shown = if hidden {
            "•".repeat(answer.chars().count())
        } else {
            answer.to_string()
        };
        let line = format!("{question}: {shown}▏ · Enter answers · Esc declines");
        terminal.draw(|f| {
            f.buffer_mut().merge(frozen);
            draw(f, " age plugin ", &line, theme);
        })?;
        let Some(key) = event::key(tty, Duration::from_millis(200))? else {
            continue;
        };
        match key.code {
            KeyCode::Enter => return Ok(Some(answer)),
            _ if is_stop(&key) => return Ok(None),
            KeyCode::Backspace => {
                answer.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => answer.push(c),
            _ => {}
        }
    }
}

/// "Saving x.yaml… 3 s · waiting for GCP KMS key … · Esc stops".
fn status(
    what: &str,
    elapsed: Duration,
    asking: Option<String>,
    said: Option<&str>,
    stopping: bool,
) -> String {
    let mut line = format!("{what}… {} s", elapsed.as_secs());
    if let Some(asking) = asking {
        line.push_str(&format!(" · waiting for {asking}"));
    }
    if let Some(said) = said {
        line.push_str(&format!(" · the age plugin says: {said}"));
    }
    line.push_str(if stopping {
        " · stopping: nothing more is asked; the call in flight ends by its answer or its timeout"
    } else {
        " · Esc stops"
    });
    line
}

fn draw(f: &mut ratatui::Frame, title: &str, line: &str, theme: &Theme) {
    let area = f.area();
    let chars = line.chars().count() as u16 + 4;
    let width = area.width.saturating_sub(4).min(chars).max(10);
    let height = (3 + chars.saturating_sub(1) / width.saturating_sub(2).max(1)).min(area.height);
    let rect = Rect {
        x: area.x + area.width.saturating_sub(width) / 2,
        y: area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    };
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(Line::styled(line.to_string(), theme.text))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border)
                    .title(Line::styled(title.to_string(), theme.title)),
            ),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_says_what_is_waited_for() {
        let s = status(
            "Saving a.yaml",
            Duration::from_secs(3),
            Some("GCP KMS key projects/p".into()),
            None,
            false,
        );
        assert_eq!(
            s,
            "Saving a.yaml… 3 s · waiting for GCP KMS key projects/p · Esc stops"
        );
        let s = status(
            "Saving a.yaml",
            Duration::ZERO,
            None,
            Some("touch it"),
            true,
        );
        assert!(s.contains("the age plugin says: touch it") && s.contains("stopping"));
    }

    #[test]
    fn prompts_are_unanswered_when_nothing_listens() {
        let (prompts, asks) = EditorPrompts::new();
        assert!(prompts.secret("PIN").is_none());
        prompts.listening.store(true, Ordering::SeqCst);
        let answering = std::thread::spawn(move || {
            if let Ok(Ask::Question {
                text,
                hidden,
                reply,
            }) = asks.recv()
            {
                assert!(hidden && text == "PIN");
                reply.send(Some(Zeroizing::new("4711".into()))).unwrap();
            }
        });
        assert_eq!(prompts.secret("PIN").unwrap().as_str(), "4711");
        answering.join().unwrap();
    }
}
