//! Benchmark: `terraform_data` chains and fan-outs, planned and applied by the real binary
//! with local state (no cloud) — the shapes where Terraform's cost grows superlinearly.
//!
//! `cargo bench --bench terraform_data` (add `-- --quick` for the small sizes only). Each case
//! runs in a fresh directory; wall time and the child's peak RSS are reported.

#[path = "support/chains.rs"]
mod chains;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_netform");

/// Run netform in `dir`; (seconds, peak RSS MB of that child).
fn timed(dir: &Path, args: &[&str]) -> (f64, f64) {
    let start = Instant::now();
    let out = Command::new(BIN)
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netform");
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        eprintln!(
            "netform {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1);
    }
    (secs, peak_children_rss_mb())
}

/// Peak RSS of the largest child waited for so far (this process runs one child per case).
fn peak_children_rss_mb() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc == 0 {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        f64::NAN
    }
}

fn case(shape: &str, n: usize) {
    let hcl = match shape {
        "chain" => chains::chain(n),
        "fan-out" => chains::fan_out(n),
        "nested-chain" => chains::nested_chain(n),
        _ => unreachable!(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), hcl).expect("write");
    let (plan_s, plan_mb) = timed(dir.path(), &["plan", "--refresh=false"]);
    let (apply_s, apply_mb) = timed(dir.path(), &["apply", "--auto-approve", "--refresh=false"]);
    let state_kb = std::fs::metadata(dir.path().join("netform.tfstate"))
        .map(|m| m.len() / 1024)
        .unwrap_or(0);
    println!(
        "{:>13} {:>7} {:>9.3} {:>9.1} {:>9.3} {:>9.1} {:>9}",
        shape,
        n,
        plan_s,
        plan_mb.max(0.0),
        apply_s,
        apply_mb.max(plan_mb),
        state_kb
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        let shape = args.get(i + 1).cloned().unwrap_or_default();
        let n = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(100);
        case(&shape, n);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let cases: Vec<(&str, usize)> = if quick {
        vec![
            ("chain", 100),
            ("chain", 1000),
            ("fan-out", 1000),
            ("nested-chain", 100),
        ]
    } else {
        vec![
            ("chain", 100),
            ("chain", 1000),
            ("chain", 10000),
            ("fan-out", 10000),
            ("nested-chain", 1000),
        ]
    };
    println!("terraform_data, local state, release build; each case in its own process");
    println!(
        "{:>13} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "shape", "n", "plan s", "plan MB", "apply s", "peak MB", "state KB"
    );
    let exe = std::env::current_exe().expect("own exe");
    for (shape, n) in cases {
        let status = Command::new(&exe)
            .args(["--case", shape, &n.to_string()])
            .status();
        if !status.map(|s| s.success()).unwrap_or(false) {
            eprintln!("case {shape} {n} failed");
            std::process::exit(1);
        }
    }
}
