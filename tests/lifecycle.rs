//! `lifecycle`: prevent_destroy, ignore_changes, create_before_destroy, pre/postconditions.

mod common;

use common::{Emulator, Project};

fn config(tags: &str, lifecycle: &str, location: &str) -> String {
    format!(
        r#"
resource "azurerm_resource_group" "rg" {{
  name     = "rg-life"
  location = "{location}"
  tags     = {{ owner = "{tags}" }}

  lifecycle {{
{lifecycle}
  }}
}}
"#
    )
}

#[test]
fn ignore_changes_and_prevent_destroy() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        &config("a", "    ignore_changes = [tags]", "westeurope"),
    )]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    // A tags change is ignored.
    p.write(
        "main.tf",
        &config("b", "    ignore_changes = [tags]", "westeurope"),
    );
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    p.write(
        "main.tf",
        &config("b", "    ignore_changes = all", "westeurope"),
    );
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // prevent_destroy refuses a replacement and a destroy.
    p.write(
        "main.tf",
        &config("a", "    prevent_destroy = true", "northeurope"),
    );
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Instance cannot be destroyed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:7"), "{}", run.stderr);
    p.write(
        "main.tf",
        &config("a", "    prevent_destroy = true", "westeurope"),
    );
    let run = p.run(&emu, &["destroy", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("prevent_destroy"), "{}", run.stderr);
    assert!(emu.resources().iter().any(|id| id.ends_with("/rg-life")));
}

#[test]
fn preconditions_and_postconditions() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        &config(
            "a",
            r#"    precondition {
      condition     = startswith("rg-life", "rg-")
      error_message = "Resource group names start with rg-."
    }
    postcondition {
      condition     = self.location == "northeurope"
      error_message = "The hub lives in North Europe."
    }"#,
            "westeurope",
        ),
    )]);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("The hub lives in North Europe."),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("start with rg-"), "{}", run.stderr);

    let run = p.run_env(None, &["validate"], &[]).ok();
    assert!(run.stdout.contains("valid"), "{}", run.stdout);
}

#[test]
fn create_before_destroy_replaces_new_first_when_the_name_changes() {
    let emu = Emulator::start();
    let cfg = |name: &str| {
        format!(
            r#"
resource "azurerm_resource_group" "rg" {{
  name     = "rg-cbd"
  location = "westeurope"
}}

resource "azurerm_public_ip" "pip" {{
  name                = "{name}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"

  lifecycle {{
    create_before_destroy = true
  }}
}}
"#
        )
    };
    let p = Project::from_files(&[("main.tf", &cfg("pip-1"))]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    p.write("main.tf", &cfg("pip-2"));
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout.contains("create replacement and then destroy") || run.stdout.contains("+/-"),
        "{}",
        run.stdout
    );
    let ids = emu.resources();
    assert!(ids.iter().any(|id| id.ends_with("/pip-2")), "{ids:?}");
    assert!(!ids.iter().any(|id| id.ends_with("/pip-1")), "{ids:?}");
}

#[test]
fn terraform_data_is_built_in() {
    let emu = Emulator::start();
    let cfg = |rev: &str| {
        format!(
            r#"
variable "rev" {{
  default = "{rev}"
}}

resource "terraform_data" "first" {{
  input = {{ cidr = cidrsubnet("10.0.0.0/16", 8, 1) }}
}}

resource "terraform_data" "chain" {{
  count            = 3
  input            = "${{terraform_data.first.output.cidr}}-${{count.index}}"
  triggers_replace = [var.rev]
}}

output "last" {{
  value = terraform_data.chain[2].output
}}

output "first_id_known" {{
  value = length(terraform_data.first.id) > 0
}}
"#
        )
    };
    let p = Project::from_files(&[("main.tf", &cfg("1"))]);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout.contains("terraform_data.chain[2]"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("4 to add"), "{}", plan.stdout);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let state = p.state();
    assert_eq!(state["outputs"]["last"]["value"], "10.0.1.0/24-2");
    assert_eq!(state["outputs"]["first_id_known"]["value"], true);
    assert!(emu.resources().is_empty(), "no cloud calls");
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    p.write("main.tf", &cfg("2"));
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout.contains("3 added, 0 changed, 3 destroyed"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_blocks_warn_without_failing() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_virtual_network" "hub" {
  name                = "vnet-check"
  location            = "westeurope"
  resource_group_name = "rg-check"
  address_space       = ["10.80.0.0/16"]
}

check "address_plan" {
  assert {
    condition     = cidrnetmask(azurerm_virtual_network.hub.address_space[0]) == "255.255.255.0"
    error_message = "The hub should be a /24 in the address plan."
  }
  assert {
    condition     = azurerm_virtual_network.hub.location == "westeurope"
    error_message = "never shown"
  }
}
"#,
    )]);
    let run = p.run(&emu, &["plan"]).ok();
    assert!(
        run.stderr.contains("Check block assertion failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("The hub should be a /24"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("never shown"), "{}", run.stderr);
    p.run_env(None, &["validate"], &[]).ok();
}

#[test]
fn replace_triggered_by_replaces_when_the_reference_changes() {
    let emu = Emulator::start();
    let cfg = |rev: &str| {
        format!(
            r#"
resource "terraform_data" "revision" {{
  input = "{rev}"
}}

resource "azurerm_resource_group" "rg" {{
  name     = "rg-trig"
  location = "westeurope"

  lifecycle {{
    replace_triggered_by = [terraform_data.revision]
  }}
}}
"#
        )
    };
    let p = Project::from_files(&[("main.tf", &cfg("1"))]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    p.write("main.tf", &cfg("2"));
    let run = p.run(&emu, &["plan"]).ok();
    assert!(
        run.stdout
            .contains("azurerm_resource_group.rg must be replaced")
            || run.stdout.contains("-/+"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 to add, 1 to change, 1 to destroy"),
        "{}",
        run.stdout
    );
}

#[test]
fn conditions_read_other_resources_after_they_are_planned() {
    let emu = Emulator::start();
    // `a` sorts before `z` and nothing else orders them: only the condition's reference does.
    let cfg = |location: &str| {
        format!(
            r#"
resource "azurerm_resource_group" "a" {{
  name     = "rg-cond-a"
  location = "westeurope"

  lifecycle {{
    precondition {{
      condition     = azurerm_resource_group.z.location == "westeurope"
      error_message = "z must be in westeurope, not ${{azurerm_resource_group.z.location}}."
    }}
    postcondition {{
      condition     = self.location == azurerm_resource_group.z.location
      error_message = "a and z must share a region."
    }}
  }}
}}

resource "azurerm_resource_group" "z" {{
  name     = "rg-cond-z"
  location = "{location}"
}}
"#
        )
    };
    let p = Project::from_files(&[("main.tf", &cfg("northeurope"))]);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("Resource precondition failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("z must be in westeurope, not northeurope."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:8"), "{}", run.stderr);

    p.write("main.tf", &cfg("westeurope"));
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    // The reference is a dependency: recorded in state, so destroy orders it too.
    let state = p.state();
    let a = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "a")
        .expect("a in state")
        .clone();
    assert_eq!(
        a["instances"][0]["dependencies"],
        serde_json::json!(["azurerm_resource_group.z"]),
        "{a}"
    );
    let graph = p.run_env(None, &["graph"], &[]).ok();
    assert!(
        graph
            .stdout
            .contains("\"azurerm_resource_group.a\" -> \"azurerm_resource_group.z\""),
        "{}",
        graph.stdout
    );
}

#[test]
fn postconditions_are_checked_again_after_apply() {
    // `ip_address` is known only after apply: the plan cannot judge the postcondition, the
    // apply can. The object stays in state and what depends on it is skipped.
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg-post"
  location = "westeurope"
}

resource "azurerm_public_ip" "pip" {
  name                = "pip-post"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"

  lifecycle {
    postcondition {
      condition     = self.ip_address == "192.0.2.1"
      error_message = "The firewall allows only 192.0.2.1."
    }
  }
}

resource "terraform_data" "allow" {
  input = azurerm_public_ip.pip.ip_address
}
"#,
    )]);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(plan.stdout.contains("3 to add"), "{}", plan.stdout);
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("The firewall allows only 192.0.2.1."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:16"), "{}", run.stderr);
    let state = p.state();
    let names: Vec<&str> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"pip"), "the object is kept: {names:?}");
    assert!(
        !names.contains(&"allow"),
        "its dependent is skipped: {names:?}"
    );
}

#[test]
fn check_blocks_are_judged_again_after_apply() {
    // The public IP's address is unknown at plan, so the check cannot fail there; after apply
    // it is known and the failed assertion is a warning, not an error.
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg-check-apply"
  location = "westeurope"
}

resource "azurerm_public_ip" "pip" {
  name                = "pip-check"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
}

check "allow_list" {
  assert {
    condition     = azurerm_public_ip.pip.ip_address == "192.0.2.1"
    error_message = "The partner allow-list has only 192.0.2.1."
  }
}
"#,
    )]);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(!plan.stderr.contains("allow-list"), "{}", plan.stderr);
    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        apply.stderr.contains("Check block assertion failed")
            && apply
                .stderr
                .contains("The partner allow-list has only 192.0.2.1."),
        "{}",
        apply.stderr
    );
}
