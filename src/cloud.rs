//! Where the provider talks to: real Azure, a standalone emulator, or an embedded one.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use netform_azure::{AzureProvider, AzureSettings};
use netform_emulator::{EmulatorConfig, RunningEmulator};
use netform_engine::Value;
use netform_engine::provider::{Provider, ProviderSet};

/// Default time scale of the embedded emulator: a 45-minute gateway takes about 4.5 s.
pub const EMBEDDED_TIME_SCALE: f64 = 600.0;
/// The embedded emulator's connectivity provider acts this long after a circuit is created.
pub const EMBEDDED_AUTO_PROVISION: Duration = Duration::from_secs(2);

pub struct Cloud {
    /// The default configuration, or a [`ProviderSet`] when the configuration has aliases.
    pub provider: Arc<dyn Provider>,
    /// Every configuration, default first (for their retry counts).
    pub configurations: Vec<Arc<AzureProvider>>,
    /// Kept alive for the duration of the command.
    pub emulator: Option<RunningEmulator>,
}

impl Cloud {
    /// A cloud of one provider configuration.
    pub fn single(provider: Arc<AzureProvider>, emulator: Option<RunningEmulator>) -> Self {
        Cloud {
            provider: provider.clone(),
            configurations: vec![provider],
            emulator,
        }
    }

    /// Requests retried (throttling, conflicts, transient faults) across configurations.
    pub fn retry_count(&self) -> u64 {
        self.configurations.iter().map(|p| p.retry_count()).sum()
    }
}

pub fn is_local(endpoint: &str) -> bool {
    endpoint.contains("://127.0.0.1")
        || endpoint.contains("://localhost")
        || endpoint.contains("://[::1]")
}

/// Whether the user asked for real authentication (a secret, managed identity, OIDC), from
/// the provider block or the `ARM_*` environment, as azurerm reads them.
fn credentials_configured(block: &Value) -> bool {
    let truthy = |v: Option<String>| v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    block.get("client_secret").as_str().is_some()
        || block.get("use_msi").as_bool() == Some(true)
        || block.get("use_oidc").as_bool() == Some(true)
        || env_lookup("ARM_CLIENT_SECRET").is_some()
        || truthy(env_lookup("ARM_USE_MSI"))
        || truthy(env_lookup("ARM_USE_OIDC"))
}

pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn embedded_config(project: &Path) -> EmulatorConfig {
    let time_scale = env_lookup("NETFORM_EMULATOR_TIME_SCALE")
        .and_then(|v| v.parse().ok())
        .unwrap_or(EMBEDDED_TIME_SCALE);
    let auto = env_lookup("NETFORM_EMULATOR_AUTO_PROVISION_SECS")
        .and_then(|v| v.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(EMBEDDED_AUTO_PROVISION);
    EmulatorConfig {
        data_file: Some(project.join(".netform").join("emulator.json")),
        time_scale,
        auto_provision_after: Some(auto),
        ..EmulatorConfig::default()
    }
}

/// Start the embedded emulator for `project` (data under `.netform/`).
pub async fn start_embedded(project: &Path) -> Result<RunningEmulator, String> {
    let dir = project.join(".netform");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let addr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    netform_emulator::start(embedded_config(project), addr)
        .await
        .map_err(|e| format!("cannot start the embedded emulator: {e}"))
}

/// Build the provider from the `provider "azurerm"` blocks (the default and each alias), the
/// environment and the flags. Every configuration talks to the same endpoint; each has its own
/// subscription and credentials.
pub async fn connect(
    project: &Path,
    provider_block: &Value,
    aliases: &BTreeMap<String, Value>,
    embedded: bool,
    endpoint_flag: Option<&str>,
) -> Result<Cloud, String> {
    let emulator = if embedded {
        Some(start_embedded(project).await?)
    } else {
        None
    };
    let embedded_url = emulator.as_ref().map(|e| e.base_url().to_string());
    let build = |block: &Value| -> Result<Arc<AzureProvider>, String> {
        let settings = settings(block, embedded_url.as_deref(), endpoint_flag)?;
        Ok(Arc::new(
            AzureProvider::new(settings).map_err(|e| e.message)?,
        ))
    };
    let default = build(provider_block)?;
    let mut configurations = vec![default.clone()];
    let mut by_alias: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
    for (alias, block) in aliases {
        let p =
            build(block).map_err(|e| format!("provider \"azurerm\" (alias \"{alias}\"): {e}"))?;
        configurations.push(p.clone());
        by_alias.insert(alias.clone(), p);
    }
    let provider: Arc<dyn Provider> = if by_alias.is_empty() {
        default
    } else {
        Arc::new(ProviderSet {
            default,
            aliases: by_alias,
        })
    };
    Ok(Cloud {
        provider,
        configurations,
        emulator,
    })
}

/// Settings of one provider configuration.
fn settings(
    block: &Value,
    embedded_url: Option<&str>,
    endpoint_flag: Option<&str>,
) -> Result<AzureSettings, String> {
    if let Some(url) = embedded_url {
        let mut s = AzureSettings::for_emulator(url);
        if let Some(sub) = block.get("subscription_id").as_str() {
            s.subscription_id = sub.to_string();
        }
        Ok(s)
    } else if let Some(ep) =
        endpoint_flag.filter(|ep| is_local(ep) && !credentials_configured(block))
    {
        // A local endpoint without configured credentials is an emulator that does not check
        // them: no token; the subscription defaults to zeros.
        let mut s = AzureSettings::for_emulator(ep);
        s.ca_cert = env_lookup("NETFORM_ARM_CA_CERT").map(std::path::PathBuf::from);
        if let Some(sub) = block
            .get("subscription_id")
            .as_str()
            .map(str::to_string)
            .or_else(|| env_lookup("ARM_SUBSCRIPTION_ID"))
        {
            s.subscription_id = sub;
        }
        Ok(s)
    } else {
        let mut s = AzureSettings::from_config(block, &env_lookup)?;
        if let Some(ep) = endpoint_flag {
            s.endpoint = ep.trim_end_matches('/').to_string();
        }
        Ok(s)
    }
}
