#!/usr/bin/env bash
# pip-audit gate benchmark: audit a 300-requirement lockfile against the full
# PyPA snapshot (2,661 records), natively, inside the sandbox (`mlgate check`,
# when the binary is built), and with the Python reference matcher
# (`packaging`) in the same run. Run from the repository root:
#   bash benches/pip-audit/run.sh [N]
# pip-audit itself needs the network (PyPI/OSV APIs) and cannot run here;
# osv-scanner is a Go binary not available from the registries this machine
# reaches (crates.io, PyPI, npm, Debian bookworm), so it is not compared.
set -euo pipefail
N=${1:-300}
ROOT=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/h-pipaudit}
VENV=$ROOT/target/venv-pip-audit
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q packaging; }
DB=$ROOT/../shared/data/osv-pypi/pypa-advisories.jsonl
LOCK=$ROOT/target/bench-pip-audit/requirements.txt
"$VENV/bin/python" benches/pip-audit/make_lockfile.py "$N" "$LOCK"

echo "== native (release build of the plugin's analysis)"
native=$(cargo bench -q -p mlgate-plugin-pip-audit --bench audit -- "$LOCK" "$DB" 2>/dev/null | tee /dev/stderr | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')

echo "== python reference (packaging), same lockfile and database"
py=$("$VENV/bin/python" tests/fixtures/pip-audit/gen_reference.py --bench "$LOCK" | tee /dev/stderr | sed -n 's/.*total \([0-9.]*\) ms.*/\1/p')

sandbox=""
BIN=$CARGO_TARGET_DIR/release/mlgate
[ -x "$BIN" ] || BIN=$CARGO_TARGET_DIR/debug/mlgate
if [ -x "$BIN" ]; then
  echo "== sandbox: $BIN check pip-audit (wall clock, 5 runs, after one warm-up compile)"
  args=(check pip-audit --input "lockfile=$LOCK" --input "advisories=$DB" --format json --fail-on never)
  "$BIN" "${args[@]}" >/dev/null 2>&1 || true
  best=""
  for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    out=$("$BIN" "${args[@]}" 2>/dev/null || true)
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    gate_ms=$(printf '%s' "$out" | "$VENV/bin/python" -c 'import json,sys; g=json.load(sys.stdin)["gates"][0]; print(g.get("duration_ms"), g["status"], len(g["findings"]))' 2>/dev/null || echo "?")
    echo "run $i: wall ${ms} ms, gate duration_ms/status/findings: $gate_ms"
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  sandbox=$best
else
  echo "== sandbox: no mlgate binary under $CARGO_TARGET_DIR (build it with cargo build -p mlgate --release)"
fi
echo "== summary ($N requirements, full snapshot)"
echo "native median: ${native:-?} ms; python reference: ${py:-?} ms; ratio python/native: $("$VENV/bin/python" -c "print(f'{$py/$native:.1f}x')" 2>/dev/null || echo '?')"
[ -n "$sandbox" ] && echo "sandbox end to end (best of 5, wall, includes process start): ${sandbox} ms; ratio python/sandbox: $("$VENV/bin/python" -c "print(f'{$py/$sandbox:.1f}x')")"
true
