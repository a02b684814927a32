//! A changed IPsec pre-shared key is detected, applied through Azure's sharedkey endpoint, and
//! never printed (plans show `(sensitive value)`).

mod common;

use common::{Emulator, Project};

const CONNECTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hybrid-rg/providers/Microsoft.Network/connections/hybrid-s2s-connection";

#[test]
fn a_rotated_shared_key_is_planned_applied_and_never_shown() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute-vpn-failover");
    let first = p.run(&emu, &["apply", "--auto-approve"]).ok();
    let key = emu.get(&format!("{CONNECTION}/sharedkey?api-version=2024-05-01"));
    assert_eq!(key["value"], "ChangeMe-Failover-PSK-42", "{key}");

    let rotated = "Rotated-PSK-2026-11";
    let var = format!("vpn_shared_key={rotated}");
    let plan = p.run(&emu, &["plan", "--var", &var]).ok();
    assert!(
        plan.stdout
            .contains("# azurerm_virtual_network_gateway_connection.vpn will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .lines()
            .any(|l| l.contains("~ shared_key") && l.contains("(sensitive value)")),
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
        .run(&emu, &["apply", "--auto-approve", "--var", &var])
        .ok();
    let key = emu.get(&format!("{CONNECTION}/sharedkey?api-version=2024-05-01"));
    assert_eq!(key["value"], rotated, "{key}");
    let clean = p.run(&emu, &["plan", "--var", &var]).ok();
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);

    for out in [
        &first.stdout,
        &first.stderr,
        &plan.stdout,
        &plan.stderr,
        &apply.stdout,
        &apply.stderr,
    ] {
        assert!(
            !out.contains(rotated) && !out.contains("ChangeMe-Failover-PSK-42"),
            "a shared key reached the terminal:\n{out}"
        );
    }
}
