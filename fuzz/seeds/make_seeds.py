#!/usr/bin/env python3
"""Writes the seed inputs in fuzz/seeds/<target>/ (small, checked in): realistic agent answers
encoded the way each target's `Arbitrary` input reads them. Run from anywhere:
    python3 fuzz/seeds/make_seeds.py

parse_response seeds are keyed by parser name and written to `parse_response/<name>-<n>`. Their
first byte (`op`) is the name's position in the parsers that `nomad_fuzz::parser` chooses from:
the `operations!` list of nomad-proto/src/agent/mod.rs, then `EXTRA_PARSERS` of fuzz/src/lib.rs.
Both are read from the sources, so rerun this script whenever either list changes (the fuzz
crate's `cargo test` fails until then).
"""
import base64, glob, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()

def parser_names():
    """The parsers in the order `nomad_fuzz::parser` indexes them."""
    block = re.search(r"operations!\s*\{(.*?)\n\}", read("nomad-proto/src/agent/mod.rs"), re.S)
    if not block:
        sys.exit("no `operations! { … }` list in nomad-proto/src/agent/mod.rs")
    operations = re.findall(r"^\s*([A-Z]\w*)\s*=>", block.group(1), re.M)
    extras = re.search(r"pub const EXTRA_PARSERS: &\[Parser\] = &\[(.*?)\n\];", read("fuzz/src/lib.rs"), re.S)
    if not operations or not extras:
        sys.exit("cannot read the operations or EXTRA_PARSERS")
    return operations + re.findall(r'name: "([^"]+)"', extras.group(1))

def raw_consts():
    """`const NAME: &str = r#"..."#;` constants of nomad-proto's tests (any file, any depth)."""
    consts = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "nomad-proto", "tests", "**", "*.rs"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            consts.update(re.findall(r'const ([A-Z0-9_]+): &str =\s*r#"(.*?)"#;', f.read(), re.S))
    return consts

def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# parse_response: op u8, status u16 LE (status = 100 + v % 900), content_type u8,
# disposition Option<&[u8]> (0 = None), then the body.
def response_seed(op, status, ct, body):
    v = status - 100
    return bytes([op, v & 0xFF, v >> 8, ct, 0]) + body.encode()

consts = raw_consts()
def const(name, fallback):
    if name not in consts:
        print(f"note: no const {name} in nomad-proto/tests, using a short stand-in", file=sys.stderr)
    return consts.get(name, fallback)

members = const("MEMBERS_2_0", '{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[]}')
self_server = const("SELF_SERVER_2_0", '{"config":{"Region":"global"},"member":{},"stats":{}}')
host = const("HOST_DATA", '{"OS":"linux","Network":[],"Environment":{},"Disk":{}}')
frames = "".join(json.dumps({"Data": base64.b64encode(t).decode(), "FileEvent": "log"}, separators=(",", ":")) + "{}"
                 for t in [b"2024-05-01T10:00:00Z [INFO]  agent: started\npart", b"ial line\n"])
keyring = '{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3},"NumNodes":3}'
seeds = {
    "ListMembers": [(200, 1, members), (403, 2, "Permission denied")],
    "ListServers": [(200, 1, '["10.0.0.1:4647","10.0.0.2:4647"]'), (501, 2, "Invalid method"), (200, 1, "null")],
    "SetServers": [(200, 0, ""), (400, 2, "missing server address")],
    "GetSelf": [(200, 1, self_server)] + [(200, 1, consts[k]) for k in ("SELF_CLIENT_ONLY_2_0", "SELF_OLD_0_5") if k in consts],
    "Join": [(200, 1, '{"num_joined":1,"error":"","warning":""}'),
             (200, 1, '{"num_joined":0,"error":"1 error occurred: dial tcp 10.0.0.9:4648: i/o timeout","warning":""}')],
    "ForceLeave": [(200, 0, ""), (500, 2, "Unknown node")],
    "GetHealth": [(200, 1, '{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}'),
                  (500, 2, '{"client":{"ok":false,"message":"client not enabled"}}')],
    "Monitor": [(200, 1, frames), (400, 2, "Unknown log level: verbose")],
    "MonitorExport": [(200, 1, '{"Offset":120,"Data":"' + base64.b64encode(b"exported\n").decode() + '"}')],
    "Reload": [(200, 0, ""), (500, 2, "reload failed")],
    "GetHostData": [(200, 1, host), (200, 1, '{"AgentID":"nomad-2.global","HostData":' + host + "}"),
                    (403, 2, "Permission denied")],
    "GetSchedulerWorkersInfo": [
        (200, 1, '{"server_id":"nomad-1.global","schedulers":[{"id":"5b3d","enabled_schedulers":["service","_core"],'
                 '"started":"2021-12-21T19:25:00.91189Z","status":"Started","workload_status":"WaitingToDequeue"}]}'),
        (400, 2, "Server only endpoint")],
    "GetSchedulerWorkerConfig": [
        (200, 1, '{"server_id":"nomad-1.global","num_schedulers":8,"enabled_schedulers":["service","batch","_core"]}')],
    "SetSchedulerWorkerConfig": [
        (200, 1, '{"server_id":"nomad-1.global","num_schedulers":2,"enabled_schedulers":["_core","batch"]}'),
        (400, 2, "Invalid request")],
    "ListKeys": [(200, 1, keyring)],
    "InstallKey": [(200, 1, '{"Messages":{"nomad-2.global":"key not found"},"Keys":null,"NumNodes":3}')],
    "UseKey": [(200, 1, '{"Messages":{},"Keys":null,"NumNodes":3}'), (400, 2, "key not found")],
    "RemoveKey": [(200, 1, '{"Messages":{},"Keys":null,"NumNodes":3}'), (403, 2, "Permission denied")],
    "Pprof": [(200, 2, "heap profile: 1: 2 [3: 4] @ heap/1048576\n"), (403, 2, "Permission denied")],
    "Monitor.plain": [(200, 2, "line one\r\nline two\nunterminated")],
    "MonitorExport.service.plain": [(200, 2, "-- journal begins --\nMay 01 nomad[1]: started\n")],
    "Pprof.cpu_profile": [(200, 3, "\x1f\x8b\x08\x00binary-profile"), (404, 2, "Invalid method")],
    "Pprof.cmdline": [(200, 2, "/usr/bin/nomad\x00agent\x00-dev")],
    "Pprof.trace": [(200, 3, "go 1.24 trace\x00\x00\x00")],
    "Pprof.lookup.debug": [(200, 2, "goroutine profile: total 2\n1 @ 0x1\n")],
}
names = parser_names()
unknown = sorted(set(seeds) - set(names))
unseeded = [n for n in names if n not in seeds]
if unknown or unseeded:
    sys.exit(f"seeds for unknown parsers {unknown}; parsers without seeds {unseeded}: edit make_seeds.py")
out = os.path.join(HERE, "parse_response")
for old in glob.glob(os.path.join(out, "*")):
    os.remove(old)
for name, cases in seeds.items():
    for i, (status, ct, body) in enumerate(cases):
        write("parse_response", f"{name}-{i}", response_seed(names.index(name), status, ct, body))

# log_decoder: plain bool, max_line u8 (0 = default), chunk sizes Vec<u8> (each element
# preceded by a continuation byte 1, closed by 0), then the stream bytes.
def decoder_seed(plain, max_line, chunks, data):
    head = bytes([1 if plain else 0, max_line])
    for c in chunks:
        head += bytes([1, c])
    return head + b"\x00" + data

write("log_decoder", "framed", decoder_seed(False, 0, [7, 3], frames.encode()))
write("log_decoder", "framed-small-limit", decoder_seed(False, 8, [1], frames.encode()))
write("log_decoder", "framed-trailing-error", decoder_seed(False, 0, [5], (frames + "rpc error: EOF").encode()))
write("log_decoder", "framed-pretty", decoder_seed(False, 0, [], (frames.replace("}{", "}\n{")).encode()))
write("log_decoder", "plain", decoder_seed(True, 0, [4], b"line one\r\nline two\n\xff\xfebad utf8\nlast"))
write("log_decoder", "plain-small-limit", decoder_seed(True, 5, [2], b"1234\n123456\n"))

# log_record: the line itself.
for i, line in enumerate([
    '{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}',
    '{"@level":"warn","@message":"client: slow","@caller":"client.go:12","ttl":"10s","n":3,"x":{"y":[1,null]}}',
    '{"@level":"all","@message":"x"}',
    '{"@level":1}',
    "2024-05-01T10:00:00Z [INFO] plain line",
]):
    write("log_record", f"line{i}", line.encode())
