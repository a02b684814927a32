//! Rendering engine diagnostics with miette: source snippets, labels, help.

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan,
    NamedSource, Severity as MSeverity,
};
use netform_engine::config::SourceFile;
use netform_engine::diag::{Diagnostic, Severity};

#[derive(Debug)]
struct Rendered {
    summary: String,
    code: Option<String>,
    help: Option<String>,
    severity: MSeverity,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for Rendered {}

impl MietteDiagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }
    fn severity(&self) -> Option<MSeverity> {
        Some(self.severity)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn MietteDiagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn MietteDiagnostic),
            ))
        }
    }
}

fn build(d: &Diagnostic, sources: &[SourceFile]) -> Rendered {
    let severity = match d.severity {
        Severity::Error => MSeverity::Error,
        Severity::Warning => MSeverity::Warning,
    };
    let mut summary = d.summary.clone();
    if let Some(detail) = &d.detail {
        summary.push_str("\n\n");
        summary.push_str(detail);
    }
    // Labels in the primary label's file go on this diagnostic; others become related ones.
    let primary_file = d.labels.first().map(|l| l.span.file);
    let mut labels = Vec::new();
    let mut related: Vec<Rendered> = Vec::new();
    for (i, l) in d.labels.iter().enumerate() {
        let Some(src) = sources.get(l.span.file) else {
            continue;
        };
        let start = l.span.range.start.min(src.text.len());
        let len = l.span.range.end.min(src.text.len()).saturating_sub(start);
        let span = if i == 0 {
            LabeledSpan::new_primary_with_span(Some(l.text.clone()), (start, len))
        } else {
            LabeledSpan::new_with_span(Some(l.text.clone()), (start, len))
        };
        if Some(l.span.file) == primary_file {
            labels.push(span);
        } else if let Some(r) = related
            .iter_mut()
            .find(|r| r.source.as_ref().map(|s| s.name()) == Some(src.name.as_str()))
        {
            r.labels.push(span);
        } else {
            related.push(Rendered {
                summary: format!("also in {}", src.name),
                code: None,
                help: None,
                severity: MSeverity::Advice,
                source: Some(NamedSource::new(src.name.clone(), src.text.clone())),
                labels: vec![span],
                related: Vec::new(),
            });
        }
    }
    let source = primary_file
        .and_then(|f| sources.get(f))
        .map(|s| NamedSource::new(s.name.clone(), s.text.clone()).with_language("hcl"));
    Rendered {
        summary,
        code: d.code.clone(),
        help: d.help.clone(),
        severity,
        source,
        labels,
        related,
    }
}

/// Render diagnostics to a string for stderr.
pub fn render(diags: &[Diagnostic], sources: &[SourceFile], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let r = build(d, sources);
        if handler.render_report(&mut out, &r).is_err() {
            out.push_str(&d.summary);
        }
        out.push('\n');
    }
    out
}
