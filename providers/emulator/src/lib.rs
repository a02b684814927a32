//! netform-emulator: a local server speaking Azure Resource Manager's wire protocol for the
//! resource types netform manages (resource groups, virtual networks, subnets, public IPs,
//! virtual network gateways, ExpressRoute circuits with peerings and authorizations, local
//! network gateways and connections).
//!
//! It depends on nothing of netform's: it knows HTTP and JSON only. See `README.md` beside
//! this crate for options, admin endpoints, simulated durations and strictness switches.

mod api;
mod auth;
mod cidr;
mod kinds;
mod rules;
mod server;
mod store;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use store::ProviderState;

/// How the emulator behaves. `Default` gives an in-memory, instant, lenient emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// `None` = in memory only. `Some(path)` = load at start if the file exists, and persist
    /// atomically (temp file + fsync + rename) after every mutation.
    pub data_file: Option<PathBuf>,
    /// Real durations are divided by this factor. `<= 0.0` = instant mode: every long-running
    /// operation completes immediately (the async headers are still returned, and the first
    /// poll says `Succeeded`).
    pub time_scale: f64,
    /// `Some(d)`: the simulated connectivity provider provisions each new circuit `d` (wall
    /// clock) after it was created (`Provisioning` during the second half of `d`), and it
    /// deprovisions on request, so DELETE of a provisioned circuit is allowed. `None`: circuits
    /// stay `NotProvisioned` until the admin endpoint is called, and DELETE of a
    /// `Provisioned`/`Provisioning` circuit is refused (R12).
    pub auto_provision_after: Option<Duration>,
    /// R13: if true, a peering PUT on a circuit that is not `Provisioned` is refused.
    /// Default false (azurerm's own acceptance tests create peerings on `NotProvisioned` circuits).
    pub strict_peering: bool,
    /// R9: if true, a circuit `sku.name` must equal `{tier}_{family}`. Default false: the real
    /// service accepted an inconsistent name (recorded PowerShell session).
    pub strict_circuit_sku_name: bool,
    /// R2: if true, an ExpressRoute gateway needs a GatewaySubnet of /27 or larger even when it
    /// is alone in its virtual network (newer docs); default false = /29 minimum unless both
    /// gateway types share the virtual network (then /27).
    pub er_gateway_requires_slash27: bool,
    /// R14/R17: if true, MicrosoftPeering prefixes (peer and advertised) must be public
    /// addresses. Default false (azurerm's tests use 192.168.x.x and the service validates
    /// them asynchronously).
    pub strict_microsoft_peering_public_prefixes: bool,
    /// A VNet PUT without a `properties.subnets` key: false (default, like Azure) treats it as
    /// an empty list, so every existing subnet is deleted (in-use ones refused); true keeps the
    /// existing subnets.
    pub vnet_put_without_subnets_keeps_existing: bool,
    /// If true, ARM requests (under `/subscriptions`) need a bearer token this emulator issued
    /// (from its OAuth2 or managed-identity endpoints): none → 401 `AuthenticationFailed`, one
    /// it did not issue → 401 `InvalidAuthenticationToken`, a subscription the token does not
    /// cover → 403 `AuthorizationFailed`. Default false (no header is looked at).
    pub require_auth: bool,
    /// The clients the OAuth2 token endpoint knows. Empty (default): it issues a token covering
    /// every subscription to any client id with any secret. Non-empty: only these client ids get
    /// a token (unknown → 400 `unauthorized_client` AADSTS700016), with the configured secret
    /// when one is set (wrong → 401 `invalid_client` AADSTS7000215), covering the configured
    /// subscriptions. A managed-identity request naming one of these as `client_id` gets its
    /// coverage too.
    pub clients: Vec<ClientGrant>,
    /// Serve HTTPS with a certificate generated at start (a throwaway CA and a server
    /// certificate for `127.0.0.1`, `localhost` and `::1`); the CA is
    /// [`RunningEmulator::ca_certificate_pem`]. Default false (plain HTTP).
    pub tls: bool,
    /// Injected faults on ARM requests (never on `/_emulator` or token endpoints). `None` = none.
    pub faults: Option<FaultConfig>,
}

/// Fault injection: each ARM request fails with probability `rate`, the kind drawn from a PRNG
/// seeded with `seed` (deterministic for a given request order). Kinds: 429
/// `SubscriptionRequestsThrottled` with `Retry-After`, 500 `InternalServerError`, 503
/// `ServiceUnavailable`, a dropped connection (the response is aborted), and a slow response
/// (`slow_delay`, then the request is served normally), and, only with `fail_operations`, a
/// failed long-running operation. A throttled, 5xx or dropped request has no effect on the
/// state, so retrying it is always safe.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    pub seed: u64,
    pub rate: f64,
    pub slow_delay: Duration,
    /// Also inject failed long-running operations (the request is served, its operation ends
    /// `Failed` with `InternalServerError`, the resource `provisioningState: "Failed"`). These are
    /// not retryable by the protocol, so they are off by default; with it off the fault sequence
    /// for a seed is the same as without this kind.
    pub fail_operations: bool,
}

impl FaultConfig {
    pub fn new(seed: u64, rate: f64) -> FaultConfig {
        FaultConfig {
            seed,
            rate,
            slow_delay: Duration::from_millis(1500),
            fail_operations: false,
        }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            data_file: None,
            time_scale: 0.0,
            auto_provision_after: None,
            strict_peering: false,
            strict_circuit_sku_name: false,
            er_gateway_requires_slash27: false,
            strict_microsoft_peering_public_prefixes: false,
            vnet_put_without_subnets_keeps_existing: false,
            require_auth: false,
            clients: Vec::new(),
            tls: false,
            faults: None,
        }
    }
}

/// A client of the emulator's OAuth2 token endpoint and what its tokens cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub client_id: String,
    /// `None`: any secret is accepted.
    pub secret: Option<String>,
    /// `None`: every subscription.
    pub subscriptions: Option<Vec<String>>,
}

impl ClientGrant {
    /// `CLIENT_ID[:SECRET[:SUB1,SUB2,...]]`. An empty secret accepts any secret; an empty
    /// subscription list or `*` covers every subscription.
    pub fn parse(spec: &str) -> Result<ClientGrant, String> {
        let mut parts = spec.splitn(3, ':');
        let client_id = parts.next().unwrap_or_default().trim().to_string();
        if client_id.is_empty() {
            return Err(format!(
                "client {spec:?}: expected CLIENT_ID[:SECRET[:SUB1,SUB2,...]]"
            ));
        }
        let secret = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        let subscriptions = match parts.next().map(str::trim) {
            None | Some("") | Some("*") => None,
            Some(list) => Some(
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
        };
        Ok(ClientGrant {
            client_id,
            secret,
            subscriptions,
        })
    }
}

/// Errors of the library API (not HTTP errors, which go to the client as ARM error bodies).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data file {path} is not valid emulator JSON: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// A running emulator. Dropping it without [`RunningEmulator::shutdown`] also signals the
/// server to stop (without waiting for it).
pub struct RunningEmulator {
    base_url: String,
    ca_pem: Option<String>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
    shared: std::sync::Arc<server::Shared>,
}

impl RunningEmulator {
    /// e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// With `tls: true`: the PEM of the CA that signed the server certificate (trust it to reach
    /// [`RunningEmulator::base_url`]). `None` for plain HTTP.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// With `tls: true`: write the CA's PEM to `path`, or by default to
    /// `{temp dir}/netform-emulator-{port}-ca.pem`, and return where. `Ok(None)` for plain HTTP.
    pub fn write_ca_certificate(
        &self,
        path: Option<&Path>,
    ) -> Result<Option<PathBuf>, EmulatorError> {
        let Some(pem) = &self.ca_pem else {
            return Ok(None);
        };
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let port = self.base_url.rsplit(':').next().unwrap_or("0");
                std::env::temp_dir().join(format!("netform-emulator-{port}-ca.pem"))
            }
        };
        std::fs::write(&path, pem).map_err(|source| EmulatorError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Some(path))
    }

    /// Graceful stop: in-flight requests finish, the data file is written.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
        self.shared.persist_now();
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

/// Bind `addr` (port 0 = pick one), spawn the server on the current tokio runtime, and return
/// once it is listening.
pub async fn start(
    config: EmulatorConfig,
    addr: SocketAddr,
) -> Result<RunningEmulator, EmulatorError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let host = if local.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if local.is_ipv6() {
        format!("[{}]", local.ip())
    } else {
        local.ip().to_string()
    };
    let scheme = if config.tls { "https" } else { "http" };
    let base_url = format!("{scheme}://{}:{}", host, local.port());
    let store = match &config.data_file {
        Some(path) => store::Store::load_or_default(path)?,
        None => store::Store::default(),
    };
    let shared = std::sync::Arc::new(server::Shared::new(config, base_url.clone(), store));
    let app = server::router(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    let (join, ca_pem) = if config_tls(&shared) {
        let (tls_listener, ca_pem) = tls::TlsListener::new(listener)?;
        let join = tokio::spawn(async move {
            let _ = axum::serve(tls_listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
        (join, Some(ca_pem))
    } else {
        let join = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
        (join, None)
    };
    Ok(RunningEmulator {
        base_url,
        ca_pem,
        shutdown_tx: Some(tx),
        join: Some(join),
        shared,
    })
}

fn config_tls(shared: &server::Shared) -> bool {
    shared.config().tls
}

/// Offline admin for the embedded mode (no server running): set the provider state of the
/// circuit with this service key in a data file. Returns `Ok(false)` if no circuit has that key.
pub fn set_provider_state_in_file(
    data_file: &Path,
    service_key: &str,
    state: ProviderState,
) -> Result<bool, EmulatorError> {
    let mut st = store::Store::load_or_default(data_file)?;
    let now = store::now_ms();
    if !st.set_provider_state(service_key, state, now) {
        return Ok(false);
    }
    st.save(data_file)?;
    Ok(true)
}
