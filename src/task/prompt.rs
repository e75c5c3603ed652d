//! The prompt a decoder reads: the suite's minijinja template over the input `text`, the
//! `fewshot` examples (`{text, answer}`) and, for retrieval-augmented answers, the `chunks` the
//! decoder reads (`{id, title, text}`), with the optional system message, rendered through the
//! model's chat template when the suite asks for it and the model has one.

use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::engine::{ChatMessage, LanguageModel};
use crate::error::{Error, Result};
use crate::suite::{Example, PromptSection, Suite};

/// Template instructions one prompt may execute (a few-shot loop over hundreds of examples needs
/// thousands).
const FUEL: u64 = 200_000;

/// One few-shot example as the template sees it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Shot {
    pub text: String,
    pub answer: String,
}

/// One chunk of context as the template sees it (rag).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ContextChunk {
    pub id: String,
    /// The chunk's title, or empty.
    pub title: String,
    pub text: String,
}

/// A compiled prompt, bound to a model's chat template once `bind` has seen the model.
#[derive(Clone)]
pub struct Prompt {
    template: String,
    system: Option<String>,
    fewshot: Vec<Shot>,
    /// Whether the model's chat template wraps the rendered text.
    chat: bool,
    chat_model: Option<ChatTemplate>,
    /// suite.toml, for errors.
    origin: String,
}

/// The model's chat template, probed once: the prompt is `prefix + user text + suffix`, which holds
/// for chat templates that do not transform the message text.
#[derive(Clone)]
struct ChatTemplate {
    prefix: String,
    suffix: String,
}

impl Prompt {
    /// The suite's `[prompt]` (or the default `{{ text }}`), its first `fewshot` examples answered
    /// by `answer`, bound to `model`'s chat template.
    pub fn from_suite(suite: &Suite, model: &dyn LanguageModel, answer: &dyn Fn(&Example) -> String) -> Result<Self> {
        let section = suite.file.prompt.clone().unwrap_or_default();
        let shots: Vec<Shot> = suite
            .split("fewshot")
            .into_iter()
            .take(section.fewshot)
            .map(|e| Shot {
                text: e.text.clone(),
                answer: answer(e),
            })
            .collect();
        Prompt::bound(&section, shots, &suite.origin(), model)
    }

    /// `section` compiled and bound to `model`'s chat template (when it asks for one and the model
    /// has one); `origin` names the file the section is in.
    pub fn bound(section: &PromptSection, shots: Vec<Shot>, origin: &str, model: &dyn LanguageModel) -> Result<Self> {
        Prompt::new(section, shots, origin)?.bind(model)
    }

    /// This compiled prompt bound to `model`'s chat template (when it asks for one and the model
    /// has one), so one compiled template serves every scheme's model of a run.
    pub fn bind(mut self, model: &dyn LanguageModel) -> Result<Self> {
        // Probe the chat template once, so rendering an input is a string operation.
        self.chat_model = None;
        if self.chat && model.chat_prompt(&[user("probe")])?.is_some() {
            self.chat_model = Some(ChatTemplate::probe(model, self.system.clone())?);
        }
        Ok(self)
    }

    /// Compiles and checks the template (an unknown variable is an error); `origin` names suite.toml.
    pub fn new(section: &PromptSection, fewshot: Vec<Shot>, origin: &str) -> Result<Self> {
        let prompt = Prompt {
            template: section.template.clone(),
            system: section.system.clone(),
            fewshot,
            chat: section.chat,
            chat_model: None,
            origin: origin.to_string(),
        };
        let bad = |e: String| Error::input(origin, format!("field prompt.template: {e}"));
        // The template's own text where the error lies (`c.nope`), which minijinja's message leaves out.
        let at = |e: &minijinja::Error| {
            e.range()
                .and_then(|r| section.template.get(r))
                .map_or(String::new(), |s| format!(" at `{s}`"))
        };
        let rendering = |e: minijinja::Error| {
            bad(if e.kind() == minijinja::ErrorKind::UndefinedError {
                format!(
                    "{e}{}: the template may use text, fewshot (and chunks in a rag suite)",
                    at(&e)
                )
            } else {
                format!("{e}{}", at(&e))
            })
        };
        let (a, b) = (
            prompt.user_text("an example command").map_err(rendering)?,
            prompt.user_text("another input").map_err(rendering)?,
        );
        // Two inputs, one prompt: every example would be asked the same question.
        if a == b {
            return Err(bad(
                "the template never uses the input text: write {{ text }} where it goes".into(),
            ));
        }
        // Few-shot examples asked for and never shown: the run would say it used them.
        if !prompt.fewshot.is_empty() {
            let without = Prompt {
                fewshot: Vec::new(),
                ..prompt.clone()
            };
            if without.user_text("an example command").map_err(rendering)? == a {
                return Err(Error::input(
                    origin,
                    format!(
                        "field prompt.fewshot: {} few-shot examples are asked for, but prompt.template never shows them: loop over them ({{% for s in fewshot %}}{{{{ s.text }}}} {{{{ s.answer }}}}{{% endfor %}}), or set fewshot = 0",
                        prompt.fewshot.len()
                    ),
                ));
            }
        }
        Ok(prompt)
    }

    /// The template rendered for `text`, before any chat template.
    pub fn user_text(&self, text: &str) -> std::result::Result<String, minijinja::Error> {
        self.user_text_with(text, &[])
    }

    /// The template rendered for `text` with `chunks` of context, before any chat template.
    fn user_text_with(&self, text: &str, chunks: &[ContextChunk]) -> std::result::Result<String, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A suite is untrusted input: a template that loops without end runs out of fuel instead.
        env.set_fuel(Some(FUEL));
        env.render_str(
            &self.template,
            context! { text => text, fewshot => &self.fewshot, chunks => chunks },
        )
    }

    /// The full prompt the model continues for `text`.
    pub fn render(&self, text: &str) -> Result<String> {
        self.render_with(text, &[])
    }

    /// The full prompt the model continues for `text` read with `chunks` of context.
    pub fn render_with(&self, text: &str, chunks: &[ContextChunk]) -> Result<String> {
        let user = self
            .user_text_with(text, chunks)
            .map_err(|e| Error::input(&self.origin, format!("field prompt.template: {e}")))?;
        match &self.chat_model {
            Some(chat) => Ok(format!("{}{user}{}", chat.prefix, chat.suffix)),
            None => Ok(match &self.system {
                Some(s) => format!("{s}\n\n{user}"),
                None => user,
            }),
        }
    }

    /// Tokens the model reads for these inputs' prompts.
    pub fn count_tokens(&self, model: &dyn LanguageModel, texts: &[&str]) -> Result<u64> {
        let prompts = texts.iter().map(|t| self.render(t)).collect::<Result<Vec<_>>>()?;
        let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
        Ok(model.tokenize(&refs)?.iter().map(|t| t.len() as u64).sum())
    }

    /// For each text, the tokens its prompt occupies in the model's context followed by the
    /// longest of `continuations` (scored after it, as the engine tokenizes the pair whole), or by
    /// `generate` tokens when there are none. Empty when the model has no context limit.
    pub fn context_needs(
        &self,
        model: &dyn LanguageModel,
        texts: &[&str],
        continuations: &[String],
        generate: usize,
    ) -> Result<Vec<usize>> {
        if model.context_length().is_none() {
            return Ok(Vec::new());
        }
        texts
            .iter()
            .map(|t| {
                let prompt = self.render(t)?;
                if continuations.is_empty() {
                    return Ok(model.tokenize(&[prompt.as_str()])?.iter().map(Vec::len).sum::<usize>() + generate);
                }
                let pairs: Vec<String> = continuations.iter().map(|c| format!("{prompt}{c}")).collect();
                let refs: Vec<&str> = pairs.iter().map(String::as_str).collect();
                Ok(model.tokenize(&refs)?.iter().map(Vec::len).max().unwrap_or(0))
            })
            .collect()
    }

    /// "chat template, 3 few-shot examples" and the like.
    pub fn describe(&self) -> String {
        let how = match (&self.chat_model, self.chat) {
            (Some(_), _) => "through the model's chat template",
            (None, true) => "plain text (the model has no chat template)",
            (None, false) => "plain text",
        };
        format!("{how}, {} few-shot examples", self.fewshot.len())
    }
}

fn user(content: &str) -> ChatMessage {
    ChatMessage {
        role: "user".into(),
        content: content.into(),
    }
}

impl ChatTemplate {
    /// Renders the chat template around a marker and keeps what comes before and after it; a
    /// template that does not reproduce the marker verbatim is refused.
    fn probe(model: &dyn LanguageModel, system: Option<String>) -> Result<Self> {
        let messages = |content: &str| {
            let mut m = Vec::new();
            if let Some(s) = &system {
                m.push(ChatMessage {
                    role: "system".into(),
                    content: s.clone(),
                });
            }
            m.push(user(content));
            m
        };
        const MARKER: &str = "\u{1}shakedown-user-text\u{1}";
        let rendered = model.chat_prompt(&messages(MARKER))?.unwrap_or_default();
        if let Some((prefix, suffix)) = rendered.split_once(MARKER).filter(|(_, s)| !s.contains(MARKER)) {
            return Ok(ChatTemplate {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            });
        }
        Err(Error::input(
            "model",
            "the chat template changes the message text; render the suite without it (prompt.chat = false)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::fakes::{self, FakeDecoder};

    fn section(template: &str, system: Option<&str>, chat: bool) -> PromptSection {
        PromptSection {
            system: system.map(String::from),
            template: template.into(),
            fewshot: 0,
            chat,
        }
    }

    #[test]
    fn template_renders_text_and_fewshot_answers() {
        let shots = vec![Shot {
            text: "go left".into(),
            answer: "{\"direction\": \"left\"}".into(),
        }];
        let p = Prompt::new(
            &section(
                "{% for s in fewshot %}Command: {{ s.text }}\nJSON: {{ s.answer }}\n{% endfor %}Command: {{ text }}\nJSON:",
                Some("Parse."),
                false,
            ),
            shots,
            "s.toml",
        )
        .unwrap();
        assert_eq!(
            p.render("stop").unwrap(),
            "Parse.\n\nCommand: go left\nJSON: {\"direction\": \"left\"}\nCommand: stop\nJSON:"
        );
        // Shots asked for that the template never shows are refused (the run would claim them).
        let unused = Prompt::new(&section("Q: {{ text }} A:", None, false), shots_of(1), "s.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            unused.contains("field prompt.fewshot: 1 few-shot examples are asked for"),
            "{unused}"
        );
    }

    fn shots_of(n: usize) -> Vec<Shot> {
        (0..n)
            .map(|i| Shot {
                text: format!("go left {i}"),
                answer: "{}".into(),
            })
            .collect()
    }

    #[test]
    fn chunks_of_context_render_in_order() {
        let p = Prompt::new(
            &section(
                "{% for c in chunks %}[{{ c.title }}] {{ c.text }}\n{% endfor %}Q: {{ text }}",
                None,
                false,
            ),
            vec![],
            "s.toml",
        )
        .unwrap();
        let chunk = |id: &str, title: &str, text: &str| ContextChunk {
            id: id.into(),
            title: title.into(),
            text: text.into(),
        };
        assert_eq!(
            p.render_with("where", &[chunk("a", "A", "one."), chunk("b", "B", "two.")])
                .unwrap(),
            "[A] one.\n[B] two.\nQ: where"
        );
        assert_eq!(p.render("where").unwrap(), "Q: where", "no chunks, no context");
    }

    #[test]
    fn unknown_variables_and_broken_templates_name_the_field() {
        for t in [
            "{{ txt }}",
            "{% for %}",
            "{% for a in range(9999) %}{% for b in range(9999) %}x{% endfor %}{% endfor %}",
        ] {
            let err = Prompt::new(&section(t, None, true), vec![], "s.toml")
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("s.toml") && err.contains("prompt.template"), "{err}");
        }
        let undefined = Prompt::new(&section("{{ txt }}", None, true), vec![], "s.toml")
            .err()
            .unwrap();
        assert!(undefined.to_string().contains("may use text, fewshot"), "{undefined}");
        // The attribute the template asked for is named (minijinja says only "undefined value").
        let shots = vec![Shot {
            text: "a".into(),
            answer: "b".into(),
        }];
        let attribute = Prompt::new(
            &section("{{ text }}{% for s in fewshot %}{{ s.nope }}{% endfor %}", None, true),
            shots,
            "s.toml",
        )
        .err()
        .unwrap();
        assert!(attribute.to_string().contains("`s.nope`"), "{attribute}");
        let constant = Prompt::new(&section("Command: please", None, true), vec![], "s.toml")
            .err()
            .unwrap();
        assert!(constant.to_string().contains("never uses the input text"), "{constant}");
    }

    #[test]
    fn chat_template_wraps_the_rendered_text_with_the_system_message() {
        let model = FakeDecoder::new().with_chat();
        let suite = fakes::classify_suite(
            &["left", "right"],
            "[prompt]\nsystem = \"Be brief.\"\ntemplate = \"Q: {{ text }}\"\n",
        );
        let p = Prompt::from_suite(&suite, &model, &|_| String::new()).unwrap();
        assert_eq!(
            p.render("go left").unwrap(),
            "<|system|>Be brief.<|end|><|user|>Q: go left<|end|><|assistant|>"
        );
        assert!(p.describe().contains("chat template"));
        let plain = fakes::classify_suite(&["left", "right"], "[prompt]\nchat = false\n");
        let p = Prompt::from_suite(&plain, &model, &|_| String::new()).unwrap();
        assert_eq!(p.render("go left").unwrap(), "go left");
    }
}
