//! Wire protocol: LRO sequences, headers, errors, case-insensitivity, api-versions, lists,
//! persistence, admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::*;
use netform_emulator::EmulatorConfig;
use serde_json::{Value, json};

fn scaled(scale: f64) -> EmulatorConfig {
    EmulatorConfig {
        time_scale: scale,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn resource_group_put_get_is_synchronous() {
    let e = Emu::instant().await;
    let r = e
        .put(
            &rg_path("Rg1"),
            &json!({"location": "West Central US", "tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.header("azure-asyncoperation").is_none());
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{SUB}/resourceGroups/Rg1")
    );
    assert_eq!(r.body["location"], "westcentralus");
    assert_eq!(r.body["type"], "Microsoft.Resources/resourceGroups");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let r = e
        .put(&rg_path("RG1"), &json!({"location": "westcentralus"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "Rg1", "name as created");
    let r = e.put(&rg_path("rg1"), &json!({"location": "eastus"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "InvalidResourceGroupLocation");
    let r = e.get(&rg_path("nope")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn lro_put_sequence_with_time_scale() {
    // circuit create = 20 s real; scale 20 -> 1 s
    let e = Emu::start(scaled(20.0)).await;
    e.rg("rg").await;
    let t0 = Instant::now();
    let r = e
        .put(
            &net("rg", "expressRouteCircuits/c1"),
            &circuit("Standard", "MeteredData", 200),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.prov(), "Updating");
    assert!(r.header("location").is_none());
    let op_url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    assert!(
        op_url.starts_with(&format!(
            "{}/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/operations/",
            e.emu.base_url()
        )),
        "{op_url}"
    );
    assert!(op_url.ends_with("?api-version=2024-05-01"));
    assert!(r.header("retry-after").is_some());
    let req_id = r.header("x-ms-request-id").expect("request id");
    assert!(
        op_url.contains(&req_id),
        "x-ms-request-id is the operation id"
    );
    assert!(
        r.header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );
    assert_eq!(
        r.body["etag"].as_str().map(|s| s.starts_with("W/\"")),
        Some(true)
    );

    let first = e.get(&op_url).await;
    assert_eq!(first.status, 200);
    let g = e.get(&net("rg", "expressRouteCircuits/c1")).await;
    // Only meaningful if we polled well inside the 1 s window (a loaded machine may not).
    if t0.elapsed() < Duration::from_millis(800) {
        assert_eq!(first.body["status"], "InProgress");
        assert!(first.header("retry-after").is_some());
        assert_eq!(g.prov(), "Updating");
    }

    let done = e.wait_async(&op_url).await;
    assert_eq!(done["status"], "Succeeded");
    let g = e.get(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.prov(), "Succeeded");
    assert!(
        g.header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );
    // update -> 200, new etag
    let r2 = e
        .put(
            &net("rg", "expressRouteCircuits/c1"),
            &circuit("Standard", "MeteredData", 500),
        )
        .await;
    assert_eq!(r2.status, 200);
    assert_ne!(r2.body["etag"], g.body["etag"]);
    e.wait_async(&r2.header("azure-asyncoperation").expect("op"))
        .await;
}

#[tokio::test]
async fn lro_delete_sequence() {
    // circuit delete = 10 s real; scale 20 -> 500 ms
    let e = Emu::start(scaled(20.0)).await;
    e.rg("rg").await;
    e.put_ok(
        &net("rg", "expressRouteCircuits/c1"),
        &circuit("Standard", "MeteredData", 200),
    )
    .await;
    let t0 = Instant::now();
    let d = e.delete(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(d.status, 202);
    let loc = d.header("location").expect("Location");
    assert!(loc.contains("/operationResults/"), "{loc}");
    assert!(d.header("azure-asyncoperation").is_some());
    assert!(
        d.header("x-ms-ratelimit-remaining-subscription-deletes")
            .is_some()
    );
    let g = e.get(&net("rg", "expressRouteCircuits/c1")).await;
    let p = e.get(&loc).await;
    if t0.elapsed() < Duration::from_millis(400) {
        assert_eq!(g.status, 200);
        assert_eq!(g.prov(), "Deleting");
        assert_eq!(p.status, 202);
    }
    let mut last = 202;
    for _ in 0..500 {
        let p = e.get(&loc).await;
        last = p.status;
        if last != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(last, 204);
    let g = e.get(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.code(), "ResourceNotFound");
    assert_eq!(g.header("x-ms-failure-cause").as_deref(), Some("gateway"));
    // deleting something missing is 204
    let d = e.delete(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(d.status, 204);
}

#[tokio::test]
async fn instant_mode_first_poll_succeeds() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let r = e.put(&net("rg", "localNetworkGateways/onprem"), &json!({"location": "westeurope",
        "properties": {"localNetworkAddressSpace": {"addressPrefixes": ["192.168.0.0/16"]}, "gatewayIpAddress": "203.0.113.10"}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("retry-after").as_deref(), Some("0"));
    let st = e.get(&r.header("azure-asyncoperation").expect("op")).await;
    assert_eq!(st.body, json!({"status": "Succeeded"}));
    let d = e.delete(&net("rg", "localNetworkGateways/onprem")).await;
    assert_eq!(d.status, 202);
    let p = e.get(&d.header("location").expect("loc")).await;
    assert_eq!(p.status, 204);
}

#[tokio::test]
async fn resource_group_delete_removes_contents() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.circuit("rg", "c1").await;
    assert!(e.resources().await.len() >= 5);
    let d = e.delete(&rg_path("rg")).await;
    assert_eq!(d.status, 202);
    let loc = d.header("location").expect("Location");
    assert!(
        loc.contains(&format!("/subscriptions/{SUB}/operationresults/")),
        "{loc}"
    );
    let p = e.get(&loc).await;
    assert_eq!(p.status, 200);
    assert!(e.resources().await.is_empty(), "{:?}", e.resources().await);
    assert_eq!(e.get(&rg_path("rg")).await.status, 404);
}

#[tokio::test]
async fn resource_group_delete_polls_202_then_200() {
    let e = Emu::start(scaled(100.0)).await; // 45 s / 100 = 450 ms
    e.rg("rg").await;
    let t0 = Instant::now();
    let d = e.delete(&rg_path("rg")).await;
    assert_eq!(d.status, 202);
    let loc = d.header("location").expect("Location");
    let first = e.get(&loc).await.status;
    let rg = e.get(&rg_path("rg")).await;
    if t0.elapsed() < Duration::from_millis(350) {
        assert_eq!(first, 202);
        assert_eq!(rg.body["properties"]["provisioningState"], "Deleting");
    }
    let mut last = 0;
    for _ in 0..500 {
        last = e.get(&loc).await.status;
        if last != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(last, 200);
}

#[tokio::test]
async fn paths_and_names_are_case_insensitive() {
    let e = Emu::instant().await;
    e.rg("MyRg").await;
    e.put_ok(
        &net("MyRg", "virtualNetworks/HubNet"),
        &vnet(&["10.0.0.0/16"], &[("GatewaySubnet", "10.0.255.0/27")]),
    )
    .await;
    let path = format!(
        "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/myrg/PROVIDERS/microsoft.network/VIRTUALNETWORKS/hubnet?api-version={NV}"
    );
    let g = e.get(&path).await;
    assert_eq!(g.status, 200, "{:?}", g.body);
    assert_eq!(g.body["name"], "HubNet");
    assert_eq!(g.body["id"], id("MyRg", "virtualNetworks/HubNet"));
    let s = e.get(&format!("/subscriptions/{SUB}/resourcegroups/MYRG/providers/Microsoft.Network/virtualnetworks/HUBNET/subnets/gatewaysubnet?api-version={NV}")).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.body["name"], "GatewaySubnet");
    assert_eq!(s.body["type"], "Microsoft.Network/virtualNetworks/subnets");
    // update with different casing keeps the name as created and answers 200
    let r = e
        .put(
            &net("myrg", "virtualnetworks/HUBNET"),
            &vnet(&["10.0.0.0/16"], &[("GatewaySubnet", "10.0.255.0/27")]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "HubNet");
    assert_eq!(r.body["location"], "westeurope");
}

#[tokio::test]
async fn api_version_errors() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let base = id("rg", "virtualNetworks/v");
    let r = e.get(&base).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "MissingApiVersionParameter");
    let r = e.get(&format!("{base}?api-version=yesterday")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidApiVersionParameter");
    let r = e.get(&format!("{base}?api-version=2015-06-15")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "NoRegisteredProviderFound");
    for v in [
        "2020-03-01",
        "2023-11-01",
        "2024-05-01",
        "2025-01-01",
        "2026-03-01",
    ] {
        let r = e.get(&format!("{base}?api-version={v}")).await;
        assert_eq!(r.status, 404, "{v}: {:?}", r.body);
    }
    let r = e
        .get(&format!("/subscriptions/{SUB}/resourcegroups/rg"))
        .await;
    assert_eq!(r.code(), "MissingApiVersionParameter");
    let r = e
        .get(&format!(
            "/subscriptions/{SUB}/resourcegroups/rg?api-version=2019-10-01"
        ))
        .await;
    assert_eq!(r.code(), "NoRegisteredProviderFound");
}

#[tokio::test]
async fn not_found_codes() {
    let e = Emu::instant().await;
    let r = e
        .put(
            &net("ghost", "virtualNetworks/v"),
            &vnet(&["10.0.0.0/16"], &[]),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let r = e.get(&net("ghost", "virtualNetworks/v")).await;
    assert_eq!(r.code(), "ResourceGroupNotFound");
    e.rg("rg").await;
    let r = e.get(&net("rg", "virtualNetworks/v")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceNotFound");
    assert_eq!(
        r.message(),
        "The Resource 'Microsoft.Network/virtualNetworks/v' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    let r = e
        .put(
            &net("rg", "virtualNetworks/v/subnets/s"),
            &json!({"properties": {"addressPrefix": "10.0.0.0/24"}}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ParentResourceNotFound");
    let r = e
        .get(&net(
            "rg",
            "expressRouteCircuits/c/peerings/AzurePrivatePeering",
        ))
        .await;
    assert_eq!(r.code(), "ParentResourceNotFound");
    let r = e.get(&net("rg", "bogusThings/x")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "InvalidResourceType");
    let r = e
        .send(reqwest::Method::PUT, &net("rg", "virtualNetworks/v"), None)
        .await;
    assert_eq!(r.code(), "InvalidRequestContent");
}

#[tokio::test]
async fn standard_headers() {
    let e = Emu::instant().await;
    let r =
        e.c.get(e.url(&rg_path("x")))
            .header("x-ms-correlation-request-id", "corr-123")
            .send()
            .await
            .expect("send");
    assert_eq!(r.headers()["x-ms-correlation-request-id"], "corr-123");
    assert!(r.headers().contains_key("x-ms-request-id"));
    assert!(r.headers().contains_key("x-ms-routing-request-id"));
    assert!(
        r.headers()
            .contains_key("x-ms-ratelimit-remaining-subscription-reads")
    );
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
}

#[tokio::test]
async fn vnet_get_lists_subnets_and_standalone_subnets_sync_both_ways() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let v = e.get(&net("rg", "virtualNetworks/hub")).await;
    let names: Vec<&str> = v.body["properties"]["subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["default", "GatewaySubnet"]);
    assert_eq!(
        v.body["properties"]["subnets"][1]["id"],
        id("rg", "virtualNetworks/hub/subnets/GatewaySubnet")
    );
    // standalone subnet appears in the VNet
    e.put_ok(
        &net("rg", "virtualNetworks/hub/subnets/apps"),
        &json!({"properties": {"addressPrefixes": ["10.0.2.0/24"]}}),
    )
    .await;
    let v = e.get(&net("rg", "virtualNetworks/hub")).await;
    assert_eq!(
        v.body["properties"]["subnets"].as_array().map(Vec::len),
        Some(3)
    );
    let list = e.get(&net("rg", "virtualNetworks/hub/subnets")).await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(3));
    // VNet PUT is authoritative: apps is gone afterwards
    e.put_ok(
        &net("rg", "virtualNetworks/hub"),
        &vnet(
            &["10.0.0.0/16"],
            &[
                ("default", "10.0.1.0/24"),
                ("GatewaySubnet", "10.0.255.224/27"),
            ],
        ),
    )
    .await;
    assert_eq!(
        e.get(&net("rg", "virtualNetworks/hub/subnets/apps"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn lists_at_rg_and_subscription_scope_with_paging() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.rg("rg2").await;
    for i in 0..105 {
        let r = e.put(&net("rg", &format!("localNetworkGateways/lng{i:03}")), &json!({"location": "westeurope",
            "properties": {"gatewayIpAddress": "203.0.113.1", "localNetworkAddressSpace": {"addressPrefixes": []}}})).await;
        assert_eq!(r.status, 201);
    }
    e.put_ok(
        &net("rg2", "localNetworkGateways/other"),
        &json!({"location": "westeurope", "properties": {"fqdn": "vpn.example.com"}}),
    )
    .await;
    let p1 = e.get(&net("rg", "localNetworkGateways")).await;
    assert_eq!(p1.body["value"].as_array().map(Vec::len), Some(100));
    let next = p1.body["nextLink"].as_str().expect("nextLink").to_string();
    let p2 = e.get(&next).await;
    assert_eq!(p2.body["value"].as_array().map(Vec::len), Some(5));
    assert!(p2.body.get("nextLink").is_none());
    let sub = e
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Network/localNetworkGateways?api-version={NV}"
        ))
        .await;
    assert_eq!(sub.body["value"].as_array().map(Vec::len), Some(100));
    let rgs = e
        .get(&format!(
            "/subscriptions/{SUB}/resourcegroups?api-version={RV}"
        ))
        .await;
    assert_eq!(rgs.body["value"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn persistence_across_restart_with_operation_in_flight() {
    let file = temp_file("restart");
    let cfg = EmulatorConfig {
        data_file: Some(file.clone()),
        time_scale: 40.0, // circuit create 20 s -> 500 ms
        ..EmulatorConfig::default()
    };
    let e = Emu::start(cfg.clone()).await;
    e.rg("rg").await;
    let r = e
        .put(
            &net("rg", "expressRouteCircuits/c1"),
            &circuit("Standard", "MeteredData", 200),
        )
        .await;
    assert_eq!(r.status, 201);
    let op_url = r.header("azure-asyncoperation").expect("op");
    let op_path = op_url.replacen(e.emu.base_url(), "", 1);
    e.emu.shutdown().await;
    assert!(file.exists());

    let e2 = Emu::start(cfg.clone()).await;
    let g = e2.get(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(g.status, 200);
    let st = e2.wait_async(&op_path).await;
    assert_eq!(st["status"], "Succeeded");
    assert_eq!(
        e2.get(&net("rg", "expressRouteCircuits/c1")).await.prov(),
        "Succeeded"
    );
    // a delete in flight also finishes after a restart
    let d = e2.delete(&net("rg", "expressRouteCircuits/c1")).await;
    assert_eq!(d.status, 202);
    let loc_path = d
        .header("location")
        .expect("loc")
        .replacen(e2.emu.base_url(), "", 1);
    e2.emu.shutdown().await;
    let e3 = Emu::start(cfg).await;
    let mut last = 0;
    for _ in 0..500 {
        last = e3.get(&loc_path).await.status;
        if last != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(last, 204);
    assert_eq!(
        e3.get(&net("rg", "expressRouteCircuits/c1")).await.status,
        404
    );
    assert_eq!(
        e3.resources().await,
        vec![format!("/subscriptions/{SUB}/resourceGroups/rg")]
    );
    e3.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(file.parent().expect("dir"));
}

#[tokio::test]
async fn two_emulators_share_a_data_file() {
    let file = temp_file("shared");
    let cfg = EmulatorConfig {
        data_file: Some(file.clone()),
        ..EmulatorConfig::default()
    };
    let a = Emu::start(cfg.clone()).await;
    let b = Emu::start(cfg).await;
    a.rg("rg").await;
    // b sees a's write (file changed underneath it)
    assert_eq!(b.get(&rg_path("rg")).await.status, 200);
    a.emu.shutdown().await;
    b.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(file.parent().expect("dir"));
}

#[tokio::test]
async fn admin_resources_and_drift() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let ids = e.resources().await;
    assert_eq!(
        ids,
        vec![
            format!("/subscriptions/{SUB}/resourceGroups/rg"),
            id("rg", "virtualNetworks/hub"),
            id("rg", "virtualNetworks/hub/subnets/GatewaySubnet"),
            id("rg", "virtualNetworks/hub/subnets/default"),
        ]
    );
    let mut v = e.get(&net("rg", "virtualNetworks/hub")).await.body;
    v["tags"] = json!({"changed": "outside"});
    let r = e
        .put(
            &format!(
                "/_emulator/resources?id={}",
                id("rg", "virtualNetworks/hub").replace('/', "%2F")
            ),
            &v,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let g = e.get(&net("rg", "virtualNetworks/hub")).await;
    assert_eq!(g.body["tags"]["changed"], "outside");
    assert_eq!(
        g.body["properties"]["subnets"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn if_match_precondition() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let b = json!({"location": "westeurope", "properties": {"fqdn": "vpn.example.com"}});
    let r =
        e.c.put(e.url(&net("rg", "localNetworkGateways/l")))
            .header("if-match", "*")
            .json(&b)
            .send()
            .await
            .expect("send");
    assert_eq!(r.status().as_u16(), 412);
    let cur = e.put_ok(&net("rg", "localNetworkGateways/l"), &b).await;
    let r =
        e.c.put(e.url(&net("rg", "localNetworkGateways/l")))
            .header("if-match", "W/\"nope\"")
            .json(&b)
            .send()
            .await
            .expect("send");
    assert_eq!(r.status().as_u16(), 412);
    let etag = cur["etag"].as_str().expect("etag");
    let r =
        e.c.put(e.url(&net("rg", "localNetworkGateways/l")))
            .header("if-match", etag)
            .json(&b)
            .send()
            .await
            .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let r =
        e.c.put(e.url(&net("rg", "localNetworkGateways/l")))
            .header("if-none-match", "*")
            .json(&b)
            .send()
            .await
            .expect("send");
    assert_eq!(r.status().as_u16(), 412);
}

#[tokio::test]
async fn read_only_properties_and_embedded_references_are_tolerated() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let (cid, _) = e.circuit("rg", "c1").await;
    // re-PUT the GET body (read-only fields included), as azurerm does
    let mut body = e.get(&net("rg", "expressRouteCircuits/c1")).await.body;
    body["properties"]["serviceProviderProperties"]["bandwidthInMbps"] = json!(500);
    let after = e.put_ok(&net("rg", "expressRouteCircuits/c1"), &body).await;
    assert_eq!(
        after["properties"]["serviceKey"],
        body["properties"]["serviceKey"]
    );
    assert_eq!(
        after["properties"]["serviceProviderProvisioningState"],
        "NotProvisioned"
    );
    assert_eq!(after["id"], Value::String(cid));
    let pip = e.get(&net("rg", "publicIPAddresses/none")).await;
    assert_eq!(pip.status, 404);
}

#[tokio::test]
async fn public_ip_gets_an_address_and_location_is_normalised() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let r = e.put(&net("rg", "publicIPAddresses/p"), &json!({"location": "West Europe", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["location"], "westeurope");
    let ip = r.body["properties"]["ipAddress"]
        .as_str()
        .expect("ipAddress")
        .to_string();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok());
    let again = e.put_ok(&net("rg", "publicIPAddresses/p"), &json!({"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}})).await;
    assert_eq!(again["properties"]["ipAddress"], Value::String(ip));
}

#[tokio::test]
async fn circuit_embeds_peerings_and_authorizations() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.circuit("rg", "c1").await;
    e.private_peering("rg", "c1").await;
    let a = e
        .put_ok(
            &net("rg", "expressRouteCircuits/c1/authorizations/a1"),
            &json!({"properties": {}}),
        )
        .await;
    assert_eq!(a["properties"]["authorizationUseStatus"], "Available");
    assert!(
        a["properties"]["authorizationKey"]
            .as_str()
            .is_some_and(|k| k.len() == 36)
    );
    let c = e.get(&net("rg", "expressRouteCircuits/c1")).await.body;
    assert_eq!(c["properties"]["circuitProvisioningState"], "Enabled");
    assert_eq!(
        c["properties"]["peerings"][0]["name"],
        "AzurePrivatePeering"
    );
    assert_eq!(
        c["properties"]["peerings"][0]["properties"]["azureASN"],
        12076
    );
    assert_eq!(c["properties"]["peerings"][0]["etag"], c["etag"]);
    assert_eq!(c["properties"]["authorizations"][0]["name"], "a1");
    let p = e
        .get(&net(
            "rg",
            "expressRouteCircuits/c1/peerings/azureprivatepeering",
        ))
        .await
        .body;
    assert_eq!(p["properties"]["peeringType"], "AzurePrivatePeering");
    assert!(p["properties"].get("sharedKey").is_none());
}

#[tokio::test]
async fn binary_prints_listening_line() {
    let exe = env!("CARGO_BIN_EXE_netform-emulator");
    let mut child = std::process::Command::new(exe)
        .args(["--port", "0", "--time-scale", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut l = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut l);
        l
    })
    .await
    .expect("join");
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    let url = line.trim().trim_start_matches("listening on ").to_string();
    let r = reqwest::get(format!("{url}/_emulator/health"))
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn require_auth_and_token_endpoints() {
    let e = Emu::start(EmulatorConfig {
        require_auth: true,
        ..EmulatorConfig::default()
    })
    .await;
    let r = e.get(&rg_path("rg")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AuthenticationFailed");
    assert!(r.header("www-authenticate").is_some());
    let tok = e
        .c
        .post(e.url("/tenant-id/oauth2/v2.0/token"))
        .body("grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default")
        .send()
        .await
        .expect("token");
    let tok: Value = tok.json().await.expect("json");
    let access = tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert_eq!(tok["token_type"], "Bearer");
    let r =
        e.c.get(e.url(&rg_path("rg")))
            .bearer_auth(&access)
            .send()
            .await
            .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let msi = e.get("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com").await;
    assert!(msi.body["access_token"].is_string());
    // admin endpoints need no token
    assert_eq!(e.get("/_emulator/resources").await.status, 200);
}
