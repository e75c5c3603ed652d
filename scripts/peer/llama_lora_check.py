"""Checks an adapter written by `shakedown export --scheme native --adapter` in llama.cpp itself.

    LLAMA_CPP_LIB_PATH=DIR/build/bin VENV/bin/python scripts/peer/llama_lora_check.py \
        --base BASE.gguf --lora ADAPTER.gguf --shakedown target/release/shakedown [--limit 100]

Parses the first LIMIT test commands of suites/warehouse-parse three ways: llama.cpp (llama-cpp-python)
with the base file and the GGUF LoRA adapter, llama.cpp with the base file alone (the control: without the
adapter the model does not parse, so the check can fail), and `shakedown predict --suite
suites/warehouse-parse --scheme native` (the base as stored with the suite's PEFT adapter applied
unmerged). Each answers greedily from the suite's prompt (system text, "Command: TEXT", the model's chat
template), at most the suite's max_tokens. Prints, as JSON, the exact match (all five fields equal to the
suite's) of each, and how many of llama.cpp's outputs are ours character for character.

llama.cpp's logits on quantized files differ from ours within what two llama.cpp builds differ by (issue 10:
some 5 % of next-token choices), so a correct adapter gives nearly the same outputs and the same exact
match, where a wrong one (transposed, mis-scaled, mis-named) gives the base model's non-answers.
DIR is a folder made by scripts/peer/build_llama_cpp.sh with its venv. Peer check only: never run by CI.
"""

import argparse
import json
import os
import subprocess
import sys

SUITE = "suites/warehouse-parse"
FIELDS = ["action", "object", "direction", "place", "number"]


def suite_prompt():
    """System text, user template and max tokens from suite.toml (the few keys this check needs)."""
    import tomllib

    with open(os.path.join(SUITE, "suite.toml"), "rb") as f:
        toml = tomllib.load(f)
    return toml["prompt"]["system"], toml["prompt"]["template"], toml["extract"]["max_tokens"]


def parsed(text):
    """The five fields of an output, or None when it is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return {f: (None if value.get(f) is None else str(value.get(f))) for f in FIELDS}


def llama_outputs(base, lora, examples, system, template, max_tokens, threads):
    from llama_cpp import Llama

    kwargs = {"model_path": base, "n_ctx": 512, "n_threads": threads, "verbose": False, "seed": 1}
    if lora:
        kwargs["lora_path"] = lora
    llm = Llama(**kwargs)
    outputs = []
    for ex in examples:
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": template.replace("{{ text }}", ex["text"])},
        ]
        r = llm.create_chat_completion(
            messages=messages, temperature=0.0, top_k=1, repeat_penalty=1.0, max_tokens=max_tokens
        )
        outputs.append(r["choices"][0]["message"]["content"] or "")
    return outputs


def our_outputs(shakedown, examples, threads):
    lines = "".join(ex["text"] + "\n" for ex in examples)
    r = subprocess.run(
        [shakedown, "predict", "--suite", SUITE, "--scheme", "native", "--threads", str(threads)],
        input=lines.encode(),
        capture_output=True,
        check=True,
    )
    return [json.loads(line)["output"] for line in r.stdout.decode().splitlines()]


def exact(outputs, examples):
    right = sum(parsed(o) == {f: ex["fields"].get(f) for f in FIELDS} for o, ex in zip(outputs, examples))
    return right / len(examples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--lora", required=True)
    ap.add_argument("--shakedown", required=True)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with open(os.path.join(SUITE, "data.jsonl")) as f:
        examples = [ex for ex in map(json.loads, f) if ex["split"] == "test"][: args.limit]
    system, template, max_tokens = suite_prompt()
    ours = our_outputs(args.shakedown, examples, args.threads)
    with_lora = llama_outputs(args.base, args.lora, examples, system, template, max_tokens, args.threads)
    base_only = llama_outputs(args.base, None, examples, system, template, max_tokens, args.threads)
    same = sum(a.strip() == b.strip() for a, b in zip(with_lora, ours))
    report = {
        "commands": len(examples),
        "exact_match_llama_cpp_base_plus_lora": exact(with_lora, examples),
        "exact_match_llama_cpp_base_alone": exact(base_only, examples),
        "exact_match_shakedown_native_peft_adapter": exact(ours, examples),
        "llama_cpp_outputs_equal_to_ours": same,
        "first_differences": [
            {"text": ex["text"], "llama_cpp": a, "ours": b}
            for ex, a, b in zip(examples, with_lora, ours)
            if a.strip() != b.strip()
        ][:5],
        "base_alone_sample": base_only[:3],
    }
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
