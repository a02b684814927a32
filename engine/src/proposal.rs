//! The generic part of planning one resource: merge config with prior state using the schema.
//!
//! Providers build on this in `plan_change`; keeping it here means every provider gets the
//! same rules for computed values, defaults and `force_new`.

use std::collections::BTreeMap;

use crate::provider::ReplaceCause;
use crate::schema::{AttrSchema, AttrType, Schema};
use crate::value::Value;

/// Merge `config` (decoded, defaults applied) with `prior` into a proposed value and the
/// replacements `force_new` attributes cause. When the resource is new or replaced, computed
/// attributes are unknown.
pub fn propose(
    schema: &Schema,
    prior: Option<&serde_json::Value>,
    config: &Value,
) -> (Value, Vec<ReplaceCause>) {
    let prior_value = prior.map(Value::from_json);
    let mut replace = Vec::new();
    let mut path = Vec::new();
    let mut proposed = merge_body(
        schema,
        prior_value.as_ref(),
        config,
        &mut path,
        &mut replace,
    );
    if !replace.is_empty() {
        // A replacement is a new object: nothing computed carries over from the old one.
        proposed = merge_body(schema, None, config, &mut path, &mut Vec::new());
    }
    if prior.is_none() || !replace.is_empty() {
        unknown_computed(schema, &mut proposed);
    }
    (proposed, replace)
}

fn merge_body(
    schema: &Schema,
    prior: Option<&Value>,
    config: &Value,
    path: &mut Vec<String>,
    replace: &mut Vec<ReplaceCause>,
) -> Value {
    let mut out = BTreeMap::new();
    for (name, attr) in &schema.attributes {
        let cfg = config.get(name);
        let old = prior.map(|p| p.get(name));
        let value = if attr.user_settable() && !cfg.is_null() {
            cfg.clone()
        } else if let (true, Some(old)) = (attr.computed_by_provider(), old) {
            old.clone()
        } else if attr.computed_by_provider() {
            Value::Unknown
        } else {
            attr.default.clone().unwrap_or(Value::Null)
        };
        if attr.force_new
            && let Some(old) = old
            && !values_equal(attr, old, &value)
        {
            path.push(name.to_string());
            replace.push(ReplaceCause {
                path: path.clone(),
                reason: format!("`{name}` cannot be changed in place"),
            });
            path.pop();
        }
        out.insert(name.to_string(), value);
    }
    for (name, block) in &schema.blocks {
        let cfg_items = config.get(name).as_list().unwrap_or(&[]);
        let old_items = prior.map(|p| p.get(name).as_list().unwrap_or(&[]));
        let mut items = Vec::with_capacity(cfg_items.len());
        path.push(name.to_string());
        let before = replace.len();
        for (i, item) in cfg_items.iter().enumerate() {
            path.push(i.to_string());
            let old_item = old_items.and_then(|o| o.get(i));
            items.push(merge_body(&block.body, old_item, item, path, replace));
            path.pop();
        }
        if let Some(old_items) = old_items {
            if block.force_new
                && replace.len() == before
                && !blocks_equal(&block.body, old_items, &items)
            {
                replace.push(ReplaceCause {
                    path: path.clone(),
                    reason: format!("`{name}` cannot be changed in place"),
                });
            }
            if old_items.len() != items.len() && block.force_new && replace.len() == before {
                replace.push(ReplaceCause {
                    path: path.clone(),
                    reason: format!("`{name}` blocks added or removed"),
                });
            }
        }
        path.pop();
        out.insert(name.to_string(), Value::List(items));
    }
    Value::Object(out)
}

fn blocks_equal(schema: &Schema, old: &[Value], new: &[Value]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|(o, n)| {
            schema
                .attributes
                .iter()
                .all(|(k, a)| values_equal(a, o.get(k), n.get(k)))
                && schema.blocks.iter().all(|(k, b)| {
                    blocks_equal(
                        &b.body,
                        o.get(k).as_list().unwrap_or(&[]),
                        n.get(k).as_list().unwrap_or(&[]),
                    )
                })
        })
}

/// Equality as the schema sees it: case-insensitive where declared, numbers by value, unknown
/// never equal to a known value.
pub fn values_equal(attr: &AttrSchema, old: &Value, new: &Value) -> bool {
    match (old, new) {
        (_, Value::Unknown) | (Value::Unknown, _) => false,
        (Value::String(a), Value::String(b)) if attr.case_insensitive => a.eq_ignore_ascii_case(b),
        (Value::List(a), Value::List(b)) if matches!(attr.ty, AttrType::Set(_)) => {
            let mut a: Vec<String> = a.iter().map(|v| v.to_json().to_string()).collect();
            let mut b: Vec<String> = b.iter().map(|v| v.to_json().to_string()).collect();
            a.sort();
            b.sort();
            a == b
        }
        (a, b) => loosely_equal(a, b),
    }
}

/// Equality that treats `"50"` and `50` alike, as Terraform's type conversion does.
pub fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            s.parse::<f64>().map(|y| y == *x).unwrap_or(false)
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| loosely_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loosely_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Set every provider-computed attribute (that the user did not set) to unknown: the object is
/// new or about to be rebuilt, so the cloud will assign them afresh.
pub fn unknown_computed(schema: &Schema, value: &mut Value) {
    let Value::Object(map) = value else { return };
    for (name, attr) in &schema.attributes {
        if attr.presence == crate::schema::Presence::Computed {
            map.insert(name.to_string(), Value::Unknown);
        } else if attr.presence == crate::schema::Presence::OptionalComputed {
            let entry = map.entry(name.to_string()).or_insert(Value::Unknown);
            if entry.is_null() {
                *entry = Value::Unknown;
            }
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
