//! Spelled-out numbers to digits, following the rules of Whisper's `EnglishNumberNormalizer` (MIT): successive
//! number words combine (`twenty one` -> `21`, `two hundred thousand` -> `200000`), single digits in a row
//! read as a nominal (`one oh one` -> `101`), ordinals and plurals keep their suffix (`twenty first` ->
//! `21st`, `sixties` -> `60s`), currency and percent words become symbols (`20 dollars` -> `$20`,
//! `fifty percent` -> `50%`), `point` makes decimals, `double`/`triple` repeat a digit, `and a half` is
//! `point five`, `$2 and ¢7` is `$2.07`, and a lone `1` is written `one`.
//! Integers are `u128`; a value that would overflow it (beyond 10^38) is written out and a new one begun.

use std::fmt::Write;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::corrupt::number_words::CARDINALS;

const TENS: [(&str, u128); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];
const MULTIPLIERS: [(&str, u32); 12] = [
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
    ("quadrillion", 15),
    ("quintillion", 18),
    ("sextillion", 21),
    ("septillion", 24),
    ("octillion", 27),
    ("nonillion", 30),
    ("decillion", 33),
];

/// What a word means to the number parser.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Zero,
    One(u128),
    /// A unit with a suffix: `sixes` (6, "s"), `seventh` (7, "th").
    OneSuffixed(u128, &'static str),
    Ten(u128),
    TenSuffixed(u128, &'static str),
    Multiplier(u128),
    MultiplierSuffixed(u128, &'static str),
    /// `minus`, `plus`, ...: a sign before a number.
    Preceding(&'static str),
    /// `dollars`, `cents`, ...: a currency after a number.
    Following(&'static str),
    /// `per` (needs `cent` next) or `percent`.
    Per,
    Percent,
    And,
    Double,
    Triple,
    Point,
}

fn ones_value(w: &str) -> Option<u128> {
    // one..nineteen: the corruption families' own cardinal words, less zero and twenty.
    CARDINALS[1..20].iter().position(|o| *o == w).map(|i| i as u128 + 1)
}

/// Whisper's number words (its `words` set) and what each means: a lookup in the table `kind_rules` fills.
/// The parser asks for every word of every text it normalises (several times over, for its neighbours),
/// and the rules below compare a word with some sixty names each time.
fn kind(w: &str) -> Option<Kind> {
    static TABLE: OnceLock<FxHashMap<String, Kind>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            number_word_candidates()
                .into_iter()
                .filter_map(|w| kind_rules(&w).map(|k| (w, k)))
                .collect()
        })
        .get(w)
        .copied()
}

/// Every word `kind_rules` can accept (and more): the names with each suffix the rules strip. The table is
/// complete because each rule below matches a name, or a name plus one of these suffixes.
fn number_word_candidates() -> Vec<String> {
    let mut names: Vec<&str> = CARDINALS[1..20].to_vec();
    names.extend([
        "o", "oh", "zero", "zeroth", "first", "second", "third", "fifth", "twelfth",
    ]);
    names.extend(TENS.iter().map(|(n, _)| *n));
    names.extend(MULTIPLIERS.iter().map(|(n, _)| *n));
    names.extend([
        "minus", "negative", "plus", "positive", "pound", "pounds", "euro", "euros", "dollar", "dollars", "cent",
        "cents", "per", "percent", "and", "double", "triple", "point",
    ]);
    let mut out = Vec::new();
    for n in names {
        for suffix in ["", "s", "es", "th", "h"] {
            out.push(format!("{n}{suffix}"));
        }
    }
    for (n, _) in TENS {
        let stem = &n[..n.len() - 1];
        out.push(format!("{stem}ies"));
        out.push(format!("{stem}ieth"));
    }
    out
}

/// The rules of Whisper's number words, read once per candidate by `kind`.
fn kind_rules(w: &str) -> Option<Kind> {
    if matches!(w, "o" | "oh" | "zero") {
        return Some(Kind::Zero);
    }
    if let Some(v) = ones_value(w) {
        return Some(Kind::One(v));
    }
    if w == "sixes" {
        return Some(Kind::OneSuffixed(6, "s"));
    }
    if let Some(base) = w.strip_suffix('s') {
        if base != "six" {
            if let Some(v) = ones_value(base) {
                return Some(Kind::OneSuffixed(v, "s"));
            }
        }
    }
    match w {
        "zeroth" => return Some(Kind::OneSuffixed(0, "th")),
        "first" => return Some(Kind::OneSuffixed(1, "st")),
        "second" => return Some(Kind::OneSuffixed(2, "nd")),
        "third" => return Some(Kind::OneSuffixed(3, "rd")),
        "fifth" => return Some(Kind::OneSuffixed(5, "th")),
        "twelfth" => return Some(Kind::OneSuffixed(12, "th")),
        _ => {}
    }
    // Other ordinals: name + "h" after a final t, else + "th" (so Whisper knows "nineth", not "ninth").
    let ordinal = w
        .strip_suffix("th")
        .filter(|b| !b.ends_with('t'))
        .and_then(ones_value)
        .or_else(|| w.strip_suffix('h').filter(|b| b.ends_with('t')).and_then(ones_value));
    if let Some(v) = ordinal {
        if v > 3 && v != 5 && v != 12 {
            return Some(Kind::OneSuffixed(v, "th"));
        }
    }
    for (name, v) in TENS {
        if w == name {
            return Some(Kind::Ten(v));
        }
        let stem = &name[..name.len() - 1];
        if w.strip_prefix(stem) == Some("ies") {
            return Some(Kind::TenSuffixed(v, "s"));
        }
        if w.strip_prefix(stem) == Some("ieth") {
            return Some(Kind::TenSuffixed(v, "th"));
        }
    }
    for (name, exp) in MULTIPLIERS {
        let v = 10u128.pow(exp);
        if w == name {
            return Some(Kind::Multiplier(v));
        }
        match w.strip_prefix(name) {
            Some("s") => return Some(Kind::MultiplierSuffixed(v, "s")),
            Some("th") => return Some(Kind::MultiplierSuffixed(v, "th")),
            _ => {}
        }
    }
    Some(match w {
        "minus" | "negative" => Kind::Preceding("-"),
        "plus" | "positive" => Kind::Preceding("+"),
        "pound" | "pounds" => Kind::Following("£"),
        "euro" | "euros" => Kind::Following("€"),
        "dollar" | "dollars" => Kind::Following("$"),
        "cent" | "cents" => Kind::Following("¢"),
        "per" => Kind::Per,
        "percent" => Kind::Percent,
        "and" => Kind::And,
        "double" => Kind::Double,
        "triple" => Kind::Triple,
        "point" => Kind::Point,
        _ => return None,
    })
}

fn is_ones(w: Option<&str>) -> bool {
    matches!(w.and_then(kind), Some(Kind::One(_)))
}
fn is_tens(w: Option<&str>) -> bool {
    matches!(w.and_then(kind), Some(Kind::Ten(_)))
}
fn is_multiplier(w: Option<&str>) -> bool {
    matches!(w.and_then(kind), Some(Kind::Multiplier(_)))
}
/// Whisper's `decimals`: units, tens and zeros (words that may follow `point`).
fn is_decimal(w: Option<&str>) -> bool {
    w.is_some_and(|w| matches!(kind(w), Some(Kind::Zero | Kind::One(_) | Kind::Ten(_))))
}

/// `^\d+(\.\d+)?$`.
fn is_numeric(w: &str) -> bool {
    let (int, frac) = match w.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (w, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// A decimal string as a fraction num / 10^k (Python's `Fraction(s)` for the strings this parser makes).
fn fraction(s: &str) -> Option<(u128, u128)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut num: u128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        num = num.checked_mul(10)?.checked_add((b - b'0') as u128)?;
    }
    Some((num, 10u128.checked_pow(frac.len() as u32)?))
}

/// The number being read: an integer, or a string of digits (a nominal such as "101", or a decimal).
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(u128),
    Str(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Str(s) => s.clone(),
        }
    }
}

/// Python's `str(value or "")`: nothing for no value, the integer 0 or the empty string.
fn or_empty(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Int(0)) => String::new(),
        Some(v) => v.text(),
    }
}

struct Parser {
    /// The words emitted so far, each after a space but the first (Whisper joins its output list with
    /// spaces; one string spares an allocation per word).
    out: String,
    emitted: usize,
    prefix: Option<&'static str>,
    value: Option<Value>,
}

impl Parser {
    fn emit(&mut self, s: impl AsRef<str>) {
        if self.emitted > 0 {
            self.out.push(' ');
        }
        self.emitted += 1;
        if let Some(p) = self.prefix.take() {
            self.out.push_str(p);
        }
        self.value = None;
        self.out.push_str(s.as_ref());
    }

    fn emit_value(&mut self) {
        if let Some(v) = self.value.take() {
            self.emit(v.text());
        }
    }

    /// `value` followed by `n` (+ `suffix`): added when the places are free (`twenty` + `one`), else written
    /// after it (`one` + `two` -> "12"). `modulus` is 10 for units, 100 for teens and tens.
    fn combine(value: u128, n: u128, modulus: u128) -> Value {
        if value.is_multiple_of(modulus) {
            value
                .checked_add(n)
                .map_or_else(|| Value::Str(format!("{value}{n}")), Value::Int)
        } else {
            Value::Str(format!("{value}{n}"))
        }
    }

    fn word(&mut self, prev: Option<&str>, current: &str, next: Option<&str>) -> bool {
        let next_is_numeric = next.is_some_and(is_numeric);
        let first = current.chars().next().unwrap_or(' ');
        let has_prefix = matches!(first, '-' | '+' | '£' | '€' | '$' | '¢');
        let bare = if has_prefix {
            &current[first.len_utf8()..]
        } else {
            current
        };
        if is_numeric(bare) {
            if let Some(v) = &self.value {
                if let Value::Str(s) = v {
                    if s.ends_with('.') {
                        self.value = Some(Value::Str(format!("{s}{current}")));
                        return false;
                    }
                }
                self.emit_value();
            }
            if has_prefix {
                self.prefix = Some(match first {
                    '-' => "-",
                    '+' => "+",
                    '£' => "£",
                    '€' => "€",
                    '$' => "$",
                    _ => "¢",
                });
            }
            self.value = Some(match fraction(bare) {
                Some((num, den)) if num % den == 0 => Value::Int(num / den),
                _ => Value::Str(bare.to_string()),
            });
            return false;
        }
        let Some(k) = kind(current) else {
            self.emit_value();
            self.emit(current);
            return false;
        };
        let is_str = matches!(self.value, Some(Value::Str(_)));
        match k {
            Kind::Zero => self.value = Some(Value::Str(or_empty(&self.value) + "0")),
            Kind::One(n) => {
                self.value = Some(match self.value.take() {
                    None => Value::Int(n),
                    Some(v) if is_str || is_ones(prev) => {
                        let s = v.text();
                        if is_tens(prev) && n < 10 && s.ends_with('0') {
                            Value::Str(format!("{}{n}", &s[..s.len() - 1]))
                        } else {
                            Value::Str(format!("{s}{n}"))
                        }
                    }
                    Some(Value::Int(v)) => Self::combine(v, n, if n < 10 { 10 } else { 100 }),
                    Some(v) => Value::Str(format!("{}{n}", v.text())),
                });
            }
            Kind::OneSuffixed(n, suffix) => {
                let text = match self.value.take() {
                    None => format!("{n}{suffix}"),
                    Some(v) if is_str || is_ones(prev) => {
                        let s = v.text();
                        if is_tens(prev) && n < 10 && s.ends_with('0') {
                            format!("{}{n}{suffix}", &s[..s.len() - 1])
                        } else {
                            format!("{s}{n}{suffix}")
                        }
                    }
                    Some(Value::Int(v)) => {
                        format!("{}{suffix}", Self::combine(v, n, if n < 10 { 10 } else { 100 }).text())
                    }
                    Some(v) => format!("{}{n}{suffix}", v.text()),
                };
                self.emit(text);
            }
            Kind::Ten(n) => {
                self.value = Some(match self.value.take() {
                    None => Value::Int(n),
                    Some(Value::Str(s)) => Value::Str(format!("{s}{n}")),
                    Some(Value::Int(v)) => Self::combine(v, n, 100),
                });
            }
            Kind::TenSuffixed(n, suffix) => {
                let text = match self.value.take() {
                    None => format!("{n}{suffix}"),
                    Some(Value::Str(s)) => format!("{s}{n}{suffix}"),
                    Some(Value::Int(v)) => format!("{}{suffix}", Self::combine(v, n, 100).text()),
                };
                self.emit(text);
            }
            Kind::Multiplier(m) => match self.value.take() {
                None => self.value = Some(Value::Int(m)),
                Some(v @ (Value::Str(_) | Value::Int(0))) => {
                    let scaled = fraction(&v.text())
                        .and_then(|(num, den)| num.checked_mul(m).filter(|p| p % den == 0).map(|p| p / den));
                    match scaled {
                        Some(p) => self.value = Some(Value::Int(p)),
                        None => {
                            self.value = Some(v);
                            self.emit_value();
                            self.value = Some(Value::Int(m));
                        }
                    }
                }
                Some(Value::Int(v)) => {
                    let scaled = (v % 1000).checked_mul(m).and_then(|r| (v / 1000 * 1000).checked_add(r));
                    match scaled {
                        Some(p) => self.value = Some(Value::Int(p)),
                        None => {
                            self.value = Some(Value::Int(v));
                            self.emit_value();
                            self.value = Some(Value::Int(m));
                        }
                    }
                }
            },
            Kind::MultiplierSuffixed(m, suffix) => match self.value.take() {
                None => self.emit(format!("{m}{suffix}")),
                Some(Value::Str(s)) => {
                    let scaled = fraction(&s)
                        .and_then(|(num, den)| num.checked_mul(m).filter(|p| p % den == 0).map(|p| p / den));
                    match scaled {
                        Some(p) => self.emit(format!("{p}{suffix}")),
                        None => {
                            self.emit(s);
                            self.emit(format!("{m}{suffix}"));
                        }
                    }
                }
                Some(Value::Int(v)) => {
                    let scaled = (v % 1000).checked_mul(m).and_then(|r| (v / 1000 * 1000).checked_add(r));
                    match scaled {
                        Some(p) => self.emit(format!("{p}{suffix}")),
                        None => {
                            self.emit(v.to_string());
                            self.emit(format!("{m}{suffix}"));
                        }
                    }
                }
            },
            Kind::Preceding(sign) => {
                self.emit_value();
                if next.is_some_and(|n| kind(n).is_some()) || next_is_numeric {
                    self.prefix = Some(sign);
                } else {
                    self.emit(current);
                }
            }
            Kind::Following(symbol) => {
                if self.value.is_some() {
                    self.prefix = Some(symbol);
                    self.emit_value();
                } else {
                    self.emit(current);
                }
            }
            Kind::Per | Kind::Percent => match self.value.take() {
                Some(v) if k == Kind::Percent => self.emit(format!("{}%", v.text())),
                Some(v) if next == Some("cent") => {
                    self.emit(format!("{}%", v.text()));
                    return true;
                }
                Some(v) => {
                    self.emit(v.text());
                    self.emit(current);
                }
                None => self.emit(current),
            },
            Kind::And | Kind::Double | Kind::Triple | Kind::Point => {
                if next.is_none_or(|n| kind(n).is_none()) && !next_is_numeric {
                    self.emit_value();
                    self.emit(current);
                } else if k == Kind::And {
                    if !is_multiplier(prev) {
                        self.emit_value();
                        self.emit(current);
                    }
                } else if k == Kind::Point {
                    if is_decimal(next) || next_is_numeric {
                        self.value = Some(Value::Str(or_empty(&self.value) + "."));
                    }
                } else {
                    let digit = match next.and_then(kind) {
                        Some(Kind::One(n)) => Some(n),
                        Some(Kind::Zero) => Some(0),
                        _ => None,
                    };
                    match digit {
                        Some(n) => {
                            let repeats = if k == Kind::Double { 2 } else { 3 };
                            let d = n.to_string().repeat(repeats);
                            self.value = Some(Value::Str(or_empty(&self.value) + &d));
                            return true;
                        }
                        None => {
                            self.emit_value();
                            self.emit(current);
                        }
                    }
                }
            }
        }
        false
    }
}

/// The number normaliser over a whole (lower-cased, symbol-stripped) text.
pub fn standardise(s: &str) -> String {
    let s = preprocess(s);
    let words: Vec<&str> = super::words(&s).collect();
    let mut p = Parser {
        out: String::with_capacity(s.len() + 8),
        emitted: 0,
        prefix: None,
        value: None,
    };
    let mut skip = false;
    for i in 0..words.len() {
        if std::mem::take(&mut skip) {
            continue;
        }
        let prev = i.checked_sub(1).map(|j| words[j]);
        skip = p.word(prev, words[i], words.get(i + 1).copied());
    }
    p.emit_value();
    postprocess(p.out)
}

/// Where `\band\s+a\s+half\b` occurs: (start, end) byte ranges.
fn and_a_half(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let word_at = |i: usize| s[i..].chars().next().is_some_and(super::is_word);
    let word_before = |i: usize| s[..i].chars().next_back().is_some_and(super::is_word);
    let mut from = 0;
    while let Some(off) = s[from..].find("and") {
        let start = from + off;
        from = start + 1;
        if word_before(start) {
            continue;
        }
        let mut i = start + 3;
        let ws = |i: &mut usize| {
            let st = *i;
            while *i < b.len() && s[*i..].starts_with(char::is_whitespace) {
                *i += s[*i..].chars().next().map_or(1, char::len_utf8);
            }
            *i > st
        };
        if !ws(&mut i) || !s[i..].starts_with('a') {
            continue;
        }
        i += 1;
        if !ws(&mut i) || !s[i..].starts_with("half") {
            continue;
        }
        i += 4;
        if word_at(i) {
            continue;
        }
        out.push((start, i));
        from = i;
    }
    out
}

fn preprocess(s: &str) -> String {
    let cuts = and_a_half(s);
    let s = if cuts.is_empty() {
        if s.trim().is_empty() {
            String::new()
        } else {
            s.to_string()
        }
    } else {
        let mut segments = Vec::new();
        let mut at = 0;
        for &(a, b) in &cuts {
            segments.push(&s[at..a]);
            at = b;
        }
        segments.push(&s[at..]);
        let last = segments.len() - 1;
        let mut results: Vec<&str> = Vec::new();
        for (i, seg) in segments.into_iter().enumerate() {
            if seg.trim().is_empty() {
                continue;
            }
            results.push(seg);
            if i != last {
                let last_word = seg.split_whitespace().next_back().unwrap_or("");
                results.push(if is_decimal(Some(last_word)) || is_multiplier(Some(last_word)) {
                    "point five"
                } else {
                    "and a half"
                });
            }
        }
        results.join(" ")
    };
    // A space at every letter/digit boundary, then suffixes joined back to their digits: nothing to do
    // in a text without digits.
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return s;
    }
    let mut spaced = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        if let Some(p) = prev {
            if (p.is_ascii_lowercase() && c.is_ascii_digit()) || (p.is_ascii_digit() && c.is_ascii_lowercase()) {
                spaced.push(' ');
            }
        }
        spaced.push(c);
        prev = Some(c);
    }
    join_suffixes(&spaced)
}

/// `([0-9])\s+(st|nd|rd|th|s)\b` -> `\1\2`.
fn join_suffixes(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        out.push(cs[i]);
        if cs[i].is_ascii_digit() {
            let mut j = i + 1;
            while j < cs.len() && cs[j].is_whitespace() {
                j += 1;
            }
            if j > i + 1 {
                for suffix in ["st", "nd", "rd", "th", "s"] {
                    let end = j + suffix.len();
                    if end <= cs.len()
                        && cs[j..end].iter().copied().eq(suffix.chars())
                        && !cs.get(end).is_some_and(|&c| super::is_word(c))
                    {
                        out.push_str(suffix);
                        i = end;
                        break;
                    }
                }
                if i >= j {
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// The currency and lone-one rewrites, each run only on a text with the character it starts from.
fn postprocess(s: String) -> String {
    let s = if s.contains('¢') { combine_cents(&s) } else { s };
    let s = if s.contains(['€', '£', '$']) {
        cents_only(&s)
    } else {
        s
    };
    if s.contains('1') {
        lone_ones(&s)
    } else {
        s
    }
}

fn digits_at(cs: &[char], i: usize) -> usize {
    cs[i.min(cs.len())..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\b` -> `{currency}{integer}.{cents:02}`.
fn combine_cents(s: &str) -> String {
    if !s.contains('¢') {
        return s.to_string();
    }
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if matches!(cs[i], '€' | '£' | '$') {
            let n = digits_at(&cs, i + 1);
            let mut j = i + 1 + n;
            if n > 0 && cs.get(j) == Some(&' ') {
                j += 1;
                let with_and = cs[j..].starts_with(&['a', 'n', 'd', ' ']);
                for k in [if with_and { j + 4 } else { j }, j] {
                    if cs.get(k) == Some(&'¢') {
                        let m = digits_at(&cs, k + 1);
                        if (1..=2).contains(&m) && !cs.get(k + 1 + m).is_some_and(|&c| super::is_word(c)) {
                            let int: String = cs[i + 1..i + 1 + n].iter().collect();
                            let cents: u32 = cs[k + 1..k + 1 + m].iter().collect::<String>().parse().unwrap_or(0);
                            let _ = write!(out, "{}{int}.{cents:02}", cs[i]);
                            i = k + 1 + m;
                            break;
                        }
                    }
                }
                if i >= j {
                    continue;
                }
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

/// `[€£$]0.([0-9]{1,2})\b` -> `¢{int(cents)}` (the `.` is any character, as in Whisper's pattern).
fn cents_only(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if matches!(cs[i], '€' | '£' | '$') && cs.get(i + 1) == Some(&'0') && cs.get(i + 2).is_some_and(|&c| c != '\n')
        {
            let m = digits_at(&cs, i + 3);
            // {1,2} is greedy and backtracks: try two digits, then one, each needing a word edge after.
            let fit = [2usize, 1]
                .into_iter()
                .find(|&k| k <= m && !cs.get(i + 3 + k).is_some_and(|&c| super::is_word(c)));
            if let Some(k) = fit {
                let cents: u32 = cs[i + 3..i + 3 + k].iter().collect::<String>().parse().unwrap_or(0);
                let _ = write!(out, "¢{cents}");
                i += 3 + k;
                continue;
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

/// `\b1(s?)\b` -> `one\1`.
fn lone_ones(s: &str) -> String {
    if !s.contains('1') {
        return s.to_string();
    }
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    let word = |i: usize| cs.get(i).is_some_and(|&c| super::is_word(c));
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '1' && (i == 0 || !word(i - 1)) {
            if cs.get(i + 1) == Some(&'s') && !word(i + 2) {
                out.push_str("ones");
                i += 2;
                continue;
            }
            if !word(i + 1) {
                out.push_str("one");
                i += 1;
                continue;
            }
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_table_agrees_with_the_rules() {
        let mut words = number_word_candidates();
        words.extend(
            [
                "",
                "sevens",
                "seventh",
                "eighth",
                "ninth",
                "nineth",
                "sixs",
                "twentys",
                "hundredths",
                "ands",
                "on",
                "tens",
            ]
            .map(String::from),
        );
        words.extend(crate::corrupt::number_words::CARDINALS.iter().map(|w| format!("{w}ty")));
        for w in &words {
            assert_eq!(kind(w), kind_rules(w), "{w}");
        }
    }

    #[test]
    fn number_words_become_digits() {
        assert_eq!(standardise("twenty one"), "21");
        assert_eq!(standardise("two hundred thousand"), "200000");
        assert_eq!(standardise("one oh one"), "101");
        assert_eq!(standardise("the nineteen sixties"), "the 1960s");
        assert_eq!(standardise("twenty first of march"), "21st of march");
        assert_eq!(standardise("fifty percent"), "50%");
        assert_eq!(standardise("twenty dollars"), "$20");
        assert_eq!(standardise("three and a half"), "3.5");
        assert_eq!(standardise("page 1"), "page one");
        assert_eq!(standardise("$2 and ¢7"), "$2.07");
    }
}
