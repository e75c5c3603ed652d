#!/usr/bin/env python3
"""Golden outputs of Whisper's English text normaliser, for src/corrupt/normalise.rs.

Runs `EnglishTextNormalizer` of openai-whisper (PyPI openai-whisper 20250625, MIT; only its
`whisper/normalizers` package is loaded, by path, so torch is not needed) over a list of tricky
inputs written here plus the texts of suites/spoken-requests and suites/warehouse-commands (test
split) and the recorded speech-channel transcripts in tests/fixtures/asr_channel_*.jsonl, and writes
tests/fixtures/whisper_normaliser.jsonl: {"in": TEXT, "out": NORMALISED} per line, `out` stripped of
leading and trailing spaces (Whisper's own output can keep one; WER splits on whitespace anyway).

Also converts the normaliser's British-to-American spelling list (whisper/normalizers/english.json)
to corruptions/normalise/english_spelling.tsv.

Usage: pip install --no-deps openai-whisper && pip install more-itertools regex
       python3 scripts/normaliser_golden/make_golden.py
"""
import glob
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TRICKY = [
    "Move the pallet left of bay 7, then pick up the tote from aisle nine.",
    "I'm gonna call Mr. Smith at 7:30 p.m. on the twenty-first of March.",
    "It costs $20 million, about twenty million dollars, or 1.5 billion yen.",
    "one oh one, double five, triple seven, two point five, three and a half",
    "the 1960s, the nineteen sixties, the 274th and the 32nd; 1st, 2nd, 3rd",
    "He won't come; they can't; let's go; y'all; ain't; wanna; gotta; I'ma; ma'am",
    "Dr. Jones and St. Louis, Prof. X, Capt. Hook, Gen. Lee, Jr., Sr., Esq.",
    "She'd been there; he's been; it's got; they'd done; we'll; I've; I'm; you're",
    "[inaudible] hmm um uh mhm mm mmm (laughs) <noise> hello",
    "colour, favourite, organise, theatre, grey, aluminium, travelling",
    "Crème brûlée at the café in Zürich, Øresund, straße, Łódź, þorn",
    "Call 555-0199 or 1,234,567 now! 50% off; fifty percent; 5 per cent",
    "$2 and 7 cents; $0.50; €5; £3.20; 99¢",
    "minus five degrees, plus two, negative one, positive three",
    "one, ones, 1, 1s, the ones; sixes and sevens; twenties; the forties",
    "a hundred and two, two hundred thousand, one thousand and one, three million four",
    "... wait... what?! A.B.C. e.g. i.e. a.m.",
    "it's 4.5.6 or 10.0.0.1 and version 2.0",
    "twelve o'clock, five past nine, quarter to ten, 0.5, .5, 5.",
    "Play the 80s classic hits playlist by Madonna at 7 pm",
    "",
    "   spaced    out   ",
    "UPPER CASE AND MiXeD cAsE",
    "first second third fourth fifth twelfth twentieth hundredth thousandth",
    "one two three four five six seven eight nine ten eleven twelve",
    "oh my god, zero hour, o'clock",
    "R2-D2 and C-3PO met 3PO at 42nd street",
    "Coach Nakamura's 2nd book, O'Brien's pub, rock 'n' roll",
]


def load_normaliser():
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("openai-whisper is not installed (pip install --no-deps openai-whisper)")
    pkg_dir = os.path.join(list(spec.submodule_search_locations)[0], "normalizers")
    ispec = importlib.util.spec_from_file_location("whisper_normalizers", os.path.join(pkg_dir, "__init__.py"),
                                                   submodule_search_locations=[pkg_dir])
    module = importlib.util.module_from_spec(ispec)
    sys.modules["whisper_normalizers"] = module
    ispec.loader.exec_module(module)
    return module.EnglishTextNormalizer(), os.path.join(pkg_dir, "english.json")


def main():
    norm, spelling_path = load_normaliser()
    texts = list(TRICKY)
    for suite in ("spoken-requests", "warehouse-commands"):
        with open(os.path.join(ROOT, "suites", suite, "data.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(l) for l in f if l.strip()]
        texts += [r["text"] for r in rows if suite == "spoken-requests" or r["split"] == "test"][:600]
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/asr_channel_*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            texts += [json.loads(l)["text"] for l in f if l.strip()]
    seen, out = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append({"in": t, "out": norm(t).strip()})
    with open(os.path.join(ROOT, "tests/fixtures/whisper_normaliser.jsonl"), "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(spelling_path, encoding="utf-8") as f:
        mapping = json.load(f)
    with open(os.path.join(ROOT, "corruptions/normalise/english_spelling.tsv"), "w", encoding="utf-8") as f:
        f.write("# British -> American spellings applied by Whisper's English normaliser (BRITISH<TAB>AMERICAN),\n"
                "# converted from whisper/normalizers/english.json of openai-whisper 20250625 (MIT License,\n"
                "# Copyright (c) 2022 OpenAI; see LICENSE-whisper) by scripts/normaliser_golden/make_golden.py.\n")
        for k in sorted(mapping):
            f.write(f"{k}\t{mapping[k]}\n")
    print(f"{len(out)} golden lines, {len(mapping)} spellings")


if __name__ == "__main__":
    main()
