//! Terraform's language as users write it: functions, expressions, variables, count and
//! for_each — through the real binary against the emulator.

mod common;

use common::{Emulator, Project};

const RG: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg-lang"
  location = "westeurope"
}
"#;

#[test]
fn functions_and_templates_plan_and_apply() {
    let emu = Emulator::start();
    let main = format!(
        "{RG}{}",
        r#"
locals {
  space   = "10.40.0.0/16"
  subnets = cidrsubnets(local.space, 8, 8)
  tags = merge(
    { env = "prod" },
    jsondecode(file("tags.json")),
  )
  motd = templatefile("${path.module}/motd.tpl", { names = ["hub", "spoke"] })
}

resource "azurerm_virtual_network" "hub" {
  name                = format("vnet-%s-%02d", lower("HUB"), 1)
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = [local.space]
  tags                = local.tags
}

resource "azurerm_subnet" "gw" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = [cidrsubnet(local.space, 11, 2047)]
}

output "subnets" {
  value = local.subnets
}

output "gateway_host" {
  value = cidrhost(azurerm_subnet.gw.address_prefixes[0], 4)
}

output "motd" {
  value = local.motd
}

output "digest" {
  value = substr(sha256(join(",", local.subnets)), 0, 8)
}

output "vnet_id_known" {
  value = can(regex("/virtualNetworks/vnet-hub-01$", azurerm_virtual_network.hub.id))
}
"#
    );
    let p = Project::from_files(&[
        ("main.tf", &main),
        ("tags.json", r#"{"owner": "netops"}"#),
        (
            "motd.tpl",
            "%{ for n in names ~}\nnetwork ${n}\n%{ endfor ~}\n",
        ),
    ]);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(plan.stdout.contains("vnet-hub-01"), "{}", plan.stdout);
    assert!(plan.stdout.contains("10.40.255.224/27"), "{}", plan.stdout);
    assert!(plan.stdout.contains("netops"), "{}", plan.stdout);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let state = p.state();
    let outputs = &state["outputs"];
    assert_eq!(
        outputs["subnets"]["value"],
        serde_json::json!(["10.40.0.0/24", "10.40.1.0/24"])
    );
    assert_eq!(outputs["gateway_host"]["value"], "10.40.255.228");
    assert_eq!(outputs["motd"]["value"], "network hub\nnetwork spoke\n");
    assert_eq!(outputs["vnet_id_known"]["value"], true);
    assert_eq!(
        outputs["digest"]["value"].as_str().map(str::len),
        Some(8),
        "{outputs}"
    );
    // Same inputs, no changes.
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

#[test]
fn function_errors_point_at_the_call() {
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_resource_group" "rg" {
  name     = cidrsubnet("10.0.0.0/30", 4, 0)
  location = fle("x")
}
"#,
    )]);
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("insufficient address space"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:3"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `file`?"),
        "{}",
        run.stderr
    );
}
