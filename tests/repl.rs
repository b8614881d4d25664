//! Drives `coercive repl` through a pseudo-terminal as a person would: functions persist
//! between lines, `_` is the last value, Tab completes names and (after `x.`) the members
//! of `x`'s type, continued lines show a prompt, wide maps print over several lines, help
//! prints, an error leaves the session alive, Ctrl-D exits.

use rexpect::error::Error;
use rexpect::session::{PtySession, spawn_command};
use std::process::Command;

const PROMPT: &str = "coercive> ";

/// Types `line`, waits for output that neither the echo of the typed line nor a history
/// hint shown while typing it can contain, then for the next prompt: keys typed before the
/// editor is ready again would be dropped.
fn step(p: &mut PtySession, line: &str, expect: &str) -> Result<(), Error> {
    p.send_line(line)?;
    p.exp_string(expect)?;
    p.exp_string(PROMPT)?;
    Ok(())
}

/// Types `typed` and Tab, waits for the completed text `shown`, then finishes the line
/// with `rest` as [`step`] does.
fn complete(
    p: &mut PtySession,
    typed: &str,
    shown: &str,
    rest: &str,
    expect: &str,
) -> Result<(), Error> {
    p.send(&format!("{typed}\t"))?;
    p.flush()?;
    p.exp_string(shown)?;
    step(p, rest, expect)
}

#[test]
fn repl_session_in_a_terminal() -> Result<(), Error> {
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("history");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coercive"));
    cmd.args(["--threads", "1", "repl"])
        .env("COERCIVE_HISTORY", &history)
        .env("COERCIVE_CACHE", "off")
        .env("TERM", "xterm");
    let p = &mut spawn_command(cmd, Some(20_000))?;
    p.exp_string(PROMPT)?;

    // A function defined on one line is callable on the next.
    step(
        p,
        "fn twice(x) { x * 2 } print(\"defined\" + 1);",
        "defined1",
    )?;
    step(p, "let base = 21; print(\"base\" + 2);", "base2")?;
    step(p, "twice(base)", "42")?;
    // `_` is the last value.
    step(p, "_ + 1", "43")?;
    // Help from the doc comments.
    step(p, "help(\"linspace\")", "evenly spaced")?;
    // An error is reported and the session (with its functions) survives.
    step(
        p,
        "zeros(-1)",
        "<repl>:1:1: zeros: shape entries must be in",
    )?;
    step(p, "twice(4) + 100", "108")?;

    // Tab completes a native function name.
    complete(
        p,
        "linsp",
        "linspace",
        "(0.0, 1.0, 3)",
        "array([0, 0.5, 1], shape=[3])",
    )?;

    // Multi-line input while a bracket is open, behind a continuation prompt.
    p.send_line("let total = [1, 2,")?;
    p.exp_string("      ... ")?;
    p.send_line("3].len() + 500;")?;
    p.exp_string(PROMPT)?;
    step(p, "total", "503")?;

    // After `x.` Tab offers the members of the type of x's value: of a Structure's, only
    // `encode` begins with "en" (a State's `energy` does too).
    step(
        p,
        "let s = grains::voronoi(#{ n: 8, grains: 2, seed: 1 }); print(\"made\" + 1);",
        "made1",
    )?;
    complete(p, "s.en", "s.encode", "(\"kx\").shape", "[1, 8, 8]")?;

    // A map too wide for the terminal prints a key per line; `_.` completes its keys.
    step(
        p,
        "#{ first: \"a fairly long string value\", second: \"another long string\", third: [1, 2, 3] }",
        "#{\r\n  \"first\": \"a fairly long string value\",\r\n  \"second\"",
    )?;
    complete(p, "_.thi", "_.third", ".len() * 7", "21")?;

    // A single curve shows its progress (field step, M, evaluations) on a terminal.
    p.send_line("solver::demag_curve(grains::voronoi(#{ n: 48, grains: 6, seed: 2 }), #{ h_step: 0.005 }).h.len")?;
    p.exp_string("curve [")?;
    p.exp_string("evaluations")?;
    p.exp_string("401")?;
    p.exp_string(PROMPT)?;

    // Ctrl-C stops a running computation, not the REPL.
    p.send_line("let n = 0; loop { n += 1; }")?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c')?;
    p.exp_string("interrupted by Ctrl-C")?;
    p.exp_string(PROMPT)?;
    // Not "100": typing `twice(` hints `twice(4) + 100` from the history, and a match there
    // would send Ctrl-D below into a line still being typed.
    step(p, "twice(60)", "120")?;

    // Ctrl-D exits and the history was written.
    p.send_control('d')?;
    p.exp_eof()?;
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(saved.contains("fn twice(x) { x * 2 }"), "history: {saved}");
    Ok(())
}
