#!/usr/bin/env python3
"""Writes tests/fixtures/retrieval_peer_minilm.json: the f32 top-12 chunks (ids and scores) that
sentence-transformers' semantic search finds for every query of suites/warehouse-sop-rag with
all-MiniLM-L6-v2 over the suite's corpus, for tests/retrieval_peer.rs to check the engine + f32 index
against (same ids in the same order, up to swaps of scores the peer itself cannot tell apart).

    /work/scratch/venv/bin/python scripts/golden/make_retrieval_peer.py --minilm "$(scripts/fetch_model.sh minilm)"

Needs torch and sentence-transformers (only here, never at run time or in CI). Embeddings are
normalised (the model's Normalize module), so `semantic_search` with dot products ranks by cosine.
"""
import argparse
import hashlib
import importlib.metadata
import json
import os

import torch
from sentence_transformers import SentenceTransformer, util

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SUITE = os.path.join(ROOT, "suites", "warehouse-sop-rag")
OUT = os.path.join(ROOT, "tests", "fixtures", "retrieval_peer_minilm.json")
TOP = 12


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", required=True, help="all-MiniLM-L6-v2 folder")
    args = ap.parse_args()
    torch.set_num_threads(2)
    corpus = lines(os.path.join(SUITE, "corpus.jsonl"))
    queries = lines(os.path.join(SUITE, "queries.jsonl"))
    model = SentenceTransformer(args.minilm, device="cpu")
    c = model.encode([x["text"] for x in corpus], batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
    q = model.encode([x["text"] for x in queries], batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
    hits = util.semantic_search(q, c, top_k=TOP, score_function=util.dot_score)
    with open(os.path.join(args.minilm, "model.safetensors"), "rb") as f:
        weights = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(SUITE, "corpus.jsonl"), "rb") as f:
        corpus_sha = hashlib.sha256(f.read()).hexdigest()
    out = {
        "source": "sentence-transformers %s semantic_search (dot score on normalised embeddings), torch %s"
                  % (importlib.metadata.version("sentence-transformers"), torch.__version__),
        "model_sha256": weights,
        "corpus_sha256": corpus_sha,
        "max_seq_length": model.max_seq_length,
        "queries": [
            {"id": qx["id"], "top": [[corpus[h["corpus_id"]]["id"], round(float(h["score"]), 7)] for h in hs]}
            for qx, hs in zip(queries, hits)
        ],
    }
    # One query a line: reviewable diffs when the suite changes.
    head = {k: v for k, v in out.items() if k != "queries"}
    with open(OUT, "w") as f:
        f.write(json.dumps(head)[:-1] + ', "queries": [\n')
        f.write(",\n".join(json.dumps(x) for x in out["queries"]))
        f.write("\n]}\n")
    print(f"{OUT}: {len(queries)} queries x top {TOP} over {len(corpus)} chunks")


if __name__ == "__main__":
    main()
