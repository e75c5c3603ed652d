//! The pronouncing lexicon the recogniser model searches: CMUdict's 124k words with their pronunciations and,
//! for the 21k that are single tokens of Whisper's vocabulary, a frequency rank (`corruptions/asr/lexicon.tsv.gz`,
//! made by `scripts/asr_tables/make_lexicon.py`), plus letter-to-sound rules for words it lacks
//! (`g2p.tsv.gz`). Loaded once per process.
//!
//! Search: every candidate word's phone string and each of its one-phone deletions are hashed into one sorted
//! key table (a symmetric-deletion index), so the words within one substitution, insertion or deletion of a
//! query (and some at two) are found with `len + 1` binary searches; they are then scored by the weighted
//! phone distance of `phones.rs`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use super::phones;

/// The compressed tables, compiled in.
const LEXICON_GZ: &[u8] = include_bytes!("../../../corruptions/asr/lexicon.tsv.gz");
const G2P_GZ: &[u8] = include_bytes!("../../../corruptions/asr/g2p.tsv.gz");

/// Rank given to words that are not one token of the recogniser's vocabulary (rare words, most names).
pub const UNRANKED: u32 = 60_000;

/// The letter-context windows of the rules, shortest first: (letters left, letters right).
const CHAIN: [(usize, usize); 5] = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)];

/// One lexicon word.
#[derive(Clone, Debug)]
pub struct Entry {
    /// As the recogniser would write it ("Mike", "paris" as "Paris", "jazz").
    pub word: Box<str>,
    pub phones: Box<[u8]>,
    /// Whisper-vocabulary rank (lower is more frequent), `UNRANKED` when none.
    pub rank: u32,
}

/// Lexicon, letter-to-sound rules and the search index.
pub struct Lexicon {
    pub entries: Vec<Entry>,
    by_word: HashMap<Box<str>, u32>,
    rules: [HashMap<Box<str>, Box<[u8]>>; 5],
    /// (hash of a phone string or of one of its one-deletion variants, entry id), sorted.
    index: Vec<(u64, u32)>,
}

fn gunzip(bytes: &[u8], name: &str) -> Result<String, String> {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

/// FNV-1a over a phone string (64-bit), with the length mixed in.
fn key(phones: &[u8], skip: Option<usize>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0u64;
    for (i, &p) in phones.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        h ^= p as u64 + 1;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        n += 1;
    }
    h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Hesitations: a recogniser drops them rather than writing them (and normalisation deletes them).
const HESITATIONS: [&str; 14] = [
    "uh", "um", "er", "erm", "hmm", "mm", "mhm", "mmm", "ah", "eh", "huh", "uhm", "ehm", "hm",
];

/// Words the recogniser may write in place of others: real words of two letters or more (and "a", "I"),
/// not spelled-out letter names ("th" read as T-IY-EY-CH), abbreviations or hesitations.
fn is_candidate(word: &str, phones: &[u8]) -> bool {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    (letters >= 2 || word.eq_ignore_ascii_case("a") || word == "I")
        && phones.len() <= letters + 1
        && !HESITATIONS.contains(&word.to_lowercase().as_str())
}

impl Lexicon {
    /// The shipped lexicon, loaded on first use.
    pub fn get() -> Result<&'static Lexicon, String> {
        static LEXICON: OnceLock<Result<Lexicon, String>> = OnceLock::new();
        LEXICON.get_or_init(Lexicon::load).as_ref().map_err(Clone::clone)
    }

    fn load() -> Result<Lexicon, String> {
        let text = gunzip(LEXICON_GZ, "corruptions/asr/lexicon.tsv.gz")?;
        let mut entries = Vec::with_capacity(130_000);
        let mut by_word = HashMap::with_capacity(130_000);
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let mut cols = line.split('\t');
            let (Some(word), Some(ph), rank) = (cols.next(), cols.next(), cols.next()) else {
                return Err(format!("lexicon line '{line}': expected WORD<TAB>PHONES<TAB>RANK"));
            };
            let phones = phones::parse(ph).ok_or_else(|| format!("lexicon line '{line}': unknown phone"))?;
            let rank = match rank.unwrap_or("").trim() {
                "" => UNRANKED,
                r => r
                    .parse()
                    .map_err(|_| format!("lexicon line '{line}': rank is not a number"))?,
            };
            by_word.insert(word.to_lowercase().into_boxed_str(), entries.len() as u32);
            entries.push(Entry {
                word: word.into(),
                phones: phones.into_boxed_slice(),
                rank,
            });
        }
        let rules_text = gunzip(G2P_GZ, "corruptions/asr/g2p.tsv.gz")?;
        let mut rules: [HashMap<Box<str>, Box<[u8]>>; 5] = Default::default();
        for line in rules_text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let (ctx, out) = line
                .split_once('\t')
                .ok_or_else(|| format!("g2p line '{line}': expected CONTEXT<TAB>PHONES"))?;
            let open = ctx.find('[').ok_or_else(|| format!("g2p line '{line}': no [letter]"))?;
            let left = ctx[..open].chars().count();
            let right = ctx[open..].chars().count().saturating_sub(3);
            let level = CHAIN
                .iter()
                .position(|&w| w == (left, right))
                .ok_or_else(|| format!("g2p line '{line}': window {left}+{right} is not in the chain"))?;
            let phones = phones::parse(out).ok_or_else(|| format!("g2p line '{line}': unknown phone"))?;
            rules[level].insert(ctx.into(), phones.into_boxed_slice());
        }
        let mut index: Vec<(u64, u32)> = Vec::with_capacity(entries.len() * 8);
        for (id, e) in entries.iter().enumerate() {
            if !is_candidate(&e.word, &e.phones) {
                continue;
            }
            index.push((key(&e.phones, None), id as u32));
            for skip in 0..e.phones.len() {
                index.push((key(&e.phones, Some(skip)), id as u32));
            }
        }
        index.sort_unstable();
        index.dedup();
        Ok(Lexicon {
            entries,
            by_word,
            rules,
            index,
        })
    }

    /// The entry of `word` (any case), if the lexicon has it.
    pub fn lookup(&self, word: &str) -> Option<&Entry> {
        let lower = word.to_lowercase();
        self.by_word.get(lower.as_str()).map(|&i| &self.entries[i as usize])
    }

    /// Frequency rank of `word` (`UNRANKED` when not a recogniser token).
    pub fn rank(&self, word: &str) -> u32 {
        self.lookup(word).map_or(UNRANKED, |e| e.rank)
    }

    /// The pronunciation of a word: the lexicon's, else the letter-to-sound rules' (letters and apostrophes
    /// only; other characters are skipped).
    pub fn pronounce(&self, word: &str) -> Vec<u8> {
        if let Some(e) = self.lookup(word) {
            return e.phones.to_vec();
        }
        let letters: Vec<char> = word
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '\'')
            .collect();
        let mut out = Vec::with_capacity(letters.len() + 2);
        let mut window = String::with_capacity(8);
        for i in 0..letters.len() {
            for (level, &(l, r)) in CHAIN.iter().enumerate().rev() {
                window.clear();
                for k in (i as isize - l as isize)..(i as isize) {
                    window.push(if k < 0 { '#' } else { letters[k as usize] });
                }
                window.push('[');
                window.push(letters[i]);
                window.push(']');
                for k in i + 1..=i + r {
                    window.push(letters.get(k).copied().unwrap_or('#'));
                }
                if let Some(p) = self.rules[level].get(window.as_str()) {
                    out.extend_from_slice(p);
                    break;
                }
            }
        }
        out
    }

    /// Candidate words within `max_cost` of `phones` (weighted phone distance), with their cost. The index
    /// finds words one edit away (and some two); for strings of five phones or more the query's two-phone
    /// deletions are looked up too, reaching three edits, as long words are misheard by more.
    pub fn near(&self, phones: &[u8], max_cost: f32) -> Vec<(u32, f32)> {
        let mut ids: Vec<u32> = Vec::new();
        let mut look = |k: u64| {
            let start = self.index.partition_point(|&(h, _)| h < k);
            ids.extend(
                self.index[start..]
                    .iter()
                    .take_while(|&&(h, _)| h == k)
                    .map(|&(_, id)| id),
            );
        };
        look(key(phones, None));
        for skip in 0..phones.len() {
            look(key(phones, Some(skip)));
        }
        if phones.len() >= 5 {
            let mut buf = Vec::with_capacity(phones.len());
            for a in 0..phones.len() {
                for b in a + 1..phones.len() {
                    buf.clear();
                    buf.extend(
                        phones
                            .iter()
                            .enumerate()
                            .filter(|&(i, _)| i != a && i != b)
                            .map(|(_, &p)| p),
                    );
                    look(key(&buf, None));
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| {
                let cost = phones::distance(phones, &self.entries[id as usize].phones);
                (cost <= max_cost).then_some((id, cost))
            })
            .collect()
    }

    /// Candidate words pronounced exactly `phones`.
    pub fn exact(&self, phones: &[u8]) -> Vec<u32> {
        let k = key(phones, None);
        let start = self.index.partition_point(|&(h, _)| h < k);
        self.index[start..]
            .iter()
            .take_while(|&&(h, _)| h == k)
            .map(|&(_, id)| id)
            .filter(|&id| &*self.entries[id as usize].phones == phones)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_words_ranks_and_pronounces_unknown_words() {
        let lex = Lexicon::get().unwrap();
        assert!(lex.entries.len() > 120_000);
        let mike = lex.lookup("mike").unwrap();
        assert_eq!(&*mike.word, "Mike");
        assert!(mike.rank < UNRANKED);
        assert_eq!(phones::parse("M AY K").unwrap(), mike.phones.to_vec());
        assert!(lex.rank("the") < lex.rank("pallet"));
        // Letter-to-sound for a made-up name: close to how it is spelled.
        let p = lex.pronounce("Blorvingham");
        let want = phones::parse("B L AO R V IH NG HH AE M").unwrap();
        assert!(phones::distance(&p, &want) < 3.0, "{p:?}");
        let near: Vec<String> = lex
            .near(&lex.pronounce("bay"), 0.6)
            .iter()
            .map(|&(id, _)| lex.entries[id as usize].word.to_lowercase())
            .collect();
        assert!(
            near.iter().any(|w| w == "pay") && near.iter().any(|w| w == "bay"),
            "{near:?}"
        );
        assert!(!near.iter().any(|w| w == "uh" || w == "er"), "{near:?}");
        assert!(lex
            .exact(&lex.pronounce("for"))
            .iter()
            .any(|&id| &*lex.entries[id as usize].word == "four"));
    }
}
