#!/usr/bin/env bash
# Build the Python example plugin with componentize-py.
#   examples/python-plugin/build.sh      -> target/python-plugin/forbidden_words.wasm
# Installs componentize-py (PyPI) into target/venv-componentize-py once, and
# prints the build time, the component's size and its WASI imports.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/venv-componentize-py"
out="$root/target/python-plugin"
version="0.25.1"   # keep in step with COMPONENTIZE_PY_VERSION in runner/src/cli/plugin_new.rs
if [ ! -x "$venv/bin/componentize-py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "componentize-py==$version"
fi
mkdir -p "$out"
cd "$here"
start=$(date +%s.%N)
"$venv/bin/componentize-py" -d wit -w gate componentize app -o "$out/forbidden_words.wasm"
end=$(date +%s.%N)
printf 'componentize-py build: %.1f s, %s bytes\n' "$(echo "$end - $start" | bc)" "$(stat -c %s "$out/forbidden_words.wasm")"
# Native unit tests of the analysis (bindings generated beside, not committed).
rm -rf "$out/bindings"
"$venv/bin/componentize-py" -d wit -w gate bindings "$out/bindings"
PYTHONPATH="$out/bindings:$here" python3 -m unittest -q test_app
