"""Shared vocabulary of the warehouse suite generators (make_warehouse_suite.py, make_parse_suite.py).

Every word list here is project-written. Lists that are open vocabulary (call signs, operator names,
products, filler phrases, held-out numbers) come as a `Pool` with words for every side, words only the
train side may use and words only the test side may use, so that a test split can be drawn from
vocabulary the model never saw in training. Closed vocabulary (the words a label or a field value
hinges on: left, dock, pallet, ...) is shared by both sides: a model cannot be asked to learn a label
from words it was never shown.

A `Side` is what a generator draws with: a seeded `random.Random`, the side's name ("train" or
"test") and helpers that only look at that side's part of every pool.
"""
import random

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty",
        90: "ninety"}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}

# Numbers that only the test side says (as words or digits), anywhere in a command: place numbers,
# distances and levels. Calibration and fewshot say place numbers up to 40 only; the parse suite's train
# split says every other number up to 99 (TRAIN_WIDE_PLACE_NUMBERS), so "fifty two" or "88" asks the model
# for a number it never saw, made of tens and ones words it did.
HELD_OUT_NUMBERS = [7, 13, 18, 24, 31, 36, 45, 52, 67, 88]
TRAIN_PLACE_NUMBERS = [n for n in range(1, 41) if n not in HELD_OUT_NUMBERS]
TRAIN_SMALL_NUMBERS = [n for n in range(1, 13) if n not in HELD_OUT_NUMBERS]
TEST_SMALL_NUMBERS = [7, 13, 18]


def words(n):
    """The spoken form of 0 <= n <= 99, with the tens joined by a space or a hyphen (chosen later)."""
    if n < 20:
        return ONES[n]
    tens, ones = n - n % 10, n % 10
    return TENS[tens] if ones == 0 else f"{TENS[tens]} {ONES[ones]}"


class Pool:
    """Words for both sides (`shared`), for the train side only and for the test side only."""

    def __init__(self, shared=(), train=(), test=()):
        self.shared, self.train, self.test = list(shared), list(train), list(test)
        overlap = (set(self.shared) | set(self.train)) & set(self.test)
        assert not overlap - {""}, f"pool leaks test words into train: {overlap}"

    def side(self, name):
        return self.shared + (self.train if name == "train" else self.test)


# Call signs an operator prefixes a command with. None holds a number: the number field must be the
# place's, and a call-sign number would be a second number in the sentence.
ROBOTS = Pool(
    shared=["", "", "", "", ""],
    train=["robot", "bot", "forklift", "tugger", "lifter", "hey robot", "unit alpha", "mover",
           "truck", "hey bot", "robot bravo", "AMR"],
    test=["reach truck", "unit delta", "hey rover", "picker", "hey you", "rover", "AGV", "unit echo",
          "big blue", "lift truck"],
)
# Operators who name themselves ("Dana here, ...").
OPERATORS = Pool(
    train=["Dana", "Marcus", "Priya", "Tom", "Ana", "Jorge", "Mei", "Sam", "Fatima", "Luis", "Olga", "Ben"],
    test=["Kenji", "Svetlana", "Olu", "Rachel", "Tariq", "Ingrid", "Pablo", "Aisha", "Wes", "Hannah"],
)
# Goods a load holds: never an object value themselves.
PRODUCTS = Pool(
    train=["detergent", "paper towels", "dog food", "bottled water", "rice", "diapers", "coffee",
           "shampoo", "batteries", "cereal", "canned beans", "toilet paper", "flour", "motor parts",
           "light bulbs", "sneakers", "laptops", "frozen peas"],
    test=["printer ink", "cat litter", "motor oil", "olive oil", "phone cases", "garden hoses",
          "baby formula", "vitamins", "paint", "copper wire", "tennis balls", "soy sauce"],
)
COLOURS = Pool(train=["blue", "red", "green", "wooden", "big", "heavy"],
               test=["yellow", "grey", "plastic", "small", "damaged", "black"])
POLITE_PRE = Pool(
    shared=["", "", "", "", "", "", "please"],
    train=["could you", "can you", "i need you to", "go ahead and", "okay", "alright", "now",
           "ok so", "right,", "quick one,", "hey,"],
    test=["would you mind to", "if you could", "kindly", "let's", "you wanna", "be a pal and",
          "okay listen,", "right then,"],
)
POLITE_POST = Pool(
    shared=["", "", "", "", "", "", "please"],
    train=["thanks", "thank you", "now", "right away", "when you can", "over", "copy", "asap", "for me",
           "quickly", "cheers mate"],
    test=["if you don't mind", "when you get a chance", "real quick", "ta", "much appreciated",
          "as soon as possible", "copy that", "over and out"],
)
# Hesitations and restarts that an ASR transcript keeps.
HESITATIONS = Pool(train=["uh", "um", "uh,", "um,", "so", "like"],
                   test=["er", "erm", "hmm", "uhh", "you know,"])


SENTENCE_STARTS = ("i ", "there's", "can we", "off you", "your ", "you ", "keep going")


class Side:
    """Draws words for one side of the split with one seeded generator."""

    def __init__(self, rng: random.Random, name: str):
        assert name in ("train", "test")
        self.rng, self.name = rng, name

    def choice(self, items):
        return self.rng.choice(items)

    def pool(self, pool: Pool):
        return self.rng.choice(pool.side(self.name))

    def chance(self, p):
        return self.rng.random() < p

    def spoken(self, n, word_p=0.6):
        """A number as an operator's recogniser might write it: words (tens with a space or a hyphen)
        or digits."""
        if self.rng.random() < word_p:
            w = words(n)
            return w.replace(" ", "-") if " " in w and self.rng.random() < 0.3 else w
        return str(n)

    def place_number(self):
        return self.choice(TRAIN_PLACE_NUMBERS if self.name == "train" else HELD_OUT_NUMBERS)

    def small_number(self):
        return self.choice(TRAIN_SMALL_NUMBERS if self.name == "train" else TEST_SMALL_NUMBERS)

    def wrap(self, core, robot_p=0.45, pre_p=0.5, post_p=0.45, operator_p=0.05, hesitation_p=0.06):
        """Adds what operators say around a command: a call sign, a politeness or filler word before
        and after, sometimes their own name and a hesitation."""
        parts = []
        if self.chance(operator_p):
            parts.append(f"{self.pool(OPERATORS)} here,")
        if self.chance(robot_p):
            robot = self.pool(ROBOTS)
            if robot:
                parts.append(robot + ("," if self.chance(0.3) else ""))
        if self.chance(hesitation_p):
            parts.append(self.pool(HESITATIONS))
        # A sentence of its own ("i need ...", "there's ...") takes no lead-in such as "could you".
        if self.chance(pre_p) and not core.startswith(SENTENCE_STARTS):
            parts.append(self.pool(POLITE_PRE))
        parts.append(core)
        if self.chance(post_p):
            parts.append(self.pool(POLITE_POST))
        return " ".join(" ".join(parts).split())

    def surface(self, text, punct=".!?"):
        """Casing and end punctuation as typed or transcribed: mostly lower case and bare."""
        if self.chance(0.25):
            text = text[0].upper() + text[1:]
        if self.chance(0.2):
            text += self.choice(punct)
        return text


# The train split (not calibration or fewshot, whose draws stay as they were) says place numbers from the
# whole of 1..99 but the held-out ones, as words and digits, so that the test split's 45, 52, 67 and 88
# are new numbers whose tens and ones words the model has seen (e.g. "fifty three", "eighty-nine", "88"
# never, "77" and "44" yes).
TRAIN_WIDE_PLACE_NUMBERS = [n for n in range(1, 100) if n not in HELD_OUT_NUMBERS]


def spoken_numbers(text):
    """Every number a command says, as words ("eighty nine", "forty-one", "seventeen") or digits."""
    import re
    tokens = re.findall(r"[a-z]+|\d+", text.lower())
    tens_words = {w: n for n, w in TENS.items()}
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t.isdigit():
            out.append(int(t))
        elif t in tens_words:
            n = tens_words[t]
            if i + 1 < len(tokens) and tokens[i + 1] in ONES[1:10]:
                n += ONES.index(tokens[i + 1])
                i += 1
            out.append(n)
        elif t in ONES:
            out.append(ONES.index(t))
        i += 1
    return out
