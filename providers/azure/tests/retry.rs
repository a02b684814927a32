//! Retry, throttling and LRO behaviour of the ARM client against a scripted local HTTP server
//! (429 + Retry-After, 5xx, 409 AnotherOperationInProgress, dropped connections, failed
//! operations, Location polling, provisioningState polling).

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Recorder, emulator_settings, obj};
use netform_azure::AzureProvider;
use netform_engine::Value;
use netform_engine::provider::{ErrorKind, Provider};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted reply: status, extra headers, body. `None` = drop the connection.
type Reply = Option<(u16, Vec<(String, String)>, String)>;

struct Script {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<String>>,
    auth: Mutex<Vec<Option<String>>>,
}

fn reply(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> Reply {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Some((
        status,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body,
    ))
}

/// Serve the replies in order (one per request), recording "METHOD path?query" of each.
async fn serve(replies: Vec<Reply>) -> (String, Arc<Script>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    let script = Arc::new(Script {
        replies: Mutex::new(replies.into()),
        seen: Mutex::new(Vec::new()),
        auth: Mutex::new(Vec::new()),
    });
    let s = script.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                loop {
                    // Read one request (headers + content-length body).
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    let head_end = loop {
                        match sock.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    let line = head.lines().next().unwrap_or("").to_string();
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let target = parts.next().unwrap_or("").to_string();
                    if let Ok(mut seen) = s.seen.lock() {
                        seen.push(format!("{method} {target}"));
                    }
                    let auth = head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("authorization")
                            .then(|| v.trim().to_string())
                    });
                    if let Ok(mut a) = s.auth.lock() {
                        a.push(auth);
                    }
                    let next = s.replies.lock().ok().and_then(|mut r| r.pop_front());
                    match next {
                        Some(Some((status, headers, body))) => {
                            let mut out = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
                                body.len()
                            );
                            if !body.is_empty() {
                                out.push_str("content-type: application/json\r\n");
                            }
                            for (k, v) in headers {
                                out.push_str(&format!("{k}: {v}\r\n"));
                            }
                            out.push_str("\r\n");
                            out.push_str(&body);
                            if sock.write_all(out.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        // Drop the connection, or no more replies scripted.
                        Some(None) | None => return,
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), script)
}

fn rg_state() -> serde_json::Value {
    json!({"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg","name":"rg","location":"westeurope"})
}

const RG_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg";

#[tokio::test]
async fn retries_429_5xx_and_dropped_connections() {
    let (base, script) = serve(vec![
        reply(
            429,
            &[("retry-after", "0")],
            json!({"error":{"code":"SubscriptionRequestsThrottled","message":"slow down"}}),
        ),
        reply(
            503,
            &[],
            json!({"error":{"code":"ServiceUnavailable","message":"try later"}}),
        ),
        None,
        reply(408, &[], json!(null)),
        reply(200, &[], rg_state()),
    ])
    .await;
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let got = p
        .read("azurerm_resource_group", &rg_state())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.as_ref().and_then(|g| g["name"].as_str()), Some("rg"));
    assert_eq!(p.retry_count(), 4);
    let seen = script.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 5);
    assert!(
        seen.iter()
            .all(|s| s == &format!("GET {RG_PATH}?api-version=2021-04-01")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_the_azure_code() {
    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.push(reply(
            429,
            &[("retry-after", "0")],
            json!({"error":{"code":"RetryableErrorDueToAnotherOperation","message":"busy"}}),
        ));
    }
    let (base, _script) = serve(replies).await;
    let mut settings = emulator_settings(&base);
    settings.max_attempts = 3;
    let p = AzureProvider::new(settings).unwrap_or_else(|e| panic!("{e}"));
    let err = p
        .read("azurerm_resource_group", &rg_state())
        .await
        .err()
        .unwrap_or_else(|| panic!("expected an error"));
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(
        err.code.as_deref(),
        Some("RetryableErrorDueToAnotherOperation")
    );
    assert_eq!(p.retry_count(), 2);
}

#[tokio::test]
async fn not_found_is_none_and_errors_map_to_kinds() {
    let (base, _script) = serve(vec![
        reply(404, &[], json!({"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg' could not be found."}})),
        reply(403, &[], json!({"error":{"code":"AuthorizationFailed","message":"no"}})),
    ])
    .await;
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.read("azurerm_resource_group", &rg_state()).await.ok(),
        Some(None)
    );
    let err = p
        .read("azurerm_resource_group", &rg_state())
        .await
        .err()
        .unwrap_or_else(|| panic!("expected an error"));
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.code.as_deref(), Some("AuthorizationFailed"));
    assert_eq!(p.retry_count(), 0);
}

fn vnet_cfg() -> Value {
    obj(&[
        ("name", "vnet".into()),
        ("resource_group_name", "rg".into()),
        ("location", "westeurope".into()),
        ("address_space", common::list(&["10.0.0.0/16"])),
    ])
}

const VNET_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet";

fn vnet_body(state: &str) -> serde_json::Value {
    json!({"id": VNET_PATH, "name":"vnet","location":"westeurope",
        "properties":{"provisioningState":state,"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[]}})
}

#[tokio::test]
async fn put_follows_azure_async_operation_and_reports_progress() {
    // The operation URL is absolute and points back at the server (BASE is patched after bind).
    let op = "BASE/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/locations/westeurope/operations/op1?api-version=2024-05-01";
    let (base, script) = serve(vec![
        reply(
            404,
            &[],
            json!({"error":{"code":"ResourceNotFound","message":"nope"}}),
        ), // GET existing (VNet round-trips subnets)
        reply(
            409,
            &[],
            json!({"error":{"code":"AnotherOperationInProgress","message":"busy"}}),
        ),
        reply(
            201,
            &[("azure-asyncoperation", op), ("retry-after", "10")],
            vnet_body("Updating"),
        ),
        reply(
            200,
            &[("retry-after", "10")],
            json!({"status":"InProgress"}),
        ),
        reply(200, &[], json!({"status":"Succeeded"})),
        reply(200, &[], vnet_body("Succeeded")),
    ])
    .await;
    // Patch the BASE placeholder now that the port is known.
    if let Ok(mut r) = script.replies.lock() {
        for item in r.iter_mut().flatten() {
            for h in item.1.iter_mut() {
                h.1 = h.1.replace("BASE", &base);
            }
        }
    }
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let planned = common::planned(&p, "azurerm_virtual_network", None, &vnet_cfg());
    let rec = Recorder::default();
    let started = std::time::Instant::now();
    let state = p
        .create(
            "azurerm_virtual_network",
            &planned,
            &rec.ctx(Duration::from_secs(30)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "Retry-After must be capped by max_poll_interval"
    );
    assert_eq!(state["id"], VNET_PATH);
    assert_eq!(state["address_space"], json!(["10.0.0.0/16"]));
    assert_eq!(p.retry_count(), 1);
    let msgs = rec.messages();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("waiting for Azure: InProgress")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("waiting for Azure: Succeeded")),
        "{msgs:?}"
    );
    let seen = script.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen[0], format!("GET {VNET_PATH}?api-version=2024-05-01"));
    assert_eq!(seen[1], format!("PUT {VNET_PATH}?api-version=2024-05-01"));
    assert_eq!(seen[2], format!("PUT {VNET_PATH}?api-version=2024-05-01"));
    assert!(seen[3].contains("/operations/op1"));
    assert_eq!(seen[5], format!("GET {VNET_PATH}?api-version=2024-05-01"));
}

#[tokio::test]
async fn failed_operation_surfaces_code_and_message() {
    let (base, script) = serve(vec![
        reply(404, &[], json!(null)),
        reply(201, &[("azure-asyncoperation", "BASE/ops/1")], vnet_body("Updating")),
        reply(200, &[], json!({"status":"Failed","error":{"code":"NetcfgSubnetRangeOutsideVnet","message":"Subnet 'x' is not valid"}})),
    ])
    .await;
    if let Ok(mut r) = script.replies.lock() {
        for item in r.iter_mut().flatten() {
            for h in item.1.iter_mut() {
                h.1 = h.1.replace("BASE", &base);
            }
        }
    }
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let planned = common::planned(&p, "azurerm_virtual_network", None, &vnet_cfg());
    let err = p
        .create("azurerm_virtual_network", &planned, &common::ctx())
        .await
        .err()
        .unwrap_or_else(|| panic!("expected failure"));
    assert_eq!(err.code.as_deref(), Some("NetcfgSubnetRangeOutsideVnet"));
    assert!(
        err.message.contains("Subnet 'x' is not valid"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn delete_follows_location_and_polls_resource_without_headers() {
    let (base, script) = serve(vec![
        reply(202, &[("location", "BASE/subscriptions/00000000-0000-0000-0000-000000000000/operationresults/abc?api-version=2021-04-01"), ("retry-after", "15")], json!(null)),
        reply(202, &[("location", "BASE/subscriptions/00000000-0000-0000-0000-000000000000/operationresults/abc?api-version=2021-04-01")], json!(null)),
        reply(200, &[], json!(null)),
        // second delete: 202 without any header → poll the resource until 404
        reply(202, &[], json!(null)),
        reply(200, &[], json!({"id": RG_PATH, "properties":{"provisioningState":"Deleting"}})),
        reply(404, &[], json!(null)),
        // third delete: already gone
        reply(204, &[], json!(null)),
    ])
    .await;
    if let Ok(mut r) = script.replies.lock() {
        for item in r.iter_mut().flatten() {
            for h in item.1.iter_mut() {
                h.1 = h.1.replace("BASE", &base);
            }
        }
    }
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let rec = Recorder::default();
    for _ in 0..3 {
        p.delete(
            "azurerm_resource_group",
            &rg_state(),
            &rec.ctx(Duration::from_secs(30)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let seen = script.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert!(seen[1].contains("/operationresults/abc"));
    assert!(
        rec.messages()
            .iter()
            .any(|m| m.contains("waiting for Azure: Deleting"))
    );
}

#[tokio::test]
async fn operation_timeout_is_a_timeout_error() {
    let mut replies = vec![
        reply(404, &[], json!(null)),
        reply(
            201,
            &[("azure-asyncoperation", "BASE/ops/1")],
            vnet_body("Updating"),
        ),
    ];
    for _ in 0..200 {
        replies.push(reply(
            200,
            &[("retry-after", "1")],
            json!({"status":"InProgress"}),
        ));
    }
    let (base, script) = serve(replies).await;
    if let Ok(mut r) = script.replies.lock() {
        for item in r.iter_mut().flatten() {
            for h in item.1.iter_mut() {
                h.1 = h.1.replace("BASE", &base);
            }
        }
    }
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let planned = common::planned(&p, "azurerm_virtual_network", None, &vnet_cfg());
    let err = p
        .create(
            "azurerm_virtual_network",
            &planned,
            &netform_engine::provider::OpContext::quiet(Duration::from_millis(300)),
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("expected a timeout"));
    assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
}

#[tokio::test]
async fn sends_bearer_token_from_client_secret_credential() {
    // A fake Entra token endpoint on http (reached through the https placeholder authority).
    let token = json!({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-123"});
    let (login, login_script) = serve(vec![reply(200, &[], token)]).await;
    let (base, script) = serve(vec![
        reply(200, &[], rg_state()),
        reply(200, &[], rg_state()),
    ])
    .await;
    let mut s = emulator_settings(&base);
    s.no_auth = false;
    s.tenant_id = Some("00000000-0000-0000-0000-0000000000ff".into());
    s.client_id = Some("app".into());
    s.client_secret = Some("very-secret".into());
    s.authority_host = login.clone();
    let p = AzureProvider::new(s).unwrap_or_else(|e| panic!("{e}"));
    assert!(!format!("{p:?}").contains("very-secret"));
    for _ in 0..2 {
        let got = p
            .read("azurerm_resource_group", &rg_state())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(got.is_some());
    }
    let seen = login_script
        .seen
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    assert_eq!(
        seen,
        vec!["POST /00000000-0000-0000-0000-0000000000ff/oauth2/v2.0/token".to_string()],
        "token cached"
    );
    let auth = script.auth.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(
        auth,
        vec![
            Some("Bearer tok-123".to_string()),
            Some("Bearer tok-123".to_string())
        ]
    );
}

#[tokio::test]
async fn no_auth_sends_no_authorization_header() {
    let (base, script) = serve(vec![reply(200, &[], rg_state())]).await;
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.read("azurerm_resource_group", &rg_state()).await.is_ok());
    let auth = script.auth.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(auth, vec![None]);
}

#[tokio::test]
async fn failed_operation_with_internal_error_is_reissued() {
    let (base, script) = serve(vec![
        reply(404, &[], json!(null)),
        reply(201, &[("azure-asyncoperation", "BASE/ops/1")], vnet_body("Updating")),
        reply(200, &[], json!({"status":"Failed","error":{"code":"InternalServerError","message":"An error occurred."}})),
        reply(200, &[("azure-asyncoperation", "BASE/ops/2")], vnet_body("Updating")),
        reply(200, &[], json!({"status":"Succeeded"})),
        reply(200, &[], vnet_body("Succeeded")),
    ])
    .await;
    if let Ok(mut r) = script.replies.lock() {
        for item in r.iter_mut().flatten() {
            for h in item.1.iter_mut() {
                h.1 = h.1.replace("BASE", &base);
            }
        }
    }
    let p = AzureProvider::new(emulator_settings(&base)).unwrap_or_else(|e| panic!("{e}"));
    let planned = common::planned(&p, "azurerm_virtual_network", None, &vnet_cfg());
    let rec = Recorder::default();
    let state = p
        .create(
            "azurerm_virtual_network",
            &planned,
            &rec.ctx(Duration::from_secs(30)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state["name"], "vnet");
    assert_eq!(p.retry_count(), 1);
    assert!(
        rec.messages().iter().any(|m| m.contains("re-issuing PUT")),
        "{:?}",
        rec.messages()
    );
    let seen = script.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.iter().filter(|s| s.starts_with("PUT ")).count(), 2);
}

#[tokio::test]
async fn workload_identity_posts_the_federated_token() {
    let dir = std::env::temp_dir().join(format!("netform-azure-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let token_file = dir.join("token");
    std::fs::write(&token_file, "federated-jwt").unwrap_or_else(|e| panic!("{e}"));
    let token = json!({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"oidc-tok"});
    let (login, login_script) = serve(vec![reply(200, &[], token)]).await;
    let (base, script) = serve(vec![reply(200, &[], rg_state())]).await;
    let mut s = emulator_settings(&base);
    s.no_auth = false;
    s.use_oidc = true;
    s.tenant_id = Some("00000000-0000-0000-0000-0000000000ee".into());
    s.client_id = Some("app".into());
    s.oidc_token_file_path = Some(token_file);
    s.authority_host = login;
    let p = AzureProvider::new(s).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        p.read("azurerm_resource_group", &rg_state())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some()
    );
    let seen = login_script
        .seen
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    assert_eq!(
        seen,
        vec!["POST /00000000-0000-0000-0000-0000000000ee/oauth2/v2.0/token".to_string()]
    );
    let auth = script.auth.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(auth, vec![Some("Bearer oidc-tok".to_string())]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn credential_failure_is_an_auth_error_without_the_secret() {
    let (login, _login) = serve(vec![reply(401, &[], json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}))]).await;
    let (base, _script) = serve(vec![]).await;
    let mut s = emulator_settings(&base);
    s.no_auth = false;
    s.use_cli = false;
    s.tenant_id = Some("00000000-0000-0000-0000-0000000000ff".into());
    s.client_id = Some("app".into());
    s.client_secret = Some("wrong-secret-value".into());
    s.authority_host = login;
    let p = AzureProvider::new(s).unwrap_or_else(|e| panic!("{e}"));
    let err = p
        .read("azurerm_resource_group", &rg_state())
        .await
        .err()
        .unwrap_or_else(|| panic!("expected failure"));
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        !err.message.contains("wrong-secret-value"),
        "{}",
        err.message
    );
}
