//! Errors that know their exit code, and the status of a run that finished.
//!
//! The tools share one convention: 0 when every record went through, 1 when the run
//! finished but some records were rejected (they are in the quarantine), 2 when the
//! run could not do its job (usage, configuration, a service that cannot be reached).
//! `alerts` adds 3, "alerts raised", which cron can act on; when several hold, 2 wins
//! over 1 and 1 over 3.

use std::process::ExitCode;

/// A failure that stops a run. Anything else reaching `main` (an `anyhow` error
/// without one of these in its chain) is treated as `Runtime` and exits 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or the combination of options makes no sense.
    #[error("{0}")]
    Usage(String),
    /// A configuration file, variable or credential is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// A service (MongoDB, SQL, an HTTP provider) could not be reached or refused us.
    #[error("{0}")]
    Connection(String),
}

impl Error {
    /// Every fatal error exits 2; records rejected along the way exit 1 through
    /// [`Status`], never through an error.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// How a run that reached its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Records that could not be processed and were sent to the quarantine.
    pub rejected: u64,
    /// Partial failures that are not records (a place that could not be fetched).
    pub failures: u64,
    /// Alerts raised (`alerts`): exit 3 when nothing was rejected or failed.
    pub alerts: u64,
}

impl Status {
    pub fn ok() -> Self {
        Self::default()
    }

    pub fn is_clean(&self) -> bool {
        self.rejected == 0 && self.failures == 0
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The exit code as a number: 1 when something was rejected or failed, else 3
    /// when alerts were raised, else 0.
    pub fn code(&self) -> u8 {
        if !self.is_clean() {
            1
        } else if self.alerts > 0 {
            3
        } else {
            0
        }
    }

    /// The run ledger's word for this outcome.
    pub fn word(&self) -> &'static str {
        match self.code() {
            0 => "ok",
            3 => "alerts",
            _ => "partial",
        }
    }
}

/// True when the error is, somewhere in its chain, a write to a closed pipe:
/// `stage | head` must end quietly and successfully.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn broken_pipe_is_found_under_context() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed");
        let err = Err::<(), _>(io).context("writing line 3").unwrap_err();
        assert!(is_broken_pipe(&err));
        let other = anyhow::anyhow!("something else");
        assert!(!is_broken_pipe(&other));
    }

    #[test]
    fn status_exit_codes() {
        assert_eq!(Status::ok().exit_code(), ExitCode::SUCCESS);
        let s = Status { rejected: 2, ..Status::ok() };
        assert!(!s.is_clean());
        assert_eq!(s.exit_code(), ExitCode::from(1));
        assert_eq!(Status { alerts: 4, ..Status::ok() }.exit_code(), ExitCode::from(3));
        // Refused input outranks alerts: cron must see that the data was incomplete.
        assert_eq!(Status { alerts: 4, rejected: 1, ..Status::ok() }.exit_code(), ExitCode::from(1));
    }
}
