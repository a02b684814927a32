//! Generator of large hybrid-network estates: N virtual networks, each with a GatewaySubnet,
//! an ExpressRoute gateway and a connection to one of M circuits (each circuit with its
//! private peering), all in one resource group. 4N + 2M + 1 resources.

use std::fmt::Write as _;

pub fn generate(vnets: usize, circuits: usize) -> String {
    let circuits = circuits.max(1);
    let mut out = String::with_capacity(vnets * 1600);
    out.push_str(
        r#"provider "azurerm" {
  features {}
}

variable "location" {
  default = "westeurope"
}

resource "azurerm_resource_group" "estate" {
  name     = "estate-rg"
  location = var.location
}
"#,
    );
    for c in 0..circuits {
        let _ = write!(
            out,
            r#"
resource "azurerm_express_route_circuit" "c{c}" {{
  name                  = "erc-{c}"
  location              = azurerm_resource_group.estate.location
  resource_group_name   = azurerm_resource_group.estate.name
  service_provider_name = "Equinix"
  peering_location      = "Amsterdam"
  bandwidth_in_mbps     = 1000
  sku {{
    tier   = "Premium"
    family = "MeteredData"
  }}
}}

resource "azurerm_express_route_circuit_peering" "c{c}" {{
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.c{c}.name
  resource_group_name           = azurerm_resource_group.estate.name
  peer_asn                      = 65010
  primary_peer_address_prefix   = "192.168.{a}.0/30"
  secondary_peer_address_prefix = "192.168.{a}.4/30"
  vlan_id                       = {vlan}
}}
"#,
            a = c % 250,
            vlan = 100 + (c % 3000)
        );
    }
    for v in 0..vnets {
        let c = v % circuits;
        let (hi, lo) = (10 + (v / 256) % 200, v % 256);
        let _ = write!(
            out,
            r#"
resource "azurerm_virtual_network" "v{v}" {{
  name                = "vnet-{v}"
  location            = azurerm_resource_group.estate.location
  resource_group_name = azurerm_resource_group.estate.name
  address_space       = ["{hi}.{lo}.0.0/16"]
}}

resource "azurerm_subnet" "v{v}_gateway" {{
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.estate.name
  virtual_network_name = azurerm_virtual_network.v{v}.name
  address_prefixes     = [cidrsubnet("{hi}.{lo}.0.0/16", 11, 2047)]
}}

resource "azurerm_virtual_network_gateway" "v{v}" {{
  name                = "ergw-{v}"
  location            = azurerm_resource_group.estate.location
  resource_group_name = azurerm_resource_group.estate.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"
  ip_configuration {{
    name                          = "vnetGatewayConfig"
    private_ip_address_allocation = "Dynamic"
    subnet_id                     = azurerm_subnet.v{v}_gateway.id
  }}
}}

resource "azurerm_virtual_network_gateway_connection" "v{v}" {{
  name                       = "conn-{v}"
  location                   = azurerm_resource_group.estate.location
  resource_group_name        = azurerm_resource_group.estate.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.v{v}.id
  express_route_circuit_id   = azurerm_express_route_circuit.c{c}.id
  depends_on                 = [azurerm_express_route_circuit_peering.c{c}]
}}
"#
        );
    }
    out
}
