//! Stopping a run cleanly on SIGTERM or SIGINT.
//!
//! cron, systemd, `timeout` and a container runtime stop a job with SIGTERM; a user
//! with Ctrl-C (SIGINT). Killed outright, a stage would lose its summary and leave its
//! ledger entry `running`. Instead [`crate::cli::main`] installs a listener: the first
//! signal sets a flag that the stages check between batches, pages and records
//! ([`requested`]); a stage that sees it stops reading, commits (or rolls back) the
//! batch in hand, prints its summary and returns. The run then ends with the ledger
//! status `interrupted` and the shell's exit code for the signal (130 for SIGINT, 143
//! for SIGTERM), so that cron and scripts see that the work is not complete.
//!
//! A stage that does not reach a check within [`GRACE`] — a provider's rate-limit
//! wait, a long query — or a second signal abandons the run: `cli::main` drops its
//! future, which rolls back an open transaction, and still finishes the ledger entry.
//! Either way the next run starts from what was committed, as after a SIGKILL.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// How long a stage has, after the first signal, to reach a check and end on its own.
pub const GRACE: Duration = Duration::from_secs(20);

/// SIGINT and SIGTERM as numbers, for the exit code (128 + the number).
pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

/// The first signal received (0: none), and how many were received.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The number of signals received, for waiters: 1 asks to stop, 2 to stop at once.
fn channel() -> &'static watch::Sender<u32> {
    static CHANNEL: OnceLock<watch::Sender<u32>> = OnceLock::new();
    CHANNEL.get_or_init(|| watch::channel(0).0)
}

/// True once SIGTERM or SIGINT was received: the stage should stop after the batch in
/// hand (committed or rolled back as a whole).
pub fn requested() -> bool {
    SIGNAL.load(Ordering::Relaxed) != 0
}

/// The signal received first (`SIGTERM` or `SIGINT`), if any.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    if signal == SIGINT { "SIGINT" } else { "SIGTERM" }
}

/// The exit code of a run stopped by `signal`: the shell's 128 + its number.
pub fn exit_code(signal: i32) -> u8 {
    if signal == SIGINT { 130 } else { 143 }
}

/// Records a stop request as the listener does (for the listener and for tests).
pub fn request(signal: i32) {
    let _ = SIGNAL.compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed);
    channel().send_modify(|n| *n += 1);
}

/// Resolves once a stop was requested; for a stage that waits on something else (a
/// server, a rate-limit pause) and `select!`s on this too.
pub async fn wait() {
    wait_for(1).await;
}

async fn wait_for(count: u32) {
    let mut receiver = channel().subscribe();
    // An error means the sender is gone, which a static never is: wait forever then.
    if receiver.wait_for(|n| *n >= count).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves when the run must be abandoned: a second signal, or [`GRACE`] after the
/// first one.
pub(crate) async fn abandon() {
    wait().await;
    let _ = tokio::time::timeout(GRACE, wait_for(2)).await;
}

/// Listens for SIGTERM and SIGINT on the current runtime. A failure to install the
/// handlers is reported, never fatal: the signals then keep their default action.
pub(crate) fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (term, int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(term), Ok(int)) => (term, int),
            (Err(e), _) | (_, Err(e)) => {
                log::warn!("cannot listen for SIGTERM/SIGINT ({e}): a signal stops the run without cleanup");
                return;
            }
        };
        tokio::spawn(listen(term, int));
    }
}

#[cfg(unix)]
async fn listen(mut term: tokio::signal::unix::Signal, mut int: tokio::signal::unix::Signal) {
    loop {
        let received = tokio::select! {
            Some(()) = term.recv() => SIGTERM,
            Some(()) = int.recv() => SIGINT,
            else => return,
        };
        if requested() {
            log::warn!("{} received again: stopping now", name(received));
        } else {
            log::warn!("{} received: stopping after the current batch (a second signal stops at once)", name(received));
        }
        request(received);
    }
}

/// A stage whose normal end is a signal (`report serve`) says so: its run then ends
/// with its own status, not `interrupted`.
pub fn ends_normally_on_signal() {
    NORMAL_END.store(true, Ordering::Relaxed);
}

static NORMAL_END: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The signal that interrupted the run, unless the stage ends on signals normally.
pub(crate) fn interrupted_by() -> Option<i32> {
    if NORMAL_END.load(Ordering::Relaxed) { None } else { signal() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(name(SIGINT), "SIGINT");
        assert_eq!(name(SIGTERM), "SIGTERM");
        // A request is process-wide state: the binaries' tests (tests/signals.rs) send
        // real signals; here it would stop the other unit tests' waits.
    }
}
