//! Refresh lists collections instead of reading each object: a resource group's public IPs
//! and a VNet's subnets come back in one request per page, through the real binary against
//! the emulator over HTTP. What a listing does not show is still read by id, so objects
//! deleted or changed outside netform are found as before.

mod common;

use common::{Emulator, Project, admin_resource_url, http_send};

const RG_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/listing-rg";

fn project() -> String {
    let mut hcl = String::from(
        r#"resource "azurerm_resource_group" "rg" {
  name     = "listing-rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "listing-vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.40.0.0/16"]
}
"#,
    );
    for i in 0..12 {
        hcl.push_str(&format!(
            r#"
resource "azurerm_public_ip" "p{i}" {{
  name                = "pip-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
}}
"#
        ));
    }
    for i in 0..9 {
        hcl.push_str(&format!(
            r#"
resource "azurerm_subnet" "s{i}" {{
  name                 = "subnet-{i}"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.40.{i}.0/24"]
}}
"#
        ));
    }
    hcl
}

fn gets(emu: &Emulator) -> u64 {
    emu.get("/_emulator/stats")["requests"]["GET"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn refresh_lists_collections_and_still_sees_drift_and_deletions() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", &project())]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();

    // 23 objects; read one by one that is 23 GETs. Listed: the resource group and the VNet
    // (too few of their kind to list), one page of public IPs, one page of subnets.
    let before = gets(&emu);
    let run = p.run(&emu, &["plan"]).ok();
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    let used = gets(&emu) - before;
    assert!(used <= 4, "refresh of 23 objects took {used} GETs");

    // Outside netform: a tag on one public IP, another deleted, a subnet deleted.
    let pip3 = format!("{RG_ID}/providers/Microsoft.Network/publicIPAddresses/pip-3");
    let mut body = emu.get(&format!("{pip3}?api-version=2024-05-01"));
    body["tags"] = serde_json::json!({"owner": "someone-else"});
    let (status, text) = http_send("PUT", &admin_resource_url(&emu, &pip3), &body.to_string());
    assert!((200..300).contains(&status), "admin PUT {status}: {text}");
    for id in [
        format!("{RG_ID}/providers/Microsoft.Network/publicIPAddresses/pip-7"),
        format!(
            "{RG_ID}/providers/Microsoft.Network/virtualNetworks/listing-vnet/subnets/subnet-4"
        ),
    ] {
        let (status, text) = http_send(
            "DELETE",
            &format!("{}{id}?api-version=2024-05-01", emu.url),
            "",
        );
        assert!((200..300).contains(&status), "DELETE {status}: {text}");
    }
    // Wait for the deletes (the emulator's operations take a moment).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while emu
        .resources()
        .iter()
        .any(|r| r.ends_with("/pip-7") || r.ends_with("/subnet-4"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "deletes never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("azurerm_public_ip.p3") && out.contains("someone-else"),
        "the changed tag is drift: {out}"
    );
    assert!(
        out.contains("azurerm_public_ip.p7 will be created"),
        "the deleted IP is planned again: {out}"
    );
    assert!(
        out.contains("azurerm_subnet.s4 will be created"),
        "the deleted subnet is planned again: {out}"
    );
    assert!(out.contains("2 to add, 1 to change, 0 to destroy"), "{out}");
}
