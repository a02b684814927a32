//! The connectivity provider's side of a circuit (R12): manual and automatic provisioning,
//! the offline admin API.

mod common;

use std::time::{Duration, Instant};

use common::*;
use netform_emulator::{EmulatorConfig, ProviderState, set_provider_state_in_file};

fn state(b: &serde_json::Value) -> String {
    b["properties"]["serviceProviderProvisioningState"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn new_circuit_is_not_provisioned_until_the_admin_endpoint() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    let c = e.get(&net("rg", "expressRouteCircuits/c")).await;
    assert_eq!(state(&c.body), "NotProvisioned");
    assert_eq!(c.body["properties"]["circuitProvisioningState"], "Enabled");
    let r = e.post(&format!("/_emulator/circuits/{sk}/provision")).await;
    assert_eq!(r.status, 200);
    assert_eq!(state(&r.body), "Provisioned");
    assert_eq!(
        state(&e.get(&net("rg", "expressRouteCircuits/c")).await.body),
        "Provisioned"
    );
    // a client re-PUT does not change the provider state
    let body = e.get(&net("rg", "expressRouteCircuits/c")).await.body;
    let after = e.put_ok(&net("rg", "expressRouteCircuits/c"), &body).await;
    assert_eq!(state(&after), "Provisioned");
    let r = e
        .post(&format!("/_emulator/circuits/{sk}/deprovision"))
        .await;
    assert_eq!(state(&r.body), "NotProvisioned");
    let r = e
        .post("/_emulator/circuits/00000000-0000-0000-0000-000000000000/provision")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn auto_provisioning_goes_through_provisioning_to_provisioned() {
    let e = Emu::start(EmulatorConfig {
        auto_provision_after: Some(Duration::from_millis(600)),
        ..EmulatorConfig::default()
    })
    .await;
    e.rg("rg").await;
    let t0 = Instant::now();
    e.circuit("rg", "c").await;
    let early = t0.elapsed() < Duration::from_millis(250);
    let mut seen = Vec::new();
    for _ in 0..300 {
        let s = state(&e.get(&net("rg", "expressRouteCircuits/c")).await.body);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "Provisioned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if early {
        assert_eq!(
            seen.first().map(String::as_str),
            Some("NotProvisioned"),
            "{seen:?}"
        );
    }
    assert_eq!(
        seen.last().map(String::as_str),
        Some("Provisioned"),
        "{seen:?}"
    );
    // in auto mode the provider deprovisions on request: delete is allowed
    e.delete_ok(&net("rg", "expressRouteCircuits/c")).await;
}

#[tokio::test]
async fn set_provider_state_in_file_works_offline() {
    let file = temp_file("offline");
    let cfg = EmulatorConfig {
        data_file: Some(file.clone()),
        ..EmulatorConfig::default()
    };
    let e = Emu::start(cfg.clone()).await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    e.emu.shutdown().await;
    assert_eq!(
        set_provider_state_in_file(&file, "no-such-key", ProviderState::Provisioned).ok(),
        Some(false)
    );
    assert_eq!(
        set_provider_state_in_file(&file, &sk.to_uppercase(), ProviderState::Provisioned).ok(),
        Some(true)
    );
    let e = Emu::start(cfg).await;
    assert_eq!(
        state(&e.get(&net("rg", "expressRouteCircuits/c")).await.body),
        "Provisioned"
    );
    e.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(file.parent().expect("dir"));
}

#[tokio::test]
async fn set_provider_state_in_file_is_seen_by_a_running_emulator() {
    let file = temp_file("live");
    let e = Emu::start(EmulatorConfig {
        data_file: Some(file.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    assert_eq!(
        set_provider_state_in_file(&file, &sk, ProviderState::Provisioning).ok(),
        Some(true)
    );
    assert_eq!(
        state(&e.get(&net("rg", "expressRouteCircuits/c")).await.body),
        "Provisioning"
    );
    e.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(file.parent().expect("dir"));
}

#[tokio::test]
async fn admin_lists_circuits_and_resets() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (cid, sk) = e.circuit("rg", "c").await;
    let list = e.get("/_emulator/circuits").await;
    assert_eq!(list.body["value"][0]["id"], cid.as_str());
    assert_eq!(list.body["value"][0]["serviceKey"], sk.as_str());
    assert_eq!(
        list.body["value"][0]["serviceProviderProvisioningState"],
        "NotProvisioned"
    );
    assert_eq!(e.post("/_emulator/reset").await.status, 200);
    assert!(e.resources().await.is_empty());
}
