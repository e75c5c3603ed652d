#!/usr/bin/env bash
# Runs every cargo-fuzz target in turn, one at a time, from its committed seeds (fuzz/seeds/<target>/; new
# inputs the fuzzer finds go to fuzz/corpus/<target>/, which is not committed). Arguments are libFuzzer's:
#
#   scripts/fuzz/run.sh -max_total_time=15                 # the short pass scripts/test.sh runs
#   scripts/fuzz/run.sh -runs=1000000                      # the long runs whose counts the README gives
#   TARGETS="gguf model_files" scripts/fuzz/run.sh -runs=1000000
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Built without a sanitizer
# (`-s none`: the library's unsafe is limited to SIMD kernels on validated shapes and read-only maps; the
# fuzzer looks for panics, overflows under debug assertions, hangs and unbounded allocations), so runs are
# several times faster. A crash stops the script with libFuzzer's exit code and leaves the input in
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGETS="${TARGETS:-suite_toml data_jsonl scheme_names corruption_specs gate_rules run_tables model_files extract_answer gguf}"
cargo +nightly fuzz build -s none -a
# The built binaries are run directly: `cargo fuzz run` would rebuild for each target whenever a build
# script reruns.
bin="fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
for t in $TARGETS; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  echo "== fuzz $t" >&2
  "$bin/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 "$@"
done
