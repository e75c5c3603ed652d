#!/usr/bin/env python3
"""Writes tests/fixtures/gguf_blocks.json: inputs, the bytes the reference quantizers of the PyPI package
`gguf` (gguf.quants, which mirrors ggml-quants.c's quantize_row_*_ref) produce for the 32-weight block
formats Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1, and gguf.quants.dequantize of those bytes.

    pip install gguf==0.19.0 numpy && python3 scripts/make_gguf_golden.py
"""
import json
import os
from importlib.metadata import version

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
FORMATS = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]
rng = np.random.default_rng(2026)

# New cases go at the end: the random draws of the earlier ones (and so their inputs) stay the same.
cases = {
    "normal": rng.normal(0, 1, 32 * 8).astype(np.float32),
    "uniform_wide": rng.uniform(-1000, 1000, 32 * 4).astype(np.float32),
    "tiny": (rng.normal(0, 1, 32 * 4) * 1e-6).astype(np.float32),
    "zeros": np.zeros(32 * 2, dtype=np.float32),
    "one_outlier": np.concatenate([rng.normal(0, 0.01, 31), [50.0]]).astype(np.float32),
    "negative_outlier": np.concatenate([[-75.0], rng.normal(0, 0.5, 63)]).astype(np.float32),
    "all_positive": rng.uniform(2, 3, 64).astype(np.float32),
    "constant": np.full(32, 0.3, dtype=np.float32),
    "halves": (np.arange(-16, 16, dtype=np.float32) + 0.5) / 4,
    "extremes": np.array([65000.0, -65000.0] * 16, dtype=np.float32),
    "length_512": rng.normal(0.3, 2, 512).astype(np.float32),
    "mixed_block_scales": (rng.normal(0, 1, 32 * 16) * np.repeat(10.0 ** rng.uniform(-4, 1.5, 16), 32)).astype(
        np.float32
    ),
    "all_negative": rng.uniform(-3, -2, 64).astype(np.float32),
    "constant_negative": np.full(32, -0.3, dtype=np.float32),
    "code_grid": (np.arange(-16, 16, dtype=np.float32) * -0.25),
    "sparse": np.where(rng.uniform(0, 1, 128) < 0.05, rng.normal(0, 3, 128), 0.0).astype(np.float32),
}

out = {"producer": "scripts/make_gguf_golden.py (gguf %s, gguf.quants)" % version("gguf"), "cases": []}
for name, x in cases.items():
    entry = {"name": name, "input": [float(v) for v in x], "bytes": {}, "dequantized": {}}
    for fmt in FORMATS:
        q = quants.quantize(x.reshape(1, -1), getattr(T, fmt))
        entry["bytes"][fmt] = bytes(q.reshape(-1)).hex()
        deq = quants.dequantize(q, getattr(T, fmt)).reshape(-1).astype(np.float32)
        entry["dequantized"][fmt] = [float(v) for v in deq]
    out["cases"].append(entry)
with open(os.path.join(HERE, "..", "tests", "fixtures", "gguf_blocks.json"), "w") as f:
    json.dump(out, f)
print("wrote", len(out["cases"]), "cases")
