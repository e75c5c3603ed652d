//! The JSON-lines files a suite brings (examples, corpus chunks, queries), read the same way
//! everywhere: blank lines skipped, a byte-order mark opening the file dropped (editors on Windows
//! write one), errors naming `file:line` once (serde's own "line 1" is the line's JSON, not the
//! file's), and texts that must hold words refused when they hold none.

use crate::error::{Error, Result};

/// The non-blank lines of `content` with their 1-based line numbers.
pub fn records(content: &str) -> impl Iterator<Item = (usize, &str)> {
    content
        .strip_prefix('\u{feff}')
        .unwrap_or(content)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (n + 1, l))
}

/// Parses one line as `T`; `at` is `file:line`, `what` what the line should hold.
pub fn parse<T: serde::de::DeserializeOwned>(line: &str, at: &str, what: &str) -> Result<T> {
    serde_json::from_str(line).map_err(|e| {
        let text = e.to_string();
        // "... at line 1 column 115": the column is the useful part on a one-line record.
        let message = match text.rfind(" at line ") {
            Some(i) => format!("{} (column {})", &text[..i], e.column()),
            None => text,
        };
        Error::input(at, format!("expected {what}: {message}"))
    })
}

/// Refuses a `field` whose text is empty or only white space: it would be embedded, corrupted and
/// scored as if it were an input.
pub fn non_blank(text: &str, field: &str, at: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::input(
            at,
            format!("field {field}: expected text, found an empty string"),
        ));
    }
    Ok(())
}

/// The longest text, in characters, a suite or `corrupt` takes as one input: beyond any small model's
/// context (8,192 tokens are some 32,000 characters of English), and measuring a variant's error rate
/// aligns it with its clean text, whose cost grows with the square of the length at a given error rate
/// (a 128,000-character line took 35 s a family; a 6.4 MB line would take days).
pub const MAX_TEXT_CHARS: usize = 32_768;

/// Refuses a `field` whose text is longer than `MAX_TEXT_CHARS`.
pub fn not_too_long(text: &str, field: &str, at: &str) -> Result<()> {
    // Bytes bound characters from above: count only when the bytes could exceed the limit.
    if text.len() > MAX_TEXT_CHARS && text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::input(
            at,
            format!(
                "field {field}: {} characters, more than the {MAX_TEXT_CHARS} one input may hold (split it into the \
                 sentences or passages the model reads)",
                text.chars().count()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Row {
        #[allow(dead_code)]
        id: String,
    }

    #[test]
    fn lines_skip_blanks_and_a_byte_order_mark_and_errors_name_the_column() {
        let got: Vec<(usize, &str)> = records("\u{feff}{\"id\":\"a\"}\n\n  \n{\"id\":\"b\"}\n").collect();
        assert_eq!(got, vec![(1, "{\"id\":\"a\"}"), (4, "{\"id\":\"b\"}")]);
        let err = parse::<Row>("{\"id\": 3}", "d.jsonl:7", "an object")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("d.jsonl:7") && err.contains("(column 8)") && !err.contains("line 1"),
            "{err}"
        );
        assert!(non_blank(" \t", "text", "d.jsonl:2").is_err());
        assert!(non_blank("move", "text", "d.jsonl:2").is_ok());
        // Characters, not bytes, are counted.
        assert!(not_too_long(&"é".repeat(MAX_TEXT_CHARS), "text", "d.jsonl:3").is_ok());
        let err = not_too_long(&"a".repeat(MAX_TEXT_CHARS + 1), "text", "d.jsonl:3").err();
        assert!(err.is_some_and(|e| e.to_string().contains("d.jsonl:3")));
    }
}
