//! Remote state stores behind the engine's [`StateStore`] trait, configured by
//! `terraform { backend "…" { … } }` with Terraform's argument names:
//!
//! - `azurerm`: one blob in Azure Blob Storage; the lock is a blob lease, the lock info JSON
//!   sits in the blob's metadata (`terraformlockid`), as Terraform does.
//! - `pg`: a row in PostgreSQL (Terraform's `states` table); the lock is a session advisory
//!   lock, released by the server if the process dies.
//!
//! `StateStore` is synchronous (state writes happen under the walker's state mutex); each
//! store runs its async client on a private runtime thread (see [`bridge`]).

pub mod azurerm;
mod bridge;
pub mod pg;
pub mod sas;

use std::sync::Arc;

use netform_engine::backend_config::BackendConfig;
use netform_engine::state::StateStore;

/// Look up an environment variable (the CLI passes the real environment; tests a map).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Open the remote store `config` describes (not `local`: the CLI owns the local file).
pub fn open(config: &BackendConfig, env: Env<'_>) -> Result<Arc<dyn StateStore>, String> {
    match config.type_name.as_str() {
        "azurerm" => Ok(Arc::new(azurerm::AzureBlobStore::from_config(config, env)?)),
        "pg" => Ok(Arc::new(pg::PgStore::from_config(config, env)?)),
        other => Err(format!("backend \"{other}\" is not a remote backend")),
    }
}

/// `2026-11-23T09:30:17Z` for a Unix time: the engine's formatter.
pub(crate) use netform_engine::functions::rfc3339;

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
