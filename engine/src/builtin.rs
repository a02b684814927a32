//! Resource types the engine implements itself, without a provider: `terraform_data`
//! (`input`, `output`, `triggers_replace`, `id`). Nothing leaves the process, so these are
//! cheap: planning and applying one is a few map operations.

use std::collections::BTreeMap;

use crate::plan::Action;
use crate::value::Value;

/// The provider name state records for built-in resources.
pub const PROVIDER: &str = "terraform.io/builtin/terraform";

/// Whether `type_name` is built into the engine.
pub fn is_builtin(type_name: &str) -> bool {
    type_name == "terraform_data"
}

/// Arguments `terraform_data` accepts.
pub const ARGUMENTS: &[&str] = &["input", "triggers_replace"];

/// The planned value and action of a `terraform_data` instance from its arguments
/// (`{input, triggers_replace}`) and its prior state.
pub fn plan(config: &Value, prior: Option<&serde_json::Value>) -> (Action, Value) {
    let input = config.get("input").clone();
    let triggers = config.get("triggers_replace").clone();
    let mut after = BTreeMap::new();
    after.insert("input".to_string(), input.clone());
    after.insert("output".to_string(), input.clone());
    after.insert("triggers_replace".to_string(), triggers.clone());
    let Some(prior) = prior else {
        after.insert("id".to_string(), Value::Unknown);
        return (Action::Create, Value::Object(after));
    };
    let prior = Value::from_json(prior);
    let replace = triggers.contains_unknown() || !same(prior.get("triggers_replace"), &triggers);
    if replace {
        after.insert("id".to_string(), Value::Unknown);
        return (Action::DeleteThenCreate, Value::Object(after));
    }
    after.insert("id".to_string(), prior.get("id").clone());
    if input.contains_unknown() {
        after.insert("output".to_string(), Value::Unknown);
        return (Action::Update, Value::Object(after));
    }
    let action = if same(prior.get("input"), &input) {
        Action::NoOp
    } else {
        Action::Update
    };
    (action, Value::Object(after))
}

fn same(a: &Value, b: &Value) -> bool {
    a.to_json() == b.to_json()
}

/// The state of a `terraform_data` instance after create or update with `config`'s final
/// (known) arguments.
pub fn apply(config: &Value, prior: Option<&serde_json::Value>) -> serde_json::Value {
    let id = prior
        .and_then(|p| p.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(crate::new_lineage);
    let input = config.get("input").to_json();
    serde_json::json!({
        "id": id,
        "input": input,
        "output": input,
        "triggers_replace": config.get("triggers_replace").to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(input: Value, triggers: Value) -> Value {
        Value::Object(
            [
                ("input".to_string(), input),
                ("triggers_replace".to_string(), triggers),
            ]
            .into_iter()
            .collect(),
        )
    }

    #[test]
    fn plans_create_update_replace_and_noop() {
        let (a, v) = plan(&cfg(Value::from("x"), Value::Null), None);
        assert_eq!(a, Action::Create);
        assert!(v.get("id").is_unknown());
        assert_eq!(v.get("output"), &Value::from("x"));
        let prior = apply(&cfg(Value::from("x"), Value::from("t1")), None);
        assert_eq!(
            plan(&cfg(Value::from("x"), Value::from("t1")), Some(&prior)).0,
            Action::NoOp
        );
        let (a, v) = plan(&cfg(Value::from("y"), Value::from("t1")), Some(&prior));
        assert_eq!(a, Action::Update);
        assert_eq!(v.get("id").as_str(), prior["id"].as_str());
        assert_eq!(
            plan(&cfg(Value::from("x"), Value::from("t2")), Some(&prior)).0,
            Action::DeleteThenCreate
        );
        let again = apply(&cfg(Value::from("y"), Value::from("t1")), Some(&prior));
        assert_eq!(again["id"], prior["id"]);
        assert_eq!(again["output"], "y");
    }
}
