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
import resource
import shutil
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
REPEAT = int(os.environ.get("MODEL_SCAN_BENCH_REPEAT", "3"))
INNER = []  # mlgate's own scan time per run (process start excluded)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd):
    """Run `cmd`; (completed process, wall s, CPU s of the child)."""
    cpu0, start = child_cpu(), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    return out, time.perf_counter() - start, child_cpu() - cpu0


def mlgate_scan(paths):
    """Verdicts for many files in one process: ({path: (detected, crashed)}, wall, CPU)."""
    out, wall, cpu = timed([SCAN_BIN, "--summary", "--time", *paths])
    if out.returncode != 0:
        raise SystemExit(f"mlgate scan failed: {out.stderr}")
    INNER.append(float(out.stderr.split("scan-seconds\t")[1].split()[0]))
    res = {}
    for line in out.stdout.splitlines():
        path, sev, _ = line.split("\t")
        res[path] = (RANK[sev] >= RANK["high"], False)
    return res, wall, cpu


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
    """In-process run over `paths`: (results, wall s, CPU s of this process)."""
    res = {}
    cpu0, start = time.process_time(), time.perf_counter()
    for p in paths:
        try:
            res[p] = fn(p)
        except BaseException as e:  # a peer crash must not stop the comparison
            if isinstance(e, KeyboardInterrupt):
                raise
            res[p] = (False, True)
    return res, time.perf_counter() - start, time.process_time() - cpu0


def best_of(run):
    """Run `run()` REPEAT times; its results with the lowest wall and CPU times."""
    runs = [run() for _ in range(REPEAT)]
    return runs[0][0], min(r[1] for r in runs), min(r[2] for r in runs)


def main():
    manifest = json.load(open(os.path.join(FIX, "manifest.json")))
    paths = [os.path.join(FIX, k) for k in sorted(manifest)]
    cls = {os.path.join(FIX, k): v["class"] for k, v in manifest.items()}
    n_mal = sum(1 for p in paths if cls[p] == "malicious")
    n_ben = sum(1 for p in paths if cls[p] == "benign")
    tools = [("mlgate model-scan", *best_of(lambda: mlgate_scan(paths)))]
    inner = min(INNER)
    for name, fn in [("picklescan", picklescan_one), ("modelscan", modelscan_one), ("fickling", fickling_one)]:
        try:
            __import__({"picklescan": "picklescan.scanner", "modelscan": "modelscan.modelscan",
                        "fickling": "fickling"}[name])
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        tools.append((name, *best_of(lambda: run_peer(fn, paths))))
    print(f"\ncorpus: {n_mal} malicious, {n_ben} benign, {len(paths) - n_mal - n_ben} malformed files "
          f"(times: best of {REPEAT} runs; peers in-process, mlgate a native process including its start)\n")
    print(f"{'tool':<20}{'detected':>10}{'missed':>8}{'false pos':>11}{'crashes':>9}{'wall s':>9}{'CPU s':>9}")
    for name, res, wall, cpu in tools:
        det = sum(1 for p in paths if cls[p] == "malicious" and res[p][0])
        fp = sum(1 for p in paths if cls[p] == "benign" and res[p][0])
        crash = sum(1 for p in paths if res[p][1])
        print(f"{name:<20}{det:>6}/{n_mal:<3}{n_mal - det:>8}{fp:>7}/{n_ben:<3}{crash:>9}{wall:>9.3f}{cpu:>9.3f}")
    if len(tools) > 1:
        fw = min(t[2] for t in tools[1:])
        fc = min(t[3] for t in tools[1:])
        ml = tools[0]
        print(f"\nmlgate vs fastest peer: wall {fw / ml[2]:.1f}x, CPU {fc / ml[3]:.1f}x "
              f"(per file: mlgate {ml[3] / len(paths) * 1e6:.0f} us CPU, fastest peer {fc / len(paths) * 1e6:.0f} us)")
        print(f"mlgate scan time inside its process (start excluded): {inner:.4f}s, "
              f"{inner / len(paths) * 1e6:.0f} us per file; vs fastest peer wall {fw / inner:.1f}x")
    res = tools[0][1]
    missed_by_all = [os.path.relpath(p, FIX) for p in paths if cls[p] == "malicious"
                     and not any(r[p][0] for _, r, _, _ in tools[1:])]
    print(f"malicious files missed by every peer: {len(missed_by_all)}")
    for m in missed_by_all:
        print(f"  {m}")
    if "--cli" in sys.argv:
        cli()
    if "--no-throughput" not in sys.argv:
        throughput()
    if "--big-dir" in sys.argv:
        big_dir()


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
        out, ml, ml_cpu = timed([SCAN_BIN, "--summary", path])
        print(f"  {os.path.basename(path)}: mlgate {ml:.3f}s wall, {ml_cpu:.3f}s CPU "
              f"({mb / ml:.0f} MiB/s, verdict {out.stdout.split()[1]})")
        for name, fn in peers:
            start = time.perf_counter()
            try:
                det, crashed = fn(path)
                note = f"detected={det} error={crashed}"
            except Exception as e:
                note = f"crash: {type(e).__name__}"
            secs = time.perf_counter() - start
            print(f"    {name:<11} {secs:8.3f}s  {note}  (mlgate {secs / ml:.1f}x faster)")
    if sandbox_bin():
        for path in big_files(size):
            wall, cpu, gate_ms, _ = sandbox_check(path)
            print(f"  {os.path.basename(path):<28} mlgate check (wasm sandbox): process {wall:.3f}s wall, "
                  f"{cpu:.3f}s CPU; gate {gate_ms} ms")


def sandbox_bin():
    wasm = os.environ.get("MLGATE_BIN")
    return wasm if wasm and os.path.exists(wasm) else None


def sandbox_check(path):
    """`mlgate check model-scan` on `path`: (wall s, CPU s, gate duration ms, summary)."""
    cmd = [sandbox_bin(), "check", "model-scan", "--input", f"models={path}", "--format", "json",
           "--fail-on", "never"]
    timed(cmd)  # warm the component cache
    runs = [timed(cmd) for _ in range(REPEAT)]
    gate = json.loads(runs[0][0].stdout)["gates"][0]
    return (min(r[1] for r in runs), min(r[2] for r in runs),
            min(json.loads(r[0].stdout)["gates"][0]["duration_ms"] for r in runs), gate["summary"])


def cli():
    """Whole-corpus command lines as a CI step runs them (process start and imports included)."""
    print(f"\ncommand lines on the corpus directory (best of {REPEAT}):")
    rows = []
    if sandbox_bin():
        wall, cpu, gate_ms, summary = sandbox_check(FIX)
        rows.append(("mlgate check model-scan", wall, cpu))
        print(f"  mlgate check gate duration {gate_ms} ms ({summary})")
    venv_bin = os.path.dirname(sys.executable)
    for name, cmd in [("picklescan -p", [os.path.join(venv_bin, "picklescan"), "-p", FIX]),
                      ("modelscan -p", [os.path.join(venv_bin, "modelscan"), "-p", FIX])]:
        if os.path.exists(cmd[0]):
            runs = [timed(cmd) for _ in range(REPEAT)]
            rows.append((name, min(r[1] for r in runs), min(r[2] for r in runs)))
    for name, wall, cpu in rows:
        print(f"  {name:<26}{wall:8.3f}s wall{cpu:8.3f}s CPU")
    if len(rows) > 1 and rows[0][0].startswith("mlgate"):
        fw, fc = min(r[1] for r in rows[1:]), min(r[2] for r in rows[1:])
        print(f"  mlgate check vs fastest peer CLI: wall {fw / rows[0][1]:.1f}x, CPU {fc / rows[0][2]:.1f}x")


def make_big_dir(gib):
    """`gib` GiB of checkpoints: torch.save zips (1 MiB storages, like sharded
    checkpoints) and one SafeTensors file; tensor bytes are random."""
    d = os.path.join(ROOT, "target", "bench-model-scan", f"dir-{gib}GiB")
    if os.path.exists(os.path.join(d, "done")):
        return d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    chunk = os.urandom(1 << 20)
    with zipfile.ZipFile(os.path.join(FIX, "benign", "state_dict.pt")) as z:
        pkl = z.read("archive/data.pkl")
    for i in range(gib - 1):
        with zipfile.ZipFile(os.path.join(d, f"model-{i:05d}.pt"), "w", zipfile.ZIP_STORED,
                             allowZip64=True) as z:
            z.writestr("archive/data.pkl", pkl)
            z.writestr("archive/byteorder", b"little")
            for k in range(1024):
                z.writestr(f"archive/data/{k}", chunk)
            z.writestr("archive/version", b"3\n")
    n = 1024
    header = {f"layer.{k}.weight": {"dtype": "F32", "shape": [1 << 18], "data_offsets": [k << 20, (k + 1) << 20]}
              for k in range(n)}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        for _ in range(n):
            f.write(chunk)
    open(os.path.join(d, "done"), "w").close()
    return d


def big_dir():
    gib = int(os.environ.get("MODEL_SCAN_BIG_DIR_GIB", "5"))
    d = make_big_dir(gib)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f != "done")
    total = sum(os.path.getsize(f) for f in files) / (1 << 30)
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL)
    print(f"\n{total:.2f} GiB directory of checkpoints ({len(files)} files: torch.save zips of 1024 "
          f"storages each, one SafeTensors), page cache warmed, best of {REPEAT}:")
    res, wall, cpu = best_of(lambda: mlgate_scan(files))
    verdicts = sorted({v[0] for v in res.values()})
    print(f"  mlgate native scan      {wall:8.3f}s wall {cpu:8.3f}s CPU  ({wall / total * 1000:.1f} ms/GiB; any high: {verdicts})")
    if sandbox_bin():
        w, c, gate_ms, summary = sandbox_check(d)
        print(f"  mlgate check (sandbox)  {w:8.3f}s wall {c:8.3f}s CPU  gate {gate_ms} ms ({summary})")
    for name, fn in [("picklescan", picklescan_one), ("modelscan", modelscan_one)]:
        res, w, c = best_of(lambda: run_peer(fn, files))
        print(f"  {name:<23} {w:8.3f}s wall {c:8.3f}s CPU  (mlgate native {w / wall:.0f}x faster by wall)")
    print("  (fickling reads every byte of every file: not run on the directory)")
    if "--keep" not in sys.argv:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
