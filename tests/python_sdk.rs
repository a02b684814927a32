//! Conformance with a real Microsoft ARM client (issue item 8): Microsoft's Python SDK
//! (azure-identity's `ClientSecretCredential` over MSAL, azure-mgmt-resource,
//! azure-mgmt-network), unmodified apart from the endpoint, against `netform emulator serve
//! --tls --require-auth`: a resource group, a VNet with subnets, an ExpressRoute circuit and its
//! private peering created through the SDK's own LRO pollers, read back, a rule error and a 403
//! surfaced as the SDK's `HttpResponseError`, everything deleted. The script is
//! `tests/python/azure_sdk_check.py`; the SDK is installed by `tests/python/install.sh` (which
//! run-tests.sh calls; this test calls it too, so it also runs alone).

mod common;

use std::path::Path;
use std::process::Command;

use common::Emulator;

const SUBSCRIPTION: &str = "5d1c3a7e-0000-4000-8000-0000000000a1";
const OTHER_SUBSCRIPTION: &str = "5d1c3a7e-0000-4000-8000-0000000000b2";
const CLIENT: &str = "0a0b0c0d-1111-2222-3333-444455556666";
const SECRET: &str = "python-sdk-s3cret";

/// The venv's python, installing the SDK first when needed. `None` (and a loud message) when
/// python3/venv/pip are unavailable, outside CI; under CI that is a failure.
fn sdk_python(root: &Path) -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("NETFORM_PY_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".ci-tools").join("py"));
    let out = Command::new("bash")
        .arg(root.join("tests/python/install.sh"))
        .env("NETFORM_PY_VENV", &venv)
        .output();
    let ok = matches!(&out, Ok(o) if o.status.success());
    if !ok {
        let why = match &out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => e.to_string(),
        };
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("cannot install the Azure Python SDK (python3 -m venv / pip): {why}");
        }
        eprintln!(
            "\n!!!!!!!! SKIPPED: the Azure Python SDK could not be installed (python3 -m venv / pip unavailable?): {why}\n"
        );
        return None;
    }
    Some(venv.join("bin").join("python"))
}

#[test]
fn microsofts_python_sdk_works_against_the_emulator_unmodified_apart_from_the_endpoint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(python) = sdk_python(root) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("emulator-ca.pem");
    let ca_arg = ca.to_str().expect("utf-8 path");
    let grant = format!("{CLIENT}:{SECRET}:{SUBSCRIPTION}");
    // Simulated durations / 60: the SDK's pollers see InProgress, then Succeeded.
    let emu = Emulator::start_with(&[
        "--time-scale",
        "60",
        "--require-auth",
        "--client",
        &grant,
        "--tls",
        "--tls-cert-out",
        ca_arg,
    ]);
    let out = Command::new(&python)
        .arg(root.join("tests/python/azure_sdk_check.py"))
        .args([emu.url.as_str(), SUBSCRIPTION, OTHER_SUBSCRIPTION])
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("SSL_CERT_FILE", &ca)
        .env("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .env("AZURE_CLIENT_ID", CLIENT)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "the SDK script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for step in [
        "ok: ClientSecretCredential got a token",
        "ok: ExpressRoute circuit",
        "ok: private peering",
        "ok: rule R14 surfaced by the SDK as InvalidPeerAddressPrefix",
        "ok: other subscription: HTTP 403 AuthorizationFailed",
        "ok: deleted the resource group",
    ] {
        assert!(stdout.contains(step), "missing {step:?}:\n{stdout}");
    }
}
