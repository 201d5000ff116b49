#!/bin/sh
# Validate tests/golden/export-argo.yaml with hera's Argo models, in a venv
# under target/ (pip on first use).   sh tests/golden/validate_argo.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/target/venv-hera"
version=7.1.0   # keep in step with HERA in tests/e2e/outside_tools.rs
have=$("$venv/bin/python" -c "import importlib.metadata as m, yaml; print(m.version('hera'))" 2>/dev/null || true)
if [ "$have" != "$version" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "hera==$version" pyyaml
fi
"$venv/bin/python" "$root/tests/golden/validate_argo.py" "$root/tests/golden/export-argo.yaml"
