//! Every agent operation, walked from `nomad_proto::agent::OPERATIONS` (the one list of them):
//! each must be in the README's endpoint table, have a section in the tour, be served by the
//! test agent, and be fuzzed. A failure names every operation that is missing somewhere, so
//! adding an operation to the list without the rest fails here.

use std::path::Path;

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::{OperationInfo, OPERATIONS};
use nomad_blocking::test_agent::{Role, TestAgent};

/// A file of the workspace, by its path from the workspace root.
fn workspace_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// Fails naming every operation for which `missing` says something is missing.
fn assert_none_missing(what: &str, missing: impl Fn(&OperationInfo) -> Option<String>) {
    let problems: Vec<String> = OPERATIONS
        .iter()
        .filter_map(|op| {
            missing(&op.info).map(|why| format!("{} ({} {}): {why}", op.info.name, op.info.method, op.info.path))
        })
        .collect();
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

/// The strings a table cell or title spells with brace groups: `/a/{b,c}` is `/a/b` and `/a/c`.
fn expand_braces(text: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (text.find('{'), text.find('}')) else {
        return vec![text.to_owned()];
    };
    if close < open {
        return vec![text.to_owned()];
    }
    text[open + 1..close]
        .split(',')
        .flat_map(|alt| expand_braces(&format!("{}{alt}{}", &text[..open], &text[close + 1..])))
        .collect()
}

/// `/v1/agent/pprof/<profile>` and `/v1/agent/pprof/<name>` are the same path.
fn same_path(a: &str, b: &str) -> bool {
    let placeholder = |p: &str| match p.find('<') {
        Some(i) if p.ends_with('>') => (p[..i].to_owned(), true),
        _ => (p.to_owned(), false),
    };
    placeholder(a) == placeholder(b)
}

/// Whether `title` contains `wanted` as a whole path (`GET /v1/agent/schedulers` is not in
/// `GET /v1/agent/schedulers/config`).
fn names(title: &str, wanted: &str) -> bool {
    title.match_indices(wanted).any(|(i, _)| {
        title[i + wanted.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || "/-_".contains(c)))
    })
}

const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

#[test]
fn every_operation_is_in_the_readme_endpoint_table() {
    let readme = workspace_file("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Every agent endpoint"))
        .expect("the README has an `Every agent endpoint` section");
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    assert_none_missing("missing from the README's endpoint table", |info| {
        let name = format!("`{}`", info.name);
        let Some(row) = rows.iter().find(|r| r.contains(&name)) else {
            return Some("no row names it".into());
        };
        // The endpoint cell: its code spans, methods stripped, brace groups expanded.
        let cell = row.split('|').nth(1).unwrap_or("");
        let spans: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
        let paths: Vec<String> = spans
            .iter()
            .flat_map(|s| s.split_whitespace().filter(|w| w.starts_with('/')))
            .map(|p| p.split(['?', '[']).next().unwrap_or(p).to_owned())
            .flat_map(|p| expand_braces(&p))
            .collect();
        if !paths.iter().any(|p| same_path(p, info.path)) {
            return Some(format!("its row's endpoint is {cell:?}"));
        }
        let methods: Vec<&str> = spans
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_ascii_alphabetic()))
            .filter(|w| METHODS.contains(w))
            .collect();
        (!methods.is_empty() && !methods.contains(&info.method)).then(|| format!("its row's methods are {methods:?}"))
    });
}

/// The string literals passed to `section(…)` in Rust source, with `\`-newline continuations
/// joined.
fn section_titles(source: &str) -> Vec<String> {
    let mut titles = Vec::new();
    for (at, _) in source.match_indices("section(") {
        let rest = source[at + "section(".len()..].trim_start();
        let Some(literal) = rest.strip_prefix('"') else {
            continue; // the definition `fn section(title: &str)`
        };
        let mut title = String::new();
        let mut chars = literal.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\n') => {
                        chars = chars.as_str().trim_start().chars();
                    }
                    Some(escaped) => title.push(escaped),
                    None => break,
                },
                c => title.push(c),
            }
        }
        titles.push(title);
    }
    titles
}

#[test]
fn every_operation_has_a_section_in_the_tour() {
    let tour = workspace_file("examples/tour.rs");
    let titles = section_titles(&tour);
    assert!(!titles.is_empty(), "the tour has `section(\"…\")` titles");
    let what = format!("missing from the tour (examples/tour.rs, section titles {titles:#?})");
    assert_none_missing(&what, |info| {
        let wanted = format!("{} {}", info.method, info.path);
        let found = titles.iter().any(|t| names(t, &wanted));
        (!found).then(|| format!("no section title contains `{wanted}`"))
    });
}

#[test]
fn the_test_agent_serves_every_operation() {
    // With ACLs and a management token, on an agent running both roles, nothing is refused for
    // want of a capability or a role: each sample request must reach a handler. Go's ServeMux
    // answers an unknown path with 404 and an empty body, and Nomad a wrong verb with 405.
    let agent = TestAgent::builder()
        .role(Role::Both)
        .acl("root")
        .start()
        .expect("test agent starts");
    let client = agent.client_with_token("root").expect("client builds");
    assert_none_missing("not served by the test agent", |info| {
        let op = OPERATIONS.iter().find(|op| op.info.name == info.name).unwrap();
        let request = match (op.sample_request)(client.config()) {
            Ok(request) => request,
            Err(e) => return Some(format!("its sample request does not build: {e}")),
        };
        let (status, body) = if info.streaming {
            match client.transport().send_streaming(request) {
                Ok(response) => {
                    let status = response.status();
                    let mut start = Vec::new();
                    if status != StatusCode::OK {
                        let _ = std::io::Read::read_to_end(
                            &mut std::io::Read::take(response.into_body(), 4096),
                            &mut start,
                        );
                    }
                    (status, start)
                }
                Err(e) => return Some(format!("the stream did not open: {e}")),
            }
        } else {
            match client.transport().send(request) {
                Ok(response) => (response.status(), response.into_body()),
                Err(e) => return Some(format!("no answer: {e}")),
            }
        };
        match status {
            StatusCode::NOT_FOUND if body.is_empty() => Some("the unknown-path answer (404, empty body)".into()),
            StatusCode::METHOD_NOT_ALLOWED => Some(format!("405 {}", String::from_utf8_lossy(&body))),
            _ => None,
        }
    });
}

#[test]
fn every_operation_is_fuzzed_with_seeds_named_after_it() {
    // `fuzz/fuzz_targets/parse_response.rs` walks OPERATIONS, and `fuzz/seeds/parse_response/`
    // holds at least one seed `<OperationName>-<n>` per operation.
    let target = workspace_file("fuzz/fuzz_targets/parse_response.rs");
    assert!(
        target.contains("OPERATIONS"),
        "fuzz/fuzz_targets/parse_response.rs does not walk nomad_proto::agent::OPERATIONS"
    );
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/parse_response");
    let seeds: Vec<String> = std::fs::read_dir(&seed_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", seed_dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    assert_none_missing("without a parse_response seed `<OperationName>-<n>`", |info| {
        let prefix = format!("{}-", info.name);
        let found = seeds.iter().any(|s| {
            s.strip_prefix(&prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        (!found).then(|| format!("no file fuzz/seeds/parse_response/{prefix}<n>"))
    });
}
