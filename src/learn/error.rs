//! Errors of the learning code: bad configurations, data that does not fit a model,
//! checkpoints that do not match their config, libtorch and file errors.

#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("{0}")]
    Msg(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("checkpoint config: {0}")]
    Json(#[from] serde_json::Error),
    #[error("data: {0}")]
    Source(crate::grains::SourceError),
    /// Ctrl-C during training; the model keeps the weights of the last finished epoch.
    #[error("interrupted in epoch {epoch}; the model keeps the weights of {kept}")]
    Interrupted { epoch: usize, kept: String },
    /// A non-finite loss, or one that blew up from where the run began; the model keeps the
    /// weights of the last finished epoch.
    #[error(
        "training diverged: the loss is {loss:.4e}{why} in epoch {epoch}, step {step}; the model \
         keeps the weights of {kept}; try a smaller lr (this run used {lr})"
    )]
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
        /// Empty for a non-finite loss, else how far it rose.
        why: String,
        lr: f64,
        kept: String,
    },
}

impl LearnError {
    pub fn msg(m: impl Into<String>) -> LearnError {
        LearnError::Msg(m.into())
    }
}

pub type Result<T> = std::result::Result<T, LearnError>;

/// `Err(LearnError::Msg)` unless `ok`.
pub(crate) fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(LearnError::Msg(msg()))
    }
}
