//! Helpers for the provider's HTTP tests: planning like the engine does, and op contexts that
//! record progress.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use netform_azure::{AzureProvider, AzureSettings};
use netform_engine::Value;
use netform_engine::proposal::propose;
use netform_engine::provider::{OpContext, PlanChangeRequest, Provider, World};
use netform_engine::schema::Schema;
use serde_json::Value as Json;

pub struct NoWorld;

impl World for NoWorld {
    fn prior_by_id(&self, _id: &str) -> Option<&Json> {
        None
    }
    fn planned_by_id(&self, _id: &str) -> Option<(&str, &Value)> {
        None
    }
}

pub fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::String(s.to_string())).collect())
}

pub fn num(n: f64) -> Value {
    Value::Number(n)
}

/// Apply schema defaults and empty block lists, as the engine's decoder does.
pub fn decode(schema: &Schema, cfg: &Value) -> Value {
    let Value::Object(src) = cfg else {
        return cfg.clone();
    };
    let mut map = src.clone();
    for (name, attr) in &schema.attributes {
        if let Some(alias) = attr.aliases.iter().find(|a| map.contains_key(**a))
            && let Some(v) = map.remove(*alias)
        {
            map.insert(name.to_string(), v);
        }
        if !map.contains_key(*name) {
            map.insert(
                name.to_string(),
                attr.default.clone().unwrap_or(Value::Null),
            );
        }
    }
    for (name, block) in &schema.blocks {
        let items = map
            .get(*name)
            .and_then(|v| v.as_list())
            .unwrap_or(&[])
            .iter()
            .map(|i| decode(&block.body, i))
            .collect();
        map.insert(name.to_string(), Value::List(items));
    }
    Value::Object(map)
}

/// Decode, validate (panics on errors) and plan like the engine: returns the planned value.
pub fn planned(p: &AzureProvider, type_name: &str, prior: Option<&Json>, cfg: &Value) -> Value {
    let Some(rt) = p.resource_type(type_name) else {
        panic!("unknown type {type_name}")
    };
    let config = decode(&rt.schema, cfg);
    let diags: Vec<_> = p
        .validate(type_name, &config)
        .into_iter()
        .filter(|d| d.severity == netform_engine::provider::Severity::Error)
        .collect();
    assert!(diags.is_empty(), "{type_name}: {diags:?}");
    let (proposed, replace) = propose(&rt.schema, prior, &config);
    let resp = p.plan_change(PlanChangeRequest {
        type_name,
        prior,
        config: &config,
        proposed,
        replace,
        world: &NoWorld,
    });
    assert!(
        resp.diagnostics.is_empty(),
        "{type_name}: {:?}",
        resp.diagnostics
    );
    assert!(
        resp.replace.is_empty() || prior.is_none(),
        "{type_name}: unexpected replacement {:?}",
        resp.replace
    );
    resp.planned
}

#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn ctx(&self, timeout: Duration) -> OpContext {
        let sink = self.0.clone();
        OpContext {
            timeout,
            progress: Arc::new(move |msg: String| {
                if let Ok(mut v) = sink.lock() {
                    v.push(msg);
                }
            }),
        }
    }
    pub fn messages(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

pub fn ctx() -> OpContext {
    OpContext::quiet(Duration::from_secs(60))
}

pub fn emulator_settings(base: &str) -> AzureSettings {
    AzureSettings {
        max_poll_interval: Duration::from_millis(50),
        default_poll_interval: Duration::from_millis(20),
        retry_base_delay: Duration::from_millis(20),
        retry_max_delay: Duration::from_millis(200),
        ..AzureSettings::for_emulator(base)
    }
}
