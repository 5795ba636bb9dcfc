//! `keyring`: the servers' gossip encryption keys, like `nomad operator gossip keyring`, plus
//! `rotate`, the key rotation the CLI leaves to a script.
//!
//! ```text
//! cargo run --example keyring -- list                  # the bundled 3-server test cluster
//! cargo run --example keyring -- rotate
//! cargo run --example keyring -- rotate -demo-fail-midway
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_TOKEN=… cargo run --example keyring -- rotate
//! ```
//!
//! Usage:
//!
//! ```text
//! keyring [options] list | install <key> | use <key> | remove <key> | generate | rotate
//! keyring [options] -list | -install=<key> | -use=<key> | -remove=<key>
//! options: -json  -show-keys  -demo-down  -demo-fail-midway
//! ```
//!
//! Mirrors `nomad operator gossip keyring list|install|use|remove|generate` (Nomad
//! `command/operator_gossip_keyring_*.go`), and the flag forms of the older
//! `nomad operator keyring -list|-install|-use|-remove` (`command/operator_keyring.go`): the
//! same progress lines (`Gathering installed encryption keys...`, `Installing new gossip
//! encryption key...`, …) and the same `Key` list. A `<key>` of `-` is read from stdin, so that
//! it stays out of the process list. `-json` prints the agent's keyring answer; its keys are
//! written only by `list`, the one command that asks for them (the others write each key as
//! `<redacted N>`). All of them need a server agent and ACL `agent:write`.
//!
//! `rotate` is the multi-step job:
//!
//! 1. read the members (`GET /v1/agent/members`) and the keyring, and refuse to start if a
//!    server is down or an installed key is not on every server (a rotation half done);
//! 2. generate a new key (`nomad_blocking::generate_gossip_key`, the OS's random generator);
//! 3. install it, and check that every server holds it;
//! 4. make it the primary key, and check again;
//! 5. only then remove the keys that were installed before, and check that the new key is the
//!    only one left, on every server.
//!
//! "Every server" is checked against the member list, not against the keyring's own counts: a
//! server that is down is neither asked nor counted by the agent (`NumNodes`), so
//! `Keys[key] == NumNodes` says nothing about it (`KeyringResponse::coverage`). Any failure stops
//! the rotation before an old key is removed (or, in step 5, before the next one is), says where
//! it stopped, and prints the exact `nomad operator gossip keyring` commands that finish or undo
//! it. Keys are secrets: those commands show them as placeholders (`<new-key>`, `<old-key>`)
//! unless `-show-keys` was given; `list` shows them all. The agent does not say which key is
//! primary, so "old keys" are all the keys installed before the rotation started.
//!
//! With no `NOMAD_ADDR` it starts the bundled test cluster: three servers sharing one keyring,
//! the commands sent to the first. Demo knobs (refused with `NOMAD_ADDR`): `-demo-down` takes
//! the third server down from the start (the rotation refuses to begin); `-demo-fail-midway`
//! has it fail right after the new key is installed (the rotation stops before removing the old
//! key, and says how to finish or undo it). Errors print as one line on stderr and exit 1; a
//! usage error exits 2.

#[path = "support/mod.rs"]
mod support;

use std::io::BufRead;

use nomad_blocking::proto::agent::{KeyCoverage, KeyringResponse, MemberStatus, ServerMembers};
use nomad_blocking::proto::Secret;
use nomad_blocking::test_agent::TestCluster;
use nomad_blocking::{Client, Error};
use serde_json::json;
use support::Flags;

const USAGE: &str = "keyring [-json] [-show-keys] [-demo-down] [-demo-fail-midway] \
                     list | install <key> | use <key> | remove <key> | generate | rotate \
                     (or -list | -install=<key> | -use=<key> | -remove=<key>)";

const BOOL_FLAGS: &[&str] = &["json", "list", "show-keys", "demo-down", "demo-fail-midway"];
const VALUE_FLAGS: &[&str] = &["install", "use", "remove"];

/// What to do.
enum Action {
    List,
    Install(Secret),
    Use(Secret),
    Remove(Secret),
    Generate,
    Rotate,
}

struct Options {
    json: bool,
    show_keys: bool,
    demo_down: bool,
    demo_fail_midway: bool,
}

fn main() {
    let (action, options) = parse_args(std::env::args().skip(1).collect());
    if let Action::Generate = action {
        // No agent needed, as `nomad operator gossip keyring generate`.
        match nomad_blocking::generate_gossip_key() {
            Ok(key) => support::outln(key.expose()),
            Err(e) => support::fail(e),
        }
        return;
    }
    let real = support::nomad_addr().is_some();
    if real && (options.demo_down || options.demo_fail_midway) {
        support::usage_error(
            USAGE,
            "the -demo-… knobs are for the bundled test cluster: unset NOMAD_ADDR",
        );
    }
    let (client, cluster) = match connect(real, &options) {
        Ok(connected) => connected,
        Err(e) => support::fail(e),
    };
    let outcome = match action {
        Action::Rotate => {
            let fail_midway = || {
                if let (true, Some(cluster)) = (options.demo_fail_midway, &cluster) {
                    fail_third_server(cluster);
                }
            };
            rotate(&client, &options, &fail_midway)
        }
        simple => simple_command(&client, simple, options.json),
    };
    if let Err(e) = outcome {
        support::fail(e);
    }
}

/// The subcommand form (`install <key>`, flags after the subcommand, as the `nomad` CLI's
/// subcommands) or the flag form of `nomad operator keyring` (`-install=<key>`).
fn parse_args(args: Vec<String>) -> (Action, Options) {
    // Flags may come before the subcommand and after it.
    let before = Flags::parse(args, BOOL_FLAGS, VALUE_FLAGS, USAGE);
    let (subcommand, flags) = match before.rest.split_first() {
        Some((command, rest)) => {
            if VALUE_FLAGS.iter().any(|f| before.value(f).is_some()) {
                support::usage_error(USAGE, "-install, -use and -remove take no subcommand");
            }
            (
                Some(command.clone()),
                Flags::parse(rest.to_vec(), BOOL_FLAGS, VALUE_FLAGS, USAGE),
            )
        }
        None => (None, Flags::parse(Vec::new(), BOOL_FLAGS, VALUE_FLAGS, USAGE)),
    };
    let set: Vec<&str> = BOOL_FLAGS
        .iter()
        .copied()
        .filter(|name| before.on(name) || flags.on(name))
        .collect();
    let on = |name: &str| set.contains(&name);
    let flags = if subcommand.is_some() { flags } else { before };
    let key = |value: &str| -> Secret {
        if value == "-" {
            read_key_from_stdin()
        } else {
            Secret::new(value)
        }
    };
    let one_key = |what: &str| -> Secret {
        match flags.rest.as_slice() {
            [k] => key(k),
            _ => support::usage_error(USAGE, &format!("{what} requires one argument: <key>")),
        }
    };
    let action = match subcommand.as_deref() {
        Some("list") | Some("generate") | Some("rotate") if !flags.rest.is_empty() => {
            support::usage_error(USAGE, "This command takes no arguments")
        }
        Some("list") => Action::List,
        Some("generate") => Action::Generate,
        Some("rotate") => Action::Rotate,
        Some("install") => Action::Install(one_key("install")),
        Some("use") => Action::Use(one_key("use")),
        Some("remove") => Action::Remove(one_key("remove")),
        Some(other) => support::usage_error(USAGE, &format!("unknown command {:?}", support::esc(other))),
        None => {
            if !flags.rest.is_empty() {
                support::usage_error(USAGE, "This command takes no arguments");
            }
            let mut chosen = Vec::new();
            if on("list") {
                chosen.push(Action::List);
            }
            for (name, make) in [
                ("install", Action::Install as fn(Secret) -> Action),
                ("use", Action::Use),
                ("remove", Action::Remove),
            ] {
                if let Some(value) = flags.value(name).filter(|v| !v.is_empty()) {
                    chosen.push(make(key(value)));
                }
            }
            match chosen.len() {
                0 => support::usage_error(
                    USAGE,
                    "No actionable argument was passed: either the '-install', '-use', '-remove' or '-list' flag must be set",
                ),
                1 => chosen.pop().expect("one action"),
                _ => support::usage_error(USAGE, "Only a single action is allowed"),
            }
        }
    };
    for knob in ["demo-down", "demo-fail-midway"] {
        if on(knob) && !matches!(action, Action::Rotate | Action::List) {
            support::usage_error(USAGE, &format!("-{knob} goes with rotate or list"));
        }
    }
    let options = Options {
        json: on("json"),
        show_keys: on("show-keys"),
        demo_down: on("demo-down"),
        demo_fail_midway: on("demo-fail-midway"),
    };
    (action, options)
}

/// A key given as `-`: the first line of stdin, trimmed.
fn read_key_from_stdin() -> Secret {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        support::fail(format!("cannot read the key from stdin: {e}"));
    }
    Secret::new(line.trim().to_owned())
}

/// The client: from `NOMAD_*`, or for the first server of a new test cluster.
fn connect(real: bool, options: &Options) -> Result<(Client, Option<TestCluster>), Error> {
    if real {
        return Ok((Client::from_env()?, None));
    }
    let mut builder = TestCluster::builder().servers(3).leader(0);
    if options.demo_down {
        builder = builder.down(2);
    }
    let cluster = builder.start()?;
    let seed = cluster.member(0).expect("a cluster has a first member");
    support::announce_demo("3-server test cluster", &seed.url());
    let client = seed.client()?;
    Ok((client, Some(cluster)))
}

/// The `-demo-fail-midway` knob: gossip now says the third server failed.
fn fail_third_server(cluster: &TestCluster) {
    let seed = cluster.member(0).and_then(|m| m.agent());
    if let Some(agent) = seed {
        agent.with_state(|state| {
            if let Some(member) = state.members.get_mut(2) {
                member.status = MemberStatus::Failed;
            }
        });
    }
    eprintln!("(demo: the third server just failed)");
}

/// `list`, `install`, `use`, `remove`: one call each, with the CLI's progress line.
fn simple_command(client: &Client, action: Action, json: bool) -> Result<(), Error> {
    let say = |line: &str| {
        if json {
            eprintln!("{line}");
        } else {
            support::outln(line);
        }
    };
    let agent = client.agent();
    let answer = match action {
        Action::List => {
            say("Gathering installed encryption keys...");
            let ring = agent.list_keys()?;
            if json {
                // Listing keys is what the operator asked for: the keys are written.
                support::print_json(&ring.exposing_keys());
            } else {
                let mut rows = vec![vec!["Key".to_owned()]];
                rows.extend(ring.keys.keys().map(|k| vec![k.clone()]));
                support::out(&support::columnize(&rows));
            }
            return Ok(());
        }
        Action::Install(key) => {
            say("Installing new gossip encryption key...");
            agent.install_key(key)?
        }
        Action::Use(key) => {
            say("Changing primary gossip encryption key...");
            agent.use_key(key)?
        }
        Action::Remove(key) => {
            say("Removing gossip encryption key...");
            agent.remove_key(key)?
        }
        Action::Generate | Action::Rotate => unreachable!("handled by the caller"),
    };
    if json {
        support::print_json(&answer); // each key as `<redacted N>`
    }
    Ok(())
}

/// The steps of a rotation, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Check = 1,
    Generate = 2,
    Install = 3,
    Use = 4,
    Remove = 5,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Check => "check",
            Step::Generate => "generate",
            Step::Install => "install",
            Step::Use => "use",
            Step::Remove => "remove",
        }
    }
}

/// Why a rotation stopped, where, and what it had done by then.
struct Stopped {
    step: Step,
    reason: String,
    /// Old keys removed before it stopped (in step 5).
    removed: usize,
}

/// The keys of a rotation, shown as placeholders unless `-show-keys`.
struct Keys<'a> {
    new: Option<&'a Secret>,
    old: &'a [String],
    show: bool,
}

impl Keys<'_> {
    fn new_key(&self) -> String {
        match self.new {
            Some(k) if self.show => k.expose().to_owned(),
            _ => "<new-key>".into(),
        }
    }
    fn old_key(&self, i: usize) -> String {
        match self.old.get(i) {
            Some(k) if self.show => k.clone(),
            _ if self.old.len() > 1 => format!("<old-key-{}>", i + 1),
            _ => "<old-key>".into(),
        }
    }
    fn old_primary(&self) -> String {
        if self.old.len() == 1 {
            self.old_key(0)
        } else {
            "<old-primary-key>".into()
        }
    }
}

/// `rotate`: see the module docs. `after_install` is the demo knob's hook.
fn rotate(client: &Client, options: &Options, after_install: &dyn Fn()) -> Result<(), Error> {
    let say = |line: String| {
        if options.json {
            eprintln!("{line}");
        } else {
            support::outln(&line);
        }
    };
    let mut report: Vec<serde_json::Value> = Vec::new();
    let mut old: Vec<String> = Vec::new();
    let mut new: Option<Secret> = None;
    say("==> Rotating the gossip encryption key".into());
    let outcome = rotation_steps(client, &say, &mut report, &mut old, &mut new, after_install);
    let keys = Keys {
        new: new.as_ref(),
        old: &old,
        show: options.show_keys,
    };
    match outcome {
        Ok(()) => {
            say("==> rotation complete".into());
            if options.json {
                support::print_json(&json!({"Complete": true, "Steps": report}));
            }
            Ok(())
        }
        Err(stopped) => {
            let position = stopped.step as u8;
            if options.json {
                support::print_json(&json!({
                    "Complete": false,
                    "StoppedAt": stopped.step.name(),
                    "Error": stopped.reason,
                    "Steps": report,
                }));
            }
            eprintln!("{}", how_to_recover(&stopped, &keys));
            support::fail(format!(
                "rotation stopped at step {position}/5 ({}): {}",
                stopped.step.name(),
                stopped.reason
            ))
        }
    }
}

/// Servers alive and down in the member list.
fn server_counts(members: &ServerMembers) -> (Vec<String>, Vec<String>) {
    let (mut alive, mut down) = (Vec::new(), Vec::new());
    for m in members.members.iter().filter(|m| m.is_server()) {
        match m.status {
            MemberStatus::Alive => alive.push(m.name.clone()),
            MemberStatus::Failed => down.push(m.name.clone()),
            _ => {}
        }
    }
    (alive, down)
}

/// Reads the members and the keyring again, and checks that `key` is on every server.
fn check_everywhere(client: &Client, key: &str, step: Step) -> Result<(KeyringResponse, KeyCoverage), Stopped> {
    let stop = |reason: String| Stopped {
        step,
        reason,
        removed: 0,
    };
    let members = client
        .agent()
        .members()
        .map_err(|e| stop(format!("reading the members: {e}")))?;
    let ring = client
        .agent()
        .list_keys()
        .map_err(|e| stop(format!("reading the keyring: {e}")))?;
    let coverage = ring.coverage(key, &members);
    if !coverage.on_every_server() {
        let (_, down) = server_counts(&members);
        let mut reason = format!(
            "the new key is held by {} servers; the member list has {} alive and {} down",
            coverage.holders, coverage.alive_servers, coverage.down_servers
        );
        if !down.is_empty() {
            reason.push_str(&format!(" ({})", support::esc(&down.join(", "))));
        }
        return Err(stop(reason));
    }
    if !ring.messages.is_empty() {
        let messages: Vec<String> = ring.messages.iter().map(|(node, m)| format!("{node}: {m}")).collect();
        return Err(stop(format!(
            "servers reported: {}",
            support::esc(&messages.join("; "))
        )));
    }
    Ok((ring, coverage))
}

fn step_record(step: Step, ring: &KeyringResponse, coverage: Option<&KeyCoverage>) -> serde_json::Value {
    let mut record = json!({"Step": step.name(), "Keyring": ring});
    if let Some(c) = coverage {
        record["Coverage"] = json!({
            "Holders": c.holders,
            "Answered": c.answered,
            "AliveServers": c.alive_servers,
            "DownServers": c.down_servers,
        });
    }
    record
}

fn rotation_steps(
    client: &Client,
    say: &dyn Fn(String),
    report: &mut Vec<serde_json::Value>,
    old: &mut Vec<String>,
    new: &mut Option<Secret>,
    after_install: &dyn Fn(),
) -> Result<(), Stopped> {
    let agent = client.agent();
    let stop = |step: Step, reason: String| Stopped {
        step,
        reason,
        removed: 0,
    };

    // 1. Refuse to start on a cluster where the new key could not reach every server.
    let members = agent
        .members()
        .map_err(|e| stop(Step::Check, format!("reading the members: {e}")))?;
    let ring = agent
        .list_keys()
        .map_err(|e| stop(Step::Check, format!("reading the keyring: {e}")))?;
    let (alive, down) = server_counts(&members);
    if !down.is_empty() {
        return Err(stop(
            Step::Check,
            format!(
                "{} of {} servers are down ({}): bring them back, or remove them with `nomad server force-leave`, first",
                down.len(),
                alive.len() + down.len(),
                support::esc(&down.join(", "))
            ),
        ));
    }
    let half_done: Vec<&str> = ring.partially_installed().collect();
    if !half_done.is_empty() || ring.num_nodes < alive.len() as u64 {
        return Err(stop(
            Step::Check,
            format!(
                "the keyring is not the same on every server ({} of {} servers answered, {} keys held by only some): \
                 finish the rotation in progress first (`keyring list`)",
                ring.num_nodes,
                alive.len(),
                half_done.len()
            ),
        ));
    }
    *old = ring.keys.keys().cloned().collect();
    say(format!(
        "    1/5 Checked: {} servers alive, none down; {} key(s) installed on all of them",
        alive.len(),
        old.len()
    ));
    report.push(step_record(Step::Check, &ring, None));

    // 2. A new key from the OS's random number generator.
    let key = nomad_blocking::generate_gossip_key().map_err(|e| stop(Step::Generate, e.to_string()))?;
    if old.iter().any(|k| k == key.expose()) {
        return Err(stop(Step::Generate, "the new key is already installed".into()));
    }
    let key = new.insert(key).clone();
    say("    2/5 Generated a new key".into());

    // 3. Install it everywhere.
    agent
        .install_key(key.clone())
        .map_err(|e| stop(Step::Install, e.to_string()))?;
    after_install();
    let (ring, coverage) = check_everywhere(client, key.expose(), Step::Install)?;
    say(format!(
        "    3/5 Installed the new key: held by {} of {} servers",
        coverage.holders, coverage.alive_servers
    ));
    report.push(step_record(Step::Install, &ring, Some(&coverage)));

    // 4. Make it the primary key.
    agent.use_key(key.clone()).map_err(|e| stop(Step::Use, e.to_string()))?;
    let (ring, coverage) = check_everywhere(client, key.expose(), Step::Use)?;
    say(format!(
        "    4/5 Made the new key primary: held by {} of {} servers",
        coverage.holders, coverage.alive_servers
    ));
    report.push(step_record(Step::Use, &ring, Some(&coverage)));

    // 5. Only now remove the old keys, one by one.
    for (i, old_key) in old.iter().enumerate() {
        agent.remove_key(old_key.as_str()).map_err(|e| Stopped {
            step: Step::Remove,
            reason: e.to_string(),
            removed: i,
        })?;
    }
    let (ring, coverage) = check_everywhere(client, key.expose(), Step::Remove).map_err(|s| Stopped {
        removed: old.len(),
        ..s
    })?;
    if ring.keys.len() != 1 {
        return Err(Stopped {
            step: Step::Remove,
            reason: format!(
                "{} keys are still installed, expected the new one only",
                ring.keys.len()
            ),
            removed: old.len(),
        });
    }
    say(format!(
        "    5/5 Removed {} old key(s): the new key alone, held by {} of {} servers",
        old.len(),
        coverage.holders,
        coverage.alive_servers
    ));
    report.push(step_record(Step::Remove, &ring, Some(&coverage)));
    Ok(())
}

/// Where the rotation stopped, what state it left, and the commands that finish or undo it.
fn how_to_recover(stopped: &Stopped, keys: &Keys<'_>) -> String {
    let cmd = |verb: &str, key: String| format!("    nomad operator gossip keyring {verb} {key}");
    let old_count = keys.old.len();
    let remove_old =
        |from: usize| -> Vec<String> { (from..old_count).map(|i| cmd("remove", keys.old_key(i))).collect() };
    let mut out = Vec::new();
    let (state, finish, undo): (&str, Vec<String>, Vec<String>) = match stopped.step {
        Step::Check | Step::Generate => ("Nothing was changed.", vec![], vec![]),
        Step::Install => (
            "The old key is still primary and installed; the new key may be installed on some servers.",
            [cmd("install", keys.new_key()), cmd("use", keys.new_key())]
                .into_iter()
                .chain(remove_old(0))
                .collect(),
            vec![cmd("remove", keys.new_key())],
        ),
        Step::Use => (
            "The old key is still installed; the new key is installed and may be primary on some servers.",
            std::iter::once(cmd("use", keys.new_key()))
                .chain(remove_old(0))
                .collect(),
            vec![cmd("use", keys.old_primary()), cmd("remove", keys.new_key())],
        ),
        Step::Remove => (
            "The new key is installed and primary; some old keys may still be installed.",
            remove_old(stopped.removed),
            [cmd("install", keys.old_primary()), cmd("use", keys.old_primary())]
                .into_iter()
                .chain(std::iter::once(cmd("remove", keys.new_key())))
                .collect(),
        ),
    };
    let position = format!(
        "Rotation stopped at step {}/5 ({})",
        stopped.step as u8,
        stopped.step.name()
    );
    out.push(if stopped.step == Step::Remove {
        format!(
            "{position}, after removing {} of {old_count} old key(s). {state}",
            stopped.removed
        )
    } else {
        format!("{position}, before any old key was removed. {state}")
    });
    if !finish.is_empty() {
        out.push("To finish it by hand, once every server is up:".into());
        out.extend(finish);
        out.push("To undo it instead:".into());
        out.extend(undo);
        if !keys.show {
            out.push(
                "(Keys are shown as placeholders: `nomad operator gossip keyring list` lists them; \
                 the new key is the one that was not there before. Run with -show-keys to have them printed here.)"
                    .into(),
            );
        }
    }
    out.join("\n")
}
