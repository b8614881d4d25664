//! Where output meant for a person goes when a front end other than the terminal is
//! attached (the Jupyter kernel): figures written by plots and `to_png`, the line of a
//! progress bar, and text the library prints itself (help, summaries, warnings). Nothing is
//! attached in the CLI, the REPL and scripts: figures and progress are then no-ops and text
//! goes to the process's stdout or stderr.

use std::sync::{Arc, RwLock};

/// What a front end does with figures and progress.
pub trait Frontend: Send + Sync {
    /// A figure, PNG-encoded.
    fn figure(&self, png: &[u8]);
    /// The current text of a progress bar; `done` when the bar is finished (or dropped).
    fn progress(&self, line: &str, done: bool);
    /// Text for the stdout stream, or the stderr stream when `stderr`.
    fn text(&self, text: &str, stderr: bool);
}

static FRONTEND: RwLock<Option<Arc<dyn Frontend>>> = RwLock::new(None);

/// Sends figures and progress to `frontend` from now on.
pub fn attach(frontend: Arc<dyn Frontend>) {
    if let Ok(mut f) = FRONTEND.write() {
        *f = Some(frontend);
    }
}

/// Whether a front end is attached (a plot without a path is then shown only).
pub fn attached() -> bool {
    FRONTEND.read().is_ok_and(|f| f.is_some())
}

fn with(f: impl FnOnce(&dyn Frontend)) {
    let frontend = FRONTEND.read().ok().and_then(|g| g.clone());
    if let Some(frontend) = frontend {
        f(frontend.as_ref());
    }
}

/// Shows a PNG-encoded figure, if a front end is attached.
pub fn figure(png: &[u8]) {
    with(|f| f.figure(png));
}

/// Shows the current line of a progress bar, if a front end is attached.
pub fn progress(line: &str, done: bool) {
    with(|f| f.progress(line, done));
}

/// Prints text meant for the reader (help pages): the front end's stdout, else the process's.
pub fn print(text: &str) {
    let frontend = FRONTEND.read().ok().and_then(|g| g.clone());
    match frontend {
        Some(f) => f.text(text, false),
        None => print!("{text}"),
    }
}

/// One line of notice (a summary, a warning): the front end's stderr, else the process's.
pub fn note(line: &str) {
    let frontend = FRONTEND.read().ok().and_then(|g| g.clone());
    match frontend {
        Some(f) => f.text(&format!("{line}\n"), true),
        None => eprintln!("{line}"),
    }
}
