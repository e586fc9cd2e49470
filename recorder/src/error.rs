/// Why a recording could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open a pseudo-terminal: {0}")]
    Pty(String),
    #[error("cannot start {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
