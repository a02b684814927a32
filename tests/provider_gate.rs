//! The connectivity-provider gate: what needs a provisioned circuit waits, everything else is
//! created, and the rest completes once the provider acts — across processes and restarts.

mod common;

use common::{Emulator, Project, http_send};

const GATED: &[&str] = &[
    "azurerm_express_route_circuit_peering.private",
    "azurerm_virtual_network_gateway_connection.er",
];

fn service_key(p: &Project) -> String {
    let state = p.state();
    state["resources"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| r["type"] == "azurerm_express_route_circuit")
        })
        .and_then(|r| r["instances"][0]["attributes"]["service_key"].as_str())
        .expect("circuit service key in state")
        .to_string()
}

fn addresses(p: &Project) -> Vec<String> {
    p.state()["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    format!(
                        "{}.{}",
                        r["type"].as_str().unwrap_or(""),
                        r["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn apply_creates_the_rest_and_says_what_waits_then_finishes_after_the_provider_acts() {
    let data = tempfile::tempdir().expect("tempdir");
    let data_file = data.path().join("cloud.json");
    let data_arg = data_file.to_string_lossy().to_string();
    // No auto-provisioning: circuits stay NotProvisioned until someone provisions them.
    let emu = Emulator::start_with(&["--time-scale", "0", "--data", &data_arg]);
    let p = Project::from_example("expressroute");

    let plan = p.run(&emu, &["plan"]).ok();
    for a in GATED {
        assert!(
            plan.stdout.contains(&format!("# {a} is deferred")),
            "{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout
            .contains("next step: give the circuit's service key"),
        "{}",
        plan.stdout
    );

    let apply = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 6 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("2 change(s) wait for the connectivity provider"),
        "{}",
        apply.stdout
    );
    for a in GATED {
        assert!(
            !addresses(&p).contains(&a.to_string()),
            "{a} must not be created yet"
        );
    }
    let key = service_key(&p);
    assert!(!apply.stdout.contains(&key), "the service key is sensitive");

    // A second apply while still not provisioned changes nothing and still exits 0.
    let again = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        again.stdout.contains("2 change(s) wait"),
        "{}",
        again.stdout
    );

    // The emulator restarts (same data file); then the connectivity provider acts.
    drop(emu);
    let emu = Emulator::start_with(&["--time-scale", "0", "--data", &data_arg]);
    p.run(&emu, &["emulator", "provision", &key]).ok();

    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("is deferred"), "{}", plan.stdout);
    let finish = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        finish
            .stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        finish.stdout
    );
    let clean = p.run(&emu, &["plan"]).ok();
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);
}

#[test]
fn wait_for_provider_polls_until_the_provider_acts() {
    let emu = Emulator::start_with(&["--time-scale", "0"]);
    let p = Project::from_example("expressroute");
    let url = emu.url.clone();
    // Play the connectivity provider: provision the circuit as soon as it exists.
    let provider = std::thread::spawn(move || {
        for _ in 0..200 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let (_, body) = http_send("GET", &format!("{url}/_emulator/circuits"), "");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let key = v["value"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(|c| c["serviceKey"].as_str())
                .map(str::to_string);
            if let Some(key) = key {
                std::thread::sleep(std::time::Duration::from_millis(700));
                let (status, _) = http_send(
                    "POST",
                    &format!("{url}/_emulator/circuits/{key}/provision"),
                    "",
                );
                return status;
            }
        }
        0
    });
    let apply = p
        .run(
            &emu,
            &["apply", "--auto-approve", "--wait-for-provider", "60s"],
        )
        .ok();
    assert_eq!(provider.join().expect("provider thread"), 200);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("waiting: peering AzurePrivatePeering needs ExpressRoute circuit"),
        "progress while waiting:\n{}",
        apply.stdout
    );
}
