//! A model folder: the safetensors header and tensor table, config.json and tokenizer.json. The
//! first byte picks the file the rest of the input replaces; the other two are small valid ones.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shakedown::engine::{Model, ModelFiles, Scheme};

const CONFIG: &str = r#"{"vocab_size": 8, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
"intermediate_size": 8, "max_position_embeddings": 16}"#;
const TOKENIZER: &str = r#"{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
"normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "move": 1, "left": 2}, "unk_token": "[UNK]"}}"#;
/// A safetensors file with no tensors: an 8-byte header length and `{}`.
const EMPTY_WEIGHTS: &[u8] = b"\x02\x00\x00\x00\x00\x00\x00\x00{}";

/// A folder of this process's own (tmpfs when there is one).
fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("shakedown-fuzz-model-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch folder");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let d = dir();
    let (weights, config, tokenizer): (&[u8], &[u8], &[u8]) = match which % 3 {
        0 => (rest, CONFIG.as_bytes(), TOKENIZER.as_bytes()),
        1 => (EMPTY_WEIGHTS, rest, TOKENIZER.as_bytes()),
        _ => (EMPTY_WEIGHTS, CONFIG.as_bytes(), rest),
    };
    std::fs::write(d.join("model.safetensors"), weights).expect("write");
    std::fs::write(d.join("config.json"), config).expect("write");
    std::fs::write(d.join("tokenizer.json"), tokenizer).expect("write");
    if let Ok(files) = ModelFiles::load(d) {
        // Shapes are checked against the config before any weight is used.
        if let Ok(model) = Model::build(&files, Scheme::F32) {
            let _ = model.tokenize(&["move left"]);
        }
    }
});
