//! What a state-changing command holds while it runs: the state lock (released on every
//! exit path), and the interrupt channel the signal handler drives.
//!
//! Ctrl-C (SIGINT) or SIGTERM once: start nothing new, let running operations finish, save
//! state, release the lock, exit with [`EXIT_INTERRUPTED`]. Twice: stop waiting; the
//! operations still running stay in the state's pending-operation journal, and the next run
//! reconciles them.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netform_engine::apply::{Interrupt, InterruptReceiver, InterruptSender, interrupt_channel};
use netform_engine::state::{LockInfo, StateError, StateStore};

/// Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Holds the state lock; releases it when dropped, whatever the exit path.
pub struct LockGuard {
    store: Arc<dyn StateStore>,
    id: Option<String>,
}

impl LockGuard {
    /// A guard that holds nothing (`--lock=false`).
    pub fn none(store: Arc<dyn StateStore>) -> Self {
        LockGuard { store, id: None }
    }

    pub fn release(&mut self) {
        if let Some(id) = self.id.take()
            && let Err(e) = self.store.unlock(&id)
        {
            eprintln!(
                "error: could not release the state lock: {e}\nRelease it with: netform force-unlock {id}"
            );
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.release();
    }
}

/// `user@host`, the host, and this process, for lock info.
pub fn who() -> (String, String) {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    (format!("{user}@{host}"), host)
}

pub fn new_lock_info(operation: &str, path: String) -> LockInfo {
    let (who, host) = who();
    LockInfo {
        id: netform_engine::new_lineage(),
        operation: operation.into(),
        info: String::new(),
        who,
        version: env!("CARGO_PKG_VERSION").into(),
        created: rfc3339_now(),
        path,
        pid: Some(std::process::id()),
        host,
    }
}

/// Take the state lock for `operation`: fail fast with the holder's info, or retry until
/// `timeout` when one is given.
pub async fn acquire(
    store: Arc<dyn StateStore>,
    operation: &str,
    timeout: Option<Duration>,
) -> Result<LockGuard, String> {
    let info = new_lock_info(operation, store.describe());
    let started = Instant::now();
    let mut told = false;
    loop {
        let attempt = {
            let store = store.clone();
            let info = info.clone();
            tokio::task::spawn_blocking(move || store.lock(&info))
                .await
                .map_err(|e| format!("lock task failed: {e}"))?
        };
        match attempt {
            Ok(id) => {
                exit_on_interrupt(store.clone(), id.clone());
                return Ok(LockGuard {
                    store,
                    id: Some(id),
                });
            }
            Err(StateError::Locked(held)) => {
                let limit = timeout.unwrap_or_default();
                if started.elapsed() >= limit {
                    return Err(format!(
                        "Error acquiring the state lock: the state is locked by another run.\n\n{held}\n\n\
                         netform takes the lock so that two runs never change the same state at once. \
                         Wait for the other run to finish, pass --lock-timeout DURATION to wait for it, \
                         or, if it is gone for good, release the lock with: netform force-unlock {}",
                        held.id
                    ));
                }
                if !told {
                    eprintln!(
                        "Acquiring the state lock (held by {} for {}), waiting up to {}s...",
                        held.who,
                        held.operation,
                        limit.as_secs()
                    );
                    told = true;
                }
                match LISTENING.get() {
                    Some(rx) => {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                            _ = interrupted(rx.clone()) => {
                                return Err("interrupted while waiting for the state lock".into());
                            }
                        }
                    }
                    None => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            Err(e) => return Err(format!("Error acquiring the state lock: {e}")),
        }
    }
}

/// For commands without an interrupt listener (plan, state mv/rm/push): Ctrl-C releases the
/// lock and exits with [`EXIT_INTERRUPTED`] instead of dying with the lock held.
fn exit_on_interrupt(store: Arc<dyn StateStore>, id: String) {
    if LISTENING.get().is_some() {
        return;
    }
    tokio::spawn(async move {
        if next_signal().await {
            // `unlock` checks the id: harmless if the guard already released it.
            let _ = tokio::task::spawn_blocking(move || store.unlock(&id)).await;
            eprintln!("\nInterrupted; the state lock was released.");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
}

/// Start listening for SIGINT/SIGTERM: the first sends `Stop`, the second `Abort`.
pub fn listen_for_interrupts() -> InterruptReceiver {
    let (tx, rx) = interrupt_channel();
    tokio::spawn(signal_loop(tx));
    let _ = LISTENING.set(rx.clone());
    rx
}

/// The receiver of this process's signal listener, once one runs: waits (for a lock) that
/// must end on Ctrl-C look at it, since the listener replaces the default "die at once".
static LISTENING: std::sync::OnceLock<InterruptReceiver> = std::sync::OnceLock::new();

async fn signal_loop(tx: InterruptSender) {
    let mut count = 0u8;
    loop {
        if !next_signal().await {
            return;
        }
        count += 1;
        if count == 1 {
            eprintln!(
                "\nInterrupt received. Starting no new operations and waiting for the running ones to finish \
                 (their progress follows); state will be saved and the lock released.\n\
                 Press Ctrl-C again to stop waiting: running operations stay in the state's journal and the next run finds them."
            );
            let _ = tx.send(Interrupt::Stop);
        } else {
            eprintln!(
                "\nSecond interrupt: no longer waiting. Saving state with the pending-operation journal."
            );
            let _ = tx.send(Interrupt::Abort);
            return;
        }
    }
}

/// Wait for SIGINT or SIGTERM; `false` if signals cannot be received.
async fn next_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return false;
        };
        tokio::select! {
            _ = int.recv() => true,
            _ = term.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// Ask for confirmation on a blocking thread, so that Ctrl-C at the prompt still ends the run
/// cleanly (lock released) instead of waiting for a line.
pub async fn confirm_or_interrupt(
    destroy: bool,
    ask: fn(bool) -> Result<bool, String>,
    interrupt: &InterruptReceiver,
) -> Result<bool, String> {
    let answer = tokio::task::spawn_blocking(move || ask(destroy));
    tokio::select! {
        a = answer => a.map_err(|e| format!("confirmation failed: {e}"))?,
        _ = interrupted(interrupt.clone()) => Ok(false),
    }
}

pub fn is_interrupted(rx: &InterruptReceiver) -> bool {
    *rx.borrow() != Interrupt::None
}

/// Resolves once an interrupt has been received.
pub async fn interrupted(mut rx: InterruptReceiver) {
    loop {
        if *rx.borrow() != Interrupt::None {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Now as RFC 3339 UTC (`2026-11-23T09:30:17Z`), without a date crate.
pub fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// RFC 3339 UTC for a Unix time: the engine's (what `timestamp()` returns), one copy.
pub use netform_engine::functions::rfc3339;
