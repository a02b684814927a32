//! HTTP dispatch. Every request takes the state lock, settles due operations, is handled
//! synchronously, and persists the state if anything changed.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::EmulatorConfig;
use crate::api::{
    self, ApiError, ApiResult, NETWORK_MAX, NETWORK_MIN, RESOURCES_MAX, RESOURCES_MIN, Route,
    empty_response, json_response, normalize_location, query_param, rg_id, set_header, top_id,
};
use crate::auth::{self, Tokens};
use crate::kinds::{Kind, TOP_LEVEL};
use crate::rules::{self, Ctx, Side};
use crate::store::{
    Op, OpError, OpKind, ProviderState, Res, Store, key, new_etag, new_guid, now_ms, set_prop,
    set_prov_state,
};

const PAGE_SIZE: usize = 100;

pub struct Shared {
    cfg: EmulatorConfig,
    base: String,
    inner: Mutex<Inner>,
    rng: Mutex<u64>,
    /// ARM responses sent, by HTTP status (for tests: "no 409 was ever answered").
    stats: Mutex<std::collections::BTreeMap<u16, u64>>,
    /// ARM requests answered, by method (for tests: "a refresh listed instead of reading
    /// each object").
    methods: Mutex<std::collections::BTreeMap<String, u64>>,
    /// Bearer tokens issued by the token endpoints.
    tokens: Tokens,
}

enum Fault {
    Throttle,
    Internal,
    Unavailable,
    Drop,
    Slow,
    /// The request is served, but its long-running operation ends `Failed`.
    FailOperation,
}

/// A response body that fails immediately: hyper aborts the connection.
struct Broken;

impl futures_core::Stream for Broken {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "netform-emulator: injected dropped connection",
        ))))
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Inner {
    store: Store,
    stamp: Option<Stamp>,
}

/// Identity of the data file's current version: mtime, length and (on unix) inode — every
/// save renames a new file into place, so the inode changes even within one mtime tick.
type Stamp = (SystemTime, u64, u64);

fn file_stamp(path: &std::path::Path) -> Option<Stamp> {
    let md = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&md);
    #[cfg(not(unix))]
    let ino = 0;
    Some((md.modified().ok()?, md.len(), ino))
}

impl Shared {
    pub fn new(cfg: EmulatorConfig, base: String, store: Store) -> Shared {
        let stamp = cfg.data_file.as_deref().and_then(file_stamp);
        let seed = cfg.faults.as_ref().map(|f| f.seed).unwrap_or(0);
        Shared {
            cfg,
            base,
            inner: Mutex::new(Inner { store, stamp }),
            rng: Mutex::new(seed),
            stats: Mutex::new(std::collections::BTreeMap::new()),
            methods: Mutex::new(std::collections::BTreeMap::new()),
            tokens: Tokens::default(),
        }
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.cfg
    }

    fn pick_fault(&self, uri: &Uri) -> Option<Fault> {
        let f = self.cfg.faults.as_ref()?;
        if f.rate <= 0.0 || !uri.path().starts_with("/subscriptions") {
            return None;
        }
        let mut st = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let roll = (splitmix(&mut st) >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= f.rate {
            return None;
        }
        let kinds = if f.fail_operations { 6 } else { 5 };
        Some(match splitmix(&mut st) % kinds {
            0 => Fault::Throttle,
            1 => Fault::Internal,
            2 => Fault::Unavailable,
            3 => Fault::Drop,
            5 => Fault::FailOperation,
            _ => Fault::Slow,
        })
    }

    async fn handle(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        if method == Method::GET && uri.path() == "/_emulator/stats" {
            let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            let by_status: serde_json::Map<String, Value> = stats
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            let methods = self
                .methods
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            return json_response(200, &json!({ "responses": by_status, "requests": methods }));
        }
        let arm = uri.path().starts_with("/subscriptions");
        let verb = method.to_string();
        let resp = self.handle_request(method, uri, headers, body).await;
        if arm {
            let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            *stats.entry(resp.status().as_u16()).or_default() += 1;
            drop(stats);
            let mut methods = self.methods.lock().unwrap_or_else(|e| e.into_inner());
            *methods.entry(verb).or_default() += 1;
        }
        resp
    }

    async fn handle_request(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let fault = self.pick_fault(&uri);
        let mut resp = match fault {
            None => return self.dispatch(method, uri, headers, body, false),
            Some(Fault::FailOperation) => return self.dispatch(method, uri, headers, body, true),
            Some(Fault::Slow) => {
                let d = self
                    .cfg
                    .faults
                    .as_ref()
                    .map(|f| f.slow_delay)
                    .unwrap_or_default();
                tokio::time::sleep(d).await;
                return self.dispatch(method, uri, headers, body, false);
            }
            Some(Fault::Throttle) => {
                let sub = uri.path().split('/').nth(2).unwrap_or("").to_string();
                let kind = match method {
                    Method::GET | Method::HEAD => "read",
                    Method::DELETE => "delete",
                    _ => "write",
                };
                let mut r = ApiError::new(
                    429,
                    "SubscriptionRequestsThrottled",
                    format!("Number of '{kind}' requests for subscription '{sub}' actor 'netform-emulator' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling"),
                )
                .into_response();
                set_header(r.headers_mut(), "retry-after", "1");
                r
            }
            Some(Fault::Internal) => ApiError::new(
                500,
                "InternalServerError",
                "Encountered internal server error. (injected by netform-emulator)",
            )
            .into_response(),
            Some(Fault::Unavailable) => {
                let mut r = ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "The service is temporarily unavailable. (injected by netform-emulator)",
                )
                .into_response();
                set_header(r.headers_mut(), "retry-after", "1");
                r
            }
            Some(Fault::Drop) => {
                let mut r = Response::new(axum::body::Body::from_stream(Broken));
                set_header(
                    r.headers_mut(),
                    "content-type",
                    "application/json; charset=utf-8",
                );
                r
            }
        };
        common_headers(&mut resp, &method, &headers);
        resp
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn save(&self, inner: &mut Inner) {
        if let Some(path) = &self.cfg.data_file {
            match inner.store.save(path) {
                Ok(()) => inner.stamp = file_stamp(path),
                Err(e) => eprintln!("netform-emulator: cannot persist state: {e}"),
            }
        }
    }

    pub fn persist_now(&self) {
        let mut g = self.lock();
        self.save(&mut g);
    }

    /// Another process (or `set_provider_state_in_file`) changed the data file: reload it.
    fn maybe_reload(&self, inner: &mut Inner) {
        let Some(path) = &self.cfg.data_file else {
            return;
        };
        let cur = file_stamp(path);
        if cur.is_some() && cur != inner.stamp {
            if let Ok(st) = Store::load_or_default(path) {
                inner.store = st;
            }
            inner.stamp = cur;
        }
    }

    fn dispatch(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        fail_op: bool,
    ) -> Response {
        let mut guard = self.lock();
        let inner = &mut *guard;
        self.maybe_reload(inner);
        let now = now_ms();
        let settled = inner.store.settle(now, self.cfg.auto_provision_after);
        let mut h = H {
            cfg: &self.cfg,
            tokens: &self.tokens,
            base: &self.base,
            store: &mut inner.store,
            now,
            method: &method,
            path: uri.path(),
            query: uri.query(),
            headers: &headers,
            body: &body,
            mutated: false,
            fail_op,
        };
        let mut resp = match h.route() {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        let mutated = h.mutated;
        if settled || mutated {
            self.save(inner);
        }
        drop(guard);
        common_headers(&mut resp, &method, &headers);
        resp
    }
}

/// Regions listed by `GET /subscriptions/{sub}/locations` (the Azure CLI reads it to turn a
/// display name such as "West Europe" into `westeurope`). Any other location string is still
/// accepted by PUTs and normalised.
const REGIONS: &[(&str, &str)] = &[
    ("australiaeast", "Australia East"),
    ("brazilsouth", "Brazil South"),
    ("centralus", "Central US"),
    ("eastasia", "East Asia"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"),
    ("japaneast", "Japan East"),
    ("northeurope", "North Europe"),
    ("southeastasia", "Southeast Asia"),
    ("swedencentral", "Sweden Central"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("westcentralus", "West Central US"),
    ("westeurope", "West Europe"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
];

fn locations(sub: &str) -> Value {
    let value: Vec<Value> = REGIONS
        .iter()
        .map(|(name, display)| {
            json!({
                "id": format!("/subscriptions/{sub}/locations/{name}"),
                "name": name,
                "type": "Region",
                "displayName": display,
                "regionalDisplayName": display,
                "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}
            })
        })
        .collect();
    json!({ "value": value })
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = shared.clone();
            async move { s.handle(method, uri, headers, body).await }
        },
    )
}

fn routing_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn common_headers(resp: &mut Response, method: &Method, req: &HeaderMap) {
    let h = resp.headers_mut();
    let request_id = match h.get("x-ms-request-id").and_then(|v| v.to_str().ok()) {
        Some(v) => v.to_string(),
        None => {
            let id = new_guid();
            set_header(h, "x-ms-request-id", &id);
            id
        }
    };
    let corr = req
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    set_header(h, "x-ms-correlation-request-id", &corr);
    set_header(
        h,
        "x-ms-routing-request-id",
        &format!("LOCAL:{}:{}", routing_time(now_ms()), new_guid()),
    );
    let (name, val) = match *method {
        Method::GET | Method::HEAD => ("x-ms-ratelimit-remaining-subscription-reads", "11999"),
        Method::DELETE => ("x-ms-ratelimit-remaining-subscription-deletes", "14999"),
        _ => ("x-ms-ratelimit-remaining-subscription-writes", "1199"),
    };
    set_header(h, name, val);
    set_header(h, "cache-control", "no-cache");
    set_header(h, "pragma", "no-cache");
    set_header(h, "expires", "-1");
}

fn not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        405,
        "HttpMethodNotSupported",
        format!("The requested resource does not support http method '{method}'."),
    )
}

fn rg_not_found(rg: &str) -> ApiError {
    ApiError::new(
        404,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

struct H<'a> {
    cfg: &'a EmulatorConfig,
    tokens: &'a Tokens,
    base: &'a str,
    store: &'a mut Store,
    now: u64,
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
    mutated: bool,
    /// Fault injection: the operation started by this request ends `Failed`.
    fail_op: bool,
}

impl H<'_> {
    fn scaled(&self, real_ms: u64) -> u64 {
        if self.cfg.time_scale <= 0.0 || !self.cfg.time_scale.is_finite() {
            0
        } else {
            (real_ms as f64 / self.cfg.time_scale).round() as u64
        }
    }

    fn injected_error(&self) -> Option<OpError> {
        self.fail_op.then(|| OpError {
            code: "InternalServerError".to_string(),
            message:
                "An error occurred while processing the operation. (injected by netform-emulator)"
                    .to_string(),
        })
    }

    fn retry_after(&self, op: &Op) -> String {
        if self.cfg.time_scale <= 0.0 {
            return "0".to_string();
        }
        let remaining = op.end_ms().saturating_sub(self.now);
        let secs = remaining.div_ceil(1000).clamp(1, 10);
        secs.to_string()
    }

    fn async_url(&self, op: &Op) -> String {
        format!(
            "{}/subscriptions/{}/providers/Microsoft.Network/locations/{}/operations/{}?api-version={}",
            self.base, op.subscription, op.location, op.id, op.api_version
        )
    }

    fn result_url(&self, op: &Op) -> String {
        match op.kind {
            OpKind::RgDelete => format!(
                "{}/subscriptions/{}/operationresults/{}?api-version={}",
                self.base, op.subscription, op.id, op.api_version
            ),
            _ => format!(
                "{}/subscriptions/{}/providers/Microsoft.Network/locations/{}/operationResults/{}?api-version={}",
                self.base, op.subscription, op.location, op.id, op.api_version
            ),
        }
    }

    fn json_body(&self) -> ApiResult<Value> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::bad(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the request body is empty.",
            ));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::bad(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{e}'."),
            )
        })
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    }

    /// RPC §ETag: If-Match / If-None-Match on PUT and DELETE.
    fn preconditions(&self, existing: Option<&Res>) -> ApiResult<()> {
        let fail = || {
            ApiError::new(
                412,
                "PreconditionFailed",
                "The condition specified using HTTP conditional header(s) is not met.",
            )
        };
        let norm = |s: &str| {
            s.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_ascii_lowercase()
        };
        if let Some(im) = self.header("if-match") {
            let Some(e) = existing else {
                return Err(fail());
            };
            if im != "*" {
                let cur = e
                    .body
                    .get("etag")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !im.split(',').any(|t| norm(t) == norm(cur)) {
                    return Err(fail());
                }
            }
        }
        if let Some(inm) = self.header("if-none-match")
            && inm == "*"
            && existing.is_some()
        {
            return Err(fail());
        }
        Ok(())
    }

    fn conflict(&self, keys: &[String]) -> ApiResult<()> {
        if let Some(op) = self
            .store
            .in_flight()
            .find(|o| o.lock_keys.iter().any(|k| keys.contains(k)))
        {
            let url = match op.kind {
                OpKind::RgDelete => self.result_url(op),
                _ => self.async_url(op),
            };
            return Err(ApiError::new(
                409,
                "AnotherOperationInProgress",
                format!(
                    "Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {url}."
                ),
            ));
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------

    fn route(&mut self) -> ApiResult<Response> {
        let path = self.path;
        if path == "/_emulator" || path.starts_with("/_emulator/") {
            return self.admin(path);
        }
        let listing = path.trim_end_matches('/');
        let is_tenants = listing.eq_ignore_ascii_case("/tenants");
        let grant = if self.cfg.require_auth && (path.starts_with("/subscriptions") || is_tenants) {
            let authorization = self.header("authorization");
            Some(auth::check_arm(
                self.tokens,
                authorization.as_deref(),
                self.method,
                path,
            )?)
        } else {
            None
        };
        if listing.eq_ignore_ascii_case("/subscriptions") {
            let with_resources = self
                .store
                .resources
                .values()
                .filter_map(|r| r.body.get("id").and_then(Value::as_str))
                .filter_map(|id| id.split('/').nth(2).map(str::to_string))
                .collect();
            return Ok(auth::list_subscriptions(grant.as_ref(), &with_resources));
        }
        if is_tenants {
            return Ok(auth::list_tenants(grant.as_ref()));
        }
        if let [_, sub, loc] = listing.split('/').skip(1).collect::<Vec<_>>()[..]
            && loc.eq_ignore_ascii_case("locations")
        {
            return Ok(json_response(200, &locations(sub)));
        }
        let now_secs = self.now / 1000;
        if path == "/metadata/identity/oauth2/token" || path == "/msi/token" {
            return Ok(auth::managed_identity_endpoint(
                &self.cfg.clients,
                self.tokens,
                self.query,
                now_secs,
            ));
        }
        if path.ends_with("/oauth2/v2.0/token") || path.ends_with("/oauth2/token") {
            let tenant = path.split('/').nth(1).unwrap_or_default();
            return Ok(auth::token_endpoint(
                &self.cfg.clients,
                self.tokens,
                tenant,
                self.body,
                now_secs,
            ));
        }
        if path.ends_with("/.well-known/openid-configuration") {
            let tenant = path.split('/').nth(1).unwrap_or_default();
            return Ok(auth::openid_configuration(self.base, tenant));
        }
        match api::parse_route(path) {
            Route::Subscription { sub } => {
                api::check_api_version(
                    self.query,
                    "Microsoft.Resources",
                    "subscriptions",
                    (2014, 1, 1),
                    RESOURCES_MAX,
                )?;
                Ok(json_response(
                    200,
                    &json!({"id": format!("/subscriptions/{sub}"), "subscriptionId": sub, "displayName": "netform emulator", "state": "Enabled", "tenantId": "00000000-0000-0000-0000-000000000000"}),
                ))
            }
            Route::Providers { sub, ns } => {
                let one = |n: &str| json!({"id": format!("/subscriptions/{sub}/providers/{n}"), "namespace": n, "registrationState": "Registered"});
                match ns {
                    Some(n) => Ok(json_response(200, &one(&n))),
                    None => Ok(json_response(
                        200,
                        &json!({"value": [one("Microsoft.Network"), one("Microsoft.Resources")]}),
                    )),
                }
            }
            Route::RgList { sub } => {
                let v = self.resources_api()?;
                self.only_get()?;
                let prefix = format!(
                    "/subscriptions/{}/resourcegroups/",
                    sub.to_ascii_lowercase()
                );
                let keys: Vec<String> = self
                    .store
                    .resources
                    .iter()
                    .filter(|(k, r)| r.kind == Kind::ResourceGroup && k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                self.list_page(keys, &v)
            }
            Route::Rg { sub, rg } => self.resource_group(&sub, &rg),
            Route::RgResources { sub, rg } => {
                let v = self.resources_api()?;
                self.only_get()?;
                let rgk = key(&rg_id(&sub, &rg));
                if !self.store.resources.contains_key(&rgk) {
                    return Err(rg_not_found(&rg));
                }
                let prefix = format!("{rgk}/providers/");
                let keys: Vec<String> = self
                    .store
                    .resources
                    .iter()
                    .filter(|(k, r)| k.starts_with(&prefix) && TOP_LEVEL.contains(&r.kind))
                    .map(|(k, _)| k.clone())
                    .collect();
                self.list_page(keys, &v)
            }
            Route::RgOpResult { op, .. } => self.poll(&op, true),
            Route::NetOp { op, result, .. } => self.poll(&op, result),
            Route::SubList { sub, kind } => {
                let v = self.network_api()?;
                self.only_get()?;
                let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
                let keys: Vec<String> = self
                    .store
                    .resources
                    .iter()
                    .filter(|(k, r)| r.kind == kind && k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                self.list_page(keys, &v)
            }
            Route::RgKindList { sub, rg, kind } => {
                let v = self.network_api()?;
                self.only_get()?;
                let rgk = key(&rg_id(&sub, &rg));
                if !self.store.resources.contains_key(&rgk) {
                    return Err(rg_not_found(&rg));
                }
                let prefix = format!(
                    "{rgk}/providers/microsoft.network/{}/",
                    kind.segment().to_ascii_lowercase()
                );
                let keys: Vec<String> = self
                    .store
                    .resources
                    .iter()
                    .filter(|(k, r)| r.kind == kind && k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                self.list_page(keys, &v)
            }
            Route::Res {
                sub,
                rg,
                kind,
                name,
            } => self.network_resource(&sub, &rg, None, kind, &name),
            Route::ChildList {
                sub,
                rg,
                parent,
                name,
                kind,
            } => {
                let v = self.network_api()?;
                self.only_get()?;
                let (_, parent_res) = self.locate_parent(&sub, &rg, parent, &name)?;
                let pk = key(&parent_res);
                let keys: Vec<String> = rules::children(self.store, &pk, kind)
                    .iter()
                    .map(|r| key(&r.id))
                    .collect();
                self.list_page(keys, &v)
            }
            Route::Child {
                sub,
                rg,
                parent,
                name,
                kind,
                child,
            } => self.network_resource(&sub, &rg, Some((parent, name.as_str())), kind, &child),
            Route::SharedKey { sub, rg, name } => self.shared_key(&sub, &rg, &name),
            Route::UnknownType { segment } => {
                let v = self.network_api()?;
                Err(ApiError::new(
                    404,
                    "InvalidResourceType",
                    format!(
                        "The resource type '{segment}' could not be found in the namespace 'Microsoft.Network' for api version '{v}'."
                    ),
                ))
            }
            Route::NotFound => Err(ApiError::new(
                404,
                "NotFound",
                format!("The requested path '{path}' is not served by the netform emulator."),
            )),
        }
    }

    fn only_get(&self) -> ApiResult<()> {
        if *self.method == Method::GET {
            Ok(())
        } else {
            Err(not_allowed(self.method))
        }
    }

    fn network_api(&self) -> ApiResult<String> {
        api::check_api_version(
            self.query,
            "Microsoft.Network",
            "Microsoft.Network",
            NETWORK_MIN,
            NETWORK_MAX,
        )
    }

    fn resources_api(&self) -> ApiResult<String> {
        api::check_api_version(
            self.query,
            "Microsoft.Resources",
            "resourceGroups",
            RESOURCES_MIN,
            RESOURCES_MAX,
        )
    }

    fn list_page(&self, keys: Vec<String>, api_version: &str) -> ApiResult<Response> {
        let skip: usize = query_param(self.query, "$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let items: Vec<Value> = keys
            .iter()
            .skip(skip)
            .take(PAGE_SIZE)
            .filter_map(|k| rules::view(self.store, k))
            .collect();
        let mut m = Map::new();
        m.insert("value".into(), Value::Array(items));
        if keys.len() > skip + PAGE_SIZE {
            m.insert(
                "nextLink".into(),
                json!(format!(
                    "{}{}?api-version={}&$skiptoken={}",
                    self.base,
                    self.path,
                    api_version,
                    skip + PAGE_SIZE
                )),
            );
        }
        Ok(json_response(200, &Value::Object(m)))
    }

    // --- resource groups -----------------------------------------------------------------------

    fn resource_group(&mut self, sub: &str, rg: &str) -> ApiResult<Response> {
        let api_version = self.resources_api()?;
        let rid = rg_id(sub, rg);
        let rk = key(&rid);
        let existing = self.store.resources.get(&rk).cloned();
        match *self.method {
            Method::GET | Method::HEAD => match existing {
                Some(r) => {
                    if *self.method == Method::HEAD {
                        Ok(empty_response(204))
                    } else {
                        Ok(json_response(200, &r.body))
                    }
                }
                None => Err(rg_not_found(rg)),
            },
            Method::PUT | Method::PATCH => {
                let req = self.json_body()?;
                if !req.is_object() {
                    return Err(ApiError::bad(
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized: the body must be a JSON object.",
                    ));
                }
                if *self.method == Method::PATCH {
                    let Some(mut r) = existing else {
                        return Err(rg_not_found(rg));
                    };
                    if let (Some(t), Some(o)) = (req.get("tags"), r.body.as_object_mut()) {
                        let props = o.remove("properties").unwrap_or(json!({}));
                        o.insert("tags".into(), t.clone());
                        o.insert("properties".into(), props);
                    }
                    let body = r.body.clone();
                    self.store.resources.insert(rk, r);
                    self.mutated = true;
                    return Ok(json_response(200, &body));
                }
                let loc = req
                    .get("location")
                    .and_then(Value::as_str)
                    .map(normalize_location)
                    .filter(|s| !s.is_empty());
                if let Some(r) = &existing {
                    if r.deleting {
                        return Err(ApiError::new(
                            409,
                            "ResourceGroupBeingDeleted",
                            format!(
                                "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                                r.body.get("name").and_then(Value::as_str).unwrap_or(rg)
                            ),
                        ));
                    }
                    let old = r
                        .body
                        .get("location")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if let Some(l) = &loc
                        && l != old
                    {
                        return Err(ApiError::new(
                            409,
                            "InvalidResourceGroupLocation",
                            format!(
                                "Invalid resource group location '{l}'. The Resource group already exists in location '{old}'."
                            ),
                        ));
                    }
                }
                let Some(loc) = loc.or_else(|| {
                    existing
                        .as_ref()
                        .and_then(|r| r.body.get("location"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }) else {
                    return Err(ApiError::bad(
                        "LocationRequired",
                        "The location property is required for this definition.",
                    ));
                };
                let (id, name) = match &existing {
                    Some(r) => (
                        r.id.clone(),
                        r.body
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or(rg)
                            .to_string(),
                    ),
                    None => (rid.clone(), rg.to_string()),
                };
                let mut m = Map::new();
                m.insert("id".into(), json!(id));
                m.insert("name".into(), json!(name));
                m.insert("type".into(), json!(Kind::ResourceGroup.type_str()));
                m.insert("location".into(), json!(loc));
                if let Some(t) = req.get("tags").filter(|t| t.is_object()) {
                    m.insert("tags".into(), t.clone());
                }
                if let Some(mb) = req.get("managedBy").filter(|t| t.is_string()) {
                    m.insert("managedBy".into(), mb.clone());
                }
                m.insert(
                    "properties".into(),
                    json!({"provisioningState": "Succeeded"}),
                );
                let body = Value::Object(m);
                let seq = match &existing {
                    Some(r) => r.seq,
                    None => self.store.next_seq(),
                };
                let created = existing.as_ref().map(|r| r.created_ms).unwrap_or(self.now);
                self.store.resources.insert(
                    rk,
                    Res {
                        id,
                        kind: Kind::ResourceGroup,
                        body: body.clone(),
                        created_ms: created,
                        seq,
                        pending_op: None,
                        deleting: false,
                        provider_manual: false,
                    },
                );
                self.mutated = true;
                Ok(json_response(
                    if existing.is_some() { 200 } else { 201 },
                    &body,
                ))
            }
            Method::DELETE => {
                let Some(r) = existing else {
                    return Err(rg_not_found(rg));
                };
                if r.deleting
                    && let Some(op) = r
                        .pending_op
                        .as_ref()
                        .and_then(|o| self.store.operations.get(o))
                {
                    return Ok(self.accepted(op));
                }
                let targets = self.store.subtree_keys(&r.id);
                let real = targets
                    .iter()
                    .filter_map(|k| self.store.resources.get(k))
                    .map(|x| x.kind.delete_duration_ms())
                    .max()
                    .unwrap_or(0)
                    .max(Kind::ResourceGroup.delete_duration_ms());
                let op = Op {
                    id: new_guid(),
                    kind: OpKind::RgDelete,
                    resource_id: r.id.clone(),
                    subscription: sub.to_string(),
                    location: r
                        .body
                        .get("location")
                        .and_then(Value::as_str)
                        .unwrap_or("global")
                        .to_string(),
                    api_version,
                    start_ms: self.now,
                    duration_ms: self.scaled(real),
                    targets: targets.clone(),
                    lock_keys: targets.clone(),
                    error: None,
                    applied: false,
                };
                for t in &targets {
                    if let Some(x) = self.store.resources.get_mut(t) {
                        x.deleting = true;
                        x.pending_op = Some(op.id.clone());
                        set_prov_state(&mut x.body, "Deleting");
                    }
                }
                let resp = self.accepted(&op);
                self.store.add_operation(op);
                self.mutated = true;
                Ok(resp)
            }
            _ => Err(not_allowed(self.method)),
        }
    }

    /// 202 Accepted with Location (+ Azure-AsyncOperation for Network) and Retry-After.
    fn accepted(&self, op: &Op) -> Response {
        let mut resp = empty_response(202);
        let h = resp.headers_mut();
        set_header(h, "location", &self.result_url(op));
        if op.kind != OpKind::RgDelete {
            set_header(h, "azure-asyncoperation", &self.async_url(op));
        }
        set_header(h, "retry-after", &self.retry_after(op));
        set_header(h, "x-ms-request-id", &op.id);
        resp
    }

    // --- operation polling -----------------------------------------------------------------------

    fn poll(&self, op_id: &str, result: bool) -> ApiResult<Response> {
        self.only_get()?;
        let Some(op) = self.store.operations.get(&op_id.to_ascii_lowercase()) else {
            return Err(ApiError::new(
                404,
                "OperationNotFound",
                format!("The operation '{op_id}' could not be found."),
            ));
        };
        let running = !op.applied;
        if !result {
            let mut m = Map::new();
            let status = if running {
                "InProgress"
            } else if op.error.is_some() {
                "Failed"
            } else {
                "Succeeded"
            };
            m.insert("status".into(), json!(status));
            if let (false, Some(e)) = (running, &op.error) {
                m.insert(
                    "error".into(),
                    json!({"code": e.code, "message": e.message}),
                );
            }
            let mut resp = json_response(200, &Value::Object(m));
            if running {
                set_header(resp.headers_mut(), "retry-after", &self.retry_after(op));
            }
            return Ok(resp);
        }
        if running {
            let mut resp = empty_response(202);
            set_header(resp.headers_mut(), "location", &self.result_url(op));
            set_header(resp.headers_mut(), "retry-after", &self.retry_after(op));
            return Ok(resp);
        }
        if let Some(e) = &op.error {
            let status = if e.code == "InternalServerError" {
                500
            } else {
                400
            };
            return Err(ApiError::new(status, &e.code, e.message.clone()));
        }
        match op.kind {
            OpKind::RgDelete => Ok(empty_response(200)),
            OpKind::Delete => Ok(empty_response(204)),
            OpKind::Put => match rules::view(self.store, &key(&op.resource_id)) {
                Some(v) => Ok(json_response(200, &v)),
                None => Ok(empty_response(204)),
            },
        }
    }

    // --- Network resources -----------------------------------------------------------------------

    /// Find the RG (canonical id) or 404 ResourceGroupNotFound.
    fn locate_rg(&self, sub: &str, rg: &str) -> ApiResult<String> {
        match self.store.get(&rg_id(sub, rg)) {
            Some(r) => Ok(r.id.clone()),
            None => Err(rg_not_found(rg)),
        }
    }

    /// (rg canonical id, parent canonical id) or 404.
    fn locate_parent(
        &self,
        sub: &str,
        rg: &str,
        parent: Kind,
        name: &str,
    ) -> ApiResult<(String, String)> {
        let rgid = self.locate_rg(sub, rg)?;
        let pid = top_id(sub, rg, parent, name);
        match self.store.get(&pid) {
            Some(p) => Ok((rgid, p.id.clone())),
            None => Err(ApiError::new(
                404,
                "ParentResourceNotFound",
                format!(
                    "Can not perform requested operation on nested resource. Parent resource '{name}' not found."
                ),
            )),
        }
    }

    fn network_resource(
        &mut self,
        sub: &str,
        rg: &str,
        parent: Option<(Kind, &str)>,
        kind: Kind,
        name: &str,
    ) -> ApiResult<Response> {
        let api_version = self.network_api()?;
        let (rgid, parent_id) = match parent {
            Some((pk, pname)) => {
                let (rgid, pid) = self.locate_parent(sub, rg, pk, pname)?;
                (rgid, Some(pid))
            }
            None => (self.locate_rg(sub, rg)?, None),
        };
        let req_id = match &parent_id {
            Some(p) => api::child_id(p, kind, name),
            None => format!(
                "{rgid}/providers/Microsoft.Network/{}/{name}",
                kind.segment()
            ),
        };
        let k = key(&req_id);
        let existing = self.store.resources.get(&k).cloned();
        let rg_name = rgid.rsplit('/').next().unwrap_or(rg).to_string();
        match *self.method {
            Method::GET => match existing.and_then(|_| rules::view(self.store, &k)) {
                Some(v) => Ok(json_response(200, &v)),
                None if parent_id.is_some() => Err(ApiError::new(
                    404,
                    "NotFound",
                    format!("Resource {req_id} not found."),
                )),
                None => Err(ApiError::new(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The Resource '{}/{name}' under resource group '{rg_name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                        kind.type_str()
                    ),
                )),
            },
            Method::PUT => self.put_network(
                sub,
                &rgid,
                kind,
                name,
                parent_id.as_deref(),
                existing,
                req_id,
                api_version,
            ),
            Method::PATCH if parent_id.is_none() => {
                let Some(mut r) = existing else {
                    return Err(ApiError::new(
                        404,
                        "ResourceNotFound",
                        format!(
                            "The Resource '{}/{name}' under resource group '{rg_name}' was not found.",
                            kind.type_str()
                        ),
                    ));
                };
                let req = self.json_body()?;
                if let Some(t) = req.get("tags").filter(|t| t.is_object())
                    && let Some(o) = r.body.as_object_mut()
                {
                    o.insert("tags".into(), t.clone());
                    o.insert("etag".into(), json!(new_etag()));
                }
                self.store.resources.insert(k.clone(), r);
                self.mutated = true;
                let v = rules::view(self.store, &k).unwrap_or(json!({}));
                Ok(json_response(200, &v))
            }
            Method::DELETE => self.delete_network(sub, existing, api_version),
            _ => Err(not_allowed(self.method)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn put_network(
        &mut self,
        sub: &str,
        rgid: &str,
        kind: Kind,
        name: &str,
        parent_id: Option<&str>,
        existing: Option<Res>,
        req_id: String,
        api_version: String,
    ) -> ApiResult<Response> {
        let req = self.json_body()?;
        self.preconditions(existing.as_ref())?;
        if let Some(rg) = self.store.get(rgid)
            && rg.deleting
        {
            return Err(ApiError::new(
                409,
                "ResourceGroupBeingDeleted",
                format!(
                    "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                    rg.body
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
            ));
        }
        let id = existing.as_ref().map(|r| r.id.clone()).unwrap_or(req_id);
        let name = existing
            .as_ref()
            .and_then(|r| r.body.get("name").and_then(Value::as_str))
            .unwrap_or(name)
            .to_string();
        let k = key(&id);
        // Conflicts first (409 AnotherOperationInProgress)
        let mut pre_keys = vec![k.clone()];
        if matches!(kind, Kind::Peering | Kind::Authorization)
            && let Some(p) = parent_id
        {
            pre_keys.push(key(p));
        }
        if kind == Kind::Connection
            && let Some(g) = req
                .pointer("/properties/virtualNetworkGateway1/id")
                .and_then(Value::as_str)
        {
            pre_keys.push(key(g));
        }
        self.conflict(&pre_keys)?;
        let parent = parent_id.and_then(|p| self.store.get(p)).cloned();
        if parent.as_ref().is_some_and(|p| p.deleting) {
            return Err(ApiError::new(
                409,
                "AnotherOperationInProgress",
                "Another operation on this or dependent resource is in progress (the parent resource is being deleted).",
            ));
        }
        let plan = {
            let ctx = Ctx {
                store: self.store,
                cfg: self.cfg,
                id: &id,
                name: &name,
                kind,
                existing: existing.as_ref(),
                parent: parent.as_ref(),
            };
            rules::plan_put(&ctx, &req)?
        };
        let op_id = new_guid();
        let mut lock_keys = plan.lock_keys.clone();
        for p in pre_keys {
            if !lock_keys.contains(&p) {
                lock_keys.push(p);
            }
        }
        let mut body = plan.body;
        if let Some(o) = body.as_object_mut() {
            o.insert("etag".into(), json!(new_etag()));
        }
        if plan.needs_ip {
            let n = self.store.next_ip;
            self.store.next_ip = n.wrapping_add(1);
            let v6 = body
                .pointer("/properties/publicIPAddressVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case("IPv6"));
            let ip = if v6 {
                format!("2001:db8::{:x}", n)
            } else {
                format!(
                    "20.{}.{}.{}",
                    40 + ((n >> 16) & 0x7f),
                    (n >> 8) & 0xff,
                    n & 0xff
                )
            };
            set_prop(&mut body, "ipAddress", json!(ip));
        }
        if plan.needs_stag {
            let n = self.store.next_stag;
            self.store.next_stag = n.wrapping_add(1);
            set_prop(&mut body, "stag", json!(n));
        }
        let mut targets = vec![k.clone()];
        let seq = match &existing {
            Some(r) => r.seq,
            None => self.store.next_seq(),
        };
        self.store.resources.insert(
            k.clone(),
            Res {
                id: id.clone(),
                kind,
                body,
                created_ms: existing.as_ref().map(|r| r.created_ms).unwrap_or(self.now),
                seq,
                pending_op: Some(op_id.clone()),
                deleting: false,
                provider_manual: existing.as_ref().is_some_and(|r| r.provider_manual),
            },
        );
        for s in plan.side {
            match s {
                Side::Upsert {
                    id: sid,
                    kind: sk,
                    mut body,
                } => {
                    let skey = key(&sid);
                    let old = self.store.resources.get(&skey).cloned();
                    if let Some(o) = body.as_object_mut() {
                        o.insert("etag".into(), json!(new_etag()));
                    }
                    let seq = match &old {
                        Some(r) => r.seq,
                        None => self.store.next_seq(),
                    };
                    self.store.resources.insert(
                        skey.clone(),
                        Res {
                            id: sid,
                            kind: sk,
                            body,
                            created_ms: old.as_ref().map(|r| r.created_ms).unwrap_or(self.now),
                            seq,
                            pending_op: Some(op_id.clone()),
                            deleting: false,
                            provider_manual: false,
                        },
                    );
                    targets.push(skey);
                }
                Side::Remove(rk) => {
                    for t in self.store.subtree_keys(&rk) {
                        self.store.resources.remove(&t);
                    }
                }
            }
        }
        if let Some(p) = parent_id
            && let Some(pr) = self.store.resources.get_mut(&key(p))
            && let Some(o) = pr.body.as_object_mut()
        {
            o.insert("etag".into(), json!(new_etag()));
        }
        let op = Op {
            id: op_id.clone(),
            kind: OpKind::Put,
            resource_id: id,
            subscription: sub.to_string(),
            location: plan.location,
            api_version,
            start_ms: self.now,
            duration_ms: self.scaled(kind.put_duration_ms()),
            targets,
            lock_keys,
            error: self.injected_error(),
            applied: false,
        };
        let view = rules::view(self.store, &k).unwrap_or(json!({}));
        let mut resp = json_response(if existing.is_some() { 200 } else { 201 }, &view);
        set_header(
            resp.headers_mut(),
            "azure-asyncoperation",
            &self.async_url(&op),
        );
        set_header(resp.headers_mut(), "retry-after", &self.retry_after(&op));
        set_header(resp.headers_mut(), "x-ms-request-id", &op.id);
        self.store.add_operation(op);
        self.mutated = true;
        Ok(resp)
    }

    fn delete_network(
        &mut self,
        sub: &str,
        existing: Option<Res>,
        api_version: String,
    ) -> ApiResult<Response> {
        let Some(r) = existing else {
            if self.header("if-match").is_some_and(|v| v != "*") {
                // RPC: DELETE of a missing resource is 204 whatever If-Match says.
            }
            return Ok(empty_response(204));
        };
        self.preconditions(Some(&r))?;
        if r.deleting
            && let Some(op) = r
                .pending_op
                .as_ref()
                .and_then(|o| self.store.operations.get(o))
            && !op.applied
        {
            return Ok(self.accepted(op));
        }
        let lock_keys = rules::delete_lock_keys(self.store, &r);
        self.conflict(&lock_keys)?;
        rules::check_delete(self.store, self.cfg, &r)?;
        let targets = self.store.subtree_keys(&r.id);
        let location = match r.body.get("location").and_then(Value::as_str) {
            Some(l) => l.to_string(),
            None => {
                // children: the parent's location
                let mut parts: Vec<&str> = r.id.split('/').collect();
                parts.truncate(parts.len().saturating_sub(2));
                self.store
                    .get(&parts.join("/"))
                    .and_then(|p| p.body.get("location"))
                    .and_then(Value::as_str)
                    .unwrap_or("global")
                    .to_string()
            }
        };
        let op = Op {
            id: new_guid(),
            kind: OpKind::Delete,
            resource_id: r.id.clone(),
            subscription: sub.to_string(),
            location,
            api_version,
            start_ms: self.now,
            duration_ms: self.scaled(r.kind.delete_duration_ms()),
            targets: targets.clone(),
            lock_keys,
            error: self.injected_error(),
            applied: false,
        };
        for t in &targets {
            if let Some(x) = self.store.resources.get_mut(t) {
                x.deleting = true;
                x.pending_op = Some(op.id.clone());
                set_prov_state(&mut x.body, "Deleting");
            }
        }
        if r.kind.is_child() {
            let mut parts: Vec<&str> = r.id.split('/').collect();
            parts.truncate(parts.len().saturating_sub(2));
            if let Some(pr) = self.store.resources.get_mut(&key(&parts.join("/")))
                && let Some(o) = pr.body.as_object_mut()
            {
                o.insert("etag".into(), json!(new_etag()));
            }
        }
        let resp = self.accepted(&op);
        self.store.add_operation(op);
        self.mutated = true;
        Ok(resp)
    }

    fn shared_key(&mut self, sub: &str, rg: &str, name: &str) -> ApiResult<Response> {
        let api_version = self.network_api()?;
        let rgid = self.locate_rg(sub, rg)?;
        let cid = format!("{rgid}/providers/Microsoft.Network/connections/{name}");
        let k = key(&cid);
        let Some(conn) = self.store.resources.get(&k).cloned() else {
            return Err(ApiError::new(
                404,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.Network/connections/{name}' under resource group '{rg}' was not found."
                ),
            ));
        };
        match *self.method {
            Method::GET => {
                let v = conn
                    .body
                    .pointer("/properties/sharedKey")
                    .cloned()
                    .unwrap_or(json!(""));
                Ok(json_response(200, &json!({"value": v})))
            }
            Method::PUT => {
                let req = self.json_body()?;
                let Some(v) = req.get("value").and_then(Value::as_str) else {
                    return Err(ApiError::bad(
                        "InvalidRequestFormat",
                        "The shared key must be given as {\"value\": \"...\"}.",
                    ));
                };
                if v.is_empty() || v.chars().count() > 128 {
                    return Err(ApiError::bad(
                        "InvalidSharedKey",
                        "The shared key must be 1 to 128 characters long.",
                    ));
                }
                let lock = vec![k.clone()];
                self.conflict(&lock)?;
                let op = Op {
                    id: new_guid(),
                    kind: OpKind::Put,
                    resource_id: conn.id.clone(),
                    subscription: sub.to_string(),
                    location: conn
                        .body
                        .get("location")
                        .and_then(Value::as_str)
                        .unwrap_or("global")
                        .to_string(),
                    api_version,
                    start_ms: self.now,
                    duration_ms: self.scaled(10_000),
                    targets: vec![k.clone()],
                    lock_keys: lock,
                    error: None,
                    applied: false,
                };
                if let Some(x) = self.store.resources.get_mut(&k) {
                    set_prop(&mut x.body, "sharedKey", json!(v));
                    set_prov_state(&mut x.body, "Updating");
                    x.pending_op = Some(op.id.clone());
                    if let Some(o) = x.body.as_object_mut() {
                        o.insert("etag".into(), json!(new_etag()));
                    }
                }
                let mut resp = json_response(200, &json!({"value": v}));
                set_header(
                    resp.headers_mut(),
                    "azure-asyncoperation",
                    &self.async_url(&op),
                );
                set_header(resp.headers_mut(), "retry-after", &self.retry_after(&op));
                set_header(resp.headers_mut(), "x-ms-request-id", &op.id);
                self.store.add_operation(op);
                self.mutated = true;
                Ok(resp)
            }
            _ => Err(not_allowed(self.method)),
        }
    }

    // --- admin -------------------------------------------------------------------------------------

    fn admin(&mut self, path: &str) -> ApiResult<Response> {
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(api::percent_decode)
            .collect();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match (self.method.clone(), s.as_slice()) {
            (Method::GET, ["_emulator"]) | (Method::GET, ["_emulator", "health"]) => {
                Ok(json_response(200, &json!({"status": "ok"})))
            }
            (Method::POST, ["_emulator", "circuits", sk, action]) => {
                let state = match *action {
                    "provision" => match query_param(self.query, "state") {
                        Some(st) => ProviderState::parse(&st).ok_or_else(|| {
                            ApiError::bad(
                                "InvalidProviderState",
                                format!("Unknown provider state '{st}'. Use NotProvisioned, Provisioning, Provisioned or Deprovisioning."),
                            )
                        })?,
                        None => ProviderState::Provisioned,
                    },
                    "deprovision" => match query_param(self.query, "state") {
                        Some(st) => ProviderState::parse(&st).ok_or_else(|| {
                            ApiError::bad("InvalidProviderState", format!("Unknown provider state '{st}'."))
                        })?,
                        None => ProviderState::NotProvisioned,
                    },
                    _ => {
                        return Err(ApiError::new(404, "NotFound", format!("Unknown admin action '{action}'.")));
                    }
                };
                let Some(ck) = self.store.find_circuit_by_service_key(sk) else {
                    return Err(ApiError::new(
                        404,
                        "CircuitNotFound",
                        format!("No ExpressRoute circuit has service key '{sk}'."),
                    ));
                };
                self.store.set_provider_state(sk, state, self.now);
                self.mutated = true;
                let v = rules::view(self.store, &ck).unwrap_or(json!({}));
                Ok(json_response(200, &v))
            }
            (Method::GET, ["_emulator", "circuits"]) => {
                let v: Vec<Value> = self
                    .store
                    .resources
                    .values()
                    .filter(|r| r.kind == Kind::ExpressRouteCircuit)
                    .map(|r| {
                        json!({
                            "id": r.id,
                            "serviceKey": r.body.pointer("/properties/serviceKey").cloned().unwrap_or(Value::Null),
                            "serviceProviderProvisioningState": rules::provider_state(r).as_str(),
                        })
                    })
                    .collect();
                Ok(json_response(200, &json!({"value": v})))
            }
            (Method::POST, ["_emulator", "reset"]) => {
                *self.store = Store::default();
                self.mutated = true;
                Ok(json_response(200, &json!({"value": []})))
            }
            (Method::GET, ["_emulator", "resources"]) => {
                let mut ids: Vec<String> = self
                    .store
                    .resources
                    .values()
                    .map(|r| r.id.clone())
                    .collect();
                ids.sort();
                Ok(json_response(200, &json!({"value": ids})))
            }
            (Method::PUT, ["_emulator", "resources"]) => {
                let Some(id) = query_param(self.query, "id") else {
                    return Err(ApiError::bad(
                        "MissingId",
                        "Use PUT /_emulator/resources?id=<resource id>.",
                    ));
                };
                let req = self.json_body()?;
                let k = key(&id);
                let Some(r) = self.store.resources.get_mut(&k) else {
                    return Err(ApiError::new(
                        404,
                        "ResourceNotFound",
                        format!("Resource {id} not found."),
                    ));
                };
                let mut body = req;
                if let Some(o) = body.as_object_mut() {
                    for f in ["name", "id", "type"] {
                        if !o.contains_key(f)
                            && let Some(v) = r.body.get(f)
                        {
                            o.insert(f.into(), v.clone());
                        }
                    }
                    o.insert("etag".into(), json!(new_etag()));
                    if let Some(p) = o.get_mut("properties").and_then(Value::as_object_mut) {
                        match r.kind {
                            Kind::VirtualNetwork => {
                                p.remove("subnets");
                            }
                            Kind::ExpressRouteCircuit => {
                                p.remove("peerings");
                                p.remove("authorizations");
                            }
                            _ => {}
                        }
                    }
                } else {
                    return Err(ApiError::bad(
                        "InvalidRequestContent",
                        "The body must be a JSON object.",
                    ));
                }
                r.body = body;
                self.mutated = true;
                let v = rules::view(self.store, &k).unwrap_or(json!({}));
                Ok(json_response(200, &v))
            }
            (Method::GET, ["_emulator", "operations"]) => {
                let ops: Vec<Value> = self
                    .store
                    .operations
                    .values()
                    .map(|o| {
                        json!({"id": o.id, "kind": format!("{:?}", o.kind), "resourceId": o.resource_id,
                               "status": if o.applied { "Succeeded" } else { "InProgress" },
                               "startMs": o.start_ms, "durationMs": o.duration_ms})
                    })
                    .collect();
                Ok(json_response(200, &json!({"value": ops})))
            }
            _ => Err(ApiError::new(
                404,
                "NotFound",
                format!("Unknown admin endpoint {} {path}.", self.method),
            )),
        }
    }
}
