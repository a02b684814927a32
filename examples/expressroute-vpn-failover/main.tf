# ExpressRoute with a site-to-site VPN as failover
# (Azure Architecture Center: "Connect an on-premises network to Azure using ExpressRoute
# with VPN failover"). Both gateways share one /27 GatewaySubnet, as coexistence requires.

provider "azurerm" {
  features {}
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "vpn_shared_key" {
  description = "Pre-shared key of the IPsec tunnel to the on-premises VPN device."
  type        = string
  sensitive   = true
  default     = "ChangeMe-Failover-PSK-42"
}

variable "on_premises_prefixes" {
  type    = list(string)
  default = ["192.168.0.0/16"]
}

resource "azurerm_resource_group" "hybrid" {
  name     = "hybrid-rg"
  location = var.location
}

resource "azurerm_virtual_network" "hub" {
  name                = "hybrid-vnet"
  location            = azurerm_resource_group.hybrid.location
  resource_group_name = azurerm_resource_group.hybrid.name
  address_space       = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.hybrid.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.20.255.224/27"]
}

resource "azurerm_subnet" "workload" {
  name                 = "workload"
  resource_group_name  = azurerm_resource_group.hybrid.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.20.1.0/24"]
}

# --- ExpressRoute: the primary path -------------------------------------------------------

resource "azurerm_virtual_network_gateway" "er" {
  name                = "hybrid-ergw"
  location            = azurerm_resource_group.hybrid.location
  resource_group_name = azurerm_resource_group.hybrid.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    name                          = "vnetGatewayConfig"
    private_ip_address_allocation = "Dynamic"
    subnet_id                     = azurerm_subnet.gateway.id
  }
}

resource "azurerm_express_route_circuit" "primary" {
  name                  = "hybrid-erc"
  location              = azurerm_resource_group.hybrid.location
  resource_group_name   = azurerm_resource_group.hybrid.name
  service_provider_name = "Equinix"
  peering_location      = "Amsterdam"
  bandwidth_in_mbps     = 200

  sku {
    tier   = "Standard"
    family = "MeteredData"
  }
}

resource "azurerm_express_route_circuit_peering" "private" {
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.primary.name
  resource_group_name           = azurerm_resource_group.hybrid.name
  peer_asn                      = 65010
  primary_peer_address_prefix   = "192.168.100.0/30"
  secondary_peer_address_prefix = "192.168.100.4/30"
  vlan_id                       = 200
}

resource "azurerm_virtual_network_gateway_connection" "er" {
  name                       = "hybrid-er-connection"
  location                   = azurerm_resource_group.hybrid.location
  resource_group_name        = azurerm_resource_group.hybrid.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.er.id
  express_route_circuit_id   = azurerm_express_route_circuit.primary.id
  routing_weight             = 10
  depends_on                 = [azurerm_express_route_circuit_peering.private]
}

# --- Site-to-site VPN: the failover path ----------------------------------------------------

resource "azurerm_public_ip" "vpn" {
  name                = "hybrid-vpngw-pip"
  location            = azurerm_resource_group.hybrid.location
  resource_group_name = azurerm_resource_group.hybrid.name
  allocation_method   = "Static"
  sku                 = "Standard"
}

# Coexistence with ExpressRoute needs a route-based VPN gateway that is not Basic.
resource "azurerm_virtual_network_gateway" "vpn" {
  name                = "hybrid-vpngw"
  location            = azurerm_resource_group.hybrid.location
  resource_group_name = azurerm_resource_group.hybrid.name
  type                = "Vpn"
  vpn_type            = "RouteBased"
  sku                 = "VpnGw1"
  generation          = "Generation1"

  ip_configuration {
    name                          = "vnetGatewayConfig"
    private_ip_address_allocation = "Dynamic"
    subnet_id                     = azurerm_subnet.gateway.id
    public_ip_address_id          = azurerm_public_ip.vpn.id
  }
}

# The on-premises VPN device.
resource "azurerm_local_network_gateway" "onprem" {
  name                = "onprem-vpn-device"
  location            = azurerm_resource_group.hybrid.location
  resource_group_name = azurerm_resource_group.hybrid.name
  gateway_address     = "203.0.113.10"
  address_space       = var.on_premises_prefixes
}

resource "azurerm_virtual_network_gateway_connection" "vpn" {
  name                       = "hybrid-s2s-connection"
  location                   = azurerm_resource_group.hybrid.location
  resource_group_name        = azurerm_resource_group.hybrid.name
  type                       = "IPsec"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.vpn.id
  local_network_gateway_id   = azurerm_local_network_gateway.onprem.id
  shared_key                 = var.vpn_shared_key
  connection_protocol        = "IKEv2"
}

output "vpn_gateway_public_ip" {
  value = azurerm_public_ip.vpn.ip_address
}
