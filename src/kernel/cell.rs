//! The engine thread: one REPL session that runs the cells in order, and what a cell sends
//! back while it runs (printed text, figures, progress) and when it ends.

use crate::repl::Session;
use jupyter_protocol::Media;
use std::sync::mpsc;
use tokio::sync::{mpsc as tmpsc, oneshot};

/// What a running cell produces, in order; [`Event::Done`] ends a cell.
pub enum Event {
    /// Text for the stdout stream (`print`, `debug`, help).
    Stdout(String),
    /// Text for the stderr stream (the library's summaries and warnings).
    Stderr(String),
    /// A figure a plot or `to_png` drew, PNG-encoded.
    Figure(Vec<u8>),
    /// The current line of a progress bar; `done` once it is finished.
    Progress { line: String, done: bool },
    /// The cell's value (`None` for `()`), or its error message (with cell line and column).
    Done(Result<Option<Media>, String>),
}

/// Where the cell's source positions are said to be: `cell:LINE:COLUMN: message`.
pub const SOURCE: &str = "cell";

enum Job {
    Execute(String),
    Complete(String, usize, oneshot::Sender<(usize, Vec<String>)>),
    Inspect(String, usize, oneshot::Sender<Option<String>>),
}

/// The handle of the engine thread.
pub struct Worker {
    jobs: mpsc::Sender<Job>,
    pub events: tmpsc::UnboundedReceiver<Event>,
}

/// Hands figures and progress from the library to the cell's events.
struct Forward(tmpsc::UnboundedSender<Event>);

impl crate::display::Frontend for Forward {
    fn figure(&self, png: &[u8]) {
        let _ = self.0.send(Event::Figure(png.to_vec()));
    }

    fn progress(&self, line: &str, done: bool) {
        let line = line.to_string();
        let _ = self.0.send(Event::Progress { line, done });
    }

    fn text(&self, text: &str, stderr: bool) {
        let text = text.to_string();
        let _ = self.0.send(if stderr {
            Event::Stderr(text)
        } else {
            Event::Stdout(text)
        });
    }
}

impl Worker {
    /// Starts the session on a thread of its own.
    pub fn start() -> Result<Worker, String> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (tx, events) = tmpsc::unbounded_channel();
        let (ready_tx, ready) = mpsc::channel();
        std::thread::Builder::new()
            .name("coercive-kernel-engine".into())
            .spawn(move || {
                let mut session = match Session::new() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let out = tx.clone();
                session.redirect_print(move |text| {
                    let _ = out.send(Event::Stdout(text.to_string()));
                });
                crate::display::attach(std::sync::Arc::new(Forward(tx.clone())));
                let _ = ready_tx.send(Ok(()));
                for job in inbox {
                    match job {
                        Job::Execute(code) => {
                            let done = session.eval_as(SOURCE, &code).map(|v| {
                                (!v.is_unit()).then(|| super::media::of_value(&session, &v))
                            });
                            crate::interrupt::reset();
                            let _ = tx.send(Event::Done(done));
                        }
                        Job::Complete(code, pos, reply) => {
                            let _ = reply.send(super::lookup::complete(&session, &code, pos));
                        }
                        Job::Inspect(code, pos, reply) => {
                            let _ = reply.send(super::lookup::inspect(&session, &code, pos));
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the engine thread: {e}"))?;
        ready
            .recv()
            .map_err(|_| "the engine thread ended while starting".to_string())??;
        Ok(Worker { jobs, events })
    }

    /// Starts a cell; its events follow on [`Worker::events`], ending with [`Event::Done`].
    pub fn execute(&mut self, code: &str) -> Result<(), String> {
        // Anything a cell cut short left behind (a background thread's progress) is stale.
        while self.events.try_recv().is_ok() {}
        self.send(Job::Execute(code.to_string()))
    }

    /// Completions at char offset `pos`: where the replaced word starts, and the candidates.
    pub async fn complete(&self, code: &str, pos: usize) -> Result<(usize, Vec<String>), String> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Complete(code.to_string(), pos, tx))?;
        rx.await
            .map_err(|_| "the engine thread has ended".to_string())
    }

    /// The documentation of the name at char offset `pos`, if there is one.
    pub async fn inspect(&self, code: &str, pos: usize) -> Result<Option<String>, String> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Inspect(code.to_string(), pos, tx))?;
        rx.await
            .map_err(|_| "the engine thread has ended".to_string())
    }

    fn send(&self, job: Job) -> Result<(), String> {
        self.jobs
            .send(job)
            .map_err(|_| "the engine thread has ended".to_string())
    }
}
