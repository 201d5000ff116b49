#!/usr/bin/env bash
# Peer comparison for the model-scan gate. Usage (from the repo root):
#   bash benches/model-scan/run.sh            # corpus table + 1 GiB throughput
#   MODEL_SCAN_BENCH_BYTES=268435456 bash benches/model-scan/run.sh
#   bash benches/model-scan/run.sh --no-throughput --cli   # + command lines (mlgate check vs peer CLIs)
#   bash benches/model-scan/run.sh --no-throughput --big-dir [--keep]
#       # + a generated 5 GiB checkpoint directory (MODEL_SCAN_BIG_DIR_GIB), deleted after
# Times are the best of MODEL_SCAN_BENCH_REPEAT (3) runs, wall and CPU. The sandbox
# figures need a release runner: MLGATE_BIN=path/to/mlgate (default: one in
# $CARGO_TARGET_DIR/release or target/release).
# Installs picklescan, modelscan and fickling (plus numpy/joblib for the big
# files) into target/venv-model-scan; needs the package registry once.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/venv-model-scan
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import picklescan, modelscan, fickling, numpy, joblib" 2>/dev/null ||
  "$VENV/bin/pip" install -q picklescan modelscan fickling numpy joblib
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/h-modelscan}"
cargo build -q --release -p mlgate-plugin-model-scan --example scan
export MLGATE_SCAN_BIN="$CARGO_TARGET_DIR/release/examples/scan"
if [ -z "${MLGATE_BIN:-}" ]; then
  for b in "$CARGO_TARGET_DIR/release/mlgate" target/release/mlgate; do
    if [ -x "$b" ]; then export MLGATE_BIN="$b"; break; fi
  done
fi
"$VENV/bin/python" benches/model-scan/compare.py "$@"
