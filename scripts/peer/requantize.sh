#!/usr/bin/env bash
# Re-quantizes a fetched GGUF with llama.cpp's llama-quantize (--allow-requantize: each tensor is dequantized to
# f32 and quantized again) into $SHAKEDOWN_CACHE/requant/ (default ~/.cache/shakedown/requant/), for format and
# speed tests. The files are never committed. Idempotent: an existing output is kept.
#
#   LLAMA_DIR=DIR scripts/peer/requantize.sh [smollm2|gemma3] [TYPE...]     (default: smollm2 F32 F16 Q8_0 Q4_0)
#
# DIR is a folder made by scripts/peer/build_llama_cpp.sh. llama-quantize applies its usual mixture for a
# type (e.g. Q4_0 keeps the tied embedding/output tensor at a higher type); each output's tensor-type census
# is printed (gguf-py's gguf-dump when python3 has the gguf package).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
llama="${LLAMA_DIR:?set LLAMA_DIR to a folder made by scripts/peer/build_llama_cpp.sh}"
model="${1:-smollm2}"
shift || true
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(F32 F16 Q8_0 Q4_0)
case "$model" in
  smollm2) stem=SmolLM2-135M-Instruct ;;
  gemma3) stem=gemma-3-270m ;;
  *) echo "usage: requantize.sh [smollm2|gemma3] [TYPE...]" >&2; exit 2 ;;
esac
src="$("$here/fetch_model.sh" "$model")"
out="${SHAKEDOWN_CACHE:-$HOME/.cache/shakedown}/requant"
mkdir -p "$out"
py="${PYTHON:-python3}"
for t in "${types[@]}"; do
  dest="$out/$stem.$t.gguf"
  if [ ! -f "$dest" ]; then
    nice -n 10 "$llama/build/bin/llama-quantize" --allow-requantize "$src" "$dest.tmp" "$t" 2 > "$dest.log" 2>&1 \
      || { echo "requantize: llama-quantize $t failed, see $dest.log" >&2; rm -f "$dest.tmp"; exit 1; }
    mv "$dest.tmp" "$dest"
  fi
  census="$("$py" -c 'import sys, collections, gguf; r = gguf.GGUFReader(sys.argv[1]); print(dict(collections.Counter(t.tensor_type.name for t in r.tensors)))' "$dest" 2>/dev/null || echo '?')"
  echo "$dest $(stat -c %s "$dest") bytes, tensor types $census"
done
