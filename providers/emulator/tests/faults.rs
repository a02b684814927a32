//! Injected faults: deterministic from a seed, only on ARM paths, no effect on state.

mod common;

use std::time::Duration;

use common::*;
use netform_emulator::{EmulatorConfig, FaultConfig};
use serde_json::json;

async fn outcomes(seed: u64) -> (Vec<String>, Emu) {
    let e = Emu::start(EmulatorConfig {
        faults: Some(FaultConfig {
            seed,
            rate: 1.0,
            slow_delay: Duration::from_millis(5),
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
