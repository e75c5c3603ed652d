//! Byte-level BPE (GPT-2, Radford et al. 2019) over a GGUF vocabulary, as SmolLM2 and Qwen2 files
//! describe it: `tokenizer.ggml.tokens` in GPT-2's byte-to-character alphabet and
//! `tokenizer.ggml.merges` as `"left right"` strings, lowest rank first.
//!
//! Why not the `tokenizers` crate's BPE: built from GGUF metadata it keeps the vocabulary as owned
//! strings twice (text to id and id to text, 49k of each for SmolLM2) beside its merges, though encoding
//! needs only ids: the GGUF tokenizer held 8.0 MB of heap with it and holds 2.1 MB with this (heaptrack,
//! SmolLM2 Q4_1), 6% of the model's size. Here merges are a map from (left id, right id) to (rank,
//! merged id) and each byte-level character's token a table entry. The pre-tokenizer (regex splitting,
//! then GPT-2's byte-to-character map) is still the crate's, so words are split exactly as before; the
//! merging follows the crate's BPE step for step (lowest rank first, leftmost on ties), so ids are the
//! same. No cache of encoded words: encoding measured as fast as the crate's with its cache.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rustc_hash::FxHashMap;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

use crate::error::{Error, Result};

/// Marks a symbol without a neighbour on that side.
const NONE: usize = usize::MAX;

/// A GGUF `gpt2` tokenizer's splitting and merging (special tokens are cut out before, by the caller).
pub struct ByteBpe {
    /// (left id, right id) -> (rank, merged id).
    merges: FxHashMap<(u32, u32), (u32, u32)>,
    /// The token of each byte-level character (GPT-2's alphabet, 256 of them) the pre-tokenizer writes;
    /// a character the vocabulary lacks is dropped, as the crate's BPE without an unknown token does.
    chars: FxHashMap<char, u32>,
    pre: PreTokenizerWrapper,
}

/// One symbol of a word being merged: its token and its live neighbours.
#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: usize,
    next: usize,
    /// False once merged into its left neighbour.
    live: bool,
}

impl ByteBpe {
    /// From the vocabulary (token texts by id), the merges (`"left right"`, by rank), the pre-tokenizer
    /// and the byte-level alphabet (`chars[b]` stands for byte `b`). A merge whose parts or result are
    /// not tokens is an input error naming `origin`, as the crate refused them.
    pub fn new(
        tokens: &[&str],
        merges: &[&str],
        pre: PreTokenizerWrapper,
        alphabet: &[char; 256],
        origin: &str,
    ) -> Result<Self> {
        // Text -> id only while building; a text listed twice means its last id, as the crate's map.
        let index: HashMap<&str, u32> = tokens.iter().enumerate().map(|(i, t)| (*t, i as u32)).collect();
        let missing = |what: &str| {
            Error::input(
                origin,
                format!(
                    "tokenizer: BPE vocabulary and merges do not fit: merge token {what:?} is not in the vocabulary"
                ),
            )
        };
        let mut map = FxHashMap::default();
        map.reserve(merges.len());
        let mut joined = String::new();
        for (rank, m) in merges.iter().enumerate() {
            let (a, b) = m.split_once(' ').ok_or_else(|| {
                Error::input(
                    origin,
                    format!("metadata tokenizer.ggml.merges: \"{m}\" is not two tokens"),
                )
            })?;
            let id = |t: &str| index.get(t).copied().ok_or_else(|| missing(t));
            joined.clear();
            joined.push_str(a);
            joined.push_str(b);
            let rank = u32::try_from(rank).map_err(|_| Error::input(origin, "tokenizer: too many merges"))?;
            // A pair listed twice keeps its last rank, as the crate's map does.
            map.insert((id(a)?, id(b)?), (rank, id(&joined)?));
        }
        let mut buf = [0u8; 4];
        let chars = alphabet
            .iter()
            .filter_map(|&c| index.get(&*c.encode_utf8(&mut buf)).map(|&id| (c, id)))
            .collect();
        Ok(ByteBpe {
            merges: map,
            chars,
            pre,
        })
    }

    /// Appends the ids of `text` (no special tokens in it) to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        let mut words = PreTokenizedString::from(text);
        self.pre
            .pre_tokenize(&mut words)
            .map_err(|e| Error::Internal(format!("tokenizer failed: {e}")))?;
        for (word, _, _) in words.get_splits(OffsetReferential::Original, OffsetType::None) {
            self.merge_word(word, out);
        }
        Ok(())
    }

    /// One pre-tokenized word (byte-level characters) to tokens: start from each character's token,
    /// then repeatedly merge the adjacent pair of lowest rank, leftmost first among equal ranks. A
    /// queue entry whose pair has changed since it was queued (a neighbour merged) is skipped.
    fn merge_word(&self, word: &str, out: &mut Vec<u32>) {
        let mut symbols: Vec<Symbol> = word
            .chars()
            .filter_map(|c| self.chars.get(&c))
            .map(|&id| Symbol {
                id,
                prev: NONE,
                next: NONE,
                live: true,
            })
            .collect();
        let n = symbols.len();
        for (i, s) in symbols.iter_mut().enumerate() {
            s.prev = if i == 0 { NONE } else { i - 1 };
            s.next = if i + 1 == n { NONE } else { i + 1 };
        }
        // Min-queue of (rank, position of the pair's left symbol, merged id).
        let mut queue = BinaryHeap::with_capacity(n);
        let pair = |l: &Symbol, r: &Symbol| self.merges.get(&(l.id, r.id)).copied();
        for (i, w) in symbols.windows(2).enumerate() {
            if let Some((rank, id)) = pair(&w[0], &w[1]) {
                queue.push(Reverse((rank, i, id)));
            }
        }
        while let Some(Reverse((_, at, merged))) = queue.pop() {
            let left = symbols[at];
            if !left.live || left.next == NONE {
                continue;
            }
            let right = symbols[left.next];
            if pair(&left, &right).map(|(_, id)| id) != Some(merged) {
                continue;
            }
            symbols[left.next].live = false;
            symbols[at].id = merged;
            symbols[at].next = right.next;
            if right.next != NONE {
                symbols[right.next].prev = at;
            }
            let now = symbols[at];
            if now.prev != NONE {
                if let Some((rank, id)) = pair(&symbols[now.prev], &now) {
                    queue.push(Reverse((rank, now.prev, id)));
                }
            }
            if now.next != NONE {
                if let Some((rank, id)) = pair(&now, &symbols[now.next]) {
                    queue.push(Reverse((rank, at, id)));
                }
            }
        }
        out.extend(symbols.iter().filter(|s| s.live).map(|s| s.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::load::tokenizer::{byte_level_chars, pre_tokenizer};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use tokenizers::models::bpe::BPE;

    /// `tokenizer.ggml.pre` values of the pre-tokenizer families in use: GPT-2's regex alone, digits
    /// one by one before it (SmolLM2), Llama 3's and Qwen2's regexes.
    const PRE: [&str; 4] = ["gpt2", "smollm", "llama3", "qwen2"];

    /// The `tokenizers` crate's BPE on the same vocabulary, merges and pre-tokenizer: what GGUF `gpt2`
    /// tokenizers ran on before `ByteBpe`.
    fn crate_bpe(tokens: &[&str], merges: &[&str], pre: &str) -> tokenizers::Tokenizer {
        let vocab: tokenizers::models::bpe::Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let merges = merges
            .iter()
            .map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).unwrap())
            .collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().unwrap();
        let mut tk = tokenizers::Tokenizer::new(bpe);
        tk.with_pre_tokenizer(Some(pre_tokenizer(pre, "test").unwrap()));
        tk
    }

    /// Texts that stress splitting and merging: the llama.cpp tokenizer fixture's strings (non-ASCII
    /// scripts, emoji sequences, digit runs, whitespace runs) and random strings drawn from such pieces.
    fn texts(rng: &mut StdRng) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tokenizer_cases.json");
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut out: Vec<String> = fixture["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let pieces = [
            "the",
            " the",
            "  ",
            "\n",
            "\r\n",
            "\t",
            " ",
            "\u{a0}",
            "123",
            "4",
            "007",
            "3.14",
            "'s",
            "'LL",
            "don't",
            "é",
            "ß",
            "東京",
            "한국",
            "مرحبا",
            "👍",
            "👨‍👩‍👧",
            "🇫🇷",
            "❤️",
            "\u{200b}",
            "a",
            "aa",
            "aaa",
            "ab",
            "ba",
            "-",
            "...",
            "#",
            "<|im_start|>",
            "Ġ",
            "Ċ",
            "\u{0}",
            "\u{7f}",
            "ÿ",
        ];
        for _ in 0..300 {
            let n = rng.random_range(1..12);
            out.push((0..n).map(|_| pieces[rng.random_range(0..pieces.len())]).collect());
        }
        out
    }

    /// A small vocabulary learned by plain BPE training on `corpus` (GPT-2's alphabet, then `rounds`
    /// merges of the most frequent adjacent pair, lowest ids first on ties), as `(tokens, merges)`.
    fn train(corpus: &[String], rounds: usize) -> (Vec<String>, Vec<String>) {
        let mut tokens: Vec<String> = byte_level_chars().iter().map(char::to_string).collect();
        let pre = pre_tokenizer("gpt2", "test").unwrap();
        let mut words: Vec<Vec<String>> = Vec::new();
        for text in corpus {
            let mut p = PreTokenizedString::from(text.as_str());
            pre.pre_tokenize(&mut p).unwrap();
            for (w, _, _) in p.get_splits(OffsetReferential::Original, OffsetType::None) {
                words.push(w.chars().map(|c| c.to_string()).collect());
            }
        }
        let mut merges = Vec::new();
        for _ in 0..rounds {
            let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
            for w in &words {
                for p in w.windows(2) {
                    *counts.entry((p[0].clone(), p[1].clone())).or_default() += 1;
                }
            }
            let Some(((a, b), _)) = counts.into_iter().max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0))) else {
                break;
            };
            let joined = format!("{a}{b}");
            for w in &mut words {
                let mut i = 0;
                while i + 1 < w.len() {
                    if w[i] == a && w[i + 1] == b {
                        w[i] = joined.clone();
                        w.remove(i + 1);
                    }
                    i += 1;
                }
            }
            merges.push(format!("{a} {b}"));
            if !tokens.contains(&joined) {
                tokens.push(joined);
            }
        }
        (tokens, merges)
    }

    fn same_ids_as_the_crate(tokens: &[&str], merges: &[&str], texts: &[String]) {
        for pre in PRE {
            let ours = ByteBpe::new(
                tokens,
                merges,
                pre_tokenizer(pre, "test").unwrap(),
                &byte_level_chars(),
                "test",
            )
            .unwrap();
            let theirs = crate_bpe(tokens, merges, pre);
            for text in texts {
                let mut got = Vec::new();
                ours.encode(text, &mut got).unwrap();
                let want = theirs.encode(text.as_str(), false).unwrap().get_ids().to_vec();
                assert_eq!(got, want, "pre-tokenizer {pre}, text {text:?}");
            }
        }
    }

    #[test]
    fn ids_equal_the_crate_bpe_on_a_trained_vocabulary() {
        let mut rng = StdRng::seed_from_u64(17);
        let texts = texts(&mut rng);
        let (tokens, merges) = train(&texts[..texts.len() / 2], 400);
        assert!(merges.len() > 300);
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let merges: Vec<&str> = merges.iter().map(String::as_str).collect();
        same_ids_as_the_crate(&tokens, &merges, &texts);
    }

    /// The real vocabulary (49k tokens and merges of SmolLM2), when `SHAKEDOWN_SMOLLM2` names the file
    /// (scripts/test.sh sets it), on every pre-tokenizer family.
    #[test]
    fn ids_equal_the_crate_bpe_on_the_smollm2_vocabulary() {
        let Some(path) = std::env::var_os("SHAKEDOWN_SMOLLM2") else {
            eprintln!("SHAKEDOWN_SMOLLM2 is not set: the SmolLM2 vocabulary comparison did not run");
            return;
        };
        let file = crate::engine::load::gguf::GgufFile::open(std::path::Path::new(&path)).unwrap();
        let list = |key: &str| -> Vec<&str> { file.get(key).unwrap().as_strings().unwrap().iter().collect() };
        let mut rng = StdRng::seed_from_u64(23);
        same_ids_as_the_crate(
            &list("tokenizer.ggml.tokens"),
            &list("tokenizer.ggml.merges"),
            &texts(&mut rng),
        );
    }

    #[test]
    fn merges_outside_the_vocabulary_are_input_errors() {
        let alphabet = byte_level_chars();
        let mut tokens: Vec<String> = alphabet.iter().map(char::to_string).collect();
        tokens.push("ab".into());
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let build = |merges: &[&str]| {
            ByteBpe::new(
                &tokens,
                merges,
                pre_tokenizer("gpt2", "f.gguf").unwrap(),
                &alphabet,
                "f.gguf",
            )
        };
        assert!(build(&["a b"]).is_ok());
        for (merges, says) in [
            (&["a c"][..], "\"ac\""),
            (&["x yz"][..], "\"yz\""),
            (&["ab"][..], "not two tokens"),
        ] {
            let err = build(merges).err().unwrap().to_string();
            assert!(err.contains("f.gguf") && err.contains(says), "{err}");
        }
    }

    #[test]
    fn the_lowest_rank_merges_first_and_the_leftmost_among_equals() {
        let alphabet = byte_level_chars();
        let mut tokens: Vec<String> = alphabet.iter().map(char::to_string).collect();
        let first = tokens.len() as u32;
        tokens.extend(["bc", "ab", "aa", "abc"].map(String::from));
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let bpe = ByteBpe::new(
            &tokens,
            &["b c", "a b", "a a", "a bc"],
            pre_tokenizer("gpt2", "t").unwrap(),
            &alphabet,
            "t",
        )
        .unwrap();
        let ids = |text: &str| {
            let mut out = Vec::new();
            bpe.encode(text, &mut out).unwrap();
            out
        };
        let (bc, aa, abc) = (first, first + 2, first + 3);
        // "b c" outranks "a b": abc = a + bc.
        assert_eq!(ids("abc"), [abc]);
        // Three a's: the leftmost pair merges, the third stays.
        assert_eq!(ids("aaa"), [aa, 'a' as u32]);
        assert_eq!(ids("aabc"), [aa, bc]);
    }
}
