//! A replacement Azure forces on dependents is predicted and applied: decreasing a circuit's
//! bandwidth replaces the circuit, and with it its private peering and the connection (Azure
//! will not delete a circuit that still has them), each saying why.

mod common;

use common::{Emulator, Project};

#[test]
fn bandwidth_decrease_replaces_the_circuit_and_what_hangs_off_it() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    p.run(
        &emu,
        &["apply", "--auto-approve", "--var", "bandwidth_in_mbps=100"],
    )
    .ok();

    let plan = p.run(&emu, &["plan", "--var", "bandwidth_in_mbps=50"]).ok();
    let out = &plan.stdout;
    for a in [
        "azurerm_express_route_circuit.er",
        "azurerm_express_route_circuit_peering.private",
        "azurerm_virtual_network_gateway_connection.er",
    ] {
        assert!(
            out.contains(&format!("# {a} must be replaced")),
            "{a} not replaced:\n{out}"
        );
    }
    assert!(
        out.to_lowercase().contains("bandwidth"),
        "the circuit's reason names the bandwidth:\n{out}"
    );
    assert!(
        out.contains("azurerm_express_route_circuit.er is replaced, and Azure cannot keep this object across that"),
        "dependents say why:\n{out}"
    );
    assert!(
        out.contains("Plan: 3 to add, 0 to change, 3 to destroy."),
        "{out}"
    );

    let apply = p
        .run(
            &emu,
            &["apply", "--auto-approve", "--var", "bandwidth_in_mbps=50"],
        )
        .ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 3 destroyed."),
        "{}",
        apply.stdout
    );
    let circuit = emu.get(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-rg/providers/Microsoft.Network/expressRouteCircuits/hub-erc?api-version=2024-05-01",
    );
    assert_eq!(
        circuit["properties"]["serviceProviderProperties"]["bandwidthInMbps"], 50,
        "{circuit}"
    );
    let clean = p.run(&emu, &["plan", "--var", "bandwidth_in_mbps=50"]).ok();
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);
}
