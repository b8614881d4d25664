//! `coercive kernel`: a Jupyter kernel for coercive scripts. One REPL [`Session`] per
//! kernel, so variables, functions and imports persist across cells; `print` is the cell's
//! stdout stream, its last value the `execute_result` (figures for structures, curves and
//! states, an HTML table for a text table); plots and `to_png` are shown inline; progress
//! bars are one updating line; an interrupt (message or SIGINT) stops the cell and keeps
//! the kernel. Completion and inspection use the REPL's completer and `coercive doc`.
//!
//! The wire protocol (message types, HMAC signing) and the ZeroMQ sockets come from
//! runtimed's `jupyter-protocol` and `jupyter-zmq-client` (pure-Rust `zeromq`, no libzmq).
//!
//! [`Session`]: crate::repl::Session

mod cell;
mod lookup;
mod media;
mod spec;
mod wire;

pub use spec::install;

/// Runs the kernel on the connection file Jupyter wrote, until a shutdown request.
pub fn run(connection_file: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(connection_file).map_err(|e| {
        format!(
            "cannot read the connection file {}: {e}",
            connection_file.display()
        )
    })?;
    let info: jupyter_protocol::ConnectionInfo = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a Jupyter connection file (transport, ip, ports, key): {e}",
            connection_file.display()
        )
    })?;
    crate::interrupt::install_handler();
    let worker = cell::Worker::start()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(wire::serve(info, worker))
}
