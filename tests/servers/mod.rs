//! Real servers for backend tests: Azurite (Azure Blob Storage emulator, from npm) and
//! PostgreSQL, on loopback ports, stopped when the test ends (and by a watchdog if the test
//! process is killed).
//!
//! `run-tests.sh` starts one of each and passes them in `NETFORM_TEST_AZURITE_ENDPOINT` and
//! `NETFORM_TEST_PG_CONN`. Without those, a test starts its own from `.ci-tools/azurite`
//! (`npm install azurite` there) and `/usr/lib/postgresql/*/bin`. If neither is possible the
//! test says so loudly and skips — except under `CI=true`, where it fails.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn skip_or_fail(what: &str, why: &str) {
    let msg = format!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! SKIPPED: {what} is not available: {why}\n\
         !!! Run ./run-tests.sh, which installs and starts it.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_port(port: u16, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Run `stop` once this process is gone (covers a test killed before its Drop runs).
fn watchdog(stop: &str) {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop}",
        std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

pub struct Azurite {
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
    /// `http://127.0.0.1:PORT/devstoreaccount1`
    pub endpoint: String,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn azurite() -> Option<Azurite> {
    if let Ok(endpoint) = std::env::var("NETFORM_TEST_AZURITE_ENDPOINT") {
        return Some(Azurite {
            child: None,
            _dir: None,
            endpoint,
        });
    }
    let bin = repo_root().join(".ci-tools/azurite/node_modules/.bin/azurite-blob");
    if !bin.exists() {
        skip_or_fail("Azurite", &format!("{} is missing", bin.display()));
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = Command::new(&bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .arg("--location")
        .arg(dir.path())
        .args(["--silent", "--skipApiVersionCheck", "--disableTelemetry"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start azurite");
    watchdog(&format!("kill {}", child.id()));
    let a = Azurite {
        child: Some(child),
        _dir: Some(dir),
        endpoint: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"),
    };
    assert!(
        wait_port(port, Duration::from_secs(30)),
        "Azurite did not start"
    );
    Some(a)
}

pub struct Postgres {
    data: Option<(tempfile::TempDir, PathBuf)>,
    /// `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable`
    pub conn_str: String,
}

fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command, as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_pg(bin: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some((dir, bin)) = &self.data {
            let data = dir.path().join("data");
            let _ = as_pg(
                &bin.join("pg_ctl"),
                &["-D", &data.to_string_lossy(), "-m", "immediate", "stop"],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        }
    }
}

pub fn postgres() -> Option<Postgres> {
    if let Ok(conn_str) = std::env::var("NETFORM_TEST_PG_CONN") {
        return Some(Postgres {
            data: None,
            conn_str,
        });
    }
    let Some(bin) = pg_bin() else {
        skip_or_fail("PostgreSQL", "no /usr/lib/postgresql/*/bin/initdb");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown the PostgreSQL directory");
    }
    let data = dir.path().join("data");
    let sock = dir.path().to_string_lossy().to_string();
    let out = as_pg(
        &bin.join("initdb"),
        &[
            "-D",
            &data.to_string_lossy(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
    )
    .output()
    .expect("initdb");
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let opts = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock} -c fsync=off"
    );
    let log = dir.path().join("log");
    let out = as_pg(
        &bin.join("pg_ctl"),
        &[
            "-D",
            &data.to_string_lossy(),
            "-o",
            &opts,
            "-l",
            &log.to_string_lossy(),
            "-w",
            "start",
        ],
    )
    .output()
    .expect("pg_ctl start");
    assert!(
        out.status.success(),
        "pg_ctl start: {}{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let stop = format!(
        "{} {} -D {} -m immediate stop",
        if is_root() {
            "runuser -u postgres --"
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        data.display()
    );
    watchdog(&stop);
    Some(Postgres {
        data: Some((dir, bin)),
        conn_str: format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"),
    })
}

/// A name unique to this test process (schemas, containers, blobs).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}x{nanos}", std::process::id())
}
