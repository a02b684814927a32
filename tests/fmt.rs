//! `netform fmt`: canonical layout, --check, --diff, --recursive.

mod common;

use common::Project;

const UGLY: &str = "resource \"azurerm_resource_group\" \"rg\" {\nname=\"rg-fmt\"\n    location   =   \"westeurope\"\n}\n";
const PRETTY: &str = "resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"rg-fmt\"\n  location = \"westeurope\"\n}\n";

#[test]
fn fmt_check_diff_and_recursive() {
    let p = Project::from_files(&[("main.tf", UGLY)]);
    std::fs::create_dir_all(p.path().join("modules/x")).expect("mkdir");
    p.write("modules/x/main.tf", UGLY);

    let run = p.run_env(None, &["fmt", "--check"], &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("main.tf"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("modules"),
        "not recursive by default: {}",
        run.stdout
    );
    assert_eq!(p.read("main.tf"), UGLY, "--check writes nothing");

    let run = p.run_env(None, &["fmt", "--check", "--diff"], &[]);
    assert!(run.stdout.contains("-name=\"rg-fmt\""), "{}", run.stdout);
    assert!(
        run.stdout.contains("+  name     = \"rg-fmt\""),
        "{}",
        run.stdout
    );

    p.run_env(None, &["fmt", "--recursive"], &[]).ok();
    assert_eq!(p.read("main.tf"), PRETTY);
    assert_eq!(p.read("modules/x/main.tf"), PRETTY);
    let run = p.run_env(None, &["fmt", "--check", "--recursive"], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // Broken HCL is reported, not rewritten.
    p.write("bad.tf", "resource \"a\" {\n");
    let run = p.run_env(None, &["fmt"], &[]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("bad.tf"), "{}", run.stderr);
}

#[test]
fn examples_are_already_formatted() {
    let p = Project::from_example("expressroute");
    let run = p.run_env(None, &["fmt", "--check"], &[]);
    assert_eq!(run.code, 0, "examples/expressroute:\n{}", run.stdout);
}
