//! The "Example Usage" configurations of terraform-provider-azurerm's documentation,
//! transcribed unchanged under tests/fixtures/azurerm_docs: each validates, plans and applies
//! on the emulator, and a second plan shows no changes.

mod common;

use common::{Emulator, Project};

fn run_fixture(name: &str) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/azurerm_docs")
        .join(name)
        .join("main.tf");
    let text = std::fs::read_to_string(&src).expect("fixture");
    let p = Project::from_files(&[("main.tf", &text)]);
    let emu = Emulator::start();
    p.run_env(None, &["validate"], &[]).ok();
    p.run(&emu, &["plan"]).ok();
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{name}: {}\n{}", again.stdout, again.stderr);
}

#[test]
fn resource_group_example() {
    run_fixture("resource_group");
}

#[test]
fn public_ip_example() {
    run_fixture("public_ip");
}

#[test]
fn local_network_gateway_example() {
    run_fixture("local_network_gateway");
}

#[test]
fn express_route_circuit_example() {
    run_fixture("express_route_circuit");
}
