//! Undo and redo as stacks of inverse edits, with the point of the last save, so the editor
//! knows whether it is dirty and which places changed since (for marks and the save review).

use crate::edit::ops::{Addr, Op};

/// One undoable step: the edit that reverses it and what it did, for people.
#[derive(Debug)]
pub struct Step {
    /// Applying this undoes (or, on the redo stack, redoes) the step.
    pub op: Op,
    /// What the step did, with the key path and never the value (`changed ["db"]["pass"]`).
    pub label: String,
    /// The place that changed.
    pub touched: Addr,
    /// Everything below `touched` changed too (a new or renamed subtree).
    pub deep: bool,
    /// Part of one change with the step before it (a document edited as a whole): undone and
    /// redone together.
    pub joined: bool,
}

/// The undo and redo stacks.
#[derive(Debug)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// Undo depth at the last save or open; `None` once that state cannot come back.
    saved_at: Option<usize>,
}

impl Default for History {
    fn default() -> Self {
        History {
            undo: Vec::new(),
            redo: Vec::new(),
            saved_at: Some(0),
        }
    }
}

impl History {
    fn saved(&self) -> Option<usize> {
        self.saved_at
    }

    /// Records a step just applied. Redo is lost, as in every editor.
    pub fn record(&mut self, step: Step) {
        if self.saved().is_some_and(|s| s > self.undo.len()) {
            self.saved_at = None;
        }
        self.redo.clear();
        self.undo.push(step);
    }

    /// Takes the step to undo; give it back with `undone` after applying its op.
    pub fn take_undo(&mut self) -> Option<Step> {
        self.undo.pop()
    }

    /// Stores a step's inverse on the redo stack.
    pub fn undone(&mut self, step: Step) {
        self.redo.push(step);
    }

    pub fn take_redo(&mut self) -> Option<Step> {
        self.redo.pop()
    }

    /// Drops the redo stack (the steps of a change taken back because it did not apply).
    pub fn forget_redo(&mut self) {
        self.redo.clear();
    }

    /// Whether the next step to redo belongs to the one just redone.
    pub fn redo_continues(&self) -> bool {
        self.redo.last().is_some_and(|s| s.joined)
    }

    pub fn redone(&mut self, step: Step) {
        self.undo.push(step);
    }

    /// Moves the recorded places after an insert (`inserted`) or a removal at `at`, so they
    /// keep naming the same items.
    pub fn shift(&mut self, at: &Addr, inserted: bool) {
        for step in self.undo.iter_mut().chain(self.redo.iter_mut()) {
            step.touched.shift(at, inserted);
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Whether the document differs from the last save (or the file as opened).
    pub fn dirty(&self) -> bool {
        self.saved() != Some(self.undo.len())
    }

    /// The current state is what the file now holds.
    pub fn mark_saved(&mut self) {
        self.saved_at = Some(self.undo.len());
    }

    /// The steps between the saved state and now (undone ones included when the user went back
    /// past the save), newest last. The flag says whether older, unlisted changes exist.
    pub fn since_save(&self) -> (Vec<&Step>, bool) {
        match self.saved() {
            Some(s) if s <= self.undo.len() => (self.undo[s..].iter().collect(), false),
            Some(s) => {
                let back = s - self.undo.len();
                let n = self.redo.len();
                (
                    self.redo[n.saturating_sub(back)..].iter().rev().collect(),
                    false,
                )
            }
            None => (self.undo.iter().collect(), true),
        }
    }

    /// The edits that lead from the current state back to the saved one, in the order to
    /// apply them; `None` when that state can no longer be reached.
    pub fn ops_back_to_save(&self) -> Option<Vec<&Op>> {
        match self.saved()? {
            s if s <= self.undo.len() => Some(self.undo[s..].iter().rev().map(|s| &s.op).collect()),
            s => {
                let forward = s - self.undo.len();
                let n = self.redo.len();
                (forward <= n).then(|| {
                    self.redo[n - forward..]
                        .iter()
                        .rev()
                        .map(|s| &s.op)
                        .collect()
                })
            }
        }
    }

    /// Whether the row at `addr` changed since the save.
    pub fn touched(&self, addr: &Addr) -> bool {
        let (steps, _) = self.since_save();
        steps.iter().any(|s| {
            if s.deep {
                addr.starts_with(&s.touched)
            } else {
                *addr == s.touched
            }
        })
    }
}
