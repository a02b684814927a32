//! A small Azure Resource Manager client on reqwest: JSON GET/PUT/DELETE, retries with
//! exponential backoff and jitter, and the long-running-operation protocol (arm-api.md §4.5).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use netform_engine::provider::{ErrorKind, OpContext, ProviderError};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::auth::{AzureSettings, TokenSource};

/// api-version for Microsoft.Network.
pub const NETWORK_API_VERSION: &str = "2024-05-01";
/// api-version for Microsoft.Resources (resource groups).
pub const RESOURCES_API_VERSION: &str = "2021-04-01";

/// Knobs of the client, taken from [`AzureSettings`].
#[derive(Debug, Clone)]
pub struct ArmOptions {
    pub max_attempts: u32,
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    pub max_poll_interval: Duration,
    pub default_poll_interval: Duration,
    pub request_timeout: Duration,
}

impl ArmOptions {
    pub fn from_settings(s: &AzureSettings) -> Self {
        ArmOptions {
            max_attempts: s.max_attempts.max(1),
            retry_base_delay: s.retry_base_delay,
            retry_max_delay: s.retry_max_delay,
            max_poll_interval: s.max_poll_interval,
            default_poll_interval: s.default_poll_interval,
            request_timeout: s.request_timeout,
        }
    }
}

/// One HTTP response, body parsed as JSON when there is one. No `Debug`: bodies may hold secrets.
#[derive(Clone)]
pub(crate) struct ArmResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Json,
}

impl ArmResponse {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    }
    fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .to_string();
    raw.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The deadline of one provider operation (create/update/delete/read).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    end: Instant,
}

impl Deadline {
    pub fn after(timeout: Duration) -> Self {
        let start = Instant::now();
        Deadline {
            start,
            end: start
                .checked_add(timeout)
                .unwrap_or(start + Duration::from_secs(86_400 * 365)),
        }
    }
    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
    fn expired(&self) -> bool {
        self.remaining().is_zero()
    }
}

/// "1m05s", "12s", "1h02m".
pub fn format_elapsed(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// Map an ARM error response to a provider error. The message is Azure's own; request bodies
/// (which may hold secrets) are never included.
pub fn error_from_response(
    method: &Method,
    path: &str,
    status: StatusCode,
    body: &Json,
) -> ProviderError {
    let err = body.get("error").unwrap_or(body);
    let code = err.get("code").and_then(Json::as_str).map(str::to_string);
    let message = err
        .get("message")
        .and_then(Json::as_str)
        .map(str::to_string);
    let kind = match status.as_u16() {
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        408 => ErrorKind::Transient,
        400 | 412 | 422 => ErrorKind::Invalid,
        401 | 403 => ErrorKind::Auth,
        s if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    let text = match (&code, &message) {
        (Some(c), Some(m)) => format!("{method} {path}: HTTP {}: {c}: {m}", status.as_u16()),
        (Some(c), None) => format!("{method} {path}: HTTP {}: {c}", status.as_u16()),
        (None, Some(m)) => format!("{method} {path}: HTTP {}: {m}", status.as_u16()),
        (None, None) => format!("{method} {path}: HTTP {}", status.as_u16()),
    };
    let mut e = ProviderError::new(kind, text);
    e.code = code;
    e
}

fn error_code(body: &Json) -> Option<&str> {
    body.get("error")
        .and_then(|e| e.get("code"))
        .and_then(Json::as_str)
}

/// Codes that mean "someone else is writing this object or its parent; try again".
fn is_busy_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AnotherOperationInProgress")
            | Some("RetryableErrorDueToAnotherOperation")
            | Some("OperationNotAllowedDueToAnotherOperation")
            | Some("ReferencedResourceNotProvisioned")
    )
}

/// Operation failure codes worth re-issuing the operation for (the service failed, not the request).
fn is_transient_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("InternalServerError")
            | Some("InternalError")
            | Some("ServiceUnavailable")
            | Some("GatewayTimeout")
            | Some("RetryableError")
            | Some("TooManyRequests")
            | Some("OperationPreempted")
    )
}

/// A failed long-running operation that re-issuing the PUT/DELETE may fix.
fn reissuable(e: &ProviderError) -> bool {
    is_busy_code(e.code.as_deref())
        || is_transient_code(e.code.as_deref())
        || e.kind == ErrorKind::Transient
}

fn is_retryable(status: StatusCode, body: &Json, headers: &HeaderMap) -> bool {
    let s = status.as_u16();
    s == 429
        || s == 408
        || s >= 500
        || (s == 409 && is_busy_code(error_code(body)))
        || (s >= 400
            && s != 404
            && headers.contains_key("retry-after")
            && is_busy_code(error_code(body)))
}

/// Same scheme, host and port.
fn same_origin(url: &str, endpoint: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(endpoint)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str().map(str::to_ascii_lowercase)
                    == b.host_str().map(str::to_ascii_lowercase)
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// The path part of a URL, for error messages (never the query string).
fn display_path(url: &str) -> String {
    // Plain string work: parsing the URL cost a tenth of a whole GET.
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    };
    let end = path.find(['?', '#']).unwrap_or(path.len());
    path[..end].to_string()
}

/// A listing that pages on longer than this is refused rather than followed forever.
const MAX_LIST_PAGES: usize = 10_000;

/// The ARM HTTP client.
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: String,
    tokens: Option<TokenSource>,
    opts: ArmOptions,
    retries: Arc<AtomicU64>,
}

impl ArmClient {
    pub fn new(settings: &AzureSettings) -> Result<Self, ProviderError> {
        let http = crate::auth::http_client_builder(settings)?
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("netform-azurerm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::new(
                    ErrorKind::Other,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(ArmClient {
            http,
            endpoint: settings.endpoint.trim_end_matches('/').to_string(),
            tokens: TokenSource::new(settings)?,
            opts: ArmOptions::from_settings(settings),
            retries: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Number of retried HTTP requests (and re-issued operations) since the client was made.
    pub fn retry_count(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    pub fn options(&self) -> &ArmOptions {
        &self.opts
    }

    /// Absolute URL for an ARM path (`/subscriptions/...`) with the api-version.
    pub fn url(&self, path: &str, api_version: &str) -> String {
        format!("{}{}?api-version={}", self.endpoint, path, api_version)
    }

    fn backoff(&self, attempt: u32, server_hint: Option<Duration>) -> Duration {
        let delay = match server_hint {
            Some(d) => d,
            None => {
                let exp = self
                    .opts
                    .retry_base_delay
                    .saturating_mul(1u32 << attempt.min(16));
                let capped = exp.min(self.opts.retry_max_delay);
                // Jitter: between half and the full delay.
                let frac = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
                capped.mul_f64(0.5 + 0.5 * frac)
            }
        };
        delay.min(self.opts.retry_max_delay)
    }

    /// One HTTP exchange with retries. Returns the final response whatever its status, unless a
    /// connection error persists through every attempt.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Json>,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<ArmResponse, ProviderError> {
        let path = display_path(url);
        let mut attempt: u32 = 0;
        loop {
            if deadline.expired() {
                return Err(timeout_error(&method, &path, deadline));
            }
            let mut req = self
                .http
                .request(method.clone(), url)
                .timeout(
                    self.opts
                        .request_timeout
                        .min(deadline.remaining())
                        .max(Duration::from_millis(1)),
                )
                .header("accept", "application/json");
            // The bearer token goes to the ARM endpoint only, never to another host that an
            // operation URL might name.
            if let Some(tokens) = self
                .tokens
                .as_ref()
                .filter(|_| same_origin(url, &self.endpoint))
            {
                let token = tokens.token().await?;
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        ProviderError::new(
                            ErrorKind::Auth,
                            "the access token is not a valid header value",
                        )
                    })?;
                value.set_sensitive(true);
                req = req.header("authorization", value);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let result = req.send().await;
            attempt += 1;
            let (retry, hint, failure) = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let bytes = match resp.bytes().await {
                        Ok(b) => Some(b),
                        Err(e) => {
                            if attempt >= self.opts.max_attempts {
                                return Err(ProviderError::new(
                                    ErrorKind::Transient,
                                    format!(
                                        "{method} {path}: reading the response failed: {}",
                                        short_error(&e)
                                    ),
                                ));
                            }
                            None
                        }
                    };
                    match bytes {
                        None => (
                            true,
                            None,
                            format!("reading the response of {method} {path} failed"),
                        ),
                        Some(bytes) => {
                            let body: Json = if bytes.is_empty() {
                                Json::Null
                            } else {
                                serde_json::from_slice(&bytes).unwrap_or(Json::Null)
                            };
                            if is_retryable(status, &body, &headers)
                                && attempt < self.opts.max_attempts
                            {
                                let hint = retry_after(&headers);
                                let what = error_code(&body)
                                    .map(str::to_string)
                                    .unwrap_or_else(|| status.to_string());
                                (true, hint, what)
                            } else {
                                return Ok(ArmResponse {
                                    status,
                                    headers,
                                    body,
                                });
                            }
                        }
                    }
                }
                Err(e) => {
                    if attempt >= self.opts.max_attempts {
                        let kind = if e.is_timeout() && deadline.expired() {
                            ErrorKind::Timeout
                        } else {
                            ErrorKind::Transient
                        };
                        return Err(ProviderError::new(
                            kind,
                            format!(
                                "{method} {path}: {} (after {attempt} attempts)",
                                short_error(&e)
                            ),
                        ));
                    }
                    (true, None, short_error(&e))
                }
            };
            debug_assert!(retry);
            self.retries.fetch_add(1, Ordering::Relaxed);
            let delay = self.backoff(attempt - 1, hint).min(deadline.remaining());
            (ctx.progress)(format!(
                "retrying {method} {path} in {:.1}s ({failure}, attempt {attempt} of {})",
                delay.as_secs_f64(),
                self.opts.max_attempts
            ));
            tokio::time::sleep(delay).await;
        }
    }

    /// GET a resource; `Ok(None)` on 404.
    pub async fn get(
        &self,
        path: &str,
        api_version: &str,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<Option<Json>, ProviderError> {
        let url = self.url(path, api_version);
        let resp = self.send(Method::GET, &url, None, deadline, ctx).await?;
        match resp.status.as_u16() {
            200..=299 => Ok(Some(resp.body)),
            404 => Ok(None),
            _ => Err(error_from_response(
                &Method::GET,
                path,
                resp.status,
                &resp.body,
            )),
        }
    }

    /// Every item of a collection (`{"value": [...], "nextLink": ...}`), following `nextLink`
    /// page by page. A collection whose parent is gone (404) is empty.
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<Vec<Json>, ProviderError> {
        let mut url = self.url(path, api_version);
        let mut out = Vec::new();
        for _ in 0..MAX_LIST_PAGES {
            let resp = self.send(Method::GET, &url, None, deadline, ctx).await?;
            match resp.status.as_u16() {
                200..=299 => {}
                404 => return Ok(out),
                _ => {
                    return Err(error_from_response(
                        &Method::GET,
                        path,
                        resp.status,
                        &resp.body,
                    ));
                }
            }
            let Json::Object(mut page) = resp.body else {
                return Ok(out);
            };
            if let Some(Json::Array(items)) = page.remove("value") {
                out.extend(items);
            }
            match page.get("nextLink").and_then(Json::as_str) {
                Some(next) if !next.is_empty() => url = next.to_string(),
                _ => return Ok(out),
            }
        }
        Err(ProviderError::new(
            ErrorKind::Other,
            format!("GET {path}: more than {MAX_LIST_PAGES} pages"),
        ))
    }

    /// PUT a resource and follow the long-running operation to completion; returns the final
    /// GET of the resource. If the operation fails because another operation holds the object,
    /// the PUT is re-issued (within `max_attempts`).
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Json,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<Json, ProviderError> {
        let url = self.url(path, api_version);
        let mut round: u32 = 0;
        loop {
            round += 1;
            let resp = self
                .send(Method::PUT, &url, Some(body), deadline, ctx)
                .await?;
            let mut op_failed = false;
            if !resp.status.is_success() {
                return Err(error_from_response(
                    &Method::PUT,
                    path,
                    resp.status,
                    &resp.body,
                ));
            }
            match self
                .follow(
                    &Method::PUT,
                    path,
                    api_version,
                    &resp,
                    deadline,
                    ctx,
                    &mut op_failed,
                )
                .await
            {
                Ok(()) => {}
                Err(e) if op_failed && reissuable(&e) && round < self.opts.max_attempts => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff(round - 1, None).min(deadline.remaining());
                    (ctx.progress)(format!(
                        "Azure reported {}; re-issuing PUT {path} in {:.1}s",
                        e.code.as_deref().unwrap_or("a conflict"),
                        delay.as_secs_f64()
                    ));
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            // Final GET (final-state-via azure-async-operation). A GET right after completion
            // can 404 for a moment (eventual consistency): retry a few times.
            let mut misses = 0;
            loop {
                match self.get(path, api_version, deadline, ctx).await? {
                    Some(found) => return Ok(found),
                    None if misses < 5 && !deadline.expired() => {
                        misses += 1;
                        tokio::time::sleep(self.poll_delay(None).min(deadline.remaining())).await;
                    }
                    None => {
                        return Err(ProviderError::new(
                            ErrorKind::NotFound,
                            format!("PUT {path} succeeded but the resource cannot be read back"),
                        ));
                    }
                }
            }
        }
    }

    /// DELETE a resource and follow the operation; 404 and 204 are success.
    pub async fn delete(
        &self,
        path: &str,
        api_version: &str,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        let url = self.url(path, api_version);
        let mut round: u32 = 0;
        loop {
            round += 1;
            let resp = self.send(Method::DELETE, &url, None, deadline, ctx).await?;
            let mut op_failed = false;
            match resp.status.as_u16() {
                404 | 204 => return Ok(()),
                200..=299 => {}
                _ => {
                    return Err(error_from_response(
                        &Method::DELETE,
                        path,
                        resp.status,
                        &resp.body,
                    ));
                }
            }
            match self
                .follow(
                    &Method::DELETE,
                    path,
                    api_version,
                    &resp,
                    deadline,
                    ctx,
                    &mut op_failed,
                )
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) if op_failed && reissuable(&e) && round < self.opts.max_attempts => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff(round - 1, None).min(deadline.remaining());
                    (ctx.progress)(format!(
                        "Azure reported {}; re-issuing DELETE {path} in {:.1}s",
                        e.code.as_deref().unwrap_or("a conflict"),
                        delay.as_secs_f64()
                    ));
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn poll_delay(&self, hint: Option<Duration>) -> Duration {
        hint.unwrap_or(self.opts.default_poll_interval)
            .min(self.opts.max_poll_interval)
    }

    /// Follow the LRO started by `initial`: prefer `Azure-AsyncOperation`, fall back to
    /// `Location`, else poll the resource's `provisioningState` (PUT) or its existence (DELETE).
    #[allow(clippy::too_many_arguments)] // private: the operation's whole context
    async fn follow(
        &self,
        method: &Method,
        path: &str,
        api_version: &str,
        initial: &ArmResponse,
        deadline: &Deadline,
        ctx: &OpContext,
        op_failed: &mut bool,
    ) -> Result<(), ProviderError> {
        let mut hint = initial.retry_after();
        if let Some(op_url) = initial.header("azure-asyncoperation") {
            return self
                .poll_async_operation(method, path, &op_url, hint, deadline, ctx, op_failed)
                .await;
        }
        if let Some(mut loc) = initial.header("location") {
            if initial.status.as_u16() != 202
                && *method == Method::PUT
                && provisioning_done(&initial.body)
            {
                {
                    *op_failed = true;
                    return check_provisioning(method, path, &initial.body);
                }
            }
            loop {
                let delay = self.poll_delay(hint);
                tokio::time::sleep(delay.min(deadline.remaining())).await;
                if deadline.expired() {
                    return Err(timeout_error(method, path, deadline));
                }
                let resp = self.send(Method::GET, &loc, None, deadline, ctx).await?;
                match resp.status.as_u16() {
                    202 => {
                        (ctx.progress)(format!(
                            "waiting for Azure: InProgress ({} elapsed)",
                            format_elapsed(deadline.elapsed())
                        ));
                        hint = resp.retry_after();
                        if let Some(next) = resp.header("location") {
                            loc = next;
                        }
                    }
                    200..=299 => {
                        (ctx.progress)(format!(
                            "waiting for Azure: Succeeded ({} elapsed)",
                            format_elapsed(deadline.elapsed())
                        ));
                        return Ok(());
                    }
                    404 if *method == Method::DELETE => return Ok(()),
                    _ => {
                        *op_failed = resp.status.is_server_error();
                        return Err(error_from_response(method, path, resp.status, &resp.body));
                    }
                }
            }
        }
        // No operation header: poll the resource itself.
        if *method == Method::PUT {
            let mut body = initial.body.clone();
            loop {
                if provisioning_done(&body) {
                    {
                        *op_failed = true;
                        return check_provisioning(method, path, &body);
                    }
                }
                let state = provisioning_state(&body).unwrap_or("Updating").to_string();
                (ctx.progress)(format!(
                    "waiting for Azure: {state} ({} elapsed)",
                    format_elapsed(deadline.elapsed())
                ));
                tokio::time::sleep(self.poll_delay(hint).min(deadline.remaining())).await;
                if deadline.expired() {
                    return Err(timeout_error(method, path, deadline));
                }
                let url = self.url(path, api_version);
                let resp = self.send(Method::GET, &url, None, deadline, ctx).await?;
                if !resp.status.is_success() {
                    return Err(error_from_response(
                        &Method::GET,
                        path,
                        resp.status,
                        &resp.body,
                    ));
                }
                hint = resp.retry_after();
                body = resp.body;
            }
        }
        // DELETE without operation headers: 200 means done, 202 means poll until 404.
        if initial.status.as_u16() != 202 {
            return Ok(());
        }
        loop {
            tokio::time::sleep(self.poll_delay(hint).min(deadline.remaining())).await;
            if deadline.expired() {
                return Err(timeout_error(method, path, deadline));
            }
            let url = self.url(path, api_version);
            let resp = self.send(Method::GET, &url, None, deadline, ctx).await?;
            match resp.status.as_u16() {
                404 => return Ok(()),
                200..=299 => {
                    let state = provisioning_state(&resp.body)
                        .unwrap_or("Deleting")
                        .to_string();
                    (ctx.progress)(format!(
                        "waiting for Azure: {state} ({} elapsed)",
                        format_elapsed(deadline.elapsed())
                    ));
                    hint = resp.retry_after();
                }
                _ => {
                    return Err(error_from_response(
                        &Method::GET,
                        path,
                        resp.status,
                        &resp.body,
                    ));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // private: the operation's whole context
    async fn poll_async_operation(
        &self,
        method: &Method,
        path: &str,
        op_url: &str,
        mut hint: Option<Duration>,
        deadline: &Deadline,
        ctx: &OpContext,
        op_failed: &mut bool,
    ) -> Result<(), ProviderError> {
        loop {
            tokio::time::sleep(self.poll_delay(hint).min(deadline.remaining())).await;
            if deadline.expired() {
                return Err(timeout_error(method, path, deadline));
            }
            let resp = self.send(Method::GET, op_url, None, deadline, ctx).await?;
            if !resp.status.is_success() {
                return Err(error_from_response(
                    &Method::GET,
                    &display_path(op_url),
                    resp.status,
                    &resp.body,
                ));
            }
            let status = resp
                .body
                .get("status")
                .and_then(Json::as_str)
                .unwrap_or("InProgress")
                .to_string();
            (ctx.progress)(format!(
                "waiting for Azure: {status} ({} elapsed)",
                format_elapsed(deadline.elapsed())
            ));
            match status.to_ascii_lowercase().as_str() {
                "succeeded" => return Ok(()),
                "failed" | "canceled" | "cancelled" => {
                    let err = resp.body.get("error");
                    let code = err
                        .and_then(|e| e.get("code"))
                        .and_then(Json::as_str)
                        .map(str::to_string);
                    let message = err
                        .and_then(|e| e.get("message"))
                        .and_then(Json::as_str)
                        .unwrap_or("no details given");
                    let kind = match code.as_deref() {
                        c if is_busy_code(c) => ErrorKind::Conflict,
                        c if is_transient_code(c) => ErrorKind::Transient,
                        _ if status.eq_ignore_ascii_case("failed") => ErrorKind::Invalid,
                        _ => ErrorKind::Other,
                    };
                    *op_failed = true;
                    let mut e = ProviderError::new(
                        kind,
                        format!(
                            "{method} {path}: operation {status}: {}{message}",
                            code.as_deref()
                                .map(|c| format!("{c}: "))
                                .unwrap_or_default()
                        ),
                    );
                    e.code = code;
                    return Err(e);
                }
                _ => hint = resp.retry_after(),
            }
        }
    }
}

fn provisioning_state(body: &Json) -> Option<&str> {
    body.get("properties")
        .and_then(|p| p.get("provisioningState"))
        .and_then(Json::as_str)
}

/// Terminal provisioning state, or none at all (= Succeeded).
fn provisioning_done(body: &Json) -> bool {
    match provisioning_state(body) {
        None => true,
        Some(s) => matches!(
            s.to_ascii_lowercase().as_str(),
            "succeeded" | "failed" | "canceled" | "cancelled"
        ),
    }
}

fn check_provisioning(method: &Method, path: &str, body: &Json) -> Result<(), ProviderError> {
    match provisioning_state(body) {
        Some(s) if !s.eq_ignore_ascii_case("succeeded") => Err(ProviderError::new(
            ErrorKind::Transient,
            format!("{method} {path}: the resource's provisioningState is {s}"),
        )
        .with_code(format!("Provisioning{s}"))),
        _ => Ok(()),
    }
}

fn timeout_error(method: &Method, path: &str, deadline: &Deadline) -> ProviderError {
    ProviderError::new(
        ErrorKind::Timeout,
        format!(
            "{method} {path}: timed out after {} waiting for Azure",
            format_elapsed(deadline.elapsed())
        ),
    )
}

/// A connection error without the URL's query string (reqwest includes the URL).
fn short_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "request failed"
    } else if e.is_body() || e.is_decode() {
        "response body error"
    } else {
        "HTTP error"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_path_is_the_path_without_the_query() {
        use super::display_path;
        assert_eq!(
            display_path("https://management.azure.com/subscriptions/s/x?api-version=1"),
            "/subscriptions/s/x"
        );
        assert_eq!(display_path("http://127.0.0.1:8080"), "/");
        assert_eq!(display_path("/a/b?c"), "/a/b");
    }

    use super::*;

    #[test]
    fn maps_error_bodies() {
        let body = serde_json::json!({"error":{"code":"InUseSubnetCannotBeDeleted","message":"Subnet GatewaySubnet is in use"}});
        let e = error_from_response(&Method::DELETE, "/x", StatusCode::BAD_REQUEST, &body);
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.code.as_deref(), Some("InUseSubnetCannotBeDeleted"));
        assert!(e.message.contains("in use"));
        for (status, kind) in [
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (429, ErrorKind::Throttled),
            (500, ErrorKind::Transient),
            (503, ErrorKind::Transient),
            (401, ErrorKind::Auth),
            (403, ErrorKind::Auth),
        ] {
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
            assert_eq!(
                error_from_response(&Method::GET, "/x", s, &Json::Null).kind,
                kind,
                "{status}"
            );
        }
    }

    #[test]
    fn retryable_statuses() {
        let busy =
            serde_json::json!({"error":{"code":"AnotherOperationInProgress","message":"busy"}});
        let other = serde_json::json!({"error":{"code":"Conflict","message":"x"}});
        let h = HeaderMap::new();
        assert!(is_retryable(StatusCode::CONFLICT, &busy, &h));
        assert!(!is_retryable(StatusCode::CONFLICT, &other, &h));
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS, &Json::Null, &h));
        assert!(is_retryable(StatusCode::REQUEST_TIMEOUT, &Json::Null, &h));
        assert!(is_retryable(StatusCode::BAD_GATEWAY, &Json::Null, &h));
        assert!(!is_retryable(StatusCode::BAD_REQUEST, &other, &h));
        assert!(!is_retryable(StatusCode::NOT_FOUND, &Json::Null, &h));
    }

    #[test]
    fn token_only_for_the_arm_endpoint() {
        assert!(same_origin(
            "https://management.azure.com/subscriptions/x?api-version=1",
            "https://management.azure.com"
        ));
        assert!(same_origin(
            "https://MANAGEMENT.azure.com:443/x",
            "https://management.azure.com"
        ));
        assert!(!same_origin(
            "https://evil.example.com/x",
            "https://management.azure.com"
        ));
        assert!(!same_origin(
            "http://management.azure.com/x",
            "https://management.azure.com"
        ));
        assert!(same_origin(
            "http://127.0.0.1:4000/ops/1",
            "http://127.0.0.1:4000"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:4001/ops/1",
            "http://127.0.0.1:4000"
        ));
    }

    #[test]
    fn elapsed_format() {
        assert_eq!(format_elapsed(Duration::from_secs(5)), "5s");
        assert_eq!(format_elapsed(Duration::from_secs(65)), "1m05s");
        assert_eq!(format_elapsed(Duration::from_secs(3720)), "1h02m");
    }
}
