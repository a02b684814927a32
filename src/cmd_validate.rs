//! `netform validate --json`: Terraform's machine-readable validation result.

use netform_engine::config::SourceFile;
use netform_engine::diag::{Diagnostic, Severity};
use netform_engine::provider::Provider;
use serde_json::{Value as J, json};

use crate::project::Project;

/// 1-based line and column of a byte offset.
fn position(text: &str, byte: usize) -> J {
    let byte = byte.min(text.len());
    let upto = &text[..byte];
    let line = upto.matches('\n').count() + 1;
    let column = upto.rfind('\n').map(|i| byte - i).unwrap_or(byte + 1);
    json!({ "line": line, "column": column, "byte": byte })
}

fn diagnostic(d: &Diagnostic, sources: &[SourceFile]) -> J {
    let mut out = json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "summary": d.summary,
        "detail": d.detail.clone().or_else(|| d.help.clone()).unwrap_or_default(),
    });
    if let Some(code) = &d.code {
        out["code"] = json!(code);
    }
    if let Some(label) = d.labels.first()
        && let Some(src) = sources.get(label.span.file)
    {
        out["range"] = json!({
            "filename": src.name,
            "start": position(&src.text, label.span.range.start),
            "end": position(&src.text, label.span.range.end),
        });
        let line_start = src.text[..label.span.range.start.min(src.text.len())]
            .rfind('\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        let line_end = src.text[line_start..]
            .find('\n')
            .map(|i| line_start + i)
            .unwrap_or(src.text.len());
        out["snippet"] = json!({
            "context": J::Null,
            "code": &src.text[line_start..line_end],
            "start_line": src.text[..line_start].matches('\n').count() + 1,
            "highlight_start_offset": label.span.range.start.saturating_sub(line_start),
            "highlight_end_offset": label.span.range.end.min(line_end).saturating_sub(line_start),
            "values": [],
        });
    }
    out
}

/// Print the result as JSON; exit 0 when valid, 1 otherwise.
pub fn run(dir: &std::path::Path, provider: &dyn Provider) -> Result<u8, String> {
    let (diags, sources) = match Project::load_for_validate(dir, provider) {
        Ok(p) => (p.diagnostics, p.config.sources),
        Err(e) => (vec![Diagnostic::error(e)], Vec::new()),
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let doc = json!({
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": diags.len() - errors,
        "diagnostics": diags.iter().map(|d| diagnostic(d, &sources)).collect::<Vec<_>>(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
    );
    Ok(u8::from(errors > 0))
}
