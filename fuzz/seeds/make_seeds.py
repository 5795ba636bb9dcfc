#!/usr/bin/env python3
"""Writes the seed inputs in fuzz/seeds/<target>/ (small, checked in): realistic agent answers
encoded the way each target's `Arbitrary` input reads them. Run from anywhere:
    python3 fuzz/seeds/make_seeds.py
"""
import base64, json, os, re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

def raw_consts(path):
    """`const NAME: &str = r#"..."#;` constants of a test file (seeds only; missing files are fine)."""
    try:
        text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    except OSError:
        return {}
    return dict(re.findall(r'const ([A-Z0-9_]+): &str =\s*r#"(.*?)"#;', text, re.S))

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

consts = {}
for f in ["nomad-proto/tests/agent_core.rs", "nomad-proto/tests/agent_more.rs"]:
    consts.update(raw_consts(f))

members = consts.get("MEMBERS_2_0", '{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[]}')
self_server = consts.get("SELF_SERVER_2_0", '{"config":{"Region":"global"},"member":{},"stats":{}}')
host = consts.get("HOST_DATA", '{"OS":"linux","Network":[],"Environment":{},"Disk":{}}')
frames = "".join(json.dumps({"Data": base64.b64encode(t).decode(), "FileEvent": "log"}, separators=(",", ":")) + "{}"
                 for t in [b"2024-05-01T10:00:00Z [INFO]  agent: started\npart", b"ial line\n"])
seeds = {
    0: [(200, 1, members), (403, 2, "Permission denied")],
    1: [(200, 1, '["10.0.0.1:4647","10.0.0.2:4647"]'), (501, 2, "Invalid method"), (200, 1, "null")],
    2: [(200, 0, ""), (400, 2, "missing server address")],
    3: [(200, 1, self_server)] + [(200, 1, consts[k]) for k in ("SELF_CLIENT_ONLY_2_0", "SELF_OLD_0_5") if k in consts],
    4: [(200, 1, '{"num_joined":1,"error":"","warning":""}'),
        (200, 1, '{"num_joined":0,"error":"1 error occurred: dial tcp 10.0.0.9:4648: i/o timeout","warning":""}')],
    5: [(200, 0, ""), (500, 2, "Unknown node")],
    6: [(200, 1, '{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}'),
        (500, 2, '{"client":{"ok":false,"message":"client not enabled"}}')],
    7: [(200, 1, host), (200, 1, '{"AgentID":"nomad-2.global","HostData":' + host + "}"), (403, 2, "Permission denied")],
    8: [(200, 1, '{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3},"NumNodes":3}')],
    9: [(200, 1, '{"Messages":{"nomad-2.global":"key not found"},"Keys":null,"NumNodes":3}')],
    12: [(200, 1, frames), (400, 2, "Unknown log level: verbose")],
    13: [(200, 2, "line one\r\nline two\nunterminated")],
    14: [(200, 1, '{"Offset":120,"Data":"' + base64.b64encode(b"exported\n").decode() + '"}')],
    16: [(200, 3, "\x1f\x8b\x08\x00binary-profile"), (404, 2, "Invalid method")],
    17: [(200, 2, "/usr/bin/nomad\x00agent\x00-dev")],
    20: [(200, 0, ""), (500, 2, "reload failed")],
    21: [(200, 1, '{"server_id":"nomad-1.global","schedulers":[{"id":"5b3d","enabled_schedulers":["service","_core"],'
                  '"started":"2021-12-21T19:25:00.91189Z","status":"Started","workload_status":"WaitingToDequeue"}]}'),
         (400, 2, "Server only endpoint")],
    22: [(200, 1, '{"server_id":"nomad-1.global","num_schedulers":8,"enabled_schedulers":["service","batch","_core"]}')],
    23: [(200, 1, '{"server_id":"nomad-1.global","num_schedulers":2,"enabled_schedulers":["_core","batch"]}'),
         (400, 2, "Invalid request")],
}
for op, cases in seeds.items():
    for i, (status, ct, body) in enumerate(cases):
        write("parse_response", f"op{op:02}-{i}", response_seed(op, status, ct, body))

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
