//! The JSON plan representation of `terraform show -json`, format_version "1.2", so that the
//! policy and cost tools that read Terraform plans (OPA/conftest, Infracost) read ours.
//!
//! Deterministic, byte for byte: keys in a fixed order, resources sorted by address, no
//! timestamp. One deliberate difference from Terraform: sensitive values are *redacted*
//! (`null`) instead of printed in plain text; `before_sensitive` / `after_sensitive` /
//! `sensitive_values` still mark where they are, exactly as Terraform marks them.
//! Pure: returns a `String`.

use std::collections::BTreeMap;

use serde_json::{Map, Value as J, json};

use crate::addr::{InstanceKey, Mode, ResourceAddress};
use crate::config::{Config, SourceFile};
use crate::plan::{Action, PlannedChange};
use crate::planfile::SavedPlan;
use crate::provider::{AttrPath, Provider};
use crate::refs::{self, RefTarget};
use crate::schema::Schema;
use crate::value::Value;

pub const FORMAT_VERSION: &str = "1.2";

/// Render the whole JSON plan document (pretty-printed, trailing newline).
pub fn render(saved: &SavedPlan, provider: &dyn Provider) -> String {
    let doc = document(saved, provider);
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The JSON plan as a value.
pub fn document(saved: &SavedPlan, provider: &dyn Provider) -> J {
    let plan = &saved.plan;
    let provider_name = provider.name().to_string();
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("terraform_version".into(), json!(env!("CARGO_PKG_VERSION")));
    let variables: Map<String, J> = saved
        .variables
        .iter()
        .map(|(k, v)| {
            let value = if v.sensitive {
                J::Null
            } else {
                v.value.to_json()
            };
            (k.clone(), json!({ "value": value }))
        })
        .collect();
    if !variables.is_empty() {
        doc.insert("variables".into(), J::Object(variables));
    }
    let ctx = Ctx {
        provider,
        provider_name: &provider_name,
        saved,
    };

    // planned_values: what the state will hold after apply (known values only).
    let mut planned = Vec::new();
    if !saved.mode.refresh_only {
        for c in plan.changes.iter().filter(|c| c.deferred.is_none()) {
            if let Some(after) = &c.after {
                let mask = ctx.sensitive_mask(&c.addr, after);
                planned.push(resource_values(
                    &ctx,
                    &c.addr,
                    &redact(&known_only(after), &mask),
                    mask,
                    None,
                ));
            }
        }
    } else {
        planned = state_resources(&ctx, &refreshed_after_drift(saved));
    }
    let mut planned_values = Map::new();
    let outputs = planned_outputs(saved);
    if !outputs.is_empty() {
        planned_values.insert("outputs".into(), J::Object(outputs));
    }
    planned_values.insert("root_module".into(), module_tree(planned));
    doc.insert("planned_values".into(), J::Object(planned_values));

    if !saved.drift.is_empty() {
        let drift: Vec<J> = saved
            .drift
            .iter()
            .map(|d| {
                let before = Value::from_json(&d.before);
                let after = d.after.as_ref().map(Value::from_json);
                let actions: &[&str] = match d.action {
                    Action::Delete => &["delete"],
                    _ => &["update"],
                };
                resource_change(
                    &ctx,
                    &d.addr,
                    actions,
                    Some(&before),
                    after.as_ref(),
                    &[],
                    None,
                )
            })
            .collect();
        doc.insert("resource_drift".into(), J::Array(drift));
    }

    let mut changes = Vec::new();
    let mut deferred = Vec::new();
    if !saved.mode.refresh_only {
        for c in &plan.changes {
            let rc = change_json(&ctx, c);
            match &c.deferred {
                None => changes.push(rc),
                Some(_) if c.action == Action::NoOp => changes.push(rc),
                Some(_) => deferred.push(json!({
                    "reason": "absent_prereq",
                    "resource_change": rc,
                })),
            }
        }
    }
    doc.insert("resource_changes".into(), J::Array(changes));
    if !deferred.is_empty() {
        doc.insert("deferred_changes".into(), J::Array(deferred));
    }
    let output_changes = output_changes(saved);
    if !output_changes.is_empty() {
        doc.insert("output_changes".into(), J::Object(output_changes));
    }
    if !saved.prior_state.resources.is_empty() || !saved.prior_state.outputs.is_empty() {
        let mut values = Map::new();
        let outs = state_outputs(&saved.prior_state);
        if !outs.is_empty() {
            values.insert("outputs".into(), J::Object(outs));
        }
        values.insert(
            "root_module".into(),
            module_tree(state_resources(&ctx, &saved.prior_state)),
        );
        doc.insert(
            "prior_state".into(),
            json!({
                "format_version": "1.0",
                "terraform_version": env!("CARGO_PKG_VERSION"),
                "values": J::Object(values),
            }),
        );
    }
    doc.insert("configuration".into(), saved.configuration.clone());
    doc.insert("applyable".into(), json!(saved.has_changes()));
    doc.insert(
        "complete".into(),
        json!(plan.deferred_count() == 0 && saved.mode.targets.is_empty()),
    );
    doc.insert("errored".into(), json!(false));
    J::Object(doc)
}

struct Ctx<'a> {
    provider: &'a dyn Provider,
    provider_name: &'a str,
    saved: &'a SavedPlan,
}

impl Ctx<'_> {
    fn schema(&self, type_name: &str) -> Option<&Schema> {
        self.provider.resource_type(type_name).map(|t| &t.schema)
    }

    /// Terraform's sensitivity mirror: `true` where sensitive, objects/lists mirrored, `{}`
    /// for an object with nothing sensitive.
    fn sensitive_mask(&self, addr: &ResourceAddress, v: &Value) -> J {
        let extra = self.saved.sensitive_for(addr);
        match self.schema(&addr.type_name) {
            Some(schema) => mask_body(schema, v, extra, &mut Vec::new()),
            // Without a schema (`terraform_data`), whole top-level arguments are marked.
            None => J::Object(
                extra
                    .iter()
                    .filter_map(|p| p.first())
                    .map(|k| (k.clone(), J::Bool(true)))
                    .collect(),
            ),
        }
    }
}

fn mask_body(schema: &Schema, v: &Value, extra: &[AttrPath], path: &mut Vec<String>) -> J {
    let mut out = Map::new();
    for (name, attr) in &schema.attributes {
        path.push(name.to_string());
        let value = v.get(name);
        if attr.sensitive || extra.iter().any(|p| p == path) {
            out.insert(name.to_string(), J::Bool(true));
        } else if let Some(m) = container_mask(value) {
            out.insert(name.to_string(), m);
        }
        path.pop();
    }
    for (name, block) in &schema.blocks {
        path.push(name.to_string());
        let items = v.get(name).as_list().unwrap_or(&[]);
        let masks: Vec<J> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                path.push(i.to_string());
                let m = mask_body(&block.body, item, extra, path);
                path.pop();
                m
            })
            .collect();
        out.insert(name.to_string(), J::Array(masks));
        path.pop();
    }
    J::Object(out)
}

/// Lists and maps are mirrored even when nothing in them is sensitive, as Terraform does.
fn container_mask(v: &Value) -> Option<J> {
    match v {
        Value::List(items) => Some(J::Array(
            items
                .iter()
                .map(|i| container_mask(i).unwrap_or(J::Bool(false)))
                .collect(),
        )),
        Value::Object(_) => Some(J::Object(Map::new())),
        _ => None,
    }
}

/// Replace values marked `true` in `mask` with null.
fn redact(v: &J, mask: &J) -> J {
    match (v, mask) {
        (_, J::Bool(true)) => J::Null,
        (J::Object(m), J::Object(mm)) => J::Object(
            m.iter()
                .map(|(k, x)| {
                    (
                        k.clone(),
                        match mm.get(k) {
                            Some(sub) => redact(x, sub),
                            None => x.clone(),
                        },
                    )
                })
                .collect(),
        ),
        (J::Array(items), J::Array(masks)) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| match masks.get(i) {
                    Some(sub) => redact(x, sub),
                    None => x.clone(),
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// JSON of the known parts of a value: unknown attributes are left out of objects (Terraform
/// omits them from `after` and marks them in `after_unknown`).
fn known_only(v: &Value) -> J {
    match v {
        Value::Unknown => J::Null,
        Value::Object(m) => J::Object(
            m.iter()
                .filter(|(_, x)| !x.is_unknown())
                .map(|(k, x)| (k.clone(), known_only(x)))
                .collect(),
        ),
        Value::List(items) => J::Array(items.iter().map(known_only).collect()),
        other => other.to_json(),
    }
}

/// Terraform's `after_unknown`: `false` for a null value, else a mirror with `true` leaves.
fn unknown_mask(v: Option<&Value>) -> J {
    match v {
        None | Some(Value::Null) => J::Bool(false),
        Some(v) => v.unknown_mask(),
    }
}

/// `["name", 0, "tier"]`: list indices as numbers.
fn json_path(p: &AttrPath) -> J {
    J::Array(
        p.iter()
            .map(|s| match s.parse::<u64>() {
                Ok(n) => json!(n),
                Err(_) => json!(s),
            })
            .collect(),
    )
}

fn address_fields(out: &mut Map<String, J>, ctx: &Ctx<'_>, addr: &ResourceAddress) {
    out.insert("address".into(), json!(addr.to_string()));
    let module = addr.module_path();
    if !module.is_empty() {
        out.insert("module_address".into(), json!(module));
    }
    out.insert(
        "mode".into(),
        json!(match addr.mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }),
    );
    out.insert("type".into(), json!(addr.type_name));
    out.insert("name".into(), json!(addr.name));
    if let Some(k) = &addr.key {
        out.insert("index".into(), k.to_json());
    }
    out.insert("provider_name".into(), json!(ctx.provider_name));
}

fn resource_change(
    ctx: &Ctx<'_>,
    addr: &ResourceAddress,
    actions: &[&str],
    before: Option<&Value>,
    after: Option<&Value>,
    replace_paths: &[AttrPath],
    reason: Option<&str>,
) -> J {
    let mut out = Map::new();
    address_fields(&mut out, ctx, addr);
    let before_mask = before
        .filter(|b| !b.is_null())
        .map(|b| ctx.sensitive_mask(addr, b));
    let after_mask = after
        .filter(|a| !a.is_null())
        .map(|a| ctx.sensitive_mask(addr, a));
    let mut change = Map::new();
    change.insert("actions".into(), json!(actions));
    change.insert(
        "before".into(),
        match (before, &before_mask) {
            (Some(b), Some(m)) => redact(&b.to_json(), m),
            _ => J::Null,
        },
    );
    change.insert(
        "after".into(),
        match (after, &after_mask) {
            (Some(a), Some(m)) => redact(&known_only(a), m),
            _ => J::Null,
        },
    );
    change.insert("after_unknown".into(), unknown_mask(after));
    change.insert(
        "before_sensitive".into(),
        before_mask.unwrap_or(J::Bool(false)),
    );
    change.insert(
        "after_sensitive".into(),
        after_mask.unwrap_or(J::Bool(false)),
    );
    if !replace_paths.is_empty() {
        change.insert(
            "replace_paths".into(),
            J::Array(replace_paths.iter().map(json_path).collect()),
        );
    }
    out.insert("change".into(), J::Object(change));
    if let Some(r) = reason {
        out.insert("action_reason".into(), json!(r));
    }
    J::Object(out)
}

fn change_json(ctx: &Ctx<'_>, c: &PlannedChange) -> J {
    let before = c.before.as_ref().map(Value::from_json);
    let paths: Vec<AttrPath> = c
        .replace
        .iter()
        .filter(|r| !r.path.is_empty())
        .map(|r| r.path.clone())
        .collect();
    resource_change(
        ctx,
        &c.addr,
        c.action.terraform_actions(),
        before.as_ref(),
        c.after.as_ref(),
        &paths,
        c.reason,
    )
}

fn resource_values(
    ctx: &Ctx<'_>,
    addr: &ResourceAddress,
    values: &J,
    sensitive: J,
    depends_on: Option<Vec<String>>,
) -> (String, J) {
    let mut out = Map::new();
    address_fields(&mut out, ctx, addr);
    out.insert("schema_version".into(), json!(0));
    out.insert("values".into(), values.clone());
    out.insert("sensitive_values".into(), sensitive);
    if let Some(deps) = depends_on.filter(|d| !d.is_empty()) {
        out.insert("depends_on".into(), json!(deps));
    }
    (addr.module_path(), J::Object(out))
}

/// `root_module` with `resources` and `child_modules`, nested by module path as Terraform
/// nests them (`module.a.module.b` under `module.a`).
fn module_tree(resources: Vec<(String, J)>) -> J {
    let mut by_module: BTreeMap<String, Vec<J>> = BTreeMap::new();
    for (module, r) in resources {
        let mut path = module.clone();
        while !path.is_empty() {
            path = parent_module(&path).to_string();
            by_module.entry(path.clone()).or_default();
        }
        by_module.entry(module).or_default().push(r);
    }
    module_node(&mut by_module, "")
}

fn parent_module(path: &str) -> &str {
    path.rfind(".module.").map(|i| &path[..i]).unwrap_or("")
}

fn module_node(by_module: &mut BTreeMap<String, Vec<J>>, path: &str) -> J {
    let mut node = Map::new();
    let resources = by_module.remove(path).unwrap_or_default();
    if !resources.is_empty() {
        node.insert("resources".into(), J::Array(resources));
    }
    if !path.is_empty() {
        node.insert("address".into(), json!(path));
    }
    let children: Vec<String> = by_module
        .keys()
        .filter(|k| !k.is_empty() && parent_module(k) == path)
        .cloned()
        .collect();
    if !children.is_empty() {
        let nodes: Vec<J> = children.iter().map(|c| module_node(by_module, c)).collect();
        node.insert("child_modules".into(), J::Array(nodes));
    }
    J::Object(node)
}

fn state_resources(ctx: &Ctx<'_>, state: &crate::state::State) -> Vec<(String, J)> {
    let mut out = Vec::new();
    for r in &state.resources {
        let base = crate::state::resource_address(r);
        for inst in &r.instances {
            let addr = base
                .clone()
                .with_key(inst.index_key.as_ref().and_then(InstanceKey::from_json));
            let v = Value::from_json(&inst.attributes);
            let mask = ctx.sensitive_mask(&addr, &v);
            out.push(resource_values(
                ctx,
                &addr,
                &redact(&inst.attributes, &mask),
                mask,
                Some(inst.dependencies.clone()),
            ));
        }
    }
    out
}

/// The state a refresh-only apply would record.
fn refreshed_after_drift(saved: &SavedPlan) -> crate::state::State {
    saved.prior_state.clone()
}

fn planned_outputs(saved: &SavedPlan) -> Map<String, J> {
    saved
        .plan
        .outputs
        .iter()
        .map(|(k, o)| {
            let mut m = Map::new();
            m.insert("sensitive".into(), json!(o.sensitive));
            if let Some(t) = type_json(&o.value) {
                m.insert("type".into(), t);
            }
            if !o.value.contains_unknown() {
                m.insert(
                    "value".into(),
                    if o.sensitive {
                        J::Null
                    } else {
                        o.value.to_json()
                    },
                );
            }
            (k.clone(), J::Object(m))
        })
        .collect()
}

fn state_outputs(state: &crate::state::State) -> Map<String, J> {
    state
        .outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                J::Null
            } else {
                o.value.clone()
            };
            (
                k.clone(),
                json!({"sensitive": o.sensitive, "type": o.ty, "value": value}),
            )
        })
        .collect()
}

/// A value's type in cty's JSON form (`"string"`, `["tuple", [...]]`, `["object", {...}]`);
/// `None` while unknown.
fn type_json(v: &Value) -> Option<J> {
    Some(match v {
        Value::Unknown => return None,
        Value::Null => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::List(items) => json!([
            "tuple",
            items.iter().map(type_json).collect::<Option<Vec<_>>>()?
        ]),
        Value::Object(m) => {
            let mut fields = Map::new();
            for (k, x) in m {
                fields.insert(k.clone(), type_json(x)?);
            }
            json!(["object", fields])
        }
    })
}

fn output_changes(saved: &SavedPlan) -> Map<String, J> {
    let prior = &saved.prior_state.outputs;
    let mut out = Map::new();
    let mut names: Vec<&String> = saved.plan.outputs.keys().chain(prior.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let old = prior.get(name);
        let new = if saved.plan.destroy {
            None
        } else {
            saved.plan.outputs.get(name)
        };
        let actions: &[&str] = match (old, new) {
            (None, Some(_)) => &["create"],
            (Some(_), None) => &["delete"],
            (Some(o), Some(n)) if Value::from_json(&o.value) == n.value => &["no-op"],
            (Some(_), Some(_)) => &["update"],
            (None, None) => continue,
        };
        let before_sensitive = old.is_some_and(|o| o.sensitive);
        let after_sensitive = new.is_some_and(|n| n.sensitive);
        let before = match old {
            Some(o) if !o.sensitive => o.value.clone(),
            _ => J::Null,
        };
        let after = match new {
            Some(n) if !n.sensitive => known_only(&n.value),
            _ => J::Null,
        };
        out.insert(
            name.clone(),
            json!({
                "actions": actions,
                "before": before,
                "after": after,
                "after_unknown": new.is_some_and(|n| n.value.is_unknown()),
                "before_sensitive": before_sensitive,
                "after_sensitive": after_sensitive,
            }),
        );
    }
    out
}

/// Terraform's `configuration` object, from the configuration (computed when planning).
pub fn configuration(config: &Config, provider_name: &str) -> J {
    let short = provider_name.rsplit('/').next().unwrap_or(provider_name);
    let mut resources = Vec::new();
    let mut sorted: Vec<_> = config.resources.iter().collect();
    sorted.sort_by(|a, b| a.addr.cmp(&b.addr));
    for r in sorted {
        let mut m = Map::new();
        m.insert("address".into(), json!(r.addr.to_string()));
        m.insert(
            "mode".into(),
            json!(match r.addr.mode {
                Mode::Managed => "managed",
                Mode::Data => "data",
            }),
        );
        m.insert("type".into(), json!(r.addr.type_name));
        m.insert("name".into(), json!(r.addr.name));
        m.insert("provider_config_key".into(), json!(short));
        m.insert(
            "expressions".into(),
            body_expressions(&r.body, r.file, &config.sources),
        );
        m.insert("schema_version".into(), json!(0));
        if let Some(dep) = r.body.get_attribute("depends_on") {
            let mut refs_found = Vec::new();
            refs::in_expr(&dep.value, r.file, &mut refs_found);
            let deps: Vec<String> = refs_found.iter().filter_map(ref_text).collect();
            m.insert("depends_on".into(), json!(deps));
        }
        for (meta, key) in [
            ("count", "count_expression"),
            ("for_each", "for_each_expression"),
        ] {
            if let Some(a) = r.body.get_attribute(meta) {
                m.insert(key.into(), expression(&a.value, r.file, &config.sources));
            }
        }
        resources.push(J::Object(m));
    }
    let outputs: Map<String, J> = config
        .outputs
        .values()
        .map(|o| {
            let mut m = Map::new();
            if o.sensitive {
                m.insert("sensitive".into(), json!(true));
            }
            m.insert(
                "expression".into(),
                expression(&o.expr, o.file, &config.sources),
            );
            if let Some(d) = &o.description {
                m.insert("description".into(), json!(d));
            }
            (o.name.clone(), J::Object(m))
        })
        .collect();
    let variables: Map<String, J> = config
        .variables
        .values()
        .map(|v| {
            let mut m = Map::new();
            if let Some(d) = v.default.as_ref().and_then(literal) {
                m.insert("default".into(), if v.sensitive { J::Null } else { d });
            }
            if let Some(d) = &v.description {
                m.insert("description".into(), json!(d));
            }
            if v.sensitive {
                m.insert("sensitive".into(), json!(true));
            }
            (v.name.clone(), J::Object(m))
        })
        .collect();
    let mut root = Map::new();
    if !outputs.is_empty() {
        root.insert("outputs".into(), J::Object(outputs));
    }
    root.insert("resources".into(), J::Array(resources));
    if !variables.is_empty() {
        root.insert("variables".into(), J::Object(variables));
    }
    json!({
        "provider_config": {
            short: { "name": short, "full_name": provider_name }
        },
        "root_module": J::Object(root),
    })
}

const META_ARGUMENTS: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
];

fn body_expressions(body: &hcl_edit::structure::Body, file: usize, sources: &[SourceFile]) -> J {
    let mut out = Map::new();
    let mut attrs: Vec<_> = body
        .attributes()
        .filter(|a| !META_ARGUMENTS.contains(&a.key.as_str()))
        .collect();
    attrs.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    for a in attrs {
        out.insert(
            a.key.as_str().to_string(),
            expression(&a.value, file, sources),
        );
    }
    let mut blocks: BTreeMap<String, Vec<J>> = BTreeMap::new();
    for b in body.blocks() {
        let name = b.ident.as_str();
        if META_ARGUMENTS.contains(&name) || name == "timeouts" {
            continue;
        }
        blocks
            .entry(name.to_string())
            .or_default()
            .push(body_expressions(&b.body, file, sources));
    }
    for (k, v) in blocks {
        out.insert(k, J::Array(v));
    }
    J::Object(out)
}

/// Terraform's reference text; `None` for kinds this renderer does not name yet
/// (module outputs are being added to `refs`).
#[allow(unreachable_patterns)]
fn ref_text(r: &refs::Reference) -> Option<String> {
    match &r.target {
        RefTarget::Var(v) => Some(format!("var.{v}")),
        RefTarget::Local(l) => Some(format!("local.{l}")),
        RefTarget::Resource(a) => Some(a.to_string()),
        _ => None,
    }
}

/// `{"constant_value": …}` for a literal, `{"references": […]}` for an expression with
/// references, unwrapped as Terraform does (`azurerm_subnet.gw.id`, then `azurerm_subnet.gw`).
fn expression(expr: &hcl_edit::expr::Expression, file: usize, sources: &[SourceFile]) -> J {
    let mut found = Vec::new();
    refs::in_expr(expr, file, &mut found);
    if found.is_empty() {
        return match literal(expr) {
            Some(v) => json!({ "constant_value": v }),
            None => json!({}),
        };
    }
    let mut texts: Vec<String> = Vec::new();
    for r in &found {
        let Some(base) = ref_text(r) else { continue };
        if matches!(r.target, RefTarget::Resource(_))
            && let Some(attr) = r.span.as_ref().and_then(|sp| next_attr(sources, sp))
        {
            texts.push(format!("{base}.{attr}"));
        }
        texts.push(base);
    }
    let mut seen = std::collections::BTreeSet::new();
    texts.retain(|t| seen.insert(t.clone()));
    json!({ "references": texts })
}

/// The `.attr` right after a reference's span in the source, if there is one.
fn next_attr(sources: &[SourceFile], span: &crate::diag::Span) -> Option<String> {
    let text = sources.get(span.file)?.text.get(span.range.end..)?;
    let rest = text.strip_prefix('.')?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (len > 0).then(|| rest[..len].to_string())
}

/// The JSON of a literal expression (no references, no function calls), if it is one.
fn literal(expr: &hcl_edit::expr::Expression) -> Option<J> {
    use hcl_edit::expr::{Expression as E, ObjectKey};
    Some(match expr {
        E::Null(_) => J::Null,
        E::Bool(b) => J::Bool(*b.value()),
        E::Number(n) => {
            let f = n.value().as_f64()?;
            Value::Number(f).to_json()
        }
        E::String(s) => J::String(s.value().to_string()),
        E::Array(items) => J::Array(items.iter().map(literal).collect::<Option<Vec<_>>>()?),
        E::Object(obj) => {
            let mut m = Map::new();
            for (k, v) in obj.iter() {
                let key = match k {
                    ObjectKey::Ident(id) => id.as_str().to_string(),
                    ObjectKey::Expression(e) => match literal(e)? {
                        J::String(s) => s,
                        _ => return None,
                    },
                };
                m.insert(key, literal(v.expr())?);
            }
            J::Object(m)
        }
        E::StringTemplate(_) | E::HeredocTemplate(_) => return None,
        E::Parenthesis(p) => literal(p.inner())?,
        _ => return None,
    })
}

/// Attribute paths whose configuration expression holds a sensitive value (a sensitive
/// variable, directly or through locals and modules, or `sensitive(...)`).
pub fn sensitive_paths(config: &Config) -> BTreeMap<ResourceAddress, Vec<AttrPath>> {
    crate::sensitivity::Sensitivity::analyze(config).resource_paths(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ReplaceCause;
    use crate::render::tests::provider;

    fn saved() -> SavedPlan {
        let mut after = std::collections::BTreeMap::new();
        after.insert("id".to_string(), Value::Unknown);
        after.insert("name".to_string(), Value::from("b"));
        after.insert("secret".to_string(), Value::from("hunter2"));
        after.insert("script".to_string(), Value::from("from-a-sensitive-var"));
        let change = PlannedChange {
            addr: ResourceAddress::new("thing", "a"),
            action: Action::DeleteThenCreate,
            before: Some(json!({"id": "/x/a", "name": "a", "secret": "old", "script": "s"})),
            after: Some(Value::Object(after)),
            replace: vec![ReplaceCause {
                path: vec!["name".into()],
                reason: "immutable".into(),
            }],
            dependencies: Vec::new(),
            deferred: None,
            reason: Some("replace_because_cannot_update"),
        };
        let plan = crate::plan::Plan {
            changes: vec![change],
            outputs: BTreeMap::new(),
            prior_lineage: None,
            prior_serial: 0,
            destroy: false,
            warnings: Vec::new(),
        };
        let mut saved = SavedPlan::bare(plan);
        saved.sensitive_paths.insert(
            ResourceAddress::new("thing", "a"),
            vec![vec!["script".into()]],
        );
        saved
    }

    #[test]
    fn change_representation_redacts_and_mirrors_like_terraform() {
        let text = render(&saved(), &provider());
        assert!(!text.contains("hunter2") && !text.contains("from-a-sensitive-var"));
        assert!(!text.contains("\"old\""));
        let doc: J = serde_json::from_str(&text).expect("json");
        let rc = &doc["resource_changes"][0];
        assert_eq!(rc["change"]["actions"], json!(["delete", "create"]));
        assert_eq!(rc["action_reason"], "replace_because_cannot_update");
        assert_eq!(rc["change"]["replace_paths"], json!([["name"]]));
        assert_eq!(rc["change"]["after_unknown"], json!({"id": true}));
        assert_eq!(rc["change"]["after"]["secret"], J::Null);
        assert_eq!(rc["change"]["after_sensitive"]["secret"], true);
        assert_eq!(rc["change"]["after_sensitive"]["script"], true);
        assert_eq!(rc["change"]["before_sensitive"]["secret"], true);
        assert!(
            rc["change"]["after"].get("id").is_none(),
            "unknowns are omitted"
        );
        assert_eq!(doc["format_version"], "1.2");
        assert_eq!(render(&saved(), &provider()), text, "deterministic");
    }

    #[test]
    fn child_modules_nest_by_path() {
        let tree = module_tree(vec![
            ("".into(), json!("root")),
            ("module.a.module.b".into(), json!("ab")),
            ("module.a".into(), json!("a")),
            ("module.c[\"k\"]".into(), json!("c")),
        ]);
        assert_eq!(
            tree,
            json!({
                "resources": ["root"],
                "child_modules": [
                    {"resources": ["a"], "address": "module.a", "child_modules": [
                        {"resources": ["ab"], "address": "module.a.module.b"}
                    ]},
                    {"resources": ["c"], "address": "module.c[\"k\"]"}
                ]
            })
        );
    }

    #[test]
    fn sensitive_paths_follow_sensitive_variables() {
        let src = "variable \"psk\" {\n  sensitive = true\n  default = \"x\"\n}\nresource \"thing\" \"a\" {\n  name = \"a\"\n  secret = \"${var.psk}-1\"\n  block {\n    key = var.psk\n  }\n}\n";
        let (config, _) = crate::config::load(vec![SourceFile {
            name: "main.tf".into(),
            text: src.into(),
        }]);
        let paths = sensitive_paths(&config);
        let got = paths
            .get(&ResourceAddress::new("thing", "a"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            got,
            vec![
                vec!["secret".to_string()],
                vec!["block".to_string(), "0".to_string(), "key".to_string()]
            ]
        );
        let conf = configuration(&config, "registry.terraform.io/hashicorp/fake");
        let exprs = &conf["root_module"]["resources"][0]["expressions"];
        assert_eq!(exprs["name"], json!({"constant_value": "a"}));
        assert_eq!(exprs["secret"], json!({"references": ["var.psk"]}));
        assert!(conf["root_module"]["variables"]["psk"]["default"].is_null());
    }
}
