//! Human-readable plan rendering in the conventions Terraform users read fluently.
//! Pure: builds strings, never prints.

use std::fmt::Write as _;

use crate::plan::{Action, Plan, PlannedChange, changed_paths};
use crate::provider::Provider;
use crate::schema::Schema;
use crate::value::{Value, format_number};

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
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
}

fn symbol(action: Action, style: &Style) -> String {
    match action {
        Action::Create => style.green("  +"),
        Action::Update => style.yellow("  ~"),
        Action::Delete => style.red("  -"),
        Action::DeleteThenCreate => format!("{}{}", style.red("-"), style.green("/+")),
        Action::CreateThenDelete => format!("{}{}", style.green("+/"), style.red("-")),
        Action::NoOp => "   ".into(),
    }
}

fn headline(c: &PlannedChange) -> String {
    match c.action {
        Action::Create => format!("# {} will be created", c.addr),
        Action::Update => format!("# {} will be updated in-place", c.addr),
        Action::Delete => match c.reason {
            Some("delete_because_no_resource_config") => format!(
                "# {} will be destroyed\n  # (because {} is not in configuration)",
                c.addr, c.addr
            ),
            _ => format!("# {} will be destroyed", c.addr),
        },
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            format!("# {} must be replaced", c.addr)
        }
        Action::NoOp => format!("# {} is up to date", c.addr),
    }
}

/// Render the whole plan; `provider` supplies schemas (for sensitivity and ordering).
pub fn render_plan(plan: &Plan, provider: &dyn Provider, style: Style) -> String {
    let mut out = String::new();
    let changes: Vec<&PlannedChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp && c.deferred.is_none())
        .collect();
    let deferred: Vec<&PlannedChange> = plan
        .changes
        .iter()
        .filter(|c| c.deferred.is_some())
        .collect();
    if changes.is_empty() && deferred.is_empty() {
        out.push_str(&style.bold("No changes."));
        out.push_str(" Your infrastructure matches the configuration.\n");
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
            let label = match a {
                Action::Create => "create",
                Action::Update => "update in-place",
                Action::Delete => "destroy",
                Action::DeleteThenCreate => "destroy and then create replacement",
                Action::CreateThenDelete => "create replacement and then destroy",
                Action::NoOp => continue,
            };
            let _ = writeln!(out, "{} {label}", symbol(a, &style));
        }
        out.push_str("\nnetform will perform the following actions:\n");
        for c in &changes {
            out.push('\n');
            let schema = provider.resource_type(&c.addr.type_name).map(|t| &t.schema);
            render_change(&mut out, c, schema, style);
        }
    }
    if !deferred.is_empty() {
        out.push_str("\nDeferred until a precondition outside netform is met (apply re-checks it when it gets there):\n");
        for c in &deferred {
            if let Some(d) = &c.deferred {
                let _ = writeln!(out, "\n  # {} is deferred: {}", c.addr, d.reason);
                let _ = writeln!(out, "  #   next step: {}", d.next_step);
            }
        }
    }
    let (add, change, destroy) = plan.counts();
    let _ = writeln!(
        out,
        "\n{} {add} to add, {change} to change, {destroy} to destroy.",
        style.bold("Plan:")
    );
    if !deferred.is_empty() {
        let _ = writeln!(
            out,
            "{} deferred until the connectivity provider acts.",
            deferred.len()
        );
    }
    out
}

fn render_change(out: &mut String, c: &PlannedChange, schema: Option<&Schema>, style: Style) {
    let _ = writeln!(out, "  {}", style.bold(&headline(c)));
    let _ = writeln!(
        out,
        "{} resource \"{}\" \"{}\" {{",
        symbol(c.action, &style),
        c.addr.type_name,
        c.addr.name
    );
    let before = c
        .before
        .as_ref()
        .map(Value::from_json)
        .unwrap_or(Value::Null);
    let after = c.after.clone().unwrap_or(Value::Null);
    let empty = Schema::default();
    let schema = schema.unwrap_or(&empty);
    let replace_paths: Vec<&Vec<String>> = c.replace.iter().map(|r| &r.path).collect();
    let changed = if c.action == Action::Update || c.action.is_replace() {
        changed_paths(schema, &before, &after)
    } else {
        Vec::new()
    };
    render_body(
        out,
        schema,
        &before,
        &after,
        c.action,
        &changed,
        &replace_paths,
        &mut Vec::new(),
        6,
        style,
    );
    let _ = writeln!(out, "    }}");
    for r in &c.replace {
        let _ = writeln!(
            out,
            "    # {} forces replacement: {}",
            r.path.join("."),
            r.reason
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn render_body(
    out: &mut String,
    schema: &Schema,
    before: &Value,
    after: &Value,
    action: Action,
    changed: &[Vec<String>],
    replace_paths: &[&Vec<String>],
    path: &mut Vec<String>,
    indent: usize,
    style: Style,
) {
    let pad = " ".repeat(indent);
    let width = schema
        .attributes
        .keys()
        .filter(|k| shown(action, before.get(k), after.get(k)))
        .map(|k| k.len())
        .max()
        .unwrap_or(0);
    let mut hidden = 0usize;
    for (name, attr) in &schema.attributes {
        let old = before.get(name);
        let new = after.get(name);
        path.push(name.to_string());
        let is_changed = changed.iter().any(|p| p == path);
        let forces = replace_paths.iter().any(|p| *p == path);
        let sens = attr.sensitive;
        let show = |v: &Value| {
            if sens && !v.is_null() && !v.is_unknown() {
                "(sensitive value)".to_string()
            } else {
                fmt_value(v)
            }
        };
        let suffix = if forces {
            format!(" {}", style.red("# forces replacement"))
        } else {
            String::new()
        };
        match action {
            Action::Create if shown(action, old, new) => {
                let _ = writeln!(
                    out,
                    "{pad}{} {name:<width$} = {}",
                    style.green("+"),
                    show(new)
                );
            }
            Action::Delete if !old.is_null() => {
                let _ = writeln!(
                    out,
                    "{pad}{} {name:<width$} = {} -> null",
                    style.red("-"),
                    show(old)
                );
            }
            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete if is_changed => {
                if old.is_null() {
                    let _ = writeln!(
                        out,
                        "{pad}{} {name:<width$} = {}{suffix}",
                        style.green("+"),
                        show(new)
                    );
                } else if new.is_null() {
                    let _ = writeln!(
                        out,
                        "{pad}{} {name:<width$} = {} -> null{suffix}",
                        style.red("-"),
                        show(old)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{} {name:<width$} = {} -> {}{suffix}",
                        style.yellow("~"),
                        show(old),
                        show(new)
                    );
                }
            }
            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
                if name == &"id" || name == &"name" =>
            {
                let v = if new.is_unknown() { old } else { new };
                if !v.is_null() {
                    let _ = writeln!(out, "{pad}  {name:<width$} = {}", show(v));
                }
            }
            _ => {
                if !old.is_null() || !new.is_null() {
                    hidden += 1;
                }
            }
        }
        path.pop();
    }
    for (name, block) in &schema.blocks {
        let olds = before.get(name).as_list().unwrap_or(&[]);
        let news = after.get(name).as_list().unwrap_or(&[]);
        let n = olds.len().max(news.len());
        for i in 0..n {
            path.push(name.to_string());
            path.push(i.to_string());
            let o = olds.get(i).cloned().unwrap_or(Value::Null);
            let nw = news.get(i).cloned().unwrap_or(Value::Null);
            let block_action = match (action, o.is_null(), nw.is_null()) {
                (Action::Create, ..) | (_, true, false) => Action::Create,
                (Action::Delete, ..) | (_, false, true) => Action::Delete,
                (a, ..) => a,
            };
            let block_changed = changed
                .iter()
                .any(|p| p.starts_with(path) || p.as_slice() == &path[..path.len() - 1]);
            if matches!(block_action, Action::Create | Action::Delete) || block_changed {
                let sym = match block_action {
                    Action::Create => style.green("+"),
                    Action::Delete => style.red("-"),
                    _ => style.yellow("~"),
                };
                let _ = writeln!(out, "{pad}{sym} {name} {{");
                render_body(
                    out,
                    &block.body,
                    &o,
                    &nw,
                    block_action,
                    changed,
                    replace_paths,
                    path,
                    indent + 4,
                    style,
                );
                let _ = writeln!(out, "{pad}  }}");
            } else {
                hidden += 1;
            }
            path.pop();
            path.pop();
        }
    }
    if hidden > 0 && !matches!(action, Action::Create | Action::Delete) {
        let _ = writeln!(out, "{pad}  # ({hidden} unchanged attributes hidden)");
    }
}

fn shown(action: Action, old: &Value, new: &Value) -> bool {
    match action {
        Action::Create => {
            !new.is_null()
                && !matches!(new, Value::List(l) if l.is_empty())
                && !matches!(new, Value::Object(m) if m.is_empty())
        }
        Action::Delete => !old.is_null(),
        _ => true,
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
