//! The azurerm resource types: schemas, ARM ids, HCL ⇄ ARM JSON mapping and plan rules.

use netform_engine::Value;
use netform_engine::provider::{Deferral, ProviderDiagnostic, ReplaceCause, ResourceView, World};
use netform_engine::schema::{AttrSchema, AttrType, ResourceType, Schema};
use serde_json::{Map, Value as Json, json};

use crate::arm::NETWORK_API_VERSION;

pub mod circuit;
pub mod circuit_authorization;
pub mod circuit_peering;
pub mod connection;
pub mod local_network_gateway;
pub mod network_security_group;
pub mod public_ip;
pub(crate) mod regions;
pub mod resource_group;
pub mod subnet;
pub mod virtual_network;
pub mod virtual_network_gateway;

/// What the provider knows about one resource type.
pub(crate) trait Kind: Send + Sync {
    fn name(&self) -> &'static str;
    fn resource_type(&self) -> ResourceType;
    fn api_version(&self) -> &'static str {
        NETWORK_API_VERSION
    }
    /// The ARM id, from a config/planned value; `None` while a part of it is unknown.
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String>;
    /// Objects Azure serialises writes on (not yet lowercased).
    fn lock_keys(&self, _sub: &str, _v: &Value) -> Vec<String> {
        Vec::new()
    }
    /// Plan-time rules that the configuration alone decides.
    fn validate(&self, _config: &Value) -> Vec<ProviderDiagnostic> {
        Vec::new()
    }
    /// Provider-specific planning: conditional replacements, errors, deferrals.
    fn plan(&self, _p: &mut PlanState<'_>) {}
    /// GET the object before every PUT and hand it to `body` (round-trip what we do not manage).
    fn merge_existing(&self) -> bool {
        false
    }
    /// The PUT body.
    fn body(&self, planned: &Value, existing: Option<&Json>) -> Json;
    /// State attributes from an ARM GET body. `keep` is the planned value (create/update) or the
    /// prior state (read): it supplies inputs the API does not return.
    fn to_state(&self, resp: &Json, keep: &Json) -> Json;
}

pub(crate) struct PlanState<'a> {
    pub sub: &'a str,
    pub prior: Option<&'a Json>,
    pub config: &'a Value,
    pub planned: Value,
    pub replace: Vec<ReplaceCause>,
    pub diagnostics: Vec<ProviderDiagnostic>,
    pub deferred: Option<Deferral>,
    pub world: &'a dyn World,
}

impl PlanState<'_> {
    pub fn prior_value(&self) -> Option<Value> {
        self.prior.map(Value::from_json)
    }
    pub fn add_replace(&mut self, path: &[&str], reason: impl Into<String>) {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if !self.replace.iter().any(|r| r.path == path) {
            self.replace.push(ReplaceCause {
                path,
                reason: reason.into(),
            });
        }
    }
}

pub(crate) fn all_kinds() -> Vec<&'static dyn Kind> {
    vec![
        &resource_group::ResourceGroup,
        &network_security_group::NetworkSecurityGroup,
        &virtual_network::VirtualNetwork,
        &subnet::Subnet,
        &public_ip::PublicIp,
        &virtual_network_gateway::VirtualNetworkGateway,
        &circuit::Circuit,
        &circuit_peering::CircuitPeering,
        &circuit_authorization::CircuitAuthorization,
        &local_network_gateway::LocalNetworkGateway,
        &connection::Connection,
    ]
}

/// Cross-resource rules (VLAN unique per circuit, one gateway per type per VNet, subnets inside
/// their VNet and not overlapping).
pub(crate) fn validate_all(resources: &[ResourceView<'_>]) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    out.extend(circuit_peering::validate_vlans(resources));
    out.extend(virtual_network_gateway::validate_one_per_type(resources));
    out.extend(subnet::validate_against_vnets(resources));
    out.extend(virtual_network_gateway::validate_same_region_as_vnet(
        resources,
    ));
    out.extend(connection::validate_expressroute_links(resources));
    out.extend(connection::validate_link_limits(resources));
    out
}

// ---------------------------------------------------------------------------------------------
// Schema helpers

pub(crate) fn str_t() -> AttrType {
    AttrType::String
}
pub(crate) fn num_t() -> AttrType {
    AttrType::Number
}
pub(crate) fn bool_t() -> AttrType {
    AttrType::Bool
}
pub(crate) fn list_str() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}
pub(crate) fn set_str() -> AttrType {
    AttrType::Set(Box::new(AttrType::String))
}

/// `id`, `name`, `resource_group_name`, `location` (all ForceNew but `id`), `tags`.
pub(crate) fn tracked_base() -> Schema {
    Schema::new()
        .attr(
            "id",
            AttrSchema::computed(str_t()).describe("The ARM resource id."),
        )
        .attr(
            "name",
            AttrSchema::required(str_t()).force_new().case_insensitive(),
        )
        .attr(
            "resource_group_name",
            AttrSchema::required(str_t()).force_new().case_insensitive(),
        )
        .attr(
            "location",
            AttrSchema::required(str_t())
                .force_new()
                .case_insensitive()
                .describe("Azure region; `West Europe` and `westeurope` are the same."),
        )
        .attr(
            "tags",
            AttrSchema::optional(AttrType::Map(Box::new(AttrType::String))),
        )
}

// ---------------------------------------------------------------------------------------------
// Value helpers (config / planned)

/// A known, non-empty string attribute.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).as_str().filter(|s| !s.is_empty())
}
pub(crate) fn n(v: &Value, key: &str) -> Option<i64> {
    v.get(key).as_i64()
}
pub(crate) fn b(v: &Value, key: &str) -> Option<bool> {
    v.get(key).as_bool()
}
/// A list of known strings; `None` if absent or partly unknown.
pub(crate) fn strs(v: &Value, key: &str) -> Option<Vec<String>> {
    let items = v.get(key).as_list()?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect()
}
pub(crate) fn blocks<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).as_list().unwrap_or(&[])
}
pub(crate) fn tags_json(v: &Value) -> Json {
    match v.get("tags") {
        Value::Object(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
        }
        _ => json!({}),
    }
}

/// Location as ARM normalises it: lowercase, no spaces.
pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}
pub(crate) fn network_id(sub: &str, rg: &str, kind: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}/{name}")
}
/// id of a top-level Microsoft.Network resource from `name` + `resource_group_name`.
pub(crate) fn tracked_id(sub: &str, v: &Value, kind: &str) -> Option<String> {
    Some(network_id(
        sub,
        s(v, "resource_group_name")?,
        kind,
        s(v, "name")?,
    ))
}

/// The segment after `/{kind}/` in an ARM id (case-insensitive), e.g. the vnet name of a subnet id.
pub(crate) fn id_segment<'a>(id: &'a str, kind: &str) -> Option<&'a str> {
    let parts: Vec<&str> = id.split('/').collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case(kind))
        .and_then(|i| parts.get(i + 1).copied())
        .filter(|s| !s.is_empty())
}

/// The parent id of a child resource id (`.../virtualNetworks/v/subnets/s` → `.../virtualNetworks/v`).
pub(crate) fn parent_id(id: &str) -> Option<String> {
    let trimmed = id.trim_end_matches('/');
    let mut parts: Vec<&str> = trimmed.split('/').collect();
    if parts.len() < 3 {
        return None;
    }
    parts.truncate(parts.len() - 2);
    Some(parts.join("/"))
}

// ---------------------------------------------------------------------------------------------
// JSON helpers (ARM bodies)

pub(crate) fn jget<'a>(j: &'a Json, path: &[&str]) -> &'a Json {
    static NULL: Json = Json::Null;
    let mut cur = j;
    for p in path {
        match cur.get(*p) {
            Some(next) => cur = next,
            None => return &NULL,
        }
    }
    cur
}
pub(crate) fn props<'a>(j: &'a Json, key: &str) -> &'a Json {
    jget(j, &["properties", key])
}
/// Non-empty JSON string or null.
pub(crate) fn jstr(j: &Json) -> Json {
    match j.as_str() {
        Some(s) if !s.is_empty() => Json::String(s.to_string()),
        _ => Json::Null,
    }
}
pub(crate) fn jid(reference: &Json) -> Json {
    jstr(jget(reference, &["id"]))
}
/// A JSON array of strings (or null when absent).
pub(crate) fn jstrs(j: &Json) -> Json {
    match j.as_array() {
        Some(items) => Json::Array(items.iter().filter(|i| i.is_string()).cloned().collect()),
        None => Json::Null,
    }
}
pub(crate) fn tags_state(resp: &Json) -> Json {
    match resp.get("tags") {
        Some(Json::Object(m)) => Json::Object(m.clone()),
        _ => Json::Null,
    }
}
pub(crate) fn insert_opt(map: &mut Map<String, Json>, key: &str, value: Option<Json>) {
    if let Some(v) = value
        && !v.is_null()
    {
        map.insert(key.to_string(), v);
    }
}

/// Common state attributes of a tracked resource.
pub(crate) fn tracked_state(resp: &Json, keep: &Json) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("id".into(), jstr(jget(resp, &["id"])));
    m.insert("name".into(), jstr(jget(resp, &["name"])));
    m.insert(
        "resource_group_name".into(),
        jget(resp, &["id"])
            .as_str()
            .and_then(|id| id_segment(id, "resourceGroups"))
            .map(|s| Json::String(s.to_string()))
            .unwrap_or_else(|| {
                keep.get("resource_group_name")
                    .cloned()
                    .unwrap_or(Json::Null)
            }),
    );
    m.insert("location".into(), jstr(jget(resp, &["location"])));
    m.insert("tags".into(), tags_state(resp));
    m
}

/// `map[name]`, inserted as `default` when missing; the key is allocated only then
/// (`entry` would allocate it for every attribute of every object refreshed).
fn slot<'a>(map: &'a mut Map<String, Json>, name: &str, default: Json) -> &'a mut Json {
    if !map.contains_key(name) {
        map.insert(name.to_string(), default);
    }
    map.get_mut(name).expect("inserted above")
}

/// Bring a state object in line with the schema and with `keep` (planned value or prior state):
/// every attribute present; the user's spelling where Azure normalised case or spaces; sensitive
/// inputs the API does not return taken from `keep`; empty collections the user left out as null.
pub(crate) fn reconcile(schema: &Schema, state: &mut Json, keep: &Json) {
    let Json::Object(map) = state else { return };
    for (name, attr) in &schema.attributes {
        let kept = keep.get(*name).unwrap_or(&Json::Null);
        let entry = slot(map, name, Json::Null);
        if attr.case_insensitive
            && let (Some(a), Some(b)) = (entry.as_str(), kept.as_str())
            && norm(a) == norm(b)
        {
            *entry = kept.clone();
        }
        if attr.sensitive && attr.user_settable() && entry.is_null() && !kept.is_null() {
            *entry = kept.clone();
        }
        let empty = match &*entry {
            Json::Array(a) => a.is_empty(),
            Json::Object(o) => o.is_empty(),
            _ => false,
        };
        if empty && kept.is_null() {
            *entry = Json::Null;
        }
        // Sets: keep the user's order when the contents are the same.
        if matches!(attr.ty, AttrType::Set(_))
            && let (Json::Array(a), Json::Array(k)) = (&*entry, kept)
        {
            let mut x: Vec<String> = a
                .iter()
                .map(|v| v.to_string().to_ascii_lowercase())
                .collect();
            let mut y: Vec<String> = k
                .iter()
                .map(|v| v.to_string().to_ascii_lowercase())
                .collect();
            x.sort();
            y.sort();
            if x == y {
                *entry = kept.clone();
            }
        }
    }
    for (name, block) in &schema.blocks {
        let kept_items: &[Json] = keep
            .get(*name)
            .and_then(Json::as_array)
            .map_or(&[], Vec::as_slice);
        let entry = slot(map, name, Json::Array(Vec::new()));
        if entry.is_null() {
            *entry = Json::Array(Vec::new());
        }
        if let Json::Array(items) = entry {
            for (i, item) in items.iter_mut().enumerate() {
                reconcile(&block.body, item, kept_items.get(i).unwrap_or(&Json::Null));
            }
        }
    }
}

/// Replace, in `prior`, values that equal the configuration ignoring case and spaces (where the
/// schema says so) by the configuration's spelling, so that they cause neither a diff nor a
/// replacement. Returns whether anything changed.
pub(crate) fn align_prior(schema: &Schema, prior: &mut Json, config: &Value) -> bool {
    let Json::Object(map) = prior else {
        return false;
    };
    let mut changed = false;
    for (name, attr) in &schema.attributes {
        if !attr.case_insensitive {
            continue;
        }
        let (Some(Json::String(old)), Some(new)) = (map.get(*name), config.get(name).as_str())
        else {
            continue;
        };
        if old != new && norm(old) == norm(new) {
            map.insert(name.to_string(), Json::String(new.to_string()));
            changed = true;
        }
    }
    for (name, block) in &schema.blocks {
        let cfg_items = config.get(name).as_list().unwrap_or(&[]);
        if let Some(Json::Array(items)) = map.get_mut(*name) {
            for (item, cfg) in items.iter_mut().zip(cfg_items) {
                changed |= align_prior(&block.body, item, cfg);
            }
        }
    }
    changed
}

// ---------------------------------------------------------------------------------------------
// CIDR helpers for the rules

/// A parsed prefix: address as u128 (IPv4 mapped into the low 32 bits), length, and family width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub addr: u128,
    pub len: u8,
    pub bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (ip, len) = text.trim().split_once('/')?;
        let len: u8 = len.parse().ok()?;
        let ip: std::net::IpAddr = ip.parse().ok()?;
        let (addr, bits) = match ip {
            std::net::IpAddr::V4(v4) => (u32::from(v4) as u128, 32u8),
            std::net::IpAddr::V6(v6) => (u128::from(v6), 128u8),
        };
        if len > bits {
            return None;
        }
        Some(Cidr { addr, len, bits })
    }
    fn full(&self) -> u128 {
        if self.bits >= 128 {
            u128::MAX
        } else {
            (1u128 << self.bits) - 1
        }
    }
    fn mask(&self) -> u128 {
        let host_bits = (self.bits - self.len) as u32;
        if host_bits >= 128 {
            0
        } else {
            self.full() & !((1u128 << host_bits) - 1)
        }
    }
    pub fn host_bits_zero(&self) -> bool {
        (self.addr & !self.mask() & self.full()) == 0
    }
    pub fn network(&self) -> u128 {
        self.addr & self.mask()
    }
    pub fn contains(&self, other: &Cidr) -> bool {
        self.bits == other.bits
            && other.len >= self.len
            && (other.addr & self.mask()) == self.network()
    }
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }
}

#[cfg(test)]
pub(crate) struct NoWorld;

#[cfg(test)]
impl World for NoWorld {
    fn prior_by_id(&self, _id: &str) -> Option<&Json> {
        None
    }
    fn planned_by_id(&self, _id: &str) -> Option<(&str, &Value)> {
        None
    }
}

#[cfg(test)]
pub(crate) fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_rules() {
        let a = Cidr::parse("192.168.16.252/30").unwrap_or(Cidr {
            addr: 0,
            len: 0,
            bits: 0,
        });
        assert!(a.host_bits_zero());
        assert_eq!(a.len, 30);
        let bad = Cidr::parse("10.0.3.5/24").unwrap_or(Cidr {
            addr: 0,
            len: 0,
            bits: 0,
        });
        assert!(!bad.host_bits_zero());
        let vnet = Cidr::parse("10.0.0.0/16").unwrap_or(Cidr {
            addr: 0,
            len: 0,
            bits: 0,
        });
        let sub = Cidr::parse("10.0.255.224/27").unwrap_or(Cidr {
            addr: 0,
            len: 0,
            bits: 0,
        });
        assert!(vnet.contains(&sub));
        assert!(!sub.contains(&vnet));
        assert!(vnet.overlaps(&sub));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("2001:db8::/126").is_some_and(|c| c.host_bits_zero()));
    }

    #[test]
    fn ids() {
        assert_eq!(
            parent_id("/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/GatewaySubnet")
                .as_deref(),
            Some("/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v")
        );
        assert_eq!(
            id_segment("/subscriptions/s/resourcegroups/r/x", "resourceGroups"),
            Some("r")
        );
        assert_eq!(norm("West Europe"), "westeurope");
    }
}
