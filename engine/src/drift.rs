//! Drift: what changed outside netform, found by comparing state before and after refresh.
//! Pure: two `State`s in, a list of differences out.

use crate::addr::ResourceAddress;
use crate::plan::Action;
use crate::state::State;

/// One object that changed outside netform since the last apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub addr: ResourceAddress,
    /// `Update` (attributes differ) or `Delete` (the object is gone).
    pub action: Action,
    /// Attributes as netform last recorded them.
    pub before: serde_json::Value,
    /// Attributes as refresh read them; `None` when the object was deleted.
    pub after: Option<serde_json::Value>,
}

/// Compare state before refresh with state after refresh. Sorted by address.
pub fn detect(before: &State, refreshed: &State) -> Vec<Drift> {
    let mut out = Vec::new();
    for addr in before.addresses() {
        let Some(old) = before.get(&addr) else {
            continue;
        };
        match refreshed.get(&addr) {
            None => out.push(Drift {
                addr,
                action: Action::Delete,
                before: old.attributes.clone(),
                after: None,
            }),
            Some(new) if !same(&old.attributes, &new.attributes) => out.push(Drift {
                addr,
                action: Action::Update,
                before: old.attributes.clone(),
                after: Some(new.attributes.clone()),
            }),
            Some(_) => {}
        }
    }
    out.sort_by(|a, b| a.addr.cmp(&b.addr));
    out
}

/// Equal as values: numbers compare by value (`1` and `1.0`), nulls equal missing keys.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.iter().all(|(k, v)| same(v, y.get(k).unwrap_or(&J::Null)))
                && y.iter()
                    .filter(|(k, _)| !x.contains_key(*k))
                    .all(|(_, v)| same(&J::Null, v))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_updates_and_deletes_and_ignores_equal_numbers() {
        let mut before = State::new("l".into());
        let a = ResourceAddress::new("azurerm_resource_group", "a");
        let b = ResourceAddress::new("azurerm_resource_group", "b");
        let c = ResourceAddress::new("azurerm_resource_group", "c");
        before.set(&a, "p", json!({"n": 1, "tags": {"x": "1"}}), vec![], vec![]);
        before.set(&b, "p", json!({"n": 1}), vec![], vec![]);
        before.set(&c, "p", json!({"n": 1}), vec![], vec![]);
        let mut after = before.clone();
        after.set(
            &a,
            "p",
            json!({"n": 1.0, "tags": {"x": "2"}}),
            vec![],
            vec![],
        );
        after.set(&b, "p", json!({"n": 1.0, "extra": null}), vec![], vec![]);
        after.remove(&c);
        let d = detect(&before, &after);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].addr.clone(), d[0].action), (a, Action::Update));
        assert_eq!((d[1].addr.clone(), d[1].action), (c, Action::Delete));
    }

    #[test]
    fn a_key_only_one_side_has_counts_unless_it_is_null() {
        use serde_json::json;
        assert!(same(&json!({"a": null, "b": 1}), &json!({"b": 1.0})));
        assert!(same(&json!({"b": 1}), &json!({"b": 1, "c": null})));
        assert!(!same(&json!({"b": 1}), &json!({"b": 1, "c": "x"})));
        assert!(!same(&json!({"b": 1, "c": []}), &json!({"b": 1})));
    }
}
