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

/// `2026-11-23T09:30:17Z` for a Unix time (no date crate).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
