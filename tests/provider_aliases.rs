//! Provider configurations with aliases: each resource goes to the subscription of the
//! configuration it names (`provider = azurerm.ALIAS`, or a module call's
//! `providers = { azurerm = azurerm.ALIAS }`), state records which, and refresh, data
//! sources (also inside modules, per module instance) and destroy use the same one.

mod common;

use common::{Emulator, Project};

const LANDING: &str = "11111111-1111-1111-1111-111111111111";
const CONNECTIVITY: &str = "22222222-2222-2222-2222-222222222222";

/// What the connectivity team already runs, in its own subscription.
const HUB: &str = r#"
provider "azurerm" {
  features {}
  subscription_id = "22222222-2222-2222-2222-222222222222"
}

resource "azurerm_resource_group" "hub" {
  name     = "hub-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "hub" {
  name                = "hub-vnet"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  address_space       = ["10.90.0.0/16"]
}
"#;

const MAIN: &str = r#"
provider "azurerm" {
  features {}
  subscription_id = "11111111-1111-1111-1111-111111111111"
}

provider "azurerm" {
  alias           = "connectivity"
  features {}
  subscription_id = "22222222-2222-2222-2222-222222222222"
}

resource "azurerm_resource_group" "landing" {
  name     = "landing-rg"
  location = "westeurope"
}

resource "azurerm_public_ip" "shared" {
  provider            = azurerm.connectivity
  name                = "shared-pip"
  location            = "westeurope"
  resource_group_name = "hub-rg"
  allocation_method   = "Static"
  sku                 = "Standard"
}

module "spoke" {
  source   = "./modules/spoke"
  for_each = { app = 1, data = 2 }

  providers = {
    azurerm = azurerm.connectivity
  }

  name  = each.key
  index = each.value
}

output "subnet_ids" {
  value = { for k, m in module.spoke : k => m.subnet_id }
}
"#;

const SPOKE: &str = r#"
variable "name" {
  type = string
}

variable "index" {
  type = number
}

data "azurerm_virtual_network" "hub" {
  name                = "hub-vnet"
  resource_group_name = "hub-rg"
}

resource "azurerm_subnet" "this" {
  name                 = var.name
  resource_group_name  = "hub-rg"
  virtual_network_name = data.azurerm_virtual_network.hub.name
  address_prefixes     = [cidrsubnet(data.azurerm_virtual_network.hub.address_space[0], 8, var.index)]
}

output "subnet_id" {
  value = azurerm_subnet.this.id
}
"#;

#[test]
fn aliased_configurations_route_to_their_subscriptions() {
    let emu = Emulator::start();
    Project::from_files(&[("main.tf", HUB)])
        .run(&emu, &["apply", "--auto-approve"])
        .ok();

    let p = Project::from_files(&[("main.tf", MAIN)]);
    std::fs::create_dir_all(p.path().join("modules/spoke")).expect("mkdir");
    p.write("modules/spoke/main.tf", SPOKE);

    let plan = p.run(&emu, &["plan"]).ok();
    // The data source inside each module instance read the hub VNet through the alias.
    assert!(
        plan.stdout.contains("\"10.90.1.0/24\"") && plan.stdout.contains("\"10.90.2.0/24\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "/subscriptions/{CONNECTIVITY}/resourceGroups/hub-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet/subnets/app"
        )),
        "ids are planned in the alias's subscription:\n{}",
        plan.stdout
    );
    p.run(&emu, &["apply", "--auto-approve"]).ok();

    let ids = emu.resources();
    let has = |suffix: &str| ids.iter().any(|i| i.eq_ignore_ascii_case(suffix));
    assert!(
        has(&format!(
            "/subscriptions/{LANDING}/resourceGroups/landing-rg"
        )),
        "{ids:#?}"
    );
    assert!(
        has(&format!(
            "/subscriptions/{CONNECTIVITY}/resourceGroups/hub-rg/providers/Microsoft.Network/publicIPAddresses/shared-pip"
        )),
        "{ids:#?}"
    );
    assert!(
        has(&format!(
            "/subscriptions/{CONNECTIVITY}/resourceGroups/hub-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet/subnets/data"
        )),
        "{ids:#?}"
    );
    assert!(
        !ids.iter()
            .any(|i| i.contains(LANDING) && i.contains("hub-rg")),
        "nothing of the hub lands in the landing subscription: {ids:#?}"
    );

    // State says which configuration each object belongs to, as Terraform writes it.
    let state = p.state();
    let provider_of = |module: Option<&str>, name: &str| -> String {
        state["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == name && r["module"].as_str() == module)
            .map(|r| r["provider"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{name} in state"))
    };
    assert_eq!(
        provider_of(None, "landing"),
        "provider[\"registry.terraform.io/hashicorp/azurerm\"]"
    );
    assert_eq!(
        provider_of(None, "shared"),
        "provider[\"registry.terraform.io/hashicorp/azurerm\"].connectivity"
    );
    assert_eq!(
        provider_of(Some("module.spoke[\"app\"]"), "this"),
        "provider[\"registry.terraform.io/hashicorp/azurerm\"].connectivity"
    );

    // Refresh reads each object where it lives: nothing to change.
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // Destroy deletes in the right subscriptions; the hub project's objects remain.
    p.run(&emu, &["destroy", "--auto-approve"]).ok();
    let left = emu.resources();
    assert!(
        !left.iter().any(|i| i.contains("landing-rg")
            || i.contains("shared-pip")
            || i.contains("/subnets/")),
        "{left:#?}"
    );
    assert!(left.iter().any(|i| i.contains("hub-vnet")), "{left:#?}");
}

#[test]
fn a_module_provider_mapping_to_an_undeclared_alias_is_located() {
    let p = Project::from_files(&[(
        "main.tf",
        r#"
provider "azurerm" {
  features {}
}

provider "azurerm" {
  alias = "connectivity"
  features {}
}

module "spoke" {
  source = "./modules/spoke"
  providers = {
    azurerm = azurerm.conectivity
  }
  name  = "app"
  index = 1
}
"#,
    )]);
    std::fs::create_dir_all(p.path().join("modules/spoke")).expect("mkdir");
    p.write("modules/spoke/main.tf", SPOKE);
    let out = p.run_env(None, &["validate"], &[]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stderr.contains("azurerm.conectivity")
            && out.stderr.contains("main.tf:14")
            && out.stderr.contains("did you mean `azurerm.connectivity`?"),
        "{}",
        out.stderr
    );
}
