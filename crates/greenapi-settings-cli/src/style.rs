//! Terminal colours, only when wanted: `--color always|never`, else what `anstream` decides for
//! stdout from the conventions people set once for every tool (`NO_COLOR`, `CLICOLOR=0`,
//! `CLICOLOR_FORCE=1`, `TERM=dumb`, a terminal or not). The colours are `anstyle` styles.

use anstyle::{AnsiColor, Effects};

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// `always` and `never` are the flag's word; `auto` asks `anstream` about stdout:
    /// `NO_COLOR` (any value) turns colours off, then `CLICOLOR_FORCE` turns them on even
    /// through a pipe, then `CLICOLOR=0` turns them off; otherwise a colour terminal gets them.
    pub fn from_choice(choice: &str) -> Style {
        let color = match choice {
            "always" => true,
            "never" => false,
            _ => anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never,
        };
        Style { color }
    }

    /// No colours.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, style: anstyle::Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }

    fn fg(&self, color: AnsiColor, s: &str) -> String {
        self.paint(anstyle::Style::new().fg_color(Some(color.into())), s)
    }

    /// Removed / failed.
    pub fn red(&self, s: &str) -> String {
        self.fg(AnsiColor::Red, s)
    }

    /// Added / ok.
    pub fn green(&self, s: &str) -> String {
        self.fg(AnsiColor::Green, s)
    }

    /// Warnings.
    pub fn yellow(&self, s: &str) -> String {
        self.fg(AnsiColor::Yellow, s)
    }

    /// Headings.
    pub fn bold(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::BOLD), s)
    }

    /// Quiet detail.
    pub fn dim(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::DIMMED), s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_render_the_plain_sgr_codes_and_reset() {
        let s = Style::from_choice("always");
        assert_eq!(s.red("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(s.green("x"), "\x1b[32mx\x1b[0m");
        assert_eq!(s.yellow("x"), "\x1b[33mx\x1b[0m");
        assert_eq!(s.bold("x"), "\x1b[1mx\x1b[0m");
        assert_eq!(s.dim("x"), "\x1b[2mx\x1b[0m");
        assert_eq!(Style::from_choice("never").red("x"), "x");
    }
}
