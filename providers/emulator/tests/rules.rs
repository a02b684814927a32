//! One test per domain rule (arm-api.md §8), named after the rule number.

mod common;

use common::*;
use netform_emulator::EmulatorConfig;
use serde_json::json;

const GWSUB: &str = "virtualNetworks/hub/subnets/GatewaySubnet";

#[tokio::test]
async fn r1_gateway_subnet_must_be_named_gatewaysubnet() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway(
                "ExpressRoute",
                "ErGw1AZ",
                &id("rg", "virtualNetworks/hub/subnets/default"),
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidGatewaySubnet");
    assert!(r.message().contains(
        "Virtual network gateway can only be created in subnet with name 'GatewaySubnet'."
    ));
    // case-insensitive name (azurerm's lowerCaseSubnetName test)
    e.put_ok(
        &net("rg", "virtualNetworks/spoke"),
        &vnet(&["10.1.0.0/16"], &[("gatewaySubnet", "10.1.255.0/27")]),
    )
    .await;
    e.put_ok(
        &net("rg", "virtualNetworkGateways/er2"),
        &gateway(
            "ExpressRoute",
            "ErGw1AZ",
            &id("rg", "virtualNetworks/spoke/subnets/gatewaySubnet"),
            None,
        ),
    )
    .await;
    // missing subnet reference
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er3"),
            &gateway(
                "ExpressRoute",
                "ErGw1AZ",
                &id("rg", "virtualNetworks/hub/subnets/nope"),
                None,
            ),
        )
        .await;
    assert_eq!(r.code(), "InvalidResourceReference");
}

#[tokio::test]
async fn r2_gateway_subnet_size() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.240/30").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "GatewaySubnetTooSmall");
    // /29 is enough for one gateway...
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.248/29").await;
    e.er_gateway("rg", "er").await;
    // ...but not for coexistence (needs /27)
    let pip = e.pip("rg", "vpn-pip").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn"),
            &gateway("Vpn", "VpnGw1", &id("rg", GWSUB), Some(&pip)),
        )
        .await;
    assert_eq!(r.code(), "GatewaySubnetTooSmall");
    // with a /27 both fit
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.er_gateway("rg", "er").await;
    e.vpn_gateway("rg", "vpn").await;
    // strict switch: ER alone needs /27
    let e = Emu::start(EmulatorConfig {
        er_gateway_requires_slash27: true,
        ..EmulatorConfig::default()
    })
    .await;
    e.hub("rg", "10.0.255.240/28").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.code(), "GatewaySubnetTooSmall");
}

#[tokio::test]
async fn r3_one_gateway_per_type_per_vnet() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.er_gateway("rg", "er1").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er2"),
            &gateway("ExpressRoute", "ErGw2AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "VnetAlreadyHasGatewayOfSameType");
    // updating the existing one is fine
    e.put_ok(
        &net("rg", "virtualNetworkGateways/er1"),
        &gateway("ExpressRoute", "ErGw2AZ", &id("rg", GWSUB), None),
    )
    .await;
}

#[tokio::test]
async fn r4_sku_must_match_gateway_type() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "VpnGw1", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.code(), "InvalidGatewaySku");
    let pip = e.pip("rg", "p").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn"),
            &gateway("Vpn", "ErGw1AZ", &id("rg", GWSUB), Some(&pip)),
        )
        .await;
    assert_eq!(r.code(), "InvalidGatewaySku");
    let mut b = gateway("Vpn", "VpnGw1", &id("rg", GWSUB), Some(&pip));
    b["properties"]["vpnType"] = json!("PolicyBased");
    let r = e
        .put_err(&net("rg", "virtualNetworkGateways/vpn"), &b)
        .await;
    assert_eq!(r.code(), "InvalidGatewaySku");
    let mut b = gateway("Vpn", "VpnGw1", &id("rg", GWSUB), Some(&pip));
    b["properties"]["vpnGatewayGeneration"] = json!("Generation2");
    let r = e
        .put_err(&net("rg", "virtualNetworkGateways/vpn"), &b)
        .await;
    assert_eq!(r.code(), "InvalidGatewaySku");
    let mut b = gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None);
    b["properties"]["vpnGatewayGeneration"] = json!("Generation1");
    let r = e.put_err(&net("rg", "virtualNetworkGateways/er"), &b).await;
    assert_eq!(r.code(), "InvalidVpnGatewayGeneration");
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "Turbo", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.code(), "InvalidGatewaySku");
    let ok = e
        .put_ok(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(ok["properties"]["vpnGatewayGeneration"], "None");
    assert_eq!(
        ok["properties"]["ipConfigurations"][0]["id"],
        id("rg", "virtualNetworkGateways/er/ipConfigurations/default")
    );
}

#[tokio::test]
async fn r5_coexistence_needs_routebased_non_basic_vpn() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.er_gateway("rg", "er").await;
    let pip = e.pip("rg", "p").await;
    let mut b = gateway("Vpn", "Basic", &id("rg", GWSUB), Some(&pip));
    b["properties"]["vpnType"] = json!("PolicyBased");
    let r = e
        .put_err(&net("rg", "virtualNetworkGateways/vpn"), &b)
        .await;
    assert_eq!(r.code(), "ExpressRouteVpnCoexistenceNotSupported");
    let b = gateway("Vpn", "Basic", &id("rg", GWSUB), Some(&pip));
    let r = e
        .put_err(&net("rg", "virtualNetworkGateways/vpn"), &b)
        .await;
    assert_eq!(r.code(), "ExpressRouteVpnCoexistenceNotSupported");
}

#[tokio::test]
async fn r6_gateway_resize_and_immutable_type() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.put_ok(
        &net("rg", "virtualNetworkGateways/er"),
        &gateway("ExpressRoute", "Standard", &id("rg", GWSUB), None),
    )
    .await;
    e.put_ok(
        &net("rg", "virtualNetworkGateways/er"),
        &gateway("ExpressRoute", "HighPerformance", &id("rg", GWSUB), None),
    )
    .await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw2AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(
        r.code(),
        "ExpressRouteVirtualNetworkGatewayAutoscaleBoundsNotValid"
    );
    let pip = e.pip("rg", "p").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("Vpn", "VpnGw1", &id("rg", GWSUB), Some(&pip)),
        )
        .await;
    assert_eq!(r.code(), "GatewayTypeCannotBeChanged");
    e.put_ok(
        &net("rg", "virtualNetworkGateways/er"),
        &gateway("ExpressRoute", "UltraPerformance", &id("rg", GWSUB), None),
    )
    .await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "Standard", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.code(), "InvalidGatewaySkuResize");
}

#[tokio::test]
async fn r7_vpn_gateway_needs_a_public_ip() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn"),
            &gateway("Vpn", "VpnGw1", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "PublicIpAddressRequiredForVpnGateway");
    // ER gateways may go without
    e.er_gateway("rg", "er").await;
    // a PIP attaches to one gateway only
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    e.put_ok(
        &net("rg", "virtualNetworks/other"),
        &vnet(&["10.9.0.0/16"], &[("GatewaySubnet", "10.9.255.224/27")]),
    )
    .await;
    let pip = e.pip("rg", "p").await;
    e.put_ok(
        &net("rg", "virtualNetworkGateways/vpn"),
        &gateway("Vpn", "VpnGw1", &id("rg", GWSUB), Some(&pip)),
    )
    .await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn2"),
            &gateway(
                "Vpn",
                "VpnGw1",
                &id("rg", "virtualNetworks/other/subnets/GatewaySubnet"),
                Some(&pip),
            ),
        )
        .await;
    assert_eq!(r.code(), "PublicIPAddressInUse");
    let p = e.get(&net("rg", "publicIPAddresses/p")).await;
    assert_eq!(
        p.body["properties"]["ipConfiguration"]["id"],
        id("rg", "virtualNetworkGateways/vpn/ipConfigurations/default")
    );
    // active-active needs two ipConfigurations
    let mut b = gateway(
        "Vpn",
        "VpnGw1",
        &id("rg", "virtualNetworks/other/subnets/GatewaySubnet"),
        Some(&pip),
    );
    b["properties"]["activeActive"] = json!(true);
    let r = e
        .put_err(&net("rg", "virtualNetworkGateways/vpn3"), &b)
        .await;
    assert_eq!(r.code(), "ActiveActiveGatewayRequiresTwoIpConfigurations");
}

#[tokio::test]
async fn r8_gateway_in_the_vnet_region() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let mut b = gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None);
    b["location"] = json!("eastus");
    let r = e.put_err(&net("rg", "virtualNetworkGateways/er"), &b).await;
    assert_eq!(r.code(), "InvalidResourceReference");
}

#[tokio::test]
async fn r9_circuit_sku_enums() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Gold", "MeteredData", 200),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidExpressRouteCircuitSku");
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Standard", "Free", 200),
        )
        .await;
    assert_eq!(r.code(), "InvalidExpressRouteCircuitSku");
    // inconsistent name accepted by default (as the real service did)...
    let mut b = circuit("Premium", "UnlimitedData", 200);
    b["sku"]["name"] = json!("Standard_MeteredData");
    let ok = e.put_ok(&net("rg", "expressRouteCircuits/c"), &b).await;
    assert_eq!(ok["sku"]["name"], "Standard_MeteredData");
    // ...and refused in strict mode
    let e = Emu::start(EmulatorConfig {
        strict_circuit_sku_name: true,
        ..EmulatorConfig::default()
    })
    .await;
    e.rg("rg").await;
    let r = e.put_err(&net("rg", "expressRouteCircuits/c"), &b).await;
    assert_eq!(r.code(), "InvalidExpressRouteCircuitSku");
}

#[tokio::test]
async fn r10_no_unlimited_to_metered_and_bandwidth_only_up() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.put_ok(
        &net("rg", "expressRouteCircuits/c"),
        &circuit("Standard", "MeteredData", 200),
    )
    .await;
    e.put_ok(
        &net("rg", "expressRouteCircuits/c"),
        &circuit("Standard", "UnlimitedData", 500),
    )
    .await;
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Standard", "MeteredData", 500),
        )
        .await;
    assert_eq!(r.code(), "CircuitSkuFamilyDowngradeNotSupported");
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Standard", "UnlimitedData", 200),
        )
        .await;
    assert_eq!(r.code(), "CircuitBandwidthDowngradeNotSupported");
}

#[tokio::test]
async fn r11_bandwidth_values() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Standard", "MeteredData", 300),
        )
        .await;
    assert_eq!(r.code(), "InvalidServiceProviderBandwidth");
    for bw in [50, 100, 200, 500, 1000, 2000, 5000, 10000] {
        e.put_ok(
            &net("rg", &format!("expressRouteCircuits/c{bw}")),
            &circuit("Standard", "MeteredData", bw),
        )
        .await;
    }
}

#[tokio::test]
async fn r13_strict_peering_needs_provisioned_circuit() {
    // default: allowed on a NotProvisioned circuit (azurerm's tests do this)
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.circuit("rg", "c").await;
    e.private_peering("rg", "c").await;
    let e = Emu::start(EmulatorConfig {
        strict_peering: true,
        ..EmulatorConfig::default()
    })
    .await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c/peerings/AzurePrivatePeering"),
            &peering(100, "192.168.16.252/30", "192.168.18.252/30", 65001),
        )
        .await;
    assert_eq!(r.code(), "ExpressRouteCircuitNotProvisioned");
    e.provision(&sk).await;
    e.private_peering("rg", "c").await;
}

#[tokio::test]
async fn r14_peer_prefixes_are_distinct_slash30_with_zero_host_bits() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.circuit("rg", "c").await;
    let p = net("rg", "expressRouteCircuits/c/peerings/AzurePrivatePeering");
    for (a, b) in [
        ("192.168.16.0/29", "192.168.18.252/30"),
        ("192.168.16.252/30", "192.168.16.252/30"),
        ("192.168.16.253/30", "192.168.18.252/30"),
        ("nonsense", "192.168.18.252/30"),
    ] {
        let r = e.put_err(&p, &peering(100, a, b, 65001)).await;
        assert_eq!(r.code(), "InvalidPeerAddressPrefix", "{a} {b}");
    }
}

#[tokio::test]
async fn r15_reserved_asns() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.circuit("rg", "c").await;
    let p = net("rg", "expressRouteCircuits/c/peerings/AzurePrivatePeering");
    for asn in [65515, 65517, 65520, 12076, 8075, 23456, 0, 4294967296] {
        let r = e
            .put_err(
                &p,
                &peering(100, "192.168.16.252/30", "192.168.18.252/30", asn),
            )
            .await;
        assert_eq!(r.code(), "InvalidPeerAsn", "{asn}");
    }
    e.put_ok(
        &p,
        &peering(100, "192.168.16.252/30", "192.168.18.252/30", 4200000000),
    )
    .await;
}

#[tokio::test]
async fn r16_vlan_range_uniqueness_and_shared_key_length() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.put_ok(
        &net("rg", "expressRouteCircuits/c"),
        &circuit("Premium", "MeteredData", 200),
    )
    .await;
    let p = net("rg", "expressRouteCircuits/c/peerings/AzurePrivatePeering");
    for vlan in [0, 4095] {
        let r = e
            .put_err(
                &p,
                &peering(vlan, "192.168.16.252/30", "192.168.18.252/30", 65001),
            )
            .await;
        assert_eq!(r.code(), "InvalidVlanId");
    }
    let mut b = peering(100, "192.168.16.252/30", "192.168.18.252/30", 65001);
    b["properties"]["sharedKey"] = json!("x".repeat(26));
    let r = e.put_err(&p, &b).await;
    assert_eq!(r.code(), "InvalidSharedKey");
    e.put_ok(
        &p,
        &peering(100, "192.168.16.252/30", "192.168.18.252/30", 65001),
    )
    .await;
    let ms = json!({"properties": {"peeringType": "MicrosoftPeering", "peerASN": 65002, "vlanId": 100,
        "primaryPeerAddressPrefix": "203.0.113.0/30", "secondaryPeerAddressPrefix": "203.0.113.4/30",
        "microsoftPeeringConfig": {"advertisedPublicPrefixes": ["203.0.113.128/25"]}}});
    let r = e
        .put_err(
            &net("rg", "expressRouteCircuits/c/peerings/MicrosoftPeering"),
            &ms,
        )
        .await;
    assert_eq!(r.code(), "VlanIdAlreadyInUse");
}

#[tokio::test]
async fn r17_microsoft_peering_needs_prefixes_and_known_registry() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    e.put_ok(
        &net("rg", "expressRouteCircuits/c"),
        &circuit("Premium", "MeteredData", 200),
    )
    .await;
    let p = net("rg", "expressRouteCircuits/c/peerings/MicrosoftPeering");
    let base = json!({"properties": {"peeringType": "MicrosoftPeering", "peerASN": 65002, "vlanId": 300,
        "primaryPeerAddressPrefix": "203.0.113.0/30", "secondaryPeerAddressPrefix": "203.0.113.4/30"}});
    let r = e.put_err(&p, &base).await;
    assert_eq!(r.code(), "InvalidMicrosoftPeeringConfig");
    let mut b = base.clone();
    b["properties"]["microsoftPeeringConfig"] =
        json!({"advertisedPublicPrefixes": ["203.0.113.128/25"], "routingRegistryName": "MYREG"});
    let r = e.put_err(&p, &b).await;
    assert_eq!(r.code(), "InvalidRoutingRegistryName");
    b["properties"]["microsoftPeeringConfig"]["routingRegistryName"] = json!("ARIN");
    let ok = e.put_ok(&p, &b).await;
    assert_eq!(
        ok["properties"]["microsoftPeeringConfig"]["advertisedPublicPrefixesState"],
        "Configured"
    );
    // the peering name must be a peering type
    let r = e
        .put_err(&net("rg", "expressRouteCircuits/c/peerings/MyPeering"), &b)
        .await;
    assert_eq!(r.code(), "InvalidPeeringName");
}

#[tokio::test]
async fn r18_vnet_links_per_circuit() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (cid, sk) = e.circuit("rg", "c").await;
    e.provision(&sk).await;
    e.private_peering("rg", "c").await;
    for i in 0..11 {
        e.put_ok(
            &net("rg", &format!("virtualNetworks/v{i}")),
            &vnet(
                &[&format!("10.{i}.0.0/16")],
                &[("GatewaySubnet", &format!("10.{i}.255.224/27"))],
            ),
        )
        .await;
        let gw = e
            .put_ok(
                &net("rg", &format!("virtualNetworkGateways/g{i}")),
                &gateway(
                    "ExpressRoute",
                    "ErGw1AZ",
                    &id("rg", &format!("virtualNetworks/v{i}/subnets/GatewaySubnet")),
                    None,
                ),
            )
            .await;
        let gid = gw["id"].as_str().expect("id").to_string();
        let r = e
            .put(
                &net("rg", &format!("connections/l{i}")),
                &er_connection(&gid, &cid),
            )
            .await;
        if i < 10 {
            assert_eq!(r.status, 201, "{:?}", r.body);
        } else {
            assert_eq!(r.status, 400);
            assert_eq!(r.code(), "ExpressRouteCircuitVnetLinkLimitExceeded");
        }
    }
}

#[tokio::test]
async fn r19_standard_circuit_links_only_in_its_geopolitical_region() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (cid, sk) = e.circuit("rg", "c").await; // peering location Amsterdam (Europe)
    e.provision(&sk).await;
    e.private_peering("rg", "c").await;
    let mut v = vnet(&["10.0.0.0/16"], &[("GatewaySubnet", "10.0.255.224/27")]);
    v["location"] = json!("eastus");
    e.put_ok(&net("rg", "virtualNetworks/us"), &v).await;
    let mut g = gateway(
        "ExpressRoute",
        "ErGw1AZ",
        &id("rg", "virtualNetworks/us/subnets/GatewaySubnet"),
        None,
    );
    g["location"] = json!("eastus");
    let gw = e
        .put_ok(&net("rg", "virtualNetworkGateways/us-er"), &g)
        .await;
    let gid = gw["id"].as_str().expect("id").to_string();
    let mut conn = er_connection(&gid, &cid);
    conn["location"] = json!("eastus");
    let r = e.put_err(&net("rg", "connections/us-link"), &conn).await;
    assert_eq!(r.code(), "VnetAndCircuitNotInSameGeopoliticalRegion");
    // Premium lifts it
    e.put_ok(
        &net("rg", "expressRouteCircuits/c"),
        &circuit("Premium", "MeteredData", 200),
    )
    .await;
    e.put_ok(&net("rg", "connections/us-link"), &conn).await;
}

#[tokio::test]
async fn r20_connection_rules() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let gw = e.er_gateway("rg", "er").await;
    let (cid, sk) = e.circuit("rg", "c").await;
    let path = net("rg", "connections/link");
    // circuit not provisioned
    let r = e.put_err(&path, &er_connection(&gw, &cid)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "ExpressRouteCircuitNotProvisioned");
    e.provision(&sk).await;
    // no private peering yet
    let r = e.put_err(&path, &er_connection(&gw, &cid)).await;
    assert_eq!(r.code(), "ExpressRoutePrivatePeeringNotConfigured");
    e.private_peering("rg", "c").await;
    // routing weight range
    let mut b = er_connection(&gw, &cid);
    b["properties"]["routingWeight"] = json!(32001);
    assert_eq!(e.put_err(&path, &b).await.code(), "InvalidRoutingWeight");
    // wrong type for the gateway
    let mut b = er_connection(&gw, &cid);
    b["properties"]["connectionType"] = json!("IPsec");
    assert_eq!(
        e.put_err(&path, &b).await.code(),
        "ConnectionTypeNotSupportedByGateway"
    );
    // authorization key must exist
    let mut b = er_connection(&gw, &cid);
    b["properties"]["authorizationKey"] = json!("not-a-key");
    assert_eq!(e.put_err(&path, &b).await.code(), "InvalidAuthorizationKey");
    let ok = e.put_ok(&path, &er_connection(&gw, &cid)).await;
    assert_eq!(ok["properties"]["peer"]["id"], cid.as_str());
    assert_eq!(
        ok["properties"]["virtualNetworkGateway1"]["id"],
        gw.as_str()
    );
    assert_eq!(ok["properties"]["connectionStatus"], "Connected");
    // IPsec needs a VPN gateway and localNetworkGateway2
    let vpn = e.vpn_gateway("rg", "vpn").await;
    let ipsec = json!({"location": "westeurope", "properties": {"connectionType": "IPsec", "virtualNetworkGateway1": {"id": vpn}, "sharedKey": "s3cret"}});
    assert_eq!(
        e.put_err(&net("rg", "connections/s2s"), &ipsec)
            .await
            .code(),
        "LocalNetworkGatewayRequired"
    );
    e.put_ok(&net("rg", "localNetworkGateways/onprem"), &json!({"location": "westeurope", "properties": {"gatewayIpAddress": "203.0.113.10", "localNetworkAddressSpace": {"addressPrefixes": ["192.168.0.0/16"]}}})).await;
    let mut ipsec = ipsec;
    ipsec["properties"]["localNetworkGateway2"] =
        json!({"id": id("rg", "localNetworkGateways/onprem")});
    let s2s = e.put_ok(&net("rg", "connections/s2s"), &ipsec).await;
    assert_eq!(s2s["properties"]["sharedKey"], "s3cret");
    let sk = e.get(&net("rg", "connections/s2s/sharedkey")).await;
    assert_eq!(sk.body["value"], "s3cret");
}

#[tokio::test]
async fn r20_authorization_key_marks_authorization_in_use() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let gw = e.er_gateway("rg", "er").await;
    let (cid, sk) = e.circuit("rg", "c").await;
    e.provision(&sk).await;
    e.private_peering("rg", "c").await;
    let a = e
        .put_ok(
            &net("rg", "expressRouteCircuits/c/authorizations/a"),
            &json!({"properties": {}}),
        )
        .await;
    let mut b = er_connection(&gw, &cid);
    b["properties"]["authorizationKey"] = a["properties"]["authorizationKey"].clone();
    e.put_ok(&net("rg", "connections/link"), &b).await;
    let a = e
        .get(&net("rg", "expressRouteCircuits/c/authorizations/a"))
        .await;
    assert_eq!(a.body["properties"]["authorizationUseStatus"], "InUse");
}

#[tokio::test]
async fn r21_in_use_deletions_are_refused() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let vpn = e.vpn_gateway("rg", "vpn").await;
    let r = e.delete(&net("rg", GWSUB)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InUseSubnetCannotBeDeleted");
    assert!(r.message().starts_with("Subnet GatewaySubnet is in use by"));
    let r = e.delete(&net("rg", "virtualNetworks/hub")).await;
    assert_eq!(r.code(), "InUseSubnetCannotBeDeleted");
    // VNet PUT that drops an in-use subnet
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/hub"),
            &vnet(&["10.0.0.0/16"], &[("default", "10.0.1.0/24")]),
        )
        .await;
    assert_eq!(r.code(), "InUseSubnetCannotBeDeleted");
    let r = e.delete(&net("rg", "publicIPAddresses/vpn-pip")).await;
    assert_eq!(r.code(), "PublicIPAddressCannotBeDeleted");
    // gateway with a connection
    e.put_ok(
        &net("rg", "localNetworkGateways/onprem"),
        &json!({"location": "westeurope", "properties": {"gatewayIpAddress": "203.0.113.10"}}),
    )
    .await;
    e.put_ok(&net("rg", "connections/s2s"), &json!({"location": "westeurope", "properties": {"connectionType": "IPsec",
        "virtualNetworkGateway1": {"id": vpn}, "localNetworkGateway2": {"id": id("rg", "localNetworkGateways/onprem")}, "sharedKey": "k"}})).await;
    let r = e.delete(&net("rg", "virtualNetworkGateways/vpn")).await;
    assert_eq!(r.code(), "InUseVirtualNetworkGatewayCannotBeDeleted");
    let r = e.delete(&net("rg", "localNetworkGateways/onprem")).await;
    assert_eq!(r.code(), "InUseLocalNetworkGatewayCannotBeDeleted");
    // circuit with peerings
    e.circuit("rg", "c").await;
    e.private_peering("rg", "c").await;
    let r = e.delete(&net("rg", "expressRouteCircuits/c")).await;
    assert_eq!(r.code(), "InUseExpressRouteCircuitCannotBeDeleted");
    // teardown in dependency order leaves nothing
    e.delete_ok(&net("rg", "connections/s2s")).await;
    e.delete_ok(&net("rg", "virtualNetworkGateways/vpn")).await;
    e.delete_ok(&net("rg", "publicIPAddresses/vpn-pip")).await;
    e.delete_ok(&net("rg", "localNetworkGateways/onprem")).await;
    e.delete_ok(&net(
        "rg",
        "expressRouteCircuits/c/peerings/AzurePrivatePeering",
    ))
    .await;
    e.delete_ok(&net("rg", "expressRouteCircuits/c")).await;
    e.delete_ok(&net("rg", "virtualNetworks/hub")).await;
    e.delete_ok(&rg_path("rg")).await;
    assert!(e.resources().await.is_empty(), "{:?}", e.resources().await);
}

#[tokio::test]
async fn r12_provisioned_circuit_cannot_be_deleted() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    e.provision(&sk).await;
    let r = e.delete(&net("rg", "expressRouteCircuits/c")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "ConflictError");
    assert!(
        r.message()
            .starts_with("The specified dedicated circuit is not in Deprovisioned state.")
    );
    let r = e
        .post(&format!(
            "/_emulator/circuits/{sk}/provision?state=Provisioning"
        ))
        .await;
    assert_eq!(
        r.body["properties"]["serviceProviderProvisioningState"],
        "Provisioning"
    );
    assert_eq!(
        e.delete(&net("rg", "expressRouteCircuits/c")).await.code(),
        "ConflictError"
    );
    e.post(&format!("/_emulator/circuits/{sk}/deprovision"))
        .await;
    e.delete_ok(&net("rg", "expressRouteCircuits/c")).await;
}

#[tokio::test]
async fn r22_subnet_inside_vnet_no_overlap_host_bits_zero() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let s = |p: &str| json!({"properties": {"addressPrefix": p}});
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/hub/subnets/x"),
            &s("10.1.0.0/24"),
        )
        .await;
    assert_eq!(r.code(), "NetcfgSubnetRangeOutsideVnet");
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/hub/subnets/x"),
            &s("10.0.1.128/25"),
        )
        .await;
    assert_eq!(r.code(), "NetcfgSubnetRangesOverlap");
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/hub/subnets/x"),
            &s("10.0.3.5/24"),
        )
        .await;
    assert_eq!(r.code(), "InvalidCIDRNotation");
    // inline subnets are checked the same way
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/v2"),
            &vnet(
                &["10.5.0.0/16"],
                &[("a", "10.5.0.0/24"), ("b", "10.5.0.0/25")],
            ),
        )
        .await;
    assert_eq!(r.code(), "NetcfgSubnetRangesOverlap");
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/v2"),
            &vnet(&["10.5.0.0/16"], &[("a", "10.6.0.0/24")]),
        )
        .await;
    assert_eq!(r.code(), "NetcfgSubnetRangeOutsideVnet");
    // updating a subnet in place does not overlap with itself
    e.put_ok(
        &net("rg", "virtualNetworks/hub/subnets/default"),
        &s("10.0.1.0/24"),
    )
    .await;
}

#[tokio::test]
async fn conflicts_another_operation_in_progress() {
    // gateway create = 45 min; scale 3000 -> ~0.9 s in flight
    let e = Emu::start(EmulatorConfig {
        time_scale: 3000.0,
        ..EmulatorConfig::default()
    })
    .await;
    e.hub("rg", "10.0.255.224/27").await;
    let r = e
        .put(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw1AZ", &id("rg", GWSUB), None),
        )
        .await;
    assert_eq!(r.status, 201);
    let op = r.header("azure-asyncoperation").expect("op");
    let again = e
        .put(
            &net("rg", "virtualNetworkGateways/er"),
            &gateway("ExpressRoute", "ErGw2AZ", &id("rg", GWSUB), None),
        )
        .await;
    if e.get(&op).await.body["status"] == "InProgress" {
        assert_eq!(again.status, 409);
        assert_eq!(again.code(), "AnotherOperationInProgress");
        assert!(
            again.message().contains("/operations/"),
            "{}",
            again.message()
        );
    }
    e.wait_async(&op).await;
    // circuit children serialise on the circuit
    let r = e
        .put(
            &net("rg", "expressRouteCircuits/c"),
            &circuit("Standard", "MeteredData", 200),
        )
        .await;
    let op = r.header("azure-asyncoperation").expect("op");
    let p = e
        .put(
            &net("rg", "expressRouteCircuits/c/authorizations/a"),
            &json!({"properties": {}}),
        )
        .await;
    if e.get(&op).await.body["status"] == "InProgress" {
        assert_eq!(p.status, 409, "{:?}", p.body);
        assert_eq!(p.code(), "AnotherOperationInProgress");
    }
    e.wait_async(&op).await;
    let p = e
        .put(
            &net("rg", "expressRouteCircuits/c/authorizations/a"),
            &json!({"properties": {}}),
        )
        .await;
    assert_eq!(p.status, 201);
}

#[tokio::test]
async fn r18_circuits_per_gateway() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let gw = e.er_gateway("rg", "er").await; // ErGw1AZ: 4 circuits, 4 per peering location
    for i in 0..5 {
        let (cid, sk) = e.circuit("rg", &format!("c{i}")).await;
        e.provision(&sk).await;
        e.private_peering("rg", &format!("c{i}")).await;
        let r = e
            .put(
                &net("rg", &format!("connections/l{i}")),
                &er_connection(&gw, &cid),
            )
            .await;
        if i < 4 {
            assert_eq!(r.status, 201, "{:?}", r.body);
        } else {
            assert_eq!(r.code(), "ExpressRouteGatewayCircuitLimitExceeded");
        }
    }
}

#[tokio::test]
async fn resource_names_follow_the_network_naming_rule() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    for bad in ["-lead", "trail.", "sp ace", &"x".repeat(81)] {
        let r = e
            .put_err(
                &net("rg", &format!("localNetworkGateways/{bad}")),
                &json!({"location": "westeurope", "properties": {"fqdn": "a.example"}}),
            )
            .await;
        assert_eq!(r.code(), "InvalidResourceName", "{bad}");
    }
    e.put_ok(
        &net("rg", "localNetworkGateways/ok.name-1_"),
        &json!({"location": "westeurope", "properties": {"fqdn": "a.example"}}),
    )
    .await;
}

#[tokio::test]
async fn network_security_groups_rules_and_subnet_references() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let rule = |name: &str, prio: i64, dir: &str| {
        json!({"name": name, "properties": {"protocol": "tcp", "sourcePortRange": "*", "destinationPortRange": "443",
            "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow", "priority": prio, "direction": dir}})
    };
    let nsg = |rules: Vec<serde_json::Value>| json!({"location": "West Europe", "properties": {"securityRules": rules}});
    let b = e
        .put_ok(
            &net("rg", "networkSecurityGroups/nsg"),
            &nsg(vec![
                rule("https", 100, "Inbound"),
                rule("out", 100, "Outbound"),
            ]),
        )
        .await;
    assert_eq!(b["type"], "Microsoft.Network/networkSecurityGroups");
    assert_eq!(
        b["properties"]["securityRules"][0]["properties"]["protocol"],
        "Tcp"
    );
    assert_eq!(
        b["properties"]["securityRules"][0]["id"],
        id("rg", "networkSecurityGroups/nsg/securityRules/https")
    );
    assert_eq!(
        b["properties"]["defaultSecurityRules"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let r = e
        .put_err(
            &net("rg", "networkSecurityGroups/bad"),
            &nsg(vec![rule("a", 100, "Inbound"), rule("b", 100, "Inbound")]),
        )
        .await;
    assert_eq!(r.code(), "SecurityRuleConflict");
    let r = e
        .put_err(
            &net("rg", "networkSecurityGroups/bad"),
            &nsg(vec![rule("a", 99, "Inbound")]),
        )
        .await;
    assert_eq!(r.code(), "SecurityRuleInvalidPriority");
    // A subnet that references a missing group is refused; an existing one is attached.
    e.put_ok(
        &net("rg", "virtualNetworks/v"),
        &vnet(&["10.0.0.0/16"], &[]),
    )
    .await;
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/v/subnets/s"),
            &json!({"properties": {"addressPrefixes": ["10.0.1.0/24"],
                "networkSecurityGroup": {"id": id("rg", "networkSecurityGroups/nope")}}}),
        )
        .await;
    assert_eq!(r.code(), "InvalidResourceReference");
    let s = e
        .put_ok(
            &net("rg", "virtualNetworks/v/subnets/s"),
            &json!({"properties": {"addressPrefixes": ["10.0.1.0/24"],
                "networkSecurityGroup": {"id": id("rg", "networkSecurityGroups/NSG")}}}),
        )
        .await;
    assert_eq!(
        s["properties"]["networkSecurityGroup"]["id"],
        id("rg", "networkSecurityGroups/nsg")
    );
    let g = e.get(&net("rg", "networkSecurityGroups/nsg")).await;
    assert_eq!(
        g.body["properties"]["subnets"][0]["id"],
        id("rg", "virtualNetworks/v/subnets/s")
    );
    let r = e.delete(&net("rg", "networkSecurityGroups/nsg")).await;
    assert_eq!(r.code(), "InUseNetworkSecurityGroupCannotBeDeleted");
    // inline subnets reference groups the same way; a VNet PUT without the subnet detaches it
    e.put_ok(
        &net("rg", "virtualNetworks/v"),
        &json!({"location": "West Europe", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "t", "properties": {"addressPrefixes": ["10.0.2.0/24"],
                "networkSecurityGroup": {"id": id("rg", "networkSecurityGroups/nsg")}}}]}}),
    )
    .await;
    let v = e.get(&net("rg", "virtualNetworks/v")).await;
    assert_eq!(
        v.body["properties"]["subnets"].as_array().map(Vec::len),
        Some(1)
    );
    e.put_ok(
        &net("rg", "virtualNetworks/v"),
        &vnet(&["10.0.0.0/16"], &[]),
    )
    .await;
    e.delete_ok(&net("rg", "networkSecurityGroups/nsg")).await;
}

#[tokio::test]
async fn subnet_delegations_are_echoed_with_ids() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let s = e
        .put_ok(
            &net("rg", "virtualNetworks/hub/subnets/aci"),
            &json!({"properties": {"addressPrefixes": ["10.0.2.0/24"], "delegations": [{"name": "delegation",
                "properties": {"serviceName": "Microsoft.ContainerInstance/containerGroups",
                    "actions": ["Microsoft.Network/virtualNetworks/subnets/join/action"]}}]}}),
        )
        .await;
    let d = &s["properties"]["delegations"][0];
    assert_eq!(
        d["id"],
        id(
            "rg",
            "virtualNetworks/hub/subnets/aci/delegations/delegation"
        )
    );
    assert_eq!(
        d["type"],
        "Microsoft.Network/virtualNetworks/subnets/delegations"
    );
    assert_eq!(
        d["properties"]["actions"],
        json!(["Microsoft.Network/virtualNetworks/subnets/join/action"])
    );
    let r = e
        .put_err(
            &net("rg", "virtualNetworks/hub/subnets/aci"),
            &json!({"properties": {"addressPrefixes": ["10.0.2.0/24"], "delegations": [{"name": "d", "properties": {}}]}}),
        )
        .await;
    assert_eq!(r.code(), "InvalidRequestFormat");
}

#[tokio::test]
async fn point_to_site_configuration() {
    let e = Emu::instant().await;
    e.hub("rg", "10.0.255.224/27").await;
    let pip = e.pip("rg", "p2s-pip").await;
    let with = |sku: &str, p2s: serde_json::Value| {
        let mut g = gateway("Vpn", sku, &id("rg", GWSUB), Some(&pip));
        g["properties"]["vpnClientConfiguration"] = p2s;
        g
    };
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn"),
            &with(
                "Basic",
                json!({"vpnClientAddressPool": {"addressPrefixes": ["10.0.200.0/24"]}}),
            ),
        )
        .await;
    assert_eq!(r.code(), "VpnClientAddressPoolOverlapsWithVnetAddressSpace");
    assert!(r.message().contains("10.0.0.0/16 and 10.0.200.0/24"));
    let r = e
        .put_err(
            &net("rg", "virtualNetworkGateways/vpn"),
            &with(
                "Basic",
                json!({"vpnClientAddressPool": {"addressPrefixes": ["10.2.0.0/24"]},
                "vpnClientProtocols": ["IkeV2"]}),
            ),
        )
        .await;
    assert_eq!(r.code(), "VpnClientProtocolNotSupportedForGatewaySku");
    let b = e
        .put_ok(
            &net("rg", "virtualNetworkGateways/vpn"),
            &with("Basic", json!({"vpnClientAddressPool": {"addressPrefixes": ["10.2.0.0/24"]},
                "vpnClientRootCertificates": [{"name": "root", "properties": {"publicCertData": "MIIB"}}],
                "vpnClientRevokedCertificates": [{"name": "old", "properties": {"thumbprint": "912198EEF23DCAC40939312FEE97DD560BAE49B1"}}]})),
        )
        .await;
    let p2s = &b["properties"]["vpnClientConfiguration"];
    assert_eq!(p2s["vpnClientProtocols"], json!(["SSTP"]));
    assert_eq!(
        p2s["vpnClientRootCertificates"][0]["id"],
        id(
            "rg",
            "virtualNetworkGateways/vpn/vpnClientRootCertificates/root"
        )
    );
    assert_eq!(
        p2s["vpnClientRevokedCertificates"][0]["properties"]["thumbprint"],
        "912198EEF23DCAC40939312FEE97DD560BAE49B1"
    );
}

#[tokio::test]
async fn ipv6_peering_configuration() {
    let e = Emu::instant().await;
    e.rg("rg").await;
    let (_, sk) = e.circuit("rg", "c").await;
    e.provision(&sk).await;
    let mut p = peering(100, "192.168.16.252/30", "192.168.18.252/30", 65001);
    p["properties"]["ipv6PeeringConfig"] = json!({"primaryPeerAddressPrefix": "2002:db01::/126",
        "secondaryPeerAddressPrefix": "2002:db01::/126"});
    let path = net("rg", "expressRouteCircuits/c/peerings/AzurePrivatePeering");
    let r = e.put_err(&path, &p).await;
    assert_eq!(r.code(), "InvalidPeerAddressPrefix");
    p["properties"]["ipv6PeeringConfig"]["secondaryPeerAddressPrefix"] = json!("2003:db01::/64");
    assert_eq!(
        e.put_err(&path, &p).await.code(),
        "InvalidPeerAddressPrefix"
    );
    p["properties"]["ipv6PeeringConfig"]["secondaryPeerAddressPrefix"] = json!("2003:db01::/126");
    p["properties"]["ipv6PeeringConfig"]["microsoftPeeringConfig"] =
        json!({"advertisedPublicPrefixes": ["2002:db01::/126"]});
    assert_eq!(
        e.put_err(&path, &p).await.code(),
        "InvalidMicrosoftPeeringConfig"
    );
    p["properties"]["ipv6PeeringConfig"]
        .as_object_mut()
        .map(|o| o.remove("microsoftPeeringConfig"));
    let b = e.put_ok(&path, &p).await;
    assert_eq!(b["properties"]["ipv6PeeringConfig"]["state"], "Enabled");
    // Microsoft peering: IPv6 advertised prefixes get a validation state
    let ms = json!({"properties": {"peeringType": "MicrosoftPeering", "peerASN": 100, "vlanId": 300,
        "primaryPeerAddressPrefix": "123.0.0.0/30", "secondaryPeerAddressPrefix": "123.0.0.4/30",
        "microsoftPeeringConfig": {"advertisedPublicPrefixes": ["123.1.0.0/24"]},
        "ipv6PeeringConfig": {"primaryPeerAddressPrefix": "2002:db01::/126", "secondaryPeerAddressPrefix": "2003:db01::/126",
            "microsoftPeeringConfig": {"advertisedPublicPrefixes": ["2002:db01::/126"]}}}});
    let b = e
        .put_ok(
            &net("rg", "expressRouteCircuits/c/peerings/MicrosoftPeering"),
            &ms,
        )
        .await;
    assert_eq!(
        b["properties"]["ipv6PeeringConfig"]["microsoftPeeringConfig"]["advertisedPublicPrefixesState"],
        "Configured"
    );
}
