#!/usr/bin/env python3
"""Writes tests/fixtures/gguf_blocks.json: inputs and the bytes the reference quantizers of the PyPI
package `gguf` (gguf.quants, which mirrors ggml-quants.c) produce for Q8_0, Q4_0 and Q4_1.

    pip install gguf numpy && python3 scripts/make_gguf_golden.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)

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
}

out = {"producer": "scripts/make_gguf_golden.py (gguf.quants)", "cases": []}
for name, x in cases.items():
    entry = {"name": name, "input": [float(v) for v in x], "bytes": {}}
    for fmt in ["Q8_0", "Q4_0", "Q4_1"]:
        q = quants.quantize(x.reshape(1, -1), getattr(T, fmt))
        entry["bytes"][fmt] = bytes(q.reshape(-1)).hex()
    out["cases"].append(entry)
with open(os.path.join(HERE, "..", "tests", "fixtures", "gguf_blocks.json"), "w") as f:
    json.dump(out, f)
print("wrote", len(out["cases"]), "cases")
