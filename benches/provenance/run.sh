#!/usr/bin/env bash
# Provenance hashing benchmark (issue 2, item 13).
#
# Over the same 2 GiB directory (4 x 512 MiB pseudo-random files, created once
# and cached under target/bench-data/), in the same run, with a warm page cache:
#   sha256sum                      GNU coreutils, one process, 4 files
#   openssl dgst -sha256           OpenSSL, one process, 4 files (the reference)
#   mlgate manifest create -j 1    mlgate's native digest module, 1 thread
#   mlgate manifest create -j 2    same, 2 threads (files hashed in parallel)
#   mlgate check provenance        the whole gate: sandbox + Wasm plugin +
#                                  host digest-batch + comparison
# Each is run REPS times (default 3); the best time is reported, as GB/s
# (10^9 bytes/s) and as a ratio to openssl. The digests are cross-checked.
#
# Usage: bash benches/provenance/run.sh      (env: REPS, MLGATE, CARGO_TARGET_DIR)
set -euo pipefail
export LC_ALL=C

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
reps="${REPS:-3}"
data="$repo/target/bench-data/provenance-2g"
manifest="$repo/target/bench-data/provenance-2g.sha256"
file_bytes=$((512 * 1024 * 1024))
total_bytes=$((4 * file_bytes))

# --- the binary -------------------------------------------------------------
mlgate="${MLGATE:-${CARGO_TARGET_DIR:-$repo/target}/release/mlgate}"
if [[ ! -x "$mlgate" ]]; then
  echo "building $mlgate (cargo build -p mlgate --release)" >&2
  cargo build -p mlgate --release >&2
fi
export MLGATE_CACHE_DIR="$repo/target/bench-data/mlgate-cache"

# --- the data (once) ----------------------------------------------------------
mkdir -p "$data"
for i in 0 1 2 3; do
  f="$data/part-$i.bin"
  if [[ ! -f "$f" || $(stat -c %s "$f") -ne $file_bytes ]]; then
    echo "creating $f (512 MiB, AES-CTR keystream: incompressible, reproducible)" >&2
    # `|| true`: openssl dies of SIGPIPE once head has its bytes.
    (openssl enc -aes-128-ctr -pass "pass:mlgate-bench-$i" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null || true) \
      | head -c "$file_bytes" > "$f.tmp"
    mv "$f.tmp" "$f"
  fi
done
files=("$data"/part-0.bin "$data"/part-1.bin "$data"/part-2.bin "$data"/part-3.bin)

# --- helpers --------------------------------------------------------------
now_ns() { date +%s%N; }

# best_of NAME CMD...: run CMD $reps times (stdout discarded), print the best
# time in seconds and remember it in best[NAME].
declare -A best
best_of() {
  local name="$1"; shift
  local min=""
  for ((r = 0; r < reps; r++)); do
    local start end
    start=$(now_ns)
    "$@" > /dev/null
    end=$(now_ns)
    local ns=$((end - start))
    if [[ -z "$min" || $ns -lt $min ]]; then min=$ns; fi
  done
  best[$name]=$min
}

gbps() { awk -v b="$total_bytes" -v ns="$1" 'BEGIN { printf "%.2f", b / ns }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

check_gate() {
  "$mlgate" check provenance --input "dataset=$data" --input "manifest=$manifest" --format json
}

# --- setup and cross-checks ----------------------------------------------------
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no); $(openssl version | cut -d' ' -f1-2);" \
  "$(sha256sum --version | head -1)"
"$mlgate" manifest create "$data" --output "$manifest" 2> /dev/null
(cd "$data" && sha256sum -c --strict --quiet "$manifest") \
  || { echo "FAIL: sha256sum -c rejects mlgate's manifest" >&2; exit 1; }
ours=$(awk '{ print $1 }' "$manifest")
theirs=$(openssl dgst -sha256 -r "${files[@]}" | awk '{ print $1 }')
[[ "$ours" == "$theirs" ]] || { echo "FAIL: digests differ from openssl" >&2; exit 1; }
report=$(check_gate) || { echo "FAIL: the provenance gate did not pass: $report" >&2; exit 1; }
cat "${files[@]}" > /dev/null   # warm the page cache

# --- timings (best of $reps) --------------------------------------------------
best_of sha256sum sha256sum "${files[@]}"
best_of openssl openssl dgst -sha256 "${files[@]}"
best_of native1 "$mlgate" manifest create "$data" --jobs 1
best_of native2 "$mlgate" manifest create "$data" --jobs 2
best_of gate check_gate

echo
echo "2 GiB in 4 files, best of $reps runs, warm page cache:"
printf '%-44s %8s %8s %10s\n' "tool" "seconds" "GB/s" "x openssl"
row() {
  local label="$1" ns="${best[$2]}"
  printf '%-44s %8.3f %8s %10s\n' "$label" "$(awk -v ns="$ns" 'BEGIN { print ns / 1e9 }')" \
    "$(gbps "$ns")" "$(ratio "$ns" "${best[openssl]}")"
}
row "sha256sum (coreutils)" sha256sum
row "openssl dgst -sha256" openssl
row "mlgate manifest create --jobs 1 (native)" native1
row "mlgate manifest create --jobs 2 (native)" native2
row "mlgate check provenance (whole gate)" gate
