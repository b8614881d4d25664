//! Progress bars for long native work: drawn on a terminal, handed line by line to an
//! attached front end ([`crate::display`], the Jupyter kernel), silent otherwise or when
//! `--quiet` was given.

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
    QUIET.load(Ordering::SeqCst) || !(std::io::stderr().is_terminal() || crate::display::attached())
}

/// A terminal of one line that is the front end's progress line.
#[derive(Debug)]
struct FrontendLine;

impl indicatif::TermLike for FrontendLine {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        crate::display::progress(s, false);
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.is_empty() {
            crate::display::progress(s, false);
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
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
            let bar = if crate::display::attached() {
                // A few updates a second: each is a message to the front end.
                ProgressBar::with_draw_target(
                    Some(len),
                    ProgressDrawTarget::term_like_with_hz(Box::new(FrontendLine), 4),
                )
            } else {
                ProgressBar::new(len)
            };
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
        crate::display::progress("", true);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.finish();
        }
    }
}
