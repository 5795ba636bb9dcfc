//! The `Display` of every public enum a user prints: the value's name, honouring width and
//! alignment as `str` does (`format!("{:<8}|", MemberStatus::Alive) == "alive   |"`).

use std::fmt::Display;

use nomad_proto::agent::{
    AgentRole, ExportSource, MemberStatus, ProfileKind, Serves, Target, WorkerStatus, WorkloadStatus,
};
use nomad_proto::stream::{LogLevel, StreamFormat};
use nomad_proto::Address;

/// Checks that `value` prints as `text`, and pads like `text` would for every alignment.
fn assert_pads(value: &dyn Display, text: &str) {
    assert_eq!(value.to_string(), text);
    let width = text.chars().count() + 5;
    assert_eq!(format!("{value:<width$}|"), format!("{text:<width$}|"), "{text}");
    assert_eq!(format!("{value:>width$}|"), format!("{text:>width$}|"), "{text}");
    assert_eq!(format!("{value:^width$}|"), format!("{text:^width$}|"), "{text}");
    assert_eq!(format!("{value:*^width$}|"), format!("{text:*^width$}|"), "{text}");
    // A width below the length changes nothing; a precision cuts as for a string.
    assert_eq!(format!("{value:1}"), text);
    assert_eq!(format!("{value:.2}"), format!("{text:.2}"));
}

#[test]
fn every_public_enum_displays_its_name_with_width_and_alignment() {
    assert_eq!(format!("{:<8}|", MemberStatus::Alive), "alive   |");
    let cases: Vec<(Box<dyn Display>, &str)> = vec![
        (Box::new(MemberStatus::Alive), "alive"),
        (Box::new(MemberStatus::Failed), "failed"),
        (Box::new(MemberStatus::None), "none"),
        (Box::new(MemberStatus::Other("rejoining".into())), "rejoining"),
        (Box::new(WorkerStatus::Started), "Started"),
        (Box::new(WorkerStatus::Other("Draining".into())), "Draining"),
        (Box::new(WorkloadStatus::WaitingToDequeue), "WaitingToDequeue"),
        (Box::new(LogLevel::Warn), "warn"),
        (Box::new(LogLevel::Off), "off"),
        (Box::new(AgentRole::Client), "client"),
        (Box::new(AgentRole::Server), "server"),
        (Box::new(Serves::Server), "server"),
        (Box::new(Serves::Any), "any"),
        (Box::new(ProfileKind::Cpu), "profile"),
        (Box::new(ProfileKind::Lookup("goroutine".into())), "goroutine"),
        (Box::new(Target::Local), "local"),
        (Box::new(Target::Node("f1b6f2a8".into())), "node f1b6f2a8"),
        (Box::new(Target::Server("leader".into())), "server leader"),
        (Box::new(ExportSource::OnDisk), "on disk"),
        (Box::new(ExportSource::Service("nomad".into())), "service nomad"),
        (Box::new(StreamFormat::Framed), "framed"),
        (Box::new(StreamFormat::Plain), "plain"),
        (
            Box::new(Address::parse("http://10.0.0.5:4646").unwrap().0),
            "http://10.0.0.5:4646",
        ),
        (
            Box::new(Address::parse("unix:///run/nomad/api.sock").unwrap().0),
            "unix:///run/nomad/api.sock",
        ),
    ];
    for (value, text) in &cases {
        assert_pads(value.as_ref(), text);
    }
    for level in LogLevel::ALL {
        assert_pads(&level, level.as_str());
    }
}

#[test]
fn an_unknown_wire_value_is_shown_with_its_control_characters_escaped() {
    let status = MemberStatus::Other("al\u{1b}[2Jive".into());
    assert_eq!(status.to_string(), r"al\u{1b}[2Jive");
    assert_eq!(status.as_str(), "al\u{1b}[2Jive", "as_str keeps the value as sent");
    assert_eq!(format!("{status:>16}|"), r"  al\u{1b}[2Jive|");
}
