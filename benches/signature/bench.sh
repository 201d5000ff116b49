#!/usr/bin/env bash
# Benchmark: verify a large model (default 2 GiB in 4 files) with
#   - mlgate (`mlgate check signature`: the Wasm gate, file digests by the
#     host's native parallel `digest_batch`), and
#   - the reference `model_signing verify key` (PyPI model-signing, in the
#     venv target/venv-signature, see tests/fixtures/signature/gen.sh),
# on the same files, signed once by model_signing, in the same run. Prints
# wall and CPU time of each (best of $RUNS, warm page cache for both), the
# ratio, and `sha256sum` of one file as the machine's single-core SHA-256 rate.
#
#   bash benches/signature/bench.sh            # 2 GiB, 4 files, 3 runs
#   SIZE_MIB=256 RUNS=1 bash benches/signature/bench.sh
#   MLGATE=target/release/mlgate bash benches/signature/bench.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${VENV:-$root/target/venv-signature}"
ms="$venv/bin/model_signing"
size_mib="${SIZE_MIB:-2048}"
files="${FILES:-4}"
runs="${RUNS:-3}"
work="$root/target/bench-signature"
mlgate="${MLGATE:-}"
if [ -z "$mlgate" ]; then
  for c in "$root/target/release/mlgate" "$root/target/h-signature/release/mlgate" "$root/target/h-signature/debug/mlgate"; do
    [ -x "$c" ] && { mlgate="$c"; break; }
  done
fi
[ -x "$ms" ] || { echo "model_signing not found at $ms (see tests/fixtures/signature/gen.sh)"; exit 2; }
[ -n "$mlgate" ] && [ -x "$mlgate" ] || { echo "mlgate binary not found; cargo build --release -p mlgate or set MLGATE"; exit 2; }
keys="$root/tests/fixtures/signature/keys"

mkdir -p "$work"
per=$(( size_mib / files ))
if [ ! -f "$work/model/.done-$size_mib-$files" ]; then
  rm -rf "$work/model"; mkdir -p "$work/model"
  for i in $(seq 1 "$files"); do
    # Random content: a 64 MiB random block repeated (hashing cost does not
    # depend on the bytes, and this keeps generation fast).
    head -c $((64 << 20)) /dev/urandom > "$work/block"
    for _ in $(seq 1 $(( per / 64 ))); do cat "$work/block"; done > "$work/model/shard-$i.bin"
    head -c $(( (per % 64) << 20 )) "$work/block" >> "$work/model/shard-$i.bin"
  done
  rm -f "$work/block"
  touch "$work/model/.done-$size_mib-$files"
fi
"$ms" sign key "$work/model" --private_key "$keys/p256.pem" --signature "$work/model.sig" \
  --ignore-paths "$work/model/.done-$size_mib-$files" >/dev/null
cat "$work"/model/*.bin > /dev/null # warm the page cache for both tools

# time_best CMD... -> prints "wall_s cpu_s" of the fastest of $runs runs
time_best() {
  local best_wall="" best_cpu=""
  for _ in $(seq 1 "$runs"); do
    local out
    /usr/bin/env time -o "$work/time.txt" -f "%e %U %S" "$@" >/dev/null 2>&1
    out=$(tail -1 "$work/time.txt")
    local wall cpu
    wall=$(echo "$out" | awk '{print $1}')
    cpu=$(echo "$out" | awk '{printf "%.2f", $2 + $3}')
    if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; best_cpu=$cpu; fi
  done
  echo "$best_wall $best_cpu"
}

# Both must actually verify before timing means anything.
"$ms" verify key "$work/model" --signature "$work/model.sig" --public_key "$keys/p256.pub" >/dev/null
report=$("$mlgate" check signature --input "model=$work/model" --input "signature=$work/model.sig" \
  --input "public_key=$keys/p256.pub" --format json)
echo "$report" | grep -q '"status": *"pass"' || { echo "mlgate did not pass: $report"; exit 1; }

read -r ms_wall ms_cpu < <(time_best "$ms" verify key "$work/model" --signature "$work/model.sig" --public_key "$keys/p256.pub")
read -r mg_wall mg_cpu < <(time_best "$mlgate" check signature --input "model=$work/model" \
  --input "signature=$work/model.sig" --input "public_key=$keys/p256.pub" --format json)
read -r sha_wall _ < <(time_best sha256sum "$work/model/shard-1.bin")

echo "model: $size_mib MiB in $files files, $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg), best of $runs, warm cache"
echo "model_signing verify key : wall ${ms_wall}s  cpu ${ms_cpu}s"
echo "mlgate check signature   : wall ${mg_wall}s  cpu ${mg_cpu}s  ($mlgate)"
awk "BEGIN{printf \"speed-up (wall)          : %.2fx\n\", $ms_wall / $mg_wall}"
awk "BEGIN{printf \"sha256sum 1 file (1 core): %.0f MiB/s; mlgate: %.0f MiB/s\n\", $per / $sha_wall, $size_mib / $mg_wall}"
