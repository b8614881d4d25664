//! `coercive repl`: a persistent Rhai session. Variables, functions and imports survive
//! between lines, `_` is the last value; an error or Ctrl-C during a computation leaves you
//! in the REPL; Ctrl-D exits. The Jupyter kernel ([`crate::kernel`]) runs its cells in the
//! same [`Session`].

pub mod completer;
mod config;
mod highlighter;
mod imports;
mod last;
mod pretty;

pub use highlighter::is_incomplete;

use crate::runner;
use rhai::{AST, Dynamic, Engine, Position, Scope};
use rustyline::history::DefaultHistory;
use rustyline::{Completer, Editor, Helper, Hinter, Validator};
use std::sync::{Arc, Mutex};

// The loop, not the editor, continues open input: rustyline shows no prompt on the lines of
// an input it continues itself.
#[derive(Helper, Completer, Hinter, Validator)]
struct ReplHelper {
    #[rustyline(Completer)]
    names: completer::Names,
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
}

impl Session {
    pub fn new() -> Result<Session, String> {
        let engine = crate::engine::new_engine(std::env::current_dir().ok())
            .map_err(|e| runner::format_eval_error("stdlib/prelude.rhai", &e))?;
        Ok(Session {
            engine,
            scope: runner::scope_with_args(&[]),
            functions: AST::empty(),
        })
    }

    /// Evaluates one (possibly multi-line) input; the value, or the formatted error. A value
    /// other than `()` becomes `_`.
    pub fn eval(&mut self, input: &str) -> Result<Dynamic, String> {
        self.eval_as("<repl>", input)
    }

    /// [`Session::eval`], its errors placed in `source` (`cell:2:5: …`).
    pub fn eval_as(&mut self, source: &str, input: &str) -> Result<Dynamic, String> {
        let text = last::substitute(input);
        let new =
            runner::compile_text(&self.engine, source, &text, &self.scope).map_err(|e| e.0)?;
        let mut ast = self.functions.merge(&new);
        let result =
            crate::guard::catch(|| runner::run_ast(&self.engine, source, &mut self.scope, &ast));
        ast.clear_statements();
        self.functions = ast;
        let value = result?.map_err(|e| e.0)?;
        self.keep_imports(&text);
        if !value.is_unit() {
            self.scope.set_or_push(last::NAME, value.clone());
        }
        Ok(value)
    }

    /// Makes the modules `text` imported known to the lines that follow.
    fn keep_imports(&mut self, text: &str) {
        for (path, alias) in imports::imported(text) {
            let module =
                self.engine
                    .module_resolver()
                    .resolve(&self.engine, None, &path, Position::NONE);
            // The import just ran, so it resolves; a text match that was no import may not.
            if let Ok(module) = module {
                self.engine.register_static_module(alias, module);
            }
        }
    }

    /// Sends what scripts `print` (and `debug`) to `out` instead of stdout.
    pub fn redirect_print(&mut self, out: impl Fn(&str) + Send + Sync + 'static) {
        let out = Arc::new(out);
        let debug = out.clone();
        self.engine.on_print(move |text| out(&format!("{text}\n")));
        self.engine
            .on_debug(move |text, _, _| debug(&format!("{text}\n")));
    }

    /// The engine the session evaluates with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// `v` as the REPL shows a value, for `width` columns.
    pub fn show(&self, v: &Dynamic, width: usize) -> String {
        pretty::pretty(&self.engine, v, width)
    }

    /// Completion over what the session knows now (refresh it with [`Session::known`]).
    pub fn completer(&self) -> completer::Names {
        completer::Names {
            fixed: crate::docs::get().names(),
            members: crate::docs::members_by_type(&self.engine),
            dynamic: Arc::new(Mutex::new(self.known())),
        }
    }

    /// What completion needs: scope variables with their types (and a map's keys), and
    /// session functions. The last value is known as `_`, as the input writes it.
    pub fn known(&self) -> completer::Known {
        let vars: std::collections::BTreeMap<String, completer::Var> = self
            .scope
            .iter()
            .map(|(name, _, value)| {
                let keys = value
                    .read_lock::<rhai::Map>()
                    .map(|m| m.keys().map(|k| k.to_string()).collect())
                    .unwrap_or_default();
                let ty = crate::docs::type_of(&value);
                let name = if name == last::NAME { "_" } else { name };
                (name.to_string(), completer::Var { ty, keys })
            })
            .collect();
        let names = vars
            .keys()
            .filter(|n| *n != "_")
            .cloned()
            .chain(
                self.functions
                    .iter_functions()
                    .map(|f| f.name.to_string())
                    .filter(|n| !crate::docs::is_anonymous(n)),
            )
            .collect();
        completer::Known { names, vars }
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
    let names = session.completer();
    let dynamic = names.dynamic.clone();
    let helper = ReplHelper {
        names,
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
        "coercive {} — Rhai REPL. help() for help, Tab completes, _ is the last value, Ctrl-D to exit.",
        env!("CARGO_PKG_VERSION")
    );
    // Lines typed so far of an input that an open bracket, string or comment continues.
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            config::PROMPT
        } else {
            config::CONTINUATION
        };
        match rl.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                if highlighter::is_incomplete(&pending) {
                    pending.push('\n');
                    continue;
                }
                let input = std::mem::take(&mut pending);
                if input.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(input.as_str());
                match session.eval(&input) {
                    Ok(v) if v.is_unit() => {}
                    Ok(v) => println!("{}", session.show(&v, config::width())),
                    Err(e) => eprintln!("{e}"),
                }
                crate::interrupt::reset();
                if let Ok(mut d) = dynamic.lock() {
                    *d = session.known();
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) if !pending.is_empty() => {
                pending.clear();
                println!("(input discarded)");
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

#[cfg(test)]
mod tests {
    use super::Session;

    fn shown(s: &mut Session, input: &str) -> String {
        match s.eval(input) {
            Ok(v) if v.is_unit() => "()".into(),
            Ok(v) => v.to_string(),
            Err(e) => e,
        }
    }

    #[test]
    fn the_last_value_is_underscore() {
        let mut s = Session::new().unwrap();
        assert_eq!(shown(&mut s, "20 + 1"), "21");
        assert_eq!(shown(&mut s, "_ * 2"), "42");
        // `()` leaves `_` as it was.
        assert_eq!(shown(&mut s, "let x = 1;"), "()");
        assert_eq!(shown(&mut s, "_ + x"), "43");
        // Completion sees it as `_`, typed, and not as a name to offer.
        let known = s.known();
        assert_eq!(known.vars["_"].ty, "int");
        assert!(
            !known.names.iter().any(|n| n.contains("last")),
            "{:?}",
            known.names
        );
    }

    #[test]
    fn imports_last_beyond_their_line() {
        let mut s = Session::new().unwrap();
        let missing = shown(&mut s, "report::pad(\"ab\", 4)");
        assert!(
            missing.contains("hint: add `import \"report\" as report;`"),
            "{missing}"
        );
        assert_eq!(shown(&mut s, "import \"report\" as report;"), "()");
        assert_eq!(shown(&mut s, "report::pad(\"ab\", 4)"), "  ab");
    }

    #[test]
    fn members_to_complete_follow_the_type() {
        let s = Session::new().unwrap();
        let members = crate::docs::members_by_type(&s.engine);
        let has = |ty: &str, names: &[&str]| {
            for n in names {
                assert!(
                    members[ty].contains(*n),
                    "{ty} lacks {n}: {:?}",
                    members[ty]
                );
            }
        };
        has(
            "Curve",
            &[
                "h",
                "my",
                "converged",
                "anchors",
                "snapshots",
                "snapshot_labels",
                "snapshot",
            ],
        );
        has("State", &["h", "m", "my", "converged", "energy", "to_ovf"]);
        has("Structure", &["theta", "theta_deg", "encode", "grain_id"]);
        // Rhai's own methods of a map are offered too.
        has("map", &["keys", "len"]);
        assert!(!members["Structure"].contains("snapshots"));
    }

    #[test]
    fn closures_are_no_names_to_complete() {
        let mut s = Session::new().unwrap();
        shown(&mut s, "let f = |x| x + 1; fn twice(x) { x * 2 }");
        let known = s.known();
        assert!(known.names.contains(&"twice".to_string()));
        assert!(known.names.contains(&"f".to_string()));
        assert!(
            !known.names.iter().any(|n| n.contains('$')),
            "{:?}",
            known.names
        );
    }
}
