//! Text from the agent, made safe to show: [`Escaped`] (control characters escaped, cut at a
//! limit) for the messages of every error, [`terminal_safe`] (public as
//! `error::terminal_safe`) for the rest, and [`floor_char_boundary`] for cutting text without
//! splitting a character.
//!
//! It imports nothing from the crate: the errors, the log-stream decoder and the result types
//! all build on it.

use std::fmt;

/// Shows server text on one line: control characters, Unicode direction overrides and line
/// separators escaped (as `str`'s `Debug` escapes them: `\u{1b}`, `\n`, `\0`, …), quotes and
/// backslashes as they are. At most `limit` bytes of the text are shown, then `… (N bytes)`.
pub(crate) struct Escaped<'a> {
    text: &'a str,
    limit: usize,
}

impl<'a> Escaped<'a> {
    pub(crate) fn new(text: &'a str, limit: usize) -> Self {
        Escaped { text, limit }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = floor_char_boundary(self.text, self.limit);
        let shown = &self.text[..end];
        // `escape_debug` also escapes `"`, `'` and `\`, which need no escaping here: write the
        // pieces between them escaped and those three as they are.
        let mut rest = shown;
        while let Some(i) = rest.find(['"', '\'', '\\']) {
            write!(f, "{}", rest[..i].escape_debug())?;
            f.write_str(&rest[i..i + 1])?;
            rest = &rest[i + 1..];
        }
        write!(f, "{}", rest.escape_debug())?;
        if end < self.text.len() {
            write!(f, "… ({} bytes)", self.text.len())?;
        }
        Ok(())
    }
}

/// Text that came from the agent (a log line, a member name, a health message), made safe to
/// print on a terminal: control characters, Unicode direction overrides and line separators are
/// escaped (`\u{1b}`, `\n`, `\0`, …, as `str`'s `Debug` escapes them), everything else is shown
/// as it is, so a hostile or broken endpoint cannot write escape sequences into the user's
/// terminal. The errors of this crate escape the agent's text this way already; use this for the
/// rest. Width and alignment are honoured (`{:<16}`).
///
/// ```
/// let name = "nomad-1\u{1b}[2J";
/// assert_eq!(nomad_proto::terminal_safe(name).to_string(), r"nomad-1\u{1b}[2J");
/// assert_eq!(format!("{:<10}|", nomad_proto::terminal_safe("ok")), "ok        |");
/// ```
#[must_use]
pub fn terminal_safe(text: &str) -> TerminalSafe<'_> {
    TerminalSafe(text)
}

/// Agent text shown with its control characters escaped: see [`terminal_safe`].
#[derive(Clone, Copy, Debug)]
pub struct TerminalSafe<'a>(&'a str);

impl fmt::Display for TerminalSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = Escaped::new(self.0, usize::MAX);
        if f.width().is_some() || f.precision().is_some() {
            f.pad(&escaped.to_string())
        } else {
            fmt::Display::fmt(&escaped, f)
        }
    }
}

/// The largest char boundary of `s` at or below `max` (for cutting text without splitting a
/// character).
pub(crate) fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}
