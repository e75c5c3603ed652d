#!/usr/bin/env python3
"""Writes the golden logits a LoRA implementation is tested against:

- tests/fixtures/lora_golden_smollm2.json: SmolLM2-135M-Instruct (its GGUF dequantized to f32 by
  transformers) with the suites/warehouse-parse adapter applied unmerged by peft (PeftModel, f32,
  W x + (alpha / r) B A x in every adapted Linear);
- tests/fixtures/base_golden_smollm2.json: the same base model without the adapter.

For each of three short prompts (token ids stored; the first is the suite's chat prompt) and each
position: the log-sum-exp of the logits, the 32 largest logits (id, logit) and the logits at 256 vocab
ids drawn once with random.Random(SEED). The adapter's SHA-256 is stored: a retrained adapter needs a
new fixture.

    /work/scratch/venv/bin/python scripts/golden/make_lora_golden.py [--adapter suites/warehouse-parse/adapter]

Needs (only here, never at run time or in CI): torch, transformers, peft, gguf, jinja2.
"""
import argparse
import hashlib
import json
import os
import random
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from parse_suite import ROOT, SUITE, Suite, fetch_smollm2, load_base  # noqa: E402

SEED = 20261201
TOP = 32
SAMPLED = 256
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def prompts(tok, suite):
    """Three short inputs: the suite's chat prompt with the start of an answer, plain text, a bare command."""
    chat = suite.prompt_text(tok, "move the pallet left of bay seven") + '{"action": "'
    return [tok(t, add_special_tokens=False)["input_ids"] for t in
            [chat, "The forklift raised the pallet to level three.", "Command: go to dock 3"]]


@torch.no_grad()
def records(model, inputs, vocab_ids):
    out = []
    for ids in inputs:
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
        positions = []
        for row in logits:
            top = torch.topk(row, TOP)
            positions.append({
                "logsumexp": round(float(torch.logsumexp(row, 0)), 6),
                "top": [[int(i), round(float(v), 6)] for v, i in zip(top.values, top.indices)],
                "sampled": [round(float(row[i]), 6) for i in vocab_ids],
            })
        out.append({"ids": ids, "positions": positions})
    return out


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(name, doc):
    path = os.path.join(FIXTURES, name)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default=os.path.join(SUITE, "adapter"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    from peft import PeftModel

    gguf = fetch_smollm2()
    tok, base = load_base(gguf)
    suite = Suite()
    inputs = prompts(tok, suite)
    vocab_ids = sorted(random.Random(SEED).sample(range(base.config.vocab_size), SAMPLED))
    common = {"model": os.path.basename(gguf), "model_sha256": sha256(gguf), "dtype": "f32 (GGUF dequantized)",
              "texts": [tok.decode(ids) for ids in inputs], "vocab_seed": SEED, "vocab_ids": vocab_ids,
              "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
                           "peft": __import__("peft").__version__}}
    write("base_golden_smollm2.json", {"producer": "scripts/golden/make_lora_golden.py (transformers, no adapter)",
                                       **common, "inputs": records(base, inputs, vocab_ids)})
    with open(os.path.join(args.adapter, "adapter_config.json")) as f:
        config = json.load(f)
    lora = PeftModel.from_pretrained(base, args.adapter).eval()
    write("lora_golden_smollm2.json", {
        "producer": "scripts/golden/make_lora_golden.py (peft PeftModel, unmerged)", **common,
        "adapter": os.path.relpath(args.adapter, ROOT),
        "adapter_sha256": sha256(os.path.join(args.adapter, "adapter_model.safetensors")),
        "adapter_config": {k: config[k] for k in ["r", "lora_alpha", "target_modules", "fan_in_fan_out"]},
        "inputs": records(lora, inputs, vocab_ids)})


if __name__ == "__main__":
    main()
