//! Faults: the emulator throttles (429 with Retry-After), fails (500/503), drops
//! connections and answers slowly at random, from a seed. A full apply, plan and destroy of
//! examples/expressroute still succeed without a user-visible error; the retries show in a
//! note.

mod common;

use common::{Emulator, Project};

fn retries(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("Note: ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn apply_plan_destroy_converge_through_throttling_server_errors_and_dropped_connections() {
    let seed = std::env::var("NETFORM_FAULT_SEED").unwrap_or_else(|_| "42".into());
    let emu = Emulator::start_with(&[
        "--time-scale",
        "0",
        "--auto-provision",
        "0",
        "--fault-seed",
        &seed,
        "--fault-rate",
        "0.25",
    ]);
    let p = Project::from_example("expressroute");
    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(apply.stdout.contains("Apply complete!"), "{}", apply.stdout);
    // Retries show as progress ("retrying PUT … (InternalServerError, attempt 1 of 8)");
    // nothing fails and nothing goes to stderr.
    let failures: Vec<&str> = apply
        .stdout
        .lines()
        .filter(|l| {
            (l.contains("failed") || l.contains("rror"))
                && !l.contains("retrying")
                && !l.starts_with("Note: ")
        })
        .collect();
    assert!(
        failures.is_empty() && apply.stderr.trim().is_empty(),
        "no user-visible error: {failures:?}\n{}",
        apply.stderr
    );
    let apply_retries = retries(&apply.stdout);
    assert!(apply_retries > 0, "faults were injected:\n{}", apply.stdout);
    let ids: Vec<String> = emu.resources();
    assert_eq!(ids.len(), 8, "{ids:?}");

    let plan = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

    let destroy = p.run(&emu, &["destroy", "--auto-approve"]).ok();
    assert!(
        destroy.stdout.contains("Destroy complete!"),
        "{}",
        destroy.stdout
    );
    assert!(emu.resources().is_empty());
    eprintln!(
        "faults: seed {seed}, rate 0.25: apply retried {apply_retries} request(s), destroy {}; no user-visible error",
        retries(&destroy.stdout)
    );
}
