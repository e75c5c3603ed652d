"""Makes tiny random-weight decoder checkpoints (one per architecture) with golden logits, for loader tests.

    python scripts/golden/make_tiny_checkpoints.py [OUT_ROOT] [--only NAME,...] [--llama-cpp DIR]
        (OUT_ROOT defaults to tests/fixtures; NAME among tiny-llama, tiny-qwen2, tiny-gemma3, tiny-phi3, tiny-qwen3,
        tiny-phi4mini, tiny-llama32, tiny-gemma2, tiny-smollm3, tiny-qwen3-yarn, tiny-gemma3-sp, tiny-phi3-long)
    python scripts/golden/make_tiny_checkpoints.py [OUT_ROOT] --llama-cpp DIR --gguf-only tiny-llama,tiny-qwen2
        (converts existing folders to model.gguf without remaking them)

Writes OUT_ROOT/tiny-llama, tiny-qwen2, tiny-gemma3, tiny-phi3, tiny-qwen3, tiny-phi4mini, tiny-llama32,
tiny-gemma2, tiny-smollm3, tiny-qwen3-yarn and tiny-gemma3-sp, each self-contained:
  config.json, generation_config.json  as transformers' save_pretrained writes them
  model.safetensors                    f32, every tensor drawn from a seeded generator (see `randomize`)
  tokenizer.json, tokenizer_config.json  a small tokenizer trained here with the `tokenizers` package
  tokenizer.model (tiny-gemma2, -3-sp) a SentencePiece BPE model trained here with `sentencepiece` (as Gemma's:
                                       byte fallback, digits split, no dummy prefix); tokenizer.json is its
                                       conversion by transformers' GemmaConverter
  golden.json                          PyTorch logits for 3 prompts, every position, the whole vocabulary
  golden_long.json (tiny-phi3)         the same for one prompt past the original context (LongRoPE's long
                                       factors; `--only tiny-phi3-long` writes it alone from the saved folder)
  adapter.gguf (tiny-phi3)             its PEFT adapter converted by llama.cpp's convert_lora_to_gguf.py
  model.gguf (not tiny-gemma3)         the same weights converted by llama.cpp's own convert_hf_to_gguf.py
                                       (F32; --llama-cpp names the llama.cpp source tree, e.g. the one in the
                                       PyPI llama-cpp-python sdist's vendor/llama.cpp), so the GGUF reader is
                                       checked against llama.cpp's naming and layout of fused tensors

The weights are not the library's small-std initialisation: norms, biases and matrices get O(1)
random values so that the logits spread over several units and a wrong convention (a norm weight used
as w instead of 1 + w, a missing bias, the wrong RoPE base of a layer, a window off by one) moves them by
far more than any test tolerance. Deterministic: same script, same versions, byte-identical files.
"""

import json
import os
import sys

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    LlamaConfig,
    LlamaForCausalLM,
    Phi3Config,
    Phi3ForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
    SmolLM3Config,
    SmolLM3ForCausalLM,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_json import dump_json, f32  # noqa: E402

SEED = 20240611

# Training text for the tokenizers: a few lines of warehouse English, digits, punctuation and code.
CORPUS = [
    "Move the pallet left of bay seven, then scan the label and report back.",
    "The robot picks 12 boxes from aisle 4 and stacks them on pallet 31.",
    "Stop! Do not move the forklift until the aisle is clear.",
    "Order 4521 ships on Monday; order 4522 ships on Tuesday at 09:30.",
    "Which bay is left of bay seven? Bay six is left of bay seven.",
    "Once upon a time, in a small village by the sea, there lived an old fisherman.",
    "The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
    "You are a helpful assistant. Answer briefly and clearly.",
    "Temperature in the cold room: -18 degrees. Humidity: 45%. Status: OK.",
    "Please bring the red box to the loading dock and put it next to the blue one.",
    "Scan, lift, turn, move, drop: the five steps of every pick.",
]

# SmolLM2-style chat template (the same text as the SmolLM2 GGUF's tokenizer.chat_template).
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# Gemma-style chat template (as Gemma 3 instruction-tuned models use).
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)

PROMPTS = [
    "Move the pallet left of bay seven.",
    "Order 90210 ships at 7:45 (not 8:00), café déjà vu 🙂!",
    "<|im_start|>user\nWhich bay?<|im_end|>\n<|im_start|>assistant\n",
]
GEMMA_PROMPTS = [
    "Move the pallet left of bay seven.",
    "Order 90210 ships at 7:45 (not 8:00), café déjà vu 🙂!",
    "<start_of_turn>user\nWhich bay is left of bay seven, the one by the door?<end_of_turn>\n<start_of_turn>model\n",
]

# Qwen2's pre-tokenizer split pattern (from its published tokenizer.json).
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


# Phi-3's chat template (the shape of microsoft/Phi-3-mini-4k-instruct's).
PHI3_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)
PHI3_PROMPTS = [
    "Move the pallet left of bay seven.",
    "Order 90210 ships at 7:45 (not 8:00), café déjà vu 🙂!",
    "<|user|>\nWhich bay is left of bay seven, the one by the door?<|end|>\n<|assistant|>\n",
]


# Llama 3's split (its tokenizer.json; llama.cpp calls it `llama-bpe`).
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# OpenAI's o200k split, as Phi-4-mini's tokenizer.json gives it (llama.cpp calls it `gpt-4o`).
O200K_SPLIT = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Cased words, contractions in both cases, long numbers and slashes: where the o200k split differs from GPT-2's.
PHI4_PROMPTS = [
    "Move the PalletLeft of BaySeven; DON'T stop, it's 1234567 m/s.",
    "Order 90210 ships at 7:45 (not 8:00), café déjà vu 🙂!\n\nWe'LL see/check.",
    "<|user|>\nWhich bay is left of bay seven, the one by the door?<|end|>\n<|assistant|>\n",
]


def byte_level_bpe(kind: str, vocab_size: int, specials=("<|endoftext|>", "<|im_start|>", "<|im_end|>")) -> Tokenizer:
    """GPT-2 style byte-level BPE: `llama` splits digits one by one as SmolLM2 does, `qwen2` uses Qwen2's
    regex, `o200k` GPT-4o's."""
    specials = list(specials)
    tok = Tokenizer(models.BPE())
    if kind in ("o200k", "llama3"):
        pattern = O200K_SPLIT if kind == "o200k" else LLAMA3_SPLIT
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(pattern=_regex(pattern), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    elif kind == "llama":
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
        )
    else:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(pattern=_regex(QWEN2_SPLIT), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def _regex(pattern: str):
    from tokenizers import Regex

    return Regex(pattern)


def sentencepiece_bpe(trained_tokens: int) -> Tokenizer:
    """Gemma-style BPE: spaces become '▁', unknown characters fall back to <0xXX> byte tokens, BOS is added."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    tok = Tokenizer(models.BPE(byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=trained_tokens, limit_alphabet=60, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    # Renumber: special tokens, then the 256 byte-fallback tokens, then the trained pieces in their order.
    spec = json.loads(tok.to_str())
    trained = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {}
    for t in specials + [f"<0x{b:02X}>" for b in range(256)] + [t for t, _ in trained]:
        vocab.setdefault(t, len(vocab))
    spec["model"]["vocab"] = vocab
    spec["model"]["byte_fallback"] = True
    spec["model"]["unk_token"] = "<unk>"
    spec["added_tokens"] = [
        {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in specials
    ]
    spec["decoder"] = {
        "type": "Sequence",
        "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
        ],
    }
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [
            {"SpecialToken": {"id": "<bos>", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"Sequence": {"id": "B", "type_id": 1}},
        ],
        "special_tokens": {"<bos>": {"id": "<bos>", "ids": [vocab["<bos>"]], "tokens": ["<bos>"]}},
    }
    return Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))


def randomize(model: torch.nn.Module, seed: int, norm_offset: bool) -> None:
    """Overwrites every parameter from a seeded generator (see the module doc for why O(1) values).

    Matrices ~ N(0, 1/fan_in), embeddings ~ N(0, 1), biases ~ N(0, 0.5^2); norm weights ~ 1 + N(0, 0.3^2)
    as a multiplier, or N(0, 0.3^2) when the architecture stores them as an offset from 1 (Gemma).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if "norm" in name:
                vals = 0.3 * torch.randn(p.shape, generator=gen)
                p.copy_(vals if norm_offset else 1.0 + vals)
            elif name.endswith(".bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)


def write_tokenizer_config(out: str, tok: Tokenizer, bos: str | None, eos: str, template: str,
                           added_tokens_decoder: bool = False) -> None:
    """tokenizer_config.json; with `added_tokens_decoder`, the added tokens listed by id as transformers saves
    them (llama.cpp's converter reads a SentencePiece model's special and user-defined tokens from it)."""
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "pad_token": eos,
        "add_bos_token": bos is not None,
        "chat_template": template,
        "model_max_length": 128,
    }
    if added_tokens_decoder:
        cfg["added_tokens_decoder"] = {
            str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
            for t in json.loads(tok.to_str())["added_tokens"]
        }
    dump_json(os.path.join(out, "tokenizer_config.json"), cfg)


def golden(model, tok: Tokenizer, prompts: list[str], about: str) -> dict:
    model.eval()
    rows = []
    for text in prompts:
        ids = tok.encode(text).ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        rows.append({"text": text, "ids": ids, "logits": [[f32(v) for v in row] for row in logits.tolist()]})
    return {
        "about": about,
        "versions": versions(),
        "vocab_size": model.config.vocab_size,
        "prompts": rows,
    }


def versions() -> dict:
    import tokenizers
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}


def save(model, tok: Tokenizer, out: str, prompts, about: str, bos, eos, template, extra: dict | None = None) -> None:
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    for name, data in (extra or {}).items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    write_tokenizer_config(out, tok, bos, eos, template, added_tokens_decoder="tokenizer.model" in (extra or {}))
    g = golden(model, tok, prompts, about)
    # Round trip: the saved folder must give the same logits as the model in memory.
    again = type(model).from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
    g2 = golden(again, tok, prompts, about)
    if g != g2:
        import numpy as np
        d = max(float(np.abs(np.array(a["logits"]) - np.array(b["logits"])).max()) for a, b in zip(g["prompts"], g2["prompts"]))
        raise SystemExit(f"{out}: reloaded checkpoint gives other logits (max abs difference {d})")
    dump_json(os.path.join(out, "golden.json"), g, compact=True)
    print(out, {p["text"][:20]: len(p["ids"]) for p in g["prompts"]})


def build(cls, cfg, seed: int, norm_offset: bool = False):
    """A `cls` model of `cfg` in f32 with eager attention, every parameter drawn by `randomize` from `seed`."""
    torch.manual_seed(SEED)
    m = cls._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    randomize(m, seed, norm_offset=norm_offset)
    return m


def save_converted(m, tok: Tokenizer, root: str, name: str, llama_cpp: str | None, prompts, about: str, bos, eos,
                   template, extra: dict | None = None) -> str:
    """`save` into root/name, then, given a llama.cpp tree, its `model.gguf` by llama.cpp's converter."""
    out = os.path.join(root, name)
    save(m, tok, out, prompts, about, bos, eos, template, extra)
    if llama_cpp:
        convert_with_llama_cpp(out, llama_cpp)
    return out


def main(root: str, only: set) -> None:
    # --- tiny-llama: SmolLM2-like (GQA, SiLU gated MLP, RMSNorm), untied output head.
    tok = byte_level_bpe("llama", 384)
    v = tok.get_vocab_size()
    cfg = LlamaConfig(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=128, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=False,
        bos_token_id=tok.token_to_id("<|im_start|>"), eos_token_id=tok.token_to_id("<|im_end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(LlamaForCausalLM, cfg, SEED + 1)
    if "tiny-llama" in only:
        save(m, tok, os.path.join(root, "tiny-llama"), PROMPTS,
         "tiny random Llama (2 layers, d 32, 4 query / 2 KV heads, head_dim 8, untied head, RoPE base 1e4); "
         "logits[position][token] from PyTorch f32 eager attention; ids from tokenizer.json (no BOS)",
         None, "<|im_end|>", CHATML_TEMPLATE)

    # --- tiny-qwen2: Llama with q/k/v biases, tied embeddings, RoPE base 1e6.
    tok = byte_level_bpe("qwen2", 400)
    v = tok.get_vocab_size()
    cfg = Qwen2Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, tie_word_embeddings=True,
        use_sliding_window=False, bos_token_id=None, eos_token_id=tok.token_to_id("<|im_end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(Qwen2ForCausalLM, cfg, SEED + 2)
    if "tiny-qwen2" in only:
        save(m, tok, os.path.join(root, "tiny-qwen2"), PROMPTS,
         "tiny random Qwen2 (2 layers, d 32, 4 query / 2 KV heads, head_dim 8, q/k/v biases, tied head, RoPE base 1e6); "
         "logits[position][token] from PyTorch f32 eager attention; ids from tokenizer.json (no BOS)",
         None, "<|im_end|>", CHATML_TEMPLATE)

    # --- tiny-gemma3: sliding window 4, layers [sliding, sliding, full], local RoPE base 1e4, global 1e6,
    # query_pre_attn_scalar 16 (not head_dim 8, so a loader that ignores it fails), embeddings scaled by sqrt(d).
    tok = sentencepiece_bpe(250)
    v = tok.get_vocab_size()
    cfg = Gemma3TextConfig(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=128, rms_norm_eps=1e-6,
        sliding_window=4, layer_types=["sliding_attention", "sliding_attention", "full_attention"], sliding_window_pattern=3,
        rope_parameters={
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
        },
        query_pre_attn_scalar=16, final_logit_softcapping=None, attn_logit_softcapping=None,
        tie_word_embeddings=True, pad_token_id=tok.token_to_id("<pad>"), eos_token_id=tok.token_to_id("<eos>"),
        bos_token_id=tok.token_to_id("<bos>"),
    )
    m = build(Gemma3ForCausalLM, cfg, SEED + 3, norm_offset=True)
    if "tiny-gemma3" in only:
        save(m, tok, os.path.join(root, "tiny-gemma3"), GEMMA_PROMPTS,
         "tiny random Gemma 3 text model (3 layers: sliding, sliding, full; sliding_window 4; d 32; 4 query / 2 KV "
         "heads, head_dim 8; query_pre_attn_scalar 16; RoPE base 1e4 local, 1e6 global; norms stored as offset from 1; "
         "q/k norms; embeddings scaled by sqrt(32); GELU-tanh gated MLP; tied head); logits[position][token] from "
         "PyTorch f32 eager attention; ids from tokenizer.json (BOS added by its post-processor)",
         "<bos>", "<eos>", GEMMA_TEMPLATE)


def tiny_phi3(root: str, llama_cpp: str | None) -> None:
    """Phi-3: fused q/k/v and gate/up, NeoX RoPE over half of each head (partial_rotary_factor 0.5, as
    Phi-4-mini rotates 0.75), LongRoPE (short factors at these lengths, attention factor
    sqrt(1 + ln 2 / ln 128)), sliding window 5 on every layer, untied head."""
    tok = byte_level_bpe("llama", 384, specials=("<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>", "<|system|>"))
    v = tok.get_vocab_size()
    cfg = Phi3Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, original_max_position_embeddings=128,
        rms_norm_eps=1e-5, sliding_window=5, tie_word_embeddings=False,
        rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                         "short_factor": [1.0, 3.5], "long_factor": [2.0, 9.0],
                         "original_max_position_embeddings": 128},
        bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=tok.token_to_id("<|end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(Phi3ForCausalLM, cfg, SEED + 4)
    out = save_converted(m, tok, root, "tiny-phi3", llama_cpp, PHI3_PROMPTS,
         "tiny random Phi-3 (2 layers, d 32, 4 query / 2 KV heads, head_dim 8, fused qkv_proj and gate_up_proj, "
         "partial_rotary_factor 0.5 (4 of 8 features rotated, NeoX pairs), LongRoPE short factors [1, 3.5] with "
         "attention factor sqrt(1 + ln 2 / ln 128), sliding_window 5, untied head); logits[position][token] from "
         "PyTorch f32 eager attention; ids from tokenizer.json (no BOS)",
         None, "<|end|>", PHI3_TEMPLATE)
    tiny_phi3_adapter(m, tok, out)
    if llama_cpp:
        # The adapter as llama.cpp's own convert_lora_to_gguf.py writes it (attn_qkv and a fused ffn_up).
        import subprocess

        subprocess.run([sys.executable, os.path.join(llama_cpp, "convert_lora_to_gguf.py"), "--base", out,
                        "--outtype", "f32", "--outfile", os.path.join(out, "adapter.gguf"),
                        os.path.join(out, "adapter")], check=True)


def tiny_phi3_long(root: str) -> None:
    """tiny-phi3/golden_long.json: the saved tiny-phi3 on one prompt longer than its original context of
    128 tokens (and within its 256), which transformers rotates with the LongRoPE long factors at every
    position (one forward pass of a sequence past the original context); logits at every position."""
    out = os.path.join(root, "tiny-phi3")
    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    m = Phi3ForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
    # The warehouse sentence repeated after the one with digits and accents, to just past 140 tokens.
    k = 1
    while len(tok.encode(" ".join([PHI3_PROMPTS[1]] + [PHI3_PROMPTS[0]] * k)).ids) <= 140:
        k += 1
    text = " ".join([PHI3_PROMPTS[1]] + [PHI3_PROMPTS[0]] * k)
    n = len(tok.encode(text).ids)
    if not 128 < n <= 256:
        raise SystemExit(f"tiny-phi3 long prompt: {n} tokens, expected 129 to 256")
    g = golden(m, tok, [text], "tiny-phi3 (tests/fixtures/tiny-phi3) on a prompt of "
               f"{n} tokens, past its original context of 128: transformers rotates every position with the "
               "LongRoPE long factors [2, 9] (attention factor sqrt(1 + ln 2 / ln 128)); logits[position][token] "
               "from PyTorch f32 eager attention")
    dump_json(os.path.join(out, "golden_long.json"), g, compact=True)
    print(out, "golden_long.json", n, "tokens")


def tiny_phi3_adapter(model, tok: Tokenizer, out: str) -> None:
    """A PEFT LoRA adapter on the fused projections (qkv_proj, gate_up_proj) and o_proj/down_proj of
    tiny-phi3, with random A and B (PEFT starts B at zero, which would test nothing), saved by PEFT
    itself to out/adapter/, and PEFT's logits to out/adapter/golden.json."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none",
                     target_modules=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
    pm = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(SEED + 5)
    with torch.no_grad():
        for name, p in sorted(pm.named_parameters(), key=lambda kv: kv[0]):
            if "lora_" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
    folder = os.path.join(out, "adapter")
    pm.save_pretrained(folder)
    # PEFT writes target_modules from a set (its order varies with Python's hash seed): sorted, the file
    # is the same from run to run.
    ac = os.path.join(folder, "adapter_config.json")
    with open(ac, encoding="utf-8") as f:
        acfg = json.load(f)
    acfg["target_modules"] = sorted(acfg["target_modules"])
    with open(ac, "w", encoding="utf-8") as f:
        json.dump(acfg, f, indent=2, sort_keys=True)
        f.write("\n")
    g = golden(pm, tok, PHI3_PROMPTS, "tiny-phi3 + a PEFT LoRA adapter (r 4, alpha 8) on qkv_proj, o_proj, "
               "gate_up_proj and down_proj with random A and B; logits from PEFT in PyTorch f32")
    import peft

    g["versions"]["peft"] = peft.__version__
    dump_json(os.path.join(folder, "golden.json"), g, compact=True)
    for f in ("README.md",):
        path = os.path.join(folder, f)
        if os.path.exists(path):
            os.remove(path)


# The pre-tokenizer each tiny tokenizer implements, in llama.cpp's names (see convert_with_llama_cpp).
GGUF_PRE = {"tiny-llama": "smollm", "tiny-qwen2": "qwen2", "tiny-phi3": "smollm", "tiny-qwen3": "qwen2",
            "tiny-phi4mini": "gpt-4o", "tiny-llama32": "llama-bpe", "tiny-smollm3": "llama-bpe",
            "tiny-qwen3-yarn": "qwen2"}


def tiny_phi4mini(root: str, llama_cpp: str | None) -> None:
    """Phi-4-mini's shape of Phi-3: three quarters of each head rotated (6 of 8 features), LongRoPE, tied
    head, no window, and GPT-4o's o200k pre-tokenizer (`gpt-4o` in GGUF)."""
    tok = byte_level_bpe("o200k", 420, specials=("<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>", "<|system|>"))
    v = tok.get_vocab_size()
    cfg = Phi3Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, original_max_position_embeddings=128,
        rms_norm_eps=1e-5, sliding_window=None, tie_word_embeddings=True,
        rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
                         "short_factor": [1.0, 1.5, 4.0], "long_factor": [2.0, 5.0, 9.0],
                         "original_max_position_embeddings": 128},
        bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=tok.token_to_id("<|end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(Phi3ForCausalLM, cfg, SEED + 7)
    save_converted(m, tok, root, "tiny-phi4mini", llama_cpp, PHI4_PROMPTS,
         "tiny random Phi-4-mini-shaped Phi-3 (2 layers, d 32, 4 query / 2 KV heads, head_dim 8, fused projections, "
         "partial_rotary_factor 0.75 (6 of 8 features), LongRoPE short factors [1, 1.5, 4] with attention factor "
         "sqrt(1 + ln 4 / ln 128), no window, tied head, o200k pre-tokenizer); logits[position][token] from PyTorch "
         "f32 eager attention; ids from tokenizer.json (no BOS)",
         None, "<|end|>", PHI3_TEMPLATE)


def tiny_llama32(root: str, llama_cpp: str | None) -> None:
    """Llama 3.2's shape: Llama 3 RoPE frequency scaling (factor 32, low/high frequency factors 1 and 4, over
    an original context of 16, so that the tiny head's wavelengths fall on both sides of the band), tied
    head, RoPE base 5e5, Llama 3's split (numbers in threes); llama.cpp writes the factors as rope_freqs."""
    tok = byte_level_bpe("llama3", 400, specials=("<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"))
    v = tok.get_vocab_size()
    cfg = LlamaConfig(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, max_position_embeddings=256, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
        tie_word_embeddings=True, bos_token_id=tok.token_to_id("<|begin_of_text|>"),
        eos_token_id=tok.token_to_id("<|eot_id|>"), pad_token_id=tok.token_to_id("<|eot_id|>"),
    )
    m = build(LlamaForCausalLM, cfg, SEED + 8)
    save_converted(m, tok, root, "tiny-llama32", llama_cpp, PHI4_PROMPTS[:2] + ["<|start_header_id|>user<|end_header_id|>\n\nWhich bay?<|eot_id|>"],
         "tiny random Llama 3.2-shaped Llama (2 layers, d 32, 2 query / 1 KV heads, head_dim 16, llama3 RoPE scaling "
         "factor 32, low/high 1/4, original context 16, base 5e5, tied head, Llama 3 split); logits[position][token] "
         "from PyTorch f32 eager attention; ids from tokenizer.json (no BOS)",
         None, "<|eot_id|>", CHATML_TEMPLATE)


def tiny_qwen3(root: str, llama_cpp: str | None) -> None:
    """Qwen3: Llama's block with an RMSNorm over each query and key head before RoPE, no biases, a head
    size (16) that is not hidden / heads (8), tied head, RoPE base 1e6."""
    tok = byte_level_bpe("qwen2", 400)
    v = tok.get_vocab_size()
    cfg = Qwen3Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, tie_word_embeddings=True,
        use_sliding_window=False, bos_token_id=None, eos_token_id=tok.token_to_id("<|im_end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(Qwen3ForCausalLM, cfg, SEED + 6)
    save_converted(m, tok, root, "tiny-qwen3", llama_cpp, PROMPTS,
         "tiny random Qwen3 (2 layers, d 32, 4 query / 2 KV heads, head_dim 16, per-head q/k RMSNorm before RoPE, "
         "no biases, tied head, RoPE base 1e6); logits[position][token] from PyTorch f32 eager attention; ids from "
         "tokenizer.json (no BOS)",
         None, "<|im_end|>", CHATML_TEMPLATE)


def tiny_smollm3(root: str, llama_cpp: str | None) -> None:
    """SmolLM3: Llama's block with RoPE left out of every fourth layer (`no_rope_layers` [1, 1, 1, 0, 1]:
    the fourth layer is NoPE, as llama.cpp's fixed step of 4 has it), GQA, tied head, RoPE base 2e6,
    Llama 3's split (its tokenizer is Llama 3's); `model.gguf` by llama.cpp's converter (arch smollm3)."""
    tok = byte_level_bpe("llama3", 400, specials=("<|begin_of_text|>", "<|im_start|>", "<|im_end|>"))
    v = tok.get_vocab_size()
    cfg = SmolLM3Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=5, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 2000000.0}, no_rope_layers=[1, 1, 1, 0, 1],
        use_sliding_window=False, tie_word_embeddings=True, bos_token_id=None,
        eos_token_id=tok.token_to_id("<|im_end|>"), pad_token_id=tok.token_to_id("<|im_end|>"),
    )
    m = build(SmolLM3ForCausalLM, cfg, SEED + 10)
    save_converted(m, tok, root, "tiny-smollm3", llama_cpp, PHI4_PROMPTS[:2] + [PROMPTS[2]],
         "tiny random SmolLM3 (5 layers, the fourth without RoPE; d 32, 4 query / 2 KV heads, head_dim 8, tied head, "
         "RoPE base 2e6, Llama 3 split); logits[position][token] from PyTorch f32 eager attention; ids from "
         "tokenizer.json (no BOS)",
         None, "<|im_end|>", CHATML_TEMPLATE)


def gemma_sentencepiece(vocab_size: int) -> tuple[Tokenizer, bytes]:
    """A SentencePiece BPE model trained on CORPUS with Gemma's settings (byte fallback, digits split one by
    one, no dummy prefix, whitespace kept; ids 0-3 pad, eos, bos, unk; the turn markers and a tab as user
    symbols, as Gemma's vocabulary has them), and its tokenizer.json made by transformers' GemmaConverter.
    llama.cpp's converter reads the `.model` file (pieces, scores, types), so the GGUF's tokenizer and the
    folder's are two readings of one model. Character coverage below 1 leaves rare characters (and some
    digits) to byte fallback, which the prompts then exercise."""
    import importlib
    import io

    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_writer=buf, model_type="bpe", vocab_size=vocab_size,
        byte_fallback=True, split_digits=True, add_dummy_prefix=False, remove_extra_whitespaces=False,
        normalization_rule_name="identity", pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>",
        eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>", user_defined_symbols=["<start_of_turn>", "<end_of_turn>", "\t"], character_coverage=0.98,
        allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2,
    )
    model = buf.getvalue()
    conv = importlib.import_module("transformers.convert_slow_tokenizer")
    with tempfile_path(model) as path:

        class Extractor(conv.GemmaSentencePieceExtractor):
            # transformers 5.25's extractor reads `self.sp`, which nothing sets.
            def __init__(self, model_file):
                super().__init__(model_file)
                self.sp = spm.SentencePieceProcessor(model_file=model_file)

        class Converter(conv.GemmaConverter):
            SpmExtractor = Extractor

        class Slow:
            vocab_file = path
            pad_token, eos_token, bos_token = "<pad>", "<eos>", "<bos>"
            add_bos_token, add_eos_token = True, False

        tok = Converter(Slow()).converted()
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", 2)])
    sp = spm.SentencePieceProcessor(model_proto=model)
    for text in CORPUS + GEMMA_PROMPTS:
        if tok.encode(text).ids != [2] + sp.encode(text):
            raise SystemExit(f"tokenizer.json and the SentencePiece model disagree on {text!r}")
    return tok, model


class tempfile_path:
    """A temporary file holding `data`, as a path, for the length of a `with`."""

    def __init__(self, data: bytes):
        self.data = data

    def __enter__(self) -> str:
        import tempfile

        self.f = tempfile.NamedTemporaryFile(suffix=".model", delete=False)
        self.f.write(self.data)
        self.f.close()
        return self.f.name

    def __exit__(self, *exc) -> None:
        os.remove(self.f.name)


def tiny_gemma2(root: str, llama_cpp: str | None) -> None:
    """Gemma 2: Gemma 3's block without q/k norms, local and global layers alternating (window 4), one RoPE
    base for both, attention scores soft-capped (cap 4 here, 50 in the models) and output logits (cap 3 here,
    30 in the models): caps low enough to bend the tiny model's O(1) scores and O(units) logits, so a loader
    that skips either fails. query_pre_attn_scalar = head_dim, as Gemma 2 2B and 9B (GGUF does not record
    it and llama.cpp assumes so); a SentencePiece tokenizer, so llama.cpp's converter can read it."""
    tok, spm_model = gemma_sentencepiece(420)
    v = tok.get_vocab_size(with_added_tokens=False)
    cfg = Gemma2Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=128, rms_norm_eps=1e-6, sliding_window=4,
        layer_types=["sliding_attention", "full_attention"] * 2, query_pre_attn_scalar=8,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        attn_logit_softcapping=4.0, final_logit_softcapping=3.0, tie_word_embeddings=True,
        pad_token_id=0, eos_token_id=1, bos_token_id=2,
    )
    m = build(Gemma2ForCausalLM, cfg, SEED + 9, norm_offset=True)
    save_converted(m, tok, root, "tiny-gemma2", llama_cpp, GEMMA_PROMPTS,
         "tiny random Gemma 2 (4 layers: sliding, full, sliding, full; sliding_window 4; d 32; 4 query / 2 KV heads, "
         "head_dim 8; query_pre_attn_scalar 8; RoPE base 1e4 on every layer; attention scores soft-capped at 4, logits "
         "at 3; norms stored as offset from 1; embeddings scaled by sqrt(32); GELU-tanh gated MLP; tied head; "
         "SentencePiece BPE tokenizer); logits[position][token] from PyTorch f32 eager attention; ids from "
         "tokenizer.json (BOS added)",
         "<bos>", "<eos>", GEMMA_TEMPLATE, extra={"tokenizer.model": spm_model})


def tiny_gemma3_sp(root: str, llama_cpp: str | None) -> None:
    """Gemma 3 as llama.cpp's converter and loader take it, so its GGUF path is checked on a converted
    file (tiny-gemma3 tests the config reader's query_pre_attn_scalar and a 3-layer pattern, which a
    GGUF cannot carry): six layers, five local and one global (llama.cpp's fixed pattern for Gemma 3),
    window 4, local RoPE base 1e4 and global 1e6, query_pre_attn_scalar = head_dim (Gemma 3 270M to 12B;
    GGUF does not record it), q/k norms, and a SentencePiece tokenizer (tokenizer.model), which the
    converter reads."""
    tok, spm_model = gemma_sentencepiece(420)
    v = tok.get_vocab_size(with_added_tokens=False)
    cfg = Gemma3TextConfig(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=6, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=128, rms_norm_eps=1e-6, sliding_window=4,
        layer_types=["sliding_attention"] * 5 + ["full_attention"], sliding_window_pattern=6,
        rope_parameters={
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
        },
        query_pre_attn_scalar=8, final_logit_softcapping=None, attn_logit_softcapping=None,
        tie_word_embeddings=True, pad_token_id=0, eos_token_id=1, bos_token_id=2,
    )
    m = build(Gemma3ForCausalLM, cfg, SEED + 12, norm_offset=True)
    save_converted(m, tok, root, "tiny-gemma3-sp", llama_cpp, GEMMA_PROMPTS,
         "tiny random Gemma 3 text model as llama.cpp assumes it (6 layers: 5 sliding, then full; sliding_window 4; "
         "d 32; 4 query / 2 KV heads, head_dim 8; query_pre_attn_scalar 8; RoPE base 1e4 local, 1e6 global; q/k "
         "norms; norms stored as offset from 1; embeddings scaled by sqrt(32); GELU-tanh gated MLP; tied head; "
         "SentencePiece BPE tokenizer); logits[position][token] from PyTorch f32 eager attention; ids from "
         "tokenizer.json (BOS added)",
         "<bos>", "<eos>", GEMMA_TEMPLATE, extra={"tokenizer.model": spm_model})


def tiny_qwen3_yarn(root: str, llama_cpp: str | None) -> None:
    """Qwen3 with YaRN (as Qwen's 128K GGUF files and configs carry it): factor 4 over an original context
    of 256, RoPE base 1e4, head_dim 16, so that of the 8 rotated pairs the first is kept, the last four
    slowed 4 times and three blended (the ramp runs over pairs 0-4), and sines and cosines scaled by
    0.1 ln 4 + 1; static, so it changes every position of the short prompts."""
    tok = byte_level_bpe("qwen2", 400)
    v = tok.get_vocab_size()
    cfg = Qwen3Config(
        vocab_size=v, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, max_position_embeddings=1024, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 256},
        tie_word_embeddings=True, use_sliding_window=False, bos_token_id=None,
        eos_token_id=tok.token_to_id("<|im_end|>"), pad_token_id=tok.token_to_id("<|endoftext|>"),
    )
    m = build(Qwen3ForCausalLM, cfg, SEED + 11)
    save_converted(m, tok, root, "tiny-qwen3-yarn", llama_cpp, PROMPTS,
         "tiny random Qwen3 with YaRN RoPE scaling (factor 4, original context 256, base 1e4; 2 layers, d 32, 4 query "
         "/ 2 KV heads, head_dim 16, per-head q/k norms, tied head); logits[position][token] from PyTorch f32 eager "
         "attention; ids from tokenizer.json (no BOS)",
         None, "<|im_end|>", CHATML_TEMPLATE)


def convert_with_llama_cpp(folder: str, llama_cpp: str) -> None:
    """`folder/model.gguf` by llama.cpp's own convert_hf_to_gguf.py (F32), from a copy of the folder. The
    converter recognises a byte-level BPE tokenizer by hashing its output on a test text; a tokenizer
    trained here is unknown to it, so its pre-tokenizer is declared as the one it implements (GGUF_PRE:
    SmolLM2's digits-one-by-one split for tiny-llama and tiny-phi3, Qwen2's regex for tiny-qwen2)."""
    import shutil
    import subprocess
    import tempfile

    # A SentencePiece tokenizer (tiny-gemma2) is read from tokenizer.model, with no pre-tokenizer to declare.
    pre = GGUF_PRE.get(os.path.basename(folder.rstrip("/")))
    with tempfile.TemporaryDirectory() as tmp:
        # The converter names the model after its folder (general.name): keep the fixture's name.
        src = os.path.join(tmp, os.path.basename(folder.rstrip("/")))
        shutil.copytree(folder, src, ignore=shutil.ignore_patterns("golden.json", "model.gguf", "adapter"))
        tc = os.path.join(src, "tokenizer_config.json")
        with open(tc, encoding="utf-8") as f:
            cfg = json.load(f)
        # Phi3MiniModel.set_vocab reads a GPT-2 style vocabulary only when the class says so (Phi-4-mini does).
        if "phi" in os.path.basename(src):
            cfg["tokenizer_class"] = "GPT2Tokenizer"
        dump_json(tc, cfg)
        shim = (
            "import sys, runpy\n"
            f"sys.path.insert(0, {llama_cpp!r})\n"
            "import conversion.base as b\n"
            + (f"b.TextModel.get_vocab_base_pre = lambda self, tokenizer: {pre!r}\n" if pre else "")
            + f"sys.argv = ['convert_hf_to_gguf.py', {src!r}, '--outtype', 'f32', '--outfile', {os.path.join(folder, 'model.gguf')!r}]\n"
            f"runpy.run_path({os.path.join(llama_cpp, 'convert_hf_to_gguf.py')!r}, run_name='__main__')\n"
        )
        subprocess.run([sys.executable, "-c", shim], check=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="tests/fixtures")
    ap.add_argument("--only", default="tiny-llama,tiny-qwen2,tiny-gemma3,tiny-phi3,tiny-qwen3,tiny-phi4mini,tiny-llama32,tiny-gemma2,tiny-smollm3,tiny-qwen3-yarn,tiny-gemma3-sp")
    ap.add_argument("--llama-cpp", help="llama.cpp source tree, to convert tiny-phi3 to model.gguf")
    ap.add_argument("--gguf-only", help="with --llama-cpp: only convert these existing folders (e.g. tiny-llama,tiny-qwen2)")
    a = ap.parse_args()
    if a.gguf_only:
        for name in a.gguf_only.split(","):
            convert_with_llama_cpp(os.path.join(a.root, name), a.llama_cpp)
        sys.exit(0)
    only = set(a.only.split(","))
    if only & {"tiny-llama", "tiny-qwen2", "tiny-gemma3"}:
        main(a.root, only)
    if "tiny-phi3" in only:
        tiny_phi3(a.root, a.llama_cpp)
    if only & {"tiny-phi3", "tiny-phi3-long"}:
        tiny_phi3_long(a.root)
    if "tiny-qwen3" in only:
        tiny_qwen3(a.root, a.llama_cpp)
    if "tiny-phi4mini" in only:
        tiny_phi4mini(a.root, a.llama_cpp)
    if "tiny-llama32" in only:
        tiny_llama32(a.root, a.llama_cpp)
    if "tiny-gemma2" in only:
        tiny_gemma2(a.root, a.llama_cpp)
    if "tiny-smollm3" in only:
        tiny_smollm3(a.root, a.llama_cpp)
    if "tiny-qwen3-yarn" in only:
        tiny_qwen3_yarn(a.root, a.llama_cpp)
    if "tiny-gemma3-sp" in only:
        tiny_gemma3_sp(a.root, a.llama_cpp)
