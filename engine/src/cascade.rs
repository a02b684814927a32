//! Replacements Azure forces on dependents.
//!
//! ARM ids are deterministic, so a replaced circuit keeps its id and nothing that references
//! it appears to change — yet Azure refuses to delete a circuit that still has peerings and
//! connections, a gateway with connections, a subnet holding a gateway. Terraform gets this
//! cascade because the id of a replaced object becomes unknown and `force_new` attributes that
//! reference it change; we make the same decision explicitly: a resource whose `force_new`
//! attribute (or `force_new` block) references a replaced resource is replaced too, and says why.

use crate::addr::ResourceAddress;
use crate::config::Config;
use crate::plan::{Action, Plan};
use crate::proposal::unknown_computed;
use crate::provider::{Provider, ReplaceCause};
use crate::refs::{self, RefTarget};

/// Extend `plan` with the replacements its replacements force. Runs to a fixpoint, so chains
/// (VNet → subnet → gateway → connection) are followed.
pub fn cascade_replacements(plan: &mut Plan, config: &Config, provider: &dyn Provider) {
    loop {
        let replaced: Vec<ResourceAddress> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_replace())
            .map(|c| c.addr.resource())
            .collect();
        let mut changed = false;
        for c in plan.changes.iter_mut() {
            if !matches!(c.action, Action::NoOp | Action::Update)
                || c.before.is_none()
                || c.deferred.is_some()
            {
                continue;
            }
            let Some(rc) = config.resource(&c.addr) else {
                continue;
            };
            let Some(rt) = provider.resource_type(&c.addr.type_name) else {
                continue;
            };
            let schema = &rt.schema;
            let mut causes = Vec::new();
            let references = |found: &[refs::Reference]| -> Option<ResourceAddress> {
                found.iter().find_map(|r| match &r.target {
                    RefTarget::Resource(a) if replaced.contains(&a.resource()) => {
                        Some(a.resource())
                    }
                    _ => None,
                })
            };
            for attr in rc.body.attributes() {
                let name = attr.key.as_str();
                if !schema.attributes.get(name).is_some_and(|a| a.force_new) {
                    continue;
                }
                let mut found = Vec::new();
                refs::in_expr(&attr.value, rc.file, &mut found);
                if let Some(dep) = references(&found) {
                    causes.push(ReplaceCause {
                        path: vec![name.to_string()],
                        reason: format!("{dep} is replaced, and Azure cannot keep this object across that (`{name}` refers to it)"),
                    });
                }
            }
            for block in rc.body.blocks() {
                let name = block.ident.as_str();
                let Some(bs) = schema.blocks.get(name) else {
                    continue;
                };
                let mut found = Vec::new();
                refs::in_body(&block.body, rc.file, &mut found);
                let Some(dep) = references(&found) else {
                    continue;
                };
                let forced_attr = block.body.attributes().find(|a| {
                    bs.body
                        .attributes
                        .get(a.key.as_str())
                        .is_some_and(|s| s.force_new)
                        && {
                            let mut f = Vec::new();
                            refs::in_expr(&a.value, rc.file, &mut f);
                            references(&f).is_some()
                        }
                });
                if bs.force_new || forced_attr.is_some() {
                    let mut path = vec![name.to_string()];
                    if let Some(a) = forced_attr {
                        path.push("0".into());
                        path.push(a.key.as_str().to_string());
                    }
                    causes.push(ReplaceCause {
                        path,
                        reason: format!("{dep} is replaced, and Azure cannot keep this object across that (`{name}` refers to it)"),
                    });
                }
            }
            if causes.is_empty() {
                continue;
            }
            c.action = Action::DeleteThenCreate;
            c.reason = Some("replace_because_cannot_update");
            c.replace.extend(causes);
            if let Some(after) = c.after.as_mut() {
                unknown_computed(schema, after);
                // The cloud id is deterministic: the new object gets the same one.
                if let (Some(id), crate::value::Value::Object(map)) = (
                    c.before
                        .as_ref()
                        .and_then(|b| b.get("id"))
                        .and_then(|v| v.as_str()),
                    after,
                ) {
                    map.insert("id".into(), crate::value::Value::String(id.to_string()));
                }
            }
            changed = true;
        }
        if !changed {
            break;
        }
    }
}
