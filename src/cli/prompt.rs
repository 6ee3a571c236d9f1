//! The terminal behind age plugins' and passphrase prompts' questions.
//! Without a terminal on stderr, questions get no answer and the plugin or
//! identity fails with its own error.

use std::io::IsTerminal;

use sopx_core::keys::age::Prompt;

pub struct Terminal;

impl Prompt for Terminal {
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let prompt = match no {
            Some(no) => format!("{message} ({yes}/{no})"),
            None => format!("{message} ({yes})"),
        };
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .interact()
            .ok()
    }

    fn public_string(&self, description: &str) -> Option<String> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        dialoguer::Input::<String>::new()
            .with_prompt(description)
            .interact_text()
            .ok()
    }

    fn passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        if !std::io::stderr().is_terminal() {
            eprintln!("sopx: {description}: no terminal to ask for the passphrase on");
            return None;
        }
        dialoguer::Password::new()
            .with_prompt(description)
            .interact()
            .ok()
            .map(age::secrecy::SecretString::from)
    }
}
