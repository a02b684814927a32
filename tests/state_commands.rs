//! `netform state list | show | mv | rm | pull | push`, and state writes that survive
//! SIGKILL at any moment — through the real binary.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, Emulator, Project};

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

fn applied() -> (Emulator, Project) {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    (emu, p)
}

#[test]
fn list_show_and_pull() {
    let (emu, p) = applied();
    let list = p.run(&emu, &["state", "list"]).ok();
    assert_eq!(
        list.stdout.lines().collect::<Vec<_>>(),
        vec!["azurerm_resource_group.rg", "azurerm_virtual_network.vnet"]
    );
    let none = p.run(&emu, &["state", "list", "azurerm_subnet"]).ok();
    assert_eq!(none.stdout.trim(), "");
    let only = p
        .run(&emu, &["state", "list", "azurerm_virtual_network.vnet"])
        .ok();
    assert_eq!(only.stdout.trim(), "azurerm_virtual_network.vnet");
    let show = p
        .run(&emu, &["state", "show", "azurerm_virtual_network.vnet"])
        .ok();
    assert!(
        show.stdout
            .contains("resource \"azurerm_virtual_network\" \"vnet\""),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("10.0.0.0/16"));
    let missing = p.run(&emu, &["state", "show", "azurerm_subnet.nope"]);
    assert_eq!(missing.code, 1);
    let pulled: serde_json::Value =
        serde_json::from_str(&p.run(&emu, &["state", "pull"]).ok().stdout).expect("json");
    assert_eq!(pulled, p.state());
}

#[test]
fn mv_follows_a_rename_in_the_configuration() {
    let (emu, p) = applied();
    p.write(
        "main.tf",
        &NETWORK.replace("\"vnet\" {", "\"hub\" {").replace(
            "azurerm_virtual_network.vnet",
            "azurerm_virtual_network.hub",
        ),
    );
    // Without the move, the rename would destroy and recreate the network.
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(plan.stdout.contains("1 to add"), "{}", plan.stdout);
    let dry = p
        .run(
            &emu,
            &[
                "state",
                "mv",
                "--dry-run",
                "azurerm_virtual_network.vnet",
                "azurerm_virtual_network.hub",
            ],
        )
        .ok();
    assert!(dry.stdout.contains("Would move"), "{}", dry.stdout);
    let serial = p.state()["serial"].as_u64().expect("serial");
    p.run(
        &emu,
        &[
            "state",
            "mv",
            "azurerm_virtual_network.vnet",
            "azurerm_virtual_network.hub",
        ],
    )
    .ok();
    assert!(p.state()["serial"].as_u64().expect("serial") > serial);
    let plan = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    // Types must match; the destination must be free.
    let bad = p.run(
        &emu,
        &[
            "state",
            "mv",
            "azurerm_virtual_network.hub",
            "azurerm_subnet.hub",
        ],
    );
    assert_eq!(bad.code, 1);
    let taken = p.run(
        &emu,
        &[
            "state",
            "mv",
            "azurerm_resource_group.rg",
            "azurerm_resource_group.rg",
        ],
    );
    assert_eq!(taken.code, 1);
}

#[test]
fn rm_forgets_without_destroying() {
    let (emu, p) = applied();
    let before = emu.resources().len();
    p.run(&emu, &["state", "rm", "azurerm_virtual_network.vnet"])
        .ok();
    assert_eq!(emu.resources().len(), before, "still in Azure");
    let list = p.run(&emu, &["state", "list"]).ok();
    assert_eq!(list.stdout.trim(), "azurerm_resource_group.rg");
    assert!(p.path().join("netform.tfstate.backup").exists());
}

#[test]
fn push_checks_lineage_and_serial_unless_forced() {
    let (emu, p) = applied();
    let current = p.state();
    // An older copy of the same state is refused.
    let mut older = current.clone();
    older["serial"] = serde_json::json!(0);
    p.write("older.json", &older.to_string());
    let run = p.run(&emu, &["state", "push", "older.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("newer"), "{}", run.stderr);
    // Another project's state is refused.
    let mut foreign = current.clone();
    foreign["lineage"] = serde_json::json!("another-lineage");
    foreign["serial"] = serde_json::json!(1000);
    p.write("foreign.json", &foreign.to_string());
    let run = p.run(&emu, &["state", "push", "foreign.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("lineage"), "{}", run.stderr);
    assert_eq!(p.state(), current, "nothing pushed");
    // Not JSON state: refused.
    p.write("junk.json", "{\"version\": 4,");
    assert_eq!(p.run(&emu, &["state", "push", "junk.json"]).code, 1);
    // --force overrides; the serial never goes backwards.
    p.run(&emu, &["state", "push", "--force", "older.json"])
        .ok();
    assert!(
        p.state()["serial"].as_u64() > current["serial"].as_u64(),
        "{}",
        p.state()
    );
}

/// Push a large state again and again, killing the writer with SIGKILL at random moments:
/// the file is always complete (the previous or the new version), never half-written.
#[test]
fn state_writes_survive_sigkill_at_any_moment() {
    let (emu, p) = applied();
    let mut big = p.state();
    let template = big["resources"][0].clone();
    let resources = big["resources"].as_array_mut().expect("resources");
    for i in 0..4000 {
        let mut r = template.clone();
        r["name"] = serde_json::json!(format!("filler{i:05}"));
        r["instances"][0]["attributes"]["padding"] = serde_json::json!("x".repeat(200));
        resources.push(r);
    }
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut seed = 0x2545_f491_u64;
    let mut kills_mid_run = 0;
    for round in 0..30u64 {
        big["serial"] = serde_json::json!(1000 + round);
        p.write("big.json", &big.to_string());
        let mut child = Command::new(BIN)
            .arg("--chdir")
            .arg(p.path())
            .args(["state", "push", "--force", "big.json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 60_000));
        if child.try_wait().expect("wait").is_none() {
            kills_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(p.state_path()).expect("state exists");
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("round {round}: state does not parse ({e})"));
        assert_eq!(v["version"], 4);
    }
    assert!(kills_mid_run > 0, "some kills landed while writing");
    let _ = emu;
}
