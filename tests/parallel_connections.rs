//! Operations Azure serialises on one parent never overlap: twenty IPsec connections on one
//! VPN gateway apply without the emulator ever answering 409 AnotherOperationInProgress. And
//! the queue such a parent forms is fed early: a circuit and its peering start before
//! gateways that wait for a slot.

mod common;
#[path = "../benches/support/estate.rs"]
mod estate;

use common::{Emulator, Project};

fn config(n: usize) -> String {
    let mut hcl = String::from(
        r#"
resource "azurerm_resource_group" "rg" {
  name     = "many-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "many-vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.40.0.0/16"]
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.40.255.224/27"]
}

resource "azurerm_public_ip" "vpn" {
  name                = "many-vpn-pip"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
}

resource "azurerm_virtual_network_gateway" "vpn" {
  name                = "many-vpngw"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  type                = "Vpn"
  sku                 = "VpnGw1"

  ip_configuration {
    subnet_id            = azurerm_subnet.gateway.id
    public_ip_address_id = azurerm_public_ip.vpn.id
  }
}
"#,
    );
    for i in 0..n {
        hcl.push_str(&format!(
            r#"
resource "azurerm_local_network_gateway" "site{i}" {{
  name                = "site-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  gateway_address     = "203.0.113.{ip}"
  address_space       = ["192.168.{i}.0/24"]
}}

resource "azurerm_virtual_network_gateway_connection" "site{i}" {{
  name                       = "s2s-{i}"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  type                       = "IPsec"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.vpn.id
  local_network_gateway_id   = azurerm_local_network_gateway.site{i}.id
  shared_key                 = "psk-site-{i}"
}}
"#,
            ip = i + 1
        ));
    }
    hcl
}

#[test]
fn twenty_connections_on_one_gateway_never_meet_a_409() {
    // Real durations / 3000: a connection takes 40 ms, long enough to collide if run together.
    let emu = Emulator::start_with(&["--time-scale", "3000"]);
    let p = Project::from_files(&[("main.tf", &config(20))]);
    let apply = p
        .run(&emu, &["apply", "--auto-approve", "--parallelism", "10"])
        .ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 45 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let stats = emu.get("/_emulator/stats");
    assert!(
        stats["responses"].get("409").is_none(),
        "the emulator answered 409: {stats}"
    );
    assert!(
        stats["responses"]["201"].as_u64().unwrap_or(0) >= 45,
        "{stats}"
    );
    // Shared keys stay out of the output.
    assert!(
        !apply.stdout.contains("psk-site-"),
        "a shared key reached the terminal"
    );
}

#[test]
fn a_circuit_and_its_peering_start_before_gateways_queue_behind_each_other() {
    // Critical path first would start all four gateways (45 minutes each, two at a time)
    // before the circuit, leaving its four connections to queue after the last one; the
    // walker replays both rules with Azure's durations and feeds the circuit first.
    // Real durations / 3000: a gateway takes 0.9 s, a circuit 7 ms.
    let emu = Emulator::start_with(&["--time-scale", "3000", "--auto-provision", "0"]);
    // Four VNets, each with an ExpressRoute gateway and a connection to the one circuit.
    let p = Project::from_files(&[("main.tf", &estate::generate(4, 1))]);
    let apply = p
        .run(&emu, &["apply", "--auto-approve", "--parallelism", "2"])
        .ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 19 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let starts: Vec<&str> = apply
        .stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": Creating..."))
        .collect();
    let at = |addr: &str| {
        starts
            .iter()
            .position(|s| *s == addr)
            .unwrap_or_else(|| panic!("{addr} never started: {starts:?}"))
    };
    let third_gateway = starts
        .iter()
        .enumerate()
        .filter(|(_, s)| s.starts_with("azurerm_virtual_network_gateway."))
        .nth(2)
        .map(|(i, _)| i)
        .expect("four gateways");
    assert!(
        at("azurerm_express_route_circuit.c0") < third_gateway
            && at("azurerm_express_route_circuit_peering.c0") < third_gateway,
        "{starts:?}"
    );
    let stats = emu.get("/_emulator/stats");
    assert!(stats["responses"].get("409").is_none(), "{stats}");
}
