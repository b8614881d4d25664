//! Progress bars for long native work: drawn on a terminal, silent when stderr is not a
//! terminal or when `--quiet` was given.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences every progress bar (the `--quiet` flag).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::SeqCst);
}

/// Whether progress is being suppressed.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::SeqCst) || !std::io::stderr().is_terminal()
}

/// A bar over `len` units of work with a label and an ETA; a no-op when quiet.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(len: u64, label: &str) -> Self {
        let bar = if is_quiet() {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(len);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} < {eta})",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar
        };
        bar.set_prefix(label.to_string());
        Progress { bar }
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
