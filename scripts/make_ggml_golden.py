#!/usr/bin/env python3
"""Writes what ggml's own code makes of random and adversarial rows, for the formats gguf.quants cannot
quantize (the K-quants) and for the block dots:

  tests/fixtures/q4k_blocks.json, q5k_blocks.json, q6k_blocks.json, one per K-quant, each case with
  - the K-quant bytes of `ggml_quantize_chunk(GGML_TYPE_Q*_K, ...)` without an importance matrix, i.e.
    ggml's reference quantizer `quantize_row_q{4,5,6}_K_ref` (compiled in libggml-base without -march
    flags, so in plain IEEE single precision with no fused multiply-adds);
  - `dequantized`: `gguf.quants.dequantize` of those bytes (the independent numpy dequantizer), checked
    here to equal ggml's own `dequantize_row_*` bit for bit;
  - `q8_k`: an activation row quantized by ggml's `quantize_row_q8_K_ref` (the CPU backend's
    `from_float` for Q8_K);
  - `dot`: ggml's CPU `vec_dot` of the K-quant row with the Q8_K row (float sums in ggml's own order, so
    the Rust dot is compared with a tolerance, its integer parts exactly);
  tests/fixtures/ggml_dots.json: for the 32-weight formats, the activation bytes of ggml's
  `quantize_row_q8_0_ref` / `quantize_row_q8_1_ref` and the CPU `vec_dot` of the weight bytes (gguf.quants,
  equal to ggml's `quantize_row_*_ref`, checked here) with them.

The PyPI package `gguf` (0.19) can dequantize the K-quants but has no quantizer for them, so the bytes come
from ggml itself through the PyPI package `ggml-python` (Python bindings whose wheel is built from the ggml
sources it ships). The Q4_K fixture keeps the inputs and seed it had when this script made only Q4_K.

    python3 -m venv venv && CMAKE_ARGS=-DGGML_NATIVE=OFF venv/bin/pip install ggml-python==0.0.45 gguf==0.19.0 numpy
    venv/bin/python scripts/make_ggml_golden.py
"""
import ctypes
import json
import os

import ggml
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")
QK_K = 256
Q8K_BYTES = 4 + QK_K + 2 * 16
ggml.ggml_cpu_init()  # fills the CPU backend's f16 tables, which vec_dot reads
base = ctypes.CDLL(os.path.join(os.path.dirname(ggml.__file__), "lib", "libggml-base.so"))

K_QUANTS = {
    # name: (ggml type, bytes a super-block, gguf type, ggml dequantizer, seed)
    "q4_k": (ggml.GGML_TYPE_Q4_K, 144, T.Q4_K, "dequantize_row_q4_K", 2027),
    "q5_k": (ggml.GGML_TYPE_Q5_K, 176, T.Q5_K, "dequantize_row_q5_K", 2028),
    "q6_k": (ggml.GGML_TYPE_Q6_K, 210, T.Q6_K, "dequantize_row_q6_K", 2029),
}
SMALL = {
    # name: (ggml type, gguf type, activation quantizer, activation bytes a block)
    "Q8_0": (ggml.GGML_TYPE_Q8_0, T.Q8_0, "quantize_row_q8_0_ref", 34),
    "Q4_0": (ggml.GGML_TYPE_Q4_0, T.Q4_0, "quantize_row_q8_0_ref", 34),
    "Q4_1": (ggml.GGML_TYPE_Q4_1, T.Q4_1, "quantize_row_q8_1_ref", 36),
    "Q5_0": (ggml.GGML_TYPE_Q5_0, T.Q5_0, "quantize_row_q8_0_ref", 34),
    "Q5_1": (ggml.GGML_TYPE_Q5_1, T.Q5_1, "quantize_row_q8_1_ref", 36),
}


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def floats(x):
    return (ctypes.c_float * len(x))(*x.tolist())


def quantize_chunk(gtype, x, nbytes):
    dst = (ctypes.c_uint8 * nbytes)()
    n = ggml.ggml_quantize_chunk(gtype, floats(x), ctypes.addressof(dst), 0, 1, len(x), None)
    assert n == nbytes, (n, nbytes)
    return bytes(dst)


def row_fn(name):
    # void fn(const void * src, void * dst, int64_t k): ggml's row quantizers and dequantizers.
    fn = getattr(base, name)
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    return fn


def ref_row(fn, x, nbytes):
    src = floats(x)
    dst = (ctypes.c_uint8 * nbytes)()
    row_fn(fn)(ctypes.addressof(src), ctypes.addressof(dst), len(x))
    return bytes(dst)


def ggml_dequantize(fn, q, n):
    src = (ctypes.c_uint8 * len(q)).from_buffer_copy(q)
    dst = (ctypes.c_float * n)()
    row_fn(fn)(ctypes.addressof(src), ctypes.addressof(dst), n)
    return np.frombuffer(bytes(dst), dtype=np.float32)


def quantize_q8k(x):
    # The CPU backend's `from_float` for Q8_K; on x86 it is `quantize_row_q8_K_ref` itself (checked).
    traits = ggml.ggml_get_type_traits_cpu(ggml.GGML_TYPE_Q8_K).contents
    dst = (ctypes.c_uint8 * (len(x) // QK_K * Q8K_BYTES))()
    traits.from_float(floats(x), ctypes.addressof(dst), len(x))
    assert bytes(dst) == ref_row("quantize_row_q8_K_ref", x, len(dst))
    return bytes(dst)


def vec_dot(gtype, n, wq, xq):
    cpu = ggml.ggml_get_type_traits_cpu(gtype).contents
    out = ctypes.c_float(0.0)
    wb = (ctypes.c_uint8 * len(wq)).from_buffer_copy(wq)
    xb = (ctypes.c_uint8 * len(xq)).from_buffer_copy(xq)
    cpu.vec_dot(n, ctypes.byref(out), 0, ctypes.addressof(wb), 0, ctypes.addressof(xb), 0, 1)
    return out.value


def k_cases(rng):
    def sub_block_scales(n, width):
        # Each run of `width` weights at its own magnitude, from 1e-4 to 30: some scales round to 0.
        mags = np.repeat(10.0 ** rng.uniform(-4, 1.5, n // width), width)
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
        "mixed_sub_block_scales": sub_block_scales(QK_K * 2, 32),
        "sparse": np.where(rng.uniform(0, 1, QK_K) < 0.05, rng.normal(0, 3, QK_K), 0.0),
    }
    return cases


def k_extra_cases(rng):
    # Cases added after the Q4_K fixture was first made (drawn after its draws, so those stay the same).
    return {
        "mixed_16_scales": rng.normal(0, 1, QK_K * 2) * np.repeat(10.0 ** rng.uniform(-4, 1.5, QK_K * 2 // 16), 16),
        "signs_alternate_by_16": np.repeat(np.tile([1.0, -1.0], QK_K // 32), 16) * rng.uniform(0.5, 2.0, QK_K),
        "one_zero_sub_block": np.concatenate([np.zeros(32), rng.normal(0, 1, QK_K - 32)]),
        "below_group_eps": np.full(QK_K, 1e-16),
    }


def write(name, data):
    with open(os.path.join(FIXTURES, name), "w") as f:
        json.dump(data, f)


for fmt, (gtype, block_bytes, gguf_type, dequantizer, seed) in K_QUANTS.items():
    rng = np.random.default_rng(seed)
    cases = k_cases(rng)
    acts = {}
    for name, x in cases.items():
        acts[name] = f32(np.zeros(len(x)) if name == "zeros" else rng.normal(0, 1, len(x)))
    for name, x in k_extra_cases(rng).items():
        cases[name] = x
        acts[name] = f32(rng.normal(0, 1, len(x)))
    out = {
        "producer": "scripts/make_ggml_golden.py (ggml-python %s: ggml quantize_row_%s_ref, quantize_row_q8_K_ref, "
        "vec_dot_%s_q8_K; gguf.quants dequantize)" % (ggml.__version__, fmt.replace("_k", "_K"), fmt.replace("_k", "_K")),
        "cases": [],
    }
    for name, x in cases.items():
        x, act = f32(x), acts[name]
        wq = quantize_chunk(gtype, x, len(x) // QK_K * block_bytes)
        xq = quantize_q8k(act)
        deq = quants.dequantize(np.frombuffer(wq, dtype=np.uint8).reshape(1, -1), gguf_type).reshape(-1)
        deq = deq.astype(np.float32)
        assert np.all(np.isfinite(deq)), (fmt, name)
        assert deq.tobytes() == ggml_dequantize(dequantizer, wq, len(x)).tobytes(), (fmt, name)
        out["cases"].append(
            {
                "name": name,
                "input": [float(v) for v in x],
                fmt: wq.hex(),
                "dequantized": [float(v) for v in deq],
                "activation": [float(v) for v in act],
                "q8_k": xq.hex(),
                "dot": float(vec_dot(gtype, len(x), wq, xq)),
            }
        )
    write("%s_blocks.json" % fmt.replace("_", ""), out)
    print(fmt, "wrote", len(out["cases"]), "cases")

# The 32-weight formats: weights from gguf.quants (equal to ggml's reference quantizer), activations from
# ggml's Q8_0 / Q8_1 reference quantizers, and ggml's CPU vec_dot.
rng = np.random.default_rng(2030)
small_cases = {
    "normal": rng.normal(0, 1, 32 * 8),
    "length_512": rng.normal(0.3, 2, 512),
    "mixed_block_scales": rng.normal(0, 1, 32 * 16) * np.repeat(10.0 ** rng.uniform(-4, 1.5, 16), 32),
    "one_outlier": np.concatenate([rng.normal(0, 0.01, 63), [50.0]]),
    "extremes": np.array([65000.0, -65000.0] * 32),
    "zeros": np.zeros(64),
}
out = {
    "producer": "scripts/make_ggml_golden.py (ggml-python %s: quantize_row_q8_0_ref / quantize_row_q8_1_ref, "
    "CPU vec_dot; weights from gguf.quants, equal to ggml quantize_row_*_ref)" % ggml.__version__,
    "cases": [],
}
for name, x in small_cases.items():
    x = f32(x)
    act = f32(np.zeros(len(x)) if name == "zeros" else rng.normal(0, 1, len(x)) * 3)
    entry = {"name": name, "input": [float(v) for v in x], "activation": [float(v) for v in act], "formats": {}}
    for fmt, (gtype, gguf_type, act_quantizer, act_block) in SMALL.items():
        wq = bytes(quants.quantize(x.reshape(1, -1), gguf_type).reshape(-1))
        assert wq == quantize_chunk(gtype, x, len(wq)), (fmt, name)
        xq = ref_row(act_quantizer, act, len(x) // 32 * act_block)
        entry["formats"][fmt] = {"activation_bytes": xq.hex(), "dot": float(vec_dot(gtype, len(x), wq, xq))}
    out["cases"].append(entry)
write("ggml_dots.json", out)
print("32-weight dots: wrote", len(out["cases"]), "cases")
