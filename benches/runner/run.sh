#!/usr/bin/env bash
# Runner overhead through the real binary (warm compile cache):
#   1. one trivial gate (`mlgate check` of the test guest), whole process;
#   2. a 100-gate pipeline of trivial gates, end to end.
# Usage: bash benches/runner/run.sh   (MLGATE=path/to/mlgate to pick a binary)
# The in-process per-gate figure and cold compile times: cargo bench -p mlgate --bench gates
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mlgate=${MLGATE:-$root/target/release/mlgate}
guest=$root/target/wasm-guests/wasm32-wasip2/release/mlgate_hostile.wasm
[ -x "$mlgate" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -f "$guest" ] || { echo "missing $guest (built by cargo build)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export MLGATE_CACHE_DIR=$work/cache
cp "$guest" "$work/g.wasm"; echo x > "$work/data.txt"
sha=$("$mlgate" plugin pin "$work/g.wasm" | awk '{print $2}')
{ echo "version: 1"; echo "name: hundred"; echo "gates:"
  for i in $(seq 0 99); do
    printf '  g%d:\n    stage: training\n    plugin: g.wasm\n    sha256: %s\n    inputs: { data: data.txt }\n    with: { attack: none }\n' "$i" "$sha"
  done; } > "$work/mlgate.yaml"
"$mlgate" check "$work/g.wasm" --set attack=none --quiet --format json > /dev/null  # warm the cache
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
one=$(for _ in $(seq 1 21); do time_ms "$mlgate" check "$work/g.wasm" --input "data=$work/data.txt" --set attack=none --quiet --format json; done | median)
true_ms=$(for _ in $(seq 1 21); do time_ms true; done | median)
hundred=$(for _ in $(seq 1 7); do time_ms "$mlgate" run "$work/mlgate.yaml" --project "$work" --quiet --format json; done | median)
echo "one trivial gate, whole mlgate process, warm cache: median ${one} ms over 21 runs (process spawn of \`true\`: ${true_ms} ms)"
echo "100-gate pipeline of trivial gates, mlgate run, warm cache: median ${hundred} ms over 7 runs (goal < 1000 ms) = $(( hundred * 10 )) us per gate"
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
