//! The sockets and the message loop: shell requests one at a time (a cell runs on the engine
//! thread while its output is published), control (interrupt, shutdown) alongside,
//! heartbeat echoed, everything for iopub through one publisher task.

use super::cell::{Event, Worker};
use jupyter_protocol::{
    CodeMirrorMode, CommInfoReply, CompleteReply, DisplayData, ErrorOutput, ExecuteInput,
    ExecuteReply, ExecuteResult, ExecutionCount, HistoryReply, InspectReply, InterruptReply,
    IsCompleteReply, IsCompleteReplyStatus, JupyterMessage, JupyterMessageContent, KernelInfoReply,
    LanguageInfo, Media, MediaType, ReplyError, ReplyStatus, ShutdownReply, Status, StreamContent,
    Transient, UpdateDisplayData,
};
use jupyter_zmq_client as zmq;
use tokio::sync::mpsc::UnboundedSender;

type Publish = UnboundedSender<JupyterMessage>;

/// Serves the kernel until a shutdown request ends the process.
pub async fn serve(
    info: jupyter_protocol::ConnectionInfo,
    mut worker: Worker,
) -> Result<(), String> {
    let session_id = format!(
        "coercive-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let bind = |what: &str, e: zmq::RuntimeError| format!("cannot bind the {what} socket: {e}");
    let mut heartbeat = zmq::create_kernel_heartbeat_connection(&info)
        .await
        .map_err(|e| bind("heartbeat", e))?;
    let mut shell = zmq::create_kernel_shell_connection(&info, &session_id)
        .await
        .map_err(|e| bind("shell", e))?;
    let mut control = zmq::create_kernel_control_connection(&info, &session_id)
        .await
        .map_err(|e| bind("control", e))?;
    let _stdin = zmq::create_kernel_stdin_connection(&info, &session_id)
        .await
        .map_err(|e| bind("stdin", e))?;
    let mut iopub = zmq::create_kernel_iopub_connection(&info, &session_id)
        .await
        .map_err(|e| bind("iopub", e))?;

    let (publish, mut outbox) = tokio::sync::mpsc::unbounded_channel::<JupyterMessage>();
    tokio::spawn(async move {
        while let Some(msg) = outbox.recv().await {
            if let Err(e) = iopub.send(msg).await {
                eprintln!("coercive kernel: iopub: {e}");
            }
        }
    });
    tokio::spawn(async move { while heartbeat.single_heartbeat().await.is_ok() {} });
    let to_iopub = publish.clone();
    tokio::spawn(async move {
        loop {
            match control.read().await {
                Ok(msg) => {
                    let _ = to_iopub.send(Status::busy().as_child_of(&msg));
                    let reply = match &msg.content {
                        JupyterMessageContent::InterruptRequest(_) => {
                            crate::interrupt::request();
                            Some(InterruptReply::new().as_child_of(&msg))
                        }
                        JupyterMessageContent::ShutdownRequest(r) => {
                            shutdown(&mut control, &to_iopub, &msg, r.restart).await
                        }
                        JupyterMessageContent::KernelInfoRequest(_) => {
                            Some(kernel_info().as_child_of(&msg))
                        }
                        _ => None,
                    };
                    if let Some(reply) = reply {
                        let _ = control.send(reply).await;
                    }
                    let _ = to_iopub.send(Status::idle().as_child_of(&msg));
                }
                Err(e) => eprintln!("coercive kernel: control: {e}"),
            }
        }
    });

    let mut count = ExecutionCount::new(0);
    loop {
        let msg = match shell.read().await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("coercive kernel: shell: {e}");
                continue;
            }
        };
        let _ = publish.send(Status::busy().as_child_of(&msg));
        let reply: Option<JupyterMessage> = match &msg.content {
            JupyterMessageContent::KernelInfoRequest(_) => Some(kernel_info().as_child_of(&msg)),
            JupyterMessageContent::ExecuteRequest(r) => {
                if !r.silent && r.store_history {
                    count.increment();
                }
                let _ = publish.send(
                    ExecuteInput {
                        code: r.code.clone(),
                        execution_count: count,
                    }
                    .as_child_of(&msg),
                );
                Some(execute(&mut worker, &publish, &msg, &r.code, count, r.silent).await)
            }
            JupyterMessageContent::CompleteRequest(r) => {
                let (start, matches) = worker.complete(&r.code, r.cursor_pos).await?;
                Some(
                    CompleteReply {
                        matches,
                        cursor_start: start,
                        cursor_end: r.cursor_pos,
                        metadata: Default::default(),
                        status: ReplyStatus::Ok,
                        error: None,
                    }
                    .as_child_of(&msg),
                )
            }
            JupyterMessageContent::InspectRequest(r) => {
                let doc = worker.inspect(&r.code, r.cursor_pos).await?;
                Some(
                    InspectReply {
                        found: doc.is_some(),
                        data: doc
                            .map_or_else(Media::default, |d| Media::new(vec![MediaType::Plain(d)])),
                        metadata: Default::default(),
                        status: ReplyStatus::Ok,
                        error: None,
                    }
                    .as_child_of(&msg),
                )
            }
            JupyterMessageContent::IsCompleteRequest(r) => {
                let status = if crate::repl::is_incomplete(&r.code) {
                    IsCompleteReplyStatus::Incomplete
                } else {
                    IsCompleteReplyStatus::Complete
                };
                Some(IsCompleteReply::new(status, String::new()).as_child_of(&msg))
            }
            JupyterMessageContent::HistoryRequest(_) => Some(
                HistoryReply {
                    history: vec![],
                    status: ReplyStatus::Ok,
                    error: None,
                }
                .as_child_of(&msg),
            ),
            JupyterMessageContent::CommInfoRequest(_) => Some(
                CommInfoReply {
                    status: ReplyStatus::Ok,
                    comms: Default::default(),
                    error: None,
                }
                .as_child_of(&msg),
            ),
            JupyterMessageContent::ShutdownRequest(r) => {
                shutdown(&mut shell, &publish, &msg, r.restart).await
            }
            _ => None,
        };
        if let Some(reply) = reply {
            if let Err(e) = shell.send(reply).await {
                eprintln!("coercive kernel: shell: {e}");
            }
        }
        let _ = publish.send(Status::idle().as_child_of(&msg));
    }
}

/// Runs a cell, publishing its output as it comes; the `execute_reply`.
async fn execute(
    worker: &mut Worker,
    publish: &Publish,
    parent: &JupyterMessage,
    code: &str,
    count: ExecutionCount,
    silent: bool,
) -> JupyterMessage {
    let send = |m: JupyterMessage| {
        if !silent {
            let _ = publish.send(m);
        }
    };
    let failed = |evalue: String| {
        let ename = if evalue.contains("interrupted") {
            "Interrupted"
        } else {
            "Error"
        };
        ReplyError {
            ename: ename.into(),
            traceback: evalue.lines().map(str::to_string).collect(),
            evalue,
        }
    };
    if let Err(e) = worker.execute(code) {
        return error_reply(failed(e), count, parent);
    }
    // The progress line being updated, by its display id.
    let mut progress: Option<String> = None;
    let mut bars = 0;
    loop {
        let Some(event) = worker.events.recv().await else {
            return error_reply(failed("the engine thread has ended".into()), count, parent);
        };
        match event {
            Event::Stdout(text) => send(StreamContent::stdout(&text).as_child_of(parent)),
            Event::Stderr(text) => send(StreamContent::stderr(&text).as_child_of(parent)),
            Event::Figure(png) => send(
                DisplayData::new(Media::new(vec![
                    MediaType::Png(super::media::png_base64(&png)),
                    MediaType::Plain("<figure>".into()),
                ]))
                .as_child_of(parent),
            ),
            // The bar's last line stays; a cleared bar sends an empty one.
            Event::Progress { line, done } if line.is_empty() => {
                if done {
                    progress = None;
                }
            }
            Event::Progress { line, done } => {
                let data = Media::new(vec![MediaType::Plain(line)]);
                match &progress {
                    Some(id) => send(UpdateDisplayData::new(data, id).as_child_of(parent)),
                    None => {
                        bars += 1;
                        let id = format!("{}-progress-{bars}", parent.header.msg_id);
                        let mut shown = DisplayData::new(data);
                        shown.transient = Some(Transient {
                            display_id: Some(id.clone()),
                        });
                        send(shown.as_child_of(parent));
                        progress = Some(id);
                    }
                }
                if done {
                    progress = None;
                }
            }
            Event::Done(Ok(value)) => {
                if let Some(data) = value {
                    send(ExecuteResult::new(count, data).as_child_of(parent));
                }
                return ExecuteReply {
                    status: ReplyStatus::Ok,
                    execution_count: count,
                    ..Default::default()
                }
                .as_child_of(parent);
            }
            Event::Done(Err(message)) => {
                let e = failed(message);
                send(
                    ErrorOutput {
                        ename: e.ename.clone(),
                        evalue: e.evalue.clone(),
                        traceback: e.traceback.clone(),
                    }
                    .as_child_of(parent),
                );
                return error_reply(e, count, parent);
            }
        }
    }
}

fn error_reply(e: ReplyError, count: ExecutionCount, parent: &JupyterMessage) -> JupyterMessage {
    ExecuteReply {
        status: ReplyStatus::Error,
        execution_count: count,
        error: Some(Box::new(e)),
        ..Default::default()
    }
    .as_child_of(parent)
}

/// Replies to a shutdown request (a restart is the client starting a new process) and ends
/// the process, even during a long cell.
async fn shutdown(
    socket: &mut zmq::KernelControlConnection,
    publish: &Publish,
    msg: &JupyterMessage,
    restart: bool,
) -> Option<JupyterMessage> {
    let reply = ShutdownReply {
        restart,
        status: ReplyStatus::Ok,
        error: None,
    }
    .as_child_of(msg);
    let _ = socket.send(reply).await;
    let _ = publish.send(Status::idle().as_child_of(msg));
    // Let the publisher send the last status.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    std::process::exit(0)
}

fn kernel_info() -> KernelInfoReply {
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".into(),
        implementation: "coercive".into(),
        implementation_version: env!("CARGO_PKG_VERSION").into(),
        language_info: LanguageInfo {
            name: "rhai".into(),
            version: "1".into(),
            mimetype: Some("text/x-rhai".into()),
            file_extension: Some(".rhai".into()),
            pygments_lexer: Some("rust".into()),
            codemirror_mode: Some(CodeMirrorMode::Simple("rust".into())),
            nbconvert_exporter: Some("script".into()),
        },
        banner: format!(
            "coercive {} — Rhai. help(\"name\") documents a function; Tab completes, Shift-Tab shows the documentation.",
            env!("CARGO_PKG_VERSION")
        ),
        help_links: vec![],
        debugger: false,
        error: None,
    }
}
