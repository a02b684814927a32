output "circuit_id" {
  value = azurerm_express_route_circuit.er.id
}

output "service_key" {
  description = "Give this to the connectivity provider so they provision the circuit."
  value       = azurerm_express_route_circuit.er.service_key
  sensitive   = true
}

output "gateway_subnet_prefix" {
  value = azurerm_subnet.gateway.address_prefixes[0]
}
