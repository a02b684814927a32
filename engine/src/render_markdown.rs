//! A plan as Markdown for a pull-request comment: the summary line, connectivity impact,
//! a table by action (disruptions and replacements first), drift, then one collapsible
//! `<details>` section per resource with its diff. Pure; deterministic; secrets redacted as
//! in the human plan.

use std::fmt::Write as _;

use crate::impact::{self, Impact};
use crate::plan::{Action, PlannedChange};
use crate::planfile::SavedPlan;
use crate::provider::Provider;
use crate::render::{self, Style};

/// Table rows in review order: what interrupts or destroys first.
const ORDER: &[(&str, &str)] = &[
    ("disrupt", "Interrupts connectivity"),
    ("replace", "Replace"),
    ("delete", "Destroy"),
    ("update", "Update in-place"),
    ("create", "Create"),
    ("forget", "Forget (stays in Azure)"),
    ("deferred", "Deferred"),
];

fn category(c: &PlannedChange) -> Option<&'static str> {
    if c.deferred.is_some() {
        return (c.action != Action::NoOp).then_some("deferred");
    }
    match c.action {
        Action::NoOp => None,
        Action::Create => Some("create"),
        Action::Update => Some("update"),
        Action::Delete => Some("delete"),
        Action::DeleteThenCreate | Action::CreateThenDelete => Some("replace"),
        Action::Forget => Some("forget"),
    }
}

pub fn render(saved: &SavedPlan, provider: &dyn Provider) -> String {
    let plan = &saved.plan;
    let mut out = String::new();
    let impact = if saved.mode.refresh_only {
        Impact::default()
    } else {
        impact::analyze(plan)
    };
    let (add, change, destroy) = plan.counts();
    out.push_str("## netform plan\n\n");
    if saved.mode.refresh_only {
        let _ = writeln!(
            out,
            "**Refresh-only plan:** {} object(s) changed outside netform; applying records them in state and changes nothing remote.\n",
            saved.drift.len()
        );
    } else if !saved.has_changes() && plan.deferred_count() == 0 {
        out.push_str("**No changes.** Your infrastructure matches the configuration.\n\n");
    } else {
        let _ = write!(
            out,
            "**Plan:** {add} to add, {change} to change, {destroy} to destroy"
        );
        match plan.forget_count() {
            0 => out.push('.'),
            n => {
                let _ = write!(out, ", {n} to forget.");
            }
        }
        if plan.deferred_count() > 0 {
            let _ = write!(
                out,
                " {} deferred until the connectivity provider acts.",
                plan.deferred_count()
            );
        }
        out.push_str("\n\n");
    }
    if !saved.mode.targets.is_empty() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Resource targeting is in effect (`{}`): this plan may not include every change the configuration asks for.\n",
            saved.mode.targets.join("`, `")
        );
    }
    if !impact.is_empty() {
        let n = impact.outages.len();
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> **Connectivity impact:** {n} path{} between on-premises and Azure go{} down during this apply.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "es" } else { "" }
        );
        for o in &impact.outages {
            let _ = writeln!(out, "> - {}", escape(&o.describe()));
        }
        out.push('\n');
    }

    // Summary table by action.
    let disruptive = impact.disruptive_changes();
    let mut rows: Vec<(&str, Vec<&PlannedChange>)> =
        ORDER.iter().map(|(k, _)| (*k, Vec::new())).collect();
    if !saved.mode.refresh_only {
        for c in &plan.changes {
            let cat = if disruptive.contains(&c.addr) {
                Some("disrupt")
            } else {
                category(c)
            };
            if let Some(cat) = cat
                && let Some(row) = rows.iter_mut().find(|(k, _)| *k == cat)
            {
                row.1.push(c);
            }
        }
    }
    if rows.iter().any(|(_, cs)| !cs.is_empty()) || !saved.drift.is_empty() {
        out.push_str("| Action | Count | Resources |\n|---|---:|---|\n");
        for ((_, label), (_, cs)) in ORDER.iter().zip(&rows) {
            if cs.is_empty() {
                continue;
            }
            let list: Vec<String> = cs.iter().map(|c| format!("`{}`", c.addr)).collect();
            let _ = writeln!(out, "| {label} | {} | {} |", cs.len(), list.join("<br>"));
        }
        if !saved.drift.is_empty() {
            let list: Vec<String> = saved
                .drift
                .iter()
                .map(|d| format!("`{}`", d.addr))
                .collect();
            let _ = writeln!(
                out,
                "| Changed outside netform | {} | {} |",
                saved.drift.len(),
                list.join("<br>")
            );
        }
        out.push('\n');
    }

    if !saved.drift.is_empty() {
        out.push_str("### Changed outside netform\n\n");
        for d in &saved.drift {
            let what = if d.action == Action::Delete {
                "has been deleted"
            } else {
                "has changed"
            };
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code> {what}</summary>\n\n```diff\n{}```\n\n</details>\n",
                d.addr,
                diff_markers(&render::render_drift_one(d, provider, Style::default()))
            );
        }
    }

    if !saved.mode.refresh_only {
        let mut first = true;
        for ((_, label), (_, cs)) in ORDER.iter().zip(&rows) {
            if cs.is_empty() {
                continue;
            }
            if first {
                out.push_str("### Changes\n\n");
                first = false;
            }
            let _ = writeln!(out, "#### {label}\n");
            for c in cs {
                let summary = summary(c, &impact);
                let body = if c.deferred.is_some() {
                    let d = c
                        .deferred
                        .as_ref()
                        .map(|d| (d.reason.as_str(), d.next_step.as_str()));
                    let (reason, next) = d.unwrap_or_default();
                    format!(
                        "Deferred: {}\n\nNext step: {}\n",
                        escape(reason),
                        escape(next)
                    )
                } else {
                    format!(
                        "```diff\n{}```\n",
                        diff_markers(&render::render_one(
                            saved,
                            &impact,
                            c,
                            provider,
                            Style::default()
                        ))
                    )
                };
                let _ = writeln!(
                    out,
                    "<details><summary><code>{}</code> {summary}</summary>\n\n{body}\n</details>\n",
                    c.addr
                );
            }
        }
    }
    out
}

fn summary(c: &PlannedChange, impact: &Impact) -> String {
    let mut s = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::Delete => "will be destroyed".to_string(),
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            if c.reason == Some("replace_by_request") {
                "will be replaced, as requested".to_string()
            } else {
                let paths: Vec<String> = c
                    .replace
                    .iter()
                    .filter(|r| !r.path.is_empty())
                    .map(|r| format!("<code>{}</code>", r.path.join(".")))
                    .collect();
                if paths.is_empty() {
                    "must be replaced".to_string()
                } else {
                    format!("must be replaced ({} forces it)", paths.join(", "))
                }
            }
        }
        Action::NoOp => "is up to date".to_string(),
        Action::Forget => {
            "will no longer be managed by netform, but will not be destroyed".to_string()
        }
    };
    if c.deferred.is_some() {
        s = format!("is deferred ({s})");
    }
    if impact.caused_by(&c.addr).next().is_some() {
        s.push_str(" — **interrupts connectivity**");
    }
    s
}

/// Move each line's `+`/`-`/`~` marker to column 0 so GitHub colours the diff
/// (`~` becomes `!`, as other plan-comment tools do).
fn diff_markers(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let (mark, rest) = if let Some(r) = trimmed.strip_prefix("-/+") {
            (
                "!",
                format!("{}-/+{r}", " ".repeat(indent.saturating_sub(1))),
            )
        } else if let Some(r) = trimmed.strip_prefix("+/-") {
            (
                "!",
                format!("{}+/-{r}", " ".repeat(indent.saturating_sub(1))),
            )
        } else if let Some(r) =
            trimmed
                .strip_prefix("+ ")
                .or(if trimmed == "+" { Some("") } else { None })
        {
            ("+", format!("{} {r}", " ".repeat(indent.saturating_sub(1))))
        } else if let Some(r) = trimmed.strip_prefix("- ") {
            ("-", format!("{} {r}", " ".repeat(indent.saturating_sub(1))))
        } else if let Some(r) = trimmed.strip_prefix("~ ") {
            ("!", format!("{} {r}", " ".repeat(indent.saturating_sub(1))))
        } else {
            (" ", line.get(1..).unwrap_or("").to_string())
        };
        let _ = writeln!(out, "{mark}{rest}");
    }
    out
}

/// Escape what Markdown would interpret in free text.
fn escape(s: &str) -> String {
    s.replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}
