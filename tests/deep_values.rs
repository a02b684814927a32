//! Values nested hundreds of levels deep (each `terraform_data` holds its parent's whole
//! output) are applied, written, read back and planned again: state stays compact where it is
//! deep, and reading it is not stopped by the JSON parser's default depth limit.

mod common;

use common::Project;

fn nested_chain(n: usize) -> String {
    let mut out =
        String::from("resource \"terraform_data\" \"r0\" {\n  input = { name = \"r0\" }\n}\n");
    for i in 1..n {
        out.push_str(&format!(
            "\nresource \"terraform_data\" \"r{i}\" {{\n  input = {{ name = \"r{i}\", parent = terraform_data.r{p}.output }}\n}}\n",
            p = i - 1
        ));
    }
    out.push_str(&format!(
        "\noutput \"deepest\" {{\n  value = terraform_data.r{}.output.name\n}}\n",
        n - 1
    ));
    out
}

#[test]
fn a_chain_three_hundred_levels_deep_applies_and_plans_again() {
    let n = 300;
    let p = Project::from_files(&[("main.tf", &nested_chain(n))]);
    let apply = p.run_env(None, &["apply", "--auto-approve"], &[]).ok();
    assert!(
        apply
            .stdout
            .contains(&format!("Apply complete! Resources: {n} added")),
        "{}",
        apply.stdout
    );
    let text = std::fs::read_to_string(p.state_path()).expect("state");
    // Indented in full, this state would hold 2·Σ i² indentation bytes (about 36 MB); written
    // compactly below the attributes it stays around a megabyte.
    assert!(text.len() < 3_000_000, "state is {} bytes", text.len());
    assert!(
        text.contains(&format!("\"value\": \"r{}\"", n - 1)),
        "the output is recorded"
    );

    let again = p.run_env(None, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let list = p.run_env(None, &["state", "list"], &[]).ok();
    assert_eq!(list.stdout.lines().count(), n);
}

#[test]
fn a_hostile_state_nested_beyond_the_limit_is_refused_not_a_crash() {
    let p = Project::from_files(&[("main.tf", &nested_chain(2))]);
    let hostile = format!(
        "{{\"version\": 4, \"terraform_version\": \"1.9.0\", \"serial\": 1, \"lineage\": \"x\", \"outputs\": {{}}, \"resources\": {}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    std::fs::write(p.state_path(), &hostile).expect("write");
    let out = p.run_env(None, &["plan"], &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("nested"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(p.state_path()).expect("state"),
        hostile,
        "left untouched"
    );
}
