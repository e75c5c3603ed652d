#!/usr/bin/env python3
"""Replays a recorded channel: a line channel for `shakedown --channel-cmd` that answers each input line with
what a real channel once printed for it, from a JSON-lines recording ({"severity", "clean", "text"}), e.g.
tests/fixtures/ocr_channel_test.jsonl (scripts/ocr_channel.py on the default suite's test split, made with
scripts/derive_ocr_table.py --split test --limit 0 --outputs FILE). Lets CI check the synthetic families
against a real channel without installing the channel.

Usage: python3 scripts/replay_channel.py RECORDING --severity N
An input line the recording lacks is an error (stderr, exit 2): a replay must never invent output.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recording")
    ap.add_argument("--severity", type=int, required=True)
    args = ap.parse_args()
    answers = {}
    with open(args.recording, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            row = json.loads(line)
            if row["severity"] == args.severity:
                answers[row["clean"]] = row["text"]
    if not answers:
        print(f"{args.recording}: no lines recorded at severity {args.severity}", file=sys.stderr)
        sys.exit(2)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if text not in answers:
            print(f"{args.recording}: no recorded output at severity {args.severity} for {text!r}", file=sys.stderr)
            sys.exit(2)
        sys.stdout.write(answers[text] + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
