//! A decoder's output judged as an extraction answer (the first JSON object, field by field) and
//! checked against the constrained-decoding grammar.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shakedown::engine::{Acceptance, OutputConstraint};
use shakedown::task::constraint::JsonFields;
use shakedown::task::extract::judge_fields;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let fields = vec!["action".to_string(), "place".to_string()];
    let want: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"action": "move", "place": null}"#).expect("fixed answer");
    let outcome = judge_fields(&fields, &want, text);
    assert_eq!(outcome.measures.len(), 5);
    let grammar = JsonFields::new(&[
        ("action".into(), Some(vec!["move".into(), "stop".into()])),
        ("place".into(), None),
    ]);
    // Whatever the grammar accepts as complete is a valid answer.
    if grammar.accepts(text) == Acceptance::Complete {
        assert_eq!(outcome.measures[4], 0.0, "{text:?}");
    }
});
