//! Conformance with the Azure CLI (issue item 8), unmodified apart from the endpoint: `az`
//! registers the emulator as a cloud (ARM and Entra ID endpoints = the emulator over TLS),
//! logs in with a service principal through MSAL, and creates a resource group and a VNet with
//! a subnet (`az network vnet create`, through the CLI's own LRO poller). The CLI is installed
//! by `tests/python/install.sh cli` (which run-tests.sh calls; this test calls it too).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Emulator;

const SUBSCRIPTION: &str = "5d1c3a7e-0000-4000-8000-0000000000c3";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0a0b0c0d-1111-2222-3333-4444555500cc";
const SECRET: &str = "azure-cli-s3cret";

/// The venv's `az`, installing the CLI first when needed. `None` (and a loud message) when
/// python3/venv/pip are unavailable, outside CI; under CI that is a failure.
fn az_cli(root: &Path) -> Option<PathBuf> {
    let venv = std::env::var_os("NETFORM_AZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".ci-tools").join("az"));
    let out = Command::new("bash")
        .arg(root.join("tests/python/install.sh"))
        .arg("cli")
        .env("NETFORM_AZ_VENV", &venv)
        .output();
    if !matches!(&out, Ok(o) if o.status.success()) {
        let why = match &out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => e.to_string(),
        };
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("cannot install the Azure CLI (python3 -m venv / pip): {why}");
        }
        eprintln!(
            "\n!!!!!!!! SKIPPED: the Azure CLI could not be installed (python3 -m venv / pip unavailable?): {why}\n"
        );
        return None;
    }
    Some(venv.join("bin").join("az"))
}

#[test]
fn the_azure_cli_creates_a_vnet_in_the_emulator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(az) = az_cli(root) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("emulator-ca.pem");
    let ca_arg = ca.to_str().expect("utf-8 path").to_string();
    let grant = format!("{CLIENT}:{SECRET}:{SUBSCRIPTION}");
    let emu = Emulator::start_with(&[
        "--time-scale",
        "60",
        "--require-auth",
        "--client",
        &grant,
        "--tls",
        "--tls-cert-out",
        &ca_arg,
    ]);
    let config_dir = dir.path().join("azure-config");
    let run = |args: &[&str]| -> String {
        let out = Command::new(&az)
            .args(args)
            .env("AZURE_CONFIG_DIR", &config_dir)
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env("AZURE_CORE_INSTANCE_DISCOVERY", "false")
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("AZURE_CORE_ONLY_SHOW_ERRORS", "true")
            .env("AZURE_CORE_NO_COLOR", "true")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .output()
            .expect("run az");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "az {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let arm = format!("{}/", emu.url);
    run(&[
        "cloud",
        "register",
        "--name",
        "NetformEmulator",
        "--skip-endpoint-discovery",
        "--endpoint-resource-manager",
        &arm,
        "--endpoint-active-directory",
        &emu.url,
        "--endpoint-active-directory-resource-id",
        "https://management.azure.com/",
    ]);
    run(&["cloud", "set", "--name", "NetformEmulator"]);
    let login = run(&[
        "login",
        "--service-principal",
        "-u",
        CLIENT,
        "-p",
        SECRET,
        "--tenant",
        TENANT,
        "-o",
        "json",
    ]);
    assert!(login.contains(SUBSCRIPTION), "{login}");
    let rg = run(&[
        "group",
        "create",
        "-n",
        "cli-rg",
        "-l",
        "West Europe",
        "-o",
        "json",
    ]);
    let rg: serde_json::Value = serde_json::from_str(&rg).expect("json");
    assert_eq!(rg["location"], "westeurope");
    let vnet = run(&[
        "network",
        "vnet",
        "create",
        "-g",
        "cli-rg",
        "-n",
        "cli-vnet",
        "--address-prefixes",
        "10.30.0.0/16",
        "--subnet-name",
        "apps",
        "--subnet-prefixes",
        "10.30.1.0/24",
        "-o",
        "json",
    ]);
    let vnet: serde_json::Value = serde_json::from_str(&vnet).expect("json");
    assert_eq!(vnet["newVNet"]["provisioningState"], "Succeeded", "{vnet}");
    assert_eq!(vnet["newVNet"]["subnets"][0]["name"], "apps", "{vnet}");
    let shown = run(&[
        "network",
        "vnet",
        "subnet",
        "show",
        "-g",
        "cli-rg",
        "--vnet-name",
        "cli-vnet",
        "-n",
        "apps",
        "-o",
        "json",
    ]);
    let shown: serde_json::Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(shown["addressPrefix"], "10.30.1.0/24", "{shown}");
}
