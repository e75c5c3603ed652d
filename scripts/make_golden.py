#!/usr/bin/env python3
"""Writes the golden reference outputs the engine is tested against (tests/fixtures/*.json).

- minilm_embeddings.json: sentence-transformers/all-MiniLM-L6-v2 sentence embeddings (mean pooling,
  L2-normalised, max_seq_length 256) computed by sentence-transformers with PyTorch, for varied inputs.
- default_model_logits.json: logits of the default warehouse model computed by transformers.

    python3 scripts/make_golden.py --minilm "$(scripts/fetch_minilm.sh)"
    python3 scripts/make_golden.py --default-model-only    # after retraining the default model

Needs torch, transformers and sentence-transformers (only here, never at run time or in CI).
"""
import argparse
import json
import os

import torch
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


QUANT_INPUTS = INPUTS[:8] + [INPUTS[16], INPUTS[18]]


def fake_int8_weights(w):
    """Per-output-channel symmetric int8: scale = max|w| / 127."""
    s = w.abs().amax(1, keepdim=True) / 127
    s[s == 0] = 1
    return torch.clamp(torch.round(w / s), -127, 127) * s


def fake_int8_activations(x):
    """Per-token dynamic symmetric int8."""
    s = x.abs().amax(-1, keepdim=True) / 127
    s[s == 0] = 1
    return torch.clamp(torch.round(x / s), -127, 127) * s


def fake_int4_groups(w, group):
    """Group-wise symmetric 4-bit RTN: d = max|w| / 7 per group, codes clamped to -8..7."""
    o, i = w.shape
    wg = w.reshape(o, i // group, group)
    d = wg.abs().amax(-1, keepdim=True) / 7
    d[d == 0] = 1
    return (torch.clamp(torch.round(wg / d), -8, 7) * d).reshape(o, i)


def apply_scheme(encoder, scheme):
    with torch.no_grad():
        for mod in encoder.modules():
            if not isinstance(mod, torch.nn.Linear):
                continue
            if scheme == "int8":
                mod.weight.copy_(fake_int8_weights(mod.weight))
                mod.register_forward_pre_hook(lambda m, args: (fake_int8_activations(args[0]),))
            elif scheme == "w4a16-rtn-g128":
                mod.weight.copy_(fake_int4_groups(mod.weight, 128))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", help="the all-MiniLM-L6-v2 model folder")
    ap.add_argument("--default-model-only", action="store_true", help="write default_model_logits.json only")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if not args.default_model_only:
        if not args.minilm:
            ap.error("--minilm is required unless --default-model-only")
        write_minilm(args.minilm)
    write_default_model()
    print("wrote fixtures to", FIXTURES)


def write_minilm(minilm):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm, device="cpu")
    emb = model.encode(INPUTS, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    tok_counts = [len(model.tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"]) for t in INPUTS]
    with open(os.path.join(FIXTURES, "minilm_embeddings.json"), "w") as f:
        json.dump({"producer": "scripts/make_golden.py (sentence-transformers, torch %s)" % torch.__version__,
                   "max_seq_length": model.max_seq_length, "inputs": INPUTS, "token_counts": tok_counts,
                   "embeddings": [[round(float(v), 7) for v in row] for row in emb]}, f)

    # Quantized references: the same schemes simulated in PyTorch (quantize, dequantize, run in f32).
    quantized = {}
    for scheme in ["int8", "w4a16-rtn-g128"]:
        qmodel = SentenceTransformer(minilm, device="cpu")
        apply_scheme(qmodel[0].auto_model.encoder, scheme)
        q = qmodel.encode(QUANT_INPUTS, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
        quantized[scheme] = [[round(float(v), 7) for v in row] for row in q]
    with open(os.path.join(FIXTURES, "minilm_quantized_embeddings.json"), "w") as f:
        json.dump({"producer": "scripts/make_golden.py (fake-quantized torch Linear weights/activations)",
                   "inputs": QUANT_INPUTS, "embeddings": quantized}, f)


def write_default_model():
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


if __name__ == "__main__":
    main()
