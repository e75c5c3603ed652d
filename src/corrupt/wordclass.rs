//! Word classes by how much meaning a word carries and how often a recogniser has heard it: closed-class
//! function words, numbers, and content words split by frequency (rank in the recogniser's vocabulary) and by
//! whether the vocabulary writes them capitalised (names). The `asr` family hits each class as often as the
//! real channel does, and the channel comparison (`opmix`) counts content words kept and errors on them.

use super::asr::lexicon::{Lexicon, UNRANKED};

/// English function words: articles, determiners, pronouns, prepositions, conjunctions, auxiliaries and
/// modals, particles, and the politeness and discourse words of requests. Written for this project.
pub const FUNCTION_WORDS: [&str; 147] = [
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "down", "during", "each", "either", "every", "few", "for", "from", "had", "has", "have", "having", "he",
    "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "let", "may", "me", "might", "mine", "more", "most", "must", "my", "myself", "near", "no", "nor",
    "not", "now", "of", "off", "on", "once", "only", "onto", "or", "other", "our", "ours", "out", "over", "own", "per",
    "please", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "us",
    "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why",
    "will", "with", "within", "without", "would", "yes", "yet", "you", "your", "yours", "yourself", "okay", "ok", "oh",
    "well", "also",
];

/// Below this vocabulary rank a content word counts as frequent.
pub const FREQUENT_RANK: u32 = 5_000;

/// How a recogniser treats a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum WordClass {
    Function,
    Number,
    /// Content word among the recogniser's most frequent tokens.
    Frequent,
    /// Content word that is a recogniser token, less frequent.
    Known,
    /// A token the recogniser's vocabulary writes capitalised (a name).
    Name,
    /// Not a recogniser token at all: rare words, most names, made-up titles.
    Rare,
}

impl WordClass {
    pub const ALL: [WordClass; 6] = [
        WordClass::Function,
        WordClass::Number,
        WordClass::Frequent,
        WordClass::Known,
        WordClass::Name,
        WordClass::Rare,
    ];

    /// Position in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lower-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            WordClass::Function => "function",
            WordClass::Number => "number",
            WordClass::Frequent => "frequent",
            WordClass::Known => "known",
            WordClass::Name => "name",
            WordClass::Rare => "rare",
        }
    }

    /// Everything but function words carries content.
    pub fn is_content(self) -> bool {
        self != WordClass::Function
    }
}

/// True for a function word (compared in lower case).
pub fn is_function_word(word: &str) -> bool {
    let w = word.to_lowercase();
    FUNCTION_WORDS.contains(&w.as_str())
}

/// The class of one word (as written or normalised).
pub fn classify(word: &str, lexicon: &Lexicon) -> WordClass {
    let lower = word.to_lowercase();
    let bare = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if FUNCTION_WORDS.contains(&bare) {
        return WordClass::Function;
    }
    if bare.chars().any(|c| c.is_ascii_digit()) || super::number_words::number_value(bare).is_some() {
        return WordClass::Number;
    }
    match lexicon.lookup(bare) {
        Some(e) if e.rank < UNRANKED && e.word.chars().next().is_some_and(char::is_uppercase) => WordClass::Name,
        Some(e) if e.rank < FREQUENT_RANK => WordClass::Frequent,
        Some(e) if e.rank < UNRANKED => WordClass::Known,
        _ => WordClass::Rare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let lex = Lexicon::get().unwrap();
        let c = |w| classify(w, lex);
        assert_eq!(c("The"), WordClass::Function);
        assert_eq!(c("7:30"), WordClass::Number);
        assert_eq!(c("seven"), WordClass::Number);
        assert_eq!(c("play"), WordClass::Frequent);
        assert_eq!(c("Mike"), WordClass::Name);
        assert_eq!(c("Reykjavik"), WordClass::Rare);
        assert_eq!(c("Blorvingham"), WordClass::Rare);
        let mut sorted = FUNCTION_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), FUNCTION_WORDS.len(), "duplicate function words");
    }
}
