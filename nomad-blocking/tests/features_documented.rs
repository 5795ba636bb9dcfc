//! Every cargo feature of this crate is described where users choose features: in the crate docs'
//! "Cargo features" list (docs.rs) and in the README (crates.io). Runs from the packaged crate too,
//! whose `Cargo.toml` is the normalized one cargo writes: its `[features]` table keeps every name.

/// The feature names of `manifest`'s `[features]` table, without `default`.
fn features(manifest: &str) -> Vec<&str> {
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            in_features = line == "[features]";
        } else if in_features {
            let Some((name, _)) = line.split_once('=') else {
                continue;
            };
            let name = name.trim();
            let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if is_name && name != "default" {
                names.push(name);
            }
        }
    }
    names
}

/// The names of the "- `feature`…" items in the crate docs (`//! - `) or the README (`- `).
fn listed(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(prefix)?.strip_prefix('`'))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_feature_is_in_the_crate_docs_and_the_readme() {
    let manifest = include_str!("../Cargo.toml");
    let names = features(manifest);
    assert!(
        names.contains(&"test-agent"),
        "the parser found no features in Cargo.toml: {names:?}"
    );
    let docs = listed(include_str!("../src/lib.rs"), "//! - ");
    let readme = listed(include_str!("../README.md"), "- ");
    for name in names {
        assert!(
            docs.iter().any(|d| d == name),
            "feature `{name}` is missing from the crate docs' list: {docs:?}"
        );
        assert!(
            readme.iter().any(|d| d == name),
            "feature `{name}` is missing from README.md's list: {readme:?}"
        );
    }
}
