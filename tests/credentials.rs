//! Real credentials through azure_identity: against an emulator that requires a bearer token,
//! netform authenticates with a client secret (OAuth2 client credentials at the emulator's
//! token endpoint) and with a managed identity (the App Service identity endpoint).

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
