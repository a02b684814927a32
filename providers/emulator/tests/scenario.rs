//! The ExpressRoute + VPN-failover reference architecture, built and torn down the way an
//! engine would (polling Azure-AsyncOperation / Location, parallel branches), with simulated
//! durations.

mod common;

use std::time::Duration;

use common::*;
use netform_emulator::EmulatorConfig;
use serde_json::{Value, json};

/// PUT, then poll the operation (honouring nothing but our own short sleep) until it ends.
async fn apply(e: &Emu, path: String, body: Value) -> Value {
    let path = path.as_str();
    loop {
        let r = e.put(path, &body).await;
        if r.status == 409 {
            assert_eq!(r.code(), "AnotherOperationInProgress");
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        assert!(
            r.status == 200 || r.status == 201,
            "PUT {path}: {} {:?}",
            r.status,
            r.body
        );
        let op = r.header("azure-asyncoperation").expect("async op");
        let st = e.wait_async(&op).await;
        assert_eq!(st["status"], "Succeeded");
        let g = e.get(path).await;
        assert_eq!(g.prov(), "Succeeded", "{path}");
        return g.body;
    }
}

async fn destroy(e: &Emu, path: String) {
    let path = path.as_str();
    loop {
        let r = e.delete(path).await;
        if r.status == 409 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        assert!(
            matches!(r.status, 202 | 204),
            "DELETE {path}: {} {:?}",
            r.status,
            r.body
        );
        if r.status == 202 {
            let loc = r.header("location").expect("Location");
            loop {
                let p = e.get(&loc).await;
                if p.status != 202 {
                    assert!(matches!(p.status, 200 | 204));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        assert_eq!(e.get(path).await.status, 404, "{path} still there");
        return;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expressroute_with_vpn_failover_end_to_end() {
    // 45 min gateway / 3000 = 0.9 s; everything else a few ms.
    let e = Emu::start(EmulatorConfig {
        time_scale: 3000.0,
        ..EmulatorConfig::default()
    })
    .await;
    let rg = "hybrid";
    e.rg(rg).await;
    let hub = net(rg, "virtualNetworks/hub");
    let circuit_path = net(rg, "expressRouteCircuits/er");

    // independent branches in parallel: network, circuit, on-prem gateway
    let (_, circuit_body, _) = tokio::join!(
        async {
            apply(
                &e,
                hub.clone(),
                vnet(
                    &["10.0.0.0/16"],
                    &[
                        ("GatewaySubnet", "10.0.255.224/27"),
                        ("workload", "10.0.1.0/24"),
                    ],
                ),
            )
            .await;
            apply(&e, net(rg, "publicIPAddresses/vpn-pip"), json!({"location": "westeurope", "sku": {"name": "Standard", "tier": "Regional"}, "properties": {"publicIPAllocationMethod": "Static"}})).await;
        },
        apply(
            &e,
            circuit_path.clone(),
            circuit("Standard", "MeteredData", 1000)
        ),
        apply(
            &e,
            net(rg, "localNetworkGateways/onprem"),
            json!({"location": "westeurope", "properties": {"gatewayIpAddress": "198.51.100.7", "localNetworkAddressSpace": {"addressPrefixes": ["192.168.0.0/16"]}}})
        ),
    );
    let service_key = circuit_body["properties"]["serviceKey"]
        .as_str()
        .expect("serviceKey")
        .to_string();
    assert_eq!(
        circuit_body["properties"]["serviceProviderProvisioningState"],
        "NotProvisioned"
    );

    // both gateways in parallel (one GatewaySubnet /27), peering meanwhile
    let gws = id(rg, "virtualNetworks/hub/subnets/GatewaySubnet");
    let (er_gw, vpn_gw, _) = tokio::join!(
        apply(
            &e,
            net(rg, "virtualNetworkGateways/er-gw"),
            gateway("ExpressRoute", "ErGw1AZ", &gws, None)
        ),
        apply(
            &e,
            net(rg, "virtualNetworkGateways/vpn-gw"),
            gateway(
                "Vpn",
                "VpnGw1",
                &gws,
                Some(&id(rg, "publicIPAddresses/vpn-pip"))
            )
        ),
        apply(
            &e,
            net(rg, "expressRouteCircuits/er/peerings/AzurePrivatePeering"),
            peering(100, "172.16.0.0/30", "172.16.0.4/30", 65010)
        ),
    );
    let er_gw_id = er_gw["id"].as_str().expect("id").to_string();
    let vpn_gw_id = vpn_gw["id"].as_str().expect("id").to_string();
    let cid = id(rg, "expressRouteCircuits/er");

    // the ER connection must wait for the provider
    let r = e
        .put(
            &net(rg, "connections/er-link"),
            &er_connection(&er_gw_id, &cid),
        )
        .await;
    assert_eq!(r.code(), "ExpressRouteCircuitNotProvisioned");
    e.provision(&service_key).await;

    let (er_conn, s2s) = tokio::join!(
        apply(
            &e,
            net(rg, "connections/er-link"),
            er_connection(&er_gw_id, &cid)
        ),
        apply(
            &e,
            net(rg, "connections/s2s"),
            json!({"location": "westeurope", "properties": {"connectionType": "IPsec", "routingWeight": 0,
            "virtualNetworkGateway1": {"id": vpn_gw_id}, "localNetworkGateway2": {"id": id(rg, "localNetworkGateways/onprem")}, "sharedKey": "failover-key"}})
        ),
    );
    assert_eq!(er_conn["properties"]["connectionStatus"], "Connected");
    assert_eq!(s2s["properties"]["connectionType"], "IPsec");
    let v = e.get(&hub).await.body;
    let gw_subnet = v["properties"]["subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .find(|s| s["name"] == "GatewaySubnet")
        .cloned()
        .expect("gw subnet");
    assert_eq!(
        gw_subnet["properties"]["ipConfigurations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(e.resources().await.len(), 12, "{:#?}", e.resources().await);

    // teardown in reverse dependency order, branches in parallel
    tokio::join!(
        destroy(&e, net(rg, "connections/er-link")),
        destroy(&e, net(rg, "connections/s2s"))
    );
    e.post(&format!("/_emulator/circuits/{service_key}/deprovision"))
        .await;
    tokio::join!(
        async {
            destroy(&e, net(rg, "virtualNetworkGateways/vpn-gw")).await;
            destroy(&e, net(rg, "publicIPAddresses/vpn-pip")).await;
        },
        destroy(&e, net(rg, "virtualNetworkGateways/er-gw")),
        async {
            destroy(
                &e,
                net(rg, "expressRouteCircuits/er/peerings/AzurePrivatePeering"),
            )
            .await;
            destroy(&e, circuit_path.clone()).await;
        },
        destroy(&e, net(rg, "localNetworkGateways/onprem")),
    );
    destroy(&e, hub.clone()).await;
    destroy(&e, rg_path(rg)).await;
    assert!(e.resources().await.is_empty(), "{:?}", e.resources().await);
}
