//! Drives `coercive repl` through a pseudo-terminal as a person would: functions persist
//! between lines, Tab completes, help prints, an error leaves the session alive, Ctrl-D
//! exits.

use rexpect::session::spawn_command;
use std::process::Command;

#[test]
fn repl_session_in_a_terminal() -> Result<(), rexpect::error::Error> {
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("history");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coercive"));
    cmd.args(["--threads", "1", "repl"])
        .env("COERCIVE_HISTORY", &history)
        .env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(20_000))?;
    p.exp_string("coercive> ")?;

    // Each step waits for output that the echo of the typed line cannot contain, then for
    // the next prompt: keys typed before the editor is ready again would be dropped.
    let mut step = |line: &str, expect: &str| -> Result<(), rexpect::error::Error> {
        p.send_line(line)?;
        p.exp_string(expect)?;
        p.exp_string("coercive> ")?;
        Ok(())
    };
    // A function defined on one line is callable on the next.
    step("fn twice(x) { x * 2 } print(\"defined\" + 1);", "defined1")?;
    step("let base = 21; print(\"base\" + 2);", "base2")?;
    step("twice(base)", "42")?;
    // Help from the doc comments.
    step("help(\"linspace\")", "evenly spaced")?;
    // An error is reported and the session (with its functions) survives.
    step("zeros(-1)", "<repl>:1:1: zeros: shape entries must be in")?;
    step("twice(4) + 100", "108")?;
    drop(step);

    // Tab completes a native function name.
    p.send("linsp\t")?;
    p.flush()?;
    p.exp_string("linspace")?;
    p.send_line("(0.0, 1.0, 3)")?;
    p.exp_string("array([0, 0.5, 1], shape=[3])")?;
    p.exp_string("coercive> ")?;

    // Multi-line input while a bracket is open.
    p.send_line("let total = [1, 2,")?;
    p.send_line("3].len() + 500;")?;
    p.exp_string("coercive> ")?;
    p.send_line("total")?;
    p.exp_string("503")?;
    p.exp_string("coercive> ")?;

    // Ctrl-C stops a running computation, not the REPL.
    p.send_line("let n = 0; loop { n += 1; }")?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c')?;
    p.exp_string("interrupted by Ctrl-C")?;
    p.exp_string("coercive> ")?;
    p.send_line("twice(50)")?;
    p.exp_string("100")?;
    p.exp_string("coercive> ")?;

    // Ctrl-D exits and the history was written.
    p.send_control('d')?;
    p.exp_eof()?;
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(saved.contains("fn twice(x) { x * 2 }"), "history: {saved}");
    Ok(())
}
