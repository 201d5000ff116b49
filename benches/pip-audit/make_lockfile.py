#!/usr/bin/env python3
"""Writes a realistic N-requirement requirements.txt for the pip-audit
benchmark: N distinct packages of the PyPA snapshot, each pinned to a release
drawn (seeded) from the versions its advisories list, half of them with a
`--hash` line as pip-compile writes them. Usage: make_lockfile.py N OUT"""
import hashlib
import json
import random
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[3] / "shared/data/osv-pypi/pypa-advisories.jsonl"

n, out = int(sys.argv[1]), Path(sys.argv[2])
versions = {}
for line in SNAPSHOT.read_text(encoding="utf-8").splitlines():
    rec = json.loads(line)
    for a in rec.get("affected", []):
        name = (a.get("package") or {}).get("name")
        if name and a.get("versions"):
            versions.setdefault(name, set()).update(a["versions"])
rng = random.Random(2024)
names = rng.sample(sorted(versions), n)
lines = ["# benchmark lockfile: %d pins drawn from the PyPA snapshot" % n]
for name in sorted(names, key=str.lower):
    v = rng.choice(sorted(versions[name]))
    digest = hashlib.sha256(f"{name}=={v}".encode()).hexdigest()
    lines.append(f"{name}=={v} \\\n    --hash=sha256:{digest}")
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text("\n".join(lines) + "\n", encoding="utf-8")
print(f"wrote {out} ({n} requirements)")
