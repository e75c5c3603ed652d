//! A model folder: the safetensors header and tensor table, config.json and tokenizer.json, of a BERT
//! encoder (selectors 0-2), of a decoder (3-5, the committed tiny Llama checkpoint) and of a Phi-3
//! decoder whose fused tensors the source splits by rows (6-7: its config, its weights; the committed
//! tiny Phi-3), and the configs of Gemma 2 (8: soft caps, alternating layers) and SmolLM3 (9: NoPE
//! layers) beside their committed tiny checkpoints. The first byte picks the file the rest of the input
//! replaces; the folder's other files are small valid ones.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use shakedown::engine::{LanguageModel, Model, ModelFiles, ModelSource, Scheme};

const CONFIG: &str = r#"{"vocab_size": 8, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
"intermediate_size": 8, "max_position_embeddings": 16}"#;
const TOKENIZER: &str = r#"{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
"normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "move": 1, "left": 2}, "unk_token": "[UNK]"}}"#;
/// A safetensors file with no tensors: an 8-byte header length and `{}`.
const EMPTY_WEIGHTS: &[u8] = b"\x02\x00\x00\x00\x00\x00\x00\x00{}";

/// The tiny Llama decoder of the decoder tests (2 layers, hidden 32, BPE vocabulary of 384).
const DECODER_CONFIG: &[u8] = include_bytes!("../../tests/fixtures/tiny-llama/config.json");
const DECODER_TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-llama/tokenizer.json");
const DECODER_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/tiny-llama/model.safetensors");

/// The tiny Phi-3 (fused q/k/v and gate/up, LongRoPE, a window).
const PHI3_CONFIG: &[u8] = include_bytes!("../../tests/fixtures/tiny-phi3/config.json");
const PHI3_TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-phi3/tokenizer.json");
const PHI3_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/tiny-phi3/model.safetensors");

/// The tiny Gemma 2 and SmolLM3 checkpoints (their configs are fuzzed).
const GEMMA2_TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-gemma2/tokenizer.json");
const GEMMA2_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/tiny-gemma2/model.safetensors");
const SMOLLM3_TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-smollm3/tokenizer.json");
const SMOLLM3_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/tiny-smollm3/model.safetensors");

/// Folders of this process's own (tmpfs when there is one): (encoder, decoder).
fn dirs() -> &'static (PathBuf, PathBuf) {
    static D: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    D.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("shakedown-fuzz-model-{}", std::process::id()));
        let (enc, dec) = (d.join("encoder"), d.join("decoder"));
        std::fs::create_dir_all(&enc).expect("scratch folder");
        std::fs::create_dir_all(&dec).expect("scratch folder");
        (enc, dec)
    })
}

fn encoder(d: &Path, which: u8, rest: &[u8]) {
    let (weights, config, tokenizer): (&[u8], &[u8], &[u8]) = match which {
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
}

fn decoder(d: &Path, which: u8, rest: &[u8]) {
    let (weights, config, tokenizer): (&[u8], &[u8], &[u8]) = match which {
        3 => (DECODER_WEIGHTS, rest, DECODER_TOKENIZER),
        4 => (DECODER_WEIGHTS, DECODER_CONFIG, rest),
        5 => (rest, DECODER_CONFIG, DECODER_TOKENIZER),
        6 => (PHI3_WEIGHTS, rest, PHI3_TOKENIZER),
        7 => (rest, PHI3_CONFIG, PHI3_TOKENIZER),
        8 => (GEMMA2_WEIGHTS, rest, GEMMA2_TOKENIZER),
        _ => (SMOLLM3_WEIGHTS, rest, SMOLLM3_TOKENIZER),
    };
    std::fs::write(d.join("model.safetensors"), weights).expect("write");
    std::fs::write(d.join("config.json"), config).expect("write");
    std::fs::write(d.join("tokenizer.json"), tokenizer).expect("write");
    let Ok(source) = ModelSource::open(d) else { return };
    if let Ok(model) = Model::from_source(&source, Scheme::F32, &[]) {
        let _ = model.tokenize(&["move the pallet left, é 7"]);
    }
}

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (enc, dec) = dirs();
    match which % 10 {
        w @ 0..=2 => encoder(enc, w, rest),
        w => decoder(dec, w, rest),
    }
}
