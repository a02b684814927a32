variable "subscription_id" {
  description = "The Azure subscription to deploy into."
  type        = string
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "prefix" {
  description = "Prefix for every resource name."
  type        = string
  default     = "hub"
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "vnet_address_space" {
  type    = string
  default = "10.10.0.0/16"
}

variable "service_provider_name" {
  type    = string
  default = "Equinix"
}

variable "peering_location" {
  type    = string
  default = "Amsterdam"
}

variable "bandwidth_in_mbps" {
  type    = number
  default = 50
}

variable "on_premises_asn" {
  description = "The BGP ASN of the on-premises edge routers."
  type        = number
  default     = 65010
}
