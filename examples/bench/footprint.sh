#!/usr/bin/env bash
# Footprint of nomad-blocking, default build against the lean build (`default-features = false`:
# no TLS, gzip, tracing, keygen or simd), measured in one run (BENCHMARKS.md, section 5):
#
# - crates in nomad-blocking's normal dependency tree (itself and nomad-proto included);
# - a clean release build of nomad-blocking (a fresh target directory, dependencies included),
#   wall and CPU time, the two builds alternated ROUNDS times;
# - the release size of the one-call example (examples/members_once.rs), built as a stand-alone
#   crate that depends only on nomad-blocking (inside this workspace the examples get the
#   features of the tests' dev-dependencies), as built and stripped.
#
# Usage: bash examples/bench/footprint.sh [ROUNDS]   (default 2; about 2 minutes a round here)
# Needs the registry cache (run `cargo fetch` first when offline) and GNU time or bash's `time`.
set -euo pipefail

rounds=${1:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

crates() {
    cargo tree -p nomad-blocking "$@" -e normal --prefix none --manifest-path "$root/Cargo.toml" |
        sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l
}

# A clean release build of nomad-blocking; prints "wall cpu" in seconds.
build_time() {
    local target="$work/target-$RANDOM"
    local start end usage
    start=$(date +%s.%N)
    usage=$( { /usr/bin/time -f "%U %S" cargo build --release --locked --offline -q -p nomad-blocking "$@" \
        --manifest-path "$root/Cargo.toml" --target-dir "$target" >/dev/null; } 2>&1 | tail -1)
    end=$(date +%s.%N)
    rm -rf "$target"
    python3 -c "import sys; u, s = map(float, '$usage'.split()); print(f'{$end - $start:.1f} {u + s:.1f}')"
}

# The one-call example as its own crate; prints "size stripped" in bytes.
binary_size() {
    local dir="$work/members_once-$1"
    mkdir -p "$dir/src"
    cp "$root/examples/members_once.rs" "$dir/src/main.rs"
    local features=""
    [ "$1" = lean ] && features=", default-features = false"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "members_once"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
nomad-blocking = { path = "$root/nomad-blocking"$features }

[workspace]
EOF
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
    cargo build --release --offline -q --manifest-path "$dir/Cargo.toml" --target-dir "$work/size-target-$1"
    local bin="$work/size-target-$1/release/members_once"
    strip -o "$bin.stripped" "$bin"
    echo "$(stat -c %s "$bin") $(stat -c %s "$bin.stripped")"
}

echo "crates: default $(crates), lean $(crates --no-default-features), lean + tls $(crates --no-default-features --features tls)"

declare -a dw dc lw lc
for i in $(seq 1 "$rounds"); do
    # Alternate which build goes first, so that a drift in the machine's load hits both.
    if [ $((i % 2)) -eq 1 ]; then
        read -r w c < <(build_time); dw+=("$w"); dc+=("$c")
        read -r w c < <(build_time --no-default-features); lw+=("$w"); lc+=("$c")
    else
        read -r w c < <(build_time --no-default-features); lw+=("$w"); lc+=("$c")
        read -r w c < <(build_time); dw+=("$w"); dc+=("$c")
    fi
    echo "round $i: default ${dw[-1]} s wall (${dc[-1]} s CPU), lean ${lw[-1]} s wall (${lc[-1]} s CPU)," \
        "lean/default $(python3 -c "print(f'{${lw[-1]} / ${dw[-1]}:.2f}')") wall, $(python3 -c "print(f'{${lc[-1]} / ${dc[-1]}:.2f}')") CPU"
done

read -r ds dss < <(binary_size default)
read -r ls lss < <(binary_size lean)
echo "members_once release: default $ds B ($dss B stripped), lean $ls B ($lss B stripped)," \
    "lean/default $(python3 -c "print(f'{$lss / $dss:.2f}')") stripped"
