//! Input variables as Terraform users set them: types, defaults, validation, sensitivity,
//! nullable, and values from the command line, files and the environment, in Terraform's
//! precedence order.

mod common;

use common::{Emulator, Project};

const VARS: &str = r#"
variable "location" {
  type    = string
  default = "westeurope"
}

variable "prefix" {
  type = string
}

variable "size" {
  type    = number
  default = 1
}

variable "spokes" {
  type = map(object({
    cidr = string
    nsg  = optional(bool, true)
  }))
  default = {}
}

variable "enabled" {
  type     = bool
  default  = true
  nullable = false
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-${var.prefix}"
  location = var.location
}

output "summary" {
  value = "${var.prefix}/${var.location}/${var.size}/${var.enabled}"
}

output "spokes" {
  value = { for k, s in var.spokes : k => "${s.cidr}:${s.nsg}" }
}
"#;

fn plan(p: &Project, emu: &Emulator, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    p.run_env(Some(emu), &all, env)
}

#[test]
fn values_come_from_files_env_and_flags_in_terraform_precedence() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", VARS)]);

    // Only the environment.
    let run = plan(&p, &emu, &[], &[("TF_VAR_prefix", "env")]).ok();
    assert!(
        run.stdout.contains("\"env/westeurope/1/true\""),
        "{}",
        run.stdout
    );

    // terraform.tfvars beats the environment; NETFORM_VAR_ works like TF_VAR_.
    p.write("terraform.tfvars", "prefix = \"file\"\nsize = 2\n");
    let run = plan(
        &p,
        &emu,
        &[],
        &[
            ("TF_VAR_prefix", "env"),
            ("NETFORM_VAR_location", "northeurope"),
        ],
    )
    .ok();
    assert!(
        run.stdout.contains("\"file/northeurope/2/true\""),
        "{}",
        run.stdout
    );

    // *.auto.tfvars (and JSON) beat terraform.tfvars, in name order.
    p.write("a.auto.tfvars", "size = 3\n");
    p.write(
        "b.auto.tfvars.json",
        r#"{"size": 4, "spokes": {"hub": {"cidr": "10.1.0.0/24"}, "dmz": {"cidr": "10.2.0.0/24", "nsg": false}}}"#,
    );
    let run = plan(&p, &emu, &[], &[]).ok();
    assert!(
        run.stdout.contains("\"file/westeurope/4/true\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("10.1.0.0/24:true"),
        "optional() default applies: {}",
        run.stdout
    );
    assert!(run.stdout.contains("10.2.0.0/24:false"), "{}", run.stdout);

    // --var and --var-file in command-line order beat everything.
    p.write("extra.tfvars", "prefix = \"varfile\"\n");
    let run = plan(
        &p,
        &emu,
        &["--var", "prefix=flag", "--var-file", "extra.tfvars"],
        &[],
    )
    .ok();
    assert!(
        run.stdout.contains("\"varfile/westeurope/4/true\""),
        "{}",
        run.stdout
    );
    let run = plan(
        &p,
        &emu,
        &["--var-file", "extra.tfvars", "--var", "prefix=flag"],
        &[],
    )
    .ok();
    assert!(
        run.stdout.contains("\"flag/westeurope/4/true\""),
        "{}",
        run.stdout
    );

    // Collections on the command line are HCL expressions.
    let run = plan(
        &p,
        &emu,
        &["--var", "spokes={ x = { cidr = \"10.9.0.0/24\" } }"],
        &[],
    )
    .ok();
    assert!(run.stdout.contains("10.9.0.0/24:true"), "{}", run.stdout);

    // nullable = false: an explicit null takes the default.
    let run = plan(&p, &emu, &["--var", "enabled=false"], &[]).ok();
    assert!(run.stdout.contains("/4/false\""), "{}", run.stdout);
}

#[test]
fn wrong_types_missing_values_and_undeclared_names_are_clear_errors() {
    let emu = Emulator::start();
    let p = Project::from_files(&[("main.tf", VARS)]);

    let run = plan(&p, &emu, &[], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("No value for required variable \"prefix\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("TF_VAR_prefix"), "{}", run.stderr);

    let run = plan(&p, &emu, &["--var", "prefix=x", "--var", "size=big"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Invalid value for variable \"size\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("a number is required"),
        "{}",
        run.stderr
    );

    p.write(
        "terraform.tfvars",
        "prefix = \"x\"\nspokes = { hub = { nsg = true } }\n",
    );
    let run = plan(&p, &emu, &[], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("attribute \"cidr\" is required at hub"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("terraform.tfvars:2"),
        "points into the file: {}",
        run.stderr
    );

    p.write("terraform.tfvars", "prefix = \"x\"\nlocaton = \"y\"\n");
    let run = plan(&p, &emu, &[], &[]).ok();
    assert!(
        run.stderr
            .contains("Value for undeclared variable \"locaton\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `location`?"),
        "{}",
        run.stderr
    );

    let run = plan(&p, &emu, &["--var", "prefx=1"], &[]);
    assert_ne!(run.code, 0, "an undeclared --var is an error");
    assert!(
        run.stderr.contains("did you mean `prefix`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn validation_rules_and_sensitive_values() {
    let emu = Emulator::start();
    let p = Project::from_files(&[(
        "main.tf",
        r#"
variable "address_space" {
  type = list(string)
  validation {
    condition     = alltrue([for c in var.address_space : can(cidrnetmask(c))])
    error_message = "Every address space must be an IPv4 CIDR block."
  }
}

variable "shared_key" {
  type      = string
  sensitive = true
}

resource "azurerm_resource_group" "rg" {
  name     = "rg-val"
  location = "westeurope"
}

output "space" {
  value = var.address_space
}

output "key" {
  value     = var.shared_key
  sensitive = true
}
"#,
    )]);
    let run = plan(
        &p,
        &emu,
        &[
            "--var",
            "address_space=[\"10.0.0.0/16\", \"nope\"]",
            "--var",
            "shared_key=s3cret",
        ],
        &[],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("Every address space must be an IPv4 CIDR block."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:5"), "{}", run.stderr);

    let run = plan(
        &p,
        &emu,
        &[
            "--var",
            "address_space=[\"10.0.0.0/16\"]",
            "--var",
            "shared_key=s3cret",
        ],
        &[],
    )
    .ok();
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
    assert!(run.stdout.contains("(sensitive value)"), "{}", run.stdout);

    // An output that shows a sensitive variable without saying so is refused.
    p.write(
        "leak.tf",
        "output \"leak\" {\n  value = \"key=${var.shared_key}\"\n}\n",
    );
    let run = p.run_env(None, &["validate"], &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Output refers to sensitive values"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("leak.tf:1"), "{}", run.stderr);
}
