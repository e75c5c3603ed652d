#!/usr/bin/env python3
"""Measures the real OCR channel (scripts/ocr_channel.py) and derives the `ocr` family's data from it.

    python3 scripts/derive_ocr_table.py [--split train] [--limit 600] [--seed 0] [--cache DIR]
        [--table corruptions/ocr/confusions.tsv] [--stats corruptions/ocr/channel_stats.json]
        [--outputs FILE.jsonl]

Runs the channel at severities 1..5 over the `text` of the first LIMIT examples of SPLIT in
suites/warehouse-commands/data.jsonl (LIMIT 0: all), aligns every output with its clean line by a
Levenshtein backtrace, and writes:
- TABLE: glyph confusions pooled over the severities, `FROM<TAB>TO<TAB>COUNT`, count >= 2, most
  frequent first. An edit run between two matched characters whose clean side has 1-2 characters
  and whose read side has 0-2 gives FROM -> TO (`rn`->`m`, ` `->`` a merged word, `e`->`` a drop).
  A single inserted character has no clean side, so it is kept with the clean character before it
  (`d`->`d ` a split word), or after it at a line's start or when it doubles that one (`m`->`‘m`,
  `l`->`ll`). Longer runs are
  counted in the stats as `long_runs` and left out of the table.
- STATS: per severity the mean per-line CER and WER (as the Rust side reports them) and the share
  of edit operations that are substitutions, deletions, insertions, merges (a deleted space) and
  splits (an inserted space); with the channel's settings, the tesseract version and this command.
- OUTPUTS (optional): one JSON line per line and severity: id, severity, clean, text, cer, wer.

CER: character Levenshtein distance (unit costs) / clean characters. WER: the same over
whitespace-separated tokens (case-sensitive, punctuation kept) / clean tokens.
"""
import argparse
import collections
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

import ocr_channel

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA = "suites/warehouse-commands/data.jsonl"
SEVERITIES = [1, 2, 3, 4, 5]


def distance(a, b):
    """Levenshtein distance between two sequences, unit costs."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j - 1] + (x != y), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return prev[-1]


def rate(ref, hyp):
    if not ref:
        return 0.0 if not hyp else 1.0
    return distance(ref, hyp) / len(ref)


def align(ref, hyp):
    """A minimal edit script: (op, ref char, hyp char) with op in = sub del ins; matches preferred."""
    n, m = len(ref), len(hyp)
    d = [[i + j if i * j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    ops, i, j = [], n, m
    while i or j:
        if i and j and ref[i - 1] == hyp[j - 1] and d[i][j] == d[i - 1][j - 1]:
            ops.append(("=", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and j and d[i][j] == d[i - 1][j - 1] + 1:
            ops.append(("sub", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops.append(("del", ref[i - 1], ""))
            i -= 1
        else:
            ops.append(("ins", "", hyp[j - 1]))
            j -= 1
    return ops[::-1]


def confusions(ops):
    """(FROM, TO) pairs of the edit runs of one alignment, and how many runs were too long to keep."""
    pairs, long_runs, k = [], 0, 0
    while k < len(ops):
        if ops[k][0] == "=":
            k += 1
            continue
        start = k
        while k < len(ops) and ops[k][0] != "=":
            k += 1
        src = "".join(o[1] for o in ops[start:k])
        dst = "".join(o[2] for o in ops[start:k])
        if 1 <= len(src) <= 2 and len(dst) <= 2:
            pairs.append((src, dst))
        elif not src and len(dst) == 1 and (start > 0 or k < len(ops)):
            prev = ops[start - 1][1] if start > 0 else None
            nxt = ops[k][1] if k < len(ops) else None
            if prev is None or nxt == dst:  # at a line's start, or a doubled letter: `l`->`ll`
                pairs.append((nxt, dst + nxt))
            else:
                pairs.append((prev, prev + dst))
        else:
            long_runs += 1
    return pairs, long_runs


def op_kind(op):
    kind, a, b = op
    if kind == "del":
        return "merge" if a == " " else "del"
    if kind == "ins":
        return "split" if b == " " else "ins"
    return kind


def run_channel(texts, severity, seed, cache):
    """The channel's outputs for `texts`, through its line-oriented command-line interface."""
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "ocr_channel.py"), "--severity", str(severity),
           "--seed", str(seed)] + (["--cache", cache] if cache else [])
    done = subprocess.run(cmd, input="".join(t + "\n" for t in texts), capture_output=True,
                          text=True, encoding="utf-8", check=True)
    outs = done.stdout.split("\n")[:-1]
    if len(outs) != len(texts):
        sys.exit(f"channel gave {len(outs)} lines for {len(texts)}")
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(ROOT, DATA))
    ap.add_argument("--split", default="train")
    ap.add_argument("--limit", type=int, default=600, help="first N examples of the split; 0 = all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="passed to the channel")
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--table", default=os.path.join(ROOT, "corruptions", "ocr", "confusions.tsv"))
    ap.add_argument("--stats", default=os.path.join(ROOT, "corruptions", "ocr", "channel_stats.json"))
    ap.add_argument("--outputs", help="optional JSON lines file of every output")
    args = ap.parse_args()
    command = "python3 scripts/derive_ocr_table.py " + shlex.join(sys.argv[1:])

    with open(args.data, encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["split"] == args.split]
    rows = rows[: args.limit] if args.limit else rows
    texts = [r["text"] for r in rows]
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]

    pooled = collections.Counter()
    stats = {}
    outputs = []
    for sev in SEVERITIES:
        t0 = time.time()
        outs = run_channel(texts, sev, args.seed, args.cache)
        secs = time.time() - t0
        cers, wers, kinds, long_runs = [], [], collections.Counter(), 0
        for row, clean, out in zip(rows, texts, outs):
            cer, wer = rate(list(clean), list(out)), rate(clean.split(), out.split())
            cers.append(cer)
            wers.append(wer)
            ops = align(clean, out)
            kinds.update(op_kind(o) for o in ops if o[0] != "=")
            pairs, n_long = confusions(ops)
            pooled.update(pairs)
            long_runs += n_long
            outputs.append({"id": row.get("id"), "severity": sev, "clean": clean, "text": out,
                            "cer": round(cer, 6), "wer": round(wer, 6)})
        edits = sum(kinds.values()) or 1
        stats[str(sev)] = {
            "cer": round(sum(cers) / len(cers), 6),
            "wer": round(sum(wers) / len(wers), 6),
            "n_lines": len(texts),
            **{f"{k}_share": round(kinds[k] / edits, 6) for k in ("sub", "del", "ins", "merge", "split")},
            "edits": sum(kinds.values()),
            "long_runs": long_runs,
            "seconds_per_line": round(secs / len(texts), 4),
        }
        print(f"severity {sev}: CER {stats[str(sev)]['cer']:.4f} WER {stats[str(sev)]['wer']:.4f} "
              f"({secs / len(texts):.3f} s/line)", file=sys.stderr, flush=True)

    font = os.path.basename(ocr_channel.FONT)
    corpus = f"{os.path.relpath(args.data, ROOT)}, split {args.split}, {'first ' + str(args.limit) if args.limit else 'all'} " \
             f"({len(texts)} lines), seed {args.seed}"
    today = datetime.date.today().isoformat()
    kept = sorted(((c, f, t) for (f, t), c in pooled.items() if c >= args.min_count),
                  key=lambda x: (-x[0], x[1], x[2]))
    with open(args.table, "w", encoding="utf-8") as f:
        f.write(
            "# OCR glyph confusions: FROM<TAB>TO<TAB>COUNT, one a line, most frequent first. TO empty: FROM dropped.\n"
            "# Measured by the project: text lines printed, degraded and read back by tesseract (scripts/ocr_channel.py,\n"
            "# severities 1-5 pooled), each reading aligned with its clean line (scripts/derive_ocr_table.py).\n"
            "# A run of edits between matched characters with 1-2 clean and 0-2 read characters counts once as FROM->TO;\n"
            "# a single inserted character is kept with the clean character before it (after it at a line's start\n"
            "# or when it doubles that one: l -> ll).\n"
            f"# Command: {command}\n"
            f"# Engine: {version}, -l eng --psm 7. Font: {font} (Debian fonts-dejavu-core).\n"
            f"# Corpus: {corpus}. Counts >= {args.min_count}. Date: {today}.\n"
            "# License: CC0 (data measured by the project). Stats per severity: corruptions/ocr/channel_stats.json.\n")
        for c, frm, to in kept:
            f.write(f"{frm}\t{to}\t{c}\n")
    with open(args.stats, "w", encoding="utf-8") as f:
        json.dump({
            "severities": stats,
            "settings": {str(s): dict(zip(["font_px", "blur_radius", "noise_sigma", "jpeg_quality"], v))
                         for s, v in ocr_channel.SETTINGS.items()},
            "render_px": ocr_channel.RENDER_PX,
            "font": ocr_channel.FONT,
            "tesseract": version,
            "tesseract_command": " ".join(ocr_channel.TESSERACT),
            "channel_version": ocr_channel.VERSION,
            "command": command,
            "corpus": corpus,
            "date": today,
            "confusions_listed": len(kept),
        }, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if args.outputs:
        with open(args.outputs, "w", encoding="utf-8") as f:
            for o in outputs:
                f.write(json.dumps(o, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
