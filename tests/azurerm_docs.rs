//! The "Example Usage" configurations of terraform-provider-azurerm's documentation,
//! transcribed unchanged under tests/fixtures/azurerm_docs: each validates, plans and applies
//! on the emulator with no warning but deprecation warnings, and a second plan shows no changes.

mod common;

use common::{Emulator, Project, Run};

fn fixture_text(name: &str) -> String {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/azurerm_docs")
        .join(name)
        .join("main.tf");
    std::fs::read_to_string(&src).expect("fixture")
}

/// The summaries of the warnings in a command's output (miette: `⚠ summary`, continued on
/// `│ ` lines up to the first blank `│`).
fn warnings(run: &Run) -> Vec<String> {
    let text = format!("{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(first) = line.strip_prefix('⚠') else {
            continue;
        };
        let mut summary = first.trim().to_string();
        for next in &lines[i + 1..] {
            match next.strip_prefix('│').map(str::trim) {
                Some(more) if !more.is_empty() => {
                    summary.push(' ');
                    summary.push_str(more);
                }
                _ => break,
            }
        }
        out.push(summary);
    }
    out
}

fn assert_ok(name: &str, step: &str, run: &Run) {
    assert_eq!(
        run.code, 0,
        "{name}: {step} failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    for w in warnings(run) {
        assert!(
            w.contains("deprecated"),
            "{name}: {step} warned about something other than a deprecation: {w}\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

fn run_fixture(name: &str) {
    let text = fixture_text(name);
    let p = Project::from_files(&[("main.tf", &text)]);
    let emu = Emulator::start();
    assert_ok(name, "validate", &p.run_env(None, &["validate"], &[]));
    assert_ok(name, "plan", &p.run(&emu, &["plan"]));
    // Peerings wait for the circuit's provider (the test emulator provisions at once).
    assert_ok(
        name,
        "apply",
        &p.run(
            &emu,
            &["apply", "--auto-approve", "--wait-for-provider", "60s"],
        ),
    );
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

#[test]
fn virtual_network_example() {
    run_fixture("virtual_network");
}

#[test]
fn subnet_example() {
    run_fixture("subnet");
}

#[test]
fn virtual_network_gateway_example() {
    run_fixture("virtual_network_gateway");
}

#[test]
fn express_route_circuit_peering_microsoft_example() {
    run_fixture("express_route_circuit_peering_microsoft");
}

#[test]
fn express_route_circuit_peering_private_example() {
    run_fixture("express_route_circuit_peering_private");
}

#[test]
fn express_route_circuit_authorization_example() {
    run_fixture("express_route_circuit_authorization");
}

#[test]
fn virtual_network_gateway_connection_site_to_site_example() {
    run_fixture("virtual_network_gateway_connection_site_to_site");
}

#[test]
fn virtual_network_gateway_connection_vnet_to_vnet_example() {
    run_fixture("virtual_network_gateway_connection_vnet_to_vnet");
}

/// A VNet PUT replaces the subnet list: updating a VNet whose subnets are `azurerm_subnet`
/// resources must keep them (and a gateway's GatewaySubnet must never be dropped).
#[test]
fn vnet_update_keeps_subnets_managed_by_subnet_resources() {
    let text = fixture_text("virtual_network_gateway_connection_site_to_site");
    let p = Project::from_files(&[("main.tf", &text)]);
    let emu = Emulator::start();
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let changed = text.replace(
        "  address_space       = [\"10.0.0.0/16\"]\n}",
        "  address_space       = [\"10.0.0.0/16\"]\n  dns_servers         = [\"10.0.0.4\"]\n}",
    );
    assert_ne!(changed, text);
    p.write("main.tf", &changed);
    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        apply.stdout.contains("1 changed"),
        "{}\n{}",
        apply.stdout,
        apply.stderr
    );
    let vnet = emu.get(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/test/providers/Microsoft.Network/virtualNetworks/test?api-version=2024-05-01",
    );
    assert_eq!(
        vnet["properties"]["subnets"][0]["name"], "GatewaySubnet",
        "{vnet}"
    );
    assert_eq!(
        vnet["properties"]["dhcpOptions"]["dnsServers"][0],
        "10.0.0.4"
    );
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

/// Inline `subnet` blocks are authoritative: a subnet removed from the configuration is
/// removed from Azure, and one added outside netform shows as drift to remove.
#[test]
fn inline_subnets_are_authoritative() {
    let text = fixture_text("virtual_network");
    let p = Project::from_files(&[("main.tf", &text)]);
    let emu = Emulator::start();
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let one = text.replace(
        "  subnet {\n    name             = \"subnet1\"\n    address_prefixes = [\"10.0.1.0/24\"]\n  }\n\n",
        "",
    );
    assert_ne!(one, text);
    p.write("main.tf", &one);
    let plan = p.run(&emu, &["plan"]).ok();
    assert!(plan.stdout.contains("subnet1"), "{}", plan.stdout);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let vnet = emu.get(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/example-resources/providers/Microsoft.Network/virtualNetworks/example-network?api-version=2024-05-01",
    );
    let names: Vec<&str> = vnet["properties"]["subnets"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["subnet2"], "{vnet}");
    assert_eq!(
        vnet["properties"]["subnets"][0]["properties"]["networkSecurityGroup"]["id"],
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/example-resources/providers/Microsoft.Network/networkSecurityGroups/example-security-group"
    );
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    // Leaving every block out (azurerm's Optional+Computed `subnet`) keeps the subnets.
    let none = one.replace(
        "  subnet {\n    name             = \"subnet2\"\n    address_prefixes = [\"10.0.2.0/24\"]\n    security_group   = azurerm_network_security_group.example.id\n  }\n\n",
        "",
    );
    assert_ne!(none, one);
    p.write("main.tf", &none);
    let again = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}
