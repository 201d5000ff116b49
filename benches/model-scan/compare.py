#!/usr/bin/env python3
"""Side-by-side: mlgate model-scan vs picklescan, modelscan, fickling on the
fixture corpus (tests/fixtures/model-scan/manifest.json), then throughput
on large generated checkpoints. Run through benches/model-scan/run.sh.

A peer "detects" a file when it reports anything for it (its most sensitive
reading: picklescan issues or infected files, modelscan any issue, fickling
any severity above LIKELY_SAFE). mlgate detects a file when it reports
high or critical. An exception or scan error is a "crash" for that file.
"""

import io
import json
import os
import subprocess
import sys
import time
import warnings
import zipfile

warnings.filterwarnings("ignore")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "model-scan")
SCAN_BIN = os.environ["MLGATE_SCAN_BIN"]
RANK = {"none": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def mlgate_scan(paths):
    """Verdicts for many files in one process: {path: (detected, crashed)}."""
    out = subprocess.run([SCAN_BIN, "--summary", *paths], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"mlgate scan failed: {out.stderr}")
    res = {}
    for line in out.stdout.splitlines():
        path, sev, _ = line.split("\t")
        res[path] = (RANK[sev] >= RANK["high"], False)
    return res


def picklescan_one(path):
    from picklescan.scanner import scan_file_path
    r = scan_file_path(path)
    return (r.issues_count > 0 or r.infected_files > 0, bool(r.scan_err))


def modelscan_one(path):
    from modelscan.modelscan import ModelScan
    ms = ModelScan()  # a fresh scanner per file: results accumulate otherwise
    r = ms.scan(path)
    return (len(r.get("issues", [])) > 0, len(r.get("errors", [])) > 0)


def fickling_one(path):
    import fickling
    from fickling.analysis import Severity
    r = fickling.scan_file(path, graceful=True)
    return (r.severity != Severity.LIKELY_SAFE and not (r.errors and not r.results), bool(r.errors))


def run_peer(fn, paths):
    res = {}
    start = time.perf_counter()
    for p in paths:
        try:
            res[p] = fn(p)
        except BaseException as e:  # a peer crash must not stop the comparison
            if isinstance(e, KeyboardInterrupt):
                raise
            res[p] = (False, True)
    return res, time.perf_counter() - start


def main():
    manifest = json.load(open(os.path.join(FIX, "manifest.json")))
    paths = [os.path.join(FIX, k) for k in sorted(manifest)]
    cls = {os.path.join(FIX, k): v["class"] for k, v in manifest.items()}
    n_mal = sum(1 for p in paths if cls[p] == "malicious")
    n_ben = sum(1 for p in paths if cls[p] == "benign")
    tools = []
    start = time.perf_counter()
    cpu0 = os.times()
    res = mlgate_scan(paths)
    cpu1 = os.times()
    tools.append(("mlgate model-scan", res, time.perf_counter() - start))
    mlgate_cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    for name, fn in [("picklescan", picklescan_one), ("modelscan", modelscan_one), ("fickling", fickling_one)]:
        try:
            __import__({"picklescan": "picklescan.scanner", "modelscan": "modelscan.modelscan",
                        "fickling": "fickling"}[name])
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        res, secs = run_peer(fn, paths)
        tools.append((name, res, secs))
    print(f"\ncorpus: {n_mal} malicious, {n_ben} benign, {len(paths) - n_mal - n_ben} malformed files\n")
    print(f"{'tool':<20}{'detected':>10}{'missed':>8}{'false pos':>11}{'crashes':>9}{'wall s':>9}")
    for name, res, secs in tools:
        det = sum(1 for p in paths if cls[p] == "malicious" and res[p][0])
        fp = sum(1 for p in paths if cls[p] == "benign" and res[p][0])
        crash = sum(1 for p in paths if res[p][1])
        print(f"{name:<20}{det:>6}/{n_mal:<3}{n_mal - det:>8}{fp:>7}/{n_ben:<3}{crash:>9}{secs:>9.3f}")
    fastest = min((secs for name, _, secs in tools[1:]), default=None)
    if fastest:
        print(f"\nmlgate corpus wall time vs fastest peer: {fastest / tools[0][2]:.1f}x "
              f"(mlgate CPU time {mlgate_cpu:.3f}s, including process start; peers run in-process)")
    start = time.perf_counter()
    mlgate_scan([p for p in paths if not p.endswith("bomb.zip")])
    print(f"mlgate wall time without the 1 GiB decompression bomb: {time.perf_counter() - start:.3f}s")
    missed_by_all = [os.path.relpath(p, FIX) for p in paths if cls[p] == "malicious"
                     and not any(res[p][0] for name, res, _ in tools[1:])]
    print(f"malicious files missed by every peer: {len(missed_by_all)}")
    for m in missed_by_all:
        print(f"  {m}")
    if "--no-throughput" not in sys.argv:
        throughput()


def big_files(size):
    """A torch.save-style zip and a joblib file, each with `size` tensor bytes."""
    import numpy as np
    d = os.path.join(ROOT, "target", "bench-model-scan")
    os.makedirs(d, exist_ok=True)
    tz = os.path.join(d, f"big_torch_{size >> 20}MiB.pt")
    jb = os.path.join(d, f"big_{size >> 20}MiB.joblib")
    if not os.path.exists(tz):
        data_pkl = open(os.path.join(FIX, "benign", "state_dict.pt"), "rb").read()
        with zipfile.ZipFile(io.BytesIO(data_pkl)) as z:
            pkl = z.read("archive/data.pkl")
        with zipfile.ZipFile(tz, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
            z.writestr("archive/data.pkl", pkl)
            with z.open("archive/data/0", "w", force_zip64=True) as w:
                chunk = b"\1" * (1 << 24)
                for _ in range(size // len(chunk)):
                    w.write(chunk)
            z.writestr("archive/data/1", b"\0" * 8)
            z.writestr("archive/version", b"3\n")
    if not os.path.exists(jb):
        import joblib
        joblib.dump({"w": np.ones(size // 8, dtype="<f8")}, jb)
    return [tz, jb]


def throughput():
    size = int(os.environ.get("MODEL_SCAN_BENCH_BYTES", str(1 << 30)))
    print(f"\nthroughput on {size >> 20} MiB of tensor data per file (page cache warmed first):")
    peers = [("picklescan", picklescan_one), ("modelscan", modelscan_one), ("fickling", fickling_one)]
    for path in big_files(size):
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL)
        mb = os.path.getsize(path) / (1 << 20)
        start = time.perf_counter()
        out = subprocess.run([SCAN_BIN, "--summary", path], capture_output=True, text=True)
        ml = time.perf_counter() - start
        print(f"  {os.path.basename(path)}: mlgate {ml:.3f}s ({mb / ml:.0f} MiB/s, verdict {out.stdout.split()[1]})")
        for name, fn in peers:
            start = time.perf_counter()
            try:
                det, crashed = fn(path)
                note = f"detected={det} error={crashed}"
            except Exception as e:
                note = f"crash: {type(e).__name__}"
            secs = time.perf_counter() - start
            print(f"    {name:<11} {secs:8.3f}s  {note}  (mlgate {secs / ml:.1f}x faster)")
    wasm = os.environ.get("MLGATE_BIN")
    if wasm and os.path.exists(wasm):
        for path in big_files(size):
            start = time.perf_counter()
            subprocess.run([wasm, "check", "model-scan", "--input", f"models={path}", "--format", "json"],
                           capture_output=True)
            print(f"  {os.path.basename(path):<28} mlgate check (wasm sandbox, incl. startup) {time.perf_counter() - start:7.3f}s")


if __name__ == "__main__":
    main()
