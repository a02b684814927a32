//! `import {}` blocks: before refresh, each target the state does not hold yet is read by its
//! id and adopted into the (in-memory) state, so the plan compares the existing object with
//! the configuration instead of creating it. Nothing is written until apply.

use std::collections::{BTreeMap, HashMap};

use crate::addr::ResourceAddress;
use crate::config::Config;
use crate::decode::eval_error;
use crate::diag::Diagnostic;
use crate::eval::{Scope, eval};
use crate::provider::Provider;
use crate::state::State;
use crate::value::Value;

/// One object adopted from an `import` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub address: ResourceAddress,
    pub id: String,
}

/// Read and adopt every `import` target that `state` does not hold yet.
pub async fn adopt(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    state: &mut State,
    provider: &dyn Provider,
) -> (Vec<Imported>, Vec<Diagnostic>) {
    let mut imported = Vec::new();
    let mut diags = Vec::new();
    let empty = HashMap::new();
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    for block in &config.imports {
        let to = &block.to;
        if state.get(to).is_some() {
            continue; // already managed: the block has done its work
        }
        if config.resource(to).is_none() {
            diags.push(
                Diagnostic::error(format!("Import target {to} is not in the configuration"))
                    .label(
                        Some(block.to_span.clone()),
                        "no resource block for this address",
                    )
                    .help(format!(
                        "add `resource \"{}\" \"{}\" {{ ... }}` describing the object",
                        to.type_name, to.name
                    )),
            );
            continue;
        }
        let mut scope = Scope::new(block.file, vars, &config.locals, &empty, &declared, ".");
        let id = match eval(&block.id, &mut scope) {
            Ok(Value::String(id)) if !id.is_empty() => id,
            Ok(other) => {
                diags.push(
                    Diagnostic::error("The import id must be a known, non-empty string").label(
                        crate::config::span_of(block.file, &block.id),
                        format!("this is {}", other.type_name()),
                    ),
                );
                continue;
            }
            Err(e) => {
                diags.push(eval_error(e));
                continue;
            }
        };
        let alias = config.provider_alias(to);
        let provider = provider.for_alias(alias.as_deref());
        match provider
            .read(&to.type_name, &serde_json::json!({ "id": id }))
            .await
        {
            Ok(Some(attrs)) => {
                let sensitive = provider
                    .resource_type(&to.type_name)
                    .map(|rt| rt.schema.sensitive_paths())
                    .unwrap_or_default();
                let address =
                    crate::state::aliased_provider_address(provider.name(), alias.as_deref());
                state.set(to, &address, attrs, sensitive, Vec::new());
                imported.push(Imported {
                    address: to.clone(),
                    id,
                });
            }
            Ok(None) => diags.push(
                Diagnostic::error(format!("Cannot import non-existent remote object {id}"))
                    .label(
                        Some(block.span.clone()),
                        format!("no {} with this id exists", to.type_name),
                    )
                    .code("ResourceNotFound"),
            ),
            Err(e) => diags.push(
                Diagnostic::error(format!("Error importing {to}: {}", e.message)).label(
                    Some(block.span.clone()),
                    "while reading the object to import",
                ),
            ),
        }
    }
    (imported, diags)
}
