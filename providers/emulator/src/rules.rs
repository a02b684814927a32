//! Per-type PUT handling: request validation (the domain rules R1–R22 of arm-api.md §8),
//! normalisation, and construction of the stored body. Also the delete preconditions (R12, R21)
//! and the read-time composition of derived properties (subnets of a VNet, peerings of a
//! circuit, attachments of subnets and public IPs).

use serde_json::{Map, Value, json};

use crate::EmulatorConfig;
use crate::api::{ApiError, ApiResult, child_id, normalize_location};
use crate::cidr::{Cidr, CidrError, describe};
use crate::kinds::Kind;
use crate::store::{ProviderState, Res, Store, key, new_guid, prop, prop_str};

pub struct Ctx<'a> {
    pub store: &'a Store,
    pub cfg: &'a EmulatorConfig,
    pub id: &'a str,
    pub name: &'a str,
    pub kind: Kind,
    pub existing: Option<&'a Res>,
    pub parent: Option<&'a Res>,
}

/// Side effects of a PUT on other resources (inline subnets of a VNet).
pub enum Side {
    Upsert { id: String, kind: Kind, body: Value },
    Remove(String),
}

pub struct Plan {
    pub body: Value,
    pub side: Vec<Side>,
    pub lock_keys: Vec<String>,
    pub location: String,
    pub needs_ip: bool,
    pub needs_stag: bool,
}

// ---------------------------------------------------------------------------------------------
// small helpers

fn req_object(req: &Value) -> ApiResult<&Map<String, Value>> {
    req.as_object().ok_or_else(|| {
        ApiError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        )
    })
}

fn req_props(req: &Value) -> ApiResult<Map<String, Value>> {
    match req.get("properties") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'properties' must be an object.",
        )),
    }
}

fn strip(props: &mut Map<String, Value>, names: &[&str]) {
    for n in names {
        props.remove(*n);
    }
}

fn ref_id(v: Option<&Value>) -> Option<String> {
    v.and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn invalid_reference(referenced: &str, by: &str) -> ApiError {
    ApiError::bad(
        "InvalidResourceReference",
        format!(
            "Resource {referenced} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
        ),
    )
}

fn resolve<'a>(store: &'a Store, id: &str, kind: Kind, by: &str) -> ApiResult<&'a Res> {
    match store.get(id) {
        Some(r) if r.kind == kind && !r.deleting => Ok(r),
        _ => Err(invalid_reference(id, by)),
    }
}

fn location(req: &Value, existing: Option<&Res>) -> ApiResult<String> {
    let given = req
        .get("location")
        .and_then(Value::as_str)
        .map(normalize_location);
    let old = existing
        .and_then(|r| r.body.get("location"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match (given, old) {
        (Some(g), Some(o)) if !g.is_empty() && g != o => Err(ApiError::bad(
            "InvalidResourceLocation",
            format!(
                "The resource already exists in location '{o}'. A resource with the same name cannot be created in location '{g}'. Please select a new resource name."
            ),
        )),
        (Some(g), _) if !g.is_empty() => Ok(g),
        (_, Some(o)) => Ok(o),
        _ => Err(ApiError::bad(
            "LocationRequired",
            "The location property is required for this definition.",
        )),
    }
}

/// Top-level envelope in a stable key order.
fn envelope(ctx: &Ctx, req: &Value, loc: Option<&str>, props: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(ctx.name));
    m.insert("id".into(), json!(ctx.id));
    m.insert("etag".into(), json!(""));
    m.insert("type".into(), json!(ctx.kind.type_str()));
    if let Some(l) = loc {
        m.insert("location".into(), json!(l));
        if let Some(t) = req.get("tags").filter(|t| t.is_object()) {
            m.insert("tags".into(), t.clone());
        }
        for extra in ["zones", "sku", "identity", "extendedLocation"] {
            if let Some(v) = req.get(extra).filter(|v| !v.is_null()) {
                m.insert(extra.into(), v.clone());
            }
        }
    }
    m.insert("properties".into(), Value::Object(props));
    Value::Object(m)
}

/// Properties start with provisioningState (and resourceGuid for top-level types) so that key
/// order is stable.
fn base_props(existing: Option<&Res>, with_guid: bool) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("provisioningState".into(), json!("Updating"));
    if with_guid {
        let guid = existing
            .and_then(|r| prop_str(&r.body, "resourceGuid"))
            .map(str::to_string)
            .unwrap_or_else(new_guid);
        p.insert("resourceGuid".into(), json!(guid));
    }
    p
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        into.insert(k, v);
    }
}

fn canon_enum(v: &str, allowed: &[&str]) -> Option<String> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(v))
        .map(|a| a.to_string())
}

fn int_of(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cidr_or_err(s: &str) -> ApiResult<Cidr> {
    Cidr::parse_strict(s).map_err(|e| {
        let code = match e {
            CidrError::HostBitsSet => "InvalidCIDRNotation",
            CidrError::Malformed => "InvalidAddressPrefixFormat",
        };
        ApiError::bad(code, describe(&e, s))
    })
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn subnet_prefix_strings(props: &Value) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(s) = props.get("addressPrefix").and_then(Value::as_str) {
        v.push(s.to_string());
    }
    for s in string_list(props.get("addressPrefixes")) {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

/// Parsed prefixes of a stored subnet (lenient: unparsable ones are skipped).
fn subnet_cidrs(r: &Res) -> Vec<Cidr> {
    r.body
        .get("properties")
        .map(subnet_prefix_strings)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Cidr::parse_loose(s).ok())
        .collect()
}

fn vnet_space(vnet: &Value) -> Vec<Cidr> {
    string_list(vnet.pointer("/properties/addressSpace/addressPrefixes"))
        .iter()
        .filter_map(|s| Cidr::parse_loose(s).ok())
        .collect()
}

/// Direct children of `parent_key` of the given kind, in creation order.
pub fn children<'a>(store: &'a Store, parent_key: &str, kind: Kind) -> Vec<&'a Res> {
    let prefix = format!("{parent_key}/{}/", kind.segment().to_ascii_lowercase());
    let mut v: Vec<&Res> = store
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| !k[prefix.len()..].contains('/'))
        .map(|(_, r)| r)
        .collect();
    v.sort_by_key(|r| r.seq);
    v
}

fn parent_key_of(k: &str) -> String {
    // ".../virtualNetworks/v/subnets/s" -> ".../virtualNetworks/v"
    let mut parts: Vec<&str> = k.split('/').collect();
    parts.truncate(parts.len().saturating_sub(2));
    parts.join("/")
}

fn gateways(store: &Store) -> impl Iterator<Item = &Res> {
    store
        .resources
        .values()
        .filter(|r| r.kind == Kind::VirtualNetworkGateway)
}

fn ip_configs(gw: &Res) -> Vec<&Value> {
    gw.body
        .pointer("/properties/ipConfigurations")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// ipConfiguration ids of gateways that use the subnet (or public IP) with this key.
fn attached(store: &Store, target_key: &str, field: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for gw in gateways(store) {
        for ipc in ip_configs(gw) {
            let r = ipc
                .pointer(&format!("/properties/{field}/id"))
                .and_then(Value::as_str);
            if r.is_some_and(|r| key(r) == target_key) {
                let ipc_id = ipc
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                out.push((key(&gw.id), ipc_id));
            }
        }
    }
    out
}

pub fn subnet_users(store: &Store, subnet_key: &str) -> Vec<(String, String)> {
    attached(store, subnet_key, "subnet")
}

pub fn pip_users(store: &Store, pip_key: &str) -> Vec<(String, String)> {
    attached(store, pip_key, "publicIPAddress")
}

fn connections(store: &Store) -> impl Iterator<Item = &Res> {
    store
        .resources
        .values()
        .filter(|r| r.kind == Kind::Connection)
}

fn conn_refs(c: &Res, field: &str) -> Option<String> {
    ref_id(prop(&c.body, field)).map(|s| key(&s))
}

pub fn provider_state(circuit: &Res) -> ProviderState {
    prop_str(&circuit.body, "serviceProviderProvisioningState")
        .and_then(ProviderState::parse)
        .unwrap_or(ProviderState::NotProvisioned)
}

// ---------------------------------------------------------------------------------------------
// read-time composition

pub fn view(store: &Store, k: &str) -> Option<Value> {
    let r = store.resources.get(k)?;
    let mut b = r.body.clone();
    match r.kind {
        Kind::VirtualNetwork => {
            let subnets: Vec<Value> = children(store, k, Kind::Subnet)
                .iter()
                .filter_map(|s| view(store, &key(&s.id)))
                .collect();
            set_p(&mut b, "subnets", Value::Array(subnets));
        }
        Kind::Subnet => {
            let users = subnet_users(store, k);
            if !users.is_empty() {
                let ids: Vec<Value> = users.into_iter().map(|(_, i)| json!({"id": i})).collect();
                set_p(&mut b, "ipConfigurations", Value::Array(ids));
            }
        }
        Kind::NetworkSecurityGroup => {
            let users = nsg_users(store, k);
            if !users.is_empty() {
                let ids: Vec<Value> = users.into_iter().map(|i| json!({"id": i})).collect();
                set_p(&mut b, "subnets", Value::Array(ids));
            }
        }
        Kind::PublicIp => {
            if let Some((_, ipc)) = pip_users(store, k).into_iter().next() {
                set_p(&mut b, "ipConfiguration", json!({"id": ipc}));
            }
        }
        Kind::ExpressRouteCircuit => {
            let etag = b.get("etag").cloned().unwrap_or(json!(""));
            let mut peerings = Vec::new();
            for p in children(store, k, Kind::Peering) {
                if let Some(mut v) = view(store, &key(&p.id)) {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("etag".into(), etag.clone());
                    }
                    peerings.push(v);
                }
            }
            let mut auths = Vec::new();
            for a in children(store, k, Kind::Authorization) {
                if let Some(mut v) = view(store, &key(&a.id)) {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("etag".into(), etag.clone());
                    }
                    auths.push(v);
                }
            }
            set_p(&mut b, "peerings", Value::Array(peerings));
            set_p(&mut b, "authorizations", Value::Array(auths));
        }
        Kind::Peering => {
            if let Some(p) = b.get_mut("properties").and_then(Value::as_object_mut) {
                p.remove("sharedKey");
            }
            if let Some(parent) = store.resources.get(&parent_key_of(k))
                && let (Some(e), Some(o)) = (parent.body.get("etag"), b.as_object_mut())
            {
                o.insert("etag".into(), e.clone());
            }
        }
        Kind::Authorization => {
            let auth_key = prop_str(&r.body, "authorizationKey").unwrap_or_default();
            let used = connections(store).any(|c| {
                prop_str(&c.body, "authorizationKey")
                    .is_some_and(|x| !x.is_empty() && x == auth_key)
            });
            set_p(
                &mut b,
                "authorizationUseStatus",
                json!(if used { "InUse" } else { "Available" }),
            );
            if let Some(parent) = store.resources.get(&parent_key_of(k))
                && let (Some(e), Some(o)) = (parent.body.get("etag"), b.as_object_mut())
            {
                o.insert("etag".into(), e.clone());
            }
        }
        _ => {}
    }
    Some(b)
}

fn set_p(b: &mut Value, name: &str, v: Value) {
    crate::store::set_prop(b, name, v);
}

// ---------------------------------------------------------------------------------------------
// PUT

/// Network RP naming rule: 1–80 characters, begins with a word character, ends with a word
/// character or '_', and contains only word characters, '.', '-' and '_'.
pub fn check_name(name: &str) -> ApiResult<()> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let n = name.chars().count();
    let ok = (1..=80).contains(&n)
        && name.chars().next().is_some_and(word)
        && name.chars().last().is_some_and(word)
        && name.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            "InvalidResourceName",
            format!(
                "Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'."
            ),
        ))
    }
}

pub fn plan_put(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    req_object(req)?;
    if ctx.existing.is_none() {
        check_name(ctx.name)?;
    }
    match ctx.kind {
        Kind::VirtualNetwork => put_vnet(ctx, req),
        Kind::Subnet => put_subnet(ctx, req),
        Kind::PublicIp => put_pip(ctx, req),
        Kind::VirtualNetworkGateway => put_gateway(ctx, req),
        Kind::ExpressRouteCircuit => put_circuit(ctx, req),
        Kind::Peering => put_peering(ctx, req),
        Kind::Authorization => put_authorization(ctx, req),
        Kind::LocalNetworkGateway => put_lng(ctx, req),
        Kind::Connection => put_connection(ctx, req),
        Kind::NetworkSecurityGroup => put_nsg(ctx, req),
        Kind::ResourceGroup => Err(ApiError::bad("InvalidRequest", "unexpected resource group")),
    }
}

fn plan(ctx: &Ctx, body: Value, location: String, lock_keys: Vec<String>) -> Plan {
    let mut lk = vec![key(ctx.id)];
    for k in lock_keys {
        if !lk.contains(&k) {
            lk.push(k);
        }
    }
    Plan {
        body,
        side: Vec::new(),
        lock_keys: lk,
        location,
        needs_ip: false,
        needs_stag: false,
    }
}

// --- R22: subnets -------------------------------------------------------------------------

fn check_subnet_prefixes(
    vnet_name: &str,
    space: &[Cidr],
    subnet_name: &str,
    raw: &[String],
    siblings: &[(String, Vec<Cidr>)],
) -> ApiResult<Vec<Cidr>> {
    if raw.is_empty() {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            format!("Subnet '{subnet_name}' must have an addressPrefix or addressPrefixes."),
        ));
    }
    let mut out = Vec::new();
    for s in raw {
        let c = cidr_or_err(s)?;
        if !space.iter().any(|v| v.contains(&c)) {
            return Err(ApiError::bad(
                "NetcfgSubnetRangeOutsideVnet",
                format!(
                    "Subnet '{subnet_name}' is not valid because its IP address range is outside the IP address range of virtual network '{vnet_name}'."
                ),
            ));
        }
        for (sib, cidrs) in siblings {
            if cidrs.iter().any(|o| o.overlaps(&c)) {
                return Err(ApiError::bad(
                    "NetcfgSubnetRangesOverlap",
                    format!(
                        "Subnet '{subnet_name}' is not valid because its IP address range overlaps with that of an existing subnet in virtual network '{vnet_name}' ('{sib}')."
                    ),
                ));
            }
        }
        out.push(c);
    }
    Ok(out)
}

fn subnet_body(
    id: &str,
    name: &str,
    props_in: &Map<String, Value>,
    existing: Option<&Res>,
) -> Value {
    let mut props = base_props(existing, false);
    let mut rest = props_in.clone();
    strip(
        &mut rest,
        &[
            "provisioningState",
            "ipConfigurations",
            "ipConfigurationProfiles",
            "privateEndpoints",
            "purpose",
            "resourceNavigationLinks",
            "serviceAssociationLinks",
        ],
    );
    merge(&mut props, rest);
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("id".into(), json!(id));
    m.insert("etag".into(), json!(""));
    m.insert("type".into(), json!(Kind::Subnet.type_str()));
    m.insert("properties".into(), Value::Object(props));
    Value::Object(m)
}

/// A subnet's references and delegations: the network security group must exist in the VNet's
/// region (its id is stored in canonical casing); delegations get their id, type and state.
fn subnet_refs(
    store: &Store,
    vnet_loc: &str,
    subnet_id: &str,
    props: &mut Map<String, Value>,
) -> ApiResult<()> {
    if let Some(nid) = ref_id(props.get("networkSecurityGroup")) {
        let nsg = resolve(store, &nid, Kind::NetworkSecurityGroup, subnet_id)?;
        let nloc = nsg
            .body
            .get("location")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !nloc.is_empty() && !vnet_loc.is_empty() && nloc != vnet_loc {
            return Err(invalid_reference(&nsg.id, subnet_id));
        }
        props.insert("networkSecurityGroup".into(), json!({"id": nsg.id}));
    } else {
        props.remove("networkSecurityGroup");
    }
    match props.get("delegations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            let mut names: Vec<String> = Vec::new();
            for d in items {
                let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
                let service = d
                    .pointer("/properties/serviceName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if name.is_empty() || service.is_empty() {
                    return Err(ApiError::bad(
                        "InvalidRequestFormat",
                        format!(
                            "Every delegation of subnet {subnet_id} needs a name and properties.serviceName."
                        ),
                    ));
                }
                if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    return Err(ApiError::bad(
                        "InvalidRequestFormat",
                        format!(
                            "Delegation name '{name}' appears more than once in subnet {subnet_id}."
                        ),
                    ));
                }
                names.push(name.to_string());
                let mut dp = Map::new();
                dp.insert("provisioningState".into(), json!("Succeeded"));
                dp.insert("serviceName".into(), json!(service));
                dp.insert(
                    "actions".into(),
                    Value::Array(
                        string_list(d.pointer("/properties/actions"))
                            .into_iter()
                            .map(Value::String)
                            .collect(),
                    ),
                );
                out.push(json!({
                    "name": name,
                    "id": format!("{subnet_id}/delegations/{name}"),
                    "etag": "",
                    "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
                    "properties": dp,
                }));
            }
            props.insert("delegations".into(), Value::Array(out));
        }
        Some(_) => {
            return Err(ApiError::bad(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'delegations' must be an array.",
            ));
        }
    }
    Ok(())
}

fn in_use_subnet_error(name: &str, ipc: &str) -> ApiError {
    ApiError::bad(
        "InUseSubnetCannotBeDeleted",
        format!("Subnet {name} is in use by {ipc} and cannot be deleted."),
    )
}

fn put_vnet(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    let mut props_in = req_props(req)?;
    let subnets_in = props_in.remove("subnets");
    strip(&mut props_in, &["provisioningState", "resourceGuid"]);
    let prefixes = string_list(props_in.pointer_get("addressSpace", "addressPrefixes"));
    if prefixes.is_empty() {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            "Virtual network must have at least one address prefix in addressSpace.addressPrefixes.",
        ));
    }
    let mut space = Vec::new();
    for p in &prefixes {
        let c = cidr_or_err(p)?;
        if space.iter().any(|o: &Cidr| o.overlaps(&c)) {
            return Err(ApiError::bad(
                "NetcfgInvalidAddressSpace",
                format!(
                    "Address prefix {p} overlaps another prefix of the address space of virtual network '{}'.",
                    ctx.name
                ),
            ));
        }
        space.push(c);
    }
    let mut props = base_props(ctx.existing, true);
    merge(&mut props, props_in);
    if !props.contains_key("virtualNetworkPeerings") {
        props.insert("virtualNetworkPeerings".into(), json!([]));
    }
    let vkey = key(ctx.id);
    let existing_subnets = children(ctx.store, &vkey, Kind::Subnet);
    let mut side = Vec::new();
    let keep_existing = subnets_in.is_none() && ctx.cfg.vnet_put_without_subnets_keeps_existing;
    if keep_existing {
        for s in &existing_subnets {
            for c in subnet_cidrs(s) {
                if !space.iter().any(|v| v.contains(&c)) {
                    return Err(ApiError::bad(
                        "NetcfgSubnetRangeOutsideVnet",
                        format!(
                            "Subnet '{}' is not valid because its IP address range is outside the IP address range of virtual network '{}'.",
                            name_of(s),
                            ctx.name
                        ),
                    ));
                }
            }
        }
    } else {
        let list = match subnets_in {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => {
                return Err(ApiError::bad(
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: 'subnets' must be an array.",
                ));
            }
        };
        let mut accepted: Vec<(String, Vec<Cidr>)> = Vec::new();
        for s in &list {
            let Some(name) = s
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return Err(ApiError::bad(
                    "InvalidRequestFormat",
                    "Every subnet in properties.subnets must have a name.",
                ));
            };
            if accepted.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(ApiError::bad(
                    "InvalidRequestFormat",
                    format!(
                        "Subnet name '{name}' appears more than once in virtual network '{}'.",
                        ctx.name
                    ),
                ));
            }
            let mut sprops = req_props(s)?;
            let raw = subnet_prefix_strings(&Value::Object(sprops.clone()));
            let cidrs = check_subnet_prefixes(ctx.name, &space, name, &raw, &accepted)?;
            let existing = existing_subnets
                .iter()
                .find(|e| name_of(e).eq_ignore_ascii_case(name))
                .copied();
            let sname = existing.map(name_of).unwrap_or(name).to_string();
            let sid = child_id(ctx.id, Kind::Subnet, &sname);
            subnet_refs(ctx.store, &loc, &sid, &mut sprops)?;
            if let Some(e) = existing {
                let users = subnet_users(ctx.store, &key(&e.id));
                if let Some((_, ipc)) = users.first() {
                    let old: Vec<Cidr> = subnet_cidrs(e);
                    if old != cidrs {
                        return Err(ApiError::bad(
                            "InUseSubnetCannotBeUpdated",
                            format!(
                                "Subnet {sname} is in use by {ipc} and its address prefix cannot be updated."
                            ),
                        ));
                    }
                }
            }
            side.push(Side::Upsert {
                id: sid.clone(),
                kind: Kind::Subnet,
                body: subnet_body(&sid, &sname, &sprops, existing),
            });
            accepted.push((sname, cidrs));
        }
        for e in &existing_subnets {
            let n = name_of(e);
            if accepted.iter().any(|(a, _)| a.eq_ignore_ascii_case(n)) {
                continue;
            }
            if let Some((_, ipc)) = subnet_users(ctx.store, &key(&e.id)).first() {
                return Err(in_use_subnet_error(n, ipc));
            }
            side.push(Side::Remove(key(&e.id)));
        }
    }
    let body = envelope(ctx, req, Some(&loc), props);
    let mut p = plan(ctx, body, loc, vec![]);
    p.side = side;
    Ok(p)
}

trait PointerGet {
    fn pointer_get(&self, a: &str, b: &str) -> Option<&Value>;
}
impl PointerGet for Map<String, Value> {
    fn pointer_get(&self, a: &str, b: &str) -> Option<&Value> {
        self.get(a).and_then(|v| v.get(b))
    }
}

fn name_of(r: &Res) -> &str {
    r.body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn put_subnet(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let Some(vnet) = ctx.parent else {
        return Err(ApiError::bad("InvalidRequest", "missing parent"));
    };
    let mut props_in = req_props(req)?;
    let raw = subnet_prefix_strings(&Value::Object(props_in.clone()));
    let vkey = key(&vnet.id);
    let vnet_loc = vnet
        .body
        .get("location")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    subnet_refs(ctx.store, &vnet_loc, ctx.id, &mut props_in)?;
    let self_key = key(ctx.id);
    let siblings: Vec<(String, Vec<Cidr>)> = children(ctx.store, &vkey, Kind::Subnet)
        .into_iter()
        .filter(|s| key(&s.id) != self_key && !s.deleting)
        .map(|s| (name_of(s).to_string(), subnet_cidrs(s)))
        .collect();
    let cidrs = check_subnet_prefixes(
        name_of(vnet),
        &vnet_space(&vnet.body),
        ctx.name,
        &raw,
        &siblings,
    )?;
    if let Some(e) = ctx.existing
        && let Some((_, ipc)) = subnet_users(ctx.store, &self_key).first()
        && subnet_cidrs(e) != cidrs
    {
        return Err(ApiError::bad(
            "InUseSubnetCannotBeUpdated",
            format!(
                "Subnet {} is in use by {ipc} and its address prefix cannot be updated.",
                ctx.name
            ),
        ));
    }
    let body = subnet_body(ctx.id, ctx.name, &props_in, ctx.existing);
    let loc = vnet
        .body
        .get("location")
        .and_then(Value::as_str)
        .unwrap_or("global")
        .to_string();
    Ok(plan(ctx, body, loc, vec![]))
}

// --- public IP ----------------------------------------------------------------------------

fn put_pip(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "resourceGuid",
            "ipAddress",
            "ipConfiguration",
        ],
    );
    let sku_name = req
        .pointer("/sku/name")
        .and_then(Value::as_str)
        .unwrap_or("Basic")
        .to_string();
    let Some(sku_name) = canon_enum(&sku_name, &["Basic", "Standard", "StandardV2"]) else {
        return Err(ApiError::bad(
            "InvalidPublicIpSku",
            format!(
                "Public IP address SKU '{sku_name}' is not valid. Allowed values are Basic, Standard, StandardV2."
            ),
        ));
    };
    let default_method = if sku_name == "Basic" {
        "Dynamic"
    } else {
        "Static"
    };
    let method = props_in
        .get("publicIPAllocationMethod")
        .and_then(Value::as_str)
        .unwrap_or(default_method)
        .to_string();
    let Some(method) = canon_enum(&method, &["Static", "Dynamic"]) else {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            format!(
                "publicIPAllocationMethod '{method}' is not valid. Allowed values are Static, Dynamic."
            ),
        ));
    };
    if sku_name != "Basic" && method == "Dynamic" {
        return Err(ApiError::bad(
            "StandardSkuPublicIPAddressesMustBeStatic",
            format!(
                "Standard sku publicIp {} must have AllocationMethod set to Static.",
                ctx.id
            ),
        ));
    }
    let mut props = base_props(ctx.existing, true);
    props.insert("publicIPAllocationMethod".into(), json!(method));
    if !props_in.contains_key("publicIPAddressVersion") {
        props.insert("publicIPAddressVersion".into(), json!("IPv4"));
    }
    if !props_in.contains_key("idleTimeoutInMinutes") {
        props.insert("idleTimeoutInMinutes".into(), json!(4));
    }
    props_in.remove("publicIPAllocationMethod");
    merge(&mut props, props_in);
    let old_ip = ctx
        .existing
        .and_then(|r| prop_str(&r.body, "ipAddress"))
        .map(str::to_string);
    let needs_ip = old_ip.is_none();
    if let Some(ip) = old_ip {
        props.insert("ipAddress".into(), json!(ip));
    }
    let mut body = envelope(ctx, req, Some(&loc), props);
    if body.get("sku").is_none()
        && let Some(o) = body.as_object_mut()
    {
        // keep the envelope order: insert sku before properties
        let props = o.remove("properties").unwrap_or(json!({}));
        o.insert("sku".into(), json!({"name": "Basic", "tier": "Regional"}));
        o.insert("properties".into(), props);
    }
    let mut p = plan(ctx, body, loc, vec![]);
    p.needs_ip = needs_ip;
    Ok(p)
}

// --- network security group -----------------------------------------------------------------

const NSG_PROTOCOLS: [&str; 6] = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];

/// The rules Azure puts in every network security group (`defaultSecurityRules`).
fn default_security_rules(nsg_id: &str) -> Value {
    let rule =
        |name: &str, desc: &str, src: &str, dst: &str, access: &str, prio: i64, dir: &str| {
            json!({
                "name": name,
                "id": format!("{nsg_id}/defaultSecurityRules/{name}"),
                "etag": "",
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "provisioningState": "Succeeded",
                    "description": desc,
                    "protocol": "*",
                    "sourcePortRange": "*",
                    "destinationPortRange": "*",
                    "sourceAddressPrefix": src,
                    "destinationAddressPrefix": dst,
                    "access": access,
                    "priority": prio,
                    "direction": dir,
                }
            })
        };
    json!([
        rule(
            "AllowVnetInBound",
            "Allow inbound traffic from all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Inbound"
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Allow inbound traffic from azure load balancer",
            "AzureLoadBalancer",
            "*",
            "Allow",
            65001,
            "Inbound"
        ),
        rule(
            "DenyAllInBound",
            "Deny all inbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Inbound"
        ),
        rule(
            "AllowVnetOutBound",
            "Allow outbound traffic from all VMs to all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Outbound"
        ),
        rule(
            "AllowInternetOutBound",
            "Allow outbound traffic from all VMs to Internet",
            "*",
            "Internet",
            "Allow",
            65001,
            "Outbound"
        ),
        rule(
            "DenyAllOutBound",
            "Deny all outbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Outbound"
        ),
    ])
}

fn put_nsg(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "resourceGuid",
            "defaultSecurityRules",
            "subnets",
            "networkInterfaces",
            "flowLogs",
        ],
    );
    let rules_in = match props_in.remove("securityRules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::bad(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'securityRules' must be an array.",
            ));
        }
    };
    let mut rules = Vec::new();
    let mut seen: Vec<(String, String, i64)> = Vec::new();
    for r in &rules_in {
        let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            return Err(ApiError::bad(
                "InvalidRequestFormat",
                "Every security rule in properties.securityRules must have a name.",
            ));
        }
        let rid = format!("{}/securityRules/{name}", ctx.id);
        let mut rp = req_props(r)?;
        strip(&mut rp, &["provisioningState"]);
        let enum_of = |field: &str, allowed: &[&str]| -> ApiResult<String> {
            let raw = rp.get(field).and_then(Value::as_str).unwrap_or_default();
            canon_enum(raw, allowed).ok_or_else(|| {
                ApiError::bad(
                    "SecurityRuleInvalidParameter",
                    format!(
                        "Security rule {rid} has invalid {field} '{raw}'. Allowed values are {}.",
                        allowed.join(", ")
                    ),
                )
            })
        };
        let protocol = enum_of("protocol", &NSG_PROTOCOLS)?;
        let access = enum_of("access", &["Allow", "Deny"])?;
        let direction = enum_of("direction", &["Inbound", "Outbound"])?;
        let Some(priority) = int_of(rp.get("priority")).filter(|p| (100..=4096).contains(p)) else {
            return Err(ApiError::bad(
                "SecurityRuleInvalidPriority",
                format!(
                    "Security rule {rid} has invalid priority {}. Value provided: {}. Allowed range 100-4096.",
                    name,
                    rp.get("priority")
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "(missing)".into())
                ),
            ));
        };
        for (single, plural) in [
            ("sourcePortRange", "sourcePortRanges"),
            ("destinationPortRange", "destinationPortRanges"),
            ("sourceAddressPrefix", "sourceAddressPrefixes"),
            ("destinationAddressPrefix", "destinationAddressPrefixes"),
        ] {
            let has_single = rp
                .get(single)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            let has_plural = !string_list(rp.get(plural)).is_empty();
            if has_single && has_plural {
                return Err(ApiError::bad(
                    "SecurityRuleParameterContainsUnsupportedValue",
                    format!("Security rule {rid} cannot set both {single} and {plural}."),
                ));
            }
        }
        if let Some((other, _, _)) = seen
            .iter()
            .find(|(n, d, p)| n.eq_ignore_ascii_case(name) || (*d == direction && *p == priority))
        {
            let code = if other.eq_ignore_ascii_case(name) {
                "SecurityRuleNameNotUnique"
            } else {
                "SecurityRuleConflict"
            };
            let message = if code == "SecurityRuleConflict" {
                format!(
                    "Security rule {name} conflicts with rule {other}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules."
                )
            } else {
                format!(
                    "Security rule name {name} is used more than once in the network security group."
                )
            };
            return Err(ApiError::bad(code, message));
        }
        seen.push((name.to_string(), direction.clone(), priority));
        let mut props = Map::new();
        props.insert("provisioningState".into(), json!("Succeeded"));
        props.insert("protocol".into(), json!(protocol));
        for k in ["protocol", "access", "direction", "priority"] {
            rp.remove(k);
        }
        merge(&mut props, rp);
        props.insert("access".into(), json!(access));
        props.insert("priority".into(), json!(priority));
        props.insert("direction".into(), json!(direction));
        rules.push(json!({
            "name": name,
            "id": rid,
            "etag": "",
            "type": "Microsoft.Network/networkSecurityGroups/securityRules",
            "properties": props,
        }));
    }
    let mut props = base_props(ctx.existing, true);
    props.insert("securityRules".into(), Value::Array(rules));
    props.insert(
        "defaultSecurityRules".into(),
        default_security_rules(ctx.id),
    );
    merge(&mut props, props_in);
    let body = envelope(ctx, req, Some(&loc), props);
    Ok(plan(ctx, body, loc, vec![]))
}

/// Subnets that reference the network security group with this key.
fn nsg_users(store: &Store, nsg_key: &str) -> Vec<String> {
    store
        .resources
        .values()
        .filter(|r| r.kind == Kind::Subnet && !r.deleting)
        .filter(|r| {
            ref_id(prop(&r.body, "networkSecurityGroup")).is_some_and(|i| key(&i) == nsg_key)
        })
        .map(|r| r.id.clone())
        .collect()
}

// --- virtual network gateway (R1–R8) ------------------------------------------------------

const ER_SKUS: [&str; 7] = [
    "Standard",
    "HighPerformance",
    "UltraPerformance",
    "ErGw1AZ",
    "ErGw2AZ",
    "ErGw3AZ",
    "ErGwScale",
];
const VPN_GEN1_SKUS: [&str; 9] = [
    "Basic",
    "Standard",
    "HighPerformance",
    "VpnGw1",
    "VpnGw2",
    "VpnGw3",
    "VpnGw1AZ",
    "VpnGw2AZ",
    "VpnGw3AZ",
];
const VPN_GEN2_SKUS: [&str; 8] = [
    "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ",
];
const ALL_GW_SKUS: [&str; 19] = [
    "Basic",
    "HighPerformance",
    "Standard",
    "UltraPerformance",
    "VpnGw1",
    "VpnGw2",
    "VpnGw3",
    "VpnGw4",
    "VpnGw5",
    "VpnGw1AZ",
    "VpnGw2AZ",
    "VpnGw3AZ",
    "VpnGw4AZ",
    "VpnGw5AZ",
    "ErGw1AZ",
    "ErGw2AZ",
    "ErGw3AZ",
    "ErGwScale",
    "Local",
];

fn is_az(sku: &str) -> bool {
    sku.ends_with("AZ") || sku == "ErGwScale"
}

fn er_resize_allowed(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            ("Standard", "HighPerformance")
                | ("Standard", "UltraPerformance")
                | ("HighPerformance", "UltraPerformance")
                | ("HighPerformance", "Standard")
                | ("ErGw1AZ", "ErGw2AZ")
                | ("ErGw1AZ", "ErGw3AZ")
                | ("ErGw2AZ", "ErGw3AZ")
                | ("ErGw2AZ", "ErGw1AZ")
        )
}

fn vpn_resize_allowed(from: &str, to: &str, gen_from: &str, gen_to: &str) -> bool {
    if from == to {
        return gen_from == gen_to;
    }
    let legacy = |s: &str| matches!(s, "Basic" | "Standard" | "HighPerformance");
    if legacy(from) || legacy(to) {
        return legacy(from) && legacy(to) && from != "Basic" && to != "Basic";
    }
    gen_from == gen_to && is_az(from) == is_az(to)
}

fn gw_type_of(r: &Res) -> String {
    prop_str(&r.body, "gatewayType")
        .unwrap_or_default()
        .to_string()
}

/// The VNet key a gateway lives in (from its first ipConfiguration's subnet).
fn gw_vnet_key(gw: &Res) -> Option<String> {
    ip_configs(gw)
        .first()
        .and_then(|ipc| ipc.pointer("/properties/subnet/id"))
        .and_then(Value::as_str)
        .map(|s| parent_key_of(&key(s)))
}

fn put_gateway(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    if req.get("properties").is_none() {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            "Cannot parse the request: the 'properties' member is required for a virtual network gateway.",
        ));
    }
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "resourceGuid",
            "inboundDnsForwardingEndpoint",
        ],
    );
    let gt_raw = props_in
        .get("gatewayType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(gtype) = canon_enum(&gt_raw, &["Vpn", "ExpressRoute", "LocalGateway"]) else {
        return Err(ApiError::bad(
            "InvalidGatewayType",
            format!(
                "Gateway type '{gt_raw}' is not valid. Allowed values are Vpn, ExpressRoute, LocalGateway."
            ),
        ));
    };
    let is_vpn = gtype == "Vpn";
    let is_er = gtype == "ExpressRoute";
    let vpn_type = match props_in.get("vpnType").and_then(Value::as_str) {
        Some(v) => match canon_enum(v, &["RouteBased", "PolicyBased"]) {
            Some(c) => Some(c),
            None => {
                return Err(ApiError::bad(
                    "InvalidVpnType",
                    format!(
                        "VPN type '{v}' is not valid. Allowed values are RouteBased, PolicyBased."
                    ),
                ));
            }
        },
        None if is_vpn => Some("RouteBased".to_string()),
        None => None,
    };
    // R4: SKU per gateway type
    let sku_name_raw = props_in
        .pointer_get("sku", "name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(sku_name) = canon_enum(&sku_name_raw, &ALL_GW_SKUS) else {
        return Err(ApiError::bad(
            "InvalidGatewaySku",
            format!("The SKU '{sku_name_raw}' is not a valid virtual network gateway SKU."),
        ));
    };
    let gen_given = props_in
        .get("vpnGatewayGeneration")
        .and_then(Value::as_str)
        .map(str::to_string);
    let generation = match &gen_given {
        Some(g) => match canon_enum(g, &["None", "Generation1", "Generation2"]) {
            Some(c) => c,
            None => {
                return Err(ApiError::bad(
                    "InvalidVpnGatewayGeneration",
                    format!(
                        "VPN gateway generation '{g}' is not valid. Allowed values are None, Generation1, Generation2."
                    ),
                ));
            }
        },
        None if is_vpn => {
            if matches!(
                sku_name.as_str(),
                "VpnGw4" | "VpnGw5" | "VpnGw4AZ" | "VpnGw5AZ"
            ) {
                "Generation2".to_string()
            } else {
                "Generation1".to_string()
            }
        }
        None => "None".to_string(),
    };
    if is_er {
        if generation != "None" {
            return Err(ApiError::bad(
                "InvalidVpnGatewayGeneration",
                "vpnGatewayGeneration must be None if gatewayType is not Vpn.",
            ));
        }
        if !ER_SKUS.contains(&sku_name.as_str()) {
            return Err(ApiError::bad(
                "InvalidGatewaySku",
                format!(
                    "The SKU '{sku_name}' is not valid for a virtual network gateway of type ExpressRoute. Valid SKUs are {}.",
                    ER_SKUS.join(", ")
                ),
            ));
        }
    }
    if is_vpn {
        let vt = vpn_type.as_deref().unwrap_or("RouteBased");
        let ok = if vt == "PolicyBased" {
            sku_name == "Basic"
        } else if generation == "Generation2" {
            VPN_GEN2_SKUS.contains(&sku_name.as_str())
        } else if generation == "Generation1" {
            VPN_GEN1_SKUS.contains(&sku_name.as_str())
        } else {
            false
        };
        if !ok {
            return Err(ApiError::bad(
                "InvalidGatewaySku",
                format!(
                    "The SKU '{sku_name}' is not valid for a {vt} virtual network gateway of type Vpn and generation {generation}."
                ),
            ));
        }
    }
    // R6: immutable type, allowed resizes
    if let Some(e) = ctx.existing {
        let old_type = gw_type_of(e);
        if !old_type.eq_ignore_ascii_case(&gtype) {
            return Err(ApiError::bad(
                "GatewayTypeCannotBeChanged",
                format!(
                    "The gatewayType of virtual network gateway {} cannot be changed from {old_type} to {gtype}.",
                    ctx.name
                ),
            ));
        }
        let old_vt = prop_str(&e.body, "vpnType").unwrap_or_default();
        if is_vpn
            && !old_vt.is_empty()
            && vpn_type
                .as_deref()
                .is_some_and(|v| !v.eq_ignore_ascii_case(old_vt))
        {
            return Err(ApiError::bad(
                "VpnTypeCannotBeChanged",
                format!(
                    "The vpnType of virtual network gateway {} cannot be changed from {old_vt}; delete and recreate the gateway.",
                    ctx.name
                ),
            ));
        }
        let old_sku = e
            .body
            .pointer("/properties/sku/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let old_gen = prop_str(&e.body, "vpnGatewayGeneration")
            .unwrap_or("None")
            .to_string();
        if is_er && !er_resize_allowed(&old_sku, &sku_name) {
            if is_az(&old_sku) != is_az(&sku_name) {
                return Err(ApiError::bad(
                    "ExpressRouteVirtualNetworkGatewayAutoscaleBoundsNotValid",
                    format!(
                        "ExpressRoute gateway {} cannot be resized from {old_sku} to {sku_name} in place (zone-redundant and non-zone-redundant SKUs); delete and recreate the gateway.",
                        ctx.name
                    ),
                ));
            }
            return Err(ApiError::bad(
                "InvalidGatewaySkuResize",
                format!(
                    "ExpressRoute gateway {} cannot be resized from {old_sku} to {sku_name}; delete and recreate the gateway.",
                    ctx.name
                ),
            ));
        }
        if is_vpn && !vpn_resize_allowed(&old_sku, &sku_name, &old_gen, &generation) {
            return Err(ApiError::bad(
                "InvalidGatewaySkuResize",
                format!(
                    "VPN gateway {} cannot be resized from {old_sku} ({old_gen}) to {sku_name} ({generation}); delete and recreate the gateway.",
                    ctx.name
                ),
            ));
        }
    }
    // ipConfigurations: R1, R2, R7, R8
    let ipcs_in: Vec<Value> = props_in
        .get("ipConfigurations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ipcs_in.is_empty() {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            "A virtual network gateway needs at least one ipConfiguration with a subnet.",
        ));
    }
    let active_active = props_in
        .get("activeActive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if active_active && ipcs_in.len() < 2 {
        return Err(ApiError::bad(
            "ActiveActiveGatewayRequiresTwoIpConfigurations",
            format!(
                "Active-active virtual network gateway {} needs two ipConfigurations, each with its own public IP address.",
                ctx.name
            ),
        ));
    }
    let self_key = key(ctx.id);
    let mut vnet_key: Option<String> = None;
    let mut subnet_prefix_len: u8 = 0;
    let mut subnet_id_canon = String::new();
    let mut ipcs_out = Vec::new();
    let mut pips_seen: Vec<String> = Vec::new();
    for (i, ipc) in ipcs_in.iter().enumerate() {
        let ipc_name = ipc
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| {
                if i == 0 {
                    "default".to_string()
                } else {
                    format!("ipconfig{i}")
                }
            });
        let ipc_id = format!("{}/ipConfigurations/{ipc_name}", ctx.id);
        let iprops = ipc.get("properties").cloned().unwrap_or(json!({}));
        let Some(sid) = ref_id(iprops.get("subnet")) else {
            return Err(ApiError::bad(
                "InvalidRequestFormat",
                format!("ipConfiguration {ipc_id} must reference a subnet."),
            ));
        };
        let subnet = resolve(ctx.store, &sid, Kind::Subnet, ctx.id)?;
        // R1
        if !name_of(subnet).eq_ignore_ascii_case("GatewaySubnet") {
            return Err(ApiError::bad(
                "InvalidGatewaySubnet",
                format!(
                    "Virtual network gateway can only be created in subnet with name 'GatewaySubnet'. Subnet {} is named '{}'.",
                    subnet.id,
                    name_of(subnet)
                ),
            ));
        }
        let vk = parent_key_of(&key(&subnet.id));
        match &vnet_key {
            None => vnet_key = Some(vk.clone()),
            Some(v) if *v != vk => {
                return Err(ApiError::bad(
                    "InvalidRequestFormat",
                    "All ipConfigurations of a virtual network gateway must use the same GatewaySubnet.",
                ));
            }
            _ => {}
        }
        if let Some(c) = subnet_cidrs(subnet).first() {
            subnet_prefix_len = c.len;
        }
        subnet_id_canon = subnet.id.clone();
        // R8
        if let Some(vnet) = ctx.store.resources.get(&vk) {
            let vloc = vnet
                .body
                .get("location")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !vloc.is_empty() && vloc != loc {
                return Err(ApiError::bad(
                    "InvalidResourceReference",
                    format!(
                        "Resource {} referenced by resource {} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region. (virtual network location '{vloc}', gateway location '{loc}')",
                        subnet.id, ctx.id
                    ),
                ));
            }
        }
        let mut op = Map::new();
        op.insert("provisioningState".into(), json!("Updating"));
        let alloc = iprops
            .get("privateIPAllocationMethod")
            .and_then(Value::as_str)
            .and_then(|m| canon_enum(m, &["Static", "Dynamic"]))
            .unwrap_or_else(|| "Dynamic".to_string());
        op.insert("privateIPAllocationMethod".into(), json!(alloc));
        op.insert("subnet".into(), json!({"id": subnet.id}));
        // R7
        match ref_id(iprops.get("publicIPAddress")) {
            Some(pid) => {
                let pip = resolve(ctx.store, &pid, Kind::PublicIp, ctx.id)?;
                let pk = key(&pip.id);
                let ploc = pip
                    .body
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !ploc.is_empty() && ploc != loc {
                    return Err(invalid_reference(&pip.id, ctx.id));
                }
                if pips_seen.contains(&pk) {
                    return Err(ApiError::bad(
                        "PublicIPAddressInUse",
                        format!(
                            "Public IP address {} is referenced by more than one ipConfiguration of {}.",
                            pip.id, ctx.id
                        ),
                    ));
                }
                if let Some((_, other)) = pip_users(ctx.store, &pk)
                    .into_iter()
                    .find(|(gk, _)| *gk != self_key)
                {
                    return Err(ApiError::bad(
                        "PublicIPAddressInUse",
                        format!(
                            "Public IP address {} is already allocated to resource {other}.",
                            pip.id
                        ),
                    ));
                }
                pips_seen.push(pk);
                op.insert("publicIPAddress".into(), json!({"id": pip.id}));
            }
            None if is_vpn => {
                return Err(ApiError::bad(
                    "PublicIpAddressRequiredForVpnGateway",
                    format!(
                        "ipConfiguration {ipc_id} of VPN gateway {} must reference a public IP address.",
                        ctx.name
                    ),
                ));
            }
            None => {}
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(ipc_name));
        m.insert("id".into(), json!(ipc_id));
        m.insert("etag".into(), json!(""));
        m.insert(
            "type".into(),
            json!("Microsoft.Network/virtualNetworkGateways/ipConfigurations"),
        );
        m.insert("properties".into(), Value::Object(op));
        ipcs_out.push(Value::Object(m));
    }
    // R3, R2 (coexistence), R5
    let vk = vnet_key.unwrap_or_default();
    let others: Vec<&Res> = gateways(ctx.store)
        .filter(|g| key(&g.id) != self_key && gw_vnet_key(g).as_deref() == Some(vk.as_str()))
        .collect();
    if let Some(dup) = others
        .iter()
        .find(|g| gw_type_of(g).eq_ignore_ascii_case(&gtype))
    {
        return Err(ApiError::bad(
            "VnetAlreadyHasGatewayOfSameType",
            format!(
                "Virtual network {} already has a virtual network gateway of type {gtype} ({}). Each virtual network can have only one virtual network gateway per gateway type.",
                vk_to_display(ctx.store, &vk),
                dup.id
            ),
        ));
    }
    let coexist = others.iter().any(|g| {
        let t = gw_type_of(g);
        (is_vpn && t.eq_ignore_ascii_case("ExpressRoute"))
            || (is_er && t.eq_ignore_ascii_case("Vpn"))
    });
    let max_len: u8 = if coexist || (is_er && ctx.cfg.er_gateway_requires_slash27) {
        27
    } else {
        29
    };
    if subnet_prefix_len > max_len {
        return Err(ApiError::bad(
            "GatewaySubnetTooSmall",
            format!(
                "Subnet {subnet_id_canon} has prefix length /{subnet_prefix_len}; the GatewaySubnet must be /{max_len} or larger{}.",
                if coexist {
                    " when ExpressRoute and VPN gateways coexist in a virtual network"
                } else {
                    ""
                }
            ),
        ));
    }
    if coexist {
        let bad_vpn = |sku: &str, vt: &str| {
            sku.eq_ignore_ascii_case("Basic") || vt.eq_ignore_ascii_case("PolicyBased")
        };
        let conflict = if is_vpn {
            bad_vpn(&sku_name, vpn_type.as_deref().unwrap_or("RouteBased"))
        } else {
            others.iter().any(|g| {
                gw_type_of(g).eq_ignore_ascii_case("Vpn")
                    && bad_vpn(
                        g.body
                            .pointer("/properties/sku/name")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                        prop_str(&g.body, "vpnType").unwrap_or("RouteBased"),
                    )
            })
        };
        if conflict {
            return Err(ApiError::bad(
                "ExpressRouteVpnCoexistenceNotSupported",
                "ExpressRoute and site-to-site VPN gateways can coexist only with a RouteBased VPN gateway of a SKU other than Basic.",
            ));
        }
    }
    // point-to-site
    if let Some(p2s) = props_in
        .get("vpnClientConfiguration")
        .filter(|v| !v.is_null())
    {
        let p2s = vpn_client_configuration(ctx, p2s, is_er, &sku_name, &vk)?;
        props_in.insert("vpnClientConfiguration".into(), p2s);
    }
    // body
    let mut props = base_props(ctx.existing, true);
    props_in.remove("ipConfigurations");
    props_in.remove("sku");
    props_in.remove("gatewayType");
    props_in.remove("vpnType");
    props_in.remove("vpnGatewayGeneration");
    props.insert("ipConfigurations".into(), Value::Array(ipcs_out));
    props.insert("gatewayType".into(), json!(gtype));
    if let Some(vt) = vpn_type {
        props.insert("vpnType".into(), json!(vt));
    }
    props.insert("vpnGatewayGeneration".into(), json!(generation));
    let tier = req
        .pointer("/properties/sku/tier")
        .and_then(Value::as_str)
        .and_then(|t| canon_enum(t, &ALL_GW_SKUS))
        .unwrap_or_else(|| sku_name.clone());
    props.insert(
        "sku".into(),
        json!({"name": sku_name, "tier": tier, "capacity": 2}),
    );
    for (k, d) in [("enableBgp", json!(false)), ("activeActive", json!(false))] {
        if !props_in.contains_key(k) {
            props.insert(k.into(), d);
        }
    }
    if is_vpn && !props_in.contains_key("bgpSettings") {
        props.insert("bgpSettings".into(), json!({"asn": 65515, "peerWeight": 0}));
    }
    merge(&mut props, props_in);
    let body = envelope(ctx, req, Some(&loc), props);
    Ok(plan(ctx, body, loc, vec![]))
}

/// A gateway's `vpnClientConfiguration`: the client address pool must not overlap the VNet, a
/// Basic gateway speaks only SSTP with certificate authentication, certificates get their ids.
fn vpn_client_configuration(
    ctx: &Ctx,
    p2s: &Value,
    is_er: bool,
    sku: &str,
    vnet_key: &str,
) -> ApiResult<Value> {
    let Some(obj) = p2s.as_object() else {
        return Err(ApiError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'vpnClientConfiguration' must be an object.",
        ));
    };
    if is_er {
        return Err(ApiError::bad(
            "VpnClientConfigurationNotSupportedForGatewayType",
            format!(
                "Virtual network gateway {} of type ExpressRoute does not support point-to-site (vpnClientConfiguration).",
                ctx.name
            ),
        ));
    }
    let mut out = obj.clone();
    let pool = string_list(p2s.pointer("/vpnClientAddressPool/addressPrefixes"));
    let space = ctx
        .store
        .resources
        .get(vnet_key)
        .map(|v| vnet_space(&v.body))
        .unwrap_or_default();
    let vnet_prefixes = ctx
        .store
        .resources
        .get(vnet_key)
        .map(|v| string_list(v.body.pointer("/properties/addressSpace/addressPrefixes")))
        .unwrap_or_default();
    for p in &pool {
        let c = cidr_or_err(p)?;
        if let Some((i, _)) = space.iter().enumerate().find(|(_, v)| v.overlaps(&c)) {
            return Err(ApiError::bad(
                "VpnClientAddressPoolOverlapsWithVnetAddressSpace",
                format!(
                    "The virtual network gateway's VPN client address pool overlaps with the virtual network's address space. The overlapping address space prefixes are {} and {p}.",
                    vnet_prefixes.get(i).cloned().unwrap_or_default()
                ),
            ));
        }
    }
    let basic = sku == "Basic";
    let protocols = match p2s.get("vpnClientProtocols") {
        Some(Value::Array(_)) => string_list(p2s.get("vpnClientProtocols")),
        _ if basic => vec!["SSTP".to_string()],
        _ => vec!["SSTP".to_string(), "IkeV2".to_string()],
    };
    let mut canon_protocols = Vec::new();
    for pr in &protocols {
        let Some(c) = canon_enum(pr, &["IkeV2", "SSTP", "OpenVPN"]) else {
            return Err(ApiError::bad(
                "InvalidRequestFormat",
                format!(
                    "VPN client protocol '{pr}' is not valid. Allowed values are IkeV2, SSTP, OpenVPN."
                ),
            ));
        };
        if basic && c != "SSTP" {
            return Err(ApiError::bad(
                "VpnClientProtocolNotSupportedForGatewaySku",
                format!(
                    "Virtual network gateway {} of SKU Basic supports only the SSTP point-to-site protocol, not {c}.",
                    ctx.name
                ),
            ));
        }
        canon_protocols.push(Value::String(c));
    }
    out.insert("vpnClientProtocols".into(), Value::Array(canon_protocols));
    if basic
        && ["radiusServerAddress", "aadTenant"].iter().any(|k| {
            p2s.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        })
    {
        return Err(ApiError::bad(
            "VpnClientAuthenticationNotSupportedForGatewaySku",
            format!(
                "Virtual network gateway {} of SKU Basic supports only certificate authentication for point-to-site.",
                ctx.name
            ),
        ));
    }
    // The RADIUS secret is write-only.
    out.remove("radiusServerSecret");
    for (list, field, child) in [
        (
            "vpnClientRootCertificates",
            "publicCertData",
            "vpnClientRootCertificates",
        ),
        (
            "vpnClientRevokedCertificates",
            "thumbprint",
            "vpnClientRevokedCertificates",
        ),
    ] {
        let mut items = Vec::new();
        for c in p2s
            .get(list)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            let data = c
                .pointer(&format!("/properties/{field}"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() || data.trim().is_empty() {
                return Err(ApiError::bad(
                    "InvalidRequestFormat",
                    format!("Every entry of {list} needs a name and properties.{field}."),
                ));
            }
            items.push(json!({
                "name": name,
                "id": format!("{}/{child}/{name}", ctx.id),
                "etag": "",
                "properties": { "provisioningState": "Succeeded", field: data },
            }));
        }
        out.insert(list.into(), Value::Array(items));
    }
    Ok(Value::Object(out))
}

fn vk_to_display(store: &Store, vk: &str) -> String {
    store
        .resources
        .get(vk)
        .map(|r| r.id.clone())
        .unwrap_or_else(|| vk.to_string())
}

// --- ExpressRoute circuit (R9–R11) --------------------------------------------------------

const BANDWIDTHS: [i64; 8] = [50, 100, 200, 500, 1000, 2000, 5000, 10000];

fn put_circuit(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "resourceGuid",
            "serviceKey",
            "serviceProviderProvisioningState",
            "circuitProvisioningState",
            "stag",
            "peerings",
            "authorizations",
            "authorizationStatus",
        ],
    );
    // R9
    let sku = req.get("sku").cloned().unwrap_or(Value::Null);
    let tier_raw = sku
        .get("tier")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let family_raw = sku
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(tier) = canon_enum(&tier_raw, &["Standard", "Premium", "Basic", "Local"]) else {
        return Err(ApiError::bad(
            "InvalidExpressRouteCircuitSku",
            format!(
                "ExpressRoute circuit SKU tier '{tier_raw}' is not valid. Allowed values are Standard, Premium, Basic, Local."
            ),
        ));
    };
    let Some(family) = canon_enum(&family_raw, &["MeteredData", "UnlimitedData"]) else {
        return Err(ApiError::bad(
            "InvalidExpressRouteCircuitSku",
            format!(
                "ExpressRoute circuit SKU family '{family_raw}' is not valid. Allowed values are MeteredData, UnlimitedData."
            ),
        ));
    };
    let expected_name = format!("{tier}_{family}");
    let sku_name = sku
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| expected_name.clone());
    if ctx.cfg.strict_circuit_sku_name && !sku_name.eq_ignore_ascii_case(&expected_name) {
        return Err(ApiError::bad(
            "InvalidExpressRouteCircuitSku",
            format!(
                "ExpressRoute circuit SKU name '{sku_name}' does not match tier and family; expected '{expected_name}'."
            ),
        ));
    }
    // R11 (and provider vs direct)
    let spp = props_in
        .get("serviceProviderProperties")
        .filter(|v| v.is_object())
        .cloned();
    let port = ref_id(props_in.get("expressRoutePort"));
    let bandwidth: Option<i64> = match (&spp, &port) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "InvalidRequestFormat",
                "serviceProviderProperties and expressRoutePort are mutually exclusive.",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad(
                "InvalidRequestFormat",
                "An ExpressRoute circuit needs serviceProviderProperties (serviceProviderName, peeringLocation, bandwidthInMbps) or an expressRoutePort.",
            ));
        }
        (Some(s), None) => {
            for f in ["serviceProviderName", "peeringLocation"] {
                if s.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
                    return Err(ApiError::bad(
                        "InvalidRequestFormat",
                        format!("serviceProviderProperties.{f} is required."),
                    ));
                }
            }
            let bw = int_of(s.get("bandwidthInMbps"));
            match bw {
                Some(b) if BANDWIDTHS.contains(&b) => Some(b),
                _ => {
                    return Err(ApiError::bad(
                        "InvalidServiceProviderBandwidth",
                        format!(
                            "Bandwidth {} Mbps is not offered. Valid values are 50, 100, 200, 500, 1000, 2000, 5000, 10000.",
                            s.get("bandwidthInMbps")
                                .map(|v| v.to_string())
                                .unwrap_or_else(|| "(missing)".into())
                        ),
                    ));
                }
            }
        }
        (None, Some(_)) => int_of(props_in.get("bandwidthInGbps")).map(|g| g * 1000),
    };
    // R10
    if let Some(e) = ctx.existing {
        let old_family = e
            .body
            .pointer("/sku/family")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if old_family.eq_ignore_ascii_case("UnlimitedData") && family == "MeteredData" {
            return Err(ApiError::bad(
                "CircuitSkuFamilyDowngradeNotSupported",
                format!(
                    "ExpressRoute circuit {} cannot be changed from UnlimitedData to MeteredData.",
                    ctx.name
                ),
            ));
        }
        let old_bw = int_of(
            e.body
                .pointer("/properties/serviceProviderProperties/bandwidthInMbps"),
        )
        .or_else(|| int_of(e.body.pointer("/properties/bandwidthInGbps")).map(|g| g * 1000));
        if let (Some(o), Some(n)) = (old_bw, bandwidth)
            && n < o
        {
            return Err(ApiError::bad(
                "CircuitBandwidthDowngradeNotSupported",
                format!(
                    "Downgrading the bandwidth of ExpressRoute circuit {} from {o} Mbps to {n} Mbps is not supported.",
                    ctx.name
                ),
            ));
        }
    }
    let mut props = base_props(ctx.existing, true);
    let old = |n: &str| ctx.existing.and_then(|r| prop(&r.body, n)).cloned();
    props.insert("peerings".into(), json!([]));
    props.insert("authorizations".into(), json!([]));
    for (k, d) in [
        ("allowClassicOperations", json!(false)),
        ("gatewayManagerEtag", json!("")),
        ("globalReachEnabled", json!(false)),
    ] {
        if !props_in.contains_key(k) {
            props.insert(k.into(), old(k).unwrap_or(d));
        }
    }
    merge(&mut props, props_in);
    props.insert("circuitProvisioningState".into(), json!("Enabled"));
    props.insert(
        "serviceKey".into(),
        old("serviceKey").unwrap_or_else(|| json!(new_guid())),
    );
    props.insert(
        "serviceProviderProvisioningState".into(),
        old("serviceProviderProvisioningState").unwrap_or_else(|| json!("NotProvisioned")),
    );
    let needs_stag = old("stag").is_none();
    if let Some(s) = old("stag") {
        props.insert("stag".into(), s);
    }
    let mut body = envelope(ctx, req, Some(&loc), props);
    if let Some(o) = body.as_object_mut() {
        let props = o.remove("properties").unwrap_or(json!({}));
        o.insert(
            "sku".into(),
            json!({"name": sku_name, "tier": tier, "family": family}),
        );
        o.insert("properties".into(), props);
    }
    let mut p = plan(ctx, body, loc, vec![]);
    p.needs_stag = needs_stag;
    Ok(p)
}

// --- peerings (R13–R17) ---------------------------------------------------------------------

const PEERING_TYPES: [&str; 3] = [
    "AzurePrivatePeering",
    "MicrosoftPeering",
    "AzurePublicPeering",
];
const REGISTRIES: [&str; 9] = [
    "ARIN", "APNIC", "AFRINIC", "LACNIC", "RIPENCC", "RADB", "ALTDB", "LEVEL3", "NONE",
];

pub fn asn_reserved(asn: i64) -> bool {
    matches!(asn, 0 | 8074 | 8075 | 12076 | 23456 | 64496..=64511 | 65515..=65520 | 65535..=65551 | 4294967295)
}

fn parent_location(ctx: &Ctx) -> String {
    ctx.parent
        .and_then(|p| p.body.get("location"))
        .and_then(Value::as_str)
        .unwrap_or("global")
        .to_string()
}

fn put_peering(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let Some(circuit) = ctx.parent else {
        return Err(ApiError::bad("InvalidRequest", "missing parent"));
    };
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "primaryAzurePort",
            "secondaryAzurePort",
            "lastModifiedBy",
            "connections",
            "peeredConnections",
            "azureASN",
            "gatewayManagerEtag",
        ],
    );
    let Some(ptype) = canon_enum(ctx.name, &PEERING_TYPES) else {
        return Err(ApiError::bad(
            "InvalidPeeringName",
            format!(
                "Peering name '{}' is not valid. The name of a peering must be its type: AzurePrivatePeering, MicrosoftPeering or AzurePublicPeering.",
                ctx.name
            ),
        ));
    };
    if let Some(t) = props_in.get("peeringType").and_then(Value::as_str)
        && !t.eq_ignore_ascii_case(&ptype)
    {
        return Err(ApiError::bad(
            "PeeringTypeMismatch",
            format!(
                "peeringType '{t}' does not match the peering name '{}'.",
                ctx.name
            ),
        ));
    }
    props_in.remove("peeringType");
    // R13
    if ctx.cfg.strict_peering && provider_state(circuit) != ProviderState::Provisioned {
        return Err(ApiError::bad(
            "ExpressRouteCircuitNotProvisioned",
            format!(
                "The ExpressRoute circuit must be in a Provisioned state in order to configure peering. Circuit {} has serviceProviderProvisioningState '{}'.",
                circuit.id,
                provider_state(circuit).as_str()
            ),
        ));
    }
    let is_ms = ptype == "MicrosoftPeering";
    let strict_public = is_ms && ctx.cfg.strict_microsoft_peering_public_prefixes;
    // R15
    let asn = int_of(props_in.get("peerASN"));
    match asn {
        None => {
            return Err(ApiError::bad(
                "InvalidPeerAsn",
                "peerASN is required for an ExpressRoute circuit peering.",
            ));
        }
        Some(a) if !(1..=4294967295).contains(&a) => {
            return Err(ApiError::bad(
                "InvalidPeerAsn",
                format!("peerASN {a} is out of range; it must be between 1 and 4294967295."),
            ));
        }
        Some(a) if asn_reserved(a) => {
            return Err(ApiError::bad(
                "InvalidPeerAsn",
                format!(
                    "peerASN {a} is reserved (Azure reserves 8074, 8075, 12076 and 65515-65520; IANA reserves 23456, 64496-64511, 65535-65551, 4294967295)."
                ),
            ));
        }
        Some(_) => {}
    }
    // R14
    let prim = props_in
        .get("primaryPeerAddressPrefix")
        .and_then(Value::as_str)
        .map(str::to_string);
    let sec = props_in
        .get("secondaryPeerAddressPrefix")
        .and_then(Value::as_str)
        .map(str::to_string);
    let has_v6 = props_in
        .get("ipv6PeeringConfig")
        .is_some_and(|v| v.is_object());
    match (&prim, &sec) {
        (Some(p), Some(s)) => {
            let mut parsed = Vec::new();
            for (label, v) in [
                ("primaryPeerAddressPrefix", p),
                ("secondaryPeerAddressPrefix", s),
            ] {
                let c = Cidr::parse_strict(v).map_err(|e| {
                    ApiError::bad(
                        "InvalidPeerAddressPrefix",
                        format!("{label}: {}", describe(&e, v)),
                    )
                })?;
                if c.v6 || c.len != 30 {
                    return Err(ApiError::bad(
                        "InvalidPeerAddressPrefix",
                        format!("{label} '{v}' must be an IPv4 /30 subnet."),
                    ));
                }
                if strict_public && c.is_private() {
                    return Err(ApiError::bad(
                        "InvalidPeerAddressPrefix",
                        format!("{label} '{v}' must be a public IP prefix for Microsoft peering."),
                    ));
                }
                parsed.push(c);
            }
            if parsed[0].overlaps(&parsed[1]) {
                return Err(ApiError::bad(
                    "InvalidPeerAddressPrefix",
                    format!(
                        "primaryPeerAddressPrefix '{p}' and secondaryPeerAddressPrefix '{s}' must be different, non-overlapping /30 subnets."
                    ),
                ));
            }
        }
        (None, None) if has_v6 => {}
        _ => {
            return Err(ApiError::bad(
                "InvalidPeerAddressPrefix",
                "Both primaryPeerAddressPrefix and secondaryPeerAddressPrefix (/30 each) are required.",
            ));
        }
    }
    if has_v6 {
        let v6 = ipv6_peering_config(&ptype, props_in.get("ipv6PeeringConfig"))?;
        props_in.insert("ipv6PeeringConfig".into(), v6);
    }
    // R16
    let vlan = int_of(props_in.get("vlanId"));
    match vlan {
        Some(v) if (1..=4094).contains(&v) => {
            let self_key = key(ctx.id);
            for other in children(ctx.store, &key(&circuit.id), Kind::Peering) {
                if key(&other.id) != self_key && int_of(prop(&other.body, "vlanId")) == Some(v) {
                    return Err(ApiError::bad(
                        "VlanIdAlreadyInUse",
                        format!(
                            "VLAN ID {v} is already used by peering {} on this circuit; each peering needs a unique VLAN ID.",
                            name_of(other)
                        ),
                    ));
                }
            }
        }
        _ => {
            return Err(ApiError::bad(
                "InvalidVlanId",
                format!(
                    "vlanId {} is not valid; it must be between 1 and 4094.",
                    props_in
                        .get("vlanId")
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "(missing)".into())
                ),
            ));
        }
    }
    if let Some(k) = props_in.get("sharedKey").and_then(Value::as_str)
        && k.chars().count() > 25
    {
        return Err(ApiError::bad(
            "InvalidSharedKey",
            "The sharedKey (MD5 hash) of a peering can be at most 25 characters long.",
        ));
    }
    // R17
    if is_ms {
        let cfg = props_in
            .get("microsoftPeeringConfig")
            .cloned()
            .unwrap_or(Value::Null);
        let prefixes = string_list(cfg.get("advertisedPublicPrefixes"));
        if prefixes.is_empty() {
            return Err(ApiError::bad(
                "InvalidMicrosoftPeeringConfig",
                "MicrosoftPeering requires microsoftPeeringConfig.advertisedPublicPrefixes.",
            ));
        }
        for p in &prefixes {
            let c = cidr_or_err(p)?;
            if ctx.cfg.strict_microsoft_peering_public_prefixes && c.is_private() {
                return Err(ApiError::bad(
                    "InvalidMicrosoftPeeringConfig",
                    format!("Advertised public prefix '{p}' is not a public IP prefix."),
                ));
            }
        }
        if let Some(r) = cfg.get("routingRegistryName").and_then(Value::as_str)
            && canon_enum(r, &REGISTRIES).is_none()
        {
            return Err(ApiError::bad(
                "InvalidRoutingRegistryName",
                format!(
                    "routingRegistryName '{r}' is not valid. Allowed values are {}.",
                    REGISTRIES.join(", ")
                ),
            ));
        }
        if let Some(casn) = int_of(cfg.get("customerASN"))
            && !(0..=4294967295).contains(&casn)
        {
            return Err(ApiError::bad(
                "InvalidMicrosoftPeeringConfig",
                format!("customerASN {casn} is out of range."),
            ));
        }
        let mut c2 = cfg.as_object().cloned().unwrap_or_default();
        c2.insert("advertisedPublicPrefixesState".into(), json!("Configured"));
        props_in.insert("microsoftPeeringConfig".into(), Value::Object(c2));
    } else if props_in.get("microsoftPeeringConfig").is_some_and(|v| {
        v.is_object()
            && v.get("advertisedPublicPrefixes")
                .is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty()))
    }) {
        return Err(ApiError::bad(
            "InvalidMicrosoftPeeringConfig",
            format!("microsoftPeeringConfig is only valid on MicrosoftPeering, not on {ptype}."),
        ));
    }
    let mut props = base_props(ctx.existing, false);
    props.insert("peeringType".into(), json!(ptype));
    props.insert("azureASN".into(), json!(12076));
    props.insert("primaryAzurePort".into(), json!(""));
    props.insert("secondaryAzurePort".into(), json!(""));
    if !props_in.contains_key("state") {
        props.insert("state".into(), json!("Enabled"));
    }
    merge(&mut props, props_in);
    props.insert("gatewayManagerEtag".into(), json!(""));
    props.insert("lastModifiedBy".into(), json!("Customer"));
    let body = child_body(ctx, props);
    Ok(plan(
        ctx,
        body,
        parent_location(ctx),
        vec![key(&circuit.id)],
    ))
}

/// `ipv6PeeringConfig`: two different IPv6 /126 prefixes; Microsoft settings only on
/// MicrosoftPeering; none on AzurePublicPeering.
fn ipv6_peering_config(ptype: &str, v6: Option<&Value>) -> ApiResult<Value> {
    let Some(v6) = v6.and_then(Value::as_object) else {
        return Ok(Value::Null);
    };
    if ptype == "AzurePublicPeering" {
        return Err(ApiError::bad(
            "InvalidIpv6PeeringConfig",
            "AzurePublicPeering does not support ipv6PeeringConfig.",
        ));
    }
    let mut parsed = Vec::new();
    for label in ["primaryPeerAddressPrefix", "secondaryPeerAddressPrefix"] {
        let v = v6.get(label).and_then(Value::as_str).unwrap_or_default();
        let c = Cidr::parse_strict(v).map_err(|e| {
            ApiError::bad(
                "InvalidPeerAddressPrefix",
                format!("ipv6PeeringConfig.{label}: {}", describe(&e, v)),
            )
        })?;
        if !c.v6 || c.len != 126 {
            return Err(ApiError::bad(
                "InvalidPeerAddressPrefix",
                format!("ipv6PeeringConfig.{label} '{v}' must be an IPv6 /126 subnet."),
            ));
        }
        parsed.push(c);
    }
    if parsed[0].overlaps(&parsed[1]) {
        return Err(ApiError::bad(
            "InvalidPeerAddressPrefix",
            "The IPv6 primary and secondary peer address prefixes must be different, non-overlapping /126 subnets.",
        ));
    }
    let mut out = v6.clone();
    let ms = v6.get("microsoftPeeringConfig").filter(|m| m.is_object());
    let has_filter = ref_id(v6.get("routeFilter")).is_some();
    if ptype != "MicrosoftPeering"
        && (has_filter
            || ms.is_some_and(|m| !string_list(m.get("advertisedPublicPrefixes")).is_empty()))
    {
        return Err(ApiError::bad(
            "InvalidMicrosoftPeeringConfig",
            format!(
                "ipv6PeeringConfig.microsoftPeeringConfig and routeFilter are only valid on MicrosoftPeering, not on {ptype}."
            ),
        ));
    }
    if let Some(m) = ms.filter(|_| ptype == "MicrosoftPeering") {
        for p in string_list(m.get("advertisedPublicPrefixes")) {
            let c = cidr_or_err(&p)?;
            if !c.v6 {
                return Err(ApiError::bad(
                    "InvalidMicrosoftPeeringConfig",
                    format!(
                        "Advertised public prefix '{p}' of the IPv6 peering is not an IPv6 prefix."
                    ),
                ));
            }
        }
        let mut m2 = m.as_object().cloned().unwrap_or_default();
        m2.insert("advertisedPublicPrefixesState".into(), json!("Configured"));
        out.insert("microsoftPeeringConfig".into(), Value::Object(m2));
    }
    if !out.contains_key("state") {
        out.insert("state".into(), json!("Enabled"));
    }
    Ok(Value::Object(out))
}

fn child_body(ctx: &Ctx, props: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(ctx.name));
    m.insert("id".into(), json!(ctx.id));
    m.insert("etag".into(), json!(""));
    m.insert("type".into(), json!(ctx.kind.type_str()));
    m.insert("properties".into(), Value::Object(props));
    Value::Object(m)
}

fn put_authorization(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let Some(circuit) = ctx.parent else {
        return Err(ApiError::bad("InvalidRequest", "missing parent"));
    };
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "authorizationKey",
            "authorizationUseStatus",
            "connectionResourceUri",
        ],
    );
    let mut props = base_props(ctx.existing, false);
    let k = ctx
        .existing
        .and_then(|r| prop_str(&r.body, "authorizationKey"))
        .map(str::to_string)
        .unwrap_or_else(new_guid);
    props.insert("authorizationKey".into(), json!(k));
    props.insert("authorizationUseStatus".into(), json!("Available"));
    merge(&mut props, props_in);
    let body = child_body(ctx, props);
    Ok(plan(
        ctx,
        body,
        parent_location(ctx),
        vec![key(&circuit.id)],
    ))
}

// --- local network gateway -------------------------------------------------------------------

fn put_lng(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    let mut props_in = req_props(req)?;
    strip(&mut props_in, &["provisioningState", "resourceGuid"]);
    for p in string_list(props_in.pointer_get("localNetworkAddressSpace", "addressPrefixes")) {
        cidr_or_err(&p)?;
    }
    let ip = props_in
        .get("gatewayIpAddress")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let fqdn = props_in
        .get("fqdn")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match (ip, fqdn) {
        (None, None) => {
            return Err(ApiError::bad(
                "LocalNetworkGatewayAddressRequired",
                "A local network gateway needs a gatewayIpAddress or an fqdn.",
            ));
        }
        (Some(ip), _) if ip.parse::<std::net::IpAddr>().is_err() => {
            return Err(ApiError::bad(
                "InvalidGatewayIpAddress",
                format!("gatewayIpAddress '{ip}' is not a valid IP address."),
            ));
        }
        _ => {}
    }
    if let Some(asn) = int_of(props_in.pointer_get("bgpSettings", "asn"))
        && asn_reserved(asn)
        && asn != 65515
    {
        return Err(ApiError::bad(
            "InvalidBgpAsn",
            format!("BGP ASN {asn} is reserved and cannot be used for a local network gateway."),
        ));
    }
    let mut props = base_props(ctx.existing, true);
    merge(&mut props, props_in);
    let body = envelope(ctx, req, Some(&loc), props);
    Ok(plan(ctx, body, loc, vec![]))
}

// --- connections (R18–R20) ---------------------------------------------------------------------

fn geo_of(location_or_peering_location: &str) -> Option<&'static str> {
    let l = normalize_location(location_or_peering_location);
    let table: &[(&str, &[&str])] = &[
        (
            "North America",
            &[
                "eastus",
                "eastus2",
                "westus",
                "westus2",
                "westus3",
                "centralus",
                "northcentralus",
                "southcentralus",
                "westcentralus",
                "canadacentral",
                "canadaeast",
                "siliconvalley",
                "washingtondc",
                "newyork",
                "chicago",
                "dallas",
                "seattle",
                "losangeles",
                "atlanta",
                "miami",
                "denver",
                "phoenix",
                "sanantonio",
                "toronto",
                "montreal",
                "quebeccity",
                "vancouver",
                "minneapolis",
                "lasvegas",
                "newyork2",
                "chicago2",
                "dallas2",
                "losangeles2",
                "washingtondc2",
                "siliconvalley2",
            ],
        ),
        (
            "Europe",
            &[
                "westeurope",
                "northeurope",
                "francecentral",
                "francesouth",
                "germanywestcentral",
                "germanynorth",
                "swedencentral",
                "swedensouth",
                "switzerlandnorth",
                "switzerlandwest",
                "norwayeast",
                "norwaywest",
                "polandcentral",
                "italynorth",
                "spaincentral",
                "amsterdam",
                "amsterdam2",
                "dublin",
                "dublin2",
                "frankfurt",
                "frankfurt2",
                "paris",
                "paris2",
                "marseille",
                "zurich",
                "geneva",
                "stockholm",
                "oslo",
                "stavanger",
                "copenhagen",
                "berlin",
                "milan",
                "madrid",
                "madrid2",
                "warsaw",
                "vienna",
                "helsinki",
                "brussels",
                "newport",
                "barcelona",
                "athens",
            ],
        ),
        (
            "United Kingdom",
            &[
                "uksouth",
                "ukwest",
                "london",
                "london2",
                "cardiff",
                "manchester",
                "newport(wales)",
            ],
        ),
        (
            "Asia",
            &[
                "eastasia",
                "southeastasia",
                "hongkong",
                "hongkong2",
                "singapore",
                "singapore2",
                "taipei",
                "jakarta",
                "bangkok",
                "kualalumpur",
                "manila",
            ],
        ),
        (
            "Japan",
            &[
                "japaneast",
                "japanwest",
                "tokyo",
                "tokyo2",
                "tokyo3",
                "osaka",
            ],
        ),
        (
            "Australia",
            &[
                "australiaeast",
                "australiasoutheast",
                "australiacentral",
                "australiacentral2",
                "sydney",
                "sydney2",
                "melbourne",
                "canberra",
                "canberra2",
                "perth",
            ],
        ),
        (
            "India",
            &[
                "centralindia",
                "southindia",
                "westindia",
                "jioindiawest",
                "jioindiacentral",
                "mumbai",
                "mumbai2",
                "chennai",
                "chennai2",
                "pune",
                "bangalore",
                "hyderabad",
                "newdelhi",
            ],
        ),
        (
            "South America",
            &[
                "brazilsouth",
                "brazilsoutheast",
                "saopaulo",
                "saopaulo2",
                "riodejaneiro",
                "santiago",
                "bogota",
                "queretaro",
                "mexicocentral",
            ],
        ),
        (
            "Korea",
            &["koreacentral", "koreasouth", "seoul", "seoul2", "busan"],
        ),
        (
            "Africa",
            &[
                "southafricanorth",
                "southafricawest",
                "johannesburg",
                "capetown",
                "lagos",
                "nairobi",
            ],
        ),
        (
            "Middle East",
            &[
                "uaenorth",
                "uaecentral",
                "qatarcentral",
                "israelcentral",
                "dubai",
                "dubai2",
                "abudhabi",
                "doha",
                "doha2",
                "telaviv",
            ],
        ),
    ];
    table
        .iter()
        .find(|(_, locs)| locs.contains(&l.as_str()))
        .map(|(g, _)| *g)
}

fn vnet_link_limit(tier: &str, bandwidth_mbps: i64) -> usize {
    if !tier.eq_ignore_ascii_case("Premium") {
        return 10;
    }
    match bandwidth_mbps {
        b if b <= 50 => 20,
        b if b <= 100 => 25,
        b if b <= 200 => 25,
        b if b <= 500 => 40,
        b if b <= 1000 => 50,
        b if b <= 2000 => 60,
        b if b <= 5000 => 75,
        _ => 100,
    }
}

fn put_connection(ctx: &Ctx, req: &Value) -> ApiResult<Plan> {
    let loc = location(req, ctx.existing)?;
    if req.get("properties").is_none() {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            "Cannot parse the request: the 'properties' member is required for a connection.",
        ));
    }
    let mut props_in = req_props(req)?;
    strip(
        &mut props_in,
        &[
            "provisioningState",
            "resourceGuid",
            "connectionStatus",
            "tunnelConnectionStatus",
            "egressBytesTransferred",
            "ingressBytesTransferred",
        ],
    );
    let ct_raw = props_in
        .get("connectionType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(ctype) = canon_enum(
        &ct_raw,
        &["IPsec", "Vnet2Vnet", "ExpressRoute", "VPNClient"],
    ) else {
        return Err(ApiError::bad(
            "InvalidConnectionType",
            format!(
                "Connection type '{ct_raw}' is not valid. Allowed values are IPsec, Vnet2Vnet, ExpressRoute, VPNClient."
            ),
        ));
    };
    let Some(gw1_id) = ref_id(props_in.get("virtualNetworkGateway1")) else {
        return Err(ApiError::bad(
            "InvalidRequestFormat",
            "virtualNetworkGateway1 is required for a connection.",
        ));
    };
    let gw1 = resolve(ctx.store, &gw1_id, Kind::VirtualNetworkGateway, ctx.id)?;
    let gw_type = gw_type_of(gw1);
    let want_gw = if ctype == "ExpressRoute" {
        "ExpressRoute"
    } else {
        "Vpn"
    };
    if !gw_type.eq_ignore_ascii_case(want_gw) {
        return Err(ApiError::bad(
            "ConnectionTypeNotSupportedByGateway",
            format!(
                "A connection of type {ctype} needs a virtual network gateway of type {want_gw}; {} is of type {gw_type}.",
                gw1.id
            ),
        ));
    }
    let rw = int_of(props_in.get("routingWeight")).unwrap_or(0);
    if !(0..=32000).contains(&rw) {
        return Err(ApiError::bad(
            "InvalidRoutingWeight",
            format!("routingWeight {rw} is not valid; it must be between 0 and 32000."),
        ));
    }
    let self_key = key(ctx.id);
    let mut props = base_props(ctx.existing, true);
    props.insert(
        "virtualNetworkGateway1".into(),
        json!({"id": gw1.id, "properties": {}}),
    );
    props_in.remove("virtualNetworkGateway1");
    let mut status = "Unknown";
    match ctype.as_str() {
        "ExpressRoute" => {
            let Some(peer_id) = ref_id(props_in.get("peer")) else {
                return Err(ApiError::bad(
                    "ExpressRouteCircuitRequired",
                    "A connection of type ExpressRoute needs peer.id (the ExpressRoute circuit).",
                ));
            };
            let circuit = resolve(ctx.store, &peer_id, Kind::ExpressRouteCircuit, ctx.id)?;
            let ps = provider_state(circuit);
            if ps != ProviderState::Provisioned {
                return Err(ApiError::bad(
                    "ExpressRouteCircuitNotProvisioned",
                    format!(
                        "ExpressRoute circuit {} is not provisioned by the connectivity provider (serviceProviderProvisioningState is '{}'). A virtual network can be linked only to a Provisioned circuit; give the service key to the provider and retry once it is Provisioned.",
                        circuit.id,
                        ps.as_str()
                    ),
                ));
            }
            let ck = key(&circuit.id);
            let has_private = children(ctx.store, &ck, Kind::Peering)
                .iter()
                .any(|p| !p.deleting && name_of(p).eq_ignore_ascii_case("AzurePrivatePeering"));
            if !has_private {
                return Err(ApiError::bad(
                    "ExpressRoutePrivatePeeringNotConfigured",
                    format!(
                        "ExpressRoute circuit {} has no AzurePrivatePeering. Configure the circuit's private peering before linking a virtual network gateway to it.",
                        circuit.id
                    ),
                ));
            }
            // authorization key (cross-subscription)
            if let Some(ak) = props_in
                .get("authorizationKey")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                let auth = children(ctx.store, &ck, Kind::Authorization)
                    .into_iter()
                    .find(|a| prop_str(&a.body, "authorizationKey") == Some(ak));
                if auth.is_none() {
                    return Err(ApiError::bad(
                        "InvalidAuthorizationKey",
                        format!(
                            "The authorization key does not match any authorization of ExpressRoute circuit {}.",
                            circuit.id
                        ),
                    ));
                }
                let used_by_other = connections(ctx.store).any(|c| {
                    key(&c.id) != self_key && prop_str(&c.body, "authorizationKey") == Some(ak)
                });
                if used_by_other {
                    return Err(ApiError::bad(
                        "AuthorizationAlreadyInUse",
                        "The authorization key is already in use by another connection.",
                    ));
                }
            }
            // R18
            let links = connections(ctx.store)
                .filter(|c| {
                    key(&c.id) != self_key && conn_refs(c, "peer").as_deref() == Some(ck.as_str())
                })
                .count();
            let tier = circuit
                .body
                .pointer("/sku/tier")
                .and_then(Value::as_str)
                .unwrap_or("Standard");
            let bw = int_of(
                circuit
                    .body
                    .pointer("/properties/serviceProviderProperties/bandwidthInMbps"),
            )
            .or_else(|| {
                int_of(circuit.body.pointer("/properties/bandwidthInGbps")).map(|g| g * 1000)
            })
            .unwrap_or(0);
            let limit = vnet_link_limit(tier, bw);
            if links + 1 > limit {
                return Err(ApiError::bad(
                    "ExpressRouteCircuitVnetLinkLimitExceeded",
                    format!(
                        "ExpressRoute circuit {} already has {links} virtual network links; the limit for a {tier} circuit of {bw} Mbps is {limit}.",
                        circuit.id
                    ),
                ));
            }
            // R18 (second half): circuits per gateway
            let gk = key(&gw1.id);
            let mut linked: Vec<String> = connections(ctx.store)
                .filter(|c| {
                    key(&c.id) != self_key
                        && conn_refs(c, "virtualNetworkGateway1").as_deref() == Some(gk.as_str())
                })
                .filter_map(|c| conn_refs(c, "peer"))
                .collect();
            linked.sort();
            linked.dedup();
            if !linked.contains(&ck) {
                let gw_sku = gw1
                    .body
                    .pointer("/properties/sku/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let max_circuits = match gw_sku {
                    "HighPerformance" | "ErGw2AZ" => 8,
                    "UltraPerformance" | "ErGw3AZ" | "ErGwScale" => 16,
                    _ => 4,
                };
                let ploc_of = |r: &Res| {
                    r.body
                        .pointer("/properties/serviceProviderProperties/peeringLocation")
                        .and_then(Value::as_str)
                        .map(normalize_location)
                };
                let this_loc = ploc_of(circuit);
                let same_loc = linked
                    .iter()
                    .filter_map(|k| ctx.store.resources.get(k))
                    .filter(|r| this_loc.is_some() && ploc_of(r) == this_loc)
                    .count();
                if linked.len() + 1 > max_circuits || same_loc + 1 > 4 {
                    return Err(ApiError::bad(
                        "ExpressRouteGatewayCircuitLimitExceeded",
                        format!(
                            "Virtual network gateway {} ({gw_sku}) already links {} ExpressRoute circuits ({same_loc} from this circuit's peering location); the limit is {max_circuits} circuits, at most 4 from the same peering location.",
                            gw1.id,
                            linked.len()
                        ),
                    ));
                }
            }
            // R19
            if !tier.eq_ignore_ascii_case("Premium") {
                let ploc = circuit
                    .body
                    .pointer("/properties/serviceProviderProperties/peeringLocation")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let gloc = gw1
                    .body
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let (Some(a), Some(b)) = (geo_of(ploc), geo_of(gloc))
                    && a != b
                {
                    return Err(ApiError::bad(
                        "VnetAndCircuitNotInSameGeopoliticalRegion",
                        format!(
                            "A {tier} ExpressRoute circuit can be linked only to virtual networks in the same geopolitical region as its peering location ('{ploc}' is in {a}; gateway location '{gloc}' is in {b}). Use a Premium circuit for global connectivity."
                        ),
                    ));
                }
            }
            props.insert("peer".into(), json!({"id": circuit.id}));
            props_in.remove("peer");
            status = "Connected";
            if !props_in.contains_key("expressRouteGatewayBypass") {
                props.insert("expressRouteGatewayBypass".into(), json!(false));
            }
        }
        "IPsec" => {
            let Some(lid) = ref_id(props_in.get("localNetworkGateway2")) else {
                return Err(ApiError::bad(
                    "LocalNetworkGatewayRequired",
                    "A connection of type IPsec needs localNetworkGateway2.",
                ));
            };
            let lng = resolve(ctx.store, &lid, Kind::LocalNetworkGateway, ctx.id)?;
            props.insert(
                "localNetworkGateway2".into(),
                json!({"id": lng.id, "properties": {}}),
            );
            props_in.remove("localNetworkGateway2");
            if let Some(k) = props_in.get("sharedKey").and_then(Value::as_str)
                && k.chars().count() > 128
            {
                return Err(ApiError::bad(
                    "InvalidSharedKey",
                    "The sharedKey of a connection can be at most 128 characters long.",
                ));
            }
        }
        "Vnet2Vnet" => {
            let Some(g2) = ref_id(props_in.get("virtualNetworkGateway2")) else {
                return Err(ApiError::bad(
                    "VirtualNetworkGateway2Required",
                    "A connection of type Vnet2Vnet needs virtualNetworkGateway2.",
                ));
            };
            let gw2 = resolve(ctx.store, &g2, Kind::VirtualNetworkGateway, ctx.id)?;
            props.insert(
                "virtualNetworkGateway2".into(),
                json!({"id": gw2.id, "properties": {}}),
            );
            props_in.remove("virtualNetworkGateway2");
        }
        _ => {}
    }
    props.insert("connectionType".into(), json!(ctype));
    props_in.remove("connectionType");
    props.insert("routingWeight".into(), json!(rw));
    props_in.remove("routingWeight");
    for (k, d) in [
        ("enableBgp", json!(false)),
        ("usePolicyBasedTrafficSelectors", json!(false)),
        ("ipsecPolicies", json!([])),
        ("trafficSelectorPolicies", json!([])),
        ("useLocalAzureIpAddress", json!(false)),
        ("connectionMode", json!("Default")),
    ] {
        if !props_in.contains_key(k) {
            props.insert(k.into(), d);
        }
    }
    merge(&mut props, props_in);
    props.insert("connectionStatus".into(), json!(status));
    props.insert("ingressBytesTransferred".into(), json!(0));
    props.insert("egressBytesTransferred".into(), json!(0));
    let body = envelope(ctx, req, Some(&loc), props);
    Ok(plan(ctx, body, loc, vec![key(&gw1.id)]))
}

// ---------------------------------------------------------------------------------------------
// DELETE preconditions (R12, R21) and lock keys

/// Lock keys of a delete of `r` (the resource itself, its circuit for children, the gateway of a connection).
pub fn delete_lock_keys(store: &Store, r: &Res) -> Vec<String> {
    let k = key(&r.id);
    let mut v = vec![k.clone()];
    match r.kind {
        Kind::Peering | Kind::Authorization => v.push(parent_key_of(&k)),
        Kind::Connection => {
            if let Some(g) = conn_refs(r, "virtualNetworkGateway1") {
                v.push(g);
            }
        }
        _ => {}
    }
    let _ = store;
    v
}

pub fn check_delete(store: &Store, cfg: &EmulatorConfig, r: &Res) -> ApiResult<()> {
    let k = key(&r.id);
    match r.kind {
        Kind::Subnet => {
            if let Some((_, ipc)) = subnet_users(store, &k).first() {
                return Err(in_use_subnet_error(name_of(r), ipc));
            }
        }
        Kind::VirtualNetwork => {
            for s in children(store, &k, Kind::Subnet) {
                if let Some((_, ipc)) = subnet_users(store, &key(&s.id)).first() {
                    return Err(in_use_subnet_error(name_of(s), ipc));
                }
            }
        }
        Kind::NetworkSecurityGroup => {
            let users = nsg_users(store, &k);
            if !users.is_empty() {
                return Err(ApiError::bad(
                    "InUseNetworkSecurityGroupCannotBeDeleted",
                    format!(
                        "Network security group {} cannot be deleted because it is in use by the following resources: {}. In order to delete the Network security group, remove the association with the resource(s).",
                        r.id,
                        users.join(", ")
                    ),
                ));
            }
        }
        Kind::PublicIp => {
            if let Some((_, ipc)) = pip_users(store, &k).first() {
                return Err(ApiError::bad(
                    "PublicIPAddressCannotBeDeleted",
                    format!(
                        "Public IP address {} can not be deleted since it is still allocated to resource {ipc}.",
                        r.id
                    ),
                ));
            }
        }
        Kind::VirtualNetworkGateway => {
            if let Some(c) = connections(store).find(|c| {
                conn_refs(c, "virtualNetworkGateway1").as_deref() == Some(k.as_str())
                    || conn_refs(c, "virtualNetworkGateway2").as_deref() == Some(k.as_str())
            }) {
                return Err(ApiError::bad(
                    "InUseVirtualNetworkGatewayCannotBeDeleted",
                    format!(
                        "Virtual network gateway {} cannot be deleted because it is in use by connection {}. Delete the connection first.",
                        r.id, c.id
                    ),
                ));
            }
        }
        Kind::LocalNetworkGateway => {
            if let Some(c) = connections(store)
                .find(|c| conn_refs(c, "localNetworkGateway2").as_deref() == Some(k.as_str()))
            {
                return Err(ApiError::bad(
                    "InUseLocalNetworkGatewayCannotBeDeleted",
                    format!(
                        "Local network gateway {} cannot be deleted because it is in use by connection {}. Delete the connection first.",
                        r.id, c.id
                    ),
                ));
            }
        }
        Kind::ExpressRouteCircuit => {
            let ps = provider_state(r);
            if cfg.auto_provision_after.is_none()
                && matches!(ps, ProviderState::Provisioned | ProviderState::Provisioning)
            {
                return Err(ApiError::bad(
                    "ConflictError",
                    format!(
                        "The specified dedicated circuit is not in Deprovisioned state. Please initiate the deprovisioning process with your service provider. (Circuit {} has serviceProviderProvisioningState '{}'.)",
                        r.id,
                        ps.as_str()
                    ),
                ));
            }
            if let Some(c) =
                connections(store).find(|c| conn_refs(c, "peer").as_deref() == Some(k.as_str()))
            {
                return Err(ApiError::bad(
                    "InUseExpressRouteCircuitCannotBeDeleted",
                    format!(
                        "ExpressRoute circuit {} cannot be deleted because it is linked by connection {}. Delete the connection first.",
                        r.id, c.id
                    ),
                ));
            }
            if let Some(p) = children(store, &k, Kind::Peering)
                .into_iter()
                .find(|p| !p.deleting)
            {
                return Err(ApiError::bad(
                    "InUseExpressRouteCircuitCannotBeDeleted",
                    format!(
                        "ExpressRoute circuit {} cannot be deleted while it has peering {}. Delete the peerings first.",
                        r.id,
                        name_of(p)
                    ),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}
