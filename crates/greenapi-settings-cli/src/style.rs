//! Terminal colours, only when wanted (`--color`, `NO_COLOR`, a terminal).

use std::io::IsTerminal;

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// `auto` colours when stdout is a terminal and `NO_COLOR` is unset.
    pub fn from_choice(choice: &str) -> Style {
        let color = match choice {
            "always" => true,
            "never" => false,
            _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Style { color }
    }

    /// No colours.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Removed / failed.
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }

    /// Added / ok.
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }

    /// Warnings.
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }

    /// Headings.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    /// Quiet detail.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}
