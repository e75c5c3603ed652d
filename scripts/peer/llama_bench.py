"""Runs llama.cpp's llama-bench on GGUF files and prints its speeds as JSON rows, optionally beside ours.

    LLAMA_DIR=DIR python3 scripts/peer/llama_bench.py FILE.gguf [FILE.gguf ...] [--ours OURS.json] [--reps 5]

For each file and threads 1 and 2: prompt processing of 64 and 512 tokens (pp64, pp512) and generation of 32
and 128 tokens (tg32, tg128), llama-bench's defaults otherwise (its default KV cache type and flash-attention
setting, memory-mapped weights). Prints a JSON list of rows
  {"file": basename, "threads": 1|2, "test": "pp64"|"pp512"|"tg32"|"tg128", "tokens_per_s": mean,
   "stddev": llama-bench's standard deviation, "reps": repetitions}
With --ours OURS.json (a list of rows with the keys file, threads, test, tokens_per_s, as `shakedown bench
--json` prints them), each row also gets "ours_tokens_per_s" and "ratio" = ours / llama.cpp, so run ours right
before this script on the same machine. The CPU model and the llama.cpp build go to stderr with a table.
DIR is a folder made by scripts/peer/build_llama_cpp.sh. Peer benchmark only: never run by CI.

With --rss SHAKEDOWN_BINARY, also measures peak resident memory (the process's maximum RSS, from wait4) of
one llama-bench process and one `shakedown bench --schemes native` process per file, one thread, for a short
(64 prompt + 32 generated tokens) and a long (512 + 128) workload, and adds rows
  {"file": basename, "test": "rss-pp64-tg32"|"rss-pp512-tg128", "file_bytes": size,
   "peak_rss_bytes": llama.cpp's, "ours_peak_rss_bytes": ours, "ratio": ours / llama.cpp}
(ours reads its own VmHWM; both include the memory-mapped file pages they touch).
"""

import argparse
import json
import os
import subprocess
import sys

TESTS = {("pp", 64): "pp64", ("pp", 512): "pp512", ("tg", 32): "tg32", ("tg", 128): "tg128"}


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "unknown")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def bench(binary: str, path: str, reps: int) -> list[dict]:
    cmd = [binary, "-m", path, "-t", "1,2", "-p", "64,512", "-n", "32,128", "-r", str(reps), "-o", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"llama-bench failed on {path}: {proc.stderr.strip().splitlines()[-1:]}")
    rows = []
    for r in json.loads(proc.stdout):
        kind = ("pp", r["n_prompt"]) if r["n_gen"] == 0 else ("tg", r["n_gen"])
        if kind not in TESTS or (r["n_prompt"] and r["n_gen"]):
            continue
        rows.append({
            "file": os.path.basename(path),
            "threads": int(r["n_threads"]),
            "test": TESTS[kind],
            "tokens_per_s": float(r["avg_ts"]),
            "stddev": float(r["stddev_ts"]),
            "reps": reps,
        })
    return rows


RSS_WORKLOADS = [(64, 32), (512, 128)]


def peak_rss(cmd: list[str]) -> int:
    """Maximum resident set size of the process `cmd` runs, in bytes (Linux reports ru_maxrss in KiB)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} failed with exit {proc.returncode}")
    return usage.ru_maxrss * 1024


def rss_rows(llama_bench: str, shakedown: str, path: str) -> list[dict]:
    rows = []
    for prompt, gen in RSS_WORKLOADS:
        theirs = peak_rss([llama_bench, "-m", path, "-t", "1", "-p", str(prompt), "-n", str(gen), "-r", "1",
                           "-o", "json"])
        ours = peak_rss([shakedown, "bench", "--model", path, "--schemes", "native", "--threads", "1",
                         "--prompt-tokens", str(prompt), "--gen-tokens", str(gen), "--sequences", "0",
                         "--seconds", "1", "--json"])
        rows.append({
            "file": os.path.basename(path),
            "test": f"rss-pp{prompt}-tg{gen}",
            "file_bytes": os.path.getsize(path),
            "peak_rss_bytes": theirs,
            "ours_peak_rss_bytes": ours,
            "ratio": ours / theirs,
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--ours", help="JSON list of rows {file, threads, test, tokens_per_s} from shakedown bench --json")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--llama-dir", default=os.environ.get("LLAMA_DIR"))
    ap.add_argument("--rss", metavar="SHAKEDOWN", help="also compare peak RSS with this shakedown binary's")
    args = ap.parse_args()
    if not args.llama_dir:
        sys.exit("give --llama-dir or LLAMA_DIR (a folder made by scripts/peer/build_llama_cpp.sh)")
    binary = os.path.join(args.llama_dir, "build", "bin", "llama-bench")
    ours = {}
    if args.ours:
        with open(args.ours, encoding="utf-8") as f:
            for r in json.load(f):
                ours[(os.path.basename(r["file"]), int(r["threads"]), r["test"])] = float(r["tokens_per_s"])
    rows = []
    for path in args.files:
        rows += bench(binary, path, args.reps)
    for r in rows:
        mine = ours.get((r["file"], r["threads"], r["test"]))
        if args.ours:
            r["ours_tokens_per_s"] = mine
            r["ratio"] = mine / r["tokens_per_s"] if mine is not None else None
    version = ""
    try:
        with open(os.path.join(args.llama_dir, "VERSION")) as f:
            version = "; ".join(f.read().strip().splitlines()[:2])
    except OSError:
        pass
    if args.rss:
        for path in args.files:
            rows += rss_rows(binary, args.rss, path)
    print(f"CPU: {cpu_model()}; {version}", file=sys.stderr)
    for r in rows:
        if r["test"].startswith("rss-"):
            mb = 1e6
            print(f"{r['file']:<40} {r['test']:<16} file {r['file_bytes'] / mb:.1f} MB  llama.cpp "
                  f"{r['peak_rss_bytes'] / mb:.1f} MB ({r['peak_rss_bytes'] / r['file_bytes']:.2f}x file)  ours "
                  f"{r['ours_peak_rss_bytes'] / mb:.1f} MB ({r['ours_peak_rss_bytes'] / r['file_bytes']:.2f}x file)"
                  f"  ratio {r['ratio']:.2f}", file=sys.stderr)
            continue
        extra = f"  ours {r['ours_tokens_per_s']:.1f}  ratio {r['ratio']:.2f}" if r.get("ratio") is not None else ""
        print(f"{r['file']:<40} t{r['threads']} {r['test']:<6} {r['tokens_per_s']:9.1f} ± {r['stddev']:.1f} tok/s{extra}", file=sys.stderr)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
