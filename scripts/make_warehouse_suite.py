#!/usr/bin/env python3
"""Generates suites/warehouse-commands/data.jsonl: spoken-style commands to warehouse robots.

Every template is project-written. Labels hinge on the words that field noise breaks:
direction (left/right, forward/back, up/down), action (pick vs put away), place
(dock vs bay vs aisle) and numbers (fork level one/two/three).

Usage: python3 scripts/make_warehouse_suite.py [--seed 7] [--out suites/warehouse-commands/data.jsonl]
Deterministic for a given seed and Python version (random.Random only).
"""
import argparse
import json
import random

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen", "twenty"]

ROBOTS = ["", "", "", "robot", "unit four", "forklift", "cart", "lifter", "bot", "hey robot",
          "unit twelve", "tugger", "mover two"]
POLITE_PRE = ["", "", "", "", "please", "could you", "can you", "i need you to", "go ahead and",
              "okay", "alright", "now", "next", "kindly", "would you"]
POLITE_POST = ["", "", "", "", "please", "thanks", "thank you", "now", "right away", "when you can",
               "asap", "over", "copy"]
LOADS = ["the pallet", "this pallet", "the skid", "the crate", "the tote", "the box", "that load",
         "the order", "the carton", "the bin", "pallet", "the drum", "the parcel", "the rack"]


def number(rng, lo=1, hi=20):
    n = rng.randint(lo, hi)
    return ONES[n] if rng.random() < 0.55 else str(n)


def place(rng, kinds=("dock", "bay", "aisle", "shelf", "zone", "rack")):
    kind = rng.choice(kinds)
    return f"{kind} {number(rng)}"


def wrap(rng, core):
    parts = []
    robot = rng.choice(ROBOTS)
    if robot:
        parts.append(robot)
    pre = rng.choice(POLITE_PRE)
    if pre:
        parts.append(pre)
    parts.append(core)
    post = rng.choice(POLITE_POST)
    if post:
        parts.append(post)
    return " ".join(parts)


def amount(rng):
    n = rng.randint(1, 9)
    unit = rng.choice(["meters", "meter", "feet", "steps", "spots", "slots", "m", "positions"])
    return f"{ONES[n] if rng.random() < 0.6 else n} {unit}"


def move_dir(rng, words):
    verb = rng.choice(["move", "go", "shift", "head", "drive", "roll", "slide", "steer", "turn", "swing"])
    d = rng.choice(words)
    forms = [
        lambda: f"{verb} {d}",
        lambda: f"{verb} {rng.choice(LOADS)} {d}",
        lambda: f"{verb} {d} {amount(rng)}",
        lambda: f"{verb} {amount(rng)} {d}",
        lambda: f"{verb} {d} of {place(rng)}",
        lambda: f"{verb} {rng.choice(LOADS)} {d} of {place(rng)}",
        lambda: f"{d} {amount(rng)}",
        lambda: f"take it {d}",
        lambda: f"a bit {d}",
        lambda: f"{verb} {d} a little",
    ]
    return rng.choice(forms)()


def intent_move_left(rng):
    return move_dir(rng, ["left", "to the left", "leftward", "left side", "hard left", "left hand side"])


def intent_move_right(rng):
    return move_dir(rng, ["right", "to the right", "rightward", "right side", "hard right", "right hand side"])


def intent_move_forward(rng):
    return move_dir(rng, ["forward", "ahead", "straight ahead", "forwards", "up front", "onward"])


def intent_move_back(rng):
    return move_dir(rng, ["back", "backward", "backwards", "in reverse", "back up", "rearward"])


def intent_pick(rng):
    verb = rng.choice(["pick up", "pick", "grab", "fetch", "retrieve", "collect", "take", "load up", "lift out",
                       "pull"])
    load = rng.choice(LOADS)
    forms = [
        lambda: f"{verb} {load} from {place(rng)}",
        lambda: f"{verb} {load} at {place(rng)}",
        lambda: f"from {place(rng)} {verb} {load}",
        lambda: f"{verb} {load}",
        lambda: f"{verb} {number(rng, 1, 9)} cases from {place(rng)}",
        lambda: f"go {verb} {load} off {place(rng)}",
        lambda: f"{verb} order {number(rng, 10, 20)} from {place(rng)}",
    ]
    return rng.choice(forms)()


def intent_put_away(rng):
    verb = rng.choice(["put away", "put", "store", "stow", "place", "drop off", "drop", "set down", "shelve",
                       "deposit", "unload"])
    load = rng.choice(LOADS)
    forms = [
        lambda: f"{verb} {load} in {place(rng)}",
        lambda: f"{verb} {load} on {place(rng)}",
        lambda: f"{verb} {load} at {place(rng)}",
        lambda: f"into {place(rng)} {verb} {load}",
        lambda: f"{verb} {load}",
        lambda: f"{verb} {number(rng, 1, 9)} cases on {place(rng)}",
        lambda: f"{verb} {load} back into {place(rng)}",
    ]
    return rng.choice(forms)()


def go_to(rng, kind):
    verb = rng.choice(["go to", "head to", "drive to", "proceed to", "navigate to", "travel to", "report to",
                       "return to", "make your way to", "get over to", "move to", "roll to"])
    n = number(rng)
    forms = [
        lambda: f"{verb} {kind} {n}",
        lambda: f"{verb} the {kind} {n}",
        lambda: f"{kind} {n} {verb.split()[0]} there",
        lambda: f"{verb} {kind} number {n}",
        lambda: f"next stop {kind} {n}",
        lambda: f"{verb} {kind} {n} and wait",
        lambda: f"your destination is {kind} {n}",
    ]
    return rng.choice(forms)()


def intent_go_dock(rng):
    return go_to(rng, rng.choice(["dock", "loading dock", "dock door", "shipping dock"]))


def intent_go_bay(rng):
    return go_to(rng, rng.choice(["bay", "bay door", "storage bay", "receiving bay"]))


def intent_go_aisle(rng):
    return go_to(rng, rng.choice(["aisle", "aisle way", "pick aisle", "aisle row"]))


def forks(rng, level_words):
    verb = rng.choice(["raise", "lower", "set", "put", "move", "bring", "adjust", "lift", "drop"])
    lvl = rng.choice(level_words)
    obj = rng.choice(["the forks", "forks", "the mast", "the lift", "the tines", "the carriage"])
    forms = [
        lambda: f"{verb} {obj} to level {lvl}",
        lambda: f"{verb} {obj} to shelf level {lvl}",
        lambda: f"{obj} to level {lvl}",
        lambda: f"level {lvl} on {obj}",
        lambda: f"{verb} {obj} to tier {lvl}",
        lambda: f"{verb} {obj} up to level {lvl}",
        lambda: f"{verb} {obj} down to level {lvl}",
    ]
    return rng.choice(forms)()


def intent_forks_level_1(rng):
    return forks(rng, ["one", "1", "one", "1"])


def intent_forks_level_2(rng):
    return forks(rng, ["two", "2", "two", "2"])


def intent_forks_level_3(rng):
    return forks(rng, ["three", "3", "three", "3"])


def intent_stop(rng):
    return rng.choice(["stop", "halt", "freeze", "stop right there", "hold position", "emergency stop",
                       "stop moving", "do not move", "stay put", "wait here", "pause", "stand still",
                       "hold it", "stop the robot", "cease motion", "stop where you are"])


def intent_charge(rng):
    core = rng.choice(["go charge", "return to the charger", "head to charging station", "dock at the charger",
                       "recharge your battery", "battery low go charge", "plug in to charge",
                       "charge up", "go to charging", "top up the battery",
                       f"go to charger {number(rng, 1, 6)}", f"charge at station {number(rng, 1, 6)}"])
    return core


INTENTS = {
    "move_left": intent_move_left,
    "move_right": intent_move_right,
    "move_forward": intent_move_forward,
    "move_back": intent_move_back,
    "pick": intent_pick,
    "put_away": intent_put_away,
    "go_dock": intent_go_dock,
    "go_bay": intent_go_bay,
    "go_aisle": intent_go_aisle,
    "forks_level_1": intent_forks_level_1,
    "forks_level_2": intent_forks_level_2,
    "forks_level_3": intent_forks_level_3,
    "stop": intent_stop,
    "charge": intent_charge,
}

SPLITS = [("test", 840), ("calibration", 280), ("train", 2800)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="suites/warehouse-commands/data.jsonl")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    labels = list(INTENTS)
    seen = set()
    rows = []
    for split, count in SPLITS:
        per_label = count // len(labels)
        for label in labels:
            made = 0
            tries = 0
            while made < per_label and tries < per_label * 200:
                tries += 1
                text = " ".join(wrap(rng, INTENTS[label](rng)).split())
                if rng.random() < 0.25:
                    text = text[0].upper() + text[1:]
                if rng.random() < 0.2:
                    text += rng.choice([".", "!", "?"]) if label != "stop" else "!"
                key = text.lower().strip(".!?")
                if key in seen:
                    continue
                seen.add(key)
                made += 1
                rows.append({"id": f"{split}-{len(rows):05d}", "text": text, "label": label, "split": split})
    # Shuffle within each split so that any prefix (e.g. `--limit N`) covers every label.
    rows = [r for split, _ in SPLITS for r in sorted((r for r in rows if r["split"] == split), key=lambda _: rng.random())]
    for i, r in enumerate(rows):
        r["id"] = f"{r['split']}-{i:05d}"
    with open(args.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"wrote {len(rows)} examples to {args.out}")


if __name__ == "__main__":
    main()
