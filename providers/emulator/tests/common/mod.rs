//! Shared helpers for the emulator's HTTP tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use netform_emulator::{EmulatorConfig, RunningEmulator, start};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const SUB: &str = "00000000-0000-0000-0000-0000000000aa";
pub const NV: &str = "2024-05-01";
pub const RV: &str = "2021-04-01";

pub struct Emu {
    pub emu: RunningEmulator,
    pub c: reqwest::Client,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn code(&self) -> String {
        self.body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
    pub fn message(&self) -> String {
        self.body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
    pub fn prov(&self) -> String {
        self.body
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
}

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub fn temp_file(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("netform-emu-test-{}-{}", tag, uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("cloud.json")
}

pub fn rg_path(rg: &str) -> String {
    format!("/subscriptions/{SUB}/resourcegroups/{rg}?api-version={RV}")
}

/// `/subscriptions/SUB/resourceGroups/{rg}/providers/Microsoft.Network/{rest}` (an id).
pub fn id(rg: &str, rest: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/{rest}")
}

/// Path with the Network api-version.
pub fn net(rg: &str, rest: &str) -> String {
    format!("{}?api-version={NV}", id(rg, rest))
}

impl Emu {
    pub async fn start(cfg: EmulatorConfig) -> Emu {
        let emu = start(cfg, loopback()).await.expect("emulator starts");
        Emu {
            emu,
            c: reqwest::Client::new(),
        }
    }

    pub async fn instant() -> Emu {
        Emu::start(EmulatorConfig::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.emu.base_url(), path)
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let mut rb = self.c.request(method, self.url(path));
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }
    pub async fn post(&self, path: &str) -> Resp {
        self.send(reqwest::Method::POST, path, None).await
    }

    /// Poll an Azure-AsyncOperation URL until it is no longer InProgress.
    pub async fn wait_async(&self, url: &str) -> Value {
        for _ in 0..2000 {
            let r = self.get(url).await;
            assert_eq!(r.status, 200, "op status: {:?}", r.body);
            if r.body["status"] != "InProgress" {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("operation did not finish");
    }

    /// PUT that must be accepted; waits for the operation and returns the final GET body.
    pub async fn put_ok(&self, path: &str, body: &Value) -> Value {
        let r = self.put(path, body).await;
        assert!(
            r.status == 200 || r.status == 201,
            "PUT {path} -> {} {:?}",
            r.status,
            r.body
        );
        if let Some(url) = r.header("azure-asyncoperation") {
            let st = self.wait_async(&url).await;
            assert_eq!(st["status"], "Succeeded", "{st:?}");
        }
        let g = self.get(path).await;
        assert_eq!(g.status, 200, "{:?}", g.body);
        g.body
    }

    /// PUT that must be refused; returns the response.
    pub async fn put_err(&self, path: &str, body: &Value) -> Resp {
        let r = self.put(path, body).await;
        assert!(
            r.status >= 400,
            "PUT {path} should fail but got {} {:?}",
            r.status,
            r.body
        );
        r
    }

    /// DELETE that must be accepted; waits until done.
    pub async fn delete_ok(&self, path: &str) {
        let r = self.delete(path).await;
        assert!(
            r.status == 202 || r.status == 200 || r.status == 204,
            "DELETE {path} -> {} {:?}",
            r.status,
            r.body
        );
        if r.status == 202 {
            let loc = r.header("location").expect("Location");
            for _ in 0..2000 {
                let p = self.get(&loc).await;
                if p.status != 202 {
                    assert!(p.status == 200 || p.status == 204, "{:?}", p.body);
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("delete did not finish");
        }
    }

    pub async fn rg(&self, name: &str) {
        let r = self
            .put(&rg_path(name), &json!({"location": "West Europe"}))
            .await;
        assert!(r.status == 201 || r.status == 200, "{:?}", r.body);
    }

    pub async fn resources(&self) -> Vec<String> {
        let r = self.get("/_emulator/resources").await;
        r.body["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// RG + VNet `hub` (10.0.0.0/16) with subnets `default` (10.0.1.0/24) and `GatewaySubnet` (given prefix).
    pub async fn hub(&self, rg: &str, gw_prefix: &str) {
        self.rg(rg).await;
        self.put_ok(
            &net(rg, "virtualNetworks/hub"),
            &vnet(
                &["10.0.0.0/16"],
                &[("default", "10.0.1.0/24"), ("GatewaySubnet", gw_prefix)],
            ),
        )
        .await;
    }

    pub async fn pip(&self, rg: &str, name: &str) -> String {
        self.put_ok(
            &net(rg, &format!("publicIPAddresses/{name}")),
            &json!({"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}),
        )
        .await;
        id(rg, &format!("publicIPAddresses/{name}"))
    }

    pub async fn er_gateway(&self, rg: &str, name: &str) -> String {
        self.put_ok(
            &net(rg, &format!("virtualNetworkGateways/{name}")),
            &gateway(
                "ExpressRoute",
                "ErGw1AZ",
                &id(rg, "virtualNetworks/hub/subnets/GatewaySubnet"),
                None,
            ),
        )
        .await;
        id(rg, &format!("virtualNetworkGateways/{name}"))
    }

    pub async fn vpn_gateway(&self, rg: &str, name: &str) -> String {
        let pip = self.pip(rg, &format!("{name}-pip")).await;
        self.put_ok(
            &net(rg, &format!("virtualNetworkGateways/{name}")),
            &gateway(
                "Vpn",
                "VpnGw1",
                &id(rg, "virtualNetworks/hub/subnets/GatewaySubnet"),
                Some(&pip),
            ),
        )
        .await;
        id(rg, &format!("virtualNetworkGateways/{name}"))
    }

    /// Circuit `name` (Standard_MeteredData, 200 Mbps, Equinix Amsterdam); returns (id, serviceKey).
    pub async fn circuit(&self, rg: &str, name: &str) -> (String, String) {
        let b = self
            .put_ok(
                &net(rg, &format!("expressRouteCircuits/{name}")),
                &circuit("Standard", "MeteredData", 200),
            )
            .await;
        let sk = b["properties"]["serviceKey"]
            .as_str()
            .expect("serviceKey")
            .to_string();
        (id(rg, &format!("expressRouteCircuits/{name}")), sk)
    }

    pub async fn provision(&self, service_key: &str) {
        let r = self
            .post(&format!("/_emulator/circuits/{service_key}/provision"))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    pub async fn private_peering(&self, rg: &str, circuit: &str) {
        self.put_ok(
            &net(
                rg,
                &format!("expressRouteCircuits/{circuit}/peerings/AzurePrivatePeering"),
            ),
            &peering(100, "192.168.16.252/30", "192.168.18.252/30", 65001),
        )
        .await;
    }
}

pub fn vnet(space: &[&str], subnets: &[(&str, &str)]) -> Value {
    let subnets: Vec<Value> = subnets
        .iter()
        .map(|(n, p)| json!({"name": n, "properties": {"addressPrefix": p}}))
        .collect();
    json!({"location": "West Europe", "properties": {"addressSpace": {"addressPrefixes": space}, "subnets": subnets}})
}

pub fn gateway(gtype: &str, sku: &str, subnet_id: &str, pip: Option<&str>) -> Value {
    let mut ipc = json!({"name": "default", "properties": {"privateIPAllocationMethod": "Dynamic", "subnet": {"id": subnet_id}}});
    if let Some(p) = pip {
        ipc["properties"]["publicIPAddress"] = json!({"id": p});
    }
    let mut b = json!({"location": "westeurope", "properties": {
        "ipConfigurations": [ipc], "gatewayType": gtype, "sku": {"name": sku, "tier": sku}, "enableBgp": false, "activeActive": false}});
    if gtype == "Vpn" {
        b["properties"]["vpnType"] = json!("RouteBased");
    }
    b
}

pub fn circuit(tier: &str, family: &str, bw: i64) -> Value {
    json!({"location": "West Europe",
           "sku": {"name": format!("{tier}_{family}"), "tier": tier, "family": family},
           "properties": {"authorizations": [], "peerings": [], "allowClassicOperations": false,
               "serviceProviderProperties": {"serviceProviderName": "Equinix", "peeringLocation": "Amsterdam", "bandwidthInMbps": bw}}})
}

pub fn peering(vlan: i64, primary: &str, secondary: &str, asn: i64) -> Value {
    json!({"properties": {"peeringType": "AzurePrivatePeering", "peerASN": asn,
        "primaryPeerAddressPrefix": primary, "secondaryPeerAddressPrefix": secondary, "vlanId": vlan}})
}

pub fn er_connection(gw: &str, circuit: &str) -> Value {
    json!({"location": "westeurope", "properties": {"connectionType": "ExpressRoute", "routingWeight": 10,
        "virtualNetworkGateway1": {"id": gw, "name": "x", "properties": {"ipConfigurations": []}},
        "peer": {"id": circuit}}})
}
