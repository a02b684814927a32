//! `removed {}` blocks (Terraform 1.7+): forget objects without destroying them, or destroy
//! them explicitly; checked where they are written.

mod common;

use common::{Emulator, Project};

const RG: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg-removed"
  location = "westeurope"
}
"#;

const VNETS: &str = r#"
resource "azurerm_virtual_network" "old" {
  count               = 2
  name                = "vnet-old-${count.index}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.8${count.index}.0.0/16"]
}

resource "azurerm_virtual_network" "gone" {
  name                = "vnet-gone"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.89.0.0/16"]
}
"#;

const REMOVED: &str = r#"
removed {
  from = azurerm_virtual_network.old

  lifecycle {
    destroy = false
  }
}

removed {
  from = azurerm_virtual_network.gone
}
"#;

fn holds(emu: &Emulator, name: &str) -> bool {
    emu.resources()
        .iter()
        .any(|id| id.ends_with(&format!("/virtualNetworks/{name}")))
}

#[test]
fn removed_forgets_without_destroying_and_destroy_true_deletes() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", &format!("{RG}{VNETS}"))]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(holds(&emu, "vnet-old-0") && holds(&emu, "vnet-gone"));

    p.write("main.tf", &format!("{RG}{REMOVED}"));
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout.contains(
            "# azurerm_virtual_network.old[0] will no longer be managed by netform, but will not be destroyed"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("(destroy = false is set in the configuration)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# azurerm_virtual_network.gone will be destroyed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to destroy, 2 to forget."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr
            .contains("Some objects will no longer be managed by netform"),
        "{}",
        plan.stderr
    );

    // The JSON plan says "forget", as Terraform 1.7+ does; the Markdown lists it.
    let json = p.run(&emu, &["plan", "--json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json plan");
    let changes = doc["resource_changes"].as_array().expect("changes");
    let old0 = changes
        .iter()
        .find(|c| c["address"] == "azurerm_virtual_network.old[0]")
        .expect("old[0] in resource_changes");
    assert_eq!(old0["change"]["actions"], serde_json::json!(["forget"]));
    assert_eq!(old0["change"]["after"], serde_json::Value::Null);
    let gone = changes
        .iter()
        .find(|c| c["address"] == "azurerm_virtual_network.gone")
        .expect("gone in resource_changes");
    assert_eq!(gone["change"]["actions"], serde_json::json!(["delete"]));
    p.run(&emu, &["plan", "--out", "tfplan"]).ok();
    let md = p.run(&emu, &["show", "--markdown", "tfplan"]).ok();
    assert!(md.stdout.contains("2 to forget"), "{}", md.stdout);
    assert!(md.stdout.contains("Forget"), "{}", md.stdout);

    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed, 2 forgotten."),
        "{}",
        apply.stdout
    );
    let state = p.state().to_string();
    assert!(!state.contains("azurerm_virtual_network"), "{state}");
    // Forgotten objects stay in Azure; the destroyed one is gone.
    assert!(holds(&emu, "vnet-old-0") && holds(&emu, "vnet-old-1"));
    assert!(!holds(&emu, "vnet-gone"));

    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

#[test]
fn removed_module_forgets_everything_in_it() {
    let emu = Emulator::start();
    let module = r#"
variable "rg" {
  type = string
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = var.rg
  address_space       = ["10.90.0.0/16"]
}
"#;
    let p = Project::from_files(&[(
        "main.tf",
        &format!(
            "{RG}\nmodule \"hub\" {{\n  source = \"./modules/hub\"\n  rg     = azurerm_resource_group.rg.name\n}}\n"
        ),
    )]);
    std::fs::create_dir_all(p.path().join("modules/hub")).expect("mkdir");
    p.write("modules/hub/main.tf", module);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(holds(&emu, "vnet-hub"));

    p.write(
        "main.tf",
        &format!(
            "{RG}\nremoved {{\n  from = module.hub\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
        ),
    );
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout.contains(
            "# module.hub.azurerm_virtual_network.this will no longer be managed by netform"
        ),
        "{}",
        plan.stdout
    );
    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(apply.stdout.contains("1 forgotten"), "{}", apply.stdout);
    assert!(holds(&emu, "vnet-hub"));
    assert!(!p.state().to_string().contains("module.hub"));
}

#[test]
fn removed_blocks_are_checked_where_written() {
    let p = Project::from_files(&[(
        "main.tf",
        &format!(
            "{RG}{VNETS}\nremoved {{\n  from = azurerm_virtual_network.gone\n}}\n\nremoved {{\n  from = azurerm_virtual_network.x[0]\n}}\n\nremoved {{\n  from = azurerm_virtual_network.y\n  to   = azurerm_virtual_network.z\n  lifecycle {{\n    destroy = false\n    keep    = true\n  }}\n}}\n"
        ),
    )]);
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    let err = &run.stderr;
    assert!(err.contains("Removed resource block still exists"), "{err}");
    assert!(
        err.contains("azurerm_virtual_network.gone is still in the configuration"),
        "{err}"
    );
    // Each error points at the offending `from`.
    let line_of = |needle: &str| {
        let text = p.read("main.tf");
        text.lines().position(|l| l.contains(needle)).expect("line") + 1
    };
    assert!(
        err.contains(&format!(
            "main.tf:{}",
            line_of("from = azurerm_virtual_network.gone")
        )),
        "{err}"
    );
    assert!(err.contains("Resource instance keys not allowed"), "{err}");
    assert!(
        err.contains(&format!(
            "main.tf:{}",
            line_of("azurerm_virtual_network.x[0]")
        )),
        "{err}"
    );
    assert!(err.contains("Unsupported argument \"to\""), "{err}");
    assert!(err.contains("Unsupported argument \"keep\""), "{err}");
}
