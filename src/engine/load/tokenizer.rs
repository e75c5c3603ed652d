//! Decoder tokenizers: from a GGUF file's `tokenizer.ggml.*` metadata (GPT-2 byte-level BPE as SmolLM2
//! and Qwen2 use; SentencePiece-style score merging as Gemma and Llama 2 use) or from a Hugging Face
//! `tokenizer.json`.
//!
//! The GGUF path follows llama.cpp's `llama-vocab.cpp` so that token ids equal llama.cpp's: special
//! tokens (control, user-defined, unknown) are cut out of the text first, longest first, and the
//! fragments between them are tokenised on their own; control tokens only when special parsing is on.
//! Byte-level BPE splits words with the `tokenizers` crate's pre-tokenizer llama.cpp uses for the file's
//! `tokenizer.ggml.pre` and merges them in `byte_bpe` (the crate's BPE model costs memory a GGUF
//! vocabulary does not need); SentencePiece merging (highest-score bigram first, leftmost on ties, byte
//! fallback for what no token covers) is implemented here. `tokenizer.json` files stay with the crate.

use std::collections::{BinaryHeap, HashMap};
use std::path::Path;

use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::SplitDelimiterBehavior;

use super::byte_bpe::ByteBpe;
use super::gguf::{GgufFile, Value};
use crate::error::{Error, Result};

/// What a token is, from GGUF's `tokenizer.ggml.token_type` (llama.cpp's `llama_token_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl TokenKind {
    fn from_gguf(v: i64) -> Self {
        match v {
            2 => TokenKind::Unknown,
            3 => TokenKind::Control,
            4 => TokenKind::UserDefined,
            5 => TokenKind::Unused,
            6 => TokenKind::Byte,
            _ => TokenKind::Normal,
        }
    }
}

/// The algorithm that splits a text fragment into tokens.
enum Splitter {
    /// Byte-level BPE with a pre-tokenizer (GGUF `gpt2` models), no added tokens: specials are cut out first.
    Bpe(Box<ByteBpe>),
    /// SentencePiece-style merging by token score (GGUF `llama` models).
    Spm {
        index: HashMap<String, u32>,
        scores: Vec<f32>,
        byte_tokens: Box<[Option<u32>; 256]>,
    },
    /// A Hugging Face tokenizer.json, used whole (it handles its own added tokens).
    HuggingFace(Box<tokenizers::Tokenizer>),
}

/// A decoder's tokenizer.
/// Every token's bytes in one buffer: 49k (SmolLM2) to 262k (Gemma 3) separate `Vec`s cost 40 bytes
/// each beside their text.
#[derive(Clone, Debug, Default)]
struct Pieces {
    bytes: Vec<u8>,
    /// End of each token's bytes.
    ends: Vec<usize>,
}

impl Pieces {
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Token `id`'s bytes (none past the vocabulary).
    fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let Some(&end) = self.ends.get(i) else {
            return &[];
        };
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        &self.bytes[start..end]
    }
}

impl FromIterator<Vec<u8>> for Pieces {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> Self {
        let mut p = Pieces::default();
        for piece in iter {
            p.bytes.extend_from_slice(&piece);
            p.ends.push(p.bytes.len());
        }
        p
    }
}

pub struct Tokenizer {
    splitter: Splitter,
    /// Bytes each token stands for when detokenised (control tokens: their text).
    pieces: Pieces,
    kinds: Vec<TokenKind>,
    /// Control, user-defined and unknown tokens, longest text first (llama.cpp's partition order).
    specials: Vec<(String, u32)>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// Tokens that end a generation: the end-of-sequence token and end-of-turn tokens.
    pub end_of_generation: Vec<u32>,
    add_bos: bool,
    add_eos: bool,
    add_space_prefix: bool,
}

/// Texts of tokens llama.cpp treats as end of generation (end of turn) besides the EOS token.
const END_OF_TURN: [&str; 8] = [
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|eom_id|>",
    "<EOT>",
];

/// GPT-2's byte <-> printable character map: bytes that are printable Latin-1 map to themselves, the
/// others to 256 + n in byte order (Radford et al., 2019, `bytes_to_unicode`).
pub(super) fn byte_level_chars() -> [char; 256] {
    let mut map = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..256u32 {
        let printable = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        map[b as usize] = if printable {
            char::from_u32(b).unwrap_or('\0')
        } else {
            n += 1;
            char::from_u32(255 + n).unwrap_or('\0')
        };
    }
    map
}

/// Bytes of a byte-level BPE token's text (`Ġhello` -> ` hello`); `None` when a character is outside
/// the byte-level alphabet.
fn byte_level_decode(text: &str, inverse: &HashMap<char, u8>) -> Option<Vec<u8>> {
    text.chars().map(|c| inverse.get(&c).copied()).collect()
}

/// Bytes of a SentencePiece token's text: `▁` is a space, `<0xAB>` byte tokens are that byte.
fn spm_piece(text: &str, kind: TokenKind) -> Vec<u8> {
    if kind == TokenKind::Byte {
        if let Some(hex) = text.strip_prefix("<0x").and_then(|t| t.strip_suffix('>')) {
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                return vec![b];
            }
        }
    }
    text.replace('\u{2581}', " ").into_bytes()
}

/// llama.cpp's pre-tokenizer regexes by `tokenizer.ggml.pre` (llama-vocab.cpp, `llm_tokenizer_bpe`).
pub(super) fn pre_tokenizer(pre: &str, origin: &str) -> Result<PreTokenizerWrapper> {
    const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    // OpenAI's o200k split (GPT-4o; Phi-4-mini, Llama 4): cased word pieces with an optional contraction,
    // numbers in threes; as published in those models' tokenizer.json.
    const GPT4O: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    let byte_level = |regex: bool| PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, regex));
    let split = |re: &str| -> Result<PreTokenizerWrapper> {
        Split::new(SplitPattern::Regex(re.into()), SplitDelimiterBehavior::Isolated, false)
            .map(PreTokenizerWrapper::Split)
            .map_err(|e| Error::Internal(format!("pre-tokenizer regex: {e}")))
    };
    Ok(match pre {
        // GPT-2's regex (ByteLevel's own).
        "gpt2" | "default" | "mpt" | "olmo" | "jais" => byte_level(true),
        // Digits one by one, then GPT-2's regex.
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva" => {
            PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                byte_level(true),
            ]))
        }
        "llama3" | "llama-bpe" | "llama-v3" | "dbrx" | "smaug-bpe" => {
            PreTokenizerWrapper::Sequence(Sequence::new(vec![split(LLAMA3)?, byte_level(false)]))
        }
        "qwen2" | "stablelm2" | "hunyuan" => {
            PreTokenizerWrapper::Sequence(Sequence::new(vec![split(QWEN2)?, byte_level(false)]))
        }
        "gpt-4o" | "llama4" => PreTokenizerWrapper::Sequence(Sequence::new(vec![split(GPT4O)?, byte_level(false)])),
        other => {
            // Unknown pre-tokenizers fall back to nothing silently in no tool we trust: refuse.
            let _ = GPT2;
            return Err(Error::input(
                origin,
                format!(
                    "metadata tokenizer.ggml.pre: pre-tokenizer \"{other}\" is not supported (known: gpt2, smollm, starcoder, llama3, llama-bpe, qwen2, gpt-4o, ...)"
                ),
            ));
        }
    })
}

fn string_array<'a>(file: &'a GgufFile, key: &str) -> Result<Vec<&'a str>> {
    let origin = file.path.display();
    let value = file.get(key).ok_or_else(|| {
        Error::input(
            &origin,
            format!("missing tokenizer: metadata {key} (an array of strings) is absent"),
        )
    })?;
    let list = value
        .as_strings()
        .ok_or_else(|| Error::input(&origin, format!("metadata {key}: expected an array of strings")))?;
    Ok(list.iter().collect())
}

fn token_id(file: &GgufFile, key: &str, vocab: usize) -> Result<Option<u32>> {
    match file.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(id) if (id as usize) < vocab => Ok(Some(id as u32)),
            // Some converters write -1 for "none".
            _ if matches!(v, Value::I32(-1) | Value::I64(-1)) => Ok(None),
            _ => Err(Error::input(
                file.path.display(),
                format!("metadata {key}: {v} is not a token id below the vocabulary size {vocab}"),
            )),
        },
    }
}

/// Reads a Hugging Face `tokenizer.json` with the `tokenizers` crate, which panics on some malformed
/// files (a `decoder` object without a type hits an `expect`): the parse runs under `catch_unwind`, so
/// that a panic becomes an input error naming the file.
pub fn read_tokenizer_json(path: &Path) -> Result<tokenizers::Tokenizer> {
    let text = crate::error::read_to_string(path)?;
    match std::panic::catch_unwind(|| text.parse::<tokenizers::Tokenizer>()) {
        Ok(Ok(tk)) => Ok(tk),
        Ok(Err(e)) => Err(Error::input(path.display(), format!("not a valid tokenizer: {e}"))),
        Err(_) => Err(Error::input(
            path.display(),
            "not a valid tokenizer (the tokenizers library failed on its contents)",
        )),
    }
}

impl Tokenizer {
    /// The tokenizer a GGUF file describes.
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let origin = file.path.display().to_string();
        let model = file
            .get("tokenizer.ggml.model")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::input(&origin, "missing tokenizer: metadata tokenizer.ggml.model is absent"))?;
        let tokens = string_array(file, "tokenizer.ggml.tokens")?;
        let n = tokens.len();
        if n == 0 {
            return Err(Error::input(&origin, "metadata tokenizer.ggml.tokens is empty"));
        }
        let kinds: Vec<TokenKind> = match file.get("tokenizer.ggml.token_type").and_then(Value::as_array) {
            Some(types) if types.len() == n => types
                .iter()
                .map(|t| TokenKind::from_gguf(t.as_f64().unwrap_or(1.0) as i64))
                .collect(),
            Some(types) => {
                return Err(Error::input(
                    &origin,
                    format!(
                        "metadata tokenizer.ggml.token_type has {} entries, the vocabulary {n}",
                        types.len()
                    ),
                ))
            }
            None => vec![TokenKind::Normal; n],
        };
        let flag = |key: &str, default: bool| file.get(key).and_then(Value::as_bool).unwrap_or(default);
        let (splitter, pieces, default_add_bos, add_space_prefix) = match model {
            "gpt2" => {
                let chars = byte_level_chars();
                let inverse: HashMap<char, u8> = chars.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();
                let merges = string_array(file, "tokenizer.ggml.merges")?;
                let pre = file
                    .get("tokenizer.ggml.pre")
                    .and_then(Value::as_str)
                    .unwrap_or("default");
                let bpe = ByteBpe::new(&tokens, &merges, pre_tokenizer(pre, &origin)?, &chars, &origin)?;
                let pieces = tokens
                    .iter()
                    .zip(&kinds)
                    .map(|(t, k)| match k {
                        TokenKind::Normal | TokenKind::Byte => {
                            byte_level_decode(t, &inverse).unwrap_or_else(|| t.as_bytes().to_vec())
                        }
                        _ => t.as_bytes().to_vec(),
                    })
                    .collect();
                (Splitter::Bpe(Box::new(bpe)), pieces, false, false)
            }
            "llama" => {
                let scores: Vec<f32> = match file.get("tokenizer.ggml.scores").and_then(Value::as_array) {
                    Some(s) if s.len() == n => s.iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect(),
                    _ => {
                        return Err(Error::input(
                            &origin,
                            "missing tokenizer: metadata tokenizer.ggml.scores (one per token) is absent or the wrong length",
                        ))
                    }
                };
                let index: HashMap<String, u32> = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.to_string(), i as u32))
                    .collect();
                let mut byte_tokens = Box::new([None; 256]);
                for (b, slot) in byte_tokens.iter_mut().enumerate() {
                    *slot = index.get(&format!("<0x{b:02X}>")).copied();
                }
                let pieces = tokens.iter().zip(&kinds).map(|(t, &k)| spm_piece(t, k)).collect();
                (
                    Splitter::Spm {
                        index,
                        scores,
                        byte_tokens,
                    },
                    pieces,
                    true,
                    true,
                )
            }
            other => {
                return Err(Error::input(
                    &origin,
                    format!("metadata tokenizer.ggml.model: tokenizer \"{other}\" is not supported (gpt2 or llama)"),
                ))
            }
        };
        let bos = token_id(file, "tokenizer.ggml.bos_token_id", n)?;
        let eos = token_id(file, "tokenizer.ggml.eos_token_id", n)?;
        let add_bos = flag("tokenizer.ggml.add_bos_token", default_add_bos) && bos.is_some();
        let add_eos = flag("tokenizer.ggml.add_eos_token", false) && eos.is_some();
        let add_space_prefix = flag("tokenizer.ggml.add_space_prefix", add_space_prefix);
        let mut specials: Vec<(String, u32)> = tokens
            .iter()
            .zip(&kinds)
            .enumerate()
            .filter(|(_, (t, k))| {
                !t.is_empty() && matches!(k, TokenKind::Control | TokenKind::UserDefined | TokenKind::Unknown)
            })
            .map(|(i, (t, _))| (t.to_string(), i as u32))
            .collect();
        // Longest first; equal lengths by id so the order is defined.
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let mut end_of_generation: Vec<u32> = eos.into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            if END_OF_TURN.contains(t) && !end_of_generation.contains(&(i as u32)) {
                end_of_generation.push(i as u32);
            }
        }
        Ok(Tokenizer {
            splitter,
            pieces,
            kinds,
            specials,
            bos,
            eos,
            end_of_generation,
            add_bos,
            add_eos,
            add_space_prefix,
        })
    }

    /// A Hugging Face `tokenizer.json` (with `tokenizer_config.json` beside it, when present, for the
    /// BOS/EOS flags).
    pub fn from_tokenizer_json(path: &Path) -> Result<Self> {
        let tk = read_tokenizer_json(path)?;
        let n = tk.get_vocab_size(true);
        let mut texts = vec![String::new(); n];
        for (t, id) in tk.get_vocab(true) {
            if let Some(slot) = texts.get_mut(id as usize) {
                *slot = t;
            }
        }
        let added = tk.get_added_tokens_decoder();
        let mut kinds = vec![TokenKind::Normal; n];
        let mut specials = Vec::new();
        for (id, tok) in &added {
            if let Some(k) = kinds.get_mut(*id as usize) {
                *k = if tok.special {
                    TokenKind::Control
                } else {
                    TokenKind::UserDefined
                };
            }
            specials.push((tok.content.clone(), *id));
        }
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let byte_level = matches!(tk.get_decoder(), Some(tokenizers::DecoderWrapper::ByteLevel(_)));
        let chars = byte_level_chars();
        let inverse: HashMap<char, u8> = chars.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();
        let pieces = texts
            .iter()
            .zip(&kinds)
            .map(|(t, &k)| {
                if k != TokenKind::Normal {
                    t.as_bytes().to_vec()
                } else if byte_level {
                    byte_level_decode(t, &inverse).unwrap_or_else(|| t.as_bytes().to_vec())
                } else {
                    let kind = if t.starts_with("<0x") && t.len() == 6 {
                        TokenKind::Byte
                    } else {
                        k
                    };
                    spm_piece(t, kind)
                }
            })
            .collect();
        // BOS/EOS: tokenizer_config.json names them; the post-processor decides whether BOS is added.
        let config: Option<serde_json::Value> = path
            .parent()
            .map(|d| d.join("tokenizer_config.json"))
            .filter(|p| p.exists())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str(&s).ok());
        let named = |field: &str| -> Option<u32> {
            let v = config.as_ref()?.get(field)?;
            let text = v.as_str().or_else(|| v.get("content").and_then(|c| c.as_str()))?;
            tk.token_to_id(text)
        };
        let bos = named("bos_token");
        let eos = named("eos_token");
        let mut end_of_generation: Vec<u32> = eos.into_iter().collect();
        for (i, t) in texts.iter().enumerate() {
            if END_OF_TURN.contains(&t.as_str()) && !end_of_generation.contains(&(i as u32)) {
                end_of_generation.push(i as u32);
            }
        }
        Ok(Tokenizer {
            splitter: Splitter::HuggingFace(Box::new(tk)),
            pieces,
            kinds,
            specials,
            bos,
            eos,
            end_of_generation,
            add_bos: false,
            add_eos: false,
            add_space_prefix: false,
        })
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.pieces.len()
    }

    /// The bytes token `id` stands for in generated text (control tokens: none).
    pub fn piece(&self, id: u32) -> &[u8] {
        match self.kinds.get(id as usize) {
            Some(TokenKind::Control) | Some(TokenKind::Unknown) | Some(TokenKind::Unused) | None => &[],
            _ => self.pieces.get(id),
        }
    }

    /// Text of a token sequence (control tokens left out; invalid UTF-8 replaced).
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.piece(id).iter().copied()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Text of a token sequence with control tokens written out (`<|im_start|>`), as llama.cpp
    /// detokenizes with special tokens rendered: for showing a model's raw output.
    pub fn render(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| match self.kinds.get(id as usize) {
                Some(TokenKind::Control) => self.pieces.get(id),
                _ => self.piece(id),
            })
            .copied()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Token ids of `text`: with `add_special` the model's BOS (and EOS) as it asks; with
    /// `parse_special`, control tokens written in the text (`<|im_start|>`) become those tokens.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Result<Vec<u32>> {
        if let Splitter::HuggingFace(tk) = &self.splitter {
            let enc = tk
                .encode(text, add_special)
                .map_err(|e| Error::Internal(format!("tokenizer failed: {e}")))?;
            return Ok(enc.get_ids().to_vec());
        }
        let mut out = Vec::new();
        if add_special && self.add_bos {
            out.extend(self.bos);
        }
        let mut prev_special = true;
        for fragment in self.partition(text, parse_special) {
            match fragment {
                Fragment::Token(id) => {
                    out.push(id);
                    prev_special = true;
                }
                Fragment::Text(t) => {
                    match &self.splitter {
                        Splitter::Bpe(bpe) => bpe.encode(t, &mut out)?,
                        Splitter::Spm { .. } => {
                            let mut s = String::with_capacity(t.len() + 3);
                            if self.add_space_prefix && prev_special {
                                s.push(' ');
                            }
                            s.push_str(t);
                            self.spm_encode(&s.replace(' ', "\u{2581}"), &mut out);
                        }
                        Splitter::HuggingFace(_) => {}
                    }
                    prev_special = false;
                }
            }
        }
        if add_special && self.add_eos {
            out.extend(self.eos);
        }
        Ok(out)
    }

    /// The text cut at special tokens (llama.cpp's `tokenizer_st_partition`): each special token,
    /// longest first, splits every text fragment where it occurs.
    fn partition<'t>(&self, text: &'t str, parse_special: bool) -> Vec<Fragment<'t>> {
        let mut fragments = if text.is_empty() {
            Vec::new()
        } else {
            vec![Fragment::Text(text)]
        };
        for (special, id) in &self.specials {
            let kind = self.kinds[*id as usize];
            if !parse_special && matches!(kind, TokenKind::Control | TokenKind::Unknown) {
                continue;
            }
            let mut next = Vec::with_capacity(fragments.len());
            for f in fragments {
                match f {
                    Fragment::Text(mut t) => {
                        while let Some(at) = t.find(special.as_str()) {
                            if at > 0 {
                                next.push(Fragment::Text(&t[..at]));
                            }
                            next.push(Fragment::Token(*id));
                            t = &t[at + special.len()..];
                        }
                        if !t.is_empty() {
                            next.push(Fragment::Text(t));
                        }
                    }
                    token => next.push(token),
                }
            }
            fragments = next;
        }
        fragments
    }

    /// SentencePiece-style merging (llama.cpp `llm_tokenizer_spm`): start from UTF-8 characters,
    /// repeatedly merge the adjacent pair whose concatenation is the highest-scoring token (leftmost
    /// on ties), then emit each symbol's token, or its bytes' tokens where no token matches.
    fn spm_encode(&self, text: &str, out: &mut Vec<u32>) {
        let Splitter::Spm {
            index,
            scores,
            byte_tokens,
        } = &self.splitter
        else {
            return;
        };
        // Symbols as byte ranges in a linked list.
        let mut start: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let count = start.len();
        if count == 0 {
            return;
        }
        start.push(text.len());
        let mut len: Vec<usize> = (0..count).map(|i| start[i + 1] - start[i]).collect();
        let mut prev: Vec<isize> = (0..count as isize).map(|i| i - 1).collect();
        let mut next: Vec<isize> = (0..count as isize)
            .map(|i| if i + 1 == count as isize { -1 } else { i + 1 })
            .collect();
        #[derive(PartialEq)]
        struct Bigram {
            score: f32,
            left: usize,
            right: usize,
            size: usize,
        }
        impl Eq for Bigram {}
        impl PartialOrd for Bigram {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Bigram {
            // Highest score first, then leftmost.
            fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                self.score.total_cmp(&o.score).then_with(|| o.left.cmp(&self.left))
            }
        }
        let mut queue = BinaryHeap::new();
        let start_ref = &start;
        let try_add = |left: isize, right: isize, len: &Vec<usize>, queue: &mut BinaryHeap<Bigram>| {
            if left < 0 || right < 0 {
                return;
            }
            let (l, r) = (left as usize, right as usize);
            let s = &text[start_ref[l]..start_ref[l] + len[l] + len[r]];
            if let Some(&id) = index.get(s) {
                queue.push(Bigram {
                    score: scores[id as usize],
                    left: l,
                    right: r,
                    size: s.len(),
                });
            }
        };
        for i in 1..count {
            try_add(i as isize - 1, i as isize, &len, &mut queue);
        }
        while let Some(b) = queue.pop() {
            if len[b.left] == 0 || len[b.right] == 0 || len[b.left] + len[b.right] != b.size {
                continue;
            }
            len[b.left] += len[b.right];
            len[b.right] = 0;
            next[b.left] = next[b.right];
            if next[b.right] >= 0 {
                prev[next[b.right] as usize] = b.left as isize;
            }
            try_add(prev[b.left], b.left as isize, &len, &mut queue);
            try_add(b.left as isize, next[b.left], &len, &mut queue);
        }
        // Every merge made a token, so a final symbol is a token or a single character that is not
        // one: that falls back to its bytes' tokens.
        let mut i = 0isize;
        while i >= 0 {
            let u = i as usize;
            let piece = &text[start[u]..start[u] + len[u]];
            match index.get(piece) {
                Some(&id) => out.push(id),
                None => out.extend(piece.bytes().filter_map(|b| byte_tokens[b as usize])),
            }
            i = next[u];
        }
    }
}

enum Fragment<'t> {
    Text(&'t str),
    Token(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `model_files` fuzz target: `tokenizers` panics (`expect("Helper")`) on a decoder
    /// object without a type; it must be an input error naming the file.
    #[test]
    fn a_tokenizer_json_the_library_panics_on_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let json = |decoder: &str| {
            format!(
                r#"{{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
                "pre_tokenizer": null, "post_processor": null, "decoder": {decoder},
                "model": {{"type": "WordLevel", "vocab": {{"[UNK]": 0, "a": 1}}, "unk_token": "[UNK]"}}}}"#
            )
        };
        std::fs::write(&path, json("null")).unwrap();
        assert!(read_tokenizer_json(&path).is_ok());
        std::fs::write(&path, json(r###"{"prefix": "##"}"###)).unwrap();
        let err = read_tokenizer_json(&path).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer.json") && err.contains("not a valid tokenizer"),
            "{err}"
        );
    }

    #[test]
    fn byte_level_map_is_a_bijection() {
        let chars = byte_level_chars();
        let mut seen = std::collections::HashSet::new();
        for c in chars {
            assert!(seen.insert(c));
        }
        assert_eq!(chars[b' ' as usize], 'Ġ');
        assert_eq!(chars[b'\n' as usize], 'Ċ');
        assert_eq!(chars[b'a' as usize], 'a');
    }

    #[test]
    fn spm_pieces_unescape_spaces_and_bytes() {
        assert_eq!(spm_piece("\u{2581}hello", TokenKind::Normal), b" hello");
        assert_eq!(spm_piece("<0x0A>", TokenKind::Byte), b"\n");
        assert_eq!(spm_piece("<0x0A>", TokenKind::Normal), b"<0x0A>");
    }
}
