//! Every example architecture is applied, re-planned to no changes and destroyed on the
//! emulator, through the real binary; secrets never reach the terminal.

mod common;

use common::{Emulator, Project};

fn lifecycle(example: &str, expected_resources: usize) {
    let emu = Emulator::start();
    let p = Project::from_example(example);
    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        apply.stdout.contains(&format!(
            "Apply complete! Resources: {expected_resources} added, 0 changed, 0 destroyed."
        )),
        "{example}:\n{}",
        apply.stdout
    );
    let plan = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "{example} re-plan is not clean:\n{}\n{}",
        plan.stdout, plan.stderr
    );
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    let destroy = p.run(&emu, &["destroy", "--auto-approve"]).ok();
    assert!(
        destroy.stdout.contains(&format!(
            "Destroy complete! Resources: {expected_resources} destroyed."
        )),
        "{}",
        destroy.stdout
    );
    assert_eq!(
        emu.resources(),
        Vec::<String>::new(),
        "{example}: destroy must leave the emulator empty"
    );
    for out in [&apply.stdout, &apply.stderr, &plan.stdout, &destroy.stdout] {
        assert!(
            !out.contains("ChangeMe-Failover-PSK-42"),
            "{example}: a shared key reached the terminal"
        );
    }
}

#[test]
fn expressroute() {
    lifecycle("expressroute", 8);
}

#[test]
fn expressroute_vpn_failover() {
    lifecycle("expressroute-vpn-failover", 12);
}

#[test]
fn microsoft_peering() {
    lifecycle("microsoft-peering", 5);
}

#[test]
fn multi_vnet() {
    lifecycle("multi-vnet", 15);
}
