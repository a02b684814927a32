//! Shared harness for end-to-end tests: the real `netform` binary against a real emulator
//! (`netform emulator serve`) over HTTP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_netform");

/// A standalone emulator process, killed on drop.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    /// Instant operations; the connectivity provider provisions circuits at once.
    pub fn start() -> Self {
        Self::start_with(&["--time-scale", "0", "--auto-provision", "0"])
    }

    pub fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start emulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Emulator { child, url }
    }

    /// Every resource id the emulator holds.
    pub fn resources(&self) -> Vec<String> {
        let body = http_get(&format!("{}/_emulator/resources", self.url));
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let body = http_get(&format!("{}{}", self.url, path));
        serde_json::from_str(&body).expect("json")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send a request with a JSON body; returns (status, body).
pub fn http_send(method: &str, url: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

/// Minimal HTTP/1.1 GET over a TCP socket (tests avoid pulling an HTTP client into the binary's dev tree).
pub fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n.min(after.len())]);
        rest = after.get(n + 2..).unwrap_or("");
    }
    out
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A project directory with .tf files, in a temp dir.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn from_example(name: &str) -> Self {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let dir = tempfile::tempdir().expect("tempdir");
        for entry in std::fs::read_dir(&src).expect("example dir") {
            let p = entry.expect("entry").path();
            if p.extension().is_some_and(|x| x == "tf") {
                std::fs::copy(&p, dir.path().join(p.file_name().expect("name"))).expect("copy");
            }
        }
        Project { dir }
    }

    pub fn from_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("netform.tfstate")
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_path()).expect("state file"))
            .expect("state json")
    }

    /// Run netform in this project against `emu`.
    pub fn run(&self, emu: &Emulator, args: &[&str]) -> Run {
        self.run_env(Some(emu), args, &[])
    }

    pub fn run_env(&self, emu: Option<&Emulator>, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.arg("--chdir")
            .arg(self.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("NETFORM_ARM_ENDPOINT");
        if let Some(emu) = emu {
            cmd.env("NETFORM_ARM_ENDPOINT", &emu.url);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("run netform");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }
}

/// The emulator's admin URL that overwrites the stored JSON of resource `id` (drift made
/// outside netform): `PUT` the new body to it.
pub fn admin_resource_url(emu: &Emulator, id: &str) -> String {
    let encoded: String = id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{}/_emulator/resources?id={encoded}", emu.url)
}
