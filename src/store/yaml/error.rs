//! YAML syntax errors, worded and numbered like go-yaml's (`yaml: line N: problem`).

use std::fmt;

/// A position in the input: byte offset, 0-based line, 0-based column in characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub index: usize,
    pub line: u32,
    pub column: u32,
}

impl Mark {
    #[inline]
    pub fn new(index: usize, line: usize, column: usize) -> Self {
        Mark {
            index,
            line: line.min(u32::MAX as usize) as u32,
            column: column.min(u32::MAX as usize) as u32,
        }
    }
}

/// Which stage failed; go-yaml numbers lines differently for scanner errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Scanner,
    Parser,
    Other,
}

/// A YAML error, formatted as go-yaml formats it.
#[derive(Debug, Clone)]
pub(super) struct YamlError {
    stage: Stage,
    context_line: u32,
    problem_line: u32,
    problem: String,
}

impl YamlError {
    /// A scanner error; go-yaml records the current position as the problem mark.
    pub fn scanner(context_mark: Mark, problem_mark: Mark, problem: &str) -> Box<Self> {
        Box::new(YamlError {
            stage: Stage::Scanner,
            context_line: context_mark.line,
            problem_line: problem_mark.line,
            problem: problem.to_string(),
        })
    }

    pub fn parser(context_mark: Option<Mark>, problem_mark: Mark, problem: &str) -> Box<Self> {
        Box::new(YamlError {
            stage: Stage::Parser,
            context_line: context_mark.map_or(0, |m| m.line),
            problem_line: problem_mark.line,
            problem: problem.to_string(),
        })
    }

    /// An error with a complete message (go-yaml's `failf` texts include `yaml: `).
    pub fn other(message: impl Into<String>) -> Box<Self> {
        Box::new(YamlError {
            stage: Stage::Other,
            context_line: 0,
            problem_line: 0,
            problem: message.into(),
        })
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sops compat: go-yaml's `parser.fail` prefers the context line, adds one only for
        // scanner errors, and omits the line when it is 0.
        let bump = u32::from(self.stage == Stage::Scanner);
        let line = if self.context_line != 0 {
            self.context_line + bump
        } else if self.problem_line != 0 {
            self.problem_line + bump
        } else {
            0
        };
        if self.stage == Stage::Other {
            write!(f, "{}", self.problem)
        } else if line == 0 {
            write!(f, "yaml: {}", self.problem)
        } else {
            write!(f, "yaml: line {line}: {}", self.problem)
        }
    }
}

/// Errors are boxed so that results stay small on the hot paths.
pub(super) type YResult<T> = Result<T, Box<YamlError>>;
