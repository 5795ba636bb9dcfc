//! What the operator tools share (included by each with `#[path = "support/mod.rs"] mod support;`):
//! flags parsed as Go's `flag` package parses the `nomad` CLI's, Go durations, the exit codes,
//! terminal-safe text, `columnize`-style tables and JSON output. Nothing here talks to an agent.
//!
//! Each tool uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Exit code of a usage error (a flag or argument the tool does not take), as the tools document.
pub const EXIT_USAGE: i32 = 2;

/// Prints `problem` and the usage line on stderr, and exits 2.
pub fn usage_error(usage: &str, problem: &str) -> ! {
    eprintln!("{problem}");
    eprintln!("usage: {usage}");
    std::process::exit(EXIT_USAGE);
}

/// Prints `error` on stderr as one line (`error: …`) and exits 1. The library's errors escape
/// the agent's control characters in their `Display`.
pub fn fail(error: impl fmt::Display) -> ! {
    eprintln!("error: {error}");
    std::process::exit(1);
}

/// The agent address the tool talks to: `NOMAD_ADDR` when it is set and not empty, else `None`,
/// and the tool starts the bundled test agent (or test cluster) instead.
pub fn nomad_addr() -> Option<String> {
    std::env::var("NOMAD_ADDR").ok().filter(|addr| !addr.is_empty())
}

/// Says on stderr that the tool runs against the bundled test double.
pub fn announce_demo(what: &str, url: &str) {
    eprintln!("No NOMAD_ADDR: started the bundled {what} at {url} (a loopback Nomad test double)");
}

/// The flags a tool takes, parsed as Go's `flag` package does for the `nomad` CLI: `-name` or
/// `--name`; a value as `-name=value` or `-name value`; a boolean as `-name` or `-name=true`;
/// parsing stops at the first argument that is not a flag, or after `--`.
#[derive(Debug, Default)]
pub struct Flags {
    bools: BTreeMap<&'static str, bool>,
    values: BTreeMap<&'static str, String>,
    known_values: Vec<&'static str>,
    /// The arguments after the flags.
    pub rest: Vec<String>,
}

impl Flags {
    /// Parses `args` (without the program name): `bools` are the boolean flags, `values` the
    /// flags that take a value. `-h`, `-help` and `--help` print `usage` and exit 0; anything
    /// else that is not one of the flags is a usage error (exit 2).
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        bools: &[&'static str],
        values: &[&'static str],
        usage: &str,
    ) -> Flags {
        let mut flags = Flags {
            known_values: values.to_vec(),
            ..Flags::default()
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--" {
                break;
            }
            let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                flags.rest.push(arg);
                break;
            };
            if body.is_empty() {
                // A lone `-` is an argument (Go: "-" is a non-flag).
                flags.rest.push(arg);
                break;
            }
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (body, None),
            };
            if matches!(name, "h" | "help") {
                println!("usage: {usage}");
                std::process::exit(0);
            }
            if let Some(&flag) = bools.iter().find(|b| **b == name) {
                let on = match inline.as_deref() {
                    None => true,
                    Some(v) => nomad_blocking::proto::config::parse_go_bool(v)
                        .unwrap_or_else(|| usage_error(usage, &format!("invalid boolean value {v:?} for -{name}"))),
                };
                flags.bools.insert(flag, on);
            } else if let Some(&flag) = values.iter().find(|v| **v == name) {
                let value = match inline {
                    Some(v) => v,
                    None => args
                        .next()
                        .unwrap_or_else(|| usage_error(usage, &format!("flag needs an argument: -{name}"))),
                };
                flags.values.insert(flag, value);
            } else {
                usage_error(usage, &format!("flag provided but not defined: -{name}"));
            }
        }
        flags.rest.extend(args);
        flags
    }

    /// Whether the boolean flag `name` is set.
    pub fn on(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }

    /// The value of flag `name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        debug_assert!(self.known_values.contains(&name), "-{name} is not a value flag");
        self.values.get(name).map(String::as_str)
    }

    /// The value of flag `name` as a Go duration (`500ms`, `3s`, `1m30s`), or `default`; a value
    /// that does not parse is a usage error.
    pub fn duration(&self, name: &str, default: Duration, usage: &str) -> Duration {
        match self.value(name) {
            None => default,
            Some(v) => parse_duration(v)
                .unwrap_or_else(|e| usage_error(usage, &format!("invalid value {v:?} for -{name}: {e}"))),
        }
    }
}

/// Parses a Go duration: a sequence of decimal numbers, each with a unit (`ns`, `us`, `µs`, `ms`,
/// `s`, `m`, `h`), such as `300ms`, `1.5s` or `1m30s`; `0` alone is zero. No sign.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {text:?}"))?;
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("unknown unit {unit:?} in duration {text:?}")),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("duration {text:?} out of range"))
}

/// A duration as Go prints one (`1s`, `1.5s`, `500ms`, `2m0s`), for messages.
pub fn show_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        let whole = d.as_secs();
        format!("{}m{}s", whole / 60, whole % 60)
    } else if secs >= 1.0 || d.is_zero() {
        format!("{}s", (secs * 1000.0).round() / 1000.0)
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `text` from the agent, escaped for a terminal: control characters, Unicode direction
/// overrides and line separators written as `\u{1b}`, `\n`, … (the library's
/// [`terminal_safe`](nomad_blocking::proto::terminal_safe), as its errors show the agent's text).
pub fn esc(text: &str) -> String {
    nomad_blocking::proto::terminal_safe(text).to_string()
}

/// Whether a terminal could act on `c` rather than show it (for JSON output, which escapes only
/// the ASCII controls): a control character (but tab), a Unicode direction mark or override, a
/// line or paragraph separator.
fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Lays out `rows` (the first one the header) as the `nomad` CLI's tables
/// (`github.com/ryanuber/columnize`): columns left-aligned, two spaces apart, the last one not
/// padded. Cells are escaped for the terminal.
pub fn columnize(rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| esc(cell.trim())).collect())
        .collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes `text` to stdout. A reader that went away (`… | head`) ends the tool quietly with
/// exit code 0, as it would a Unix filter; another write error is an error.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        fail(format!("cannot write to stdout: {e}"));
    }
}

/// Writes `line` and a newline to stdout (see [`out`]).
pub fn outln(line: &str) {
    out(&format!("{line}\n"));
}

/// JSON text with what a terminal could act on written as `\uXXXX` escapes. serde_json
/// escapes the C0 controls in strings already; DEL, the C1 controls (`U+009B` starts an escape
/// sequence on some terminals) and the direction overrides it writes as they are. Inside a
/// string an escape means the same character, and outside strings there are none but the
/// pretty printer's newlines, which stay.
pub fn terminal_safe_json(json: String) -> String {
    if !json.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c != '\n' && acts_on_terminal(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints `value` as one indented JSON document (as the `nomad` CLI's `-json`).
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln(&terminal_safe_json(text)),
        Err(e) => fail(format!("cannot write JSON: {e}")),
    }
}

/// Prints `value` as one line of JSON (for JSON lines output).
pub fn print_json_line<T: serde::Serialize + ?Sized>(value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => outln(&terminal_safe_json(text)),
        Err(e) => fail(format!("cannot write JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn flags_as_go_parses_them() {
        let args = ["-json", "--timeout", "2s", "-template=a=b", "list", "-json"].map(String::from);
        let flags = Flags::parse(args, &["json", "demo"], &["timeout", "template"], "usage");
        assert!(flags.on("json") && !flags.on("demo"));
        assert_eq!(flags.value("timeout"), Some("2s"));
        assert_eq!(flags.value("template"), Some("a=b"));
        // Parsing stops at the first argument that is not a flag.
        assert_eq!(flags.rest, ["list", "-json"]);
        let flags = Flags::parse(["-json=false", "--", "-x"].map(String::from), &["json"], &[], "usage");
        assert!(!flags.on("json"));
        assert_eq!(flags.rest, ["-x"]);
    }

    #[test]
    fn escapes_what_a_terminal_would_run() {
        assert_eq!(esc("a\u{1b}[31mb\n\tc"), "a\\u{1b}[31mb\\n\\tc");
        assert_eq!(esc("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn json_keeps_its_meaning_without_terminal_controls() {
        let value = serde_json::json!({"m": "a\u{9b}31mb\u{202e}c\u{1b}"});
        let text = terminal_safe_json(serde_json::to_string_pretty(&value).unwrap());
        assert!(!text.chars().any(|c| c != '\n' && acts_on_terminal(c)), "{text}");
        assert!(text.contains("\\u009b") && text.contains("\\u202e"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }

    #[test]
    fn columns_like_columnize() {
        let rows = vec![
            vec!["Name".to_owned(), "Status".to_owned()],
            vec!["nomad-1.global".to_owned(), "alive".to_owned()],
        ];
        assert_eq!(columnize(&rows), "Name            Status\nnomad-1.global  alive\n");
    }
}
