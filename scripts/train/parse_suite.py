"""What the adapter trainer and the LoRA golden script share: the suite's prompt rendered exactly as the
harness renders it (suite.toml's minijinja template inside the GGUF's chat template), the canonical
answer, and SmolLM2-135M-Instruct loaded from its GGUF as dequantized f32 weights.

Needs (only here, never at run time): torch, transformers, jinja2, gguf.
"""
import json
import os
import subprocess
import tomllib

import jinja2
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SUITE = os.path.join(ROOT, "suites", "warehouse-parse")
IM_END = "<|im_end|>"


def fetch_smollm2():
    """The GGUF path, fetched and checked by scripts/fetch_model.sh (cached after the first call)."""
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "fetch_model.sh"), "smollm2"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def load_base(gguf_path):
    """(tokenizer, model): the GGUF's tokenizer and chat template, and its weights dequantized to f32."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(gguf_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # transformers marks a GGUF-loaded model as "quantized"; its weights are plain f32 tensors now.
    model.config.quantization_config = None
    del model.config.quantization_config
    model.hf_quantizer = None
    model.eval()
    return tok, model


class Suite:
    """suite.toml and the examples of suites/warehouse-parse (data files in suite order)."""

    def __init__(self, folder=SUITE):
        with open(os.path.join(folder, "suite.toml"), "rb") as f:
            self.toml = tomllib.load(f)
        self.fields = self.toml["extract"]["fields"]
        self.prompt = self.toml["prompt"]
        self.template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(self.prompt["template"])
        self.examples = []
        for data in self.toml["data"]:
            with open(os.path.join(folder, data)) as f:
                self.examples += [json.loads(line) for line in f if line.strip()]

    def split(self, name):
        return [e for e in self.examples if e["split"] == name]

    def answer(self, example):
        """The canonical answer: the fields in suite order as JSON, ', ' and ': ' separators."""
        return json.dumps({k: example["fields"][k] for k in self.fields}, separators=(", ", ": "))

    def messages(self, text, fewshot=()):
        user = self.template.render(text=text, fewshot=[{"text": e["text"], "answer": self.answer(e)}
                                                         for e in fewshot])
        system = self.prompt.get("system")
        return ([{"role": "system", "content": system}] if system is not None else []) + \
            [{"role": "user", "content": user}]

    def prompt_text(self, tok, text):
        """The prompt string up to and including the assistant header, through the GGUF chat template."""
        assert self.prompt.get("chat", True) and self.prompt.get("fewshot", 0) == 0
        return tok.apply_chat_template(self.messages(text), tokenize=False, add_generation_prompt=True)


def parse_answer(output, fields):
    """The fields a model wrote, or None when the output is not a JSON object holding every field."""
    try:
        value = json.loads(output.strip())
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or any(k not in value for k in fields):
        return None
    return value
