#!/usr/bin/env bash
# Builds the llama.cpp peer tools from the PyPI source package of llama-cpp-python, which vendors the
# llama.cpp tree (no model hub, no git clone). Peer benchmarks and golden fixtures only: never run by CI
# and never a run-time dependency of shakedown.
#
#   scripts/peer/build_llama_cpp.sh DIR [PYTHON]
#
# DIR receives the unpacked sdist, the cmake build (DIR/build/bin: llama-bench, llama-quantize,
# llama-perplexity, llama-tokenize, libllama.so and the libggml*.so it links) and DIR/VERSION (the
# package version and the llama.cpp commit it carries). With PYTHON (a venv's python), the Python binding
# llama-cpp-python of the same sdist is installed into that venv without building llama.cpp a second
# time (-DLLAMA_BUILD=OFF); point it at the library with LLAMA_CPP_LIB_PATH=DIR/build/bin.
# Needs cmake and a C++ compiler (Debian: apt-get install cmake g++). About 10 minutes on 2 cores.
#
# With GENERIC=1 the build uses none of the x86 SIMD paths (GGML_NATIVE=OFF, AVX/AVX2/FMA/F16C/SSE4.2
# off): ggml's portable kernels, which sum in other orders, as a device with other kernels (ARM's) does.
# scripts/peer/llama_build_agreement.py compares its logits with the fixtures of the native build: how
# closely two llama.cpp builds agree on the same quantized file.
#
# With AMX=0 the build keeps AVX-512 (F, VBMI, VNNI, BF16) but leaves out ggml's AMX kernels: on an AMX
# Xeon (family 6 model 207, 2026-12-05) the native build of this commit died with SIGILL at a tile load in
# its Q4_1 AMX kernel at the first prompt (`llama-bench --repack 0` avoids it, but also turns off the
# AVX-512 repacking), so that machine's peer figures come from an AMX=0 build.
set -euo pipefail
dir="${1:?usage: build_llama_cpp.sh DIR [PYTHON]}"
py="${2:-}"
version=0.3.36 # llama-cpp-python sdist; vendors llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f
sum=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
mkdir -p "$dir" && dir="$(cd "$dir" && pwd)"
sdist="$dir/llama_cpp_python-$version.tar.gz"
if [ ! -f "$sdist" ]; then
  python3 -m pip download --quiet --no-binary :all: --no-deps --dest "$dir" "llama-cpp-python==$version"
fi
echo "$sum  $sdist" | sha256sum --check --status || { echo "build_llama_cpp: $sdist does not have SHA-256 $sum" >&2; exit 1; }
src="$dir/llama_cpp_python-$version"
[ -d "$src" ] || tar -xzf "$sdist" -C "$dir"
tree="$src/vendor/llama.cpp"
commit="$(git -C "$tree" rev-parse HEAD 2>/dev/null || echo unknown)"

if [ "${GENERIC:-0}" = 1 ]; then
  simd=(-DGGML_NATIVE=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_SSE42=OFF
    -DGGML_AVX512=OFF -DGGML_BMI2=OFF -DGGML_AVX_VNNI=OFF)
  flags="GGML_NATIVE=OFF, no x86 SIMD (GENERIC=1)"
elif [ "${AMX:-1}" = 0 ]; then
  simd=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
    -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON
    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
  flags="GGML_NATIVE=OFF, AVX2/FMA/F16C/BMI2 and AVX-512 F/VBMI/VNNI/BF16 on, AMX off (AMX=0)"
else
  simd=(-DGGML_NATIVE=ON)
  flags="GGML_NATIVE=ON"
fi
nice -n 10 cmake -S "$tree" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release "${simd[@]}" \
  -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_NUMBER=0 -DLLAMA_BUILD_COMMIT="$commit"
nice -n 10 cmake --build "$dir/build" --config Release -j "$(nproc)" \
  --target llama-bench llama-quantize llama-perplexity llama-tokenize llama

{
  echo "llama-cpp-python $version (PyPI sdist, sha256 $sum)"
  echo "llama.cpp commit $commit"
  echo "compiler $(c++ --version | head -n 1)"
  echo "flags $flags BUILD_SHARED_LIBS=ON Release"
} > "$dir/VERSION"

if [ -n "$py" ]; then
  CMAKE_ARGS="-DLLAMA_BUILD=OFF" nice -n 10 "$py" -m pip install --quiet --no-deps "$src"
  "$py" -m pip install --quiet numpy typing-extensions diskcache jinja2
fi
cat "$dir/VERSION"
