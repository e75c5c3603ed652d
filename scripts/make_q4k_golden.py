#!/usr/bin/env python3
"""Writes tests/fixtures/q4k_blocks.json: inputs and what ggml's own code makes of them for Q4_K.

The PyPI package `gguf` (0.19) can dequantize Q4_K but has no Q4_K quantizer, so the bytes come from ggml
itself through the PyPI package `ggml-python` (Python bindings whose wheel is built from the ggml sources
it ships):
  - `q4_k`: the bytes of `ggml_quantize_chunk(GGML_TYPE_Q4_K, ...)` without an importance matrix, i.e.
    ggml's reference quantizer `quantize_row_q4_K_ref` (compiled in libggml-base without -march flags, so
    in plain IEEE single precision with no fused multiply-adds);
  - `dequantized`: `gguf.quants.dequantize` of those bytes (the independent numpy dequantizer);
  - `q8_k`: an activation row quantized by ggml's `quantize_row_q8_K_ref` (the x86 CPU backend's
    `from_float` for Q8_K calls it);
  - `dot`: ggml's CPU `vec_dot` of the Q4_K row with the Q8_K row (float sums in ggml's own order, so
    the Rust dot is compared with a tolerance, its integer parts exactly).

    python3 -m venv venv && CMAKE_ARGS=-DGGML_NATIVE=OFF venv/bin/pip install ggml-python==0.0.45 gguf==0.19.0 numpy
    venv/bin/python scripts/make_q4k_golden.py
"""
import ctypes
import json
import os

import ggml
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
QK_K = 256
Q4K_BYTES = 144
Q8K_BYTES = 4 + QK_K + 2 * 16
rng = np.random.default_rng(2027)
ggml.ggml_cpu_init()  # fills the CPU backend's f16 tables, which vec_dot reads


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def quantize_q4k(x):
    src = (ctypes.c_float * len(x))(*x.tolist())
    dst = (ctypes.c_uint8 * (len(x) // QK_K * Q4K_BYTES))()
    n = ggml.ggml_quantize_chunk(ggml.GGML_TYPE_Q4_K, src, ctypes.addressof(dst), 0, 1, len(x), None)
    assert n == len(dst)
    return bytes(dst)


def quantize_q8k(x):
    # The CPU backend's `from_float` for Q8_K; on x86 it is `quantize_row_q8_K_ref` itself.
    traits = ggml.ggml_get_type_traits_cpu(ggml.GGML_TYPE_Q8_K).contents
    src = (ctypes.c_float * len(x))(*x.tolist())
    dst = (ctypes.c_uint8 * (len(x) // QK_K * Q8K_BYTES))()
    traits.from_float(src, ctypes.addressof(dst), len(x))
    return bytes(dst)


def vec_dot(n, wq, xq):
    cpu = ggml.ggml_get_type_traits_cpu(ggml.GGML_TYPE_Q4_K).contents
    assert cpu.vec_dot_type == ggml.GGML_TYPE_Q8_K
    out = ctypes.c_float(0.0)
    wb = (ctypes.c_uint8 * len(wq)).from_buffer_copy(wq)
    xb = (ctypes.c_uint8 * len(xq)).from_buffer_copy(xq)
    cpu.vec_dot(n, ctypes.byref(out), 0, ctypes.addressof(wb), 0, ctypes.addressof(xb), 0, 1)
    return out.value


def sub_block_scales(n):
    # Each sub-block of 32 at its own magnitude, from 1e-4 to 30: some 6-bit scales round to 0.
    mags = np.repeat(10.0 ** rng.uniform(-4, 1.5, n // 32), 32)
    return rng.normal(0, 1, n) * mags


cases = {
    "normal": rng.normal(0, 1, QK_K * 4),
    "length_512": rng.normal(0.3, 2, 512),
    "uniform_wide": rng.uniform(-1000, 1000, QK_K * 2),
    "tiny": rng.normal(0, 1, QK_K * 2) * 1e-6,
    "zeros": np.zeros(QK_K),
    "one_outlier": np.concatenate([rng.normal(0, 0.01, QK_K - 1), [50.0]]),
    "negative_outlier": np.concatenate([[-75.0], rng.normal(0, 0.5, QK_K - 1)]),
    "all_positive": rng.uniform(2, 3, QK_K),
    "all_negative": rng.uniform(-3, -2, QK_K),
    "constant": np.full(QK_K, 0.3),
    "constant_negative": np.full(QK_K, -0.3),
    "halves": np.tile((np.arange(-16, 16) + 0.5) / 4, 8),
    "extremes": np.array([65000.0, -65000.0] * 128),
    "mixed_sub_block_scales": sub_block_scales(QK_K * 2),
    "sparse": np.where(rng.uniform(0, 1, QK_K) < 0.05, rng.normal(0, 3, QK_K), 0.0),
}

out = {
    "producer": "scripts/make_q4k_golden.py (ggml-python %s: ggml quantize_row_q4_K_ref, quantize_row_q8_K_ref, "
    "vec_dot_q4_K_q8_K; gguf.quants dequantize)" % ggml.__version__,
    "cases": [],
}
for name, x in cases.items():
    x = f32(x)
    act = f32(np.zeros(len(x)) if name == "zeros" else rng.normal(0, 1, len(x)))
    wq = quantize_q4k(x)
    xq = quantize_q8k(act)
    deq = quants.dequantize(np.frombuffer(wq, dtype=np.uint8).reshape(1, -1), T.Q4_K).reshape(-1)
    assert np.all(np.isfinite(deq)), name
    out["cases"].append(
        {
            "name": name,
            "input": [float(v) for v in x],
            "q4_k": wq.hex(),
            "dequantized": [float(v) for v in deq.astype(np.float32)],
            "activation": [float(v) for v in act],
            "q8_k": xq.hex(),
            "dot": float(vec_dot(len(x), wq, xq)),
        }
    )
with open(os.path.join(HERE, "..", "tests", "fixtures", "q4k_blocks.json"), "w") as f:
    json.dump(out, f)
print("wrote", len(out["cases"]), "cases")
