# A Premium circuit with Azure private peering and Microsoft peering (Microsoft 365,
# Dynamics and Azure public services over ExpressRoute).

provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "er" {
  name     = "msft-peering-rg"
  location = "westeurope"
}

resource "azurerm_express_route_circuit" "premium" {
  name                  = "premium-erc"
  location              = azurerm_resource_group.er.location
  resource_group_name   = azurerm_resource_group.er.name
  service_provider_name = "Equinix"
  peering_location      = "London"
  bandwidth_in_mbps     = 1000

  sku {
    tier   = "Premium"
    family = "UnlimitedData"
  }
}

resource "azurerm_express_route_circuit_peering" "private" {
  peering_type                  = "AzurePrivatePeering"
  express_route_circuit_name    = azurerm_express_route_circuit.premium.name
  resource_group_name           = azurerm_resource_group.er.name
  peer_asn                      = 65020
  primary_peer_address_prefix   = "10.255.0.0/30"
  secondary_peer_address_prefix = "10.255.0.4/30"
  vlan_id                       = 100
}

resource "azurerm_express_route_circuit_peering" "microsoft" {
  peering_type                  = "MicrosoftPeering"
  express_route_circuit_name    = azurerm_express_route_circuit.premium.name
  resource_group_name           = azurerm_resource_group.er.name
  peer_asn                      = 64999
  primary_peer_address_prefix   = "198.51.100.0/30"
  secondary_peer_address_prefix = "198.51.100.4/30"
  vlan_id                       = 300

  microsoft_peering_config {
    advertised_public_prefixes = ["198.51.100.128/27"]
    routing_registry_name      = "ARIN"
  }
}

resource "azurerm_express_route_circuit_authorization" "partner" {
  name                       = "partner-subscription"
  express_route_circuit_name = azurerm_express_route_circuit.premium.name
  resource_group_name        = azurerm_resource_group.er.name
}

output "partner_authorization_key" {
  value     = azurerm_express_route_circuit_authorization.partner.authorization_key
  sensitive = true
}
