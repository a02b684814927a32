//! Identity: the OAuth2 token endpoint (client credentials, tenant in the path), the
//! managed-identity endpoints, the OpenID configuration MSAL reads, and the checks ARM makes on a
//! bearer token (401 for a token this emulator did not issue, 403 for a subscription the token
//! does not cover).
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url; the payload carries `appid`,
//! `oid`, `tid`, `exp` as Entra ID's do, for clients that decode them) but unsigned: the emulator
//! remembers every token it issued, with what it covers. Tokens live in memory only: after a
//! restart, clients get 401 `InvalidAuthenticationToken` and must fetch a new one.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::ClientGrant;
use crate::api::{ApiError, json_response, query_param};

/// What one issued token covers.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub oid: String,
    /// The tenant the token was issued in (the token endpoint's path segment).
    pub tenant: String,
    /// `None`: every subscription.
    pub subscriptions: Option<Vec<String>>,
}

/// Tokens issued so far.
#[derive(Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, TokenGrant>>,
}

/// Object id of the system-assigned managed identity.
pub const SYSTEM_IDENTITY_OID: &str = "5f0c1bd9-6e0e-4a4d-9c3a-000000000001";

/// The tenant of managed identities.
pub const MANAGED_IDENTITY_TENANT: &str = "00000000-0000-0000-0000-000000000000";

const TOKEN_LIFETIME_SECS: u64 = 3599;

impl Tokens {
    fn issue(&self, tenant: &str, client_id: &str, grant: TokenGrant, now_secs: u64) -> String {
        let header = json!({"typ": "JWT", "alg": "none", "kid": "netform-emulator"});
        let payload = json!({
            "aud": "https://management.azure.com",
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now_secs,
            "nbf": now_secs,
            "exp": now_secs + TOKEN_LIFETIME_SECS,
            "appid": client_id,
            "oid": grant.oid,
            "sub": grant.oid,
            "tid": tenant,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let token = format!(
            "{}.{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes()),
            b64url(uuid::Uuid::new_v4().as_bytes())
        );
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), grant);
        token
    }

    fn lookup(&self, token: &str) -> Option<TokenGrant> {
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Entra ID's error body (`error`, `error_description` with the AADSTS code, `error_codes`).
fn aad_error(status: u16, error: &str, code: u32, description: String) -> Response {
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": "",
            "trace_id": uuid::Uuid::new_v4().to_string(),
            "correlation_id": uuid::Uuid::new_v4().to_string(),
            "error_uri": "https://login.microsoftonline.com/error?code=".to_string() + &code.to_string(),
        }),
    )
}

/// `POST /{tenant}/oauth2/v2.0/token` (and `/oauth2/token`): client credentials.
pub fn token_endpoint(
    clients: &[ClientGrant],
    tokens: &Tokens,
    tenant: &str,
    body: &[u8],
    now_secs: u64,
) -> Response {
    let form = String::from_utf8_lossy(body).replace('+', " ");
    let field = |name: &str| query_param(Some(&form), name).filter(|v| !v.is_empty());
    let client_id = field("client_id").unwrap_or_default();
    let grant_type = field("grant_type").unwrap_or_default();
    if grant_type != "client_credentials" {
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            format!(
                "AADSTS70003: The app requested an unsupported grant type '{grant_type}'. (netform-emulator supports client_credentials only)"
            ),
        );
    }
    let grant = if clients.is_empty() {
        TokenGrant {
            oid: client_id.clone(),
            tenant: tenant.to_string(),
            subscriptions: None,
        }
    } else {
        let Some(known) = clients
            .iter()
            .find(|c| c.client_id.eq_ignore_ascii_case(&client_id))
        else {
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                format!(
                    "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
                ),
            );
        };
        if let Some(secret) = &known.secret
            && field("client_secret").as_deref() != Some(secret.as_str())
        {
            return aad_error(
                401,
                "invalid_client",
                7_000_215,
                format!(
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                    known.client_id
                ),
            );
        }
        TokenGrant {
            oid: known.client_id.clone(),
            tenant: tenant.to_string(),
            subscriptions: known.subscriptions.clone(),
        }
    };
    let token = tokens.issue(tenant, &client_id, grant, now_secs);
    json_response(
        200,
        &json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECS, "ext_expires_in": TOKEN_LIFETIME_SECS, "access_token": token}),
    )
}

/// `GET /metadata/identity/oauth2/token` (IMDS) and `GET /msi/token` (App Service). A
/// `client_id` query parameter selects a user-assigned identity: a configured client's coverage
/// applies to it; otherwise (and for the system-assigned identity) every subscription.
pub fn managed_identity_endpoint(
    clients: &[ClientGrant],
    tokens: &Tokens,
    query: Option<&str>,
    now_secs: u64,
) -> Response {
    let client_id = query_param(query, "client_id").filter(|v| !v.is_empty());
    let resource = query_param(query, "resource")
        .unwrap_or_else(|| "https://management.azure.com".to_string());
    let grant = match &client_id {
        Some(id) => TokenGrant {
            oid: id.clone(),
            tenant: MANAGED_IDENTITY_TENANT.to_string(),
            subscriptions: clients
                .iter()
                .find(|c| c.client_id.eq_ignore_ascii_case(id))
                .and_then(|c| c.subscriptions.clone()),
        },
        None => TokenGrant {
            oid: SYSTEM_IDENTITY_OID.to_string(),
            tenant: MANAGED_IDENTITY_TENANT.to_string(),
            subscriptions: None,
        },
    };
    let app = client_id
        .as_deref()
        .unwrap_or(SYSTEM_IDENTITY_OID)
        .to_string();
    let token = tokens.issue(MANAGED_IDENTITY_TENANT, &app, grant, now_secs);
    let exp = now_secs + TOKEN_LIFETIME_SECS;
    json_response(
        200,
        &json!({"access_token": token, "expires_in": TOKEN_LIFETIME_SECS.to_string(), "expires_on": exp.to_string(), "token_type": "Bearer", "resource": resource}),
    )
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`: what MSAL (Microsoft's Python and .NET
/// identity libraries) reads before it asks for a token.
pub fn openid_configuration(base: &str, tenant: &str) -> Response {
    let t = format!("{base}/{tenant}");
    json_response(
        200,
        &json!({
            "token_endpoint": format!("{t}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{t}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{t}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{t}/openid/userinfo"),
            "authorization_endpoint": format!("{t}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{t}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{t}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "oid", "tid"],
            "kerberos_endpoint": format!("{t}/kerberos"),
            "tenant_region_scope": Value::Null,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net"
        }),
    )
}

fn unauthorized(code: &str, message: &str, description: &str) -> ApiError {
    let mut e = ApiError::new(401, code, message);
    e.headers.push((
        "www-authenticate".to_string(),
        format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{description}\""
        ),
    ));
    e
}

/// ARM's check of an `Authorization` header for a request under `/subscriptions[/{sub}]` or
/// `/tenants`; the token's grant when it passes. Subscription coverage is checked when the path
/// names a subscription.
pub fn check_arm(
    tokens: &Tokens,
    authorization: Option<&str>,
    method: &Method,
    path: &str,
) -> Result<TokenGrant, ApiError> {
    let token = authorization.and_then(|v| {
        let (scheme, token) = v.split_once(' ').unwrap_or((v, ""));
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    });
    let Some(token) = token else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let Some(grant) = tokens.lookup(token) else {
        return Err(unauthorized(
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            "The access token is invalid (this emulator did not issue it; get one from its token endpoint).",
        ));
    };
    let sub = path.split('/').nth(2).unwrap_or_default();
    let covered = sub.is_empty()
        || grant
            .subscriptions
            .as_ref()
            .is_none_or(|subs| subs.iter().any(|s| s.eq_ignore_ascii_case(sub)));
    if !covered {
        let scope = path.trim_end_matches('/');
        let action = arm_action(method, path);
        let oid = &grant.oid;
        return Err(ApiError::new(
            403,
            "AuthorizationFailed",
            format!(
                "The client '{oid}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        ));
    }
    Ok(grant)
}

/// `GET /subscriptions`: the subscriptions a token covers; for a token covering every
/// subscription (or without `require_auth`), those holding resources (the all-zero one when
/// there are none).
pub fn list_subscriptions(
    grant: Option<&TokenGrant>,
    with_resources: &std::collections::BTreeSet<String>,
) -> Response {
    let tenant = grant
        .map(|g| g.tenant.clone())
        .unwrap_or_else(|| MANAGED_IDENTITY_TENANT.to_string());
    let subs: Vec<String> = match grant.and_then(|g| g.subscriptions.clone()) {
        Some(list) => list,
        None if with_resources.is_empty() => vec![MANAGED_IDENTITY_TENANT.to_string()],
        None => with_resources.iter().cloned().collect(),
    };
    let value: Vec<Value> = subs
        .iter()
        .map(|s| {
            json!({
                "id": format!("/subscriptions/{s}"),
                "authorizationSource": "RoleBased",
                "managedByTenants": [],
                "subscriptionId": s,
                "tenantId": tenant,
                "displayName": "netform emulator",
                "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}
            })
        })
        .collect();
    json_response(200, &json!({ "value": value }))
}

/// `GET /tenants`: the token's tenant.
pub fn list_tenants(grant: Option<&TokenGrant>) -> Response {
    let tenant = grant
        .map(|g| g.tenant.clone())
        .unwrap_or_else(|| MANAGED_IDENTITY_TENANT.to_string());
    json_response(
        200,
        &json!({"value": [{"id": format!("/tenants/{tenant}"), "tenantId": tenant, "tenantCategory": "Home", "displayName": "netform emulator", "defaultDomain": "netform-emulator.invalid"}]}),
    )
}

/// The RBAC action ARM names in `AuthorizationFailed`, e.g.
/// `Microsoft.Network/virtualNetworks/subnets/write`, `Microsoft.Resources/subscriptions/resourceGroups/read`.
pub fn arm_action(method: &Method, path: &str) -> String {
    let verb = match *method {
        Method::GET | Method::HEAD => "read",
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        _ => "action",
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(p) = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
        && let Some(ns) = segs.get(p + 1)
    {
        let types: Vec<&str> = segs[p + 2..].iter().step_by(2).copied().collect();
        if !types.is_empty() {
            return format!("{ns}/{}/{verb}", types.join("/"));
        }
    }
    // Microsoft.Resources: subscriptions/{sub}/resourceGroups/{rg}/... (types at even positions).
    let types: Vec<String> = segs
        .iter()
        .step_by(2)
        .map(|t| {
            if t.eq_ignore_ascii_case("resourcegroups") {
                "resourceGroups".to_string()
            } else {
                t.to_string()
            }
        })
        .collect();
    format!("Microsoft.Resources/{}/{verb}", types.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_without_padding() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn actions_name_the_resource_type() {
        assert_eq!(
            arm_action(
                &Method::PUT,
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
            ),
            "Microsoft.Network/virtualNetworks/subnets/write"
        );
        assert_eq!(
            arm_action(&Method::GET, "/subscriptions/s/resourcegroups/rg"),
            "Microsoft.Resources/subscriptions/resourceGroups/read"
        );
        assert_eq!(
            arm_action(&Method::DELETE, "/subscriptions/s/resourcegroups/rg"),
            "Microsoft.Resources/subscriptions/resourceGroups/delete"
        );
    }
}
