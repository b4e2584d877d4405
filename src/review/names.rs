//! People's names for recipients, as teams write them into `.sops.yaml`: YAML anchors
//! (`- &alice age1…`), a comment after the key (`age1… # alice`), or a comment line right
//! above it. Reports say `age1… (alice)` instead of a bare key.

use std::collections::HashMap;

/// Recipient identifier → name.
#[derive(Clone, Debug, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    /// The names found in a `.sops.yaml`'s text.
    pub fn from_config(text: &str) -> Names {
        let mut names = HashMap::new();
        let mut comment_above: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if let Some(c) = trimmed.strip_prefix('#') {
                comment_above = Some(c.trim().to_string()).filter(|c| !c.is_empty());
                continue;
            }
            let (code, comment) = match trimmed.split_once(" #") {
                Some((code, c)) => (code.trim(), Some(c.trim().to_string())),
                None => (trimmed, None),
            };
            // The value: after a list dash or a `key:`.
            let value = code
                .strip_prefix("- ")
                .or_else(|| code.split_once(": ").map(|(_, v)| v))
                .unwrap_or("")
                .trim();
            let (anchor, value) = match value.strip_prefix('&') {
                Some(rest) => match rest.split_once(char::is_whitespace) {
                    Some((a, v)) => (Some(a.to_string()), v.trim()),
                    None => (None, ""),
                },
                None => (None, value),
            };
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            let ids: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|v| looks_like_key(v))
                .collect();
            // A name only where it names one key.
            if ids.len() == 1 {
                let name = anchor.or(comment).or(comment_above.take());
                if let Some(name) = name.filter(|n| !n.is_empty()) {
                    names.entry(ids[0].to_string()).or_insert(name);
                }
            }
            comment_above = None;
        }
        Names(names)
    }

    /// Names `id` unless it has a name already (PGP user ids, for keys `.sops.yaml` does not
    /// name).
    pub fn add(&mut self, id: &str, name: String) {
        self.0.entry(id.to_string()).or_insert(name);
    }

    /// `id (name)`, or `id` when it has no name. PGP fingerprints match case-insensitively
    /// and with or without spaces.
    pub fn label(&self, id: &str) -> String {
        match self.name(id) {
            Some(n) => format!("{id} ({n})"),
            None => id.to_string(),
        }
    }

    pub fn name(&self, id: &str) -> Option<&str> {
        if let Some(n) = self.0.get(id) {
            return Some(n);
        }
        let norm = |s: &str| s.replace(' ', "").to_ascii_uppercase();
        let want = norm(id);
        self.0
            .iter()
            .find(|(k, _)| norm(k) == want)
            .map(|(_, n)| n.as_str())
    }
}

/// Whether a token looks like a recipient: an age key, a PGP fingerprint, a cloud key id.
fn looks_like_key(v: &str) -> bool {
    v.len() >= 16
        && !v.contains(' ')
        && (v.starts_with("age1")
            || v.starts_with("arn:")
            || v.starts_with("projects/")
            || v.starts_with("https://")
            || v.starts_with("http://")
            || v.chars().all(|c| c.is_ascii_hexdigit())
            || v.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_trailing_comments_and_comment_lines_name_keys() {
        let names = Names::from_config(
            "keys:\n  - &alice age1aaaaaaaaaaaaaaaaaaaa\n  # bob's laptop\n  - age1bbbbbbbbbbbbbbbbbbbb\n  - age1cccccccccccccccccccc # carol\n  - 0123456789ABCDEF0123456789ABCDEF01234567 # dave\ncreation_rules:\n  - age: age1dddddddddddddddddddd,age1eeeeeeeeeeeeeeeeeeee\n",
        );
        assert_eq!(
            names.label("age1aaaaaaaaaaaaaaaaaaaa"),
            "age1aaaaaaaaaaaaaaaaaaaa (alice)"
        );
        assert_eq!(names.name("age1bbbbbbbbbbbbbbbbbbbb"), Some("bob's laptop"));
        assert_eq!(names.name("age1cccccccccccccccccccc"), Some("carol"));
        assert_eq!(
            names.name("0123456789abcdef0123456789abcdef01234567"),
            Some("dave")
        );
        assert_eq!(names.name("age1dddddddddddddddddddd"), None);
    }
}
