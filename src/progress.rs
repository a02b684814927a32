//! Draws apply progress on the terminal, Terraform style:
//! `azurerm_virtual_network_gateway.er: Still creating... [10s elapsed]`.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use netform_engine::apply::{ApplyEvent, Observer};

pub struct TerminalObserver {
    out: Mutex<std::io::Stdout>,
}

impl TerminalObserver {
    pub fn new() -> Self {
        TerminalObserver { out: Mutex::new(std::io::stdout()) }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{}s", s / 60, s % 60) } else { format!("{}s", s) }
}

impl Observer for TerminalObserver {
    fn on_event(&self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::Started { addr, op } => format!("{addr}: {}...", op.verb()),
            ApplyEvent::Progress { addr, op, elapsed, message } => {
                let verb = op.verb().to_lowercase();
                match message {
                    Some(m) => format!("{addr}: Still {verb}... [{} elapsed] {m}", secs(elapsed)),
                    None => format!("{addr}: Still {verb}... [{} elapsed]", secs(elapsed)),
                }
            }
            ApplyEvent::Completed { addr, op, elapsed, id } => match id {
                Some(id) => format!("{addr}: {} after {} [id={id}]", op.past(), secs(elapsed)),
                None => format!("{addr}: {} after {}", op.past(), secs(elapsed)),
            },
            ApplyEvent::Failed { addr, op, error } => format!("{addr}: {} failed: {error}", op.verb()),
            ApplyEvent::Skipped { addr, because, .. } => format!("{addr}: Skipped because {because} failed"),
            ApplyEvent::StatePersistFailed { error } => format!("warning: could not persist state: {error}"),
        };
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
