//! Real credentials through azure_identity: against an emulator that requires a bearer token,
//! netform authenticates with a client secret (OAuth2 client credentials at the emulator's
//! token endpoint) and with a managed identity (the App Service identity endpoint); tokens carry
//! the subscriptions they cover (403 outside), configured secrets are enforced, and the emulator
//! serves TLS with a generated CA the provider is told to trust.

mod common;

use common::{Emulator, Project};

const CONFIG: &str = r#"
provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "rg" {
  name     = "auth-rg"
  location = "westeurope"
}
"#;

const SUBSCRIPTION: &str = "11111111-2222-3333-4444-555555555555";

#[test]
fn without_a_token_the_emulator_answers_401_and_netform_says_so() {
    let emu = Emulator::start_with(&["--time-scale", "0", "--require-auth"]);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let run = p.run(&emu, &["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("AuthenticationFailed"),
        "{}",
        run.stderr
    );
    assert!(emu.resources().is_empty());
}

#[test]
fn client_secret_from_the_arm_environment() {
    let emu = Emulator::start_with(&["--time-scale", "0", "--require-auth"]);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let secret = "s3cr3t-client-value";
    let env = [
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", "00000000-aaaa-bbbb-cccc-000000000001"),
        ("ARM_CLIENT_SECRET", secret),
        ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION),
        ("NETFORM_ARM_AUTHORITY_HOST", emu.url.as_str()),
    ];
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        run.stdout
    );
    assert_eq!(
        emu.resources(),
        vec![format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/auth-rg"
        )]
    );
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the client secret reached the terminal"
    );
}

#[test]
fn managed_identity_from_the_identity_endpoint() {
    let emu = Emulator::start_with(&["--time-scale", "0", "--require-auth"]);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let endpoint = format!("{}/msi/token", emu.url);
    let env = [
        ("ARM_USE_MSI", "true"),
        ("ARM_USE_CLI", "false"),
        ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION),
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", "emulator-identity-header"),
    ];
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        emu.resources(),
        vec![format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/auth-rg"
        )]
    );
}

#[test]
fn a_subscription_outside_the_clients_coverage_fails_with_a_clear_403() {
    let client = "00000000-aaaa-bbbb-cccc-000000000002";
    let secret = "covered-only-s3cret";
    let other_sub = "99999999-8888-7777-6666-555555555555";
    let grant = format!("{client}:{secret}:{other_sub}");
    let emu = Emulator::start_with(&["--time-scale", "0", "--require-auth", "--client", &grant]);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let env = [
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", client),
        ("ARM_CLIENT_SECRET", secret),
        ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION),
        ("NETFORM_ARM_AUTHORITY_HOST", emu.url.as_str()),
    ];
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // miette wraps long messages: compare without whitespace and box-drawing characters.
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '│')
            .collect()
    };
    let stderr = squeeze(&run.stderr);
    for expected in [
        "HTTP 403: AuthorizationFailed".to_string(),
        format!(
            "The client '{client}' with object id '{client}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '/subscriptions/{SUBSCRIPTION}/resourceGroups/auth-rg' or the scope is invalid."
        ),
    ] {
        assert!(stderr.contains(&squeeze(&expected)), "{}", run.stderr);
    }
    assert!(emu.resources().is_empty());
    assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret));
}

#[test]
fn a_wrong_client_secret_is_refused_at_the_token_endpoint() {
    let client = "00000000-aaaa-bbbb-cccc-000000000003";
    let grant = format!("{client}:the-right-secret:{SUBSCRIPTION}");
    let emu = Emulator::start_with(&["--time-scale", "0", "--require-auth", "--client", &grant]);
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    let env = [
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", client),
        ("ARM_CLIENT_SECRET", "a-wrong-secret"),
        ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION),
        ("NETFORM_ARM_AUTHORITY_HOST", emu.url.as_str()),
    ];
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("AADSTS7000215"), "{}", run.stderr);
    assert!(emu.resources().is_empty());
}

#[test]
fn client_secret_against_the_emulator_over_tls_with_its_generated_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("emulator-ca.pem");
    let ca_arg = ca.to_str().expect("utf-8 path");
    let client = "00000000-aaaa-bbbb-cccc-000000000004";
    let grant = format!("{client}:tls-s3cret:{SUBSCRIPTION}");
    let emu = Emulator::start_with(&[
        "--time-scale",
        "0",
        "--require-auth",
        "--client",
        &grant,
        "--tls",
        "--tls-cert-out",
        ca_arg,
    ]);
    assert!(emu.url.starts_with("https://127.0.0.1:"), "{}", emu.url);
    let pem = std::fs::read_to_string(&ca).expect("the CA certificate was written");
    assert!(pem.contains("BEGIN CERTIFICATE"));
    let p = Project::from_files(&[("main.tf", CONFIG)]);
    // The authority host is the emulator itself over https: azure_identity's real
    // ClientSecretCredential talks to it directly, trusting the generated CA.
    let env = [
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", client),
        ("ARM_CLIENT_SECRET", "tls-s3cret"),
        ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION),
        ("NETFORM_ARM_AUTHORITY_HOST", emu.url.as_str()),
        ("NETFORM_ARM_CA_CERT", ca_arg),
    ];
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        run.stdout
    );
    let state = p.state();
    assert!(
        state.to_string().contains(&format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/auth-rg"
        )),
        "{state}"
    );
}
