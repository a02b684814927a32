//! Plans built for code review, end to end through the real binary against the emulator:
//! human, JSON and Markdown renderings (insta snapshots), saved plans and stale-plan
//! refusal, --detailed-exitcode, drift and --refresh-only, --target and --replace.
//!
//! Snapshots are normalised (GUIDs, etags and emulator-assigned IPs), so they are the same on
//! every run. Under CI=true a missing snapshot fails: commit the `.snap` files. After an
//! intended change to a renderer, the planner, a provider schema or an example, refresh them
//! with `INSTA_UPDATE=always cargo nextest run -p netform --test review` and review
//! `git diff tests/snapshots` like any other change.

mod common;

use std::path::Path;

use common::{Emulator, Project, Run, admin_resource_url, http_send};

/// Replace what the emulator generates (GUIDs, etags, public IPs, ports) with placeholders.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if let Some(len) = guid_at(&chars[i..]) {
            out.push_str("<guid>");
            i += len;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    // Public IPs the emulator allocates (20.x.y.z).
    let mut result = String::new();
    for (n, line) in out.lines().enumerate() {
        if n > 0 {
            result.push('\n');
        }
        result.push_str(&mask_ips(line));
    }
    if out.ends_with('\n') {
        result.push('\n');
    }
    let re_port = |s: &str| -> String {
        // http://127.0.0.1:PORT → http://127.0.0.1:<port>
        let mut s = s.to_string();
        while let Some(at) = s.find("127.0.0.1:") {
            let start = at + "127.0.0.1:".len();
            let end = s[start..]
                .find(|c: char| !c.is_ascii_digit())
                .map(|e| start + e)
                .unwrap_or(s.len());
            if end == start {
                break;
            }
            s.replace_range(at..end, "localhost:<port>");
        }
        s
    };
    re_port(&result)
}

fn guid_at(c: &[char]) -> Option<usize> {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (g, n) in SHAPE.iter().enumerate() {
        for _ in 0..*n {
            if !c.get(i)?.is_ascii_hexdigit() {
                return None;
            }
            i += 1;
        }
        if g < 4 {
            if *c.get(i)? != '-' {
                return None;
            }
            i += 1;
        }
    }
    // Not the all-zero subscription id: it is deterministic and worth seeing.
    let text: String = c[..i].iter().collect();
    (text != "00000000-0000-0000-0000-000000000000").then_some(i)
}

fn mask_ips(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("\"20.") {
        out.push_str(&rest[..at + 1]);
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        out.push_str("<ip>");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn snap(name: &str, text: &str) {
    let text = normalize(text);
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

fn fixture(name: &str) -> Project {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name);
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&src).expect("fixture dir") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dir.path().join(p.file_name().expect("name"))).expect("copy");
    }
    Project { dir }
}

fn code(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Change a resource directly in the emulator (drift made outside netform).
fn drift(emu: &Emulator, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut body = emu.get(&format!("{id}?api-version=2024-05-01"));
    edit(&mut body);
    let (status, text) = http_send("PUT", &admin_resource_url(emu, id), &body.to_string());
    assert!((200..300).contains(&status), "admin PUT {status}: {text}");
}

const VNET_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hybrid-rg/providers/Microsoft.Network/virtualNetworks/hybrid-vnet";

#[test]
fn expressroute_first_plan_in_every_renderer() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    let run = p.run(&emu, &["plan", "--out", "first.tfplan"]);
    assert_eq!(run.code, 0, "{}", code(&run));
    snap("expressroute_create_plan", &run.stdout);
    let human = p.run(&emu, &["show", "first.tfplan"]).ok();
    let json = p.run(&emu, &["show", "--json", "first.tfplan"]).ok();
    let md = p.run(&emu, &["show", "--markdown", "first.tfplan"]).ok();
    snap("expressroute_create_show", &human.stdout);
    snap("expressroute_create_json", &json.stdout);
    snap("expressroute_create_markdown", &md.stdout);
    // Deterministic, byte for byte.
    let again = p.run(&emu, &["show", "--json", "first.tfplan"]).ok();
    assert_eq!(json.stdout, again.stdout);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json plan");
    assert_eq!(v["format_version"], "1.2");
    assert_eq!(
        v["deferred_changes"].as_array().map(Vec::len),
        Some(2),
        "{v:#}"
    );
    assert_eq!(v["resource_changes"][0]["change"]["actions"][0], "create");
    // The service key is sensitive and unknown: never in the clear.
    assert_eq!(
        v["resource_changes"][0]["change"]["after_sensitive"]["service_key"],
        true
    );
    // plan --json prints the same document as show --json.
    let direct = p.run(&emu, &["plan", "--json"]).ok();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&direct.stdout).expect("json")["resource_changes"],
        v["resource_changes"]
    );
    // The plan file is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p.path().join("first.tfplan"))
            .expect("plan file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!p.state_path().exists(), "plan must not write state");
}

#[test]
fn vpn_failover_review_cycle() {
    let emu = Emulator::start();
    let p = fixture("vpn-failover");

    // --detailed-exitcode: 2 with changes.
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}", code(&run));

    // Save, apply exactly the saved plan (no confirmation), and it becomes stale.
    p.run(&emu, &["plan", "--out", "create.tfplan"]).ok();
    let run = p.run(&emu, &["apply", "create.tfplan"]);
    assert_eq!(run.code, 0, "{}", code(&run));
    assert!(run.stdout.contains("Apply complete!"), "{}", code(&run));
    let run = p.run(&emu, &["apply", "create.tfplan"]);
    assert_eq!(run.code, 1, "{}", code(&run));
    assert!(run.stderr.contains("Saved plan is stale"), "{}", code(&run));

    // Converge (the gated ER peering and connection), then: no changes, exit 0.
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", code(&run));
    assert!(run.stdout.contains("No changes."), "{}", code(&run));
    assert!(
        !run.stdout.contains("changed outside"),
        "refresh right after apply must not report drift:\n{}",
        run.stdout
    );

    // Someone tags the VNet in the portal: drift.
    drift(&emu, VNET_ID, |b| {
        b["tags"] = serde_json::json!({"owner": "network-ops"});
    });
    let run = p.run(&emu, &["plan", "--refresh-only"]).ok();
    snap("vpn_failover_refresh_only", &run.stdout);
    assert!(
        run.stdout.contains("changed outside netform"),
        "{}",
        run.stdout
    );

    // A change for review: the circuit moves to London (replace: ExpressRoute goes down, the
    // VPN stays up), the workload subnet goes (delete), the VNet's tags revert (update).
    std::fs::remove_file(p.path().join("workload.tf")).expect("rm workload.tf");
    let run = p.run(
        &emu,
        &[
            "plan",
            "--var",
            "peering_location=London",
            "--out",
            "change.tfplan",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(run.code, 2, "{}", code(&run));
    snap("vpn_failover_change_plan", &run.stdout);
    assert!(
        run.stdout.starts_with("Connectivity impact:"),
        "{}",
        run.stdout
    );
    let json = p.run(&emu, &["show", "--json", "change.tfplan"]).ok();
    let md = p.run(&emu, &["show", "--markdown", "change.tfplan"]).ok();
    snap("vpn_failover_change_json", &json.stdout);
    snap("vpn_failover_change_markdown", &md.stdout);
    for text in [&run.stdout, &json.stdout, &md.stdout] {
        assert!(!text.contains("ChangeMe-Failover-PSK-42"), "secret leaked");
    }
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert!(
        v["resource_drift"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{v:#}"
    );
    let circuit = v["resource_changes"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|c| c["address"] == "azurerm_express_route_circuit.primary")
        })
        .expect("circuit change");
    assert_eq!(
        circuit["change"]["actions"],
        serde_json::json!(["delete", "create"])
    );
    assert_eq!(
        circuit["change"]["replace_paths"],
        serde_json::json!([["peering_location"]])
    );
    assert_eq!(circuit["action_reason"], "replace_because_cannot_update");

    // Accept the drift into state: the serial moves, so the saved change plan is stale.
    let run = p.run(&emu, &["apply", "--refresh-only", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", code(&run));
    let state = p.state();
    let vnet = state["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["type"] == "azurerm_virtual_network"))
        .expect("vnet in state");
    assert_eq!(
        vnet["instances"][0]["attributes"]["tags"]["owner"],
        "network-ops"
    );
    let run = p.run(&emu, &["apply", "change.tfplan"]);
    assert_eq!(run.code, 1, "{}", code(&run));
    assert!(run.stderr.contains("Saved plan is stale"), "{}", code(&run));

    // A saved plan made against a different configuration is refused too.
    p.run(&emu, &["plan", "--out", "again.tfplan"]).ok();
    p.write("extra.tf", "# a comment changes the configuration\n");
    let run = p.run(&emu, &["apply", "again.tfplan"]);
    assert_eq!(run.code, 1, "{}", code(&run));
    assert!(
        run.stderr
            .contains("Saved plan does not match the configuration"),
        "{}",
        code(&run)
    );

    // --replace: forced replacement, action reason replace_by_request.
    let run = p.run(
        &emu,
        &[
            "plan",
            "--replace",
            "azurerm_virtual_network_gateway_connection.vpn",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", code(&run));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let conn = v["resource_changes"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|c| c["address"] == "azurerm_virtual_network_gateway_connection.vpn")
        })
        .expect("vpn connection");
    assert_eq!(conn["action_reason"], "replace_by_request");
    let human = p
        .run(
            &emu,
            &[
                "plan",
                "--replace",
                "azurerm_virtual_network_gateway_connection.vpn",
            ],
        )
        .ok();
    assert!(
        human.stdout.contains(
            "# azurerm_virtual_network_gateway_connection.vpn will be replaced, as requested"
        ),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("VPN on-premises <-> VNet \"hybrid-vnet\"")
    );
    let bad = p.run(&emu, &["plan", "--replace", "azurerm_subnet.nope"]);
    assert_eq!(bad.code, 1, "{}", code(&bad));

    // --target: the resource and what it depends on, nothing else.
    let run = p
        .run(
            &emu,
            &[
                "plan",
                "--var",
                "peering_location=London",
                "--target",
                "azurerm_subnet.gateway",
            ],
        )
        .ok();
    assert!(!run.stdout.contains("azurerm_express_route_circuit.primary"));
    assert!(run.stdout.contains("Resource targeting is in effect"));

    // --refresh=false skips refresh: no drift section even when something drifted.
    drift(&emu, VNET_ID, |b| {
        b["tags"] = serde_json::json!({"owner": "someone-else"});
    });
    let run = p.run(&emu, &["plan", "--refresh=false"]).ok();
    assert!(
        !run.stdout.contains("changed outside netform"),
        "{}",
        run.stdout
    );
    let run = p.run(&emu, &["plan"]).ok();
    assert!(
        run.stdout.contains("changed outside netform"),
        "{}",
        run.stdout
    );
}

/// Every example architecture's first plan, in every renderer.
#[test]
fn every_example_architecture_in_every_renderer() {
    let emu = Emulator::start();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let p = Project::from_example(&name);
        let run = p.run(&emu, &["plan", "--out", "first.tfplan"]);
        assert_eq!(run.code, 0, "examples/{name}: {}", code(&run));
        let slug = name.replace('-', "_");
        let human = p.run(&emu, &["show", "first.tfplan"]).ok();
        let json = p.run(&emu, &["show", "--json", "first.tfplan"]).ok();
        let md = p.run(&emu, &["show", "--markdown", "first.tfplan"]).ok();
        snap(&format!("example_{slug}_plan"), &human.stdout);
        snap(&format!("example_{slug}_json"), &json.stdout);
        snap(&format!("example_{slug}_markdown"), &md.stdout);
        let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json plan");
        assert_eq!(v["format_version"], "1.2", "examples/{name}");
    }
}

#[test]
fn a_saved_plan_carries_its_variables_to_apply() {
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    p.write(
        "ticket.tf",
        "variable \"change_ticket\" {\n  type = string\n}\n",
    );
    let run = p.run(
        &emu,
        &["plan", "--var", "change_ticket=CHG-42", "--out", "t.tfplan"],
    );
    assert_eq!(run.code, 0, "{}", code(&run));
    // No --var: the value comes from the plan file.
    let run = p.run(&emu, &["apply", "t.tfplan"]);
    assert_eq!(run.code, 0, "{}", code(&run));
    assert!(run.stdout.contains("Apply complete!"), "{}", code(&run));
}

#[test]
fn detailed_exitcode_is_one_on_error() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", "resource \"azurerm_nope\" \"x\" {}\n")]);
    let run = p.run(&emu, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 1, "{}", code(&run));
}

#[test]
fn show_refuses_a_file_that_is_not_a_plan() {
    let p = Project::from_files(&[("main.tf", ""), ("bogus.tfplan", "{\"format\": \"x\"}")]);
    let run = p.run_env(None, &["show", "bogus.tfplan"], &[]);
    assert_eq!(run.code, 1, "{}", code(&run));
    assert!(
        run.stderr.contains("not a netform plan file"),
        "{}",
        code(&run)
    );
}
