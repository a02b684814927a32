//! Benchmark: apply on the emulator with realistic, time-scaled operation latencies, against
//! the lower bound the dependency graph allows: max(longest chain of operation durations,
//! total work / parallelism). Also: refresh throughput of N existing resources against the
//! emulator versus the emulator's own request rate.
//!
//! `cargo bench --bench apply_latency` (`-- --quick` for a shorter run).

#[path = "support/estate.rs"]
mod estate;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use netform_engine::config::{self, SourceFile};
use netform_engine::graph::{self, NodeKind};

const BIN: &str = env!("CARGO_BIN_EXE_netform");

/// Real create durations in seconds, as the emulator simulates them (its README).
fn create_secs(type_name: &str) -> f64 {
    match type_name {
        "azurerm_resource_group" => 0.0,
        "azurerm_virtual_network" | "azurerm_subnet" | "azurerm_public_ip" => 10.0,
        "azurerm_local_network_gateway" | "azurerm_express_route_circuit" => 20.0,
        "azurerm_express_route_circuit_authorization" => 20.0,
        "azurerm_express_route_circuit_peering" => 30.0,
        "azurerm_virtual_network_gateway_connection" => 120.0,
        "azurerm_virtual_network_gateway" => 2700.0,
        _ => 0.0,
    }
}

struct Emulator(Child, String);

impl Emulator {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("line");
        let url = line.trim().trim_start_matches("listening on ").to_string();
        Emulator(child, url)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(dir: &Path, url: &str, args: &[&str]) -> f64 {
    let start = Instant::now();
    let out = Command::new(BIN)
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .env("NETFORM_ARM_ENDPOINT", url)
        .env("NO_COLOR", "1")
        .output()
        .expect("netform");
    if !out.status.success() {
        eprintln!(
            "netform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1);
    }
    start.elapsed().as_secs_f64()
}

/// (critical path, total work) in real seconds for the configuration in `hcl`.
fn bounds(hcl: &str) -> (f64, f64) {
    let (cfg, _) = config::load(vec![SourceFile {
        name: "main.tf".into(),
        text: hcl.into(),
    }]);
    let (g, diags) = graph::build(&cfg);
    assert!(diags.iter().all(|d| !d.is_error()), "graph errors");
    let mut finish: HashMap<_, f64> = HashMap::new();
    let mut total = 0.0;
    for &n in &g.order {
        let own = match &g.graph[n].kind {
            NodeKind::Resource(a) => create_secs(&a.type_name),
            _ => 0.0,
        };
        total += own;
        let start = g
            .graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .map(|p| finish.get(&p).copied().unwrap_or(0.0))
            .fold(0.0, f64::max);
        finish.insert(n, start + own);
    }
    (finish.values().copied().fold(0.0, f64::max), total)
}

fn apply_case(name: &str, hcl: &str, scale: f64, parallelism: usize) {
    let (critical, total) = bounds(hcl);
    let bound = critical.max(total / parallelism as f64) / scale;
    let emu = Emulator::start(&["--time-scale", &scale.to_string(), "--auto-provision", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), hcl).expect("write");
    let wall = run(
        dir.path(),
        &emu.1,
        &[
            "apply",
            "--auto-approve",
            "--parallelism",
            &parallelism.to_string(),
        ],
    );
    println!(
        "{name:>22} {:>9.2} {:>9.2} {:>9.2} {:>9.3}",
        critical / scale,
        total / scale / parallelism as f64,
        wall,
        wall / bound
    );
}

/// Raw GET throughput of the emulator with `threads` concurrent clients.
fn emulator_gets_per_sec(url: &str, ids: &[String], threads: usize) -> f64 {
    let host = url.trim_start_matches("http://").to_string();
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in ids.chunks(ids.len().div_ceil(threads)) {
            let host = host.clone();
            s.spawn(move || {
                for id in chunk {
                    let mut c = std::net::TcpStream::connect(&host).expect("connect");
                    let _ = write!(c, "GET {id}?api-version=2024-05-01 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
                    let mut sink = Vec::new();
                    let _ = c.read_to_end(&mut sink);
                }
            });
        }
    });
    ids.len() as f64 / start.elapsed().as_secs_f64()
}

fn refresh_case(n: usize) {
    let emu = Emulator::start(&["--time-scale", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hcl = String::from(
        "resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"refresh-rg\"\n  location = \"westeurope\"\n}\n",
    );
    for i in 1..n {
        hcl.push_str(&format!(
            "\nresource \"azurerm_public_ip\" \"p{i}\" {{\n  name                = \"pip-{i}\"\n  location            = \"westeurope\"\n  resource_group_name = azurerm_resource_group.rg.name\n  allocation_method   = \"Static\"\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), &hcl).expect("write");
    run(
        dir.path(),
        &emu.1,
        &["apply", "--auto-approve", "--parallelism", "50"],
    );
    let ids: Vec<String> = (1..n)
        .map(|i| format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/refresh-rg/providers/Microsoft.Network/publicIPAddresses/pip-{i}"))
        .collect();
    for p in [1usize, 10, 50] {
        let secs = run(
            dir.path(),
            &emu.1,
            &["plan", "--parallelism", &p.to_string()],
        );
        let raw = emulator_gets_per_sec(&emu.1, &ids, p);
        println!(
            "{n:>8} {p:>12} {secs:>10.2} {:>14.0} {raw:>16.0}",
            n as f64 / secs
        );
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 600.0 } else { 60.0 };
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/expressroute/main.tf"),
    )
    .expect("example");
    let vars = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/expressroute/variables.tf"),
    )
    .expect("example vars");
    let example = format!("{example}\n{vars}");
    println!("apply on the emulator, real durations / {scale}, auto-provisioning circuits at once");
    println!(
        "{:>22} {:>9} {:>9} {:>9} {:>9}",
        "estate", "chain s", "work/p s", "wall s", "wall/bound"
    );
    apply_case("expressroute p=10", &example, scale, 10);
    let estate = estate::generate(if quick { 10 } else { 25 }, 2);
    apply_case("estate p=10", &estate, scale, 10);
    println!("\nrefresh (plan) of existing resources against the emulator (instant)");
    println!(
        "{:>8} {:>12} {:>10} {:>14} {:>16}",
        "objects", "parallelism", "plan s", "objects/s", "raw GETs/s"
    );
    refresh_case(if quick { 200 } else { 1000 });
}
