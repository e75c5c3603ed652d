#!/usr/bin/env python3
"""Writes the golden reference outputs the engine is tested against (tests/fixtures/*.json).

- minilm_embeddings.json: sentence-transformers/all-MiniLM-L6-v2 sentence embeddings (mean pooling,
  L2-normalised, max_seq_length 256) computed by sentence-transformers with PyTorch, for varied inputs.
- default_model_logits.json: logits of the default warehouse model computed by transformers.

    python3 scripts/make_golden.py --minilm "$(scripts/fetch_minilm.sh)"

Needs torch, transformers and sentence-transformers (only here, never at run time or in CI).
"""
import argparse
import json
import os

import torch
from sentence_transformers import SentenceTransformer
from transformers import BertForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")

LONG = ("the forklift in aisle seven should move the pallet left of bay seven and then report to dock three "
        "before the shift change, ") * 30  # far past 256 tokens: exercises truncation

INPUTS = [
    "move the pallet left of bay seven",
    "move the palette lift of bay seven",
    "",
    "a",
    "Stop!",
    "Hello, world.",
    "pick up the tote from aisle 12 and put it away on shelf three please",
    "p1ck up the tote frorn aisIe l2 and put it avvay on she1f three",
    "mvoe teh plalet lfet fo bya sveen",
    "Ünïcödé tëxt with àccents and a café in Zürich",
    "中文文本和日本語のテキスト",
    "emoji 🚚📦 in a shipping note",
    "   leading and trailing spaces   ",
    "UPPER CASE COMMAND TO DOCK NINE",
    "numbers 1 2 3 4 5 6 7 8 9 10 and 3.14159",
    "tabs\tand\nnewlines in one input",
    "The quick brown fox jumps over the lazy dog while the robot charges its battery at station two.",
    "xqzj vvkk ppp rrrrr mmmmm ....",
    "go to dock three, then bay seven, then aisle nine; stop at charger one.",
    "knock free may 7th the item",
    LONG,
    "A sentence of middling length that talks about warehouse logistics, inventory counts and cycle audits.",
]

WAREHOUSE_INPUTS = [
    "move the pallet left of bay seven",
    "go to dock three",
    "raise the forks to level two",
    "pick up the tote from aisle 12",
    "stop",
    "mvoe teh plalet lfet",
    "",
    "put away the crate on shelf five please",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", required=True, help="the all-MiniLM-L6-v2 model folder")
    args = ap.parse_args()
    torch.set_num_threads(2)

    model = SentenceTransformer(args.minilm, device="cpu")
    emb = model.encode(INPUTS, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    tok_counts = [len(model.tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"]) for t in INPUTS]
    with open(os.path.join(FIXTURES, "minilm_embeddings.json"), "w") as f:
        json.dump({"producer": "scripts/make_golden.py (sentence-transformers, torch %s)" % torch.__version__,
                   "max_seq_length": model.max_seq_length, "inputs": INPUTS, "token_counts": tok_counts,
                   "embeddings": [[round(float(v), 7) for v in row] for row in emb]}, f)

    wdir = os.path.join(HERE, "..", "suites", "warehouse-commands", "model")
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(os.path.join(wdir, "tokenizer.json"))
    clf = BertForSequenceClassification.from_pretrained(wdir).eval()
    logits = []
    with torch.no_grad():
        for t in WAREHOUSE_INPUTS:
            ids = raw.encode(t).ids[:clf.config.max_position_embeddings]
            out = clf(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
            logits.append([round(float(v), 6) for v in out.logits[0]])
    with open(os.path.join(FIXTURES, "default_model_logits.json"), "w") as f:
        json.dump({"producer": "scripts/make_golden.py (transformers BertForSequenceClassification)",
                   "inputs": WAREHOUSE_INPUTS, "labels": [clf.config.id2label[i] for i in range(clf.config.num_labels)],
                   "logits": logits}, f)
    print("wrote fixtures to", FIXTURES)


if __name__ == "__main__":
    main()
