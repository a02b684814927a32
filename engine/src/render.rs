//! Human-readable plan rendering in the conventions Terraform users read fluently:
//! `+ ~ - -/+ +/-`, `# ADDR will be …` headers, `# forces replacement`, `(known after apply)`,
//! `(sensitive value)`, unchanged attributes folded with a count, multi-line and long strings
//! as a line diff, and `Plan: X to add, Y to change, Z to destroy.`
//!
//! Pure: builds strings, never prints. Colour only when `Style::color` (the CLI decides).

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use crate::addr::{Mode, ResourceAddress};
use crate::drift::Drift;
use crate::impact::{self, Impact};
use crate::plan::{Action, Plan, PlannedChange, changed_paths};
use crate::planfile::SavedPlan;
use crate::provider::{AttrPath, Provider};
use crate::schema::Schema;
use crate::value::{Value, format_number};

/// Strings longer than this render as a line diff rather than `"old" -> "new"`.
const LONG_STRING: usize = 80;

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn op(&self, op: Op) -> String {
        match op {
            Op::Add => self.green("+"),
            Op::Remove => self.red("-"),
            Op::Change => self.yellow("~"),
            Op::Same => " ".into(),
        }
    }
}

/// What happens to one attribute, element or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Change,
    Same,
}

fn symbol(action: Action, style: &Style) -> String {
    match action {
        Action::Create => style.green("  +"),
        Action::Update => style.yellow("  ~"),
        Action::Delete => style.red("  -"),
        Action::DeleteThenCreate => format!("{}{}", style.red("-"), style.green("/+")),
        Action::CreateThenDelete => format!("{}{}", style.green("+/"), style.red("-")),
        Action::NoOp => "   ".into(),
        Action::Forget => "  .".into(),
    }
}

fn action_label(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update in-place",
        Action::Delete => "destroy",
        Action::DeleteThenCreate => "destroy and then create replacement",
        Action::CreateThenDelete => "create replacement and then destroy",
        Action::NoOp => "no-op",
        Action::Forget => "forget",
    }
}

fn headline(c: &PlannedChange) -> String {
    match c.action {
        Action::Create => format!("# {} will be created", c.addr),
        Action::Update => format!("# {} will be updated in-place", c.addr),
        Action::Delete => match c.reason {
            Some("delete_because_no_resource_config") => format!(
                "# {} will be destroyed\n  # (because {} is not in configuration)",
                c.addr,
                c.addr.resource()
            ),
            _ => format!("# {} will be destroyed", c.addr),
        },
        Action::DeleteThenCreate | Action::CreateThenDelete => match c.reason {
            Some("replace_by_request") => format!("# {} will be replaced, as requested", c.addr),
            Some("replace_because_tainted") => {
                format!("# {} is tainted, so it must be replaced", c.addr)
            }
            _ => format!("# {} must be replaced", c.addr),
        },
        Action::NoOp => format!("# {} is up to date", c.addr),
        Action::Forget => format!(
            "# {} will no longer be managed by netform, but will not be destroyed\n  # (destroy = false is set in the configuration)",
            c.addr
        ),
    }
}

/// Render a plan without context (no drift, no prior outputs).
pub fn render_plan(plan: &Plan, provider: &dyn Provider, style: Style) -> String {
    render(&SavedPlan::bare(plan.clone()), provider, style)
}

/// Render a plan with its context: connectivity impact, drift, changes, deferred changes,
/// output changes, and the summary line.
pub fn render(saved: &SavedPlan, provider: &dyn Provider, style: Style) -> String {
    let plan = &saved.plan;
    let mut out = String::new();
    let impact = if saved.mode.refresh_only {
        Impact::default()
    } else {
        impact::analyze(plan)
    };
    if !impact.is_empty() {
        render_impact_summary(&mut out, &impact, style);
    }
    if !saved.drift.is_empty() {
        render_drift(
            &mut out,
            &saved.drift,
            provider,
            style,
            saved.mode.refresh_only,
        );
    }
    if saved.mode.refresh_only {
        if saved.drift.is_empty() {
            out.push_str(&style.bold("No changes."));
            out.push_str(" Your infrastructure still matches the configuration.\n\n");
            out.push_str("netform has checked that the real remote objects still match the result of your most\nrecent changes, and found no differences.\n");
        } else {
            out.push_str("This is a refresh-only plan, so netform will not take any actions to undo these.\nIf you were expecting these changes then you can apply this plan to record the updated\nvalues in the netform state without changing any remote objects.\n");
        }
        render_targeting(&mut out, saved, style);
        return out;
    }

    let changes: Vec<&PlannedChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp && c.deferred.is_none())
        .collect();
    let deferred: Vec<&PlannedChange> = plan
        .changes
        .iter()
        .filter(|c| c.deferred.is_some() && c.action != Action::NoOp)
        .collect();
    let outputs = output_changes(saved);
    if changes.is_empty() && deferred.is_empty() && outputs.is_empty() {
        out.push_str(&style.bold("No changes."));
        out.push_str(" Your infrastructure matches the configuration.\n");
        render_targeting(&mut out, saved, style);
        return out;
    }
    if !changes.is_empty() {
        out.push_str(
            "netform used the selected providers to generate the following execution plan.\n",
        );
        out.push_str("Resource actions are indicated with the following symbols:\n");
        let mut actions: Vec<Action> = changes.iter().map(|c| c.action).collect();
        actions.sort();
        actions.dedup();
        for a in actions {
            let _ = writeln!(out, "{} {}", symbol(a, &style), action_label(a));
        }
        out.push_str("\nnetform will perform the following actions:\n");
        for c in &changes {
            out.push('\n');
            let schema = provider.resource_type(&c.addr.type_name).map(|t| &t.schema);
            let sensitive = saved.sensitive_for(&c.addr);
            render_change(
                &mut out,
                c,
                schema,
                sensitive,
                impact.note_for(&c.addr),
                style,
            );
        }
    }
    if !deferred.is_empty() {
        out.push_str("\nDeferred until a precondition outside netform is met (apply re-checks it when it gets there):\n");
        for c in &deferred {
            if let Some(d) = &c.deferred {
                let _ = writeln!(
                    out,
                    "\n  # {} is deferred: {}",
                    style.bold(&c.addr.to_string()),
                    d.reason
                );
                let _ = writeln!(
                    out,
                    "  #   would be {}",
                    match c.action {
                        Action::Create => "created",
                        Action::Update => "updated in-place",
                        Action::Delete => "destroyed",
                        _ => "replaced",
                    }
                );
                let _ = writeln!(out, "  #   next step: {}", d.next_step);
            }
        }
    }
    if changes.is_empty() && deferred.is_empty() {
        // Only outputs change, as Terraform words it.
        out.push_str("Changes to Outputs:\n");
        for line in outputs {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("\nYou can apply this plan to save these new output values to the netform state,\nwithout changing any real infrastructure.\n");
        render_targeting(&mut out, saved, style);
        return out;
    }
    let (add, change, destroy) = plan.counts();
    let forget = match plan.forget_count() {
        0 => String::new(),
        n => format!(", {n} to forget"),
    };
    let _ = writeln!(
        out,
        "\n{} {add} to add, {change} to change, {destroy} to destroy{forget}.",
        style.bold("Plan:")
    );
    if !deferred.is_empty() {
        let _ = writeln!(
            out,
            "{} deferred until the connectivity provider acts.",
            deferred.len()
        );
    }
    if !outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        for line in outputs {
            let _ = writeln!(out, "{line}");
        }
    }
    render_targeting(&mut out, saved, style);
    out
}

/// One change as it appears in the plan (headline, connectivity note, attributes).
pub fn render_one(
    saved: &SavedPlan,
    impact: &Impact,
    c: &PlannedChange,
    provider: &dyn Provider,
    style: Style,
) -> String {
    let mut out = String::new();
    let schema = provider.resource_type(&c.addr.type_name).map(|t| &t.schema);
    render_change(
        &mut out,
        c,
        schema,
        saved.sensitive_for(&c.addr),
        impact.note_for(&c.addr),
        style,
    );
    out
}

/// One drifted object as the "changed outside netform" section shows it.
pub fn render_drift_one(d: &Drift, provider: &dyn Provider, style: Style) -> String {
    let mut out = String::new();
    let schema = provider.resource_type(&d.addr.type_name).map(|t| &t.schema);
    let before = Value::from_json(&d.before);
    let after = d
        .after
        .as_ref()
        .map(Value::from_json)
        .unwrap_or(Value::Null);
    render_resource_block(
        &mut out,
        &d.addr,
        d.action,
        schema,
        &before,
        &after,
        &[],
        &[],
        style,
    );
    out
}

fn render_targeting(out: &mut String, saved: &SavedPlan, style: Style) {
    if saved.mode.targets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} Resource targeting is in effect\n\nYou are creating a plan with --target, which means that the result of this plan may not\nrepresent all of the changes requested by the current configuration. Targets: {}.",
        style.yellow(&style.bold("Warning:")),
        saved.mode.targets.join(", ")
    );
}

/// The summary at the top of a plan that takes a path between on-premises and Azure down.
pub fn render_impact_summary(out: &mut String, impact: &Impact, style: Style) {
    let n = impact.outages.len();
    let _ = writeln!(
        out,
        "{} {n} path{} between on-premises and Azure go{} down during this apply:",
        style.red(&style.bold("Connectivity impact:")),
        if n == 1 { "" } else { "s" },
        if n == 1 { "es" } else { "" },
    );
    for o in &impact.outages {
        let _ = writeln!(out, "  - {}", o.describe());
    }
    out.push('\n');
}

fn render_drift(
    out: &mut String,
    drift: &[Drift],
    provider: &dyn Provider,
    style: Style,
    refresh_only: bool,
) {
    let _ = writeln!(
        out,
        "{} Objects have changed outside netform\n\nnetform detected the following changes made outside netform since the last \"netform apply\"\nwhich may have affected this plan:",
        style.bold("Note:")
    );
    for d in drift {
        out.push('\n');
        let schema = provider.resource_type(&d.addr.type_name).map(|t| &t.schema);
        let before = Value::from_json(&d.before);
        let after = d
            .after
            .as_ref()
            .map(Value::from_json)
            .unwrap_or(Value::Null);
        match d.action {
            Action::Delete => {
                let _ = writeln!(
                    out,
                    "  {}",
                    style.bold(&format!("# {} has been deleted", d.addr))
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "  {}",
                    style.bold(&format!("# {} has changed", d.addr))
                );
            }
        }
        render_resource_block(
            out,
            &d.addr,
            d.action,
            schema,
            &before,
            &after,
            &[],
            &[],
            style,
        );
    }
    if !refresh_only {
        out.push_str("\nUnless you have made equivalent changes to your configuration, or ignored the relevant\nattributes using ignore_changes, the following plan may include actions to undo or respond\nto these changes.\n");
    }
    out.push_str(&"─".repeat(77));
    out.push_str("\n\n");
}

/// Lines for `Changes to Outputs:` (empty when no output changes).
fn output_changes(saved: &SavedPlan) -> Vec<String> {
    let mut lines = Vec::new();
    let prior = &saved.prior_state.outputs;
    let style = Style::default();
    let width = saved
        .plan
        .outputs
        .keys()
        .chain(prior.keys())
        .map(String::len)
        .max()
        .unwrap_or(0);
    for (name, o) in &saved.plan.outputs {
        let new_text = if o.sensitive {
            "(sensitive value)".to_string()
        } else {
            fmt_value(&o.value)
        };
        match prior.get(name) {
            None => lines.push(format!(
                "  {} {name:<width$} = {new_text}",
                style.op(Op::Add)
            )),
            Some(p) => {
                let old = Value::from_json(&p.value);
                if old == o.value && p.sensitive == o.sensitive {
                    continue;
                }
                let old_text = if p.sensitive || o.sensitive {
                    "(sensitive value)".to_string()
                } else {
                    fmt_value(&old)
                };
                if o.sensitive && p.sensitive && !o.value.contains_unknown() {
                    // Terraform cannot tell either: a changed sensitive output shows as changed.
                    lines.push(format!(
                        "  {} {name:<width$} = (sensitive value)",
                        style.op(Op::Change)
                    ));
                } else {
                    lines.push(format!(
                        "  {} {name:<width$} = {old_text} -> {new_text}",
                        style.op(Op::Change)
                    ));
                }
            }
        }
    }
    if !saved.plan.destroy {
        for (name, p) in prior {
            if !saved.plan.outputs.contains_key(name) {
                let text = if p.sensitive {
                    "(sensitive value)".to_string()
                } else {
                    fmt_value(&Value::from_json(&p.value))
                };
                lines.push(format!(
                    "  {} {name:<width$} = {text} -> null",
                    style.op(Op::Remove)
                ));
            }
        }
    } else {
        for (name, p) in prior {
            let text = if p.sensitive {
                "(sensitive value)".to_string()
            } else {
                fmt_value(&Value::from_json(&p.value))
            };
            lines.push(format!(
                "  {} {name:<width$} = {text} -> null",
                style.op(Op::Remove)
            ));
        }
    }
    lines
}

fn render_change(
    out: &mut String,
    c: &PlannedChange,
    schema: Option<&Schema>,
    sensitive: &[AttrPath],
    connectivity: Option<String>,
    style: Style,
) {
    for (i, line) in headline(c).lines().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "  {}", style.bold(line));
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(note) = connectivity {
        for line in note.lines() {
            let _ = writeln!(
                out,
                "  {}",
                style.red(&format!("# (!) connectivity: {line}"))
            );
        }
    }
    let before = c
        .before
        .as_ref()
        .map(Value::from_json)
        .unwrap_or(Value::Null);
    // A forgotten object stays as it is: shown unchanged.
    let after = match c.action {
        Action::Forget => before.clone(),
        _ => c.after.clone().unwrap_or(Value::Null),
    };
    let replace_paths: Vec<AttrPath> = c.replace.iter().map(|r| r.path.clone()).collect();
    render_resource_block(
        out,
        &c.addr,
        c.action,
        schema,
        &before,
        &after,
        &replace_paths,
        sensitive,
        style,
    );
    for r in &c.replace {
        if r.path.is_empty() {
            let _ = writeln!(out, "    # {}", r.reason);
        } else {
            let _ = writeln!(
                out,
                "    # {} forces replacement: {}",
                r.path.join("."),
                r.reason
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn render_resource_block(
    out: &mut String,
    addr: &ResourceAddress,
    action: Action,
    schema: Option<&Schema>,
    before: &Value,
    after: &Value,
    replace_paths: &[AttrPath],
    sensitive: &[AttrPath],
    style: Style,
) {
    let keyword = if addr.mode == Mode::Data {
        "data"
    } else {
        "resource"
    };
    let _ = writeln!(
        out,
        "{} {keyword} \"{}\" \"{}\" {{",
        symbol(action, &style),
        addr.type_name,
        addr.name
    );
    let empty = Schema::default();
    let schema = schema.unwrap_or(&empty);
    let changed = if matches!(action, Action::Create | Action::Delete) {
        Vec::new()
    } else {
        changed_paths(schema, before, after)
    };
    let ctx = BodyCtx {
        changed: &changed,
        replace_paths,
        sensitive,
        style,
    };
    render_body(out, schema, before, after, action, &mut Vec::new(), 6, &ctx);
    let _ = writeln!(out, "    }}");
}

struct BodyCtx<'a> {
    changed: &'a [AttrPath],
    replace_paths: &'a [AttrPath],
    sensitive: &'a [AttrPath],
    style: Style,
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn render_body(
    out: &mut String,
    schema: &Schema,
    before: &Value,
    after: &Value,
    action: Action,
    path: &mut Vec<String>,
    indent: usize,
    ctx: &BodyCtx<'_>,
) {
    let pad = " ".repeat(indent);
    let style = ctx.style;
    // Decide what each attribute shows, then align the `=` over the shown ones.
    let mut rows: Vec<(&str, Op, &Value, &Value, bool, bool)> = Vec::new();
    let mut hidden_attrs = 0usize;
    for (name, attr) in &schema.attributes {
        let old = before.get(name);
        let new = after.get(name);
        path.push(name.to_string());
        let forces = ctx.replace_paths.iter().any(|p| p == path);
        let sens = attr.sensitive || ctx.sensitive.iter().any(|p| p == path);
        let is_changed = ctx.changed.iter().any(|p| p == path);
        path.pop();
        let op = match action {
            Action::Create => {
                if is_empty_value(new) {
                    continue;
                }
                Op::Add
            }
            Action::Delete => {
                if is_empty_value(old) {
                    continue;
                }
                Op::Remove
            }
            _ if is_changed => {
                if is_empty_value(old) {
                    Op::Add
                } else if is_empty_value(new) {
                    Op::Remove
                } else {
                    Op::Change
                }
            }
            _ => {
                if (*name == "id" || *name == "name") && !(new.is_null() && old.is_null()) {
                    Op::Same
                } else {
                    if !is_empty_value(old) || !is_empty_value(new) {
                        hidden_attrs += 1;
                    }
                    continue;
                }
            }
        };
        rows.push((name, op, old, new, sens, forces));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (name, op, old, new, sens, forces) in rows {
        let suffix = if forces {
            format!(" {}", style.red("# forces replacement"))
        } else {
            String::new()
        };
        let shown_new = if op == Op::Same && new.is_unknown() {
            old
        } else {
            new
        };
        render_attr(
            out, &pad, name, width, op, old, shown_new, sens, &suffix, style,
        );
    }

    let mut hidden_blocks = 0usize;
    for (name, block) in &schema.blocks {
        let olds = before.get(name).as_list().unwrap_or(&[]);
        let news = after.get(name).as_list().unwrap_or(&[]);
        let n = olds.len().max(news.len());
        for i in 0..n {
            path.push(name.to_string());
            let block_forces = ctx.replace_paths.iter().any(|p| p == path);
            path.push(i.to_string());
            let o = olds.get(i).cloned().unwrap_or(Value::Null);
            let nw = news.get(i).cloned().unwrap_or(Value::Null);
            let block_action = match (action, o.is_null(), nw.is_null()) {
                (Action::Create, ..) | (_, true, false) => Action::Create,
                (Action::Delete, ..) | (_, false, true) => Action::Delete,
                (a, ..) => a,
            };
            let block_changed = ctx
                .changed
                .iter()
                .any(|p| p.starts_with(path) || p.as_slice() == &path[..path.len() - 1]);
            let forces = block_forces
                || ctx
                    .replace_paths
                    .iter()
                    .any(|p| p.as_slice() == path.as_slice());
            if matches!(block_action, Action::Create | Action::Delete) || block_changed {
                let op = match block_action {
                    Action::Create => Op::Add,
                    Action::Delete => Op::Remove,
                    _ => Op::Change,
                };
                let suffix = if forces {
                    format!(" {}", style.red("# forces replacement"))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{pad}{} {name} {{{suffix}", style.op(op));
                render_body(
                    out,
                    &block.body,
                    &o,
                    &nw,
                    block_action,
                    path,
                    indent + 4,
                    ctx,
                );
                let _ = writeln!(out, "{pad}  }}");
            } else {
                hidden_blocks += 1;
            }
            path.pop();
            path.pop();
        }
    }
    if !matches!(action, Action::Create | Action::Delete) {
        if hidden_attrs > 0 {
            let _ = writeln!(
                out,
                "{pad}  {}",
                style.dim(&format!(
                    "# ({hidden_attrs} unchanged attribute{} hidden)",
                    if hidden_attrs == 1 { "" } else { "s" }
                ))
            );
        }
        if hidden_blocks > 0 {
            let _ = writeln!(
                out,
                "{pad}  {}",
                style.dim(&format!(
                    "# ({hidden_blocks} unchanged block{} hidden)",
                    if hidden_blocks == 1 { "" } else { "s" }
                ))
            );
        }
    }
}

/// One attribute line (or several, for collections and long strings).
#[allow(clippy::too_many_arguments)]
fn render_attr(
    out: &mut String,
    pad: &str,
    name: &str,
    width: usize,
    op: Op,
    old: &Value,
    new: &Value,
    sensitive: bool,
    suffix: &str,
    style: Style,
) {
    let sym = style.op(op);
    let lhs = format!("{pad}{sym} {name:<width$} =");
    if sensitive {
        let text = |v: &Value| {
            if v.is_unknown() {
                "(known after apply)".to_string()
            } else {
                "(sensitive value)".to_string()
            }
        };
        let line = match op {
            Op::Add | Op::Same => text(new),
            Op::Remove => format!("{} -> null", text(old)),
            Op::Change if new.is_unknown() => format!("{} -> (known after apply)", text(old)),
            Op::Change => text(new),
        };
        let _ = writeln!(out, "{lhs} {line}{suffix}");
        return;
    }
    match op {
        Op::Add | Op::Same => {
            let _ = write!(out, "{lhs} ");
            write_value(out, pad, new, op, style);
            let _ = writeln!(out, "{suffix}");
        }
        Op::Remove => {
            let _ = write!(out, "{lhs} ");
            write_value(out, pad, old, Op::Remove, style);
            let _ = writeln!(out, " -> null{suffix}");
        }
        Op::Change => match (old, new) {
            (Value::String(a), Value::String(b)) if is_long(a) || is_long(b) => {
                let _ = writeln!(out, "{lhs} <<-EOT{suffix}");
                let diff = TextDiff::from_lines(a.as_str(), b.as_str());
                for change in diff.iter_all_changes() {
                    let line = change.value().trim_end_matches('\n');
                    let mark = match change.tag() {
                        ChangeTag::Delete => style.red("-"),
                        ChangeTag::Insert => style.green("+"),
                        ChangeTag::Equal => " ".into(),
                    };
                    let _ = writeln!(out, "{pad}    {mark} {line}");
                }
                let _ = writeln!(out, "{pad}  EOT");
            }
            (Value::List(a), Value::List(b)) if !a.is_empty() && !b.is_empty() => {
                let _ = writeln!(out, "{lhs} [{suffix}");
                let olds: Vec<String> = a.iter().map(fmt_value).collect();
                let news: Vec<String> = b.iter().map(fmt_value).collect();
                let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &olds, &news);
                let mut hidden = 0usize;
                for d in &ops {
                    for ch in d.iter_changes(&olds, &news) {
                        let v = ch.value();
                        match ch.tag() {
                            ChangeTag::Equal => hidden += 1,
                            ChangeTag::Delete => {
                                let _ = writeln!(out, "{pad}    {} {v},", style.red("-"));
                            }
                            ChangeTag::Insert => {
                                let _ = writeln!(out, "{pad}    {} {v},", style.green("+"));
                            }
                        }
                    }
                }
                if hidden > 0 {
                    let _ = writeln!(
                        out,
                        "{pad}      {}",
                        style.dim(&format!(
                            "# ({hidden} unchanged element{} hidden)",
                            if hidden == 1 { "" } else { "s" }
                        ))
                    );
                }
                let _ = writeln!(out, "{pad}  ]");
            }
            (Value::Object(a), Value::Object(b)) if !a.is_empty() && !b.is_empty() => {
                let _ = writeln!(out, "{lhs} {{{suffix}");
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                let w = keys.iter().map(|k| k.len() + 2).max().unwrap_or(0);
                let mut hidden = 0usize;
                for k in keys {
                    let quoted = format!("{k:?}");
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) if x == y => hidden += 1,
                        (Some(x), Some(y)) => {
                            let _ = writeln!(
                                out,
                                "{pad}    {} {quoted:<w$} = {} -> {}",
                                style.yellow("~"),
                                fmt_value(x),
                                fmt_value(y)
                            );
                        }
                        (Some(x), None) => {
                            let _ = writeln!(
                                out,
                                "{pad}    {} {quoted:<w$} = {} -> null",
                                style.red("-"),
                                fmt_value(x)
                            );
                        }
                        (None, Some(y)) => {
                            let _ = writeln!(
                                out,
                                "{pad}    {} {quoted:<w$} = {}",
                                style.green("+"),
                                fmt_value(y)
                            );
                        }
                        (None, None) => {}
                    }
                }
                if hidden > 0 {
                    let _ = writeln!(
                        out,
                        "{pad}      {}",
                        style.dim(&format!(
                            "# ({hidden} unchanged element{} hidden)",
                            if hidden == 1 { "" } else { "s" }
                        ))
                    );
                }
                let _ = writeln!(out, "{pad}  }}");
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{lhs} {} -> {}{suffix}",
                    fmt_value(old),
                    fmt_value(new)
                );
            }
        },
    }
}

fn is_long(s: &str) -> bool {
    s.contains('\n') || s.chars().count() > LONG_STRING
}

/// A whole value after `name = `, multi-line for non-empty collections and multi-line strings.
fn write_value(out: &mut String, pad: &str, v: &Value, op: Op, style: Style) {
    let mark = style.op(op);
    match v {
        Value::List(items) if !items.is_empty() => {
            out.push_str("[\n");
            for item in items {
                let _ = writeln!(out, "{pad}    {mark} {},", fmt_value(item));
            }
            let _ = write!(out, "{pad}  ]");
        }
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            let w = map.keys().map(|k| k.len() + 2).max().unwrap_or(0);
            for (k, item) in map {
                let quoted = format!("{k:?}");
                let _ = writeln!(out, "{pad}    {mark} {quoted:<w$} = {}", fmt_value(item));
            }
            let _ = write!(out, "{pad}  }}");
        }
        Value::String(s) if s.contains('\n') => {
            out.push_str("<<-EOT\n");
            for line in s.lines() {
                let _ = writeln!(out, "{pad}      {line}");
            }
            let _ = write!(out, "{pad}  EOT");
        }
        other => out.push_str(&fmt_value(other)),
    }
}

/// One value as HCL-ish text.
pub fn fmt_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) => format!("{s:?}"),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(fmt_value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", fmt_value(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::PlannedOutput;
    use crate::provider::{
        OpContext, PlanChangeRequest, PlanChangeResponse, ProviderDiagnostic, ProviderError,
        ReplaceCause,
    };
    use crate::schema::{AttrSchema, AttrType, ResourceType, Timeouts};
    use std::collections::BTreeMap;

    pub(crate) struct Fake(pub(crate) Vec<ResourceType>);

    #[async_trait::async_trait]
    impl Provider for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn resource_types(&self) -> &[ResourceType] {
            &self.0
        }
        fn validate(&self, _: &str, _: &Value) -> Vec<ProviderDiagnostic> {
            Vec::new()
        }
        fn plan_change(&self, _: PlanChangeRequest<'_>) -> PlanChangeResponse {
            PlanChangeResponse::default()
        }
        fn object_id(&self, _: &str, _: &Value) -> Option<String> {
            None
        }
        async fn read(
            &self,
            _: &str,
            _: &serde_json::Value,
        ) -> Result<Option<serde_json::Value>, ProviderError> {
            Ok(None)
        }
        async fn create(
            &self,
            _: &str,
            _: &Value,
            _: &OpContext,
        ) -> Result<serde_json::Value, ProviderError> {
            Ok(serde_json::Value::Null)
        }
        async fn update(
            &self,
            _: &str,
            _: &serde_json::Value,
            _: &Value,
            _: &OpContext,
        ) -> Result<serde_json::Value, ProviderError> {
            Ok(serde_json::Value::Null)
        }
        async fn delete(
            &self,
            _: &str,
            _: &serde_json::Value,
            _: &OpContext,
        ) -> Result<(), ProviderError> {
            Ok(())
        }
    }

    pub(crate) fn provider() -> Fake {
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(AttrType::String))
            .attr("name", AttrSchema::required(AttrType::String).force_new())
            .attr("script", AttrSchema::optional(AttrType::String))
            .attr(
                "prefixes",
                AttrSchema::optional(AttrType::List(Box::new(AttrType::String))),
            )
            .attr(
                "tags",
                AttrSchema::optional(AttrType::Map(Box::new(AttrType::String))),
            )
            .attr("secret", AttrSchema::optional(AttrType::String).sensitive())
            .attr("size", AttrSchema::optional(AttrType::Number));
        Fake(vec![ResourceType {
            name: "thing",
            schema,
            timeouts: Timeouts::minutes(1, 1, 1, 1),
        }])
    }

    fn change(action: Action, before: serde_json::Value, after: Option<Value>) -> PlannedChange {
        PlannedChange {
            addr: ResourceAddress::new("thing", "a"),
            action,
            before: (action != Action::Create).then_some(before),
            after,
            replace: Vec::new(),
            dependencies: Vec::new(),
            deferred: None,
            reason: None,
        }
    }

    fn plan(changes: Vec<PlannedChange>) -> Plan {
        Plan {
            changes,
            outputs: BTreeMap::new(),
            prior_lineage: None,
            prior_serial: 0,
            destroy: false,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn update_shows_line_diff_folded_attributes_and_redacts_secrets() {
        let before = serde_json::json!({
            "id": "/x/a", "name": "a", "script": "line one\nline two\nline three\n",
            "prefixes": ["10.0.0.0/24", "10.0.1.0/24"], "tags": {"env": "dev", "team": "net"},
            "secret": "hunter2", "size": 3
        });
        let mut after = Value::from_json(&before);
        if let Value::Object(m) = &mut after {
            m.insert("script".into(), "line one\nline 2\nline three\n".into());
            m.insert(
                "prefixes".into(),
                Value::List(vec!["10.0.0.0/24".into(), "10.0.2.0/24".into()]),
            );
            m.insert("secret".into(), "swordfish".into());
            let mut tags = BTreeMap::new();
            tags.insert("env".to_string(), Value::from("prod"));
            tags.insert("team".to_string(), Value::from("net"));
            m.insert("tags".into(), Value::Object(tags));
        }
        let text = render_plan(
            &plan(vec![change(Action::Update, before, Some(after))]),
            &provider(),
            Style::default(),
        );
        assert!(
            text.contains("# thing.a will be updated in-place"),
            "{text}"
        );
        assert!(text.contains("      - line two\n"), "{text}");
        assert!(text.contains("      + line 2\n"), "{text}");
        assert!(text.contains("- \"10.0.1.0/24\","), "{text}");
        assert!(text.contains("= \"dev\" -> \"prod\""), "{text}");
        assert!(text.contains("secret   = (sensitive value)"), "{text}");
        assert!(!text.contains("hunter2") && !text.contains("swordfish"));
        assert!(text.contains("# (1 unchanged attribute hidden)"), "{text}");
        assert!(text.contains("Plan: 0 to add, 1 to change, 0 to destroy."));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn replace_marks_forcing_attribute_and_colour_only_when_asked() {
        let before = serde_json::json!({"id": "/x/a", "name": "a"});
        let mut c = change(
            Action::DeleteThenCreate,
            before,
            Some(Value::from_json(
                &serde_json::json!({"id": "/x/b", "name": "b"}),
            )),
        );
        c.replace.push(ReplaceCause {
            path: vec!["name".into()],
            reason: "names are immutable".into(),
        });
        c.reason = Some("replace_because_cannot_update");
        let p = plan(vec![c]);
        let text = render_plan(&p, &provider(), Style::default());
        assert!(text.contains("-/+ resource \"thing\" \"a\" {"), "{text}");
        assert!(
            text.contains("~ name = \"a\" -> \"b\" # forces replacement"),
            "{text}"
        );
        assert!(text.contains("Plan: 1 to add, 0 to change, 1 to destroy."));
        let coloured = render_plan(&p, &provider(), Style { color: true });
        assert!(coloured.contains("\x1b[31m"));
    }

    #[test]
    fn create_shows_unknowns_and_outputs() {
        let mut after = BTreeMap::new();
        after.insert("id".to_string(), Value::Unknown);
        after.insert("name".to_string(), Value::from("a"));
        after.insert("secret".to_string(), Value::from("s3cret"));
        let mut p = plan(vec![change(
            Action::Create,
            serde_json::Value::Null,
            Some(Value::Object(after)),
        )]);
        p.outputs.insert(
            "key".into(),
            PlannedOutput {
                value: "s3cret".into(),
                sensitive: true,
            },
        );
        let text = render_plan(&p, &provider(), Style::default());
        assert!(text.contains("+ id     = (known after apply)"), "{text}");
        assert!(text.contains("+ secret = (sensitive value)"), "{text}");
        assert!(
            text.contains("Changes to Outputs:\n  + key = (sensitive value)"),
            "{text}"
        );
        assert!(!text.contains("s3cret"));
    }
}
