//! How long plaintext stays in sight: a revealed value masks again after `SESAME_REVEAL_TIME`
//! seconds, a copied one leaves the clipboard after `SESAME_CLIP_TIME` (45 by default, as pass
//! and gopass), and presentation mode (`--no-reveal`) neither reveals nor copies.

use std::time::{Duration, Instant};

/// The settings, from the environment and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privacy {
    /// `None`: revealed values stay revealed until masked by hand (`SESAME_REVEAL_TIME=off`).
    pub reveal_for: Option<Duration>,
    pub clip_for: Duration,
    /// Presentation mode: nothing is revealed or copied.
    pub no_reveal: bool,
}

pub const REVEAL_TIME_VAR: &str = "SESAME_REVEAL_TIME";
pub const CLIP_TIME_VAR: &str = "SESAME_CLIP_TIME";

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            reveal_for: Some(Duration::from_secs(60)),
            clip_for: Duration::from_secs(45),
            no_reveal: false,
        }
    }
}

impl Privacy {
    /// The settings `var` gives (`SESAME_REVEAL_TIME`: seconds, or `0`/`off` for never;
    /// `SESAME_CLIP_TIME`: seconds, at least 1), with presentation mode as asked.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        no_reveal: bool,
    ) -> Result<Privacy, String> {
        let mut p = Privacy {
            no_reveal,
            ..Privacy::default()
        };
        let seconds = |name: &str, text: &str| {
            text.trim().parse::<u64>().map_err(|_| {
                format!("{name}={text:?} is not a number of seconds (for example {name}=30)")
            })
        };
        if let Some(text) = var(REVEAL_TIME_VAR).filter(|t| !t.trim().is_empty()) {
            p.reveal_for = match text.trim() {
                "off" | "0" => None,
                t => Some(Duration::from_secs(seconds(REVEAL_TIME_VAR, t)?)),
            };
        }
        if let Some(text) = var(CLIP_TIME_VAR).filter(|t| !t.trim().is_empty()) {
            p.clip_for = Duration::from_secs(seconds(CLIP_TIME_VAR, &text)?.max(1));
        }
        Ok(p)
    }
}

/// Seconds left until `deadline`, rounded up, for a countdown.
pub fn seconds_left(deadline: Instant, now: Instant) -> u64 {
    let left = deadline.saturating_duration_since(now);
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            owned
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn reads_the_times_and_refuses_what_is_not_one() {
        assert_eq!(Privacy::from_vars(vars(&[]), false), Ok(Privacy::default()));
        let p = Privacy::from_vars(
            vars(&[(REVEAL_TIME_VAR, "off"), (CLIP_TIME_VAR, "10")]),
            true,
        )
        .unwrap();
        assert_eq!(p.reveal_for, None);
        assert_eq!(p.clip_for, Duration::from_secs(10));
        assert!(p.no_reveal);
        let err = Privacy::from_vars(vars(&[(REVEAL_TIME_VAR, "soon")]), false).unwrap_err();
        assert!(err.contains("SESAME_REVEAL_TIME"), "{err}");
    }

    #[test]
    fn counts_down_in_whole_seconds() {
        let now = Instant::now();
        assert_eq!(seconds_left(now + Duration::from_millis(1500), now), 2);
        assert_eq!(seconds_left(now, now + Duration::from_secs(1)), 0);
    }
}
