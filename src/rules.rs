//! Which values get encrypted: the six selection rules of sops (suffixes, key regexes and
//! comment regexes), evaluated against a value's key path and comment context.

use regex::Regex;

/// Which of the six rules a file uses; the names are the metadata and `.sops.yaml` field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    UnencryptedSuffix,
    EncryptedSuffix,
    UnencryptedRegex,
    EncryptedRegex,
    UnencryptedCommentRegex,
    EncryptedCommentRegex,
}

impl RuleKind {
    pub const ALL: [RuleKind; 6] = [
        RuleKind::UnencryptedSuffix,
        RuleKind::EncryptedSuffix,
        RuleKind::UnencryptedRegex,
        RuleKind::EncryptedRegex,
        RuleKind::UnencryptedCommentRegex,
        RuleKind::EncryptedCommentRegex,
    ];

    pub fn field(self) -> &'static str {
        match self {
            RuleKind::UnencryptedSuffix => "unencrypted_suffix",
            RuleKind::EncryptedSuffix => "encrypted_suffix",
            RuleKind::UnencryptedRegex => "unencrypted_regex",
            RuleKind::EncryptedRegex => "encrypted_regex",
            RuleKind::UnencryptedCommentRegex => "unencrypted_comment_regex",
            RuleKind::EncryptedCommentRegex => "encrypted_comment_regex",
        }
    }

    pub fn from_field(name: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.field() == name)
    }

    /// The command-line flag that sets this rule.
    pub fn flag(self) -> String {
        format!("--{}", self.field().replace('_', "-"))
    }

    fn is_comment_rule(self) -> bool {
        matches!(
            self,
            RuleKind::UnencryptedCommentRegex | RuleKind::EncryptedCommentRegex
        )
    }
}

/// The message sops gives when more than one rule is set.
pub const MORE_THAN_ONE_RULE: &str = "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file";

/// A selection rule as stored in a file: its kind and pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub kind: RuleKind,
    pub pattern: String,
}

impl Rule {
    pub fn new(kind: RuleKind, pattern: impl Into<String>) -> Rule {
        Rule {
            kind,
            pattern: pattern.into(),
        }
    }

    /// sops compat: a file without a rule behaves as if `unencrypted_suffix: _unencrypted` were set.
    pub fn default_suffix() -> Rule {
        Rule::new(RuleKind::UnencryptedSuffix, "_unencrypted")
    }
}

/// A rule ready to evaluate (regexes compiled once).
#[derive(Clone, Debug)]
pub struct Selector {
    kind: RuleKind,
    pattern: String,
    /// sops compat: a regex that does not compile matches nothing (sops ignores the error).
    regex: Option<Regex>,
}

impl Selector {
    pub fn new(rule: &Rule) -> Selector {
        let regex = match rule.kind {
            RuleKind::UnencryptedSuffix | RuleKind::EncryptedSuffix => None,
            _ => Regex::new(&rule.pattern).ok(),
        };
        Selector {
            kind: rule.kind,
            pattern: rule.pattern.clone(),
            regex,
        }
    }

    /// Whether this rule looks at comments (and so needs a comment context while walking).
    pub fn uses_comments(&self) -> bool {
        self.kind.is_comment_rule()
    }

    fn matches(&self, text: &[u8]) -> bool {
        match self.kind {
            RuleKind::UnencryptedSuffix | RuleKind::EncryptedSuffix => {
                text.ends_with(self.pattern.as_bytes())
            }
            _ => match (&self.regex, std::str::from_utf8(text)) {
                (Some(re), Ok(s)) => re.is_match(s),
                (Some(re), Err(_)) => re.is_match(&String::from_utf8_lossy(text)),
                (None, _) => false,
            },
        }
    }

    /// Whether a key matches, for the path rules: the walker ORs this over the path.
    pub fn key_matches(&self, key: &str) -> bool {
        !self.uses_comments() && self.matches(key.as_bytes())
    }

    /// Whether the unencrypted-comment-regex would match a given (encrypted) comment text.
    pub fn unencrypted_comment_matches(&self, text: &str) -> bool {
        self.kind == RuleKind::UnencryptedCommentRegex && self.matches(text.as_bytes())
    }

    /// Decides encryption for a value or comment.
    ///
    /// `path_matched`: some key on the path matched (path rules). `comments`: the comment groups
    /// open on the stack, innermost last (comment rules). `is_comment`: the item is a comment.
    pub fn should_encrypt(
        &self,
        path_matched: bool,
        comments: &[Vec<Vec<u8>>],
        is_comment: bool,
    ) -> bool {
        match self.kind {
            RuleKind::UnencryptedSuffix | RuleKind::UnencryptedRegex => !path_matched,
            RuleKind::EncryptedSuffix | RuleKind::EncryptedRegex => path_matched,
            RuleKind::UnencryptedCommentRegex => {
                !comments.iter().flatten().any(|c| self.matches(c))
            }
            RuleKind::EncryptedCommentRegex => {
                // sops compat: a comment is not encrypted because of itself, only because of an
                // earlier comment; so the last comment of the innermost group is skipped.
                let last_group = comments.len().saturating_sub(1);
                comments.iter().enumerate().any(|(i, group)| {
                    let skip_last = is_comment && i == last_group;
                    let n = if skip_last {
                        group.len().saturating_sub(1)
                    } else {
                        group.len()
                    };
                    group[..n].iter().any(|c| self.matches(c))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_rules() {
        let s = Selector::new(&Rule::default_suffix());
        assert!(s.key_matches("a_unencrypted"));
        assert!(!s.key_matches("a"));
        assert!(s.should_encrypt(false, &[], false));
        assert!(!s.should_encrypt(true, &[], false));
        let e = Selector::new(&Rule::new(RuleKind::EncryptedRegex, "^data$"));
        assert!(e.key_matches("data"));
        assert!(!e.key_matches("metadata"));
        assert!(e.should_encrypt(true, &[], false));
        assert!(!e.should_encrypt(false, &[], false));
    }

    #[test]
    fn bad_regex_matches_nothing() {
        let s = Selector::new(&Rule::new(RuleKind::UnencryptedRegex, "("));
        assert!(!s.key_matches("("));
    }

    #[test]
    fn comment_rules() {
        let enc = Selector::new(&Rule::new(RuleKind::EncryptedCommentRegex, "sops:enc"));
        let marker = vec![b" sops:enc".to_vec()];
        // A value under the marker is encrypted; the marker comment itself is not.
        assert!(enc.should_encrypt(false, std::slice::from_ref(&marker), false));
        assert!(!enc.should_encrypt(false, std::slice::from_ref(&marker), true));
        // A second comment after the marker is.
        let two = vec![b" sops:enc".to_vec(), b" next".to_vec()];
        assert!(enc.should_encrypt(false, &[two], true));
        // Outer groups stay visible to nested items.
        assert!(enc.should_encrypt(false, &[marker, vec![b" x".to_vec()]], true));

        let unenc = Selector::new(&Rule::new(RuleKind::UnencryptedCommentRegex, "plain"));
        assert!(!unenc.should_encrypt(false, &[vec![b" plain".to_vec()]], false));
        assert!(unenc.should_encrypt(false, &[vec![b" other".to_vec()]], false));
    }
}
