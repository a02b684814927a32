//! The emulator's state: resources, in-flight operations, counters. Serialised as one JSON
//! document (the data file). Everything time-dependent is stored as wall-clock timestamps
//! and resolved lazily by [`Store::settle`], so a restarted emulator finishes operations that
//! were in flight when it stopped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::EmulatorError;
use crate::kinds::Kind;

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn new_etag() -> String {
    format!("W/\"{}\"", new_guid())
}

/// The connectivity provider's view of a circuit (`serviceProviderProvisioningState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderState {
    NotProvisioned,
    Provisioning,
    Provisioned,
    Deprovisioning,
}

impl ProviderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderState::NotProvisioned => "NotProvisioned",
            ProviderState::Provisioning => "Provisioning",
            ProviderState::Provisioned => "Provisioned",
            ProviderState::Deprovisioning => "Deprovisioning",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderState> {
        [
            ProviderState::NotProvisioned,
            ProviderState::Provisioning,
            ProviderState::Provisioned,
            ProviderState::Deprovisioning,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Res {
    /// Canonical id (canonical segment casing, names as created).
    pub id: String,
    pub kind: Kind,
    /// Stored representation (id, name, type, etag, location, tags, sku, properties, ...).
    /// Derived collections (subnets of a VNet, peerings of a circuit, ...) are composed at read time.
    pub body: Value,
    pub created_ms: u64,
    /// Creation order, for stable ordering of children.
    pub seq: u64,
    /// The operation currently running on this resource, if any.
    #[serde(default)]
    pub pending_op: Option<String>,
    #[serde(default)]
    pub deleting: bool,
    /// Circuits: the provider state was set by the admin endpoint (auto provisioning no longer applies).
    #[serde(default)]
    pub provider_manual: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Put,
    Delete,
    RgDelete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Op {
    pub id: String,
    pub kind: OpKind,
    /// Canonical id of the resource the operation is about.
    pub resource_id: String,
    pub subscription: String,
    pub location: String,
    pub api_version: String,
    pub start_ms: u64,
    pub duration_ms: u64,
    /// Keys (lowercase ids) of resources to finalise (Put) or remove (Delete).
    pub targets: Vec<String>,
    /// Lowercase ids this operation holds for conflict detection (409 AnotherOperationInProgress).
    pub lock_keys: Vec<String>,
    #[serde(default)]
    pub error: Option<OpError>,
    #[serde(default)]
    pub applied: bool,
}

impl Op {
    pub fn end_ms(&self) -> u64 {
        self.start_ms.saturating_add(self.duration_ms)
    }
    pub fn done_at(&self, now: u64) -> bool {
        now >= self.end_ms()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub version: u32,
    pub resources: BTreeMap<String, Res>,
    /// Every operation, finished ones kept for a day. Add with [`Store::add_operation`],
    /// which keeps `running` in step.
    pub operations: BTreeMap<String, Op>,
    pub next_seq: u64,
    pub next_ip: u32,
    pub next_stag: u32,
    /// Ids of the operations not applied yet, so a request looks at what is in flight, not
    /// at every operation of the last day (scanning those on each request made a large
    /// apply quadratic). Built from `operations` when a store is loaded.
    #[serde(skip)]
    running: std::collections::BTreeSet<String>,
    /// When finished operations were last pruned (`settle` prunes at most once a minute).
    #[serde(skip)]
    pruned_at: Option<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            version: 1,
            resources: BTreeMap::new(),
            operations: BTreeMap::new(),
            next_seq: 1,
            next_ip: 1,
            next_stag: 1,
            running: Default::default(),
            pruned_at: None,
        }
    }
}

/// How often `settle` prunes operations past their retention.
const PRUNE_EVERY_MS: u64 = 60 * 1000;

/// Completed operations are kept this long after they finish (so late pollers still get an answer).
const OP_RETENTION_MS: u64 = 24 * 3600 * 1000;

pub fn key(id: &str) -> String {
    id.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Store {
    pub fn load_or_default(path: &Path) -> Result<Store, EmulatorError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                    return Ok(Store::default());
                }
                let mut store: Store =
                    serde_json::from_slice(&bytes).map_err(|source| EmulatorError::Corrupt {
                        path: path.to_path_buf(),
                        source,
                    })?;
                store.running = store
                    .operations
                    .values()
                    .filter(|o| !o.applied)
                    .map(|o| o.id.clone())
                    .collect();
                Ok(store)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
            Err(source) => Err(EmulatorError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Atomic write: temp file in the same directory, fsync, rename, fsync the directory.
    pub fn save(&self, path: &Path) -> Result<(), EmulatorError> {
        let io = |source| EmulatorError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|e| EmulatorError::Other(e.to_string()))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file_name = path
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "emulator.json".to_string());
        let tmp = dir.join(format!(".{}.{}.tmp", file_name, new_guid()));
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Res> {
        self.resources.get(&key(id))
    }

    pub fn next_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Keys of the resource and every resource below it (children; for an RG, its contents).
    pub fn subtree_keys(&self, id: &str) -> Vec<String> {
        let k = key(id);
        let prefix = format!("{k}/");
        self.resources
            .keys()
            .filter(|x| **x == k || x.starts_with(&prefix))
            .cloned()
            .collect()
    }

    /// Apply every operation whose time has come, and the simulated connectivity provider.
    /// Returns true if anything changed.
    pub fn settle(&mut self, now: u64, auto_provision_after: Option<Duration>) -> bool {
        let mut changed = false;
        let mut due: Vec<(u64, String)> = self
            .running
            .iter()
            .filter_map(|id| self.operations.get(id))
            .filter(|o| o.done_at(now))
            .map(|o| (o.end_ms(), o.id.clone()))
            .collect();
        due.sort();
        for (_, op_id) in due {
            let Some(op) = self.operations.get(&op_id).cloned() else {
                continue;
            };
            match op.kind {
                OpKind::Put => {
                    for t in &op.targets {
                        if let Some(r) = self.resources.get_mut(t)
                            && r.pending_op.as_deref() == Some(op.id.as_str())
                        {
                            r.pending_op = None;
                            let state = if op.error.is_some() {
                                "Failed"
                            } else {
                                "Succeeded"
                            };
                            set_prov_state(&mut r.body, state);
                        }
                    }
                }
                OpKind::Delete | OpKind::RgDelete if op.error.is_some() => {
                    // A failed delete leaves the resources in place, marked Failed.
                    for t in &op.targets {
                        if let Some(r) = self.resources.get_mut(t)
                            && r.pending_op.as_deref() == Some(op.id.as_str())
                        {
                            r.pending_op = None;
                            r.deleting = false;
                            set_prov_state(&mut r.body, "Failed");
                        }
                    }
                }
                OpKind::Delete | OpKind::RgDelete => {
                    for t in &op.targets {
                        self.resources.remove(t);
                    }
                    // Anything created below a deleted resource meanwhile goes too.
                    let roots: Vec<String> = op.targets.clone();
                    for root in roots {
                        let prefix = format!("{root}/");
                        let extra: Vec<String> = self
                            .resources
                            .keys()
                            .filter(|k| k.starts_with(&prefix))
                            .cloned()
                            .collect();
                        for e in extra {
                            self.resources.remove(&e);
                        }
                    }
                }
            }
            if let Some(o) = self.operations.get_mut(&op_id) {
                o.applied = true;
            }
            self.running.remove(&op_id);
            changed = true;
        }
        if self
            .pruned_at
            .is_none_or(|t| now.saturating_sub(t) >= PRUNE_EVERY_MS)
        {
            self.pruned_at = Some(now);
            let before = self.operations.len();
            self.operations
                .retain(|_, o| !(o.applied && o.end_ms().saturating_add(OP_RETENTION_MS) < now));
            if self.operations.len() != before {
                changed = true;
            }
        }
        if let Some(delay) = auto_provision_after {
            let d = delay.as_millis() as u64;
            for r in self.resources.values_mut() {
                if r.kind != Kind::ExpressRouteCircuit || r.provider_manual || r.deleting {
                    continue;
                }
                let age = now.saturating_sub(r.created_ms);
                let state = if age >= d {
                    ProviderState::Provisioned
                } else if age >= d / 2 {
                    ProviderState::Provisioning
                } else {
                    ProviderState::NotProvisioned
                };
                let cur = r
                    .body
                    .pointer("/properties/serviceProviderProvisioningState")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if cur != state.as_str() {
                    set_prop(
                        &mut r.body,
                        "serviceProviderProvisioningState",
                        json!(state.as_str()),
                    );
                    changed = true;
                }
            }
        }
        changed
    }

    /// Operations still running (not applied) at `now`, after settle.
    pub fn in_flight(&self) -> impl Iterator<Item = &Op> {
        self.running.iter().filter_map(|id| self.operations.get(id))
    }

    /// Record a new operation (in flight until `settle` applies it).
    pub fn add_operation(&mut self, op: Op) {
        if !op.applied {
            self.running.insert(op.id.clone());
        }
        self.operations.insert(op.id.clone(), op);
    }

    pub fn find_circuit_by_service_key(&self, service_key: &str) -> Option<String> {
        self.resources
            .iter()
            .find(|(_, r)| {
                r.kind == Kind::ExpressRouteCircuit
                    && r.body
                        .pointer("/properties/serviceKey")
                        .and_then(Value::as_str)
                        .is_some_and(|k| k.eq_ignore_ascii_case(service_key.trim()))
            })
            .map(|(k, _)| k.clone())
    }

    pub fn set_provider_state(
        &mut self,
        service_key: &str,
        state: ProviderState,
        _now: u64,
    ) -> bool {
        let Some(k) = self.find_circuit_by_service_key(service_key) else {
            return false;
        };
        if let Some(r) = self.resources.get_mut(&k) {
            r.provider_manual = true;
            set_prop(
                &mut r.body,
                "serviceProviderProvisioningState",
                json!(state.as_str()),
            );
            if let Some(obj) = r.body.as_object_mut() {
                obj.insert("etag".into(), json!(new_etag()));
            }
            true
        } else {
            false
        }
    }
}

pub fn set_prop(body: &mut Value, name: &str, v: Value) {
    if !body.is_object() {
        *body = json!({});
    }
    if let Some(obj) = body.as_object_mut() {
        let props = obj.entry("properties").or_insert_with(|| json!({}));
        if !props.is_object() {
            *props = json!({});
        }
        if let Some(p) = props.as_object_mut() {
            p.insert(name.to_string(), v);
        }
    }
}

pub fn set_prov_state(body: &mut Value, state: &str) {
    set_prop(body, "provisioningState", json!(state));
}

pub fn prop<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get("properties").and_then(|p| p.get(name))
}

pub fn prop_str<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    prop(body, name).and_then(Value::as_str)
}
