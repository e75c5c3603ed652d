#!/usr/bin/env python3
"""Writes tests/fixtures/retrieval_metrics.json: a seeded set of runs and graded judgments with the
per-query and mean recall@1/5/10, MRR@10 and nDCG@10 that pytrec_eval computes (the values BEIR and
MTEB report), for src/analysis/retrieval.rs to be checked against.

    /work/scratch/venv/bin/python scripts/golden/make_retrieval_metrics.py

Needs PyPI `pytrec-eval-terrier` (trec_eval 9.0.8 bindings, imported as `pytrec_eval`); only here,
never at run time or in CI. The cases cover tied scores (trec_eval breaks ties by descending docno),
ids whose byte order differs from their numeric order, graded judgments 0..3, judged documents that
were not retrieved, queries whose judgments are all 0, queries without judgments (left out by
pytrec_eval) and runs shorter and longer than 10.

MRR@10: trec_eval has no cutoff for `recip_rank`; as BEIR's MRR@k looks at the top k only, the run
is cut to its first 10 documents in trec_eval's own order (score descending, docno descending) and
pytrec_eval's `recip_rank` is taken on the cut run.
"""
import importlib.metadata
import json
import os
import random

import pytrec_eval

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "retrieval_metrics.json")

DOCS = [f"c{i}" for i in range(1, 25)] + ["C3", "c03", "sop-01-a", "sop-1-b", "sop-10", "Z", "a", "b-2", "b-10"]


def main():
    rng = random.Random(13)
    qrels, run = {}, {}
    for q in range(90):
        qid = f"q{q:02d}"
        n_ret = rng.choice([1, 3, 7, 10, 12, 15, 20])
        docs = rng.sample(DOCS, n_ret)
        # Scores on a coarse grid so that ties are frequent.
        run[qid] = {d: rng.choice([0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]) * (1 if q % 3 else rng.random()) for d in docs}
        kind = q % 9
        if kind == 0:
            qrels[qid] = {}  # no judgments: pytrec_eval leaves the query out
        elif kind == 1:
            qrels[qid] = {d: 0 for d in rng.sample(DOCS, 2)}  # judged, none relevant
        else:
            # Mostly documents the run retrieved, some it did not.
            judged = rng.sample(docs, min(len(docs), rng.choice([1, 2, 3]))) + rng.sample(DOCS, rng.choice([0, 1, 2]))
            judged = list(dict.fromkeys(judged))
            qrels[qid] = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
            if all(g == 0 for g in qrels[qid].values()):
                qrels[qid][judged[0]] = 1
    measures = {"recall.1,5,10", "ndcg_cut.10"}
    full = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    cut = {}
    for qid, docs in run.items():
        ordered = sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:10]
        cut[qid] = dict(ordered)
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
    per_query = {}
    for qid in sorted(full):
        m = full[qid]
        per_query[qid] = {
            "recall@1": m["recall_1"],
            "recall@5": m["recall_5"],
            "recall@10": m["recall_10"],
            "mrr@10": rr[qid]["recip_rank"],
            "ndcg@10": m["ndcg_cut_10"],
        }
    names = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
    mean = {n: sum(v[n] for v in per_query.values()) / len(per_query) for n in names}
    out = {
        "source": "pytrec_eval (pytrec-eval-terrier %s)" % importlib.metadata.version("pytrec-eval-terrier"),
        "qrels": qrels,
        "run": run,
        "per_query": per_query,
        "mean": mean,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{OUT}: {len(per_query)} evaluated queries of {len(run)}; mean {mean}")


if __name__ == "__main__":
    main()
