//! `netform fmt`: rewrite `.tf` / `.tfvars` files in the canonical layout (the formatting
//! itself is pure, in `netform_engine::format`).

use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct FmtArgs {
    /// Files or directories to format (default: the working directory).
    pub targets: Vec<PathBuf>,
    /// Do not write; exit 3 if any file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// Print the changes as a unified diff.
    #[arg(long)]
    pub diff: bool,
    /// Also format files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Do not list the files that changed.
    #[arg(long)]
    pub no_list: bool,
}

fn wanted(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".tf") || name.ends_with(".tfvars")
}

fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if p.is_dir() {
            if recursive && !hidden {
                collect(&p, recursive, out)?;
            }
        } else if wanted(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Exit code: 0 when everything is formatted (or was rewritten), 3 for `--check` with
/// unformatted files, 1 on errors.
pub fn run(dir: &Path, args: FmtArgs) -> Result<u8, String> {
    let mut files = Vec::new();
    let targets = if args.targets.is_empty() {
        vec![dir.to_path_buf()]
    } else {
        args.targets
            .iter()
            .map(|t| {
                if t.is_absolute() {
                    t.clone()
                } else {
                    dir.join(t)
                }
            })
            .collect()
    };
    for t in &targets {
        if t.is_dir() {
            collect(t, args.recursive, &mut files)?;
        } else if t.is_file() {
            files.push(t.clone());
        } else {
            return Err(format!("no such file or directory: {}", t.display()));
        }
    }
    let mut unformatted = 0;
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        if let Err(e) = hcl_check(&text) {
            eprintln!("error: {} is not valid HCL: {e}", f.display());
            return Ok(1);
        }
        let formatted = netform_engine::format::format(&text);
        if formatted == text {
            continue;
        }
        unformatted += 1;
        let shown = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        if !args.no_list {
            println!("{shown}");
        }
        if args.diff {
            print!(
                "{}",
                netform_engine::format::diff(&shown, &text, &formatted)
            );
        }
        if !args.check {
            std::fs::write(&f, formatted)
                .map_err(|e| format!("cannot write {}: {e}", f.display()))?;
        }
    }
    Ok(if args.check && unformatted > 0 { 3 } else { 0 })
}

/// Refuse to reformat text that does not parse (formatting it could change its meaning).
fn hcl_check(text: &str) -> Result<(), String> {
    let sources = vec![netform_engine::config::SourceFile {
        name: "x".into(),
        text: text.to_string(),
    }];
    let (_, diags) = netform_engine::config::load(sources);
    match diags
        .iter()
        .find(|d| d.code.as_deref() == Some("netform::syntax"))
    {
        Some(d) => Err(d
            .labels
            .first()
            .map(|l| l.text.clone())
            .unwrap_or_else(|| d.summary.clone())),
        None => Ok(()),
    }
}
