//! A GGUF file end to end: the header and metadata parser, the decoder config, the tokenizer (GPT-2 BPE or
//! SentencePiece) and chat template from the metadata, the tensor table checked against the model's shapes,
//! then a short encode, a chat prompt and two greedy tokens through the weights as stored (`native`).

use std::path::PathBuf;
use std::sync::OnceLock;

use shakedown::engine::{ChatMessage, GenerateRequest, LanguageModel, Model, ModelSource, Sampling, Scheme};

/// A file of this process's own (tmpfs when there is one).
fn file() -> &'static PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("shakedown-fuzz-{}.gguf", std::process::id()))
    })
}

/// One input through the target (the libFuzzer binary and the CI pass of `tests/fuzz_pass.rs` both call it).
pub fn run(data: &[u8]) {
    let path = file();
    std::fs::write(path, data).expect("write");
    let Ok(source) = ModelSource::open(path) else { return };
    let Ok(model) = Model::from_source(&source, Scheme::Native, &[]) else {
        return;
    };
    let _ = model.tokenize(&["move the pallet left, é 7 <|im_end|>"]);
    let _ = model.chat_prompt(&[ChatMessage {
        role: "user".into(),
        content: "stop".into(),
    }]);
    let _ = model.generate(&[GenerateRequest {
        prompt: "move left".into(),
        max_tokens: 2,
        stop: Vec::new(),
        sampling: Sampling::Greedy,
        constraint: None,
    }]);
}
