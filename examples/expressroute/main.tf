# Connect an on-premises network to Azure using ExpressRoute
# (the Azure Architecture Center reference architecture), with azurerm resource types.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0"
    }
  }
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

resource "azurerm_resource_group" "hub" {
  name     = "${var.prefix}-rg"
  location = var.location
}

resource "azurerm_virtual_network" "hub" {
  name                = "${var.prefix}-vnet"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  address_space       = [var.vnet_address_space]
}

# The gateway subnet must be named GatewaySubnet; /27 leaves room for a VPN gateway later.
resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.hub.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = [cidrsubnet(var.vnet_address_space, 11, 2047)]
}

resource "azurerm_subnet" "workload" {
  name                 = "workload"
  resource_group_name  = azurerm_resource_group.hub.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = [cidrsubnet(var.vnet_address_space, 8, 1)]
}

resource "azurerm_virtual_network_gateway" "er" {
  name                = "${var.prefix}-ergw"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    name                          = "vnetGatewayConfig"
    private_ip_address_allocation = "Dynamic"
    subnet_id                     = azurerm_subnet.gateway.id
  }
}

resource "azurerm_express_route_circuit" "er" {
  name                  = "${var.prefix}-erc"
  location              = azurerm_resource_group.hub.location
  resource_group_name   = azurerm_resource_group.hub.name
  service_provider_name = var.service_provider_name
  peering_location      = var.peering_location
  bandwidth_in_mbps     = var.bandwidth_in_mbps

  sku {
    tier   = "Standard"
    family = "MeteredData"
  }
}

resource "azurerm_express_route_circuit_peering" "private" {
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.er.name
  resource_group_name           = azurerm_resource_group.hub.name
  peer_asn                      = var.on_premises_asn
  primary_peer_address_prefix   = "192.168.10.0/30"
  secondary_peer_address_prefix = "192.168.10.4/30"
  vlan_id                       = 100
}

resource "azurerm_virtual_network_gateway_connection" "er" {
  name                       = "${var.prefix}-er-connection"
  location                   = azurerm_resource_group.hub.location
  resource_group_name        = azurerm_resource_group.hub.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.er.id
  express_route_circuit_id   = azurerm_express_route_circuit.er.id
  routing_weight             = 10

  # The connection needs the circuit's private peering in place first.
  depends_on = [azurerm_express_route_circuit_peering.private]
}
