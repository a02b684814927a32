//! Benchmark: apply on the emulator with realistic, time-scaled operation latencies, against
//! lower bounds of what any schedule could achieve at the same parallelism; and refresh of N
//! existing objects, with the emulator answering instantly or after a fixed latency.
//!
//! `cargo bench --bench apply_latency` (`-- --quick` for a shorter run, `-- --apply-only` or
//! `-- --refresh-only` or `-- --scale-only` for one part, `-- --simulate` for the policy
//! grid alone: no emulator, seconds). `NETFORM_BENCH_BIN=/path/to/netform` measures another build of the binary (e.g.
//! the one before a change).
//!
//! Bounds, all for the same `--parallelism p` (each op's duration is the emulator's, scaled):
//! - *stated*: max(longest chain of durations, total work / p), the bound;
//! - *tight*: the stated bound and three more that are just as valid but see indivisible
//!   operations and lock keys (see [`Bounds`]); the larger it is, the less of the gap between
//!   wall time and the stated bound is the scheduler's to win.
//!
//! Besides measuring, each estate is also *simulated* with exact durations and no overhead
//! (by `engine::schedule`) under two policies, critical path first (the walker before) and
//! the better of critical path and feeders first (now), so the measured wall time can be
//! split into policy and overhead.

#[path = "support/estate.rs"]
mod estate;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netform_engine::config::{self, SourceFile};
use netform_engine::plan::{self, Action, PlanOptions};
use netform_engine::provider::Provider;
use netform_engine::state::State;

fn bin() -> PathBuf {
    std::env::var_os("NETFORM_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_netform")))
}

/// Real create durations in seconds, as the emulator simulates them (its README). Kept here,
/// apart from the provider's `expected_duration`, so the bound does not trust the scheduler's
/// own table.
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
        let mut child = Command::new(bin())
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

    /// CPU seconds the emulator process has used so far (user + system).
    fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at field 3.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let f: Vec<f64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / ticks
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU seconds used by waited-for child processes so far.
fn children_cpu() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Run netform; (wall seconds, CPU seconds of the netform process).
fn run(dir: &Path, url: &str, args: &[&str]) -> (f64, f64) {
    let cpu0 = children_cpu();
    let start = Instant::now();
    let out = Command::new(bin())
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .env("NETFORM_ARM_ENDPOINT", url)
        .env("NO_COLOR", "1")
        .output()
        .expect("netform");
    let wall = start.elapsed().as_secs_f64();
    if !out.status.success() {
        eprintln!(
            "netform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(1);
    }
    (wall, children_cpu() - cpu0)
}

/// The operations an apply of `hcl` on empty state runs, planned in-process with the real
/// provider: durations (real seconds), dependencies, lock keys, addresses.
struct Ops {
    addr: Vec<String>,
    dur: Vec<f64>,
    deps: Vec<Vec<usize>>,
    keys: Vec<Vec<String>>,
}

fn ops_of(hcl: &str) -> Ops {
    let (cfg, diags) = config::load(vec![SourceFile {
        name: "main.tf".into(),
        text: hcl.into(),
    }]);
    assert!(diags.iter().all(|d| !d.is_error()), "config errors");
    let (g, gd) = netform_engine::graph::build(&cfg);
    assert!(gd.iter().all(|d| !d.is_error()), "graph errors");
    let (vars, _) = netform_engine::decode::variables(&cfg, &BTreeMap::new());
    let provider = netform_azure::AzureProvider::new(netform_azure::AzureSettings::for_emulator(
        "http://127.0.0.1:9",
    ))
    .unwrap_or_else(|e| panic!("provider: {}", e.message));
    let (plan, pd) = plan::plan(
        &cfg,
        &g,
        &vars,
        &State::new("bench".into()),
        &provider,
        &PlanOptions::default(),
    );
    let plan = plan.unwrap_or_else(|| {
        panic!(
            "plan: {:?}",
            pd.iter().map(|d| &d.summary).collect::<Vec<_>>()
        )
    });
    let changes: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .collect();
    let index: HashMap<String, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.addr.to_string(), i))
        .collect();
    Ops {
        addr: changes.iter().map(|c| c.addr.to_string()).collect(),
        dur: changes
            .iter()
            .map(|c| create_secs(&c.addr.type_name))
            .collect(),
        deps: changes
            .iter()
            .map(|c| {
                let mut d: Vec<usize> = c
                    .dependencies
                    .iter()
                    .filter_map(|a| index.get(&a.to_string()).copied())
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect(),
        keys: changes
            .iter()
            .map(|c| {
                provider.lock_keys(&c.addr.type_name, c.after.as_ref().expect("planned value"))
            })
            .collect(),
    }
}

impl Ops {
    fn len(&self) -> usize {
        self.dur.len()
    }

    fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.len()];
        for (i, ds) in self.deps.iter().enumerate() {
            for &d in ds {
                out[d].push(i);
            }
        }
        out
    }

    fn topological(&self) -> Vec<usize> {
        let dependents = self.dependents();
        let mut waiting: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut stack: Vec<usize> = (0..self.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::new();
        while let Some(i) = stack.pop() {
            order.push(i);
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    stack.push(d);
                }
            }
        }
        assert_eq!(order.len(), self.len(), "cycle");
        order
    }

    /// Longest chain of durations before each op (head) and after it (tail).
    fn heads_tails(&self) -> (Vec<f64>, Vec<f64>) {
        let order = self.topological();
        let dependents = self.dependents();
        let mut head = vec![0.0f64; self.len()];
        for &i in &order {
            for &d in &dependents[i] {
                head[d] = head[d].max(head[i] + self.dur[i]);
            }
        }
        let mut tail = vec![0.0f64; self.len()];
        for &i in order.iter().rev() {
            for &p in &self.deps[i] {
                tail[p] = tail[p].max(tail[i] + self.dur[i]);
            }
        }
        (head, tail)
    }
}

/// Lower bounds on the makespan of any schedule with at most `p` operations at once and
/// operations sharing a lock key never overlapping (real seconds).
#[derive(Debug, Default)]
struct Bounds {
    /// Longest chain of durations.
    chain: f64,
    /// Total work / p.
    work: f64,
    /// Indivisible operations: for the k operations at least L long, a slot runs them one at
    /// a time, so some start at the earliest after ceil(k/p) - 1 others on the same slot:
    /// min head + ceil(k/p)·L + min tail.
    waves: f64,
    /// Operations sharing a lock key run one at a time: for the members that cannot start
    /// before h (their head), h + their sum + their least tail, the largest over h.
    locks: f64,
    /// The waves bound, plus what must follow the last wave: at least r = k - p·(w-1) long
    /// operations end no earlier than head + w·L; each has a successor holding a lock key;
    /// with those successors spread over G keys, some key serialises ceil(r/G) of them.
    wave_locks: f64,
}

impl Bounds {
    fn stated(&self) -> f64 {
        self.chain.max(self.work)
    }
    fn tight(&self) -> f64 {
        self.stated()
            .max(self.waves)
            .max(self.locks)
            .max(self.wave_locks)
    }
}

fn bounds(ops: &Ops, p: usize) -> Bounds {
    let (head, tail) = ops.heads_tails();
    let dependents = ops.dependents();
    let n = ops.len();
    let mut b = Bounds {
        chain: (0..n).map(|i| head[i] + ops.dur[i]).fold(0.0, f64::max),
        work: ops.dur.iter().sum::<f64>() / p as f64,
        ..Bounds::default()
    };
    let min_of = |it: &mut dyn Iterator<Item = f64>| it.fold(f64::INFINITY, f64::min);
    let mut lengths: Vec<f64> = ops.dur.iter().copied().filter(|&d| d > 0.0).collect();
    lengths.sort_by(f64::total_cmp);
    lengths.dedup();
    for &l in &lengths {
        let s: Vec<usize> = (0..n).filter(|&i| ops.dur[i] >= l).collect();
        let k = s.len();
        if k <= p {
            continue;
        }
        let w = k.div_ceil(p);
        let h = min_of(&mut s.iter().map(|&i| head[i]));
        let t = min_of(&mut s.iter().map(|&i| tail[i]));
        b.waves = b.waves.max(h + w as f64 * l + t);
        // One keyed successor per long op, on the key most long ops' successors share.
        let mut count: HashMap<&str, usize> = HashMap::new();
        for &i in &s {
            for &d in &dependents[i] {
                for key in &ops.keys[d] {
                    *count.entry(key.as_str()).or_default() += 1;
                }
            }
        }
        let mut taken = vec![false; n];
        let mut keys_used: Vec<&str> = Vec::new();
        let (mut covered, mut m, mut t2) = (0usize, f64::INFINITY, f64::INFINITY);
        for &i in &s {
            let best = dependents[i]
                .iter()
                .filter(|&&d| !taken[d] && ops.dur[d] > 0.0)
                .flat_map(|&d| ops.keys[d].iter().map(move |k| (d, k.as_str())))
                .max_by_key(|(_, k)| count[k]);
            if let Some((d, key)) = best {
                taken[d] = true;
                covered += 1;
                m = m.min(ops.dur[d]);
                t2 = t2.min(tail[d]);
                if !keys_used.contains(&key) {
                    keys_used.push(key);
                }
            }
        }
        let r = k - p * (w - 1);
        let uncovered = k - covered;
        if r > uncovered && !keys_used.is_empty() {
            let per_key = (r - uncovered).div_ceil(keys_used.len());
            b.wave_locks = b.wave_locks.max(h + w as f64 * l + per_key as f64 * m + t2);
        }
    }
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in 0..n {
        for key in &ops.keys[i] {
            by_key.entry(key.as_str()).or_default().push(i);
        }
    }
    // One machine with release dates: the members that cannot start before h still need
    // h + their sum + the least tail among them, for every h.
    for members in by_key.values_mut() {
        members.sort_by(|&a, &b| head[b].total_cmp(&head[a]));
        let (mut sum, mut t) = (0.0, f64::INFINITY);
        for &i in members.iter() {
            sum += ops.dur[i];
            t = t.min(tail[i]);
            b.locks = b.locks.max(head[i] + sum + t);
        }
    }
    b
}

/// Scheduling policies replayed by `engine::schedule`'s simulation: each rule alone, and the
/// walker's choice between them. (Address order, the walker before critical path, and
/// "anything holding a lock key first" were tried too: the second changes nothing, as
/// nearly every azurerm operation holds some key.)
#[derive(Clone, Copy, Debug, PartialEq)]
enum Policy {
    Critical,
    Feeders,
    /// What the walker does: the better of the two, simulated.
    Best,
}

/// The walk replayed with exact durations and no overhead under `policy` (seconds): the
/// engine's own list scheduler and rules, given this bench's durations, so the figure is
/// the walker's; only the bounds above are this bench's own.
fn simulate(ops: &Ops, p: usize, policy: Policy) -> f64 {
    use netform_engine::schedule::{self, Rule, Walk};
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let keys: Vec<Vec<usize>> = ops
        .keys
        .iter()
        .map(|ks| {
            ks.iter()
                .map(|k| {
                    let next = ids.len();
                    *ids.entry(k.as_str()).or_insert(next)
                })
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|&a, &b| ops.addr[a].cmp(&ops.addr[b]));
    let mut rank = vec![0; ops.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let expected: Vec<Duration> = ops
        .dur
        .iter()
        .map(|&d| Duration::from_secs_f64(d))
        .collect();
    let walk = Walk {
        deps: &ops.deps,
        dependents: &ops.dependents(),
        expected: &expected,
        keys: &keys,
        key_count: ids.len(),
        rank: &rank,
    };
    let priority = match policy {
        Policy::Critical => schedule::rule_priorities(&walk, Rule::CriticalPath),
        Policy::Feeders => schedule::rule_priorities(&walk, Rule::FeedersFirst),
        Policy::Best => schedule::priorities(&walk, p).0,
    };
    schedule::simulate(&walk, p, &priority).as_secs_f64()
}

/// Every policy on a grid of generated estates and parallelisms, simulated only (no
/// emulator): the ratio of each policy's makespan to the tight bound.
fn simulate_grid(examples: &[(&str, String)]) {
    let policies = [Policy::Critical, Policy::Feeders, Policy::Best];
    println!(
        "simulated makespan / tight bound (exact durations, no overhead)\n{:>28} {:>3} {:>9} {:>8} {:>8} {:>8}",
        "estate", "p", "tight s", "critical", "feeders", "best"
    );
    let mut worst = [1.0f64; 3];
    let mut cases: Vec<(String, String)> = examples
        .iter()
        .map(|(n, h)| (n.to_string(), h.clone()))
        .collect();
    for v in [5usize, 10, 15, 20, 25, 30, 40, 50] {
        for c in [1usize, 2, 4] {
            cases.push((format!("{v} VNets, {c} circuits"), estate::generate(v, c)));
        }
    }
    for (name, hcl) in &cases {
        let ops = ops_of(hcl);
        for p in [2usize, 5, 10, 20] {
            let tight = bounds(&ops, p).tight();
            let r: Vec<f64> = policies
                .iter()
                .map(|&pol| simulate(&ops, p, pol) / tight)
                .collect();
            for (w, x) in worst.iter_mut().zip(&r) {
                *w = w.max(*x);
            }
            println!(
                "{name:>28} {p:>3} {tight:>9.0} {:>8.3} {:>8.3} {:>8.3}",
                r[0], r[1], r[2]
            );
        }
    }
    println!(
        "{:>28} {:>3} {:>9} {:>8.3} {:>8.3} {:>8.3}",
        "worst", "", "", worst[0], worst[1], worst[2]
    );
}

fn apply_case(name: &str, hcl: &str, scale: f64, p: usize) {
    let ops = ops_of(hcl);
    let b = bounds(&ops, p);
    let before = simulate(&ops, p, Policy::Critical) / scale;
    let after = simulate(&ops, p, Policy::Best) / scale;
    let emu = Emulator::start(&["--time-scale", &scale.to_string(), "--auto-provision", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), hcl).expect("write");
    let (wall, _) = run(
        dir.path(),
        &emu.1,
        &["apply", "--auto-approve", "--parallelism", &p.to_string()],
    );
    let (stated, tight) = (b.stated() / scale, b.tight() / scale);
    println!(
        "{name:>26} {:>4} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7.3} {:>7.3}",
        ops.len(),
        b.chain / scale,
        b.work / scale,
        stated,
        tight,
        before,
        after,
        wall,
        wall / stated,
        wall / tight,
    );
    eprintln!("  {name}: {b:?}");
}

/// A TCP proxy that holds every chunk the client sends for `latency` before passing it on:
/// with one request per write (HTTP/1.1 keep-alive: the next request waits for the answer),
/// each request gets `latency` added, like a distant API. Returns its URL.
fn latency_proxy(upstream: &str, latency: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut c_read, mut s_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(k) = c_read.read(&mut buf) {
                    if k == 0 {
                        break;
                    }
                    std::thread::sleep(latency);
                    if s_write.write_all(&buf[..k]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    url
}

/// Raw GET throughput of the emulator with `threads` concurrent clients, one connection
/// each, kept alive (as netform's client does).
fn emulator_gets_per_sec(url: &str, ids: &[String], threads: usize) -> f64 {
    let host = url.trim_start_matches("http://").to_string();
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in ids.chunks(ids.len().div_ceil(threads)) {
            let host = host.clone();
            s.spawn(move || {
                let c = TcpStream::connect(&host).expect("connect");
                let _ = c.set_nodelay(true);
                let mut reader = BufReader::new(c.try_clone().expect("clone"));
                let mut w = c;
                for id in chunk {
                    let _ = write!(
                        w,
                        "GET {id}?api-version=2024-05-01 HTTP/1.1\r\nHost: {host}\r\n\r\n"
                    );
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                }
            });
        }
    });
    ids.len() as f64 / start.elapsed().as_secs_f64()
}

/// `per_group`: public IPs per resource group. With all of them in one group refresh lists
/// the group (a request per page); with fewer than eight per group it reads each by id.
fn refresh_case(n: usize, per_group: usize, latencies_ms: &[u64]) {
    let emu = Emulator::start(&["--time-scale", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hcl = String::new();
    let groups = n.div_ceil(per_group + 1);
    for g in 0..groups {
        hcl.push_str(&format!(
            "resource \"azurerm_resource_group\" \"rg{g}\" {{\n  name     = \"refresh-rg-{g}\"\n  location = \"westeurope\"\n}}\n"
        ));
    }
    for i in 1..=n - groups {
        let g = (i - 1) % groups;
        hcl.push_str(&format!(
            "\nresource \"azurerm_public_ip\" \"p{i}\" {{\n  name                = \"pip-{i}\"\n  location            = \"westeurope\"\n  resource_group_name = azurerm_resource_group.rg{g}.name\n  allocation_method   = \"Static\"\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), &hcl).expect("write");
    run(
        dir.path(),
        &emu.1,
        &["apply", "--auto-approve", "--parallelism", "50"],
    );
    let ids: Vec<String> = (1..=n - groups)
        .map(|i| format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/refresh-rg-{}/providers/Microsoft.Network/publicIPAddresses/pip-{i}", (i - 1) % groups))
        .collect();
    // The same command with refresh off: what the plan costs without a single GET.
    let (no_refresh, _) = run(dir.path(), &emu.1, &["plan", "--refresh=false"]);
    println!(
        "{n} objects, {groups} resource group(s); plan --refresh=false of the same: {no_refresh:.3} s"
    );
    println!(
        "{:>8} {:>6} {:>8} {:>9} {:>10} {:>9} {:>10} {:>12} {:>12}",
        "latency",
        "p",
        "plan s",
        "refresh s",
        "ideal s",
        "eff",
        "objects/s",
        "netform CPU",
        "emulator CPU"
    );
    for &ms in latencies_ms {
        let url = if ms == 0 {
            emu.1.clone()
        } else {
            latency_proxy(&emu.1, Duration::from_millis(ms))
        };
        for p in [1usize, 10, 50] {
            let e0 = emu.cpu();
            let (secs, cpu) = run(dir.path(), &url, &["plan", "--parallelism", &p.to_string()]);
            let emu_cpu = emu.cpu() - e0;
            // The refresh's share: the whole command less the same plan without GETs.
            let refresh = secs - no_refresh;
            let ideal = (n as f64 * ms as f64 / 1000.0) / p as f64;
            let eff = if ms == 0 {
                String::from("-")
            } else {
                format!("{:.2}", ideal / refresh)
            };
            println!(
                "{ms:>6}ms {p:>6} {secs:>8.3} {refresh:>9.3} {ideal:>10.3} {eff:>9} {:>10.0} {:>10.0}ms {:>10.0}ms",
                n as f64 / refresh,
                cpu * 1000.0,
                emu_cpu * 1000.0
            );
        }
    }
    for p in [1usize, 10, 50] {
        let raw = emulator_gets_per_sec(&emu.1, &ids, p);
        println!("emulator alone, {p} keep-alive clients: {raw:.0} GETs/s");
    }
}

/// Apply of `n` public IPs (and their resource group) on the instant emulator: no cloud
/// latency, so what remains is netform's own cost per operation, state persistence above
/// all. Linear means the time per object stays flat as `n` grows.
fn scale_case(n: usize, p: usize) {
    let emu = Emulator::start(&["--time-scale", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hcl = String::from(
        "resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"scale-rg\"\n  location = \"westeurope\"\n}\n",
    );
    for i in 1..n {
        hcl.push_str(&format!(
            "\nresource \"azurerm_public_ip\" \"p{i}\" {{\n  name                = \"pip-{i}\"\n  location            = \"westeurope\"\n  resource_group_name = azurerm_resource_group.rg.name\n  allocation_method   = \"Static\"\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), &hcl).expect("write");
    let e0 = emu.cpu();
    let (wall, cpu) = run(
        dir.path(),
        &emu.1,
        &["apply", "--auto-approve", "--parallelism", &p.to_string()],
    );
    let state = std::fs::metadata(dir.path().join("netform.tfstate"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{n:>7} {p:>4} {wall:>9.2} {:>11.0} {:>11.2} {:>12.2} {:>9.1}",
        wall * 1e6 / n as f64,
        cpu,
        emu.cpu() - e0,
        state as f64 / 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = |flag: &str| args.iter().any(|a| a == flag);
    let any_only = only("--apply-only") || only("--refresh-only") || only("--scale-only");
    let apply = !any_only || only("--apply-only");
    let refresh = !any_only || only("--refresh-only");
    let scale_run = !any_only || only("--scale-only");
    let scale = if quick { 600.0 } else { 60.0 };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    if args.iter().any(|a| a == "--simulate") {
        let er = format!(
            "{}\n{}",
            read("expressroute/main.tf"),
            read("expressroute/variables.tf")
        );
        simulate_grid(&[
            ("expressroute", er),
            (
                "expressroute-vpn-failover",
                read("expressroute-vpn-failover/main.tf"),
            ),
        ]);
        return;
    }
    if apply {
        let er = format!(
            "{}\n{}",
            read("expressroute/main.tf"),
            read("expressroute/variables.tf")
        );
        let failover = read("expressroute-vpn-failover/main.tf");
        println!(
            "apply on the emulator, real durations / {scale}, circuits provisioned at once, p = 10 (seconds)"
        );
        println!(
            "{:>26} {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            "estate",
            "ops",
            "chain",
            "work/p",
            "stated",
            "tight",
            "sim cp",
            "sim now",
            "wall",
            "/stated",
            "/tight"
        );
        apply_case("expressroute", &er, scale, 10);
        apply_case("expressroute-vpn-failover", &failover, scale, 10);
        let sizes: &[usize] = if quick { &[25] } else { &[20, 25, 30] };
        for &v in sizes {
            apply_case(
                &format!("{v} VNets, 2 circuits"),
                &estate::generate(v, 2),
                scale,
                10,
            );
        }
    }
    if refresh {
        println!(
            "\nrefresh (plan) of existing objects; the emulator instant, or behind a latency proxy"
        );
        let n = if quick { 200 } else { 1000 };
        let latencies: &[u64] = if quick { &[0, 10] } else { &[0, 5, 20] };
        println!("read one by one (five public IPs per resource group):");
        refresh_case(n, 5, latencies);
        println!("\nlisted (every public IP in one resource group):");
        refresh_case(n, n, latencies);
    }
    if scale_run {
        println!(
            "\napply of N public IPs on the instant emulator: netform's own cost per object, state writes included"
        );
        println!(
            "{:>7} {:>4} {:>9} {:>11} {:>11} {:>12} {:>9}",
            "objects", "p", "wall s", "us/object", "netform CPU", "emulator CPU", "state MB"
        );
        let sizes: &[usize] = if quick {
            &[1000, 3000]
        } else {
            &[1000, 3000, 10000]
        };
        for &n in sizes {
            scale_case(n, 10);
        }
    }
}
