//! The provider against the emulator over HTTP: create / read / update / delete of every
//! resource type, LRO polling with simulated durations, 409 conflicts, fault injection, and
//! Azure's own rejections mapped to provider errors.

mod common;

use std::time::Duration;

use common::{Recorder, emulator_settings, list, num, obj, planned};
use netform_azure::AzureProvider;
use netform_emulator::{EmulatorConfig, FaultConfig, RunningEmulator, start};
use netform_engine::Value;
use netform_engine::provider::{ErrorKind, Provider};
use serde_json::{Value as Json, json};

const SUB: &str = "00000000-0000-0000-0000-000000000000";

async fn emulator(cfg: EmulatorConfig) -> (RunningEmulator, AzureProvider) {
    let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let emu = start(cfg, addr)
        .await
        .unwrap_or_else(|e| panic!("emulator: {e}"));
    let p = AzureProvider::new(emulator_settings(emu.base_url())).unwrap_or_else(|e| panic!("{e}"));
    (emu, p)
}

fn ctx() -> netform_engine::provider::OpContext {
    netform_engine::provider::OpContext::quiet(Duration::from_secs(60))
}

/// Create, then check that planning the same configuration against the new state is a no-op
/// (planned == state: no spurious diff) and that the id planned up front was the real one.
async fn create(p: &AzureProvider, t: &str, cfg: &Value) -> Json {
    let plan = planned(p, t, None, cfg);
    let state = p
        .create(t, &plan, &ctx())
        .await
        .unwrap_or_else(|e| panic!("create {t}: {e} ({:?})", e.code));
    assert_eq!(
        plan.get("id").as_str(),
        state["id"].as_str(),
        "{t}: planned id"
    );
    assert_eq!(
        planned(p, t, Some(&state), cfg).to_json(),
        state,
        "{t}: second plan not a no-op"
    );
    state
}

async fn update(p: &AzureProvider, t: &str, prior: &Json, cfg: &Value) -> Json {
    let plan = planned(p, t, Some(prior), cfg);
    let state = p
        .update(t, prior, &plan, &ctx())
        .await
        .unwrap_or_else(|e| panic!("update {t}: {e} ({:?})", e.code));
    assert_eq!(
        planned(p, t, Some(&state), cfg).to_json(),
        state,
        "{t}: second plan not a no-op"
    );
    state
}

async fn read(p: &AzureProvider, t: &str, prior: &Json) -> Option<Json> {
    p.read(t, prior)
        .await
        .unwrap_or_else(|e| panic!("read {t}: {e}"))
}

async fn delete(p: &AzureProvider, t: &str, prior: &Json) {
    p.delete(t, prior, &ctx())
        .await
        .unwrap_or_else(|e| panic!("delete {t}: {e} ({:?})", e.code));
    assert_eq!(
        read(p, t, prior).await,
        None,
        "{t} still readable after delete"
    );
}

async fn admin(emu: &RunningEmulator, path: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", emu.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("admin: {e}"));
    assert!(
        resp.status().is_success(),
        "admin {path}: {}",
        resp.status()
    );
}

fn rg() -> Value {
    obj(&[
        ("name", "rg-hybrid".into()),
        ("location", "West Europe".into()),
        ("tags", obj(&[("env", "test".into())])),
    ])
}

fn vnet(dns: &[&str]) -> Value {
    let mut pairs = vec![
        ("name", Value::from("vnet-hub")),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "West Europe".into()),
        ("address_space", list(&["10.0.0.0/16"])),
    ];
    if !dns.is_empty() {
        pairs.push(("dns_servers", list(dns)));
    }
    obj(&pairs)
}

fn subnet(name: &str, prefix: &str) -> Value {
    obj(&[
        ("name", name.into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("virtual_network_name", "vnet-hub".into()),
        ("address_prefixes", list(&[prefix])),
    ])
}

fn circuit(bw: f64) -> Value {
    obj(&[
        ("name", "erc-ams".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "West Europe".into()),
        ("service_provider_name", "Equinix".into()),
        ("peering_location", "Amsterdam".into()),
        ("bandwidth_in_mbps", num(bw)),
        (
            "sku",
            Value::List(vec![obj(&[
                ("tier", "Standard".into()),
                ("family", "MeteredData".into()),
            ])]),
        ),
    ])
}

fn id(state: &Json) -> String {
    state["id"].as_str().unwrap_or_default().to_string()
}

/// The whole ExpressRoute + VPN failover estate, created, read back, updated and destroyed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_estate_lifecycle() {
    let (emu, p) = emulator(EmulatorConfig {
        time_scale: 3000.0,
        ..Default::default()
    })
    .await;

    // Resource group: synchronous PUT; the user's spelling of the location is kept.
    let rg_state = create(&p, "azurerm_resource_group", &rg()).await;
    assert_eq!(
        rg_state["id"],
        format!("/subscriptions/{SUB}/resourceGroups/rg-hybrid")
    );
    assert_eq!(rg_state["location"], "West Europe");
    assert_eq!(rg_state["tags"], json!({"env":"test"}));
    assert_eq!(
        read(&p, "azurerm_resource_group", &rg_state).await.as_ref(),
        Some(&rg_state)
    );

    // VNet and subnets.
    let vnet_state = create(&p, "azurerm_virtual_network", &vnet(&[])).await;
    assert_eq!(vnet_state["address_space"], json!(["10.0.0.0/16"]));
    assert_eq!(vnet_state["dns_servers"], Json::Null);
    let gw_subnet = create(
        &p,
        "azurerm_subnet",
        &subnet("GatewaySubnet", "10.0.255.224/27"),
    )
    .await;
    assert_eq!(
        gw_subnet["id"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-hybrid/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/GatewaySubnet"
        )
    );
    let app_subnet = create(&p, "azurerm_subnet", &subnet("app", "10.0.1.0/24")).await;
    // A VNet update must not delete the subnets (the VNet PUT's subnet list is authoritative).
    let vnet_state = update(
        &p,
        "azurerm_virtual_network",
        &vnet_state,
        &vnet(&["10.0.0.4"]),
    )
    .await;
    assert_eq!(vnet_state["dns_servers"], json!(["10.0.0.4"]));
    assert!(
        read(&p, "azurerm_subnet", &gw_subnet).await.is_some(),
        "GatewaySubnet lost on VNet update"
    );
    assert!(
        read(&p, "azurerm_subnet", &app_subnet).await.is_some(),
        "app subnet lost on VNet update"
    );
    let app_subnet = update(
        &p,
        "azurerm_subnet",
        &app_subnet,
        &subnet("app", "10.0.2.0/24"),
    )
    .await;
    assert_eq!(app_subnet["address_prefixes"], json!(["10.0.2.0/24"]));
    assert_eq!(
        read(&p, "azurerm_virtual_network", &vnet_state)
            .await
            .as_ref(),
        Some(&vnet_state)
    );

    // Public IP for the VPN gateway.
    let pip = create(
        &p,
        "azurerm_public_ip",
        &obj(&[
            ("name", "pip-vpn".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "West Europe".into()),
            ("allocation_method", "Static".into()),
        ]),
    )
    .await;
    assert_eq!(pip["sku"], "Standard");
    assert_eq!(
        read(&p, "azurerm_public_ip", &pip).await.as_ref(),
        Some(&pip)
    );

    // Gateways: long operations, with progress.
    let gw_subnet_id = id(&gw_subnet);
    let vpn_cfg = obj(&[
        ("name", "vgw-vpn".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "West Europe".into()),
        ("type", "Vpn".into()),
        ("sku", "VpnGw1".into()),
        ("generation", "Generation1".into()),
        ("enable_bgp", true.into()),
        (
            "ip_configuration",
            Value::List(vec![obj(&[
                ("subnet_id", gw_subnet_id.as_str().into()),
                ("public_ip_address_id", id(&pip).as_str().into()),
            ])]),
        ),
    ]);
    let rec = Recorder::default();
    let plan = planned(&p, "azurerm_virtual_network_gateway", None, &vpn_cfg);
    let vpn_gw = p
        .create(
            "azurerm_virtual_network_gateway",
            &plan,
            &rec.ctx(Duration::from_secs(60)),
        )
        .await
        .unwrap_or_else(|e| panic!("vpn gateway: {e} ({:?})", e.code));
    let msgs = rec.messages();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("waiting for Azure: InProgress")),
        "{msgs:?}"
    );
    assert_eq!(vpn_gw["bgp_enabled"], true);
    assert_eq!(vpn_gw["vpn_type"], "RouteBased");
    assert_eq!(vpn_gw["ip_configuration"][0]["name"], "vnetGatewayConfig");
    assert_eq!(
        vpn_gw["ip_configuration"][0]["public_ip_address_id"],
        id(&pip)
    );
    assert_eq!(
        read(&p, "azurerm_virtual_network_gateway", &vpn_gw)
            .await
            .as_ref(),
        Some(&vpn_gw)
    );

    let er_cfg = obj(&[
        ("name", "vgw-er".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "West Europe".into()),
        ("type", "ExpressRoute".into()),
        ("sku", "ErGw1AZ".into()),
        (
            "ip_configuration",
            Value::List(vec![obj(&[("subnet_id", gw_subnet_id.as_str().into())])]),
        ),
    ]);
    let er_gw = create(&p, "azurerm_virtual_network_gateway", &er_cfg).await;
    assert_eq!(er_gw["sku"], "ErGw1AZ");
    assert_eq!(er_gw["bgp_settings"], json!([]));
    // In-place resize within the AZ family.
    let mut er_cfg2 = er_cfg.clone();
    if let Value::Object(m) = &mut er_cfg2 {
        m.insert("sku".into(), "ErGw2AZ".into());
    }
    let er_gw = update(&p, "azurerm_virtual_network_gateway", &er_gw, &er_cfg2).await;
    assert_eq!(er_gw["sku"], "ErGw2AZ");

    // Circuit, provisioned by the (simulated) connectivity provider.
    let erc = create(&p, "azurerm_express_route_circuit", &circuit(200.0)).await;
    assert_eq!(erc["service_provider_provisioning_state"], "NotProvisioned");
    let service_key = erc["service_key"].as_str().unwrap_or_default().to_string();
    assert!(!service_key.is_empty() && service_key != "00000000-0000-0000-0000-000000000000");
    assert_eq!(
        erc["sku"],
        json!([{"tier":"Standard","family":"MeteredData"}])
    );
    admin(
        &emu,
        &format!("/_emulator/circuits/{service_key}/provision"),
    )
    .await;
    let erc = read(&p, "azurerm_express_route_circuit", &erc)
        .await
        .unwrap_or_else(|| panic!("circuit gone"));
    assert_eq!(erc["service_provider_provisioning_state"], "Provisioned");

    let peering_cfg = obj(&[
        ("peering_type", "AzurePrivatePeering".into()),
        ("express_route_circuit_name", "erc-ams".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("vlan_id", num(100.0)),
        ("primary_peer_address_prefix", "192.168.16.252/30".into()),
        ("secondary_peer_address_prefix", "192.168.18.252/30".into()),
        ("peer_asn", num(65010.0)),
        ("shared_key", "bgp-md5-key".into()),
    ]);
    let peering = create(&p, "azurerm_express_route_circuit_peering", &peering_cfg).await;
    assert_eq!(
        peering["shared_key"], "bgp-md5-key",
        "kept from the plan: the API does not return it"
    );
    assert_eq!(peering["vlan_id"], 100);
    assert!(peering["azure_asn"].is_number());
    assert!(id(&peering).ends_with("/expressRouteCircuits/erc-ams/peerings/AzurePrivatePeering"));
    assert_eq!(
        read(&p, "azurerm_express_route_circuit_peering", &peering)
            .await
            .as_ref(),
        Some(&peering)
    );

    let auth_cfg = obj(&[
        ("name", "partner"),
        ("express_route_circuit_name", "erc-ams"),
        ("resource_group_name", "rg-hybrid"),
    ]
    .map(|(k, v)| (k, Value::from(v))));
    let auth = create(&p, "azurerm_express_route_circuit_authorization", &auth_cfg).await;
    assert!(
        auth["authorization_key"]
            .as_str()
            .is_some_and(|k| !k.is_empty())
    );

    // Circuit update: GET + PUT of the full model keeps peerings and authorizations.
    let erc = update(&p, "azurerm_express_route_circuit", &erc, &circuit(500.0)).await;
    assert_eq!(erc["bandwidth_in_mbps"], 500);
    assert!(
        read(&p, "azurerm_express_route_circuit_peering", &peering)
            .await
            .is_some(),
        "peering lost on circuit update"
    );
    assert!(
        read(&p, "azurerm_express_route_circuit_authorization", &auth)
            .await
            .is_some(),
        "authorization lost"
    );

    // Connections.
    let er_conn = create(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &obj(&[
            ("name", "cn-er".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "West Europe".into()),
            ("type", "ExpressRoute".into()),
            ("virtual_network_gateway_id", id(&er_gw).as_str().into()),
            ("express_route_circuit_id", id(&erc).as_str().into()),
            ("routing_weight", num(10.0)),
        ]),
    )
    .await;
    assert_eq!(er_conn["express_route_circuit_id"], id(&erc));
    assert_eq!(er_conn["routing_weight"], 10);

    let lng_cfg = |addr: &str| {
        obj(&[
            ("name", "lng-onprem".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "West Europe".into()),
            ("gateway_address", addr.into()),
            ("address_space", list(&["192.168.0.0/16"])),
        ])
    };
    let lng = create(
        &p,
        "azurerm_local_network_gateway",
        &lng_cfg("203.0.113.10"),
    )
    .await;
    let lng = update(
        &p,
        "azurerm_local_network_gateway",
        &lng,
        &lng_cfg("203.0.113.11"),
    )
    .await;
    assert_eq!(lng["gateway_address"], "203.0.113.11");
    let ipsec_cfg = |weight: f64| {
        obj(&[
            ("name", "cn-vpn".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "West Europe".into()),
            ("type", "IPsec".into()),
            ("virtual_network_gateway_id", id(&vpn_gw).as_str().into()),
            ("local_network_gateway_id", id(&lng).as_str().into()),
            ("shared_key", "psk-not-in-errors".into()),
            ("routing_weight", num(weight)),
        ])
    };
    let vpn_conn = create(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &ipsec_cfg(5.0),
    )
    .await;
    assert_eq!(vpn_conn["shared_key"], "psk-not-in-errors");
    let vpn_conn = update(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &vpn_conn,
        &ipsec_cfg(20.0),
    )
    .await;
    assert_eq!(vpn_conn["routing_weight"], 20);

    // Azure refuses to delete what is in use; the error carries Azure's code and no secrets.
    let err = p
        .delete("azurerm_public_ip", &pip, &ctx())
        .await
        .err()
        .unwrap_or_else(|| panic!("PIP in use deleted"));
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.code.is_some());
    assert!(!err.message.contains("psk-not-in-errors"));

    // Destroy in reverse dependency order.
    delete(&p, "azurerm_virtual_network_gateway_connection", &vpn_conn).await;
    delete(&p, "azurerm_virtual_network_gateway_connection", &er_conn).await;
    delete(&p, "azurerm_local_network_gateway", &lng).await;
    delete(&p, "azurerm_express_route_circuit_authorization", &auth).await;
    delete(&p, "azurerm_express_route_circuit_peering", &peering).await;
    admin(
        &emu,
        &format!("/_emulator/circuits/{service_key}/deprovision"),
    )
    .await;
    delete(&p, "azurerm_express_route_circuit", &erc).await;
    delete(&p, "azurerm_virtual_network_gateway", &er_gw).await;
    delete(&p, "azurerm_virtual_network_gateway", &vpn_gw).await;
    delete(&p, "azurerm_public_ip", &pip).await;
    delete(&p, "azurerm_subnet", &app_subnet).await;
    delete(&p, "azurerm_subnet", &gw_subnet).await;
    delete(&p, "azurerm_virtual_network", &vnet_state).await;
    delete(&p, "azurerm_resource_group", &rg_state).await;
    // Deleting what is already gone is a success.
    p.delete("azurerm_virtual_network", &vnet_state, &ctx())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    emu.shutdown().await;
}

/// Azure's rejections come back as typed errors with the ARM code.
#[tokio::test]
async fn azure_rejections_map_to_provider_errors() {
    let (emu, p) = emulator(EmulatorConfig::default()).await;
    create(&p, "azurerm_resource_group", &rg()).await;
    create(&p, "azurerm_virtual_network", &vnet(&[])).await;
    let app = create(&p, "azurerm_subnet", &subnet("app", "10.0.1.0/24")).await;
    // Bypass the plan-time rule to see Azure's own answer.
    let gw = obj(&[
        ("id", format!("/subscriptions/{SUB}/resourceGroups/rg-hybrid/providers/Microsoft.Network/virtualNetworkGateways/bad").into()),
        ("name", "bad".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "westeurope".into()),
        ("type", "ExpressRoute".into()),
        ("vpn_type", "RouteBased".into()),
        ("sku", "ErGw1AZ".into()),
        ("ip_configuration", Value::List(vec![obj(&[("subnet_id", id(&app).as_str().into())])])),
        ("bgp_settings", Value::List(vec![])),
    ]);
    let err = p
        .create("azurerm_virtual_network_gateway", &gw, &ctx())
        .await
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(err.code.as_deref(), Some("InvalidGatewaySubnet"));
    // ... and the plan-time rule catches the same thing with the same code.
    let diags = p.validate("azurerm_virtual_network_gateway", &gw);
    assert!(
        diags
            .iter()
            .any(|d| d.code.as_deref() == Some("InvalidGatewaySubnet")
                && d.path == vec!["ip_configuration", "0", "subnet_id"])
    );
    // Reading something that never existed is None, not an error.
    let ghost = json!({"id": format!("/subscriptions/{SUB}/resourceGroups/rg-hybrid/providers/Microsoft.Network/publicIPAddresses/ghost")});
    assert_eq!(read(&p, "azurerm_public_ip", &ghost).await, None);
    emu.shutdown().await;
}

/// Parallel writes on one circuit: Azure answers 409 AnotherOperationInProgress; the provider
/// retries until both succeed (the engine's lock keys would normally serialise them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_one_circuit_are_retried() {
    let (emu, p) = emulator(EmulatorConfig {
        time_scale: 200.0,
        ..Default::default()
    })
    .await;
    create(&p, "azurerm_resource_group", &rg()).await;
    create(&p, "azurerm_express_route_circuit", &circuit(200.0)).await;
    let auth = |name: &str| {
        obj(&[
            ("name", name.into()),
            ("express_route_circuit_name", "erc-ams".into()),
            ("resource_group_name", "rg-hybrid".into()),
        ])
    };
    let (a, b) = (auth("a1"), auth("a2"));
    let (pa, pb) = (
        planned(&p, "azurerm_express_route_circuit_authorization", None, &a),
        planned(&p, "azurerm_express_route_circuit_authorization", None, &b),
    );
    let lock_a = p.lock_keys("azurerm_express_route_circuit_authorization", &pa);
    assert_eq!(
        lock_a,
        p.lock_keys(
            "azurerm_express_route_circuit",
            &planned(&p, "azurerm_express_route_circuit", None, &circuit(200.0))
        )
    );
    let before = p.retry_count();
    let c = ctx();
    let (ra, rb) = tokio::join!(
        p.create("azurerm_express_route_circuit_authorization", &pa, &c),
        p.create("azurerm_express_route_circuit_authorization", &pb, &c)
    );
    let (ra, rb) = (
        ra.unwrap_or_else(|e| panic!("{e}")),
        rb.unwrap_or_else(|e| panic!("{e}")),
    );
    assert_ne!(ra["authorization_key"], rb["authorization_key"]);
    assert!(
        p.retry_count() > before,
        "expected a 409 AnotherOperationInProgress retry"
    );
    emu.shutdown().await;
}

/// Injected 429/500/503/dropped connections, slow responses and failed operations: every
/// operation still completes (several seeds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_injected_faults() {
    for seed in [7u64, 11, 23] {
        let mut faults = FaultConfig::new(seed, 0.3);
        faults.slow_delay = Duration::from_millis(50);
        let (emu, p) = emulator(EmulatorConfig {
            time_scale: 3000.0,
            faults: Some(faults),
            ..Default::default()
        })
        .await;
        let rg_state = create(&p, "azurerm_resource_group", &rg()).await;
        let vnet_state = create(&p, "azurerm_virtual_network", &vnet(&[])).await;
        let sn = create(
            &p,
            "azurerm_subnet",
            &subnet("GatewaySubnet", "10.0.255.224/27"),
        )
        .await;
        let vnet_state = update(
            &p,
            "azurerm_virtual_network",
            &vnet_state,
            &vnet(&["10.0.0.4"]),
        )
        .await;
        assert!(read(&p, "azurerm_subnet", &sn).await.is_some());
        let erc = create(&p, "azurerm_express_route_circuit", &circuit(50.0)).await;
        let erc = update(&p, "azurerm_express_route_circuit", &erc, &circuit(100.0)).await;
        assert_eq!(erc["bandwidth_in_mbps"], 100);
        let auth = create(
            &p,
            "azurerm_express_route_circuit_authorization",
            &obj(&[
                ("name", "a".into()),
                ("express_route_circuit_name", "erc-ams".into()),
                ("resource_group_name", "rg-hybrid".into()),
            ]),
        )
        .await;
        assert!(
            p.retry_count() > 0,
            "seed {seed}: a 30% fault rate must have caused retries"
        );
        delete(&p, "azurerm_express_route_circuit_authorization", &auth).await;
        delete(&p, "azurerm_express_route_circuit", &erc).await;
        delete(&p, "azurerm_subnet", &sn).await;
        delete(&p, "azurerm_virtual_network", &vnet_state).await;
        delete(&p, "azurerm_resource_group", &rg_state).await;
        emu.shutdown().await;
    }
}

async fn shared_key_in_azure(emu: &RunningEmulator, conn_id: &str) -> String {
    let url = format!(
        "{}{conn_id}/sharedkey?api-version=2024-05-01",
        emu.base_url()
    );
    let body: Json = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    body["value"].as_str().unwrap_or_default().to_string()
}

/// IPsec shared keys: a changed key goes through the `sharedkey` sub-resource, and a key Azure
/// generated is read back into state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipsec_shared_key_is_set_and_read_back() {
    let (emu, p) = emulator(EmulatorConfig {
        time_scale: 3000.0,
        ..Default::default()
    })
    .await;
    create(&p, "azurerm_resource_group", &rg()).await;
    create(&p, "azurerm_virtual_network", &vnet(&[])).await;
    let gw_subnet = create(
        &p,
        "azurerm_subnet",
        &subnet("GatewaySubnet", "10.0.255.224/27"),
    )
    .await;
    let pip = create(
        &p,
        "azurerm_public_ip",
        &obj(&[
            ("name", "pip-vpn".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "westeurope".into()),
            ("allocation_method", "Static".into()),
        ]),
    )
    .await;
    let vpn_gw = create(
        &p,
        "azurerm_virtual_network_gateway",
        &obj(&[
            ("name", "vgw-vpn".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "westeurope".into()),
            ("type", "Vpn".into()),
            ("sku", "VpnGw2".into()),
            ("generation", "Generation2".into()),
            (
                "ip_configuration",
                Value::List(vec![obj(&[
                    ("subnet_id", id(&gw_subnet).as_str().into()),
                    ("public_ip_address_id", id(&pip).as_str().into()),
                ])]),
            ),
        ]),
    )
    .await;
    let lng = create(
        &p,
        "azurerm_local_network_gateway",
        &obj(&[
            ("name", "lng".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "westeurope".into()),
            ("gateway_fqdn", "vpn.example.com".into()),
            ("address_space", list(&["192.168.0.0/16"])),
        ]),
    )
    .await;
    let conn = |key: Option<&str>| {
        let mut pairs = vec![
            ("name", Value::from("cn-vpn")),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "westeurope".into()),
            ("type", "IPsec".into()),
            ("virtual_network_gateway_id", id(&vpn_gw).as_str().into()),
            ("local_network_gateway_id", id(&lng).as_str().into()),
        ];
        if let Some(k) = key {
            pairs.push(("shared_key", k.into()));
        }
        obj(&pairs)
    };
    let c1 = create(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &conn(Some("first-key")),
    )
    .await;
    assert_eq!(shared_key_in_azure(&emu, &id(&c1)).await, "first-key");
    let c2 = update(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &c1,
        &conn(Some("second-key")),
    )
    .await;
    assert_eq!(c2["shared_key"], "second-key");
    assert_eq!(shared_key_in_azure(&emu, &id(&c2)).await, "second-key");
    // Without a configured key, whatever Azure holds is read back.
    let c3 = update(
        &p,
        "azurerm_virtual_network_gateway_connection",
        &c2,
        &conn(None),
    )
    .await;
    assert_eq!(c3["shared_key"], "second-key");
    emu.shutdown().await;
}

/// Nested blocks (microsoft_peering_config, bgp_settings with peering_addresses) round-trip:
/// what create returns is what read returns, and planning again is a no-op.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_blocks_round_trip_without_drift() {
    let (emu, p) = emulator(EmulatorConfig {
        time_scale: 3000.0,
        ..Default::default()
    })
    .await;
    create(&p, "azurerm_resource_group", &rg()).await;
    let premium = obj(&[
        ("name", "erc-ms".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "westeurope".into()),
        ("service_provider_name", "Equinix".into()),
        ("peering_location", "Amsterdam".into()),
        ("bandwidth_in_mbps", num(1000.0)),
        (
            "sku",
            Value::List(vec![obj(&[
                ("tier", "Premium".into()),
                ("family", "UnlimitedData".into()),
            ])]),
        ),
        ("allow_classic_operations", false.into()),
    ]);
    let erc = create(&p, "azurerm_express_route_circuit", &premium).await;
    admin(
        &emu,
        &format!(
            "/_emulator/circuits/{}/provision",
            erc["service_key"].as_str().unwrap_or_default()
        ),
    )
    .await;
    let ms_cfg = obj(&[
        ("peering_type", "MicrosoftPeering".into()),
        ("express_route_circuit_name", "erc-ms".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("vlan_id", num(300.0)),
        ("primary_peer_address_prefix", "203.0.113.0/30".into()),
        ("secondary_peer_address_prefix", "203.0.113.4/30".into()),
        ("peer_asn", num(64900.0)),
        (
            "microsoft_peering_config",
            Value::List(vec![obj(&[(
                "advertised_public_prefixes",
                list(&["203.0.113.128/27"]),
            )])]),
        ),
    ]);
    let ms = create(&p, "azurerm_express_route_circuit_peering", &ms_cfg).await;
    assert_eq!(
        ms["microsoft_peering_config"][0]["advertised_public_prefixes"],
        json!(["203.0.113.128/27"])
    );
    assert_eq!(
        read(&p, "azurerm_express_route_circuit_peering", &ms)
            .await
            .as_ref(),
        Some(&ms)
    );
    planned(
        &p,
        "azurerm_express_route_circuit_peering",
        Some(&ms),
        &ms_cfg,
    );

    let lng_cfg = obj(&[
        ("name", "lng-bgp".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "westeurope".into()),
        ("gateway_address", "198.51.100.7".into()),
        (
            "address_space",
            list(&["192.168.10.0/24", "192.168.20.0/24"]),
        ),
        (
            "bgp_settings",
            Value::List(vec![obj(&[
                ("asn", num(65050.0)),
                ("bgp_peering_address", "192.168.255.1".into()),
            ])]),
        ),
    ]);
    let lng = create(&p, "azurerm_local_network_gateway", &lng_cfg).await;
    assert_eq!(lng["bgp_settings"][0]["asn"], 65050);
    assert_eq!(
        read(&p, "azurerm_local_network_gateway", &lng)
            .await
            .as_ref(),
        Some(&lng)
    );

    create(&p, "azurerm_virtual_network", &vnet(&[])).await;
    let sn = create(
        &p,
        "azurerm_subnet",
        &subnet("GatewaySubnet", "10.0.255.224/27"),
    )
    .await;
    let pip = create(
        &p,
        "azurerm_public_ip",
        &obj(&[
            ("name", "pip-bgp".into()),
            ("resource_group_name", "rg-hybrid".into()),
            ("location", "westeurope".into()),
            ("allocation_method", "Static".into()),
            ("zones", list(&["1", "2", "3"])),
        ]),
    )
    .await;
    assert_eq!(pip["zones"], json!(["1", "2", "3"]));
    let gw_cfg = obj(&[
        ("name", "vgw-bgp".into()),
        ("resource_group_name", "rg-hybrid".into()),
        ("location", "westeurope".into()),
        ("type", "Vpn".into()),
        ("sku", "VpnGw1AZ".into()),
        ("bgp_enabled", true.into()),
        (
            "ip_configuration",
            Value::List(vec![obj(&[
                ("subnet_id", id(&sn).as_str().into()),
                ("public_ip_address_id", id(&pip).as_str().into()),
            ])]),
        ),
        (
            "bgp_settings",
            Value::List(vec![obj(&[
                ("asn", num(65515.0)),
                (
                    "peering_addresses",
                    Value::List(vec![obj(&[
                        ("ip_configuration_name", "vnetGatewayConfig".into()),
                        ("apipa_addresses", list(&["169.254.21.1"])),
                    ])]),
                ),
            ])]),
        ),
    ]);
    let gw = create(&p, "azurerm_virtual_network_gateway", &gw_cfg).await;
    assert_eq!(gw["bgp_settings"][0]["asn"], 65515);
    assert_eq!(
        gw["bgp_settings"][0]["peering_addresses"][0]["apipa_addresses"],
        json!(["169.254.21.1"])
    );
    assert_eq!(
        read(&p, "azurerm_virtual_network_gateway", &gw)
            .await
            .as_ref(),
        Some(&gw)
    );
    let again = planned(&p, "azurerm_virtual_network_gateway", Some(&gw), &gw_cfg);
    assert_eq!(
        again.to_json(),
        gw,
        "planning the same config again must be a no-op"
    );
    emu.shutdown().await;
}

/// The real azure_identity client-secret flow against the emulator's token endpoint, with the
/// settings built by `from_config` from a provider block and ARM_* variables.
#[tokio::test]
async fn client_secret_credential_against_the_emulator_login() {
    let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let emu = start(EmulatorConfig::default(), addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let base = emu.base_url().to_string();
    let block = obj(&[("subscription_id", SUB.into()), ("use_cli", false.into())]);
    let env = |k: &str| -> Option<String> {
        match k {
            "ARM_TENANT_ID" => Some("00000000-0000-0000-0000-0000000000ff".into()),
            "ARM_CLIENT_ID" => Some("netform-test".into()),
            "ARM_CLIENT_SECRET" => Some("s3cr3t".into()),
            "NETFORM_ARM_ENDPOINT" | "NETFORM_ARM_AUTHORITY_HOST" => Some(base.clone()),
            "NETFORM_ARM_MAX_POLL_INTERVAL" => Some("0.05".into()),
            _ => None,
        }
    };
    let settings =
        netform_azure::AzureSettings::from_config(&block, &env).unwrap_or_else(|e| panic!("{e}"));
    assert!(!settings.no_auth);
    let p = AzureProvider::new(settings).unwrap_or_else(|e| panic!("{e}"));
    let state = create(&p, "azurerm_resource_group", &rg()).await;
    assert_eq!(
        read(&p, "azurerm_resource_group", &state).await.as_ref(),
        Some(&state)
    );
    delete(&p, "azurerm_resource_group", &state).await;
    emu.shutdown().await;
}
