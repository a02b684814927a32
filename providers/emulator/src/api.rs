//! Wire-level helpers: ARM errors, JSON responses, api-version checks, path parsing.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::kinds::Kind;

/// An ARM error response: `{"error":{"code","message"}}` with a status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            headers: Vec::new(),
        }
    }
    pub fn bad(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }
    pub fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = json_response(self.status, &body);
        if self.status == 404 {
            set_header(resp.headers_mut(), "x-ms-failure-cause", "gateway");
        }
        for (k, v) in &self.headers {
            set_header(resp.headers_mut(), k, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn set_header(h: &mut HeaderMap, k: &str, v: &str) {
    if let (Ok(name), Ok(val)) = (
        HeaderName::from_bytes(k.as_bytes()),
        HeaderValue::from_str(v),
    ) {
        h.insert(name, val);
    }
}

pub fn json_response(status: u16, body: &Value) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_header(
        resp.headers_mut(),
        "content-type",
        "application/json; charset=utf-8",
    );
    resp
}

pub fn empty_response(status: u16) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

// ---------------------------------------------------------------------------------------------
// Query strings

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(k).eq_ignore_ascii_case(name) {
            return Some(percent_decode(v));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// api-version

fn parse_date(v: &str) -> Option<(u32, u32, u32)> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: u32 = v.get(0..4)?.parse().ok()?;
    let m: u32 = v.get(5..7)?.parse().ok()?;
    let d: u32 = v.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 2000 {
        return None;
    }
    Some((y, m, d))
}

pub const NETWORK_MIN: (u32, u32, u32) = (2020, 3, 1);
pub const NETWORK_MAX: (u32, u32, u32) = (2026, 3, 1);
pub const RESOURCES_MIN: (u32, u32, u32) = (2021, 4, 1);
pub const RESOURCES_MAX: (u32, u32, u32) = (2026, 3, 1);

/// Check the api-version of a request against the provider's supported range.
pub fn check_api_version(
    query: Option<&str>,
    namespace: &str,
    type_name: &str,
    min: (u32, u32, u32),
    max: (u32, u32, u32),
) -> ApiResult<String> {
    let Some(v) = query_param(query, "api-version") else {
        return Err(ApiError::bad(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let supported = format!(
        "{:04}-{:02}-{:02} to {:04}-{:02}-{:02} (stable versions)",
        min.0, min.1, min.2, max.0, max.1, max.2
    );
    let v = v.trim().to_string();
    let (base, suffix) = match (v.get(..10), v.get(10..)) {
        (Some(b), Some(s)) => (b.to_string(), s.to_string()),
        _ => (v.clone(), String::new()),
    };
    let Some(date) = parse_date(&base) else {
        return Err(ApiError::bad(
            "InvalidApiVersionParameter",
            format!("The api-version '{v}' is invalid. The supported versions are '{supported}'."),
        ));
    };
    if !suffix.is_empty() && !suffix.eq_ignore_ascii_case("-preview") {
        return Err(ApiError::bad(
            "InvalidApiVersionParameter",
            format!("The api-version '{v}' is invalid. The supported versions are '{supported}'."),
        ));
    }
    if !suffix.is_empty() || date < min || date > max {
        return Err(ApiError::bad(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location 'global' and API version '{v}' for type '{type_name}'. The supported api-versions are '{supported}'. (namespace {namespace})"
            ),
        ));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Paths

#[derive(Debug, Clone)]
pub enum Route {
    /// `/subscriptions/{sub}`
    Subscription {
        sub: String,
    },
    /// `/subscriptions/{sub}/providers[/{ns}]`
    Providers {
        sub: String,
        ns: Option<String>,
    },
    /// `/subscriptions/{sub}/resourcegroups`
    RgList {
        sub: String,
    },
    /// `/subscriptions/{sub}/resourcegroups/{rg}`
    Rg {
        sub: String,
        rg: String,
    },
    /// `/subscriptions/{sub}/resourcegroups/{rg}/resources`
    RgResources {
        sub: String,
        rg: String,
    },
    /// `/subscriptions/{sub}/operationresults/{op}`
    RgOpResult {
        op: String,
    },
    /// `/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operations|operationResults/{op}`
    NetOp {
        op: String,
        result: bool,
    },
    /// `/subscriptions/{sub}/providers/Microsoft.Network/{type}`
    SubList {
        sub: String,
        kind: Kind,
    },
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{type}`
    RgKindList {
        sub: String,
        rg: String,
        kind: Kind,
    },
    /// A top-level Network resource.
    Res {
        sub: String,
        rg: String,
        kind: Kind,
        name: String,
    },
    /// Children of a Network resource (`.../subnets`, `.../peerings`, `.../authorizations`).
    ChildList {
        sub: String,
        rg: String,
        parent: Kind,
        name: String,
        kind: Kind,
    },
    /// A child resource.
    Child {
        sub: String,
        rg: String,
        parent: Kind,
        name: String,
        kind: Kind,
        child: String,
    },
    /// `.../connections/{name}/sharedkey`
    SharedKey {
        sub: String,
        rg: String,
        name: String,
    },
    /// A Microsoft.Network path with an unknown resource type.
    UnknownType {
        segment: String,
    },
    NotFound,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

pub fn parse_route(path: &str) -> Route {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if s.len() < 2 || !eq(s[0], "subscriptions") {
        return Route::NotFound;
    }
    let sub = s[1].to_string();
    let rest = &s[2..];
    let net = |ns: &str| eq(ns, "Microsoft.Network");
    match rest {
        [] => Route::Subscription { sub },
        [p] if eq(p, "providers") => Route::Providers { sub, ns: None },
        [p, ns] if eq(p, "providers") => Route::Providers {
            sub,
            ns: Some(ns.to_string()),
        },
        [p, ns, r] if eq(p, "providers") && eq(r, "register") => Route::Providers {
            sub,
            ns: Some(ns.to_string()),
        },
        [r] if eq(r, "resourcegroups") => Route::RgList { sub },
        [r, rg] if eq(r, "resourcegroups") => Route::Rg {
            sub,
            rg: rg.to_string(),
        },
        [o, op] if eq(o, "operationresults") => Route::RgOpResult { op: op.to_string() },
        [p, ns, l, _loc, o, op] if eq(p, "providers") && net(ns) && eq(l, "locations") => {
            if eq(o, "operations") {
                Route::NetOp {
                    op: op.to_string(),
                    result: false,
                }
            } else if eq(o, "operationResults") {
                Route::NetOp {
                    op: op.to_string(),
                    result: true,
                }
            } else {
                Route::NotFound
            }
        }
        [p, ns, t] if eq(p, "providers") && net(ns) => match Kind::top_from_segment(t) {
            Some(kind) => Route::SubList { sub, kind },
            None => Route::UnknownType {
                segment: t.to_string(),
            },
        },
        [r, rg, tail @ ..] if eq(r, "resourcegroups") => {
            let rg = rg.to_string();
            match tail {
                [x] if eq(x, "resources") => Route::RgResources { sub, rg },
                [p, ns, rest @ ..] if eq(p, "providers") && net(ns) => parse_network(sub, rg, rest),
                _ => Route::NotFound,
            }
        }
        _ => Route::NotFound,
    }
}

fn parse_network(sub: String, rg: String, rest: &[&str]) -> Route {
    let Some(t) = rest.first() else {
        return Route::NotFound;
    };
    let Some(kind) = Kind::top_from_segment(t) else {
        return Route::UnknownType {
            segment: t.to_string(),
        };
    };
    match rest {
        [_] => Route::RgKindList { sub, rg, kind },
        [_, name] => Route::Res {
            sub,
            rg,
            kind,
            name: name.to_string(),
        },
        [_, name, sk] if kind == Kind::Connection && eq(sk, "sharedkey") => Route::SharedKey {
            sub,
            rg,
            name: name.to_string(),
        },
        [_, name, ct] => match Kind::child_from_segment(kind, ct) {
            Some(child) => Route::ChildList {
                sub,
                rg,
                parent: kind,
                name: name.to_string(),
                kind: child,
            },
            None => Route::UnknownType {
                segment: format!("{}/{}", kind.segment(), ct),
            },
        },
        [_, name, ct, cn] => match Kind::child_from_segment(kind, ct) {
            Some(child) => Route::Child {
                sub,
                rg,
                parent: kind,
                name: name.to_string(),
                kind: child,
                child: cn.to_string(),
            },
            None => Route::UnknownType {
                segment: format!("{}/{}", kind.segment(), ct),
            },
        },
        _ => Route::NotFound,
    }
}

pub fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

pub fn top_id(sub: &str, rg: &str, kind: Kind, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{}/{name}",
        kind.segment()
    )
}

pub fn child_id(parent_id: &str, kind: Kind, name: &str) -> String {
    format!("{parent_id}/{}/{name}", kind.segment())
}

/// Normalise an Azure location: `"West Europe"` → `westeurope`.
pub fn normalize_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let q = |s: &str| Some(s.to_string());
        let chk = |v: Option<String>| {
            check_api_version(
                v.as_deref(),
                "Microsoft.Network",
                "x",
                NETWORK_MIN,
                NETWORK_MAX,
            )
            .map_err(|e| e.code)
        };
        assert!(chk(q("api-version=2024-05-01")).is_ok());
        assert!(chk(q("api-version=2020-03-01")).is_ok());
        assert!(chk(q("api-version=2026-03-01")).is_ok());
        assert_eq!(chk(q("foo=bar")), Err("MissingApiVersionParameter".into()));
        assert_eq!(
            chk(q("api-version=banana")),
            Err("InvalidApiVersionParameter".into())
        );
        assert_eq!(
            chk(q("api-version=2019-12-01")),
            Err("NoRegisteredProviderFound".into())
        );
        assert_eq!(
            chk(q("api-version=2024-05-01-preview")),
            Err("NoRegisteredProviderFound".into())
        );
        assert_eq!(
            chk(q("api-version=2027-01-01")),
            Err("NoRegisteredProviderFound".into())
        );
        assert_eq!(
            chk(q("api-version=2024-05-0\u{e9}x")),
            Err("InvalidApiVersionParameter".into())
        );
        assert_eq!(
            chk(q("api-version=%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC")),
            Err("InvalidApiVersionParameter".into())
        );
    }

    #[test]
    fn routes() {
        match parse_route(
            "/SUBSCRIPTIONS/s/resourcegroups/RG/providers/microsoft.network/VIRTUALNETWORKS/v/SUBNETS/GatewaySubnet",
        ) {
            Route::Child {
                kind,
                child,
                parent,
                ..
            } => {
                assert_eq!(kind, Kind::Subnet);
                assert_eq!(parent, Kind::VirtualNetwork);
                assert_eq!(child, "GatewaySubnet");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            parse_route(
                "/subscriptions/s/providers/Microsoft.Network/locations/westeurope/operations/abc"
            ),
            Route::NetOp { result: false, .. }
        ));
        assert_eq!(normalize_location("West Europe"), "westeurope");
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
    }
}
