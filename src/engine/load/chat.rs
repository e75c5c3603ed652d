//! Chat templates: the Jinja template a model ships (GGUF `tokenizer.chat_template`, or
//! `tokenizer_config.json`'s `chat_template`), rendered with `minijinja` as transformers'
//! `apply_chat_template` renders it: `messages`, `add_generation_prompt`, `bos_token`, `eos_token`.

use minijinja::{context, Environment, ErrorKind};

use crate::engine::api::ChatMessage;
use crate::error::{Error, Result};

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    /// Compiles `source`; `origin` names where it came from for errors.
    pub fn new(source: &str, bos: String, eos: String, origin: &str) -> Result<Self> {
        let mut env = Environment::new();
        // Templates call Python string methods (`.strip()`, `.startswith()`); minijinja's
        // pycompat callback gives them their Python meaning.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // transformers exposes `raise_exception(message)` to templates.
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<String, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.set_trim_blocks(false);
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| Error::input(origin, format!("chat template does not compile: {e}")))?;
        Ok(ChatTemplate { env, bos, eos })
    }

    /// The prompt for `messages`, ending where the assistant's answer starts.
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String> {
        let tmpl = self
            .env
            .get_template("chat")
            .map_err(|e| Error::Internal(format!("chat template: {e}")))?;
        tmpl.render(context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos,
            eos_token => self.eos,
        })
        .map_err(|e| Error::input("chat template", format!("cannot render the messages: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_chatml_template_as_transformers_does() {
        // SmolLM2-Instruct's template (from its GGUF metadata).
        let src = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let t = ChatTemplate::new(src, "<|im_start|>".into(), "<|im_end|>".into(), "test").unwrap();
        let out = t
            .render(&[ChatMessage {
                role: "user".into(),
                content: "hi".into(),
            }])
            .unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_methods_and_raise_exception_work() {
        let src = "{% if messages[0]['role'] == 'x' %}{{ raise_exception('no x') }}{% endif %}{{ messages[0]['content'].strip() }}";
        let t = ChatTemplate::new(src, String::new(), String::new(), "test").unwrap();
        let m = |role: &str| ChatMessage {
            role: role.into(),
            content: "  a  ".into(),
        };
        assert_eq!(t.render(&[m("user")]).unwrap(), "a");
        assert!(t.render(&[m("x")]).unwrap_err().to_string().contains("no x"));
        assert!(ChatTemplate::new("{% for %}", String::new(), String::new(), "t").is_err());
    }
}
