//! Standalone ARM emulator: `netform-emulator [--port N] [--data FILE] [--time-scale F]
//! [--auto-provision-secs S] [--strict-peering] [--fault-seed N] [--fault-rate F]
//! [--require-auth] [--client ID:SECRET:SUB1,SUB2]... [--tls [--tls-cert-out PATH]]`. Prints
//! `listening on http(s)://127.0.0.1:PORT` once bound (with `--tls`, then `ca certificate PATH`), then serves until killed (Ctrl-C / SIGTERM stop it gracefully).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use netform_emulator::{ClientGrant, EmulatorConfig, FaultConfig, start};

const USAGE: &str = "usage: netform-emulator [--port N] [--data FILE] [--time-scale F] [--auto-provision-secs S] [--strict-peering] [--fault-seed N] [--fault-rate F] [--require-auth] [--client ID:SECRET:SUB1,SUB2]... [--tls [--tls-cert-out PATH]]";

fn parse_args(args: &[String]) -> Result<(EmulatorConfig, u16, Option<PathBuf>), String> {
    let mut cfg = EmulatorConfig::default();
    let mut port: u16 = 0;
    let mut cert_out = None;
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (args[i].clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                port = v.parse().map_err(|_| format!("invalid --port '{v}'"))?;
            }
            "--data" => cfg.data_file = Some(PathBuf::from(value("--data")?)),
            "--time-scale" => {
                let v = value("--time-scale")?;
                cfg.time_scale = v
                    .parse()
                    .map_err(|_| format!("invalid --time-scale '{v}'"))?;
            }
            "--auto-provision-secs" => {
                let v = value("--auto-provision-secs")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("invalid --auto-provision-secs '{v}'"))?;
                cfg.auto_provision_after = Some(Duration::from_secs_f64(secs));
            }
            "--strict-peering" => cfg.strict_peering = true,
            "--fault-seed" => {
                let v = value("--fault-seed")?;
                let seed: u64 = v
                    .parse()
                    .map_err(|_| format!("invalid --fault-seed '{v}'"))?;
                let rate = cfg.faults.as_ref().map(|f| f.rate).unwrap_or(0.1);
                cfg.faults = Some(FaultConfig::new(seed, rate));
            }
            "--fault-rate" => {
                let v = value("--fault-rate")?;
                let rate: f64 = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("invalid --fault-rate '{v}' (0..1)"))?;
                let seed = cfg.faults.as_ref().map(|f| f.seed).unwrap_or(0);
                cfg.faults = Some(FaultConfig::new(seed, rate));
            }
            "--require-auth" => cfg.require_auth = true,
            "--client" => cfg.clients.push(ClientGrant::parse(&value("--client")?)?),
            "--tls" => cfg.tls = true,
            "--tls-cert-out" => cert_out = Some(PathBuf::from(value("--tls-cert-out")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
        i += 1;
    }
    Ok((cfg, port, cert_out))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cfg, port, cert_out) = match parse_args(&args) {
        Ok(x) => x,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                return;
            }
            eprintln!("netform-emulator: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let emu = match start(cfg, addr).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("netform-emulator: {e}");
            std::process::exit(1);
        }
    };
    let mut text = format!("listening on {}\n", emu.base_url());
    match emu.write_ca_certificate(cert_out.as_deref()) {
        Ok(Some(path)) => text.push_str(&format!("ca certificate {}\n", path.display())),
        Ok(None) => {}
        Err(e) => {
            eprintln!("netform-emulator: {e}");
            std::process::exit(1);
        }
    }
    // One write, so a reader that stops after the first line never breaks the second.
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    wait_for_signal().await;
    emu.shutdown().await;
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
