//! Injected faults: deterministic from a seed, only on ARM paths, no effect on state.

mod common;

use std::time::Duration;

use common::*;
use netform_emulator::{EmulatorConfig, FaultConfig};
use serde_json::json;

async fn outcomes(seed: u64) -> (Vec<String>, Emu) {
    let e = Emu::start(EmulatorConfig {
        faults: Some(FaultConfig {
            slow_delay: Duration::from_millis(5),
            ..FaultConfig::new(seed, 1.0)
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let mut out = Vec::new();
    for _ in 0..30 {
        let r = e.c.get(e.url(&rg_path("rg"))).send().await;
        let o = match r {
            Err(_) => "dropped".to_string(),
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(_) => status.to_string(),
                    Err(_) => "dropped".to_string(),
                }
            }
        };
        out.push(o);
    }
    (out, e)
}

#[tokio::test]
async fn faults_are_deterministic_and_varied() {
    let (a, e) = outcomes(42).await;
    let (b, _) = outcomes(42).await;
    assert_eq!(a, b, "same seed, same faults");
    for kind in ["429", "500", "503", "dropped", "404"] {
        assert!(a.iter().any(|o| o == kind), "{kind} missing from {a:?}");
    }
    // admin endpoints are never faulted
    for _ in 0..5 {
        assert_eq!(e.get("/_emulator/resources").await.status, 200);
    }
}

#[tokio::test]
async fn a_throttled_write_changes_nothing() {
    let e = Emu::start(EmulatorConfig {
        faults: Some(FaultConfig {
            slow_delay: Duration::from_millis(5),
            ..FaultConfig::new(7, 0.5)
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let mut created = false;
    for _ in 0..20 {
        let r =
            e.c.put(e.url(&rg_path("rg")))
                .json(&json!({"location": "westeurope"}))
                .send()
                .await;
        let Ok(r) = r else { continue };
        let status = r.status().as_u16();
        if status == 429 || status == 503 {
            assert!(r.headers().contains_key("retry-after"));
        }
        if status >= 400 || r.text().await.is_err() {
            continue;
        }
        created = true;
        break;
    }
    assert!(created);
    assert_eq!(e.resources().await.len(), 1);
}

/// GET, retrying injected faults, until a 200 (or 404) JSON answer arrives.
async fn get_through(e: &Emu, path: &str) -> Resp {
    for _ in 0..200 {
        let Ok(r) = e.c.get(e.url(path)).send().await else {
            continue;
        };
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let Ok(text) = r.text().await else { continue };
        if status == 200 || status == 404 || status == 204 || status == 202 {
            let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
            return Resp {
                status,
                headers,
                body,
            };
        }
    }
    panic!("no answer through the faults");
}

#[tokio::test]
async fn injected_failed_operations_end_failed() {
    let e = Emu::start(EmulatorConfig {
        faults: Some(FaultConfig {
            slow_delay: Duration::from_millis(1),
            fail_operations: true,
            ..FaultConfig::new(3, 1.0)
        }),
        ..EmulatorConfig::default()
    })
    .await;
    // the RG without faults is not possible at rate 1.0: retry until it lands
    let mut rg_ok = false;
    for _ in 0..50 {
        if let Ok(r) =
            e.c.put(e.url(&rg_path("rg")))
                .json(&json!({"location": "westeurope"}))
                .send()
                .await
            && r.status().is_success()
        {
            rg_ok = true;
            break;
        }
    }
    assert!(rg_ok);
    let mut saw_failed = false;
    let mut saw_succeeded = false;
    for i in 0..60 {
        let path = net("rg", &format!("localNetworkGateways/l{i}"));
        let Ok(r) =
            e.c.put(e.url(&path))
                .json(&json!({"location": "westeurope", "properties": {"fqdn": "a.example"}}))
                .send()
                .await
        else {
            continue;
        };
        if r.status().as_u16() != 201 {
            continue;
        }
        let Some(op) = r
            .headers()
            .get("azure-asyncoperation")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            continue;
        };
        let st = get_through(&e, &op).await;
        match st.body["status"].as_str() {
            Some("Failed") => {
                assert_eq!(st.body["error"]["code"], "InternalServerError");
                assert_eq!(get_through(&e, &path).await.prov(), "Failed");
                saw_failed = true;
            }
            Some("Succeeded") => {
                assert_eq!(get_through(&e, &path).await.prov(), "Succeeded");
                saw_succeeded = true;
            }
            other => panic!("unexpected {other:?}"),
        }
        if saw_failed && saw_succeeded {
            break;
        }
    }
    assert!(saw_failed && saw_succeeded);
}
