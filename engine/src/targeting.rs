//! `--target` and `--replace` as passes over a finished [`Plan`]: they narrow or sharpen what
//! the planner decided, without touching the planner's per-resource loop. Pure.

use std::collections::BTreeSet;

use crate::addr::{ModuleStep, ResourceAddress};
use crate::plan::{Action, Plan};
use crate::provider::{Provider, ReplaceCause};
use crate::schema::{Presence, Schema};
use crate::value::Value;

/// What `--target` names: a resource (all its instances), one instance, or a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource(ResourceAddress),
    Module(Vec<ModuleStep>),
}

impl Target {
    pub fn parse(text: &str) -> Option<Target> {
        if let Some(a) = ResourceAddress::parse(text) {
            return Some(Target::Resource(a));
        }
        // `module.x` or `module.x["k"]`: parse it as the module path of a placeholder resource.
        if text.trim().starts_with("module.") {
            return ResourceAddress::parse(&format!("{}.t.n", text.trim()))
                .map(|a| Target::Module(a.module));
        }
        None
    }

    pub fn matches(&self, addr: &ResourceAddress) -> bool {
        match self {
            Target::Resource(t) if t.key.is_some() => t == addr,
            Target::Resource(t) => *t == addr.resource(),
            Target::Module(steps) => {
                addr.module.len() >= steps.len()
                    && steps.iter().zip(&addr.module).all(|(want, have)| {
                        want.name == have.name && (want.key.is_none() || want.key == have.key)
                    })
            }
        }
    }
}

fn parse_all(texts: &[String], flag: &str) -> Result<Vec<Target>, String> {
    texts
        .iter()
        .map(|t| {
            Target::parse(t).ok_or_else(|| {
                format!("{flag} \"{t}\": not a resource address (expected TYPE.NAME, TYPE.NAME[KEY] or module.NAME)")
            })
        })
        .collect()
}

/// Keep only the changes `--target` selects and everything they depend on (transitively).
/// Returns the addresses that matched no change (for a warning).
pub fn apply_targets(plan: &mut Plan, targets: &[String]) -> Result<Vec<String>, String> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let parsed = parse_all(targets, "--target")?;
    let unmatched: Vec<String> = targets
        .iter()
        .zip(&parsed)
        .filter(|(_, t)| !plan.changes.iter().any(|c| t.matches(&c.addr)))
        .map(|(s, _)| s.clone())
        .collect();
    let mut keep: BTreeSet<ResourceAddress> = plan
        .changes
        .iter()
        .filter(|c| parsed.iter().any(|t| t.matches(&c.addr)))
        .map(|c| c.addr.clone())
        .collect();
    loop {
        let mut new = Vec::new();
        for c in plan.changes.iter().filter(|c| keep.contains(&c.addr)) {
            for dep in &c.dependencies {
                for d in &plan.changes {
                    let hit = d.addr == *dep || (dep.key.is_none() && d.addr.resource() == *dep);
                    if hit && !keep.contains(&d.addr) {
                        new.push(d.addr.clone());
                    }
                }
            }
        }
        if new.is_empty() {
            break;
        }
        keep.extend(new);
    }
    plan.changes.retain(|c| keep.contains(&c.addr));
    Ok(unmatched)
}

/// Turn the changes `--replace` names into replacements (`replace_by_request`).
/// Computed attributes become unknown in the planned value (except `id`, which ARM derives
/// from names); an address that names nothing in the plan is an error.
pub fn apply_replace(
    plan: &mut Plan,
    replace: &[String],
    provider: &dyn Provider,
) -> Result<(), String> {
    let parsed = parse_all(replace, "--replace")?;
    for (text, target) in replace.iter().zip(&parsed) {
        let mut found = false;
        for c in plan.changes.iter_mut().filter(|c| target.matches(&c.addr)) {
            found = true;
            match c.action {
                Action::NoOp | Action::Update => {
                    c.action = Action::DeleteThenCreate;
                    c.reason = Some("replace_by_request");
                    c.replace.push(ReplaceCause {
                        path: Vec::new(),
                        reason: format!("replacement requested with --replace {text}"),
                    });
                    if let (Some(after), Some(rt)) =
                        (c.after.as_mut(), provider.resource_type(&c.addr.type_name))
                    {
                        unknown_computed(&rt.schema, after);
                    }
                }
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    c.reason = Some("replace_by_request");
                }
                Action::Create | Action::Delete | Action::Forget => {}
            }
        }
        if !found {
            return Err(format!(
                "--replace {text}: no such resource instance in the plan (it must exist in state and in the configuration)"
            ));
        }
    }
    Ok(())
}

fn unknown_computed(schema: &Schema, v: &mut Value) {
    let Value::Object(map) = v else { return };
    for (name, attr) in &schema.attributes {
        if attr.presence == Presence::Computed
            && *name != "id"
            && let Some(slot) = map.get_mut(*name)
        {
            *slot = Value::Unknown;
        }
    }
    for (name, block) in &schema.blocks {
        if let Some(Value::List(items)) = map.get_mut(*name) {
            for item in items {
                unknown_computed(&block.body, item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannedChange;
    use std::collections::BTreeMap;

    fn change(addr: &str, action: Action, deps: &[&str]) -> PlannedChange {
        PlannedChange {
            addr: ResourceAddress::parse(addr).expect("addr"),
            action,
            before: None,
            after: Some(Value::Object(BTreeMap::new())),
            replace: Vec::new(),
            dependencies: deps
                .iter()
                .map(|d| ResourceAddress::parse(d).expect("dep"))
                .collect(),
            deferred: None,
            reason: None,
        }
    }

    fn plan() -> Plan {
        Plan {
            changes: vec![
                change("azurerm_resource_group.hub", Action::Create, &[]),
                change(
                    "azurerm_subnet.gw",
                    Action::Create,
                    &["azurerm_virtual_network.hub"],
                ),
                change(
                    "azurerm_subnet.spoke[\"a\"]",
                    Action::Create,
                    &["azurerm_virtual_network.hub"],
                ),
                change(
                    "azurerm_virtual_network.hub",
                    Action::Create,
                    &["azurerm_resource_group.hub"],
                ),
                change("module.m.azurerm_resource_group.x", Action::Create, &[]),
            ],
            outputs: BTreeMap::new(),
            prior_lineage: None,
            prior_serial: 0,
            destroy: false,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn target_keeps_the_resource_and_its_dependencies() {
        let mut p = plan();
        let unmatched = apply_targets(
            &mut p,
            &["azurerm_subnet.gw".into(), "azurerm_x.nope".into()],
        )
        .expect("ok");
        let kept: Vec<String> = p.changes.iter().map(|c| c.addr.to_string()).collect();
        assert_eq!(
            kept,
            [
                "azurerm_resource_group.hub",
                "azurerm_subnet.gw",
                "azurerm_virtual_network.hub"
            ]
        );
        assert_eq!(unmatched, ["azurerm_x.nope"]);
        let mut p = plan();
        apply_targets(&mut p, &["module.m".into()]).expect("ok");
        assert_eq!(p.changes.len(), 1);
        let mut p = plan();
        apply_targets(&mut p, &["azurerm_subnet.spoke".into()]).expect("ok");
        assert_eq!(p.changes.len(), 3);
        assert!(apply_targets(&mut plan(), &["not an address".into()]).is_err());
    }
}
