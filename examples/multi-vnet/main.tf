# Several VNets in one geopolitical area (Europe), each with its own ExpressRoute gateway,
# linked to one Standard circuit in Amsterdam. A Standard circuit may only link VNets in its
# peering location's geopolitical region; a Premium circuit could link any region.

provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "net" {
  name     = "multi-vnet-rg"
  location = "westeurope"
}

resource "azurerm_express_route_circuit" "eu" {
  name                  = "eu-erc"
  location              = azurerm_resource_group.net.location
  resource_group_name   = azurerm_resource_group.net.name
  service_provider_name = "Equinix"
  peering_location      = "Amsterdam"
  bandwidth_in_mbps     = 500

  sku {
    tier   = "Standard"
    family = "MeteredData"
  }
}

resource "azurerm_express_route_circuit_peering" "private" {
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.eu.name
  resource_group_name           = azurerm_resource_group.net.name
  peer_asn                      = 65030
  primary_peer_address_prefix   = "192.168.30.0/30"
  secondary_peer_address_prefix = "192.168.30.4/30"
  vlan_id                       = 130
}

# --- West Europe ---------------------------------------------------------------------------

resource "azurerm_virtual_network" "westeurope" {
  name                = "vnet-westeurope"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.net.name
  address_space       = ["10.31.0.0/16"]
}

resource "azurerm_subnet" "westeurope_gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.net.name
  virtual_network_name = azurerm_virtual_network.westeurope.name
  address_prefixes     = ["10.31.255.224/27"]
}

resource "azurerm_virtual_network_gateway" "westeurope" {
  name                = "ergw-westeurope"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.net.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    subnet_id = azurerm_subnet.westeurope_gateway.id
  }
}

resource "azurerm_virtual_network_gateway_connection" "westeurope" {
  name                       = "er-westeurope"
  location                   = "westeurope"
  resource_group_name        = azurerm_resource_group.net.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.westeurope.id
  express_route_circuit_id   = azurerm_express_route_circuit.eu.id
  depends_on                 = [azurerm_express_route_circuit_peering.private]
}

# --- North Europe --------------------------------------------------------------------------

resource "azurerm_virtual_network" "northeurope" {
  name                = "vnet-northeurope"
  location            = "northeurope"
  resource_group_name = azurerm_resource_group.net.name
  address_space       = ["10.32.0.0/16"]
}

resource "azurerm_subnet" "northeurope_gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.net.name
  virtual_network_name = azurerm_virtual_network.northeurope.name
  address_prefixes     = ["10.32.255.224/27"]
}

resource "azurerm_virtual_network_gateway" "northeurope" {
  name                = "ergw-northeurope"
  location            = "northeurope"
  resource_group_name = azurerm_resource_group.net.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    subnet_id = azurerm_subnet.northeurope_gateway.id
  }
}

resource "azurerm_virtual_network_gateway_connection" "northeurope" {
  name                       = "er-northeurope"
  location                   = "northeurope"
  resource_group_name        = azurerm_resource_group.net.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.northeurope.id
  express_route_circuit_id   = azurerm_express_route_circuit.eu.id
  depends_on                 = [azurerm_express_route_circuit_peering.private]
}

# --- France Central ------------------------------------------------------------------------

resource "azurerm_virtual_network" "francecentral" {
  name                = "vnet-francecentral"
  location            = "francecentral"
  resource_group_name = azurerm_resource_group.net.name
  address_space       = ["10.33.0.0/16"]
}

resource "azurerm_subnet" "francecentral_gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.net.name
  virtual_network_name = azurerm_virtual_network.francecentral.name
  address_prefixes     = ["10.33.255.224/27"]
}

resource "azurerm_virtual_network_gateway" "francecentral" {
  name                = "ergw-francecentral"
  location            = "francecentral"
  resource_group_name = azurerm_resource_group.net.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {
    subnet_id = azurerm_subnet.francecentral_gateway.id
  }
}

resource "azurerm_virtual_network_gateway_connection" "francecentral" {
  name                       = "er-francecentral"
  location                   = "francecentral"
  resource_group_name        = azurerm_resource_group.net.name
  type                       = "ExpressRoute"
  virtual_network_gateway_id = azurerm_virtual_network_gateway.francecentral.id
  express_route_circuit_id   = azurerm_express_route_circuit.eu.id
  depends_on                 = [azurerm_express_route_circuit_peering.private]
}
