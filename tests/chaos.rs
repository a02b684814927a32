//! Chaos: applies and destroys of examples/expressroute, each killed with SIGKILL at a
//! random moment (from a seed), each followed by a normal run. After every normal run the
//! state parses, its journal is empty, a plan finds nothing to do, and the emulator holds
//! exactly what state knows: zero orphans, zero phantoms.
//!
//! `NETFORM_CHAOS_RUNS=N` (default 10) and `NETFORM_CHAOS_SEED=S` choose the length and the
//! sequence; the default run stays well under a minute.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Emulator, Project};

/// xorshift64*: deterministic for a seed, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn netform(p: &Project, emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--chdir")
        .arg(p.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("NETFORM_ARM_ENDPOINT", &emu.url)
        .stdin(Stdio::null());
    cmd
}

/// Ids in the state file; panics if the file does not parse.
fn state_ids(p: &Project, context: &str) -> Option<(BTreeSet<String>, usize)> {
    let text = std::fs::read_to_string(p.state_path()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{context}: the state file does not parse: {e}\n{text}"));
    let mut ids = BTreeSet::new();
    for r in v["resources"].as_array().cloned().unwrap_or_default() {
        for i in r["instances"].as_array().cloned().unwrap_or_default() {
            if let Some(id) = i["attributes"]["id"].as_str() {
                ids.insert(id.to_ascii_lowercase());
            }
        }
    }
    let pending = v["pending"].as_array().map(Vec::len).unwrap_or(0);
    Some((ids, pending))
}

fn cloud_ids(emu: &Emulator) -> BTreeSet<String> {
    emu.resources()
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

#[test]
fn applies_killed_at_random_moments_always_converge_with_zero_orphans() {
    let runs = env_u64("NETFORM_CHAOS_RUNS", 10);
    let seed = env_u64("NETFORM_CHAOS_SEED", 0x0005_eedc_4a05);
    let mut rng = Rng(seed | 1);
    let data = tempfile::tempdir().expect("tempdir");
    let data_file = data.path().join("emulator.json");
    // A 45-minute gateway takes about 0.45 s; other operations 10-300 ms.
    let emu = Emulator::start_with(&[
        "--time-scale",
        "6000",
        "--auto-provision",
        "0",
        "--data",
        data_file.to_str().expect("utf-8 path"),
    ]);
    let p = Project::from_example("expressroute");

    // How long a full apply and a full destroy take here: kills land anywhere in them.
    let timed = |cmd: &str| {
        let t = Instant::now();
        let out = netform(&p, &emu, &[cmd, "--auto-approve"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed().max(Duration::from_millis(300))
    };
    let full_apply = timed("apply");
    let everything = cloud_ids(&emu);
    assert!(everything.len() >= 8, "{everything:?}");
    let full_destroy = timed("destroy");
    assert!(cloud_ids(&emu).is_empty());

    let mut summary = Vec::new();
    let (mut adopted, mut replanned, mut recorded_deletes, mut killed_mid_write) = (0, 0, 0, 0);
    for run in 0..runs {
        // Every killed run has work to do: apply from empty, destroy from full, so creates
        // and deletes are both cut at random points.
        let destroy = run % 2 == 1;
        let cmd = if destroy { "destroy" } else { "apply" };
        let full = if destroy { full_destroy } else { full_apply };
        let kill_after = Duration::from_millis(rng.below(full.as_millis() as u64 + 100));
        let mut child = netform(&p, &emu, &[cmd, "--auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(kill_after);
        let finished_first = child.try_wait().expect("try_wait").is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let context = format!("run {run} ({cmd} killed after {kill_after:?})");
        let after_kill = state_ids(&p, &context);
        if let Some((_, pending)) = &after_kill
            && *pending > 0
        {
            killed_mid_write += 1;
        }

        // The normal run: same command, to completion.
        let out = netform(&p, &emu, &[cmd, "--auto-approve"])
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "{context}: the next {cmd} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        adopted += stdout.matches(": exists").count();
        replanned += stdout.matches("was never created").count();
        recorded_deletes += stdout.matches("no longer exists").count();
        let (ids, pending) = state_ids(&p, &context).unwrap_or_default();
        assert_eq!(pending, 0, "{context}: journal left after a full run");
        let cloud = cloud_ids(&emu);
        let orphans: Vec<&String> = cloud.difference(&ids).collect();
        let phantoms: Vec<&String> = ids.difference(&cloud).collect();
        assert!(
            orphans.is_empty() && phantoms.is_empty(),
            "{context}: orphans {orphans:?}, phantoms {phantoms:?}\n{stdout}"
        );
        if destroy {
            assert!(cloud.is_empty(), "{context}: destroy left {cloud:?}");
        } else {
            assert_eq!(cloud, everything, "{context}: apply did not converge");
            let plan = netform(&p, &emu, &["plan", "--detailed-exitcode"])
                .output()
                .expect("plan");
            assert_eq!(
                plan.status.code(),
                Some(0),
                "{context}: plan after apply is not clean\n{}",
                String::from_utf8_lossy(&plan.stdout)
            );
        }
        summary.push(format!(
            "{run}: {cmd} killed after {:>4} ms{} -> {} object(s), journal {}",
            kill_after.as_millis(),
            if finished_first {
                " (had finished)"
            } else {
                ""
            },
            cloud.len(),
            after_kill.map(|(_, p)| p).unwrap_or(0)
        ));
    }
    eprintln!(
        "chaos: seed {seed:#x}, {runs} kill/recover cycles; full apply {full_apply:?}, destroy {full_destroy:?}; journal non-empty after {killed_mid_write} kill(s); reconciled: {adopted} adopted, {replanned} re-planned, {recorded_deletes} deletes recorded; 0 orphans\n{}",
        summary.join("\n")
    );
}
