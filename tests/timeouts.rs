//! `timeouts {}` blocks override azurerm's operation timeouts; bad durations are diagnostics.

mod common;

use common::{Emulator, Project};

fn config(timeouts: &str) -> String {
    format!(
        r#"
resource "azurerm_resource_group" "rg" {{
  name     = "to-rg"
  location = "westeurope"
}}

resource "azurerm_virtual_network" "vnet" {{
  name                = "to-vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.70.0.0/16"]
}}

resource "azurerm_subnet" "gateway" {{
  name                 = "GatewaySubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.70.255.224/27"]
}}

resource "azurerm_virtual_network_gateway" "er" {{
  name                = "to-ergw"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  type                = "ExpressRoute"
  sku                 = "ErGw1AZ"

  ip_configuration {{
    subnet_id = azurerm_subnet.gateway.id
  }}

  timeouts {{
{timeouts}
  }}
}}
"#
    )
}

#[test]
fn a_create_timeout_shorter_than_the_operation_fails_it() {
    // A gateway takes 45 min / 600 = 4.5 s here; allow it one second.
    let emu = Emulator::start_with(&["--time-scale", "600"]);
    let p = Project::from_files(&[("main.tf", &config("    create = \"1s\""))]);
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("timed out")
            || run.stderr.to_lowercase().contains("timeout"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("azurerm_subnet.gateway: Creation complete"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_generous_timeout_lets_it_finish() {
    let emu = Emulator::start_with(&["--time-scale", "0"]);
    let p = Project::from_files(&[(
        "main.tf",
        &config("    create = \"2h\"\n    delete = \"3h\""),
    )]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
}

#[test]
fn a_malformed_duration_is_a_located_diagnostic() {
    let p = Project::from_files(&[(
        "main.tf",
        &config("    create = \"ninety minutes\"\n    craete = \"1h\""),
    )]);
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Invalid duration \"ninety minutes\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:33:14"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `create`"),
        "{}",
        run.stderr
    );
}
