//! netform's engine: everything that decides.
//!
//! Invariant: the engine does no I/O of its own. It never prints, never reads the environment,
//! files or the network. The CLI hands it file contents and persists state through
//! [`state::StateStore`]; providers do the network.

pub mod proposal;
pub mod provider;
pub mod schema;
pub mod sensitivity;
pub mod value;

pub use value::Value;
pub mod addr;
pub mod apply;
pub mod backend_config;
pub mod builtin;
pub mod cascade;
pub mod config;
pub mod decode;
pub mod diag;
pub mod drift;
pub mod eval;
pub mod format;
pub mod functions;
pub mod graph;
pub mod hashes;
pub mod impact;
pub mod imports;
pub mod json_text;
pub mod plan;
pub mod planfile;
pub mod refs;
pub mod removed;
pub mod render;
pub mod render_json;
pub mod render_markdown;
pub mod schedule;
pub mod state;
pub mod targeting;
pub mod timeouts;
pub mod types;

/// A fresh state lineage (a random UUID).
pub fn new_lineage() -> String {
    uuid::Uuid::new_v4().to_string()
}
