"""Dequantizes a GGUF file to an f32 safetensors folder with PyTorch/transformers (the f32 reference).

    python scripts/golden/dequantize_gguf.py MODEL.gguf OUT_DIR

transformers reads the GGUF (`from_pretrained(dir, gguf_file=...)`), dequantizes every tensor with
gguf-py to float32 and maps the names and layouts to its own (for `llama`, it undoes the Q/K row
permutation llama.cpp's converter applies; for `gemma3`, it subtracts the 1 that the converter adds to
every norm weight). OUT_DIR then holds config.json, model.safetensors (f32), tokenizer.json and
tokenizer_config.json: the "f32 safetensors folder" the golden fixtures are computed from. Idempotent:
an existing OUT_DIR/model.safetensors is kept. Never committed (the weights are not ours to ship).
"""

import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def dequantize(gguf_path: str, out_dir: str) -> str:
    if os.path.exists(os.path.join(out_dir, "model.safetensors")):
        return out_dir
    folder, name = os.path.split(os.path.abspath(gguf_path))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=torch.float32, attn_implementation="eager"
    )
    # The loader leaves a GGUF quantizer and its config behind; the weights are plain f32 now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out_dir + ".tmp"
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, out_dir)
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: dequantize_gguf.py MODEL.gguf OUT_DIR")
    print(dequantize(sys.argv[1], sys.argv[2]))
