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

#[test]
fn validate_json_reports_diagnostics_with_ranges() {
    let p = Project::from_files(&[("main.tf", PRETTY)]);
    let run = p.run_env(None, &["validate", "--json"], &[]).ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["error_count"], 0);

    p.write("main.tf", &PRETTY.replace("location", "locaton"));
    let run = p.run_env(None, &["validate", "--json"], &[]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["valid"], false);
    let d = doc["diagnostics"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|d| d["summary"] == "Unsupported argument \"locaton\"")
        })
        .cloned()
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(d["severity"], "error");
    assert_eq!(d["range"]["filename"], "main.tf");
    assert_eq!(d["range"]["start"]["line"], 3);
    assert_eq!(d["range"]["start"]["column"], 3);
}
