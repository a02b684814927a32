//! Nothing lost: the pending-operation journal, interrupts (SIGINT/SIGTERM), atomic state
//! writes with the errored-state fallback, and state locking — through the real binary
//! against a real emulator.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Emulator, Project, http_send};

const NETWORK: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.0.0.0/16"]
}
"#;

const SUBNET: &str = r#"
resource "azurerm_subnet" "a" {
  name                 = "a"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.0.1.0/24"]
}
"#;

fn write_state(p: &Project, state: &serde_json::Value) {
    std::fs::write(
        p.state_path(),
        serde_json::to_string_pretty(state).expect("json"),
    )
    .expect("write state");
}

fn instance_ids(state: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = state["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .flat_map(|r| r["instances"].as_array().cloned().unwrap_or_default())
                .filter_map(|i| {
                    i["attributes"]["id"]
                        .as_str()
                        .map(|s| s.to_ascii_lowercase())
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn lower_sorted(mut v: Vec<String>) -> Vec<String> {
    v.iter_mut().for_each(|s| *s = s.to_ascii_lowercase());
    v.sort();
    v
}

/// Take `addr` out of `resources` and put it in the journal as an interrupted `operation`.
fn journal_instead(state: &mut serde_json::Value, addr: &str, operation: &str) {
    let (ty, name) = addr.split_once('.').expect("addr");
    let resources = state["resources"].as_array_mut().expect("resources");
    let at = resources
        .iter()
        .position(|r| r["type"] == ty && r["name"] == name)
        .expect("resource in state");
    let r = resources.remove(at);
    let attrs = r["instances"][0]["attributes"].clone();
    state["pending"] = serde_json::json!([{
        "address": addr,
        "operation": operation,
        "id": attrs["id"],
        "provider": "registry.terraform.io/hashicorp/azurerm",
        "attributes": attrs,
    }]);
}

#[test]
fn an_interrupted_create_that_went_through_is_adopted_not_recreated() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let before = lower_sorted(emu.resources());
    // As if the process died after the PUT was sent but before its result was recorded.
    let mut state = p.state();
    journal_instead(&mut state, "azurerm_virtual_network.vnet", "create");
    write_state(&p, &state);
    assert!(p.state().get("pending").is_some());

    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout.contains("azurerm_virtual_network.vnet: exists"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 added"), "{}", run.stdout);
    let state = p.state();
    assert!(state.get("pending").is_none(), "journal cleared: {state}");
    assert_eq!(instance_ids(&state), before);
    assert_eq!(lower_sorted(emu.resources()), before, "no new object");
}

#[test]
fn an_intent_left_in_the_journal_file_is_adopted_and_the_file_emptied() {
    // During apply, intents are appended to netform.tfstate.journal (one line each) rather
    // than rewriting the whole state before every request. As if killed after the PUT went
    // out but before the next full write: the intent is only in the journal file.
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let before = lower_sorted(emu.resources());
    let mut state = p.state();
    journal_instead(&mut state, "azurerm_virtual_network.vnet", "create");
    let intent = state["pending"][0].clone();
    state.as_object_mut().expect("object").remove("pending");
    write_state(&p, &state);
    // A complete line, then a torn one (the process died while appending it: never sent).
    p.write(
        "netform.tfstate.journal",
        &format!("{intent}\n{{\"address\": \"azurerm_subn"),
    );

    let plan = p.run(&emu, &["plan"]).ok();
    assert!(
        plan.stdout.contains("azurerm_virtual_network.vnet: exists"),
        "{}",
        plan.stdout
    );
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(run.stdout.contains("0 added"), "{}", run.stdout);
    let state = p.state();
    assert!(state.get("pending").is_none(), "journal cleared: {state}");
    assert!(!p.path().join("netform.tfstate.journal").exists());
    assert_eq!(instance_ids(&state), before);
    assert_eq!(lower_sorted(emu.resources()), before, "no new object");
}

#[test]
fn a_journal_line_that_does_not_parse_is_refused_and_left_alone() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let state = p.read("netform.tfstate");
    p.write("netform.tfstate.journal", "not json\n{}\n");
    let run = p.run(&emu, &["plan"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("netform.tfstate.journal"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("netform.tfstate"), state);
    assert_eq!(p.read("netform.tfstate.journal"), "not json\n{}\n");
}

#[test]
fn an_interrupted_create_that_never_reached_azure_is_planned_again() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let mut state = p.state();
    state["pending"] = serde_json::json!([{
        "address": "azurerm_subnet.a",
        "operation": "create",
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/a",
        "provider": "registry.terraform.io/hashicorp/azurerm",
        "attributes": {"name": "a", "resource_group_name": "rg", "virtual_network_name": "vnet"},
    }]);
    write_state(&p, &state);
    p.write("main.tf", &(NETWORK.to_string() + SUBNET));
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout.contains("azurerm_subnet.a: was never created"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 added"), "{}", run.stdout);
    let state = p.state();
    assert!(state.get("pending").is_none());
    assert_eq!(instance_ids(&state), lower_sorted(emu.resources()));
}

#[test]
fn an_interrupted_delete_that_completed_is_recorded() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", &(NETWORK.to_string() + SUBNET))]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let mut state = p.state();
    let subnet_id = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == "azurerm_subnet")
        .expect("subnet")["instances"][0]["attributes"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // The delete went through; the process died before recording it.
    let (status, _) = http_send(
        "DELETE",
        &format!("{}{subnet_id}?api-version=2024-05-01", emu.url),
        "",
    );
    assert!((200..300).contains(&status), "{status}");
    journal_instead(&mut state, "azurerm_subnet.a", "delete");
    write_state(&p, &state);
    p.write("main.tf", NETWORK);
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout.contains("azurerm_subnet.a: no longer exists"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 destroyed"), "{}", run.stdout);
    let state = p.state();
    assert!(state.get("pending").is_none());
    assert_eq!(instance_ids(&state), lower_sorted(emu.resources()));
}

#[test]
fn plan_reconciles_in_memory_and_writes_nothing() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let mut state = p.state();
    journal_instead(&mut state, "azurerm_virtual_network.vnet", "create");
    write_state(&p, &state);
    let text = p.read("netform.tfstate");
    let run = p.run(&emu, &["plan"]).ok();
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    assert_eq!(p.read("netform.tfstate"), text, "plan must not write state");
}

// ---------------------------------------------------------------------------------------
// Interrupts

/// Start `netform apply` in the background; returns the child and a channel of stdout lines.
fn spawn_apply(
    p: &Project,
    emu: &Emulator,
    extra: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .arg("--chdir")
        .arg(p.path())
        .args(["apply", "--auto-approve"])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("NETFORM_ARM_ENDPOINT", &emu.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn netform");
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("stderr: {line}"));
        }
    });
    (child, rx)
}

fn wait_for_line(rx: &std::sync::mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return;
            }
        }
    }
    panic!("no line with {needle:?}; saw:\n{}", seen.join("\n"));
}

fn signal(child: &std::process::Child, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(child: &mut std::process::Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("netform did not exit after the interrupt");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn drain(rx: &std::sync::mpsc::Receiver<String>, seen: &mut Vec<String>) {
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        seen.push(line);
    }
}

#[test]
fn first_interrupt_waits_for_running_operations_saves_and_releases_the_lock() {
    // Gateways take 30-60 min in Azure: about 3-6 s at this scale.
    let emu = Emulator::start_with(&["--time-scale", "600", "--auto-provision", "0"]);
    let p = Project::from_example("expressroute");
    let (mut child, rx) = spawn_apply(&p, &emu, &[]);
    let mut seen = Vec::new();
    wait_for_line(
        &rx,
        "azurerm_virtual_network_gateway.er: Creating",
        &mut seen,
    );
    signal(&child, "INT");
    let code = wait_exit(&mut child);
    drain(&rx, &mut seen);
    let out = seen.join("\n");
    assert_eq!(code, 130, "{out}");
    assert!(out.contains("Interrupt received"), "{out}");
    assert!(out.contains("Stopping:"), "{out}");
    assert!(
        out.contains("azurerm_virtual_network_gateway.er: Creation complete"),
        "the running gateway finished: {out}"
    );
    assert!(out.contains("Apply interrupted"), "{out}");
    let state = p.state();
    assert!(state.get("pending").is_none(), "nothing in flight: {state}");
    assert!(
        !p.path().join(".netform.tfstate.lock.info").exists(),
        "lock released"
    );
    assert_eq!(instance_ids(&state), lower_sorted(emu.resources()));
    // The next run finishes the job.
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(run.stdout.contains("Apply complete!"), "{}", run.stdout);
    assert_eq!(instance_ids(&p.state()), lower_sorted(emu.resources()));
}

#[test]
fn second_interrupt_stops_waiting_and_the_next_run_adopts_what_was_in_flight() {
    let emu = Emulator::start_with(&["--time-scale", "600", "--auto-provision", "0"]);
    let p = Project::from_example("expressroute");
    let (mut child, rx) = spawn_apply(&p, &emu, &[]);
    let mut seen = Vec::new();
    wait_for_line(
        &rx,
        "azurerm_virtual_network_gateway.er: Creating",
        &mut seen,
    );
    // Interrupt once Azure has accepted the gateway's PUT (it then takes seconds).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !emu.resources().iter().any(|r| {
        r.to_ascii_lowercase()
            .ends_with("/virtualnetworkgateways/hub-ergw")
    }) {
        assert!(Instant::now() < deadline, "the gateway PUT never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "TERM");
    wait_for_line(&rx, "Stopping:", &mut seen);
    signal(&child, "INT");
    let code = wait_exit(&mut child);
    drain(&rx, &mut seen);
    let out = seen.join("\n");
    assert_eq!(code, 130, "{out}");
    assert!(out.contains("Second interrupt"), "{out}");
    let state = p.state();
    let pending = state["pending"].as_array().cloned().unwrap_or_default();
    assert!(
        pending
            .iter()
            .any(|p| p["address"] == "azurerm_virtual_network_gateway.er"),
        "the gateway create is journalled: {state}"
    );
    assert!(!p.path().join(".netform.tfstate.lock.info").exists());
    // The emulator finishes the gateway meanwhile; the next run adopts it.
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stdout
            .contains("azurerm_virtual_network_gateway.er: exists"),
        "{}",
        run.stdout
    );
    let state = p.state();
    assert!(state.get("pending").is_none());
    assert_eq!(instance_ids(&state), lower_sorted(emu.resources()));
}

// ---------------------------------------------------------------------------------------
// Atomic writes and the errored state

#[test]
fn a_failed_final_write_goes_to_errored_tfstate_and_state_push_restores_it() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    // Make every state write fail: the backup cannot be replaced (a non-empty directory
    // stands where it goes), which is a real failure, not a test hook.
    let backup = p.path().join("netform.tfstate.backup");
    let _ = std::fs::remove_file(&backup);
    std::fs::create_dir_all(backup.join("blocker")).expect("dir");
    let good = p.read("netform.tfstate");
    p.write("main.tf", &(NETWORK.to_string() + SUBNET));
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("errored.tfstate"), "{}", run.stderr);
    assert!(
        run.stderr.contains("netform state push errored.tfstate"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("netform.tfstate"), good, "the old state is intact");
    let errored: serde_json::Value =
        serde_json::from_str(&p.read("errored.tfstate")).expect("errored state parses");
    assert_eq!(instance_ids(&errored), lower_sorted(emu.resources()));
    // Fix the problem, push the errored state back.
    std::fs::remove_dir_all(&backup).expect("rm");
    p.run(&emu, &["state", "push", "errored.tfstate"]).ok();
    assert_eq!(instance_ids(&p.state()), lower_sorted(emu.resources()));
    let run = p.run(&emu, &["plan"]).ok();
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------
// Locking

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

fn write_lock(p: &Project, id: &str, pid: u32) {
    let info = serde_json::json!({
        "ID": id, "Operation": "apply", "Info": "", "Who": "alice@ci-runner-7",
        "Version": "0.1.0", "Created": "2026-11-23T09:00:00Z",
        "Path": p.state_path().display().to_string(), "Pid": pid, "Host": hostname(),
    });
    std::fs::write(
        p.path().join(".netform.tfstate.lock.info"),
        serde_json::to_string(&info).expect("json"),
    )
    .expect("write lock");
}

#[test]
fn a_locked_state_fails_fast_with_the_holder_and_force_unlock_releases_it() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    // Held by a live process (this test).
    write_lock(&p, "5f0c1d2e-lock", std::process::id());
    let started = Instant::now();
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1);
    assert!(started.elapsed() < Duration::from_secs(20));
    for needle in [
        "locked by another run",
        "ID:        5f0c1d2e-lock",
        "Who:       alice@ci-runner-7",
        "Operation: apply",
        "netform force-unlock 5f0c1d2e-lock",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(emu.resources().is_empty(), "nothing applied");
    // A wrong id is refused; the right one releases.
    let run = p.run(&emu, &["force-unlock", "nope", "--force"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    p.run(&emu, &["force-unlock", "5f0c1d2e-lock", "--force"])
        .ok();
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(!p.path().join(".netform.tfstate.lock.info").exists());
}

#[test]
fn lock_timeout_waits_for_the_other_run() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    write_lock(&p, "held-briefly", std::process::id());
    let lock = p.path().join(".netform.tfstate.lock.info");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        std::fs::remove_file(lock).expect("release");
    });
    let run = p
        .run(&emu, &["apply", "--auto-approve", "--lock-timeout", "30s"])
        .ok();
    releaser.join().expect("join");
    assert!(
        run.stderr.contains("Acquiring the state lock"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Apply complete!"));
}

#[test]
fn a_lock_left_by_a_killed_process_is_cleared() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    // A process that has exited: its pid is free.
    let mut gone = Command::new("true").spawn().expect("spawn");
    let pid = gone.id();
    gone.wait().expect("wait");
    write_lock(&p, "left-by-sigkill", pid);
    let run = p.run(&emu, &["apply", "--auto-approve"]).ok();
    assert!(
        run.stderr.contains("Removed a stale state lock"),
        "{}",
        run.stderr
    );
}

#[test]
fn concurrent_applies_never_both_run() {
    let emu = Emulator::start_with(&["--time-scale", "600", "--auto-provision", "0"]);
    let p = Project::from_example("expressroute");
    let (mut first, rx) = spawn_apply(&p, &emu, &[]);
    let mut seen = Vec::new();
    wait_for_line(&rx, "Creating...", &mut seen);
    let second = p.run(&emu, &["apply", "--auto-approve"]);
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("Operation: apply"),
        "{}",
        second.stderr
    );
    assert_eq!(wait_exit(&mut first), 0);
    assert!(!p.path().join(".netform.tfstate.lock.info").exists());
}

#[test]
fn ctrl_c_ends_a_wait_for_the_lock() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", NETWORK)]);
    write_lock(&p, "held-for-long", std::process::id());
    let (mut child, rx) = spawn_apply(&p, &emu, &["--lock-timeout", "10m"]);
    let mut seen = Vec::new();
    wait_for_line(&rx, "Acquiring the state lock", &mut seen);
    let started = Instant::now();
    signal(&child, "INT");
    let code = wait_exit(&mut child);
    assert_ne!(code, 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    // The other run's lock is untouched.
    assert!(p.path().join(".netform.tfstate.lock.info").exists());
    assert!(emu.resources().is_empty());
}

#[test]
fn ctrl_c_during_plan_releases_the_lock() {
    // Planning the estate reads every object; a slow emulator keeps plan busy long enough.
    let emu = Emulator::start();
    let p = Project::from_example("expressroute");
    p.run(&emu, &["apply", "--auto-approve"]).ok();
    let slow = Emulator::start_with(&[
        "--time-scale",
        "0",
        "--auto-provision",
        "0",
        "--fault-seed",
        "1",
        "--fault-rate",
        "1",
    ]);
    let mut child = Command::new(BIN)
        .arg("--chdir")
        .arg(p.path())
        .arg("plan")
        .env("NO_COLOR", "1")
        .env("NETFORM_ARM_ENDPOINT", &slow.url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let lock = p.path().join(".netform.tfstate.lock.info");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "plan never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let code = wait_exit(&mut child);
    assert_eq!(code, 130);
    assert!(!lock.exists(), "lock released");
}
