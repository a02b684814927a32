//! `import {}` blocks adopt objects created outside netform: the plan compares them with the
//! configuration instead of creating them, apply records them, and afterwards they are managed.

mod common;

use common::{Emulator, Project, http_send};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

const CONFIG: &str = r#"
import {
  to = azurerm_resource_group.legacy
  id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/legacy-rg"
}

import {
  to = azurerm_virtual_network.legacy
  id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/legacy-rg/providers/Microsoft.Network/virtualNetworks/legacy-vnet"
}

resource "azurerm_resource_group" "legacy" {
  name     = "legacy-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "legacy" {
  name                = "legacy-vnet"
  location            = azurerm_resource_group.legacy.location
  resource_group_name = azurerm_resource_group.legacy.name
  address_space       = ["10.90.0.0/16"]
}
"#;

fn create_outside_netform(emu: &Emulator) {
    let (s, b) = http_send(
        "PUT",
        &format!(
            "{}{SUB}/resourcegroups/legacy-rg?api-version=2021-04-01",
            emu.url
        ),
        r#"{"location":"westeurope"}"#,
    );
    assert!(s == 200 || s == 201, "{s} {b}");
    let (s, b) = http_send(
        "PUT",
        &format!(
            "{}{SUB}/resourceGroups/legacy-rg/providers/Microsoft.Network/virtualNetworks/legacy-vnet?api-version=2024-05-01",
            emu.url
        ),
        r#"{"location":"westeurope","properties":{"addressSpace":{"addressPrefixes":["10.90.0.0/16"]}}}"#,
    );
    assert!(s == 200 || s == 201, "{s} {b}");
}

#[test]
fn import_blocks_adopt_existing_objects() {
    let emu = Emulator::start();
    create_outside_netform(&emu);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout
            .contains("azurerm_resource_group.legacy: Preparing import..."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("azurerm_virtual_network.legacy: Preparing import..."),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("will be created"),
        "imported objects are not created:\n{}",
        plan.stdout
    );
    assert!(!p.state_path().exists(), "plan writes no state");

    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(apply.stdout.contains("0 added"), "{}", apply.stdout);
    let state = p.state();
    let types: Vec<&str> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert_eq!(
        types,
        vec!["azurerm_resource_group", "azurerm_virtual_network"],
        "{state}"
    );

    // Now managed: the blocks are done, the next plan is clean, and changes apply in place.
    let again = p.run(&emu, &["plan"]).ok();
    assert!(
        !again.stdout.contains("Preparing import"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

#[test]
fn importing_a_missing_object_is_a_located_error() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("Cannot import non-existent remote object"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:2:"), "{}", run.stderr);
    assert!(emu.resources().is_empty());
}

#[test]
fn an_import_target_must_be_declared() {
    let p = Project::from_files(&[(
        "main.tf",
        "import {\n  to = azurerm_resource_group.ghost\n  id = \"/subscriptions/x/resourceGroups/ghost\"\n}\n",
    )]);
    let emu = Emulator::start();
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("Import target azurerm_resource_group.ghost is not in the configuration"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:2:8"), "{}", run.stderr);
}
