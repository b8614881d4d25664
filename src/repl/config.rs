//! REPL configuration: where the history lives and how much of it is kept.

use std::path::PathBuf;

pub const PROMPT: &str = "coercive> ";
/// Shown while an open bracket, string or comment continues the input.
pub const CONTINUATION: &str = "      ... ";
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

/// The terminal's width in columns, for laying out values; 80 when it cannot be told.
pub fn width() -> usize {
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct it is given.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col >= 20 {
        size.ws_col as usize
    } else {
        80
    }
}
