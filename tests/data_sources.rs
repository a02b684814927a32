//! Data sources read live objects during plan: a second project builds on a VNet another
//! project created, by name; a missing object is a located error.

mod common;

use common::{Emulator, Project};

const NETWORK: &str = r#"
resource "azurerm_resource_group" "hub" {
  name     = "shared-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "hub" {
  name                = "shared-vnet"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  address_space       = ["10.80.0.0/16"]
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.hub.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.80.255.224/27"]
}
"#;

const CONSUMER: &str = r#"
data "azurerm_resource_group" "hub" {
  name = "shared-rg"
}

data "azurerm_virtual_network" "hub" {
  name                = "shared-vnet"
  resource_group_name = data.azurerm_resource_group.hub.name
}

data "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  virtual_network_name = data.azurerm_virtual_network.hub.name
  resource_group_name  = data.azurerm_resource_group.hub.name
}

resource "azurerm_subnet" "app" {
  name                 = "app"
  resource_group_name  = data.azurerm_resource_group.hub.name
  virtual_network_name = data.azurerm_virtual_network.hub.name
  address_prefixes     = [cidrsubnet(data.azurerm_virtual_network.hub.address_space[0], 8, 10)]
}

output "hub_location" {
  value = data.azurerm_resource_group.hub.location
}

output "gateway_subnet_id" {
  value = data.azurerm_subnet.gateway.id
}
"#;

#[test]
fn a_project_builds_on_objects_another_project_created() {
    let emu = Emulator::start();
    Project::from_files(&[("main.tf", NETWORK)])
        .run(&emu, &["apply", "--auto-approve"])
        .ok();
    let consumer = Project::from_files(&[("main.tf", CONSUMER)]);
    let plan = consumer.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout.contains("\"10.80.10.0/24\""),
        "the prefix comes from the live VNet:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    consumer.run(&emu, &["apply", "--auto-approve"]).ok();
    let out = consumer.run(&emu, &["output", "hub_location"]).ok();
    assert_eq!(out.stdout.trim(), "westeurope");
    let id = consumer.run(&emu, &["output", "gateway_subnet_id"]).ok();
    assert!(
        id.stdout
            .trim()
            .ends_with("/virtualNetworks/shared-vnet/subnets/GatewaySubnet"),
        "{}",
        id.stdout
    );
    assert!(emu.resources().iter().any(|r| r.ends_with("/subnets/app")));
}

#[test]
fn a_missing_object_is_a_located_error() {
    let emu = Emulator::start();
    let consumer = Project::from_files(&[("main.tf", CONSUMER)]);
    let run = consumer.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("ResourceNotFound") && run.stderr.contains("\"shared-rg\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:2:"), "{}", run.stderr);
}
