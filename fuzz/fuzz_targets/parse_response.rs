//! Every operation's `parse_response`, fed an arbitrary status, content type and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nomad_fuzz::{parse, FuzzResponse};
use nomad_proto::agent::{
    ForceLeave, GetHealth, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, GetSelf, InstallKey, Join,
    ListKeys, ListMembers, ListServers, Monitor, MonitorExport, Pprof, ProfileKind, Reload, RemoveKey,
    SetSchedulerWorkerConfig, SetServers, UseKey,
};

fuzz_target!(|input: FuzzResponse<'_>| {
    let response = input.response();
    match input.op % 24 {
        0 => parse(&ListMembers::new(), response),
        1 => parse(&ListServers::new(), response),
        2 => parse(&SetServers::new(["10.0.0.1:4647"]), response),
        3 => parse(&GetSelf::new(), response),
        4 => parse(&Join::new(["10.0.0.4"]), response),
        5 => parse(&ForceLeave::new("nomad-2.global"), response),
        6 => parse(&GetHealth::new(), response),
        7 => parse(&GetHostData::new(), response),
        8 => parse(&ListKeys::new(), response),
        9 => parse(&InstallKey::new("a2V5"), response),
        10 => parse(&UseKey::new("a2V5"), response),
        11 => parse(&RemoveKey::new("a2V5"), response),
        12 => parse(&Monitor::new(), response),
        13 => parse(&Monitor::new().plain(true), response),
        14 => parse(&MonitorExport::on_disk(), response),
        15 => parse(&MonitorExport::service("nomad").plain(true), response),
        16 => parse(&Pprof::cpu_profile(), response),
        17 => parse(&Pprof::cmdline(), response),
        18 => parse(&Pprof::lookup("heap").debug(1), response),
        19 => parse(&Pprof::new(ProfileKind::Trace), response),
        20 => parse(&Reload::new(), response),
        21 => parse(&GetSchedulerWorkersInfo::new(), response),
        22 => parse(&GetSchedulerWorkerConfig::new(), response),
        _ => parse(&SetSchedulerWorkerConfig::new(2, ["_core", "batch"]), response),
    }
});
