"""How closely two llama.cpp builds agree on the same quantized GGUF: the floor under the engine's
`native` agreement with llama.cpp (tests/decoder_golden.rs compares the engine with one build).

    python3 scripts/peer/llama_build_agreement.py --llama-dir DIR [--models smollm2,gemma3]

DIR is a second llama.cpp build, made by `GENERIC=1 scripts/peer/build_llama_cpp.sh DIR` (ggml's portable
kernels, no x86 SIMD), whose libllama.so the llama-cpp-python binding of this Python loads. For every prompt
of tests/fixtures/decoder_native_<model>.json (made by scripts/golden/make_decoder_golden.py with the
native AVX2 build), the same ids are evaluated by DIR's build with the fixture's settings (f32 K and V
cache, flash attention off, one batch from an empty cache), and the two builds are compared as the test
compares the engine with the fixture: top-1 agreement, and the KL divergence from the fixture's
distribution estimated over its top 128 tokens with the rest lumped as one outcome; also the largest
logit difference at the fixture's top token. Prints one JSON object per model. Peer measurement only:
never run by CI.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "golden"))
from make_decoder_golden import FIXTURES, LlamaCpp, fetch, load_json, logsumexp  # noqa: E402


def compare(cpp: LlamaCpp, name: str) -> dict:
    fx = load_json(os.path.join(FIXTURES, f"decoder_native_{name}.json"))
    path = fetch(MODEL_FETCH[name])
    if os.path.basename(path) != fx["gguf"]:
        sys.exit(f"{name}: the fixture was made on {fx['gguf']}, fetch gave {path}")
    llm = cpp.model(path)
    positions = same = 0
    kls, top_gaps = [], []
    for p in fx["prompts"]:
        logits = cpp.logits(llm, p["ids"]).astype(np.float64)
        for pos, want in enumerate(p["argmax"]):
            row = logits[pos]
            lse = logsumexp(row)
            same += int(np.argmax(row)) == want
            ids = np.array(p["top_ids"][pos])
            ref = np.array(p["top_logprobs"][pos], dtype=np.float64)
            ours = row[ids] - lse
            kl = float((np.exp(ref) * (ref - ours)).sum())
            rest_ref = max(1.0 - np.exp(ref).sum(), 1e-12)
            rest_ours = max(1.0 - np.exp(ours).sum(), 1e-12)
            kl += rest_ref * np.log(rest_ref / rest_ours)
            kls.append(kl)
            top_gaps.append(abs(float(ours[0] - ref[0])))
            positions += 1
    return {
        "model": name,
        "gguf": fx["gguf"],
        "reference_build": fx["llama_cpp_commit"] + " (GGML_NATIVE=ON, the fixture)",
        "other_build": "; ".join(cpp.version),
        "positions": positions,
        "top1_agree": same / positions,
        "mean_kl_top128_lumped": float(np.mean(kls)),
        "max_logprob_diff_at_reference_top": float(max(top_gaps)),
    }


MODEL_FETCH = {"smollm2": "smollm2", "gemma3": "gemma3"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llama-dir", required=True, help="a build made by GENERIC=1 scripts/peer/build_llama_cpp.sh")
    ap.add_argument("--models", default="smollm2,gemma3")
    args = ap.parse_args()
    cpp = LlamaCpp(args.llama_dir)
    for name in args.models.split(","):
        print(json.dumps(compare(cpp, name)), flush=True)


if __name__ == "__main__":
    main()
