//! Draws apply progress on the terminal, Terraform style:
//! `azurerm_virtual_network_gateway.er: Still creating... [10s elapsed]`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netform_engine::apply::{ApplyEvent, Observer};

pub struct TerminalObserver {
    out: Mutex<std::io::Stdout>,
    /// Last progress line per resource, to keep polling from flooding the terminal.
    last: Mutex<HashMap<String, (Instant, Option<String>)>>,
    every: Duration,
}

impl TerminalObserver {
    /// Progress lines for one resource at most every `every`, unless the message changes.
    pub fn new(every: Duration) -> Self {
        TerminalObserver {
            out: Mutex::new(std::io::stdout()),
            last: Mutex::new(HashMap::new()),
            every,
        }
    }

    fn should_print(&self, addr: &str, message: &Option<String>) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match last.get(addr) {
            Some((at, m))
                if now.duration_since(*at) < self.every && (message.is_none() || m == message) =>
            {
                false
            }
            _ => {
                last.insert(addr.to_string(), (now, message.clone()));
                true
            }
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{}s", s)
    }
}

impl Observer for TerminalObserver {
    fn on_event(&self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::Started { addr, op } => format!("{addr}: {}...", op.verb()),
            ApplyEvent::Progress {
                addr,
                op,
                elapsed,
                message,
            } => {
                let message = message.map(|m| match m.find(" (") {
                    // The provider's own "(Ns elapsed)" repeats ours.
                    Some(i) if m.ends_with("elapsed)") => m[..i].to_string(),
                    _ => m,
                });
                // A final "Succeeded" poll is immediately followed by the completion line.
                if message.as_deref().is_some_and(|m| m.ends_with("Succeeded"))
                    || !self.should_print(&addr.to_string(), &message)
                {
                    return;
                }
                let verb = op.verb().to_lowercase();
                match message {
                    Some(m) => format!("{addr}: Still {verb}... [{} elapsed] ({m})", secs(elapsed)),
                    None => format!("{addr}: Still {verb}... [{} elapsed]", secs(elapsed)),
                }
            }
            ApplyEvent::Completed {
                addr,
                op,
                elapsed,
                id,
            } => match id {
                Some(id) => format!("{addr}: {} after {} [id={id}]", op.past(), secs(elapsed)),
                None => format!("{addr}: {} after {}", op.past(), secs(elapsed)),
            },
            ApplyEvent::Failed { addr, op, error } => {
                format!("{addr}: {} failed: {error}", op.verb())
            }
            ApplyEvent::Skipped { addr, because, .. } => {
                format!("{addr}: Skipped because {because} failed")
            }
            ApplyEvent::Deferred { addr, reason } => format!("{addr}: Deferred: {reason}"),
            ApplyEvent::StatePersistFailed { error } => {
                format!("warning: could not persist state: {error}")
            }
            ApplyEvent::Stopping {
                running,
                not_started,
            } => {
                let mut text = format!(
                    "Stopping: {not_started} operation(s) will not start; waiting for {} running:",
                    running.len()
                );
                for (addr, op) in running {
                    text.push_str(&format!("\n  {addr} ({})", op.verb().to_lowercase()));
                }
                text
            }
        };
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
