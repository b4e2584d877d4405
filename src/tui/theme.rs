//! Colour themes: TOML files in `themes/` compiled in, read with serde, offering semantic
//! styles (encrypted, plain, changed, error, ...). With `NO_COLOR` set there are no colours and
//! meaning is carried by modifiers (bold, italic, reverse) alone.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::str::FromStr;

/// The themes shipped with sesame, by name.
pub const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    bold_marks: bool,
    colors: Colors,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Colors {
    text: String,
    muted: String,
    key: String,
    encrypted: String,
    plain: String,
    changed: String,
    error: String,
    warning: String,
    title_fg: String,
    title_bg: String,
    selection_fg: String,
    selection_bg: String,
    border: String,
}

/// Semantic styles for every part of the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub key: Style,
    pub encrypted: Style,
    pub plain: Style,
    pub changed: Style,
    pub error: Style,
    pub warning: Style,
    pub title: Style,
    pub selection: Style,
    pub border: Style,
}

/// A theme that is unknown or does not read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ThemeError(String);

fn color(name: &str, field: &str, value: &str) -> Result<Color, ThemeError> {
    Color::from_str(value).map_err(|_| {
        ThemeError(format!(
            "theme {name}: colors.{field} = {value:?} is not a colour (use a name like \"red\", #rrggbb or 0-255)"
        ))
    })
}

impl Theme {
    /// A built-in theme by name.
    pub fn named(name: &str) -> Result<Theme, ThemeError> {
        let text = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                ThemeError(format!(
                    "unknown theme {name:?}\nhint: use one of {} (--theme or SESAME_THEME)",
                    names.join(", ")
                ))
            })?;
        Theme::parse(text)
    }

    /// Reads a theme file's text.
    pub fn parse(text: &str) -> Result<Theme, ThemeError> {
        let f: ThemeFile =
            toml::from_str(text).map_err(|e| ThemeError(format!("theme does not read: {e}")))?;
        let c = &f.colors;
        let n = f.name.as_str();
        let fg = |field: &str, v: &str| color(n, field, v).map(|c| Style::new().fg(c));
        let marks = if f.bold_marks {
            Modifier::BOLD
        } else {
            Modifier::empty()
        };
        Ok(Theme {
            text: fg("text", &c.text)?,
            muted: fg("muted", &c.muted)?,
            key: fg("key", &c.key)?,
            encrypted: fg("encrypted", &c.encrypted)?.add_modifier(marks),
            plain: fg("plain", &c.plain)?.add_modifier(marks | Modifier::ITALIC),
            changed: fg("changed", &c.changed)?.add_modifier(Modifier::BOLD),
            error: fg("error", &c.error)?.add_modifier(Modifier::BOLD),
            warning: fg("warning", &c.warning)?.add_modifier(Modifier::BOLD),
            title: fg("title_fg", &c.title_fg)?
                .bg(color(n, "title_bg", &c.title_bg)?)
                .add_modifier(Modifier::BOLD),
            selection: fg("selection_fg", &c.selection_fg)?.bg(color(
                n,
                "selection_bg",
                &c.selection_bg,
            )?),
            border: fg("border", &c.border)?,
            name: f.name,
        })
    }

    /// No colours at all (`NO_COLOR`): meaning by modifiers only.
    pub fn no_color() -> Theme {
        let s = Style::new();
        Theme {
            name: "no-color".into(),
            text: s,
            muted: s.add_modifier(Modifier::DIM),
            key: s,
            encrypted: s,
            plain: s.add_modifier(Modifier::ITALIC),
            changed: s.add_modifier(Modifier::BOLD),
            error: s.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            warning: s.add_modifier(Modifier::BOLD),
            title: s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            selection: s.add_modifier(Modifier::REVERSED),
            border: s,
        }
    }

    /// The theme to use: `NO_COLOR` (set and non-empty, per no-color.org) wins, then the name
    /// given (`--theme` / `SESAME_THEME`), else dark.
    pub fn choose(name: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        let name = name.filter(|n| !n.is_empty()).unwrap_or("dark");
        let theme = Theme::named(name)?;
        Ok(if no_color { Theme::no_color() } else { theme })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG contrast of a colour against white.
    fn contrast_on_white(c: Color) -> f64 {
        let Color::Rgb(r, g, b) = c else {
            panic!("an RGB colour: {c:?}")
        };
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        1.05 / (l + 0.05)
    }

    #[test]
    fn the_light_themes_labels_are_readable_on_white() {
        let t = Theme::named("light").unwrap();
        for (what, style) in [("muted", t.muted), ("border", t.border)] {
            let ratio = contrast_on_white(style.fg.unwrap());
            assert!(ratio >= 4.5, "{what}: {ratio:.1}:1");
        }
    }

    #[test]
    fn every_builtin_theme_reads_and_marks_differ() {
        for (name, _) in BUILTIN {
            let t = Theme::named(name).unwrap();
            assert_eq!(t.name, name);
            assert_ne!(t.encrypted, t.plain, "{name}");
            assert_ne!(t.changed, t.text, "{name}");
        }
    }

    #[test]
    fn unknown_names_and_bad_colours_are_explained() {
        let e = Theme::named("neon").unwrap_err().to_string();
        assert!(e.contains("high-contrast"), "{e}");
        let bad = BUILTIN[0].1.replace("\"green\"", "\"greenish\"");
        let e = Theme::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("colors.encrypted"), "{e}");
    }

    #[test]
    fn no_color_uses_modifiers_only() {
        let t = Theme::choose(Some("light"), true).unwrap();
        for s in [t.encrypted, t.plain, t.changed, t.error, t.selection] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert_ne!(t.plain, t.encrypted);
        assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
    }
}
