//! Provider settings and bearer tokens.
//!
//! [`AzureSettings::from_config`] is pure: it reads the `provider "azurerm"` block and falls back
//! to the `ARM_*` variables through a lookup function the caller supplies, so the provider never
//! reads the environment itself. [`TokenSource`] turns the settings into a credential chain
//! (client secret → workload identity → managed identity → Azure CLI) and caches the token.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use netform_engine::Value;
use netform_engine::provider::{ErrorKind, ProviderError};

/// The public-cloud ARM endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
/// Subscription used against the local emulator when none is configured.
pub const EMULATOR_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// Everything the provider needs to talk to ARM. `client_secret` is redacted from `Debug`.
#[derive(Clone)]
pub struct AzureSettings {
    /// ARM base URL without a trailing slash (`https://management.azure.com`, or the emulator's).
    pub endpoint: String,
    pub subscription_id: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub use_msi: bool,
    pub use_cli: bool,
    pub use_oidc: bool,
    pub oidc_token_file_path: Option<PathBuf>,
    /// Entra ID authority (`https://login.microsoftonline.com`). An `http://` authority (a local
    /// fake login server) is reached through an `https://` placeholder and a redirecting transport,
    /// because azure_identity refuses non-https authorities.
    pub authority_host: String,
    /// `public`, `usgovernment` or `china`.
    pub environment: String,
    /// Send no `Authorization` header at all (the local emulator).
    pub no_auth: bool,
    /// Upper bound on every sleep between polls of a long-running operation (caps `Retry-After`).
    pub max_poll_interval: Duration,
    /// Poll interval when the server sends no `Retry-After` (still capped by `max_poll_interval`).
    pub default_poll_interval: Duration,
    /// Attempts per HTTP request for retryable failures (429, 408, 5xx, connection errors, 409
    /// `AnotherOperationInProgress`), first attempt included.
    pub max_attempts: u32,
    /// First backoff delay; doubles per attempt, with jitter.
    pub retry_base_delay: Duration,
    /// Upper bound on any retry sleep, `Retry-After` included.
    pub retry_max_delay: Duration,
    /// Timeout of one HTTP request (the operation's own deadline still applies).
    pub request_timeout: Duration,
    /// A PEM file of extra CA certificates to trust (added to the system roots) for ARM and the
    /// authority host, e.g. the CA of `netform emulator serve --tls`. `NETFORM_ARM_CA_CERT`.
    pub ca_cert: Option<PathBuf>,
}

impl fmt::Debug for AzureSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureSettings")
            .field("endpoint", &self.endpoint)
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(redacted)"),
            )
            .field("use_msi", &self.use_msi)
            .field("use_cli", &self.use_cli)
            .field("use_oidc", &self.use_oidc)
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field("authority_host", &self.authority_host)
            .field("environment", &self.environment)
            .field("no_auth", &self.no_auth)
            .field("max_poll_interval", &self.max_poll_interval)
            .field("default_poll_interval", &self.default_poll_interval)
            .field("max_attempts", &self.max_attempts)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("request_timeout", &self.request_timeout)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

impl Default for AzureSettings {
    fn default() -> Self {
        AzureSettings {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            subscription_id: String::new(),
            tenant_id: None,
            client_id: None,
            client_secret: None,
            use_msi: false,
            use_cli: true,
            use_oidc: false,
            oidc_token_file_path: None,
            authority_host: "https://login.microsoftonline.com".to_string(),
            environment: "public".to_string(),
            no_auth: false,
            max_poll_interval: Duration::from_secs(60),
            default_poll_interval: Duration::from_secs(10),
            max_attempts: 8,
            retry_base_delay: Duration::from_secs(2),
            retry_max_delay: Duration::from_secs(120),
            request_timeout: Duration::from_secs(120),
            ca_cert: None,
        }
    }
}

fn environment_hosts(env: &str) -> Option<(&'static str, &'static str)> {
    match env
        .to_ascii_lowercase()
        .replace([' ', '_', '-'], "")
        .as_str()
    {
        "" | "public" | "azurecloud" | "azurepubliccloud" => Some((
            "https://management.azure.com",
            "https://login.microsoftonline.com",
        )),
        "usgovernment" | "usgov" | "azureusgovernment" | "azureusgovernmentcloud" => Some((
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
        )),
        "china" | "azurechina" | "azurechinacloud" => Some((
            "https://management.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
        )),
        _ => None,
    }
}

fn parse_bool(name: &str, raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(format!("`{name}` must be true or false, got {raw:?}")),
    }
}

fn parse_seconds(name: &str, raw: &str) -> Result<Duration, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{name}` must be a number of seconds, got {raw:?}"))
}

/// Normalise an endpoint/authority: must be http(s), no trailing slash.
fn normalise_url(name: &str, raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let ok = reqwest::Url::parse(trimmed)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false);
    if !ok {
        return Err(format!("`{name}` must be an http(s) URL, got {raw:?}"));
    }
    Ok(trimmed.to_string())
}

impl AzureSettings {
    /// Settings from a `provider "azurerm"` block, falling back to `ARM_*` variables read
    /// through `env`. Pure: no I/O. Block attributes win over the environment, except
    /// `NETFORM_ARM_ENDPOINT`, which overrides the endpoint (it points the provider at the
    /// emulator).
    ///
    /// Extra variables understood: `ARM_ENVIRONMENT`, `ARM_METADATA_HOSTNAME`,
    /// `NETFORM_ARM_NO_AUTH`, `NETFORM_ARM_AUTHORITY_HOST`, `NETFORM_ARM_CA_CERT` (a PEM file of
    /// extra CAs to trust), `NETFORM_ARM_MAX_POLL_INTERVAL` and
    /// `NETFORM_ARM_RETRY_MAX_DELAY` (seconds), `NETFORM_ARM_MAX_ATTEMPTS`.
    pub fn from_config(
        provider_block: &Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AzureSettings, String> {
        let block = match provider_block {
            Value::Object(_) | Value::Null => provider_block,
            other => {
                return Err(format!(
                    "the provider block must be an object, got {}",
                    other.type_name()
                ));
            }
        };
        // String attribute: block first, then the environment variable. Empty strings count as unset.
        let string = |attr: &str, var: Option<&str>| -> Result<Option<String>, String> {
            match block.get(attr) {
                Value::Unknown => Err(format!(
                    "provider attribute `{attr}` depends on a value not known until apply; provider configuration must be known at plan time"
                )),
                Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                Value::Number(n) => Ok(Some(netform_engine::value::format_number(*n))),
                Value::Null | Value::String(_) => Ok(var
                    .and_then(env)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())),
                other => Err(format!(
                    "provider attribute `{attr}` must be a string, got {}",
                    other.type_name()
                )),
            }
        };
        let boolean = |attr: &str, var: Option<&str>, default: bool| -> Result<bool, String> {
            match block.get(attr) {
                Value::Unknown => Err(format!(
                    "provider attribute `{attr}` depends on a value not known until apply; provider configuration must be known at plan time"
                )),
                Value::Bool(b) => Ok(*b),
                Value::String(s) => parse_bool(attr, s),
                Value::Null => match var.and_then(env) {
                    Some(raw) if !raw.trim().is_empty() => parse_bool(var.unwrap_or(attr), &raw),
                    _ => Ok(default),
                },
                other => Err(format!(
                    "provider attribute `{attr}` must be a bool, got {}",
                    other.type_name()
                )),
            }
        };

        let mut s = AzureSettings::default();
        let environment =
            string("environment", Some("ARM_ENVIRONMENT"))?.unwrap_or_else(|| "public".to_string());
        let (default_endpoint, default_authority) =
            environment_hosts(&environment).ok_or_else(|| {
                format!(
                    "unknown `environment` {environment:?}: expected public, usgovernment or china"
                )
            })?;
        s.environment = environment.to_ascii_lowercase();
        s.endpoint = default_endpoint.to_string();
        s.authority_host = default_authority.to_string();
        if let Some(host) = string("metadata_host", Some("ARM_METADATA_HOSTNAME"))? {
            let url = if host.contains("://") {
                host
            } else {
                format!("https://{host}")
            };
            s.endpoint = normalise_url("metadata_host", &url)?;
        }
        if let Some(endpoint) = env("NETFORM_ARM_ENDPOINT").filter(|e| !e.trim().is_empty()) {
            s.endpoint = normalise_url("NETFORM_ARM_ENDPOINT", &endpoint)?;
        }
        if let Some(authority) = env("NETFORM_ARM_AUTHORITY_HOST").filter(|e| !e.trim().is_empty())
        {
            s.authority_host = normalise_url("NETFORM_ARM_AUTHORITY_HOST", &authority)?;
        }

        s.ca_cert = env("NETFORM_ARM_CA_CERT")
            .filter(|p| !p.trim().is_empty())
            .map(|p| PathBuf::from(p.trim()));
        s.no_auth = match env("NETFORM_ARM_NO_AUTH") {
            Some(raw) => parse_bool("NETFORM_ARM_NO_AUTH", &raw)?,
            None => false,
        };
        s.tenant_id = string("tenant_id", Some("ARM_TENANT_ID"))?;
        s.client_id = string("client_id", Some("ARM_CLIENT_ID"))?;
        s.client_secret = string("client_secret", Some("ARM_CLIENT_SECRET"))?;
        s.use_msi = boolean("use_msi", Some("ARM_USE_MSI"), false)?;
        s.use_cli = boolean("use_cli", Some("ARM_USE_CLI"), true)?;
        s.use_oidc = boolean("use_oidc", Some("ARM_USE_OIDC"), false)?;
        s.oidc_token_file_path =
            string("oidc_token_file_path", Some("ARM_OIDC_TOKEN_FILE_PATH"))?.map(PathBuf::from);

        s.subscription_id = match string("subscription_id", Some("ARM_SUBSCRIPTION_ID"))? {
            Some(sub) => sub,
            None if s.no_auth => EMULATOR_SUBSCRIPTION.to_string(),
            None => {
                return Err(
                    "`subscription_id` is required: set it in the provider \"azurerm\" block or ARM_SUBSCRIPTION_ID"
                        .to_string(),
                );
            }
        };
        if s.subscription_id.contains('/') || s.subscription_id.contains(char::is_whitespace) {
            return Err(format!(
                "`subscription_id` {:?} is not a valid subscription id",
                s.subscription_id
            ));
        }

        if let Some(raw) = env("NETFORM_ARM_MAX_POLL_INTERVAL") {
            s.max_poll_interval = parse_seconds("NETFORM_ARM_MAX_POLL_INTERVAL", &raw)?;
        }
        if let Some(raw) = env("NETFORM_ARM_RETRY_MAX_DELAY") {
            s.retry_max_delay = parse_seconds("NETFORM_ARM_RETRY_MAX_DELAY", &raw)?;
        }
        if let Some(raw) = env("NETFORM_ARM_MAX_ATTEMPTS") {
            s.max_attempts = raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    format!("`NETFORM_ARM_MAX_ATTEMPTS` must be a positive integer, got {raw:?}")
                })?;
        }

        if !s.no_auth {
            if s.client_secret.is_some() && (s.client_id.is_none() || s.tenant_id.is_none()) {
                return Err("`client_secret` needs `client_id` and `tenant_id` (or ARM_CLIENT_ID / ARM_TENANT_ID)".into());
            }
            if s.use_oidc
                && (s.client_id.is_none()
                    || s.tenant_id.is_none()
                    || s.oidc_token_file_path.is_none())
            {
                return Err(
                    "`use_oidc` needs `client_id`, `tenant_id` and `oidc_token_file_path` (or ARM_OIDC_TOKEN_FILE_PATH)"
                        .into(),
                );
            }
            if s.client_secret.is_none() && !s.use_oidc && !s.use_msi && !s.use_cli {
                return Err("no authentication method enabled: set a client secret, use_oidc, use_msi or use_cli".into());
            }
        }
        Ok(s)
    }

    /// Settings for the local emulator at `endpoint`: no authentication, fast polling.
    pub fn for_emulator(endpoint: &str) -> AzureSettings {
        AzureSettings {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            subscription_id: EMULATOR_SUBSCRIPTION.to_string(),
            no_auth: true,
            use_cli: false,
            max_poll_interval: Duration::from_millis(250),
            default_poll_interval: Duration::from_millis(100),
            retry_base_delay: Duration::from_millis(50),
            retry_max_delay: Duration::from_secs(2),
            ..AzureSettings::default()
        }
    }

    /// OAuth scope for ARM: `{endpoint}/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.endpoint.trim_end_matches('/'))
    }
}

/// An `HttpClient` that sends requests for the https placeholder authority to a local http
/// login server (azure_identity refuses http authorities).
#[derive(Debug)]
struct Redirect {
    inner: Arc<dyn HttpClient>,
    target: reqwest::Url,
}

#[async_trait]
impl HttpClient for Redirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut req = request.clone();
        let url = req.url_mut();
        if url.host_str() == Some(PLACEHOLDER_AUTHORITY_HOST) {
            let _ = url.set_scheme(self.target.scheme());
            let _ = url.set_host(self.target.host_str());
            let _ = url.set_port(self.target.port_or_known_default());
        }
        self.inner.execute_request(&req).await
    }
}

const PLACEHOLDER_AUTHORITY_HOST: &str = "login.netform-local.invalid";

/// A reqwest client builder that trusts `settings.ca_cert` besides the system roots. Reads the
/// file (the provider's own I/O; settings stay pure).
pub fn http_client_builder(
    settings: &AzureSettings,
) -> Result<reqwest::ClientBuilder, ProviderError> {
    let builder = reqwest::Client::builder();
    let Some(path) = &settings.ca_cert else {
        return Ok(builder);
    };
    let pem = std::fs::read(path).map_err(|e| {
        ProviderError::new(
            ErrorKind::Other,
            format!("cannot read the CA certificate {}: {e}", path.display()),
        )
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other,
                format!(
                    "the CA certificate file {} holds no PEM certificate",
                    path.display()
                ),
            )
        })?;
    Ok(builder.tls_certs_merge(certs))
}

fn identity_http_client(settings: &AzureSettings) -> Result<reqwest::Client, ProviderError> {
    http_client_builder(settings)?.build().map_err(|e| {
        ProviderError::new(
            ErrorKind::Other,
            format!("cannot build the HTTP client: {e}"),
        )
    })
}

fn client_options(settings: &AzureSettings) -> Result<ClientOptions, ProviderError> {
    let mut options = ClientOptions::default();
    let authority = reqwest::Url::parse(&settings.authority_host)
        .map_err(|_| ProviderError::new(ErrorKind::Auth, "invalid authority host URL"))?;
    let authority_host = if authority.scheme() == "http" {
        options.transport = Some(Transport::new(Arc::new(Redirect {
            inner: Arc::new(identity_http_client(settings)?),
            target: authority,
        })));
        format!("https://{PLACEHOLDER_AUTHORITY_HOST}")
    } else {
        if settings.ca_cert.is_some() {
            // An https authority with its own CA (the emulator serving TLS): azure_identity
            // talks to it directly, through a client that trusts that CA.
            options.transport = Some(Transport::new(Arc::new(identity_http_client(settings)?)));
        }
        settings.authority_host.clone()
    };
    let mut custom = azure_core::cloud::CustomConfiguration::default();
    custom.authority_host = authority_host;
    options.cloud = Some(Arc::new(azure_core::cloud::CloudConfiguration::Custom(
        custom,
    )));
    Ok(options)
}

fn identity_error(which: &str, err: azure_core::Error) -> ProviderError {
    // azure_identity errors describe the failure without echoing secrets.
    ProviderError::new(ErrorKind::Auth, format!("{which}: {err}"))
}

struct CachedToken {
    token: String,
    expires_on: azure_core::time::OffsetDateTime,
}

/// Bearer tokens for ARM: a credential chain with a cache.
pub struct TokenSource {
    chain: Vec<(&'static str, Arc<dyn TokenCredential>)>,
    scope: String,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field(
                "chain",
                &self.chain.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            )
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Refresh this long before the token expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

impl TokenSource {
    /// The credential chain the settings enable, in order: client secret → workload identity
    /// (OIDC) → managed identity → Azure CLI. `Ok(None)` when `no_auth` is set.
    pub fn new(settings: &AzureSettings) -> Result<Option<TokenSource>, ProviderError> {
        if settings.no_auth {
            return Ok(None);
        }
        let mut chain: Vec<(&'static str, Arc<dyn TokenCredential>)> = Vec::new();
        if let (Some(tenant), Some(client), Some(secret)) = (
            &settings.tenant_id,
            &settings.client_id,
            &settings.client_secret,
        ) {
            let cred = ClientSecretCredential::new(
                tenant,
                client.clone(),
                Secret::new(secret.clone()),
                Some(ClientSecretCredentialOptions {
                    client_options: client_options(settings)?,
                }),
            )
            .map_err(|e| identity_error("client secret credential", e))?;
            chain.push(("client secret", cred));
        }
        if settings.use_oidc {
            let cred = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(settings)?,
                },
                client_id: settings.client_id.clone(),
                tenant_id: settings.tenant_id.clone(),
                token_file_path: settings.oidc_token_file_path.clone(),
            }))
            .map_err(|e| identity_error("workload identity credential", e))?;
            chain.push(("workload identity", cred));
        }
        if settings.use_msi {
            let cred = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: settings.client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            }))
            .map_err(|e| identity_error("managed identity credential", e))?;
            chain.push(("managed identity", cred));
        }
        if settings.use_cli {
            let cred = AzureCliCredential::new(Some(AzureCliCredentialOptions {
                tenant_id: settings.tenant_id.clone(),
                ..Default::default()
            }))
            .map_err(|e| identity_error("Azure CLI credential", e))?;
            chain.push(("Azure CLI", cred));
        }
        if chain.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::Auth,
                "no Azure credential is configured",
            ));
        }
        Ok(Some(TokenSource {
            chain,
            scope: settings.scope(),
            cache: tokio::sync::Mutex::new(None),
        }))
    }

    /// A bearer token, from the cache while it is valid for more than five minutes.
    pub async fn token(&self) -> Result<String, ProviderError> {
        let mut cache = self.cache.lock().await;
        let now = azure_core::time::OffsetDateTime::now_utc();
        if let Some(cached) = cache.as_ref()
            && cached.expires_on - now > REFRESH_MARGIN
        {
            return Ok(cached.token.clone());
        }
        let mut failures = Vec::new();
        for (name, cred) in &self.chain {
            match cred.get_token(&[self.scope.as_str()], None).await {
                Ok(tok) => {
                    let token = tok.token.secret().to_string();
                    *cache = Some(CachedToken {
                        token: token.clone(),
                        expires_on: tok.expires_on,
                    });
                    return Ok(token);
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        Err(ProviderError::new(
            ErrorKind::Auth,
            format!(
                "could not get an Azure token; tried {}",
                failures.join("; ")
            ),
        ))
    }
}
