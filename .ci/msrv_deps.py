#!/usr/bin/env python3
"""Reads `cargo metadata --all-features` on stdin and fails if a crate the libraries build on
(normal and build dependencies of nomad-proto and nomad-blocking, transitively) declares a
rust-version newer than the libraries' own. Dev-dependencies are not followed: users never
build them."""
import json
import sys

LIBRARIES = ("nomad-proto", "nomad-blocking")


def version(text):
    parts = [int(x) for x in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.load(sys.stdin)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
libraries = [i for i, p in packages.items() if p["name"] in LIBRARIES]
msrv = max(version(packages[i]["rust_version"]) for i in libraries)

seen, todo = set(), list(libraries)
while todo:
    for dep in nodes[todo.pop()]["deps"]:
        runtime = any(kind["kind"] in (None, "build") for kind in dep["dep_kinds"])
        if runtime and dep["pkg"] not in seen:
            seen.add(dep["pkg"])
            todo.append(dep["pkg"])

newer = sorted(
    "{} {} needs {}".format(p["name"], p["version"], p["rust_version"])
    for p in (packages[i] for i in seen)
    if p["rust_version"] and version(p["rust_version"]) > msrv
)
print("{} crates under the libraries; MSRV {}".format(len(seen), ".".join(map(str, msrv))))
if newer:
    sys.exit("newer than the MSRV: " + ", ".join(newer))
