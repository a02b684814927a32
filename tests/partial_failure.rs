//! A resource Azure rejects at apply fails alone: its dependents are skipped, independent
//! branches finish, the exit code says it failed, and state holds exactly what was created.

mod common;

use common::{Emulator, Project, http_send};

const NETWORK: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.0.0.0/16"]
}
"#;

#[test]
fn a_rejected_resource_skips_its_dependents_and_the_rest_completes() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    // Someone creates a subnet outside netform; the plan cannot know that the new subnet
    // overlaps it, so Azure rejects it at apply with NetcfgSubnetRangesOverlap (R22).
    let (status, body) = http_send(
        "PUT",
        &format!(
            "{}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/manual?api-version=2024-05-01",
            emu.url
        ),
        r#"{"properties":{"addressPrefix":"10.0.2.0/24"}}"#,
    );
    assert!(status == 200 || status == 201, "{status} {body}");
    p.write(
        "main.tf",
        &(NETWORK.to_string()
            + r#"
resource "azurerm_subnet" "a" {
  name                 = "a"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.0.1.0/24"]
}

resource "azurerm_subnet" "overlapping" {
  name                 = "overlapping"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.0.2.0/25"]
}

resource "azurerm_public_ip" "needs_overlapping" {
  name                = "pip-${azurerm_subnet.overlapping.name}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
}

resource "azurerm_public_ip" "independent" {
  name                = "pip-independent"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
}
"#),
    );
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(
        run.code, 1,
        "apply must fail\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("NetcfgSubnetRangesOverlap"),
        "Azure's error code is shown:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("main.tf:"),
        "the failing resource is located:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(
            "azurerm_public_ip.needs_overlapping: Skipped because azurerm_subnet.overlapping failed"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("skipped: azurerm_public_ip.needs_overlapping"),
        "{}",
        run.stderr
    );
    let state = p.state();
    let mut in_state: Vec<String> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            format!(
                "{}.{}",
                r["type"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    in_state.sort();
    assert_eq!(
        in_state,
        vec![
            "azurerm_public_ip.independent",
            "azurerm_resource_group.rg",
            "azurerm_subnet.a",
            "azurerm_virtual_network.vnet"
        ]
    );
    // The next plan picks up exactly what is missing.
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}
