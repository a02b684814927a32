//! Benchmark: validate + plan (parse, evaluate, graph, diff; empty state, no network) of
//! generated estates. Each size runs in a child process so its peak memory is its own.
//!
//! `cargo bench --bench plan` prints a table; `-- --sizes 100,1000` picks sizes (resources ≈ 4 × vnets).

#[path = "support/estate.rs"]
mod estate;

use std::collections::BTreeMap;
use std::time::Instant;

use netform_engine::config::{self, SourceFile};
use netform_engine::plan::{self, PlanOptions};
use netform_engine::state::State;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// One measured run in this process: prints `resources,bytes,parse_ms,graph_ms,plan_ms,total_ms,peak_mb`.
fn child(vnets: usize) {
    let circuits = (vnets / 10).max(1);
    let text = estate::generate(vnets, circuits);
    let bytes = text.len();
    let settings = netform_azure::AzureSettings::for_emulator("http://127.0.0.1:9");
    let provider = match netform_azure::AzureProvider::new(settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("provider: {}", e.message);
            std::process::exit(1);
        }
    };
    let t0 = Instant::now();
    let (config, diags) = config::load(vec![SourceFile {
        name: "estate.tf".into(),
        text,
    }]);
    let t1 = Instant::now();
    let (graph, gdiags) = netform_engine::graph::build(&config);
    let (vars, _) = netform_engine::decode::variables(&config, &BTreeMap::new());
    let t2 = Instant::now();
    let (plan, pdiags) = plan::plan(
        &config,
        &graph,
        &vars,
        &State::new("bench".into()),
        &provider,
        &PlanOptions::default(),
    );
    let t3 = Instant::now();
    let errors: Vec<_> = diags
        .iter()
        .chain(&gdiags)
        .chain(&pdiags)
        .filter(|d| d.is_error())
        .collect();
    if let Some(e) = errors.first() {
        eprintln!("unexpected error: {}", e.summary);
        std::process::exit(1);
    }
    let resources = plan.map(|p| p.changes.len()).unwrap_or(0);
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    println!(
        "{resources},{bytes},{:.1},{:.1},{:.1},{:.1},{:.1}",
        ms(t0, t1),
        ms(t1, t2),
        ms(t2, t3),
        ms(t0, t3),
        peak_rss_mb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let vnets = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(25);
        child(vnets);
        return;
    }
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![25, 250, 2500]);
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot find own executable: {e}");
            std::process::exit(1);
        }
    };
    println!("validate + plan, empty state, no network (median of 3 runs per size)");
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "resources", "bytes", "parse ms", "graph ms", "plan ms", "total ms", "peak MB"
    );
    for vnets in sizes {
        let mut runs: Vec<Vec<String>> = Vec::new();
        for _ in 0..3 {
            let out = std::process::Command::new(&exe)
                .args(["--child", &vnets.to_string()])
                .output();
            match out {
                Ok(o) if o.status.success() => runs.push(
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .split(',')
                        .map(str::to_string)
                        .collect(),
                ),
                Ok(o) => {
                    eprintln!(
                        "size {vnets} failed: {}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("cannot run child: {e}");
                    std::process::exit(1);
                }
            }
        }
        runs.sort_by(|a, b| {
            let t = |r: &Vec<String>| r.get(5).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
            t(a).total_cmp(&t(b))
        });
        let r = &runs[runs.len() / 2];
        println!(
            "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6]
        );
    }
}
