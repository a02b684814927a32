//! What Azure would reject at apply, netform reports at plan: each rule the provider checks,
//! through the real binary, with the Azure error code it prevents, a span on the offending
//! attribute and a hint — and nothing is created.

mod common;

use common::{Emulator, Project};

const BASE: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rules-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "rules-vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.50.0.0/16"]
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.50.255.224/27"]
}

resource "azurerm_subnet" "workload" {
  name                 = "workload"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.50.1.0/24"]
}

resource "azurerm_virtual_network_gateway" "er" {
  name                = "rules-ergw"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    subnet_id = azurerm_subnet.gateway.id
  }
}

resource "azurerm_express_route_circuit" "erc" {
  name                  = "rules-erc"
  location              = azurerm_resource_group.rg.location
  resource_group_name   = azurerm_resource_group.rg.name
  service_provider_name = "Equinix"
  peering_location      = "Amsterdam"
  bandwidth_in_mbps     = 50

  sku {
    tier   = "Standard"
    family = "MeteredData"
  }
}

resource "azurerm_express_route_circuit_peering" "private" {
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.erc.name
  resource_group_name           = azurerm_resource_group.rg.name
  peer_asn                      = 65010
  primary_peer_address_prefix   = "192.168.10.0/30"
  secondary_peer_address_prefix = "192.168.10.4/30"
  vlan_id                       = 100
}

resource "azurerm_virtual_network_gateway_connection" "er" {
  name                       = "rules-er"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.er.id
  express_route_circuit_id   = azurerm_express_route_circuit.erc.id
}
"#;

const VPN: &str = r#"
resource "azurerm_public_ip" "vpn" {
  name                = "rules-vpn-pip"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
}

resource "azurerm_virtual_network_gateway" "vpn" {
  name                = "rules-vpngw"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  type                = "Vpn"
  vpn_type            = "RouteBased"
  sku                 = "VpnGw1"

  ip_configuration {
    subnet_id            = azurerm_subnet.gateway.id
    public_ip_address_id = azurerm_public_ip.vpn.id
  }
}
"#;

/// Replace `from` by `to` in `text`, which must contain it.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture does not contain {from:?}");
    text.replacen(from, to, 1)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in fixture"))
}

/// `netform plan` rejects `hcl` with Azure's `code`, pointing at the line holding `at`.
fn rejected(emu: &Emulator, hcl: &str, code: &str, at: &str) {
    let p = Project::from_files(&[("main.tf", hcl)]);
    let run = p.run(emu, &["plan"]);
    assert_ne!(run.code, 0, "plan must fail for {code}\n{}", run.stdout);
    assert!(
        run.stderr.contains(code),
        "expected {code}:\n{}",
        run.stderr
    );
    let line = line_of(hcl, at);
    assert!(
        run.stderr.contains(&format!("main.tf:{line}:")),
        "expected a span on line {line} ({at}) for {code}:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("help:"),
        "expected a hint for {code}:\n{}",
        run.stderr
    );
    assert!(emu.resources().is_empty(), "nothing may be created");
}

#[test]
fn the_base_configuration_plans_cleanly() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", &format!("{BASE}{VPN}"))]);
    p.run(&emu, &["plan"]).ok();
}

#[test]
fn gateway_outside_gatewaysubnet() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "    subnet_id = azurerm_subnet.gateway.id",
        "    subnet_id = azurerm_subnet.workload.id",
    );
    rejected(
        &emu,
        &hcl,
        "InvalidGatewaySubnet",
        "subnet_id = azurerm_subnet.workload.id",
    );
}

#[test]
fn gatewaysubnet_smaller_than_27_when_both_gateway_types_share_it() {
    let emu = Emulator::start();
    let hcl = edit(
        &format!("{BASE}{VPN}"),
        "[\"10.50.255.224/27\"]",
        "[\"10.50.255.240/28\"]",
    );
    rejected(&emu, &hcl, "GatewaySubnetTooSmall", "10.50.255.240/28");
}

#[test]
fn vpn_sku_on_an_expressroute_gateway_and_the_reverse() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "sku                 = \"ErGw1AZ\"",
        "sku                 = \"VpnGw1\"",
    );
    rejected(
        &emu,
        &hcl,
        "InvalidGatewaySku",
        "sku                 = \"VpnGw1\"",
    );
    let hcl = edit(
        &format!("{BASE}{VPN}"),
        "sku                 = \"VpnGw1\"",
        "sku                 = \"ErGw2AZ\"",
    );
    rejected(
        &emu,
        &hcl,
        "InvalidGatewaySku",
        "sku                 = \"ErGw2AZ\"",
    );
}

#[test]
fn policy_based_vpn_gateway_beside_expressroute() {
    let emu = Emulator::start();
    let hcl = edit(
        &edit(
            &format!("{BASE}{VPN}"),
            "vpn_type            = \"RouteBased\"",
            "vpn_type            = \"PolicyBased\"",
        ),
        "sku                 = \"VpnGw1\"",
        "sku                 = \"Basic\"",
    );
    rejected(
        &emu,
        &hcl,
        "ExpressRouteVpnCoexistenceNotSupported",
        "PolicyBased",
    );
}

#[test]
fn bandwidth_300_is_not_offered() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "bandwidth_in_mbps     = 50",
        "bandwidth_in_mbps     = 300",
    );
    rejected(
        &emu,
        &hcl,
        "InvalidServiceProviderBandwidth",
        "bandwidth_in_mbps     = 300",
    );
}

#[test]
fn peer_prefix_must_be_a_distinct_slash_30() {
    let emu = Emulator::start();
    let hcl = edit(BASE, "\"192.168.10.0/30\"", "\"192.168.10.0/29\"");
    rejected(&emu, &hcl, "InvalidPeerAddressPrefix", "192.168.10.0/29");
    let hcl = edit(BASE, "\"192.168.10.4/30\"", "\"192.168.10.0/30\"");
    rejected(
        &emu,
        &hcl,
        "InvalidPeerAddressPrefix",
        "secondary_peer_address_prefix",
    );
}

#[test]
fn vlan_out_of_range_or_used_twice_on_a_circuit() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "vlan_id                       = 100",
        "vlan_id                       = 5000",
    );
    rejected(
        &emu,
        &hcl,
        "InvalidVlanId",
        "vlan_id                       = 5000",
    );
    let ms = r#"
resource "azurerm_express_route_circuit_peering" "microsoft" {
  peering_type                  = "MicrosoftPeering"
  express_route_circuit_name    = azurerm_express_route_circuit.erc.name
  resource_group_name           = azurerm_resource_group.rg.name
  peer_asn                      = 64999
  primary_peer_address_prefix   = "198.51.100.0/30"
  secondary_peer_address_prefix = "198.51.100.4/30"
  vlan_id                       = 100 # same VLAN as the private peering

  microsoft_peering_config {
    advertised_public_prefixes = ["198.51.100.128/27"]
  }
}
"#;
    rejected(
        &emu,
        &format!("{BASE}{ms}"),
        "VlanIdAlreadyInUse",
        "same VLAN as the private peering",
    );
}

#[test]
fn reserved_peer_asn() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "peer_asn                      = 65010",
        "peer_asn                      = 65515",
    );
    rejected(&emu, &hcl, "InvalidPeerAsn", "65515");
}

#[test]
fn microsoft_peering_without_advertised_prefixes() {
    let emu = Emulator::start();
    let ms = r#"
resource "azurerm_express_route_circuit_peering" "microsoft" {
  peering_type                  = "MicrosoftPeering"
  express_route_circuit_name    = azurerm_express_route_circuit.erc.name
  resource_group_name           = azurerm_resource_group.rg.name
  peer_asn                      = 64999
  primary_peer_address_prefix   = "198.51.100.0/30"
  secondary_peer_address_prefix = "198.51.100.4/30"
  vlan_id                       = 300
}
"#;
    // The block is missing, so the diagnostic points at the resource itself.
    rejected(
        &emu,
        &format!("{BASE}{ms}"),
        "InvalidMicrosoftPeeringConfig",
        "\"microsoft\" {",
    );
}

#[test]
fn standard_circuit_linked_from_another_geopolitical_region() {
    let emu = Emulator::start();
    let hcl = edit(
        BASE,
        "peering_location      = \"Amsterdam\"",
        "peering_location      = \"Silicon Valley\"",
    );
    rejected(
        &emu,
        &hcl,
        "VnetAndCircuitNotInSameGeopoliticalRegion",
        "express_route_circuit_id   = azurerm_express_route_circuit.erc.id",
    );
}

#[test]
fn more_vnet_links_than_the_circuit_allows() {
    let emu = Emulator::start();
    let mut hcl = BASE.to_string();
    for i in 0..10 {
        hcl.push_str(&format!(
            r#"
resource "azurerm_virtual_network" "spoke{i}" {{
  name                = "spoke-{i}"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.{n}.0.0/16"]
}}

resource "azurerm_subnet" "spoke{i}" {{
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.spoke{i}.name
  address_prefixes     = ["10.{n}.255.224/27"]
}}

resource "azurerm_virtual_network_gateway" "spoke{i}" {{
  name                = "spoke-{i}-ergw"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.rg.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {{
    subnet_id = azurerm_subnet.spoke{i}.id
  }}
}}

resource "azurerm_virtual_network_gateway_connection" "spoke{i}" {{
  name                       = "spoke-{i}-er"
  location                   = "westeurope"
  resource_group_name        = azurerm_resource_group.rg.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.spoke{i}.id
  express_route_circuit_id   = azurerm_express_route_circuit.erc.id # link {i}
}}
"#,
            n = 60 + i
        ));
    }
    // 11 links on a Standard circuit that allows 10; the 11th (in address order) is flagged.
    let p = Project::from_files(&[("main.tf", &hcl)]);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("ExpressRouteCircuitVnetLinkLimitExceeded"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("allows 10 VNet links"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
    // The same estate on a Premium 1 Gbps circuit (50 links) plans.
    let premium = edit(
        &edit(&hcl, "tier   = \"Standard\"", "tier   = \"Premium\""),
        "bandwidth_in_mbps     = 50",
        "bandwidth_in_mbps     = 1000",
    );
    let p = Project::from_files(&[("main.tf", &premium)]);
    p.run(&emu, &["plan"]).ok();
}

#[test]
fn unlimited_data_cannot_go_back_to_metered() {
    let emu = Emulator::start();
    let unlimited = edit(
        BASE,
        "family = \"MeteredData\"",
        "family = \"UnlimitedData\"",
    );
    let p = Project::from_files(&[("main.tf", &unlimited)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let before = p.read("netform.tfstate");
    p.write("main.tf", BASE);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("CircuitSkuFamilyDowngradeNotSupported"),
        "{}",
        run.stderr
    );
    let line = line_of(BASE, "family = \"MeteredData\"");
    assert!(
        run.stderr.contains(&format!("main.tf:{line}:")),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("netform.tfstate"), before, "state untouched");
}
