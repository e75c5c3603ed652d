#!/usr/bin/env python3
"""`shakedown corrupt` end to end against each family's own speed, in the same session.

For each family: `shakedown corruptions --throughput --json` (the family alone, one thread, severity 3, the
default suite's test texts), then `shakedown corrupt --corruptions FAMILY:3 --in FILE` on one and on two
threads (reading, corrupting, measuring CER / normalised WER / raw WER / edit spans, writing JSON lines to
/dev/null), best of --repeat wall times. Prints MB of input per second and the ratios, with the CPU model.
The input FILE is the default suite's test texts repeated to 1.4 MB (made here unless --in is given); the
outputs of the one- and two-thread runs are compared byte for byte.

Usage: python3 scripts/corrupt_bench/bench_corrupt.py [--bin target/release/shakedown] [--in FILE]
       [--families typo,ocr,asr,disfluent,jargon,l2] [--repeat 3]
"""
import argparse
import hashlib
import json
import os
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_input(path, size=1_400_000):
    with open(os.path.join(ROOT, "suites/warehouse-commands/data.jsonl"), encoding="utf-8") as f:
        texts = [r["text"] for r in map(json.loads, filter(str.strip, f)) if r["split"] == "test"]
    out, n, i = [], 0, 0
    while n < size:
        out.append(texts[i % len(texts)])
        n += len(texts[i % len(texts)].encode()) + 1
        i += 1
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def timed(cmd, repeat):
    best, digest = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
        dt = time.perf_counter() - t0
        d = hashlib.sha256(p.stdout).hexdigest()
        if digest not in (None, d):
            raise SystemExit(f"{cmd}: output differs between repeats")
        digest = d
        best = dt if best is None else min(best, dt)
    return best, digest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/shakedown"))
    ap.add_argument("--in", dest="input")
    ap.add_argument("--families", default="typo,ocr,asr,disfluent,jargon,l2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout
                .splitlines() if l.startswith("Model name")), "unknown")
    tmp = tempfile.mkdtemp()
    path = args.input or os.path.join(tmp, "input.txt")
    if not args.input:
        make_input(path)
    mb = os.path.getsize(path) / 1e6
    print(f"CPU: {cpu}; input {mb:.2f} MB ({path}); best of {args.repeat}")
    print("| family | corruptions --throughput MB/s (1 thread) | corrupt MB/s, 1 thread | ratio | corrupt MB/s, 2 threads | 2 / 1 threads | same bytes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = json.loads(subprocess.run([args.bin, "corruptions", "--throughput", "--json", "--seconds", "2"],
                                     capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    own = {r["family"]: r["mb_per_s"] for r in rows}
    for fam in args.families.split(","):
        cmd = [args.bin, "corrupt", "--corruptions", f"{fam}:3", "--in", path, "--threads"]
        t1, d1 = timed(cmd + ["1"], args.repeat)
        t2, d2 = timed(cmd + ["2"], args.repeat)
        print(f"| `{fam}` | {own.get(fam, float('nan')):.2f} | {mb / t1:.2f} | {mb / t1 / own.get(fam, float('nan')):.2f} "
              f"| {mb / t2:.2f} | {t1 / t2:.2f} | {'yes' if d1 == d2 else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
