//! A decoder's output judged as an extraction answer (the first JSON object, field by field) and
//! checked against the constrained-decoding grammar.

use shakedown::engine::{Acceptance, OutputConstraint};
use shakedown::task::constraint::JsonFields;
use shakedown::task::extract::judge_fields;

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let grammar = JsonFields::new(&[
        ("action".into(), Some(vec!["move".into(), "stop".into()])),
        ("place".into(), None),
    ]);
    let verdict = grammar.accepts(data);
    let Ok(text) = std::str::from_utf8(data) else {
        // Bytes that are not (yet) UTF-8 are never a complete answer.
        assert_ne!(verdict, Acceptance::Complete, "{data:?}");
        return;
    };
    let fields = vec!["action".to_string(), "place".to_string()];
    let want: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"action": "move", "place": null}"#).expect("fixed answer");
    let outcome = judge_fields(&fields, &want, text);
    assert_eq!(outcome.measures.len(), 5);
    // Whatever the grammar accepts as complete is a valid answer.
    if verdict == Acceptance::Complete {
        assert_eq!(outcome.measures[4], 0.0, "{text:?}");
    }
}
