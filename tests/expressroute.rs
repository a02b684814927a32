//! End to end: the ExpressRoute reference architecture planned, applied, changed and
//! destroyed by the real binary against the emulator over HTTP.

mod common;

use common::{Emulator, Project};

const ADDRESSES: &[&str] = &[
    "azurerm_express_route_circuit.er",
    "azurerm_express_route_circuit_peering.private",
    "azurerm_resource_group.hub",
    "azurerm_subnet.gateway",
    "azurerm_subnet.workload",
    "azurerm_virtual_network.hub",
    "azurerm_virtual_network_gateway.er",
    "azurerm_virtual_network_gateway_connection.er",
];

/// (dependency, dependent) pairs the example's references imply.
const EDGES: &[(&str, &str)] = &[
    ("azurerm_resource_group.hub", "azurerm_virtual_network.hub"),
    ("azurerm_virtual_network.hub", "azurerm_subnet.gateway"),
    (
        "azurerm_subnet.gateway",
        "azurerm_virtual_network_gateway.er",
    ),
    (
        "azurerm_resource_group.hub",
        "azurerm_express_route_circuit.er",
    ),
    (
        "azurerm_express_route_circuit.er",
        "azurerm_express_route_circuit_peering.private",
    ),
    (
        "azurerm_virtual_network_gateway.er",
        "azurerm_virtual_network_gateway_connection.er",
    ),
    (
        "azurerm_express_route_circuit_peering.private",
        "azurerm_virtual_network_gateway_connection.er",
    ),
];

fn line_index(out: &str, needle: &str) -> usize {
    out.lines()
        .position(|l| l.starts_with(needle))
        .unwrap_or_else(|| panic!("no line starting with {needle:?} in:\n{out}"))
}

#[test]
fn first_plan_lists_every_resource_to_add() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    let run = p.run(&emu, &["plan"]).ok();
    // The peering and the connection need a provisioned circuit: before the circuit exists
    // they are planned as deferred (created by apply once the connectivity provider acts).
    const GATED: &[&str] = &[
        "azurerm_express_route_circuit_peering.private",
        "azurerm_virtual_network_gateway_connection.er",
    ];
    for a in ADDRESSES {
        if GATED.contains(a) {
            assert!(
                run.stdout.contains(&format!("# {a} is deferred")),
                "{a} not deferred:\n{}",
                run.stdout
            );
        } else {
            assert!(
                run.stdout.contains(&format!("# {a} will be created")),
                "{a} missing from plan:\n{}",
                run.stdout
            );
        }
    }
    assert!(
        run.stdout
            .contains("Plan: 6 to add, 0 to change, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("2 deferred until the connectivity provider acts."),
        "{}",
        run.stdout
    );
    assert!(!p.state_path().exists(), "plan must not write state");
    assert!(emu.resources().is_empty(), "plan must not create anything");
}

#[test]
fn apply_follows_the_graph_then_replans_clean_then_destroys_everything() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    for (dep, dependent) in EDGES {
        let done = line_index(&run.stdout, &format!("{dep}: Creation complete"));
        let start = line_index(&run.stdout, &format!("{dependent}: Creating..."));
        assert!(
            done < start,
            "{dependent} started before {dep} completed:\n{}",
            run.stdout
        );
    }
    // State: v4-like, every resource with its id and dependencies, private to the user.
    let state = p.state();
    assert_eq!(state["version"], 4);
    assert_eq!(state["resources"].as_array().map(Vec::len), Some(8));
    let conn = state["resources"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["type"] == "azurerm_virtual_network_gateway_connection")
        })
        .expect("connection in state");
    let deps = conn["instances"][0]["dependencies"]
        .as_array()
        .expect("dependencies")
        .clone();
    assert!(
        deps.iter()
            .any(|d| d == "azurerm_virtual_network_gateway.er"),
        "{deps:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p.state_path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "state must be private");
    }
    let ids = emu.resources();
    assert!(
        ids.iter()
            .any(|i| i.to_lowercase().ends_with("/connections/hub-er-connection")),
        "{ids:?}"
    );
    // Secrets stay out of the terminal.
    assert!(
        run.stdout.contains("service_key = <sensitive>"),
        "{}",
        run.stdout
    );

    let again = p.run(&emu, &["plan"]).ok();
    assert!(
        again.stdout.contains("No changes."),
        "second plan not clean:\n{}",
        again.stdout
    );

    let outputs = p.run(&emu, &["output", "gateway_subnet_prefix"]).ok();
    assert_eq!(outputs.stdout.trim(), "10.10.255.224/27");

    let destroy = p.run(&emu, &["destroy", "--auto-approve"]).ok();
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 8 destroyed."),
        "{}",
        destroy.stdout
    );
    // Deletes in reverse order: the connection before the gateway and the circuit.
    let conn_done = line_index(
        &destroy.stdout,
        "azurerm_virtual_network_gateway_connection.er: Destruction complete",
    );
    let gw_start = line_index(
        &destroy.stdout,
        "azurerm_virtual_network_gateway.er: Destroying...",
    );
    assert!(conn_done < gw_start, "{}", destroy.stdout);
    assert_eq!(
        emu.resources(),
        Vec::<String>::new(),
        "destroy must leave the emulator empty"
    );
    assert_eq!(p.state()["resources"].as_array().map(Vec::len), Some(0));
}

#[test]
fn bandwidth_increase_is_an_in_place_update() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let plan = p
        .run(&emu, &["plan", "--var", "bandwidth_in_mbps=100"])
        .ok();
    assert!(
        plan.stdout
            .contains("# azurerm_express_route_circuit.er will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("~ bandwidth_in_mbps")
                && l.trim_end().ends_with("= 50 -> 100")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = p
        .run(
            &emu,
            &["apply", "--auto-approve", "--var", "bandwidth_in_mbps=100"],
        )
        .ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let circuit = emu.get("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-rg/providers/Microsoft.Network/expressRouteCircuits/hub-erc?api-version=2024-05-01");
    assert_eq!(
        circuit["properties"]["serviceProviderProperties"]["bandwidthInMbps"], 100,
        "{circuit}"
    );
    let clean = p
        .run(&emu, &["plan", "--var", "bandwidth_in_mbps=100"])
        .ok();
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);
}

#[test]
fn peering_location_change_plans_a_replacement_naming_the_attribute() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let plan = p
        .run(&emu, &["plan", "--var", "peering_location=London"])
        .ok();
    assert!(
        plan.stdout
            .contains("# azurerm_express_route_circuit.er must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("peering_location"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("-/+ resource \"azurerm_express_route_circuit\" \"er\""),
        "{}",
        plan.stdout
    );
}
