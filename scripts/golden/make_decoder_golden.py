"""Golden fixtures for the decoder engine: PyTorch f32 logits, llama.cpp native logits, llama.cpp token ids and
llama.cpp greedy continuations, for SmolLM2-135M-Instruct (Q4_1) and Gemma-3-270M (Q4_K_M).

    LLAMA_DIR=/path/made/by/scripts/peer/build_llama_cpp.sh \
    python scripts/golden/make_decoder_golden.py [--models smollm2,gemma3] [--parts tokenizer,f32,native,greedy]

Needs: scripts/fetch_model.sh (the GGUF files), scripts/peer/requantize.sh MODEL F32 (the F32 files for the
greedy part), the llama-cpp-python binding of the same build installed in this Python (LLAMA_DIR/build/bin
holds the libllama.so it loads), torch + transformers + gguf. Writes into tests/fixtures/ (see
tests/fixtures/README.md for every file's schema and provenance):

  tokenizer_<model>.json        llama.cpp token ids + detokenized text of tests/fixtures/tokenizer_cases.json
  decoder_f32_<model>.json      PyTorch f32 logits (transformers, GGUF dequantized to f32) of the prompts in
                                tests/fixtures/decoder_prompts.json: per position logsumexp, top-32, 256 probes
  decoder_native_<model>.json   llama.cpp logits on the original GGUF with an f32 KV cache: per position
                                argmax, logsumexp, top-128 log-probabilities and the mass they cover
  decoder_greedy_<model>.json   32 greedy tokens from llama.cpp on the F32 re-quantized file

Every prompt is tokenized by llama.cpp (special tokens parsed, the model's own BOS rule) and the same ids are
fed to PyTorch; the script records whether transformers' tokenizer gives the same ids. Logits at position i
are the prediction for token i + 1.
"""

import argparse
import ctypes
import hashlib
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from golden_json import dump_json, f32  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
CACHE = os.environ.get("SHAKEDOWN_CACHE", os.path.expanduser("~/.cache/shakedown"))
MODELS = {
    "smollm2": {"fetch": "smollm2", "f32_file": "SmolLM2-135M-Instruct.F32.gguf", "probe_seed": 135},
    "gemma3": {"fetch": "gemma3", "f32_file": "gemma-3-270m.F32.gguf", "probe_seed": 270},
}
TOP_F32 = 32
TOP_NATIVE = 128
PROBES = 256
GREEDY_TOKENS = 32
THREADS = 2
GGML_TYPE_F32 = 0


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name: str) -> str:
    out = subprocess.run([os.path.join(ROOT, "scripts", "fetch_model.sh"), name], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def load_json(path: str):
    import json

    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------- llama.cpp


class LlamaCpp:
    """The llama-cpp-python binding over the libllama.so of LLAMA_DIR (its commit recorded in LLAMA_DIR/VERSION)."""

    def __init__(self, llama_dir: str):
        os.environ["LLAMA_CPP_LIB_PATH"] = os.path.join(llama_dir, "build", "bin")
        import llama_cpp

        self.lib = llama_cpp
        with open(os.path.join(llama_dir, "VERSION")) as f:
            self.version = f.read().strip().splitlines()
        self.commit = next((v.split()[-1] for v in self.version if v.startswith("llama.cpp commit")), "unknown")

    def model(self, path: str, vocab_only: bool = False):
        return self.lib.Llama(
            model_path=path, vocab_only=vocab_only, n_ctx=512, n_batch=512, n_ubatch=512, n_threads=THREADS,
            n_threads_batch=THREADS, logits_all=True, type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32,
            flash_attn=False, seed=0, verbose=False,
        )

    def vocab(self, llm):
        return llm._model.vocab

    def tokenize(self, llm, text: str) -> list[int]:
        """add_special=True (BOS only where the vocab says add_bos), parse_special=True."""
        return llm._model.tokenize(text.encode("utf-8"), True, True)

    def detokenize(self, llm, ids: list[int]) -> str:
        """llama_detokenize with remove_special=False, unparse_special=True (special tokens rendered as text)."""
        arr = (self.lib.llama_token * max(1, len(ids)))(*ids)
        size = 64 + 16 * len(ids)
        while True:
            buf = ctypes.create_string_buffer(size)
            n = self.lib.llama_detokenize(self.vocab(llm), arr, len(ids), buf, size, False, True)
            if n >= 0:
                return buf.raw[:n].decode("utf-8", errors="strict")
            size = -n + 1

    def add_bos(self, llm) -> bool:
        return bool(self.lib.llama_vocab_get_add_bos(self.vocab(llm)))

    def is_eog(self, llm, token: int) -> bool:
        return bool(self.lib.llama_vocab_is_eog(self.vocab(llm), token))

    def logits(self, llm, ids: list[int]) -> np.ndarray:
        """Logits of every position of one sequence evaluated in one batch from an empty cache ([n, vocab], f32)."""
        llm.reset()
        llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else llm._ctx.kv_cache_clear()
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)], dtype=np.float32)

    def greedy(self, llm, ids: list[int], n: int) -> tuple[list[int], list[float]]:
        """n greedy tokens, one decode step each after the prompt's batch; the top-1 minus top-2 logit per step."""
        llm.reset()
        llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else llm._ctx.kv_cache_clear()
        llm.eval(ids)
        out, margins = [], []
        for _ in range(n):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            best = int(np.argmax(row))
            top2 = np.partition(row, -2)[-2:]
            out.append(best)
            margins.append(f32(float(top2.max() - top2.min())))
            llm.eval([best])
        return out, margins


# ------------------------------------------------------------------------------------------------ helpers


def logsumexp(row: np.ndarray) -> float:
    r = row.astype(np.float64)
    m = r.max()
    return float(m + np.log(np.exp(r - m).sum()))


def top_k(row: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, by value descending then id ascending (a deterministic tie order)."""
    idx = np.argpartition(-row, k)[:k]
    return idx[np.lexsort((idx, -row[idx]))]


def prompt_set(model: str | None = None) -> dict:
    """decoder_prompts.json; with a model, only the entries meant for it (no `models` list, or one naming it)."""
    d = load_json(os.path.join(FIXTURES, "decoder_prompts.json"))
    if model is not None:
        for key in ("logits", "greedy"):
            d[key] = [p for p in d[key] if model in p.get("models", [model])]
    return d


def check_chat_rendering(gguf_path: str, prompts: list[dict]) -> None:
    """The committed chat prompt text must be SmolLM2's GGUF chat template rendered with its messages."""
    import gguf
    import jinja2

    template = gguf.GGUFReader(gguf_path).fields["tokenizer.chat_template"].contents()
    env = jinja2.Environment()
    for p in prompts:
        if "messages" in p:
            text = env.from_string(template).render(messages=p["messages"], add_generation_prompt=p["add_generation_prompt"])
            if text != p["text"]:
                sys.exit(f"decoder_prompts.json: prompt {p['name']} is not the chat template's rendering: {text!r}")


def versions(cpp: LlamaCpp) -> dict:
    import gguf
    import torch
    import transformers

    try:
        from importlib.metadata import version

        gguf_version = version("gguf")
    except Exception:
        gguf_version = getattr(gguf, "__version__", "unknown")
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gguf": gguf_version,
        "numpy": np.__version__,
        "llama.cpp": cpp.version,
    }


# ----------------------------------------------------------------------------------------------- fixtures


def make_tokenizer(cpp: LlamaCpp, name: str, gguf_path: str, hf_tok) -> None:
    llm = cpp.model(gguf_path, vocab_only=True)
    cases = load_json(os.path.join(FIXTURES, "tokenizer_cases.json"))["cases"]
    rows = []
    for text in cases:
        ids = cpp.tokenize(llm, text)
        hf_ids = hf_tok(text).input_ids if hf_tok is not None else None
        rows.append({"text": text, "ids": ids, "detokenized": cpp.detokenize(llm, ids), "transformers_equal": hf_ids == ids})
    out = {
        "about": f"llama.cpp token ids of tokenizer_cases.json for {name}: llama_tokenize(add_special=true, "
        "parse_special=true), i.e. the model's default BOS rule and special tokens such as <|im_start|> "
        "matched in the text; `detokenized` is llama_detokenize(ids, remove_special=false, unparse_special=true); "
        "`transformers_equal` says whether transformers' tokenizer (converted from the same GGUF) gives the same ids",
        "model": name,
        "gguf": os.path.basename(gguf_path),
        "gguf_sha256": sha256(gguf_path),
        "llama_cpp_commit": cpp.commit,
        "add_bos": cpp.add_bos(llm),
        "parse_special": True,
        "cases": rows,
    }
    dump_json(os.path.join(FIXTURES, f"tokenizer_{name}.json"), out)
    same = sum(r["transformers_equal"] for r in rows)
    print(f"tokenizer_{name}.json: {len(rows)} cases, transformers equal on {same}")


def prompt_ids(cpp: LlamaCpp, llm, hf_tok, prompts: list[dict]) -> list[dict]:
    rows = []
    for p in prompts:
        ids = cpp.tokenize(llm, p["text"])
        if len(ids) > 40:
            sys.exit(f"prompt {p['name']} has {len(ids)} tokens (more than 40)")
        rows.append({"name": p["name"], "text": p["text"], "ids": ids, "transformers_equal": hf_tok(p["text"]).input_ids == ids})
    return rows


def make_f32(name: str, gguf_path: str, f32_dir: str, rows: list[dict], cpp: LlamaCpp, probe_seed: int,
             f32_gguf: str, write: bool):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(f32_dir, dtype=torch.float32, attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    probes = np.sort(np.random.default_rng(probe_seed).choice(vocab, PROBES, replace=False))
    out_rows, all_logits = [], []
    for r in rows:
        with torch.no_grad():
            logits = model(torch.tensor([r["ids"]])).logits[0].numpy().astype(np.float32)
        all_logits.append(logits)
        tops = [top_k(row, TOP_F32) for row in logits]
        out_rows.append({
            **r,
            "lse": [f32(logsumexp(row)) for row in logits],
            "top_ids": [t.tolist() for t in tops],
            "top_logits": [[f32(row[i]) for i in t] for row, t in zip(logits, tops)],
            "probe_logits": [[f32(row[i]) for i in probes] for row in logits],
        })
    if not write:
        return model, all_logits
    check = check_f32_against_llama_cpp(cpp, f32_gguf, rows, all_logits) if os.path.exists(f32_gguf) else None
    out = {
        "about": f"PyTorch f32 reference logits for {name}: transformers {versions(cpp)['transformers']} reads the GGUF, "
        "dequantizes every tensor to f32 (gguf-py) and runs the model in torch.float32 with eager attention, one "
        "batch per prompt. Per prompt and position i (the prediction for token i+1): lse = logsumexp of all logits, "
        f"top_ids/top_logits = the {TOP_F32} largest logits (descending, ties by id), probe_logits = the logits at "
        "probe_ids (the same ids for every position). ids are llama.cpp's (tokenizer_<model>.json's rules). "
        "check_llama_cpp_f32 = max |llama.cpp logit - PyTorch logit| over all positions and ids, llama.cpp running the "
        "F32 re-quantization of the same GGUF with an f32 KV cache (both references agree to that figure).",
        "model": name,
        "gguf": os.path.basename(gguf_path),
        "gguf_sha256": sha256(gguf_path),
        "versions": versions(cpp),
        "vocab_size": vocab,
        "check_llama_cpp_f32": check,
        "probe_seed": probe_seed,
        "probe_ids": probes.tolist(),
        "prompts": out_rows,
    }
    dump_json(os.path.join(FIXTURES, f"decoder_f32_{name}.json"), out, compact=True)
    print(f"decoder_f32_{name}.json: {[len(r['ids']) for r in rows]} tokens, check {check}")
    return model, all_logits


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(-1, keepdims=True)))


def kl_stats(ref: np.ndarray, other: np.ndarray, k: int) -> dict:
    """KL(ref || other) per position (natural log) over the full vocabulary, and the estimate a test can make
    from the reference's top-k alone: the top-k terms plus the rest lumped into one outcome,
    P_rest * log(P_rest / Q_rest) (a lower bound of the full sum by the log-sum inequality)."""
    lp, lq = log_softmax(ref), log_softmax(other)
    kl = (np.exp(lp) * (lp - lq)).sum(-1)
    est = []
    for a, b in zip(lp, lq):
        t = top_k(a, k)
        pt, qt = np.exp(a[t]), np.exp(b[t])
        pr, qr = max(1.0 - pt.sum(), 0.0), max(1.0 - qt.sum(), 1e-300)
        est.append((pt * (a[t] - b[t])).sum() + (pr * np.log(pr / qr) if pr > 0 else 0.0))
    return {
        "mean_kl": float(kl.mean()),
        "max_kl": float(kl.max()),
        f"mean_kl_top{k}_lumped": float(np.mean(est)),
        "top1_agree": float((ref.argmax(-1) == other.argmax(-1)).mean()),
        "positions": int(len(kl)),
    }


def make_native(cpp: LlamaCpp, name: str, gguf_path: str, rows: list[dict], f32_logits: list[np.ndarray] | None):
    llm = cpp.model(gguf_path)
    out_rows, natives = [], []
    for r in rows:
        logits = cpp.logits(llm, r["ids"])
        natives.append(logits)
        lse = np.array([logsumexp(row) for row in logits])
        tops = [top_k(row, TOP_NATIVE) for row in logits]
        logprobs = [row[t].astype(np.float64) - l for row, t, l in zip(logits, tops, lse)]
        out_rows.append({
            "name": r["name"], "text": r["text"], "ids": r["ids"],
            "argmax": [int(t[0]) for t in tops],
            "lse": [f32(v) for v in lse],
            "top_ids": [t.tolist() for t in tops],
            "top_logprobs": [[f32(v) for v in lp] for lp in logprobs],
            "top_mass": [f32(np.exp(lp).sum()) for lp in logprobs],
        })
    context = None
    if f32_logits is not None:
        f32_all, native_all = np.concatenate(f32_logits), np.concatenate(natives)
        context = {"f32_vs_native": kl_stats(f32_all, native_all, TOP_NATIVE)}
    out = {
        "about": f"llama.cpp logits for {name} on the original GGUF (each tensor as stored), f32 K and V cache, "
        f"flash attention off, {THREADS} threads, each prompt one batch from an empty cache. Per prompt and "
        "position i (the prediction for token i+1): argmax id, lse = logsumexp of all logits, "
        f"top_ids/top_logprobs = the {TOP_NATIVE} most probable ids (descending, ties by id) with their natural-log "
        "probabilities, top_mass = the sum of their probabilities. `context.f32_vs_native`: the PyTorch f32 reference "
        "against this llama.cpp run, KL(f32 || native) over the full vocabulary and the estimate from the f32 top-"
        f"{TOP_NATIVE} with the rest lumped: how far the quantized file is from f32, and how close a top-{TOP_NATIVE} "
        "KL estimate comes to the full one.",
        "model": name,
        "gguf": os.path.basename(gguf_path),
        "gguf_sha256": sha256(gguf_path),
        "llama_cpp_commit": cpp.commit,
        "settings": {"type_k": "f32", "type_v": "f32", "flash_attn": False, "threads": THREADS, "n_batch": 512},
        "context": context,
        "prompts": out_rows,
    }
    dump_json(os.path.join(FIXTURES, f"decoder_native_{name}.json"), out, compact=True)
    print(f"decoder_native_{name}.json: context {context}")


def check_f32_against_llama_cpp(cpp: LlamaCpp, f32_gguf: str, rows: list[dict], f32_logits: list[np.ndarray]) -> dict:
    """llama.cpp on the F32 re-quantized file against the PyTorch logits: validates both references."""
    llm = cpp.model(f32_gguf)
    diffs = [float(np.abs(cpp.logits(llm, r["ids"]) - ref).max()) for r, ref in zip(rows, f32_logits)]
    return {"max_abs_diff": max(diffs), "per_prompt": diffs}


def make_greedy(cpp: LlamaCpp, name: str, f32_gguf: str, hf_tok, model) -> None:
    import torch

    llm = cpp.model(f32_gguf)
    rows = []
    for p in prompt_set(name)["greedy"]:
        ids = cpp.tokenize(llm, p["text"])
        gen, margins = cpp.greedy(llm, ids, GREEDY_TOKENS)
        eog = next((i for i, t in enumerate(gen) if cpp.is_eog(llm, t)), None)
        torch_equal = None
        if model is not None:
            with torch.no_grad():
                seq = model.generate(torch.tensor([ids]), max_new_tokens=GREEDY_TOKENS, min_new_tokens=GREEDY_TOKENS,
                                     do_sample=False, eos_token_id=None, pad_token_id=0)[0, len(ids):].tolist()
            torch_equal = seq == gen
        rows.append({
            "name": p["name"], "text": p["text"], "prompt_ids": ids, "ids": gen,
            "text_out": cpp.detokenize(llm, gen), "margins": margins, "first_eog": eog, "pytorch_equal": torch_equal,
        })
        print(f"greedy {name} {p['name']}: eog at {eog}, min margin {min(margins):.4f}, pytorch equal {torch_equal}")
    out = {
        "about": f"{GREEDY_TOKENS} greedy tokens from llama.cpp on {os.path.basename(f32_gguf)} (the original GGUF "
        "re-quantized to F32 by llama-quantize --allow-requantize), f32 KV cache, flash attention off: the prompt as "
        "one batch, then one token per decode step, never stopping at end-of-generation tokens (first_eog = index "
        "of the first one in ids, or null). margins = top-1 minus top-2 logit at each step (a small margin is a step "
        "where a 1e-4 difference could flip the token). pytorch_equal: transformers greedy on the same f32 weights "
        "gives the same ids.",
        "model": name,
        "gguf": os.path.basename(f32_gguf),
        "gguf_sha256": sha256(f32_gguf),
        "llama_cpp_commit": cpp.commit,
        "prompts": rows,
    }
    dump_json(os.path.join(FIXTURES, f"decoder_greedy_{name}.json"), out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llama-dir", default=os.environ.get("LLAMA_DIR"), help="folder made by scripts/peer/build_llama_cpp.sh")
    ap.add_argument("--models", default="smollm2,gemma3")
    ap.add_argument("--parts", default="tokenizer,f32,native,greedy")
    args = ap.parse_args()
    if not args.llama_dir:
        sys.exit("give --llama-dir or LLAMA_DIR (a folder made by scripts/peer/build_llama_cpp.sh)")
    parts = set(args.parts.split(","))
    cpp = LlamaCpp(args.llama_dir)
    from dequantize_gguf import dequantize
    from transformers import AutoTokenizer

    for name in args.models.split(","):
        spec = MODELS[name]
        gguf_path = fetch(spec["fetch"])
        f32_dir = dequantize(gguf_path, os.path.join(CACHE, "f32", name))
        hf_tok = AutoTokenizer.from_pretrained(f32_dir)
        if name == "smollm2":
            check_chat_rendering(gguf_path, prompt_set(name)["logits"] + prompt_set(name)["greedy"])
        if "tokenizer" in parts:
            make_tokenizer(cpp, name, gguf_path, hf_tok)
        vocab_llm = cpp.model(gguf_path, vocab_only=True)
        rows = prompt_ids(cpp, vocab_llm, hf_tok, prompt_set(name)["logits"])
        model, f32_logits = None, None
        f32_gguf = os.path.join(CACHE, "requant", spec["f32_file"])
        if parts & {"f32", "native", "greedy"}:
            model, f32_logits = make_f32(name, gguf_path, f32_dir, rows, cpp, spec["probe_seed"], f32_gguf, "f32" in parts)
        if "native" in parts:
            make_native(cpp, name, gguf_path, rows, f32_logits)
        if "greedy" in parts:
            if not os.path.exists(f32_gguf):
                sys.exit(f"{f32_gguf} is missing: run scripts/peer/requantize.sh {name}")
            make_greedy(cpp, name, f32_gguf, hf_tok, model)


if __name__ == "__main__":
    main()
