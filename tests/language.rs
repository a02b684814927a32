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

const REPEATED: &str = r#"
variable "spokes" {
  type = map(string)
  default = {
    hub = "10.50.1.0/24"
    dmz = "10.50.2.0/24"
  }
}

variable "pips" {
  type    = number
  default = 2
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-rep"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "vnet-rep"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.50.0.0/16"]
}

resource "azurerm_subnet" "spoke" {
  for_each             = var.spokes
  name                 = "snet-${each.key}"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = [each.value]
}

resource "azurerm_public_ip" "pip" {
  count               = var.pips
  name                = "pip-${count.index}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
}

output "subnet_names" {
  value = { for k, s in azurerm_subnet.spoke : k => s.name }
}

output "first_pip" {
  value = azurerm_public_ip.pip[0].name
}

output "pip_names" {
  value = azurerm_public_ip.pip[*].name
}
"#;

#[test]
fn count_and_for_each_make_addressed_instances() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", REPEATED)]);
    let plan = p.run(&emu, &["plan"]).ok();
    for addr in [
        "azurerm_subnet.spoke[\"hub\"]",
        "azurerm_subnet.spoke[\"dmz\"]",
        "azurerm_public_ip.pip[0]",
        "azurerm_public_ip.pip[1]",
    ] {
        assert!(
            plan.stdout.contains(addr),
            "{addr} missing:\n{}",
            plan.stdout
        );
    }
    assert!(plan.stdout.contains("6 to add"), "{}", plan.stdout);
    p.run(&emu, &["apply", "--auto-approve"]).ok();

    let state = p.state();
    let subnets = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["type"] == "azurerm_subnet"))
        .cloned()
        .expect("subnets in state");
    assert_eq!(subnets["each"], "map");
    let keys: Vec<&str> = subnets["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter_map(|i| i["index_key"].as_str())
        .collect();
    assert_eq!(keys, vec!["dmz", "hub"]);
    assert_eq!(
        state["outputs"]["subnet_names"]["value"],
        serde_json::json!({"dmz": "snet-dmz", "hub": "snet-hub"})
    );
    assert_eq!(state["outputs"]["first_pip"]["value"], "pip-0");
    assert_eq!(
        state["outputs"]["pip_names"]["value"],
        serde_json::json!(["pip-0", "pip-1"])
    );
    assert!(
        emu.resources()
            .iter()
            .any(|id| id.ends_with("/subnets/snet-dmz"))
    );

    // No changes on a second plan.
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // Dropping one key deletes just that instance; lowering count deletes the last index.
    let run = p
        .run(
            &emu,
            &[
                "apply",
                "--auto-approve",
                "--var",
                "spokes={ hub = \"10.50.1.0/24\" }",
                "--var",
                "pips=1",
            ],
        )
        .ok();
    assert!(
        run.stdout.contains("azurerm_subnet.spoke[\"dmz\"]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("azurerm_public_ip.pip[1]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 added, 0 changed, 2 destroyed"),
        "{}",
        run.stdout
    );
    let ids = emu.resources();
    assert!(
        !ids.iter().any(|id| id.ends_with("/subnets/snet-dmz")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|id| id.ends_with("/subnets/snet-hub")),
        "{ids:?}"
    );
    assert!(
        ids.iter()
            .any(|id| id.ends_with("/publicIPAddresses/pip-0")),
        "{ids:?}"
    );
}

#[test]
fn for_each_over_values_unknown_at_plan_is_an_error_that_says_so() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_resource_group" "rg" {
  for_each = toset([uuid()])
  name     = each.key
  location = "westeurope"
}

resource "azurerm_resource_group" "counted" {
  count    = length(timestamp())
  name     = "rg-${count.index}"
  location = "westeurope"
}
"#,
    )]);
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Invalid for_each argument"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Invalid count argument"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("known only after apply"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:3"), "{}", run.stderr);
}

#[test]
fn dynamic_blocks_generate_nested_blocks() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
variable "gateway_ip_configs" {
  default = { vnetGatewayConfig = "Dynamic" }
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-dyn"
  location = "westeurope"
}

resource "azurerm_virtual_network" "hub" {
  name                = "vnet-dyn"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.60.0.0/16"]
}

resource "azurerm_subnet" "gw" {
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.60.255.0/27"]
}

resource "azurerm_virtual_network_gateway" "er" {
  name                = "ergw-dyn"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  dynamic "ip_configuration" {
    for_each = var.gateway_ip_configs
    content {
      name                          = ip_configuration.key
      private_ip_address_allocation = ip_configuration.value
      subnet_id                     = azurerm_subnet.gw.id
    }
  }
}
"#,
    )]);
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(run.stdout.contains("vnetGatewayConfig"), "{}", run.stdout);
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // No elements: the required block is missing, and the error says which.
    let run = p.run(&emu, &["plan", "--var", "gateway_ip_configs={}"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("ip_configuration"), "{}", run.stderr);
}

#[test]
fn terraform_block_and_provider_aliases_are_accepted() {
    let emu = Emulator::start();
    let main = r#"
terraform {
  required_version = ">= 1.5"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

provider "azurerm" {
  alias = "secondary"
  features {}
}

resource "azurerm_resource_group" "dr" {
  provider = azurerm.secondary
  name     = "rg-dr"
  location = "northeurope"
}
"#;
    let p = Project::from_files(&[("main.tf", main)]);
    p.run_env(None, &["validate"], &[]).ok();
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    p.write(
        "main.tf",
        &main.replace("azurerm.secondary\n", "azurerm.secondry\n"),
    );
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("did you mean `azurerm.secondary`?"),
        "{}",
        run.stderr
    );
}

/// The RFC 3339 UTC shape `timestamp()` returns: `2026-11-23T12:34:56Z`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A random (version 4) UUID as `uuid()` returns it.
fn is_uuid_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
        && parts[2].starts_with('4')
}

#[test]
fn timestamp_and_uuid_are_known_after_apply() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
locals {
  stamped = timestamp()
}

resource "terraform_data" "stamp" {
  input = { at = local.stamped, id = uuid() }
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-time"
  location = "westeurope"
  tags     = { created = timestamp() }

  lifecycle {
    ignore_changes = [tags]
  }
}

resource "azurerm_resource_group" "each_time" {
  name     = "rg-time-2"
  location = "westeurope"
  tags     = { run = uuid() }
}
"#,
    )]);
    // Unknown when planning, and the plan is the same every time.
    let first = p.run(&emu, &["plan"]).ok();
    let second = p.run(&emu, &["plan"]).ok();
    assert_eq!(first.stdout, second.stdout);
    assert!(
        first.stdout.contains("(known after apply)"),
        "{}",
        first.stdout
    );
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let state = p.state();
    let attrs = |t: &str, n: &str| {
        state["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["type"] == t && r["name"] == n)
            .map(|r| r["instances"][0]["attributes"].clone())
            .expect("resource in state")
    };
    let stamp = attrs("terraform_data", "stamp");
    let at = stamp["input"]["at"].as_str().unwrap_or_default();
    assert!(is_rfc3339(at), "{stamp}");
    assert!(
        is_uuid_v4(stamp["input"]["id"].as_str().unwrap_or_default()),
        "{stamp}"
    );
    assert_eq!(stamp["output"], stamp["input"]);
    // Azure received real values, not null.
    let rg = attrs("azurerm_resource_group", "rg");
    assert!(
        is_rfc3339(rg["tags"]["created"].as_str().unwrap_or_default()),
        "{rg}"
    );
    let rg2 = attrs("azurerm_resource_group", "each_time");
    let run_id = rg2["tags"]["run"].as_str().unwrap_or_default().to_string();
    assert!(is_uuid_v4(&run_id), "{rg2}");
    // As in Terraform, the next plan changes them again, unless ignore_changes says not to.
    let next = p.run(&emu, &["plan"]).ok();
    assert!(
        next.stdout
            .contains("# terraform_data.stamp will be updated in-place"),
        "{}",
        next.stdout
    );
    assert!(
        next.stdout
            .contains("# azurerm_resource_group.each_time will be updated in-place"),
        "{}",
        next.stdout
    );
    assert!(
        !next.stdout.contains("azurerm_resource_group.rg will"),
        "{}",
        next.stdout
    );
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let state = p.state();
    let again = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "each_time")
        .map(|r| r["instances"][0]["attributes"]["tags"]["run"].clone())
        .expect("each_time");
    assert_ne!(
        again.as_str(),
        Some(run_id.as_str()),
        "a new uuid per apply"
    );
}

const SECRET: &str = "hunter2-xyz";

#[test]
fn sensitivity_flows_through_locals_and_never_prints() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
variable "admin_secret" {
  type      = string
  sensitive = true
}

locals {
  owner  = "owner-${var.admin_secret}"
  loud   = upper(local.owner)
  marked = sensitive("not-a-secret-but-marked")
  length = nonsensitive(length(local.loud))
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-sens"
  location = "westeurope"
  tags     = { owner = local.loud, env = "prod" }
}

resource "azurerm_resource_group" "marked" {
  name     = "rg-sens-2"
  location = "westeurope"
  tags     = { note = local.marked }
}

resource "terraform_data" "copy" {
  input = local.owner
}

output "owner" {
  value     = local.loud
  sensitive = true
}

output "owner_length" {
  value = local.length
}
"#,
    )]);
    let var = format!("admin_secret={SECRET}");
    let leaks = |text: &str| {
        text.contains(SECRET)
            || text.contains(&SECRET.to_uppercase())
            || text.contains("not-a-secret-but-marked")
    };
    let plan = p
        .run(&emu, &["plan", "--var", &var, "--out", "tfplan"])
        .ok();
    assert!(
        !leaks(&plan.stdout) && !leaks(&plan.stderr),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tags     = (sensitive value)"),
        "{}",
        plan.stdout
    );
    let json = p.run(&emu, &["show", "--json", "tfplan"]).ok();
    assert!(
        !leaks(&json.stdout) && !leaks(&json.stderr),
        "{}",
        json.stdout
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let change = |addr: &str| {
        doc["resource_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["address"] == addr)
            .map(|c| c["change"].clone())
            .expect("change")
    };
    let rg = change("azurerm_resource_group.rg");
    assert_eq!(rg["after"]["tags"], serde_json::Value::Null, "{rg}");
    assert_eq!(rg["after_sensitive"]["tags"], true, "{rg}");
    assert_eq!(rg["after"]["name"], "rg-sens", "{rg}");
    let marked = change("azurerm_resource_group.marked");
    assert_eq!(marked["after_sensitive"]["tags"], true, "{marked}");
    let copy = change("terraform_data.copy");
    assert_eq!(copy["after"]["input"], serde_json::Value::Null, "{copy}");
    assert_eq!(copy["after_sensitive"]["input"], true, "{copy}");
    let json_plan = p.run(&emu, &["plan", "--json", "--var", &var]).ok();
    assert!(!leaks(&json_plan.stdout), "{}", json_plan.stdout);

    let apply = p
        .run(&emu, &["apply", "--auto-approve", "--var", &var])
        .ok();
    assert!(
        !leaks(&apply.stdout) && !leaks(&apply.stderr),
        "{}",
        apply.stdout
    );
    assert_eq!(p.state()["outputs"]["owner_length"]["value"], 17);
    // State records what came from sensitive values, so reading state back never shows them.
    let state = p.state();
    let rg_state = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "rg")
        .expect("rg")
        .clone();
    assert!(
        rg_state["instances"][0]["sensitive_attributes"]
            .as_array()
            .expect("paths")
            .contains(&serde_json::json!([{"type": "get_attr", "value": "tags"}])),
        "{rg_state}"
    );
    for args in [
        &["show"][..],
        &["state", "show", "azurerm_resource_group.rg"],
        &["state", "show", "terraform_data.copy"],
    ] {
        let out = p.run(&emu, args).ok();
        assert!(
            !leaks(&out.stdout) && !leaks(&out.stderr),
            "{args:?}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("(sensitive value)"),
            "{args:?}: {}",
            out.stdout
        );
    }

    // An output that shows the local without saying so is refused, pointing at it.
    p.write("leak.tf", "output \"leak\" {\n  value = local.owner\n}\n");
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Output refers to sensitive values"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("leak.tf:1"), "{}", run.stderr);
}

#[test]
fn timestamp_passed_into_a_module_is_known_after_apply() {
    let p = Project::from_files(&[(
        "main.tf",
        r#"
module "stamped" {
  source = "./modules/stamped"
  at     = timestamp()
}
"#,
    )]);
    std::fs::create_dir_all(p.path().join("modules/stamped")).expect("mkdir");
    p.write(
        "modules/stamped/main.tf",
        r#"
variable "at" {
  type = string
}

resource "terraform_data" "this" {
  input = var.at
}
"#,
    );
    p.run_env(None, &["apply", "--auto-approve"], &[]).ok();
    let state = p.state();
    let input = state["resources"][0]["instances"][0]["attributes"]["input"].clone();
    let text = input
        .as_str()
        .unwrap_or_else(|| panic!("a string: {input}"));
    assert!(
        text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T',
        "RFC 3339: {text}"
    );
}
