//! Every ```hcl snippet in the book must pass `netform validate`, so the manual never shows
//! configuration that netform rejects.

mod common;

use common::Project;

#[test]
fn every_hcl_snippet_in_the_book_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join("src");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .expect("book/src")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    pages.sort();
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(page).expect("read page");
        let mut in_block = false;
        let mut block = String::new();
        let mut start_line = 0;
        for (i, line) in text.lines().enumerate() {
            if !in_block && line.trim_start().starts_with("```hcl") {
                in_block = true;
                block.clear();
                start_line = i + 1;
            } else if in_block && line.trim_start().starts_with("```") {
                in_block = false;
                let p = Project::from_files(&[("main.tf", &block)]);
                let run = p.run_env(None, &["validate"], &[]);
                checked += 1;
                if run.code != 0 {
                    failures.push(format!("{}:{start_line}\n{}", page.display(), run.stderr));
                }
            } else if in_block {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(
        checked >= 3,
        "expected HCL snippets in the book, found {checked}"
    );
    assert!(
        failures.is_empty(),
        "book snippets that do not validate:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_example_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for entry in std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(Result::ok)
    {
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().to_string();
            let p = Project::from_example(&name);
            let run = p.run_env(None, &["validate"], &[]);
            assert_eq!(
                run.code, 0,
                "examples/{name} does not validate:\n{}",
                run.stderr
            );
        }
    }
}
