//! `coercive repl`: a persistent Rhai session. Variables, functions and imports survive
//! between lines; an error or Ctrl-C during a computation leaves you in the REPL;
//! Ctrl-D exits.

mod completer;
mod config;
mod highlighter;

use crate::runner;
use rhai::{AST, Dynamic, Engine, Scope};
use rustyline::history::DefaultHistory;
use rustyline::{Completer, Editor, Helper, Hinter, Validator};
use std::sync::{Arc, Mutex};

#[derive(Helper, Completer, Hinter, Validator)]
struct ReplHelper {
    #[rustyline(Completer)]
    names: completer::Names,
    #[rustyline(Validator)]
    shaper: highlighter::Shaper,
    #[rustyline(Hinter)]
    hinter: rustyline::hint::HistoryHinter,
}

impl rustyline::highlight::Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> std::borrow::Cow<'l, str> {
        self.shaper.highlight(line, pos)
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: rustyline::highlight::CmdKind) -> bool {
        self.shaper.highlight_char(line, pos, kind)
    }
}

/// The state that persists between lines.
pub struct Session {
    engine: Engine,
    scope: Scope<'static>,
    /// Functions defined so far (statements cleared after each line).
    functions: AST,
    /// `import` statements seen so far, replayed before each line.
    imports: String,
}

impl Session {
    pub fn new() -> Result<Session, String> {
        let engine = crate::engine::new_engine(std::env::current_dir().ok())
            .map_err(|e| runner::format_eval_error("stdlib/prelude.rhai", &e))?;
        Ok(Session {
            engine,
            scope: runner::scope_with_args(&[]),
            functions: AST::empty(),
            imports: String::new(),
        })
    }

    /// Evaluates one (possibly multi-line) input; the value, or the formatted error.
    pub fn eval(&mut self, input: &str) -> Result<Dynamic, String> {
        let compile = |text: &str| {
            runner::compile_text(&self.engine, "<repl>", text, &self.scope).map_err(|e| e.0)
        };
        let new = compile(input)?;
        let mut ast = compile(&self.imports)?.merge(&self.functions).merge(&new);
        let result =
            crate::guard::catch(|| runner::run_ast(&self.engine, "<repl>", &mut self.scope, &ast));
        ast.clear_statements();
        self.functions = ast;
        let value = result?.map_err(|e| e.0)?;
        if input.trim_start().starts_with("import ") {
            self.imports.push_str(input.trim());
            self.imports.push('\n');
        }
        Ok(value)
    }

    /// Names for completion: scope variables and session functions.
    pub fn names(&self) -> Vec<String> {
        self.scope
            .iter()
            .map(|(n, _, _)| n.to_string())
            .chain(self.functions.iter_functions().map(|f| f.name.to_string()))
            .collect()
    }
}

/// Runs the interactive loop; returns the exit code.
pub fn run() -> i32 {
    let mut session = match Session::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let dynamic = Arc::new(Mutex::new(session.names()));
    let helper = ReplHelper {
        names: completer::Names {
            fixed: crate::docs::get().names(),
            dynamic: dynamic.clone(),
        },
        shaper: highlighter::Shaper::default(),
        hinter: rustyline::hint::HistoryHinter::new(),
    };
    let mut rl: Editor<ReplHelper, DefaultHistory> =
        match Editor::with_config(config::editor_config()) {
            Ok(rl) => rl,
            Err(e) => {
                eprintln!("coercive repl: cannot start the line editor: {e}");
                return 1;
            }
        };
    rl.set_helper(Some(helper));
    crate::interrupt::install_handler();
    let history = config::history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    println!(
        "coercive {} — Rhai REPL. help() for help, Ctrl-D to exit.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        match rl.readline(config::PROMPT) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => {
                let _ = rl.add_history_entry(line.as_str());
                match session.eval(&line) {
                    Ok(v) if v.is_unit() => {}
                    Ok(v) => println!("{}", runner::display(&session.engine, &v)),
                    Err(e) => eprintln!("{e}"),
                }
                crate::interrupt::reset();
                if let Ok(mut d) = dynamic.lock() {
                    *d = session.names();
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => println!("(Ctrl-D exits)"),
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("coercive repl: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
    0
}
