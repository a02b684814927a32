//! State in the spirit of Terraform's v4 format, and the store contract.
//!
//! The engine only builds and edits `State` values; reading and writing them (atomically,
//! with a backup) is a `StateStore`'s job, implemented outside the engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::addr::ResourceAddress;

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
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub provider: String,
    pub instances: Vec<InstanceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
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
        self.position(addr)
            .ok()
            .and_then(|i| self.resources[i].instances.first())
    }

    pub fn addresses(&self) -> impl Iterator<Item = ResourceAddress> + '_ {
        self.resources
            .iter()
            .map(|r| ResourceAddress::new(&r.type_name, &r.name))
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    fn position(&self, addr: &ResourceAddress) -> Result<usize, usize> {
        self.resources.binary_search_by(|r| {
            (r.type_name.as_str(), r.name.as_str())
                .cmp(&(addr.type_name.as_str(), addr.name.as_str()))
        })
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
        let instance = InstanceState {
            schema_version: 0,
            attributes,
            sensitive_attributes: sensitive_paths,
            dependencies,
        };
        match self.position(addr) {
            Ok(i) => self.resources[i].instances = vec![instance],
            Err(i) => self.resources.insert(
                i,
                ResourceState {
                    mode: "managed".into(),
                    type_name: addr.type_name.clone(),
                    name: addr.name.clone(),
                    provider: format!("provider[\"{provider}\"]"),
                    instances: vec![instance],
                },
            ),
        }
    }

    pub fn remove(&mut self, addr: &ResourceAddress) -> Option<InstanceState> {
        let i = self.position(addr).ok()?;
        self.resources.remove(i).instances.into_iter().next()
    }
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
}
