#!/usr/bin/env python3
"""Generates suites/warehouse-commands/data.jsonl: spoken-style commands to warehouse robots, 14 labels.

Every template is project-written. Labels hinge on the words that field noise breaks:
direction (left/right, forward/back), action (pick vs put away), place (dock vs bay vs aisle) and
numbers (fork level one/two/three).

The test split shares no template with the train, calibration and fewshot splits: about a third of
every label's sentence structures, some verbs and phrasings (marked test-only below), the call signs,
operator names, products, fillers and place numbers (warehouse_lexicon.HELD_OUT_NUMBERS) are held out
for it. The words a label hinges on (left, dock, level two, ...) are shared: a model cannot learn a
label from words it never saw. Hand-written commands in operators' own words are kept apart in
suites/warehouse-commands/handwritten.jsonl (not produced here).

    python3 scripts/suites/make_warehouse_suite.py [--seed 7] [--out suites/warehouse-commands/data.jsonl]

Deterministic for a given seed and Python version (random.Random only). Prints per-split statistics.
"""
import argparse
import json
import os
import random
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from warehouse_lexicon import PRODUCTS, Pool, Side  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOADS = Pool(shared=["the pallet", "the crate", "the tote", "the box"],
             train=["this pallet", "the skid", "that load", "the order", "the carton", "pallet", "the bin"],
             test=["the drum", "the parcel", "that crate", "the case", "this tote"])
UNITS = Pool(shared=["meters", "feet"], train=["steps", "spots", "m"], test=["slots", "positions", "meter"])
DIRECTIONS = {
    "move_left": Pool(shared=["left", "to the left"], train=["leftward", "left side"],
                      test=["hard left", "left hand side"]),
    "move_right": Pool(shared=["right", "to the right"], train=["rightward", "right side"],
                       test=["hard right", "right hand side"]),
    "move_forward": Pool(shared=["forward", "ahead"], train=["straight ahead", "forwards"],
                         test=["onward", "up front"]),
    "move_back": Pool(shared=["back", "backward"], train=["backwards", "in reverse"],
                      test=["rearward", "back up"]),
}
MOVE_VERBS = Pool(shared=["move", "go", "shift"], train=["head", "drive", "roll", "steer"],
                  test=["slide", "turn", "swing"])
PICK_VERBS = Pool(shared=["pick up", "pick", "grab"], train=["fetch", "retrieve", "collect", "take", "load up"],
                  test=["lift out", "pull", "snag"])
PUT_VERBS = Pool(shared=["put away", "put", "store"], train=["stow", "place", "drop off", "set down", "shelve"],
                 test=["deposit", "unload", "drop", "stash"])
GO_VERBS = Pool(shared=["go to", "head to", "drive to"],
                train=["proceed to", "navigate to", "travel to", "report to", "return to", "move to"],
                test=["make your way to", "get over to", "roll to"])
PLACE_WORDS = {
    "go_dock": Pool(shared=["dock"], train=["loading dock", "dock door"], test=["shipping dock"]),
    "go_bay": Pool(shared=["bay"], train=["bay door", "storage bay"], test=["receiving bay"]),
    "go_aisle": Pool(shared=["aisle"], train=["aisle way", "pick aisle"], test=["aisle row"]),
}
OTHER_PLACES = Pool(shared=["dock", "bay", "aisle"], train=["shelf", "zone"], test=["rack"])
FORK_VERBS = Pool(shared=["raise", "lower", "set"], train=["put", "move", "bring", "adjust"], test=["lift", "drop"])
FORK_UP_VERBS = Pool(shared=["raise", "set"], train=["bring", "move"], test=["lift"])  # "... up to level N"
FORK_DOWN_VERBS = Pool(shared=["lower", "set"], train=["bring", "move"], test=["drop"])  # "... down to level N"
FORK_OBJECTS = Pool(shared=["the forks", "forks"], train=["the mast", "the lift"], test=["the tines", "the carriage"])
STOP = Pool(shared=["stop", "halt"],
            train=["freeze", "stop right there", "hold position", "emergency stop", "stop moving", "do not move",
                   "stay put", "pause"],
            test=["wait here", "stand still", "hold it", "stop the robot", "cease motion", "stop where you are"])
CHARGE = Pool(shared=["go charge", "charge up"],
              train=["return to the charger", "head to charging station", "recharge your battery",
                     "battery low go charge", "go to charging"],
              test=["dock at the charger", "plug in to charge", "top up the battery", "time to recharge"])


def load(s: Side):
    if s.chance(0.15):
        return f"the {s.pool(LOADS).split()[-1]} of {s.pool(PRODUCTS)}"
    return s.pool(LOADS)


def place(s: Side, pool=OTHER_PLACES):
    return f"{s.pool(pool)} {s.spoken(s.place_number(), 0.55)}"


def amount(s: Side):
    n = s.small_number()
    return f"{s.spoken(n, 0.6)} {s.pool(UNITS)}"


def forms_move(label):
    words = DIRECTIONS[label]
    verb = lambda s: s.pool(MOVE_VERBS)  # noqa: E731
    d = lambda s: s.pool(words)  # noqa: E731
    return [
        ("train", "verb_dir", lambda s: f"{verb(s)} {d(s)}"),
        ("train", "verb_load_dir", lambda s: f"{verb(s)} {load(s)} {d(s)}"),
        ("train", "verb_dir_amount", lambda s: f"{verb(s)} {d(s)} {amount(s)}"),
        ("train", "verb_amount_dir", lambda s: f"{verb(s)} {amount(s)} {d(s)}"),
        ("train", "verb_dir_of_place", lambda s: f"{verb(s)} {d(s)} of {place(s)}"),
        ("train", "dir_amount", lambda s: f"{d(s)} {amount(s)}"),
        ("train", "take_it_dir", lambda s: f"take it {d(s)}"),
        ("train", "amount_dir", lambda s: f"{amount(s)} {d(s)}"),
        ("train", "verb_over_dir", lambda s: f"{verb(s)} over {d(s)}"),
        ("train", "verb_load_amount_dir", lambda s: f"{verb(s)} {load(s)} {amount(s)} {d(s)}"),
        ("train", "want_you_to_verb_dir", lambda s: f"i want you to {verb(s)} {d(s)} now"),
        ("test", "verb_load_dir_of_place", lambda s: f"{verb(s)} {load(s)} {d(s)} of {place(s)}"),
        ("test", "a_bit_dir", lambda s: f"a bit {d(s)}"),
        ("test", "verb_dir_a_little", lambda s: f"{verb(s)} {d(s)} a little"),
        ("test", "need_you_dir_amount", lambda s: f"i need you {amount(s)} further {d(s)}"),
    ]


def forms_pick():
    verb = lambda s: s.pool(PICK_VERBS)  # noqa: E731
    return [
        ("train", "verb_load_from_place", lambda s: f"{verb(s)} {load(s)} from {place(s)}"),
        ("train", "verb_load_at_place", lambda s: f"{verb(s)} {load(s)} at {place(s)}"),
        ("train", "from_place_verb_load", lambda s: f"from {place(s)} {verb(s)} {load(s)}"),
        ("train", "verb_load", lambda s: f"{verb(s)} {load(s)}"),
        ("train", "load_from_place_verb_it", lambda s: f"{load(s)} from {place(s)}, {verb(s)} it"),
        ("train", "at_place_verb_load", lambda s: f"at {place(s)} {verb(s)} {load(s)}"),
        ("train", "verb_load_that_is_at_place", lambda s: f"{verb(s)} {load(s)} that is at {place(s)}"),
        ("test", "go_verb_load_off_place", lambda s: f"go {verb(s)} {load(s)} off {place(s)}"),
        ("test", "need_load_from_place", lambda s: f"i need {load(s)} from {place(s)}"),
        ("test", "verb_cases_from_place", lambda s: f"{verb(s)} the cases from {place(s)}"),
    ]


def forms_put():
    verb = lambda s: s.pool(PUT_VERBS)  # noqa: E731
    return [
        ("train", "verb_load_in_place", lambda s: f"{verb(s)} {load(s)} in {place(s)}"),
        ("train", "verb_load_on_place", lambda s: f"{verb(s)} {load(s)} on {place(s)}"),
        ("train", "into_place_verb_load", lambda s: f"into {place(s)} {verb(s)} {load(s)}"),
        ("train", "verb_load", lambda s: f"{verb(s)} {load(s)}"),
        ("train", "load_in_place_verb_it", lambda s: f"{load(s)} in {place(s)}, {verb(s)} it"),
        ("train", "on_place_verb_load", lambda s: f"on {place(s)} {verb(s)} {load(s)}"),
        ("train", "verb_load_onto_place", lambda s: f"{verb(s)} {load(s)} onto {place(s)}"),
        ("test", "verb_load_at_place", lambda s: f"{verb(s)} {load(s)} at {place(s)}"),
        ("test", "verb_load_back_into_place", lambda s: f"{verb(s)} {load(s)} back into {place(s)}"),
        ("test", "load_goes_to_place", lambda s: f"{load(s)} goes to {place(s)}"),
    ]


def forms_go(label):
    kind = lambda s: s.pool(PLACE_WORDS[label])  # noqa: E731
    n = lambda s: s.spoken(s.place_number(), 0.55)  # noqa: E731
    verb = lambda s: s.pool(GO_VERBS)  # noqa: E731
    return [
        ("train", "verb_kind_n", lambda s: f"{verb(s)} {kind(s)} {n(s)}"),
        ("train", "verb_the_kind_n", lambda s: f"{verb(s)} the {kind(s)} {n(s)}"),
        ("train", "verb_kind_number_n", lambda s: f"{verb(s)} {kind(s)} number {n(s)}"),
        ("train", "next_stop_kind_n", lambda s: f"next stop {kind(s)} {n(s)}"),
        ("train", "kind_n_is_next_stop", lambda s: f"{kind(s)} {n(s)} is the next stop"),
        ("train", "verb_kind_n_at_once", lambda s: f"{verb(s)} {kind(s)} {n(s)} at once"),
        ("train", "kind_n", lambda s: f"{kind(s)} {n(s)}"),
        ("test", "kind_n_go_there", lambda s: f"{kind(s)} {n(s)} {verb(s).split()[0]} there"),
        ("test", "verb_kind_n_and_wait", lambda s: f"{verb(s)} {kind(s)} {n(s)} and wait"),
        ("test", "destination_is_kind_n", lambda s: f"your destination is {kind(s)} {n(s)}"),
        ("test", "need_you_at_kind_n", lambda s: f"i need you at {kind(s)} {n(s)}"),
    ]


def forms_forks(level_words):
    verb = lambda s: s.pool(FORK_VERBS)  # noqa: E731
    obj = lambda s: s.pool(FORK_OBJECTS)  # noqa: E731
    lvl = lambda s: s.choice(level_words)  # noqa: E731
    return [
        ("train", "verb_obj_to_level", lambda s: f"{verb(s)} {obj(s)} to level {lvl(s)}"),
        ("train", "obj_to_level", lambda s: f"{obj(s)} to level {lvl(s)}"),
        ("train", "verb_obj_to_tier", lambda s: f"{verb(s)} {obj(s)} to tier {lvl(s)}"),
        ("train", "verb_obj_up_to_level", lambda s: f"{s.pool(FORK_UP_VERBS)} {obj(s)} up to level {lvl(s)}"),
        ("train", "obj_at_level", lambda s: f"{obj(s)} at level {lvl(s)}"),
        ("train", "level_verb_obj", lambda s: f"level {lvl(s)}, {verb(s)} {obj(s)}"),
        ("train", "verb_obj_until_level", lambda s: f"{verb(s)} {obj(s)} until level {lvl(s)}"),
        ("test", "verb_obj_to_shelf_level", lambda s: f"{verb(s)} {obj(s)} to shelf level {lvl(s)}"),
        ("test", "level_on_obj", lambda s: f"level {lvl(s)} on {obj(s)}"),
        ("test", "verb_obj_down_to_level", lambda s: f"{s.pool(FORK_DOWN_VERBS)} {obj(s)} down to level {lvl(s)}"),
    ]


def forms_stop():
    return [("train", "phrase", lambda s: s.pool(STOP)),
            ("test", "phrase_now", lambda s: f"{s.pool(STOP)} now")]


def forms_charge():
    n = lambda s: s.spoken(s.small_number())  # noqa: E731
    return [
        ("train", "phrase", lambda s: s.pool(CHARGE)),
        ("train", "go_to_charger_n", lambda s: f"go to charger {n(s)}"),
        ("train", "recharge_at_charger_n", lambda s: f"recharge at charger {n(s)}"),
        ("train", "charger_n_phrase", lambda s: f"charger {n(s)}, {s.pool(CHARGE)}"),
        ("test", "charge_at_station_n", lambda s: f"charge at station {n(s)}"),
        ("test", "battery_low_phrase", lambda s: f"battery is low, {s.pool(CHARGE)}"),
    ]


INTENTS = {
    "move_left": forms_move("move_left"),
    "move_right": forms_move("move_right"),
    "move_forward": forms_move("move_forward"),
    "move_back": forms_move("move_back"),
    "pick": forms_pick(),
    "put_away": forms_put(),
    "go_dock": forms_go("go_dock"),
    "go_bay": forms_go("go_bay"),
    "go_aisle": forms_go("go_aisle"),
    "forks_level_1": forms_forks(["one", "1"]),
    "forks_level_2": forms_forks(["two", "2"]),
    "forks_level_3": forms_forks(["three", "3"]),
    "stop": forms_stop(),
    "charge": forms_charge(),
}

# (split, side its templates and vocabulary come from, examples)
SPLITS = [("test", "test", 840), ("calibration", "train", 280), ("train", "train", 2800)]


def generate(seed):
    rng = random.Random(seed)
    labels = list(INTENTS)
    seen = set()
    rows = []
    for split, side_name, count in SPLITS:
        side = Side(rng, side_name)
        per_label = count // len(labels)
        for label in labels:
            forms = [(name, fn) for s, name, fn in INTENTS[label] if s == side_name]
            made = 0
            tries = 0
            while made < per_label:
                tries += 1
                assert tries < per_label * 200, f"{split}/{label}: cannot make {per_label} distinct commands"
                name, fn = rng.choice(forms)
                text = side.surface(side.wrap(fn(side)), ".!?" if label != "stop" else "!")
                key = " ".join(text.lower().strip(".!?").split())
                if key in seen:
                    continue
                seen.add(key)
                made += 1
                rows.append({"id": "", "text": text, "label": label, "split": split, "template": f"{label}/{name}"})
    # Shuffle within each split so that any prefix (e.g. `--limit N`) covers every label.
    rows = [r for split, _, _ in SPLITS
            for r in sorted((r for r in rows if r["split"] == split), key=lambda _: rng.random())]
    for i, r in enumerate(rows):
        r["id"] = f"{r['split']}-{i:05d}"
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "suites", "warehouse-commands", "data.jsonl"))
    args = ap.parse_args()
    rows = generate(args.seed)
    test_templates = {r["template"] for r in rows if r["split"] == "test"}
    assert not test_templates & {r["template"] for r in rows if r["split"] != "test"}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    os.replace(tmp, args.out)
    for split, _, _ in SPLITS:
        part = [r for r in rows if r["split"] == split]
        print(f"{split}: {len(part)} examples, {len({r['template'] for r in part})} templates, "
              f"{len(Counter(r['label'] for r in part))} labels")
    print(f"wrote {len(rows)} examples to {args.out}")


if __name__ == "__main__":
    main()
