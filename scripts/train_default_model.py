#!/usr/bin/env python3
"""Trains the default model of suites/warehouse-commands: a small BERT classifier in Hugging Face layout.

Produces suites/warehouse-commands/model/{config.json, model.safetensors, tokenizer.json}.
Needs (only here, never at run time): torch, transformers, tokenizers, safetensors.

    python3 scripts/train_default_model.py [--seed 13] [--epochs 12]

The tokenizer is a lower-casing WordPiece trained on the suite's train split; the model is
BertForSequenceClassification, 2 layers, hidden 128, 4 heads, trained on clean train examples only
(the point of the suite is to measure what noise does to a model that never saw any).
"""
import argparse
import json
import os
import random

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "suites", "warehouse-commands")


def load(split):
    rows = [json.loads(l) for l in open(os.path.join(SUITE, "data.jsonl"))]
    return [r for r in rows if r["split"] == split]


def train_tokenizer(texts, vocab_size):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, clean_text=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    # Every printable ASCII character is in the alphabet, so noisy text splits into pieces instead of [UNK].
    alphabet = [chr(c) for c in range(33, 127)]
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                        initial_alphabet=alphabet, min_frequency=2)
    tok.train_from_iterator(texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    from tokenizers import decoders
    tok.decoder = decoders.WordPiece()
    return tok


def encode(tok, texts, max_len):
    ids = [e.ids[:max_len] for e in tok.encode_batch(texts)]
    width = max(len(i) for i in ids)
    input_ids = torch.zeros(len(ids), width, dtype=torch.long)
    mask = torch.zeros(len(ids), width, dtype=torch.long)
    for r, seq in enumerate(ids):
        input_ids[r, :len(seq)] = torch.tensor(seq)
        mask[r, :len(seq)] = 1
    return input_ids, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(SUITE, "model"))
    args = ap.parse_args()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    train, test = load("train"), load("test")
    labels = sorted({r["label"] for r in train})
    label2id = {l: i for i, l in enumerate(labels)}
    tok = train_tokenizer([r["text"] for r in train], vocab_size=1500)

    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=128, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=512, max_position_embeddings=64,
                        type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
                        id2label={i: l for l, i in label2id.items()}, label2id=label2id,
                        architectures=["BertForSequenceClassification"])
    model = BertForSequenceClassification(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    max_len = 64
    x_ids, x_mask = encode(tok, [r["text"] for r in train], max_len)
    y = torch.tensor([label2id[r["label"]] for r in train])
    steps_per_epoch = (len(train) + 31) // 32
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=args.epochs * steps_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train))
        total = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * 32:(s + 1) * 32]
            out = model(input_ids=x_ids[idx], attention_mask=x_mask[idx], labels=y[idx])
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            sched.step()
            total += out.loss.item()
        model.eval()
        with torch.no_grad():
            t_ids, t_mask = encode(tok, [r["text"] for r in test], max_len)
            pred = model(input_ids=t_ids, attention_mask=t_mask).logits.argmax(-1)
            acc = sum(int(p) == label2id[r["label"]] for p, r in zip(pred, test)) / len(test)
        print(f"epoch {epoch + 1}: loss {total / steps_per_epoch:.4f} clean test accuracy {acc:.4f}")

    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    tok.save(os.path.join(args.out, "tokenizer.json"))
    for extra in ["generation_config.json"]:
        p = os.path.join(args.out, extra)
        if os.path.exists(p):
            os.remove(p)
    print(f"saved to {args.out}; clean test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
