//! Number words: the cardinals and ordinals to twenty, and the number a word spells. Shared by the
//! safety rules (a replacement never changes a number), the word classes and the noise models.

/// Cardinal number words 0..=20 by value.
pub const CARDINALS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Ordinal number words 0..=20 by value (index 0 unused).
pub const ORDINALS: [&str; 21] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
];

/// The number a word spells ("seven", "7", "7th", "seventh"), if any.
pub fn number_value(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    if let Some(v) = CARDINALS.iter().position(|c| *c == w) {
        return Some(v as u32);
    }
    if let Some(v) = ORDINALS.iter().position(|c| *c == w) {
        return Some(v as u32);
    }
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &w[digits.len()..];
    if !digits.is_empty() && (rest.is_empty() || ["st", "nd", "rd", "th"].contains(&rest)) {
        return digits.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_all_spellings() {
        assert_eq!(number_value("Seven"), Some(7));
        assert_eq!(number_value("7th"), Some(7));
        assert_eq!(number_value("seventh"), Some(7));
        assert_eq!(number_value("13"), Some(13));
        assert_eq!(number_value("7a"), None);
        assert_eq!(number_value("pallet"), None);
    }
}
