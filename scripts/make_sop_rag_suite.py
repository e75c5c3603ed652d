#!/usr/bin/env python3
"""Generates suites/warehouse-sop-rag/: the chunks of a warehouse operations manual (corpus.jsonl) and
operator questions about it (queries.jsonl), typed and spoken style, with graded relevant chunk ids.

Every fact and sentence is project-written for this suite (a fictional site, "the Northgate DC"); no
manual was copied. Each chunk states facts a question can target (numbers, places, limits, who to call);
many chunks are siblings that differ in those facts only (door groups, truck types, hazard classes,
zones), so retrieval has to get the entity right, which is where spoken numbers, OCR'd digits and
quantized embedders hurt.

Relevance: grade 2 for the chunk that answers the question, grade 1 for chunks that answer part of it
(the section's general rule, the same entity's other chunk); everything else is unjudged (not relevant).

Query lines: {"id", "text", "split", "relevant": {"chunk-id": grade}, "style": "typed"|"spoken", "section"}
and, for questions with one crisp answer span in their chunk, "answer": [equivalent spans] (the rag task).
Corpus lines: {"id", "text", "section", "title"}

Usage: python3 scripts/make_sop_rag_suite.py [--seed 11] [--out suites/warehouse-sop-rag]
Deterministic for a given seed and Python version (random.Random only).
"""
import argparse
import json
import os
import random

from sop_rag_manual import build_manual

SPLITS = [("test", 0.75), ("calibration", 0.15), ("train", 0.10)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "suites", "warehouse-sop-rag"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    chunks, specs = build_manual()
    ids = [c["id"] for c in chunks]
    assert len(ids) == len(set(ids)), "chunk ids must be unique"
    known = set(ids)
    queries = []
    seen = set()
    for spec in specs:
        for question in spec["questions"]:
            typed, spoken = question[0], question[1]
            style = "spoken" if rng.random() < 0.5 else "typed"
            text = spoken if style == "spoken" else typed
            key = text.lower()
            assert key not in seen, f"duplicate question: {text}"
            seen.add(key)
            relevant = {spec["chunk"]: 2}
            for r in spec["related"]:
                assert r in known, f"{spec['chunk']}: unknown related chunk {r}"
                relevant.setdefault(r, 1)
            q = {"text": text, "relevant": relevant, "style": style, "section": spec["section"]}
            if len(question) > 2:
                answer = question[2]
                q["answer"] = list(dict.fromkeys(answer)) if isinstance(answer, list) else [answer]
            queries.append(q)
    # Splits: shuffled, then cut by fraction, so every split covers every section.
    rng.shuffle(queries)
    n = len(queries)
    cut_test = round(n * SPLITS[0][1])
    cut_cal = cut_test + round(n * SPLITS[1][1])
    rows = []
    for i, q in enumerate(queries):
        split = "test" if i < cut_test else "calibration" if i < cut_cal else "train"
        row = {"id": f"q{i:04d}", "text": q["text"], "split": split, "relevant": q["relevant"],
               "style": q["style"], "section": q["section"]}
        if "answer" in q:
            row["answer"] = q["answer"]
        rows.append(row)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "corpus.jsonl"), "w") as f:
        for c in chunks:
            f.write(json.dumps(c) + "\n")
    with open(os.path.join(args.out, "queries.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    by_split = {s: sum(r["split"] == s for r in rows) for s, _ in SPLITS}
    styles = {s: sum(r["style"] == s for r in rows) for s in ("typed", "spoken")}
    sections = sorted({c["section"] for c in chunks})
    print(f"wrote {len(chunks)} chunks in {len(sections)} sections and {len(rows)} queries {by_split} {styles}")


if __name__ == "__main__":
    main()
