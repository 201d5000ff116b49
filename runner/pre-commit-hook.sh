#!/bin/sh
# Entry of the `mlgate` hook in .pre-commit-hooks.yaml (pre-commit framework,
# `language: script`). pre-commit clones this repository once per `rev`; the
# first run builds mlgate in that clone (cargo, the toolchain of
# rust-toolchain.toml and its wasm32-wasip2 target), later runs reuse the
# binary. Arguments are passed to mlgate; it runs in the repository being
# committed to.
set -eu
repo=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
bin="$repo/target/release/mlgate"
if [ ! -x "$bin" ]; then
    echo "mlgate: building from $repo (first run only, takes a few minutes)" >&2
    (cd "$repo" && cargo build --release --locked -p mlgate --target-dir "$repo/target") >&2
fi
exec "$bin" "$@"
