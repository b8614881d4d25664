//! REPL configuration: where the history lives and how much of it is kept.

use std::path::PathBuf;

pub const PROMPT: &str = "coercive> ";
pub const HISTORY_SIZE: usize = 5_000;

/// `$COERCIVE_HISTORY`, else `~/.coercive_history`; `None` disables history.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COERCIVE_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".coercive_history"))
}

pub fn editor_config() -> rustyline::Config {
    rustyline::Config::builder()
        .max_history_size(HISTORY_SIZE)
        .map(|b| {
            b.auto_add_history(false)
                .completion_type(rustyline::CompletionType::List)
        })
        .unwrap_or_default()
        .build()
}
