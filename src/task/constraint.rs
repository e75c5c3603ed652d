//! Constrained decoding for extraction: the output must be a JSON object with the suite's fields in
//! order, each a string from its allowed values (any JSON string when the suite lists none) or
//! null, as llama.cpp's JSON-schema grammars constrain generation. One optional space is allowed
//! around `:` and `,` and inside the braces, so both `{"a": "x"}` and `{"a":"x"}` are accepted.
//!
//! The engine asks `accepts` for every candidate token's output; the check walks the grammar over
//! the whole output's bytes, linear in its length. Bytes, because a byte-level token may stop inside
//! a multi-byte character: "c" and the first byte of "é" are a prefix of `"café"` but of no other
//! value. Escapes are JSON's, without surrogate `\u` escapes, so every complete output parses as
//! JSON; an output that is not UTF-8 (but for a character still being written) is rejected.

use crate::engine::{Acceptance, OutputConstraint};

#[derive(Clone, Debug, PartialEq)]
enum Elem {
    /// Exactly this text.
    Lit(String),
    /// Zero or one space.
    Ws,
    /// One of these JSON literals (quoted strings, and `null`), or any JSON string or null when `None`.
    Value(Option<Vec<String>>),
}

/// The grammar of one suite's answers.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonFields {
    elems: Vec<Elem>,
}

/// What a walk found: the output can still grow into an accepted string, and/or is one already.
#[derive(Clone, Copy, Default)]
struct Reach {
    prefix: bool,
    complete: bool,
}

impl Reach {
    fn or(self, o: Reach) -> Reach {
        Reach {
            prefix: self.prefix || o.prefix,
            complete: self.complete || o.complete,
        }
    }
    const PREFIX: Reach = Reach {
        prefix: true,
        complete: false,
    };
    const NONE: Reach = Reach {
        prefix: false,
        complete: false,
    };
}

impl JsonFields {
    /// `fields` in order, each with its allowed values (None: any string).
    pub fn new(fields: &[(String, Option<Vec<String>>)]) -> Self {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
        let mut elems = vec![Elem::Lit("{".into()), Elem::Ws];
        for (i, (name, values)) in fields.iter().enumerate() {
            if i > 0 {
                elems.extend([Elem::Ws, Elem::Lit(",".into()), Elem::Ws]);
            }
            elems.extend([Elem::Lit(quote(name)), Elem::Ws, Elem::Lit(":".into()), Elem::Ws]);
            elems.push(Elem::Value(
                values
                    .as_ref()
                    .map(|v| v.iter().map(|s| quote(s)).chain(["null".to_string()]).collect()),
            ));
        }
        elems.extend([Elem::Ws, Elem::Lit("}".into())]);
        JsonFields { elems }
    }

    fn walk(&self, i: usize, s: &[u8]) -> Reach {
        let Some(elem) = self.elems.get(i) else {
            return Reach {
                prefix: false,
                complete: s.is_empty(),
            };
        };
        if s.is_empty() {
            return Reach::PREFIX;
        }
        match elem {
            Elem::Lit(l) => self.literal(i, l, s),
            Elem::Ws => {
                let skip = self.walk(i + 1, s);
                match s.strip_prefix(b" ") {
                    Some(rest) => skip.or(self.walk(i + 1, rest)),
                    None => skip,
                }
            }
            Elem::Value(Some(alts)) => alts.iter().fold(Reach::NONE, |r, l| r.or(self.literal(i, l, s))),
            Elem::Value(None) => {
                let string = match scan_string(s) {
                    Scan::Complete(n) => self.walk(i + 1, &s[n..]),
                    Scan::Partial => Reach::PREFIX,
                    Scan::Invalid => Reach::NONE,
                };
                string.or(self.literal(i, "null", s))
            }
        }
    }

    fn literal(&self, i: usize, l: &str, s: &[u8]) -> Reach {
        if let Some(rest) = s.strip_prefix(l.as_bytes()) {
            self.walk(i + 1, rest)
        } else if l.as_bytes().starts_with(s) {
            Reach::PREFIX
        } else {
            Reach::NONE
        }
    }
}

impl OutputConstraint for JsonFields {
    fn accepts(&self, output: &[u8]) -> Acceptance {
        // Only a character still being written may break UTF-8 (its first bytes at the very end);
        // the walk then judges them as bytes, and such an output cannot be complete.
        let whole = match std::str::from_utf8(output) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => false,
            Err(_) => return Acceptance::Rejected,
        };
        let r = self.walk(0, output);
        match (r.complete && whole, r.prefix) {
            (true, true) => Acceptance::CompleteOrPrefix,
            (true, false) => Acceptance::Complete,
            (false, true) => Acceptance::Prefix,
            (false, false) => Acceptance::Rejected,
        }
    }
}

enum Scan {
    /// A whole JSON string of this many bytes starts the text.
    Complete(usize),
    /// The text is a proper prefix of a JSON string.
    Partial,
    Invalid,
}

/// Scans a JSON string literal (RFC 8259: no control characters, escapes `\" \\ \/ \b \f \n \r \t \uXXXX`).
fn scan_string(b: &[u8]) -> Scan {
    if b.first() != Some(&b'"') {
        return Scan::Invalid;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Scan::Complete(i + 1),
            b'\\' => match b.get(i + 1) {
                None => return Scan::Partial,
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    for k in 0..4 {
                        match b.get(i + 2 + k) {
                            None => return Scan::Partial,
                            Some(c) if c.is_ascii_hexdigit() => {}
                            Some(_) => return Scan::Invalid,
                        }
                    }
                    // Surrogate escapes are refused: a lone one is not a character, and JSON
                    // parsers reject it (pairs are not needed: UTF-8 text is allowed as is).
                    let hex = std::str::from_utf8(&b[i + 2..i + 6]).unwrap_or("0");
                    let code = u32::from_str_radix(hex, 16).unwrap_or(0);
                    if (0xD800..=0xDFFF).contains(&code) {
                        return Scan::Invalid;
                    }
                    i += 6;
                }
                Some(_) => return Scan::Invalid,
            },
            c if c < 0x20 => return Scan::Invalid,
            _ => i += 1,
        }
    }
    Scan::Partial
}

#[cfg(test)]
mod tests {
    use super::*;
    use Acceptance::*;

    fn grammar() -> JsonFields {
        JsonFields::new(&[
            ("action".into(), Some(vec!["move".into(), "pick".into()])),
            ("place".into(), None),
        ])
    }

    #[test]
    fn accepts_the_canonical_and_the_compact_form_and_every_prefix() {
        let g = grammar();
        for full in [
            r#"{"action": "move", "place": "bay 7"}"#,
            r#"{"action":"pick","place":null}"#,
            r#"{ "action": null, "place": "a \"quoted\" \u00e9 place" }"#,
        ] {
            assert_eq!(g.accepts(full.as_bytes()), Complete, "{full}");
            for (i, _) in full.char_indices() {
                assert_eq!(g.accepts(&full.as_bytes()[..i]), Prefix, "{:?}", &full[..i]);
            }
        }
    }

    #[test]
    fn rejects_other_values_fields_orders_and_trailing_text() {
        let g = grammar();
        for bad in [
            r#"{"action": "drop""#,
            r#"{"place": "x""#,
            r#"{"action": "move", "place": "x"} "#,
            r#"{"action": "move", "place": "x"}}"#,
            "{\"action\": \"move\", \"place\": \"a\nb\"",
            r#"{"action": "move", "place": "\q"#,
            r#"{"action":  "move""#,
            " {",
            "[",
        ] {
            assert_eq!(g.accepts(bad.as_bytes()), Rejected, "{bad:?}");
        }
        assert_eq!(g.accepts("".as_bytes()), Prefix);
        assert_eq!(g.accepts(r#"{"action": "mo"#.as_bytes()), Prefix);
        assert_eq!(g.accepts(r#"{"action": n"#.as_bytes()), Prefix);
    }

    #[test]
    fn a_free_string_field_accepts_any_escaped_text_and_null() {
        let g = JsonFields::new(&[("number".into(), None)]);
        assert_eq!(g.accepts(r#"{"number": "7"}"#.as_bytes()), Complete);
        assert_eq!(g.accepts(r#"{"number": null}"#.as_bytes()), Complete);
        assert_eq!(
            g.accepts(r#"{"number": 7}"#.as_bytes()),
            Rejected,
            "values are strings or null"
        );
        assert_eq!(g.accepts(r#"{"number": "\u00"#.as_bytes()), Prefix);
        assert_eq!(g.accepts(r#"{"number": "\u00g"#.as_bytes()), Rejected);
        assert_eq!(
            g.accepts(r#"{"number": "\ud800"#.as_bytes()),
            Rejected,
            "no lone surrogates"
        );
    }

    /// A byte-level token may end inside a character: its first bytes are judged against the values
    /// they can still become, and bytes that are not UTF-8 are never accepted (they let anything after
    /// them through when only the complete characters were judged).
    #[test]
    fn a_character_cut_by_a_token_is_judged_by_its_bytes() {
        let g = JsonFields::new(&[("place".into(), Some(vec!["café".into(), "charger".into()]))]);
        let open = br#"{"place": "caf"#.to_vec();
        let e_acute = "é".as_bytes();
        let with = |tail: &[u8]| [open.as_slice(), tail].concat();
        assert_eq!(
            g.accepts(&with(&e_acute[..1])),
            Prefix,
            "the first byte of é leads to café"
        );
        assert_eq!(g.accepts(&with(e_acute)), Prefix);
        assert_eq!(
            g.accepts(&with("è".as_bytes())),
            Rejected,
            "another accented letter is no value"
        );
        assert_eq!(
            g.accepts(&with(&"è".as_bytes()[..1])),
            Prefix,
            "è and é share their first byte"
        );
        assert_eq!(
            g.accepts(&with(&"ж".as_bytes()[..1])),
            Rejected,
            "no value goes on with ж"
        );
        // "c" then a lone continuation byte: no value, whatever follows.
        let stray = [br#"{"place": "c"#.as_slice(), &[0x80]].concat();
        assert_eq!(g.accepts(&stray), Rejected);
        assert_eq!(g.accepts(&[stray.as_slice(), b"harger\"}"].concat()), Rejected);
        assert_eq!(g.accepts("{\"place\": \"café\"}".as_bytes()), Complete);

        let free = JsonFields::new(&[("place".into(), None)]);
        let cut = [br#"{"place": "a"#.as_slice(), &"ж".as_bytes()[..1]].concat();
        assert_eq!(free.accepts(&cut), Prefix, "any character may follow in a free string");
        let invalid = [br#"{"place": "a"#.as_slice(), &[0xff], br#""}"#].concat();
        assert_eq!(free.accepts(&invalid), Rejected, "not UTF-8");
        assert_eq!(
            free.accepts(&[cut.as_slice(), br#""}"#].concat()),
            Rejected,
            "the character was never finished"
        );
    }
}
