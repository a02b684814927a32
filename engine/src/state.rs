//! State in the spirit of Terraform's v4 format, and the store contract.
//!
//! The engine only builds and edits `State` values; reading and writing them (atomically,
//! with a backup) is a `StateStore`'s job, implemented outside the engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::addr::{InstanceKey, Mode, ResourceAddress};

pub const STATE_VERSION: u32 = 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub netform_version: String,
    pub serial: u64,
    pub lineage: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    #[serde(default)]
    pub resources: Vec<ResourceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: serde_json::Value,
    #[serde(rename = "type")]
    pub ty: serde_json::Value,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `module.a.module.b`; absent for the root module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    /// `"list"` for `count`, `"map"` for `for_each`; absent for a single instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    pub provider: String,
    pub instances: Vec<InstanceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<serde_json::Value>,
    pub schema_version: u32,
    pub attributes: serde_json::Value,
    #[serde(default)]
    pub sensitive_attributes: Vec<serde_json::Value>,
    #[serde(default)]
    pub dependencies: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state is not valid JSON: {0}")]
    Corrupt(String),
    #[error("state format version {0} is not supported (expected {STATE_VERSION})")]
    Version(u32),
    #[error("{0}")]
    Store(String),
}

impl State {
    pub fn new(lineage: String) -> Self {
        State {
            version: STATE_VERSION,
            netform_version: env!("CARGO_PKG_VERSION").to_string(),
            serial: 0,
            lineage,
            outputs: BTreeMap::new(),
            resources: Vec::new(),
        }
    }

    pub fn from_json(text: &str) -> Result<Self, StateError> {
        let state: State =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        if state.version != STATE_VERSION {
            return Err(StateError::Version(state.version));
        }
        Ok(state)
    }

    /// Pretty JSON with a trailing newline; resources sorted, so output is deterministic.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }

    pub fn get(&self, addr: &ResourceAddress) -> Option<&InstanceState> {
        let r = &self.resources[self.position(addr).ok()?];
        let key = addr.key.as_ref().map(InstanceKey::to_json);
        r.instances.iter().find(|i| i.index_key == key)
    }

    /// Every instance address in state, in state order.
    pub fn addresses(&self) -> impl Iterator<Item = ResourceAddress> + '_ {
        self.resources.iter().flat_map(|r| {
            let base = resource_address(r);
            r.instances.iter().map(move |i| {
                base.clone()
                    .with_key(i.index_key.as_ref().and_then(InstanceKey::from_json))
            })
        })
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    fn position(&self, addr: &ResourceAddress) -> Result<usize, usize> {
        let want = sort_key_of(addr);
        self.resources.binary_search_by(|r| sort_key(r).cmp(&want))
    }

    /// Record the object at `addr` (replacing what was there).
    pub fn set(
        &mut self,
        addr: &ResourceAddress,
        provider: &str,
        attributes: serde_json::Value,
        sensitive_paths: Vec<serde_json::Value>,
        dependencies: Vec<String>,
    ) {
        let index_key = addr.key.as_ref().map(InstanceKey::to_json);
        let instance = InstanceState {
            index_key: index_key.clone(),
            schema_version: 0,
            attributes,
            sensitive_attributes: sensitive_paths,
            dependencies,
        };
        let i = match self.position(addr) {
            Ok(i) => i,
            Err(i) => {
                let module = addr.module_path();
                self.resources.insert(
                    i,
                    ResourceState {
                        module: (!module.is_empty()).then_some(module),
                        mode: match addr.mode {
                            Mode::Managed => "managed".into(),
                            Mode::Data => "data".into(),
                        },
                        type_name: addr.type_name.clone(),
                        name: addr.name.clone(),
                        each: None,
                        provider: format!("provider[\"{provider}\"]"),
                        instances: Vec::new(),
                    },
                );
                i
            }
        };
        let r = &mut self.resources[i];
        r.each = match &addr.key {
            Some(InstanceKey::Int(_)) => Some("list".into()),
            Some(InstanceKey::Str(_)) => Some("map".into()),
            None => None,
        };
        match r.instances.iter_mut().find(|x| x.index_key == index_key) {
            Some(existing) => *existing = instance,
            None => {
                r.instances.push(instance);
                r.instances.sort_by(|a, b| {
                    let k =
                        |i: &InstanceState| i.index_key.as_ref().and_then(InstanceKey::from_json);
                    k(a).cmp(&k(b))
                });
            }
        }
    }

    pub fn remove(&mut self, addr: &ResourceAddress) -> Option<InstanceState> {
        let i = self.position(addr).ok()?;
        let key = addr.key.as_ref().map(InstanceKey::to_json);
        let r = &mut self.resources[i];
        let at = r.instances.iter().position(|x| x.index_key == key)?;
        let removed = r.instances.remove(at);
        if r.instances.is_empty() {
            self.resources.remove(i);
        }
        Some(removed)
    }
}

/// The resource address (without instance key) a state entry describes.
pub fn resource_address(r: &ResourceState) -> ResourceAddress {
    let module = r
        .module
        .as_deref()
        .filter(|m| !m.is_empty())
        .and_then(|m| ResourceAddress::parse(&format!("{m}.x.x")))
        .map(|a| a.module)
        .unwrap_or_default();
    let a = ResourceAddress::new(&r.type_name, &r.name).in_module(module);
    if r.mode == "data" { a.data() } else { a }
}

type SortKey = (String, u8, String, String);

fn sort_key(r: &ResourceState) -> SortKey {
    (
        r.module.clone().unwrap_or_default(),
        u8::from(r.mode == "data"),
        r.type_name.clone(),
        r.name.clone(),
    )
}

fn sort_key_of(a: &ResourceAddress) -> SortKey {
    (
        a.module_path(),
        u8::from(a.mode == Mode::Data),
        a.type_name.clone(),
        a.name.clone(),
    )
}

/// Where state lives. Implementations write atomically and keep the previous version.
pub trait StateStore: Send + Sync {
    /// `Ok(None)` when no state exists yet.
    fn load(&self) -> Result<Option<State>, StateError>;
    fn save(&self, state: &State) -> Result<(), StateError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_resources_sorted() {
        let mut s = State::new("l".into());
        s.set(
            &ResourceAddress::new("b_t", "x"),
            "p",
            serde_json::json!({"id": "2"}),
            vec![],
            vec![],
        );
        s.set(
            &ResourceAddress::new("a_t", "y"),
            "p",
            serde_json::json!({"id": "1"}),
            vec![],
            vec!["b_t.x".into()],
        );
        let text = s.to_json();
        let back = State::from_json(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.resources[0].type_name, "a_t");
        assert!(State::from_json("{\"version\": 4,").is_err());
    }

    #[test]
    fn instances_with_keys_and_modules() {
        let mut s = State::new("l".into());
        let spoke = |k: &str| {
            ResourceAddress::parse(&format!("module.hub.azurerm_subnet.spoke[\"{k}\"]")).unwrap()
        };
        s.set(
            &spoke("b"),
            "p",
            serde_json::json!({"id": "b"}),
            vec![],
            vec![],
        );
        s.set(
            &spoke("a"),
            "p",
            serde_json::json!({"id": "a"}),
            vec![],
            vec![],
        );
        s.set(
            &ResourceAddress::new("t", "x"),
            "p",
            serde_json::json!({}),
            vec![],
            vec![],
        );
        let addrs: Vec<String> = s.addresses().map(|a| a.to_string()).collect();
        assert_eq!(
            addrs,
            vec![
                "t.x",
                "module.hub.azurerm_subnet.spoke[\"a\"]",
                "module.hub.azurerm_subnet.spoke[\"b\"]"
            ]
        );
        assert_eq!(s.get(&spoke("a")).unwrap().attributes["id"], "a");
        assert_eq!(s.resources[1].each.as_deref(), Some("map"));
        let back = State::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        s.remove(&spoke("a"));
        s.remove(&spoke("b"));
        assert_eq!(s.resources.len(), 1);
    }
}
