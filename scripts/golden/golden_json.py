"""Shared helpers of the golden-fixture scripts: float32 numbers written in their shortest decimal form, and
JSON files written atomically (a temporary file renamed into place)."""

import json
import os

import numpy as np


def f32(x) -> float:
    """The float whose repr is the shortest decimal that parses back to the same float32 (e.g. 0.1, not
    0.10000000149011612): exact for an f32 reader and about half the characters of a float64 repr."""
    return float(str(np.float32(x)))


def dump_json(path: str, obj, compact: bool = False) -> None:
    """Writes obj as UTF-8 JSON (non-ASCII kept as is); compact = no indentation, for the big fixtures."""
    text = json.dumps(obj, ensure_ascii=False, indent=None if compact else 1, separators=(",", ":") if compact else None)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
