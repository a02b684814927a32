//! Bad input gets a diagnostic that points at the file and line, a non-zero exit, and the
//! state is left exactly as it was.

mod common;

use common::{Emulator, Project};

const BASE: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}
"#;

fn assert_state_untouched(p: &Project, before: &str) {
    assert_eq!(p.read("netform.tfstate"), before, "state changed");
}

/// Apply BASE so a state file exists, then swap in the broken configuration.
fn project_with_state(emu: &Emulator) -> (Project, String) {
    let p = Project::from_files(&[("main.tf", BASE)]);
    p.run(emu, &["apply", "--auto-approve"]).ok();
    let before = p.read("netform.tfstate");
    assert!(!before.is_empty());
    (p, before)
}

#[test]
fn a_cycle_names_every_member_with_its_location() {
    let emu = Emulator::start();
    let (p, before) = project_with_state(&emu);
    p.write(
        "main.tf",
        &format!(
            "{BASE}{}",
            r#"
resource "azurerm_virtual_network" "a" {
  name                = "a-${azurerm_subnet.b.name}"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "b" {
  name                 = "b"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.a.name
  address_prefixes     = ["10.0.1.0/24"]
}
"#
        ),
    );
    for cmd in [&["plan"][..], &["apply", "--auto-approve"], &["validate"]] {
        let run = p.run(&emu, cmd);
        assert_ne!(run.code, 0, "{cmd:?} must fail");
        assert!(run.stderr.contains("Cycle:"), "{}", run.stderr);
        assert!(
            run.stderr.contains("azurerm_subnet.b")
                && run.stderr.contains("azurerm_virtual_network.a"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("azurerm_virtual_network.a at main.tf:7:1")
                && run.stderr.contains("azurerm_subnet.b at main.tf:14:1"),
            "both members located:\n{}",
            run.stderr
        );
    }
    assert_state_untouched(&p, &before);
}

#[test]
fn a_reference_to_an_undeclared_resource_points_at_it() {
    let emu = Emulator::start();
    let (p, before) = project_with_state(&emu);
    p.write(
        "main.tf",
        &format!(
            "{BASE}{}",
            r#"
resource "azurerm_virtual_network" "a" {
  name                = "a"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.hub.name
  address_space       = ["10.0.0.0/16"]
}
"#
        ),
    );
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("Reference to undeclared resource \"azurerm_resource_group.hub\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:10:25"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("did you mean `azurerm_resource_group.rg`"),
        "{}",
        run.stderr
    );
    assert_state_untouched(&p, &before);
}

#[test]
fn a_syntax_error_points_at_file_and_line() {
    let emu = Emulator::start();
    let (p, before) = project_with_state(&emu);
    p.write("network.tf", "resource \"azurerm_virtual_network\" \"a\" {\n  name = \"a\"\n  address_space = [\"10.0.0.0/16\"\n}\n");
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("Invalid HCL syntax"), "{}", run.stderr);
    assert!(run.stderr.contains("network.tf:"), "{}", run.stderr);
    assert_state_untouched(&p, &before);
}

#[test]
fn an_unknown_argument_gets_a_did_you_mean() {
    let p = Project::from_files(&[(
        "main.tf",
        r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  locaton  = "westeurope"
}
"#,
    )]);
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Unsupported argument \"locaton\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `location`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:4:"), "{}", run.stderr);
}

#[test]
fn corrupt_state_is_refused_and_left_alone() {
    let emu = Emulator::start();
    let p = Project::from_files(&[
        ("main.tf", BASE),
        ("netform.tfstate", "{\"version\": 4, \"resources\": ["),
    ]);
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);
    assert_eq!(
        p.read("netform.tfstate"),
        "{\"version\": 4, \"resources\": ["
    );
    assert!(emu.resources().is_empty());
}
