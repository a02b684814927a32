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
    /// The pending-operation journal: operations sent to the cloud whose outcome is not
    /// recorded yet. Written before each create, update or delete is sent, cleared when its
    /// result is recorded; entries left by an interrupted run are reconciled by the next one
    /// (`apply::reconcile_pending`). Absent from files written before the journal existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingOp>,
}

/// What a pending operation was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingKind {
    Create,
    Update,
    Delete,
}

/// One journalled intent: enough to find the object again by its deterministic cloud id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    /// The instance address (`module.a.azurerm_subnet.s["x"]`).
    pub address: String,
    pub operation: PendingKind,
    /// The cloud id the object has (or will have): ARM ids are deterministic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provider the instance belongs to (as in `resources[].provider`).
    pub provider: String,
    /// What was sent (create/update: the planned value, unknowns as null) or the prior
    /// object (delete). Reads use it as the prior: the identifying attributes and the
    /// secrets the cloud does not return.
    pub attributes: serde_json::Value,
    #[serde(default)]
    pub sensitive_attributes: Vec<serde_json::Value>,
    #[serde(default)]
    pub dependencies: Vec<String>,
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
    /// Someone else holds the lock.
    #[error("the state is locked by another run\n{0}")]
    Locked(Box<LockInfo>),
    /// `unlock` with an id that is not the current lock's.
    #[error("lock id \"{given}\" does not match the current lock{}", .held.as_ref().map(|h| format!("\n{h}")).unwrap_or_else(|| " (the state is not locked)".into()))]
    LockMismatch {
        given: String,
        held: Option<Box<LockInfo>>,
    },
}

/// Who holds a state lock, in Terraform's `statemgr.LockInfo` shape (same JSON field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    /// `apply`, `destroy`, `plan`, `state mv`…
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Info", default)]
    pub info: String,
    /// `user@host`.
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    /// RFC 3339, UTC.
    #[serde(rename = "Created")]
    pub created: String,
    /// Where the state lives (a file path, `container/key`, a schema name).
    #[serde(rename = "Path")]
    pub path: String,
    /// The process holding the lock, so a local store can recognise a lock left by a killed
    /// process on the same host.
    #[serde(rename = "Pid", default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(rename = "Host", default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Lock Info:")?;
        writeln!(f, "  ID:        {}", self.id)?;
        writeln!(f, "  Path:      {}", self.path)?;
        writeln!(f, "  Operation: {}", self.operation)?;
        writeln!(f, "  Who:       {}", self.who)?;
        writeln!(f, "  Version:   {}", self.version)?;
        write!(f, "  Created:   {}", self.created)?;
        if !self.info.is_empty() {
            write!(f, "\n  Info:      {}", self.info)?;
        }
        Ok(())
    }
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
            pending: Vec::new(),
        }
    }

    pub fn from_json(text: &str) -> Result<Self, StateError> {
        let state: State = crate::json_text::from_str_deep(text).map_err(StateError::Corrupt)?;
        if state.version != STATE_VERSION {
            return Err(StateError::Version(state.version));
        }
        Ok(state)
    }

    /// Indented JSON with a trailing newline; resources sorted, so output is deterministic.
    /// Attribute values nested deeper than two levels are written compactly: indentation would
    /// make deeply nested values (outputs of outputs) grow with the square of their depth.
    pub fn to_json(&self) -> String {
        let mut text = crate::json_text::to_string_layered(self, STATE_TEXT_DEPTH);
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
        self.resources.is_empty() && self.pending.is_empty()
    }

    /// Journal an intent (replacing any earlier one for the same address).
    pub fn add_pending(&mut self, op: PendingOp) {
        self.pending.retain(|p| p.address != op.address);
        self.pending.push(op);
        self.pending.sort_by(|a, b| a.address.cmp(&b.address));
    }

    /// Drop the intent recorded for `addr`, if any.
    pub fn clear_pending(&mut self, addr: &ResourceAddress) -> Option<PendingOp> {
        let text = addr.to_string();
        let at = self.pending.iter().position(|p| p.address == text)?;
        Some(self.pending.remove(at))
    }

    /// The state entry of the resource `addr` belongs to (all its instances).
    pub fn resource_state(&self, addr: &ResourceAddress) -> Option<&ResourceState> {
        self.position(addr).ok().map(|i| &self.resources[i])
    }

    fn position(&self, addr: &ResourceAddress) -> Result<usize, usize> {
        let module = addr.module_path();
        let want = (
            module.as_str(),
            u8::from(addr.mode == Mode::Data),
            addr.type_name.as_str(),
            addr.name.as_str(),
        );
        self.resources.binary_search_by(|r| sort_key(r).cmp(&want))
    }

    /// The alias of the provider configuration the object at `addr` was recorded with
    /// (`provider["…"].ALIAS`), if any.
    pub fn provider_alias(&self, addr: &ResourceAddress) -> Option<String> {
        let r = &self.resources[self.position(addr).ok()?];
        provider_alias_in(&r.provider)
    }

    /// Record the object at `addr` (replacing what was there). `provider` is the provider's
    /// name, or a whole provider address (`provider["NAME"].ALIAS`).
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
                        provider: provider_address(provider),
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

/// Borrowed, so the binary search of every lookup copies nothing.
type SortKey<'a> = (&'a str, u8, &'a str, &'a str);

fn sort_key(r: &ResourceState) -> SortKey<'_> {
    (
        r.module.as_deref().unwrap_or_default(),
        u8::from(r.mode == "data"),
        &r.type_name,
        &r.name,
    )
}

/// Where state lives. Implementations write atomically and keep the previous version.
///
/// A run that changes state takes the lock first (`lock`), and releases it on every exit
/// path (`unlock`). A second run gets `StateError::Locked` with the holder's info at once.
pub trait StateStore: Send + Sync {
    /// `Ok(None)` when no state exists yet.
    fn load(&self) -> Result<Option<State>, StateError>;
    fn save(&self, state: &State) -> Result<(), StateError>;

    /// Make one journal intent durable without rewriting the whole state: the caller's state
    /// in memory holds it too, and its next `save` writes it with everything else. A store
    /// that can (the local file: an append-only `.journal` beside it) returns `Ok(true)` and
    /// gives appended intents back from `load` until a `save` has written them; `Ok(false)`
    /// (the default) tells the caller to `save` the whole state instead.
    fn append_pending(&self, _op: &PendingOp) -> Result<bool, StateError> {
        Ok(false)
    }

    /// Take the lock, recording `info`; returns the lock id (`info.id` unless the store
    /// assigns its own, like a blob lease). Fails fast with `StateError::Locked` when held.
    /// The default is for stores nobody else can see (in memory): always granted.
    fn lock(&self, info: &LockInfo) -> Result<String, StateError> {
        Ok(info.id.clone())
    }

    /// Release the lock taken with `lock`; `LockMismatch` if `id` is not the current lock.
    fn unlock(&self, _id: &str) -> Result<(), StateError> {
        Ok(())
    }

    /// The current lock, if any (for messages and `force-unlock`).
    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(None)
    }

    /// Release a lock someone else holds (`netform force-unlock ID`). The id must match.
    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.unlock(id)
    }

    /// Human description of where the state lives.
    fn describe(&self) -> String {
        "state".into()
    }
}

/// One intent as a line of an append-only journal (`StateStore::append_pending`).
pub fn journal_line(op: &PendingOp) -> String {
    let mut line = serde_json::to_string(op).unwrap_or_default();
    line.push('\n');
    line
}

/// The intents of an append-only journal, one JSON line each. A last line without its
/// newline was cut short while it was being appended, so its request was never sent: it is
/// skipped. Any other line that does not parse is an error naming it.
pub fn parse_journal(text: &str) -> Result<Vec<PendingOp>, String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut ops = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<PendingOp>(line) {
            Ok(op) => ops.push(op),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        }
    }
    Ok(ops)
}

/// An attribute path (`["tags", "owner"]`, `["ip_configuration", "0", "name"]`) in the
/// form state's `sensitive_attributes` uses (`[{"type": "get_attr", "value": "tags"}, ...]`);
/// numeric steps are indexes.
pub fn state_path(path: &[String]) -> serde_json::Value {
    serde_json::Value::Array(
        path.iter()
            .map(|step| match step.parse::<u64>() {
                Ok(i) => {
                    serde_json::json!({"type": "index", "value": {"value": i, "type": "number"}})
                }
                Err(_) => serde_json::json!({"type": "get_attr", "value": step}),
            })
            .collect(),
    )
}

/// The steps of a `sensitive_attributes` path (indexes as decimal strings, map keys as is).
pub fn path_steps(path: &serde_json::Value) -> Vec<String> {
    path.as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| {
            let v = &step["value"];
            match step["type"].as_str()? {
                "get_attr" => v.as_str().map(str::to_string),
                _ => match &v["value"] {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                },
            }
        })
        .collect()
}

/// Containers indented in state files: the document, resources, a resource, its instances,
/// an instance, its attributes, and two levels of attribute values (blocks and their items).
const STATE_TEXT_DEPTH: usize = 8;

/// `provider["NAME"]` for a provider name; a whole address (`provider["NAME"].ALIAS`) as is.
pub fn provider_address(provider: &str) -> String {
    if provider.starts_with("provider[") {
        provider.to_string()
    } else {
        format!("provider[\"{provider}\"]")
    }
}

/// `provider["NAME"].ALIAS` for a provider name and an optional alias.
pub fn aliased_provider_address(name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(a) => format!("provider[\"{name}\"].{a}"),
        None => format!("provider[\"{name}\"]"),
    }
}

/// The alias of a provider address (`provider["NAME"].ALIAS` → `ALIAS`).
pub fn provider_alias_in(address: &str) -> Option<String> {
    let rest = address.rsplit_once("\"]")?.1;
    rest.strip_prefix('.').map(str::to_string)
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
    fn the_journal_is_optional_and_round_trips() {
        // A file written before the journal existed loads, with an empty journal.
        let old =
            r#"{"version":4,"netform_version":"0.1.0","serial":3,"lineage":"l","resources":[]}"#;
        let mut s = State::from_json(old).unwrap();
        assert!(s.pending.is_empty());
        assert!(!s.to_json().contains("pending"), "no key while empty");
        let addr = ResourceAddress::new("azurerm_subnet", "a");
        s.add_pending(PendingOp {
            address: addr.to_string(),
            operation: PendingKind::Create,
            id: Some("/x/subnets/a".into()),
            provider: "p".into(),
            attributes: serde_json::json!({"name": "a"}),
            sensitive_attributes: vec![],
            dependencies: vec![],
        });
        let back = State::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert!(s.to_json().contains("\"operation\": \"create\""));
        assert!(s.clear_pending(&addr).is_some());
        assert!(s.pending.is_empty());
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
