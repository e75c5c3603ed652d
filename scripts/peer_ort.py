#!/usr/bin/env python3
"""Peer benchmark: all-MiniLM-L6-v2 through ONNX Runtime, f32 and ORT's own dynamic int8 quantization,
on the same sentences, batch sizes and thread counts as `shakedown bench`, and the ratios ours / ORT.

    cargo run --release -- bench --model "$(scripts/fetch_minilm.sh)" --schemes f32,int8 --json > /tmp/ours.json
    python3 scripts/peer_ort.py --model "$(scripts/fetch_minilm.sh)" --ours /tmp/ours.json

Needs (here only, never at run time or in CI): torch, transformers, onnx, onnxruntime, tokenizers, numpy.
Both sides time the whole sentence path: tokenization, encoder, mean pooling, L2 normalisation.
"""
import argparse
import json
import os
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer
from transformers import AutoModel

HERE = os.path.dirname(os.path.abspath(__file__))


def suite_texts(n=256):
    rows = [json.loads(l) for l in open(os.path.join(HERE, "..", "suites", "warehouse-commands", "data.jsonl"))]
    return [r["text"] for r in rows if r["split"] == "test"][:n]


class Encoder(torch.nn.Module):
    """Keyword arguments for the Hugging Face model, positional ones for the exporter."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state


def export(model_dir, path):
    model = Encoder(AutoModel.from_pretrained(model_dir).eval())
    ids = torch.ones(2, 8, dtype=torch.long)
    torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), path,
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={k: {0: "batch", 1: "seq"} for k in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                      opset_version=17, dynamo=False)


def measure(session, tokenizer, texts, batch, seconds):
    def run(chunk):
        enc = tokenizer.encode_batch(chunk)
        width = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(enc):
            ids[i, :len(e.ids)] = e.ids
            mask[i, :len(e.ids)] = 1
        out = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (out * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    nxt = 0
    run(texts[:batch])
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        chunk = [texts[(nxt + i) % len(texts)] for i in range(batch)]
        nxt += batch
        run(chunk)
        done += batch
    return done / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ours", help="JSON from `shakedown bench --json` to compute ours/ORT")
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    texts = suite_texts()
    tokenizer = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    tmp = tempfile.mkdtemp()
    f32_path, int8_path = os.path.join(tmp, "minilm.onnx"), os.path.join(tmp, "minilm.int8.onnx")
    export(args.model, f32_path)
    quantize_dynamic(f32_path, int8_path, weight_type=QuantType.QInt8)
    ours = {}
    if args.ours:
        for r in json.load(open(args.ours)):
            if r["what"] == "end-to-end encoder":
                ours[(r["scheme"], r["threads"], r["batch"])] = r["value"]
    print(f"{'scheme':<6} {'threads':>7} {'batch':>5} {'ORT sent/s':>11} {'ours sent/s':>12} {'ours/ORT':>9}")
    for threads in [1, 2]:
        for name, path in [("f32", f32_path), ("int8", int8_path)]:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            for batch in [1, 32]:
                theirs = measure(session, tokenizer, texts, batch, args.seconds)
                mine = ours.get((name, threads, batch))
                ratio = f"{mine / theirs:9.2f}" if mine else f"{'-':>9}"
                mine_s = f"{mine:12.1f}" if mine else f"{'-':>12}"
                print(f"{name:<6} {threads:>7} {batch:>5} {theirs:11.1f} {mine_s} {ratio}", flush=True)


if __name__ == "__main__":
    main()
