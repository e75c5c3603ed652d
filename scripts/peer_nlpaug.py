#!/usr/bin/env python3
"""Peer benchmark: nlpaug's comparable text augmenters against Shakedown's corruption families.

Measures MB of input text per second (UTF-8 bytes of the input sentences / 1e6, one thread, one process)
on the test split of suites/warehouse-commands (840 short sentences), repeated until at least --seconds
have passed; best of --repeat runs. nlpaug is timed calling `augment` one sentence at a time (as a
per-example corruption does) and with the whole list at once; the ratio ours / nlpaug uses the faster
of the two. Ours comes from `shakedown corruptions --throughput --json` (severity 3, target CER 0.08),
run here best of --repeat, or from a saved copy of its output (--ours).

    KeyboardAug  aug_word_p=0.3 aug_char_p=0.1   vs typo
    OcrAug       aug_word_p=0.3 aug_char_p=0.1   vs ocr
    SpellingAug  aug_p=0.2 (the dictionary nlpaug ships)   vs typo
These settings were picked to land near our severity 3; the CER column shows what nlpaug achieved.

Install (only where the benchmark is run, never in CI):  pip install nlpaug==1.1.11 numpy
Usage:
    cargo build --release
    python3 scripts/peer_nlpaug.py [--shakedown target/release/shakedown | --ours ours.json]
                                   [--seconds 3] [--repeat 3] [--json]
    (ours.json: saved `target/release/shakedown corruptions --throughput --json`)
nlpaug's randomness is seeded (random, numpy; PYTHONHASHSEED=0, set by re-executing itself).
Both sides must be measured on the same machine in the same session for the ratios to mean anything.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

# SpellingAug's dictionary lists come from sets, whose order follows str hashing: fix it for reproducibility.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "PYTHONHASHSEED": "0"})
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SUITE = os.path.join(ROOT, "suites", "warehouse-commands", "data.jsonl")
SEED = 1
PINNED = "1.1.11"


def suite_texts():
    with open(SUITE, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows if r.get("split") == "test"]


def peers():
    """(name, settings, our family, constructor or None, reason it cannot run)."""
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw
    from nlpaug.util import LibraryUtil

    out = [
        ("KeyboardAug", "aug_word_p=0.3 aug_char_p=0.1", "typo",
         lambda: nac.KeyboardAug(aug_word_p=0.3, aug_char_p=0.1), None),
        ("OcrAug", "aug_word_p=0.3 aug_char_p=0.1", "ocr",
         lambda: nac.OcrAug(aug_word_p=0.3, aug_char_p=0.1), None),
    ]
    spelling = os.path.join(LibraryUtil.get_res_dir(), "word", "spelling", "spelling_en.txt")
    if os.path.isfile(spelling):
        out.append(("SpellingAug", "aug_p=0.2", "typo",
                    lambda: naw.SpellingAug(dict_path=spelling, aug_p=0.2), None))
    else:
        out.append(("SpellingAug", "aug_p=0.2", "typo", None,
                    f"no spelling dictionary in the nlpaug package (looked for {spelling})"))
    return out


def seed():
    random.seed(SEED)
    np.random.seed(SEED)


def timed(one_pass, pass_bytes, seconds):
    """MB/s of `one_pass` repeated until `seconds` have passed (at least one pass)."""
    start = time.perf_counter()
    total = 0
    while True:
        one_pass()
        total += pass_bytes
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return total / 1e6 / elapsed


def best_of(repeat, one_pass, pass_bytes, seconds):
    best = 0.0
    for _ in range(repeat):
        seed()
        best = max(best, timed(one_pass, pass_bytes, seconds))
    return best


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def measure_peer(aug, texts, seconds, repeat):
    pass_bytes = sum(len(t.encode("utf-8")) for t in texts)
    seed()
    noisy = aug.augment(texts)
    cer = sum(levenshtein(a, b) for a, b in zip(texts, noisy)) / sum(len(t) for t in texts)

    def per_sentence():
        for t in texts:
            aug.augment(t)

    def batch():
        aug.augment(texts)

    return {
        "cer": cer,
        "per_sentence_mb_per_s": best_of(repeat, per_sentence, pass_bytes, seconds),
        "batch_mb_per_s": best_of(repeat, batch, pass_bytes, seconds),
    }


def our_runs(args):
    """A list of runs, each a list of {family, severity, mb_per_s, ...}."""
    if args.ours:
        with open(args.ours, encoding="utf-8") as f:
            return [json.load(f)]
    if not os.path.isfile(args.shakedown):
        sys.exit(f"no shakedown binary at {args.shakedown} (cargo build --release, or pass --ours FILE)")
    cmd = [args.shakedown, "corruptions", "--throughput", "--json", "--seconds", str(args.seconds)]
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
        runs.append(json.loads(done.stdout))
    return runs


def our_best(runs, family, severity):
    rows = [r for run in runs for r in run if r.get("family") == family]
    at = [r for r in rows if r.get("severity") == severity] or rows
    return max(at, key=lambda r: r["mb_per_s"]) if at else None


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shakedown", default=os.path.join(ROOT, "target", "release", "shakedown"),
                   help="shakedown binary to measure ours with (default: target/release/shakedown)")
    p.add_argument("--ours", help="saved output of `shakedown corruptions --throughput --json` instead")
    p.add_argument("--seconds", type=float, default=3.0, help="minimum seconds per measurement")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    p.add_argument("--severity", type=int, default=3, help="our severity to compare with, if several")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args()

    import nlpaug
    if nlpaug.__version__ != PINNED:
        print(f"note: nlpaug {nlpaug.__version__} installed; figures were taken with {PINNED}", file=sys.stderr)
    texts = suite_texts()
    ours = our_runs(args)
    rows = []
    for name, settings, family, make, reason in peers():
        row = {"augmenter": name, "settings": settings, "family": family}
        aug = None
        if make is not None:
            try:
                aug = make()
            except Exception as e:  # e.g. a resource file missing from this nlpaug install
                reason = f"could not be constructed: {type(e).__name__}: {e}"
        if aug is None:
            row["skipped"] = reason
            print(f"skipping {name}: {reason}", file=sys.stderr)
        else:
            row.update(measure_peer(aug, texts, args.seconds, args.repeat))
            row["nlpaug_mb_per_s"] = max(row["per_sentence_mb_per_s"], row["batch_mb_per_s"])
        mine = our_best(ours, family, args.severity)
        row["our_severity"] = mine.get("severity") if mine else None
        row["our_mb_per_s"] = mine["mb_per_s"] if mine else None
        row["ratio"] = (row["our_mb_per_s"] / row["nlpaug_mb_per_s"]
                        if mine and row.get("nlpaug_mb_per_s") else None)
        rows.append(row)

    meta = {"nlpaug": nlpaug.__version__, "python": sys.version.split()[0], "sentences": len(texts),
            "input_bytes": sum(len(t.encode("utf-8")) for t in texts), "seconds": args.seconds,
            "repeat": args.repeat, "seed": SEED, "threads": 1}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    head = f"{'augmenter':<12} {'settings':<31} {'CER':>6} {'per-sent':>9} {'batch':>9}  {'ours':<9} {'MB/s':>9} {'ours/nlpaug':>12}"
    print(head)
    for r in rows:
        if "skipped" in r:
            print(f"{r['augmenter']:<12} skipped: {r['skipped']}")
            continue
        ours_name = f"{r['family']}:{r['our_severity']}" if r["our_severity"] is not None else r["family"]
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        print(f"{r['augmenter']:<12} {r['settings']:<31} {r['cer']:>6.3f} {r['per_sentence_mb_per_s']:>9.3f} "
              f"{r['batch_mb_per_s']:>9.3f}  {ours_name:<9} {fmt(r['our_mb_per_s'], '.2f'):>9} {ratio:>12}")
    print(f"nlpaug {meta['nlpaug']}, python {meta['python']}; MB/s of input text, one thread, best of "
          f"{args.repeat} x >= {args.seconds:g} s; {len(texts)} test sentences of warehouse-commands; "
          "the ratio uses the faster nlpaug mode; same machine, same session")


if __name__ == "__main__":
    main()
