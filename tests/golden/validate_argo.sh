#!/bin/sh
# Validate tests/golden/export-argo.yaml with hera's Argo models, in a venv
# under target/ (pip on first use).   sh tests/golden/validate_argo.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/target/venv-hera"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import hera, yaml" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "hera>=5" pyyaml
fi
"$venv/bin/python" "$root/tests/golden/validate_argo.py" "$root/tests/golden/export-argo.yaml"
