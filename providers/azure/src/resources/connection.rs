//! `azurerm_virtual_network_gateway_connection` → `Microsoft.Network/connections`.

use netform_engine::Value;
use netform_engine::provider::{ProviderDiagnostic, ResourceView};
use netform_engine::schema::{AttrSchema, ResourceType, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Kind, PlanState, b, bool_t, id_segment, insert_opt, jget, jid, jstr, n, num_t, props, s, str_t,
    tags_json, tracked_base, tracked_id, tracked_state,
};

pub struct Connection;

const TYPES: &[&str] = &["ExpressRoute", "IPsec", "Vnet2Vnet"];

fn canonical_type(t: &str) -> &str {
    TYPES
        .iter()
        .find(|x| x.eq_ignore_ascii_case(t))
        .copied()
        .unwrap_or(t)
}

impl Kind for Connection {
    fn name(&self) -> &'static str {
        "azurerm_virtual_network_gateway_connection"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = tracked_base()
            .attr(
                "type",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "virtual_network_gateway_id",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "express_route_circuit_id",
                AttrSchema::optional(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "peer_virtual_network_gateway_id",
                AttrSchema::optional(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "local_network_gateway_id",
                AttrSchema::optional(str_t()).case_insensitive(),
            )
            .attr(
                "shared_key",
                AttrSchema::optional_computed(str_t()).sensitive(),
            )
            .attr(
                "authorization_key",
                AttrSchema::optional(str_t()).sensitive(),
            )
            .attr("routing_weight", AttrSchema::optional_computed(num_t()))
            .attr(
                "bgp_enabled",
                AttrSchema::optional(bool_t())
                    .default(false)
                    .alias("enable_bgp"),
            )
            .attr(
                "connection_protocol",
                AttrSchema::optional_computed(str_t())
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "connection_mode",
                AttrSchema::optional(str_t())
                    .default("Default")
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "dpd_timeout_seconds",
                AttrSchema::optional(num_t()).force_new(),
            )
            .attr(
                "express_route_gateway_bypass",
                AttrSchema::optional(bool_t()).default(false),
            )
            .attr(
                "private_link_fast_path_enabled",
                AttrSchema::optional(bool_t()).default(false),
            )
            .attr(
                "use_policy_based_traffic_selectors",
                AttrSchema::optional(bool_t()).default(false),
            )
            .attr(
                "local_azure_ip_address_enabled",
                AttrSchema::optional(bool_t()).default(false).force_new(),
            );
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "connections")
    }
    fn lock_keys(&self, _sub: &str, v: &Value) -> Vec<String> {
        let mut keys: Vec<String> = s(v, "virtual_network_gateway_id")
            .map(str::to_string)
            .into_iter()
            .collect();
        if let Some(circuit) = s(v, "express_route_circuit_id") {
            keys.push(circuit.to_string());
        }
        keys
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let t = s(config, "type").map(canonical_type);
        if let Some(t) = t
            && !TYPES.contains(&t)
        {
            out.push(
                ProviderDiagnostic::error(&["type"], format!("{t:?} is not a connection type"))
                    .hint("use ExpressRoute, IPsec or Vnet2Vnet"),
            );
        }
        let need = |out: &mut Vec<ProviderDiagnostic>, key: &str, ty: &str| {
            if config.get(key).is_null() {
                out.push(
                    ProviderDiagnostic::error(
                        &[key],
                        format!("`{key}` is required for a {ty} connection"),
                    )
                    .code("InvalidConnectionRequest"),
                );
            }
        };
        let forbid = |out: &mut Vec<ProviderDiagnostic>, key: &str, ty: &str| {
            if !config.get(key).is_null() {
                out.push(ProviderDiagnostic::error(
                    &[key],
                    format!("`{key}` does not apply to a {ty} connection"),
                ));
            }
        };
        match t {
            Some("ExpressRoute") => {
                need(&mut out, "express_route_circuit_id", "ExpressRoute");
                forbid(&mut out, "local_network_gateway_id", "ExpressRoute");
                forbid(&mut out, "peer_virtual_network_gateway_id", "ExpressRoute");
            }
            Some("IPsec") => {
                need(&mut out, "local_network_gateway_id", "IPsec");
                forbid(&mut out, "express_route_circuit_id", "IPsec");
            }
            Some("Vnet2Vnet") => {
                need(&mut out, "peer_virtual_network_gateway_id", "Vnet2Vnet");
                forbid(&mut out, "express_route_circuit_id", "Vnet2Vnet");
            }
            _ => {}
        }
        if let Some(w) = config.get("routing_weight").as_f64()
            && (w.fract() != 0.0 || !(0.0..=32000.0).contains(&w))
        {
            out.push(
                ProviderDiagnostic::error(
                    &["routing_weight"],
                    format!("routing_weight {w} is outside 0-32000"),
                )
                .code("InvalidRoutingWeight"),
            );
        }
        if let Some(d) = n(config, "dpd_timeout_seconds")
            && !(9..=3600).contains(&d)
        {
            out.push(ProviderDiagnostic::error(
                &["dpd_timeout_seconds"],
                "dpd_timeout_seconds must be between 9 and 3600",
            ));
        }
        if let Some(p) = s(config, "connection_protocol")
            && !["ikev1", "ikev2"].contains(&p.to_ascii_lowercase().as_str())
        {
            out.push(ProviderDiagnostic::error(
                &["connection_protocol"],
                "connection_protocol must be IKEv1 or IKEv2",
            ));
        }
        if let Some(m) = s(config, "connection_mode")
            && !["default", "initiatoronly", "responderonly"]
                .contains(&m.to_ascii_lowercase().as_str())
        {
            out.push(ProviderDiagnostic::error(
                &["connection_mode"],
                "connection_mode must be Default, InitiatorOnly or ResponderOnly",
            ));
        }
        if b(config, "private_link_fast_path_enabled").unwrap_or(false)
            && !b(config, "express_route_gateway_bypass").unwrap_or(false)
        {
            out.push(ProviderDiagnostic::error(
                &["private_link_fast_path_enabled"],
                "private_link_fast_path_enabled requires express_route_gateway_bypass = true",
            ));
        }
        if let Some(gw) = config.get("virtual_network_gateway_id").as_str()
            && id_segment(gw, "virtualNetworkGateways").is_none()
        {
            out.push(
                ProviderDiagnostic::error(
                    &["virtual_network_gateway_id"],
                    "not a virtual network gateway id",
                )
                .code("InvalidResourceReference"),
            );
        }
        if let Some(c) = config.get("express_route_circuit_id").as_str()
            && id_segment(c, "expressRouteCircuits").is_none()
        {
            out.push(
                ProviderDiagnostic::error(
                    &["express_route_circuit_id"],
                    "not an ExpressRoute circuit id",
                )
                .code("InvalidResourceReference"),
            );
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        let t = s(p.config, "type").map(canonical_type);
        // The gateway's type must match the connection's.
        if let Some(gw_id) = s(p.config, "virtual_network_gateway_id") {
            let gw_type = p
                .world
                .planned_by_id(gw_id)
                .and_then(|(_, v)| s(v, "type").map(str::to_string))
                .or_else(|| {
                    p.world
                        .prior_by_id(gw_id)
                        .and_then(|j| j.get("type"))
                        .and_then(Json::as_str)
                        .map(str::to_string)
                });
            if let (Some(gt), Some(ct)) = (gw_type, t) {
                let er_gw = gt.eq_ignore_ascii_case("ExpressRoute");
                if er_gw != (ct == "ExpressRoute") {
                    p.diagnostics.push(
                        ProviderDiagnostic::error(&["virtual_network_gateway_id"], format!("a {ct} connection cannot use a {gt} gateway"))
                            .code("ConnectionTypeNotSupportedByGateway")
                            .hint("ExpressRoute connections need an ExpressRoute gateway; IPsec and Vnet2Vnet need a Vpn gateway"),
                    );
                }
            }
        }
        if p.prior.is_none()
            && t == Some("ExpressRoute")
            && p.config.get("authorization_key").is_null()
            && let Some(circuit) = s(p.config, "express_route_circuit_id")
        {
            let what = format!(
                "ExpressRoute connection {}",
                s(p.config, "name").unwrap_or("?")
            );
            p.deferred = super::circuit::provider_gate(p.world, circuit, &what);
        }
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let t = s(planned, "type").map(canonical_type).unwrap_or_default();
        let mut properties = Map::new();
        properties.insert("connectionType".into(), json!(t));
        let gw = s(planned, "virtual_network_gateway_id").unwrap_or_default();
        properties.insert(
            "virtualNetworkGateway1".into(),
            json!({ "id": gw, "name": gw.rsplit('/').next().unwrap_or_default(), "properties": { "ipConfigurations": [] } }),
        );
        insert_opt(
            &mut properties,
            "peer",
            s(planned, "express_route_circuit_id").map(|id| json!({ "id": id })),
        );
        insert_opt(
            &mut properties,
            "localNetworkGateway2",
            s(planned, "local_network_gateway_id").map(|id| json!({ "id": id, "properties": {} })),
        );
        insert_opt(
            &mut properties,
            "virtualNetworkGateway2",
            s(planned, "peer_virtual_network_gateway_id")
                .map(|id| json!({ "id": id, "properties": { "ipConfigurations": [] } })),
        );
        insert_opt(
            &mut properties,
            "sharedKey",
            s(planned, "shared_key").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "authorizationKey",
            s(planned, "authorization_key").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "routingWeight",
            n(planned, "routing_weight").map(Json::from),
        );
        properties.insert(
            "enableBgp".into(),
            json!(b(planned, "bgp_enabled").unwrap_or(false)),
        );
        if t != "ExpressRoute" {
            insert_opt(
                &mut properties,
                "connectionProtocol",
                s(planned, "connection_protocol").map(Json::from),
            );
            insert_opt(
                &mut properties,
                "dpdTimeoutSeconds",
                n(planned, "dpd_timeout_seconds").map(Json::from),
            );
            properties.insert(
                "connectionMode".into(),
                json!(s(planned, "connection_mode").unwrap_or("Default")),
            );
            properties.insert(
                "usePolicyBasedTrafficSelectors".into(),
                json!(b(planned, "use_policy_based_traffic_selectors").unwrap_or(false)),
            );
            properties.insert(
                "useLocalAzureIpAddress".into(),
                json!(b(planned, "local_azure_ip_address_enabled").unwrap_or(false)),
            );
        } else {
            properties.insert(
                "expressRouteGatewayBypass".into(),
                json!(b(planned, "express_route_gateway_bypass").unwrap_or(false)),
            );
            properties.insert(
                "enablePrivateLinkFastPath".into(),
                json!(b(planned, "private_link_fast_path_enabled").unwrap_or(false)),
            );
        }
        json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "properties": properties,
        })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        m.insert("type".into(), jstr(props(resp, "connectionType")));
        m.insert(
            "virtual_network_gateway_id".into(),
            jid(props(resp, "virtualNetworkGateway1")),
        );
        m.insert("express_route_circuit_id".into(), jid(props(resp, "peer")));
        m.insert(
            "local_network_gateway_id".into(),
            jid(props(resp, "localNetworkGateway2")),
        );
        m.insert(
            "peer_virtual_network_gateway_id".into(),
            jid(props(resp, "virtualNetworkGateway2")),
        );
        m.insert("shared_key".into(), jstr(props(resp, "sharedKey")));
        m.insert(
            "authorization_key".into(),
            jstr(props(resp, "authorizationKey")),
        );
        m.insert(
            "routing_weight".into(),
            props(resp, "routingWeight").clone(),
        );
        m.insert(
            "bgp_enabled".into(),
            json!(props(resp, "enableBgp").as_bool().unwrap_or(false)),
        );
        m.insert(
            "connection_protocol".into(),
            jstr(props(resp, "connectionProtocol")),
        );
        let mode = jstr(props(resp, "connectionMode"));
        m.insert(
            "connection_mode".into(),
            if mode.is_null() {
                keep.get("connection_mode")
                    .cloned()
                    .unwrap_or(json!("Default"))
            } else {
                mode
            },
        );
        m.insert(
            "dpd_timeout_seconds".into(),
            match props(resp, "dpdTimeoutSeconds") {
                Json::Number(x) if x.as_i64() != Some(0) => Json::Number(x.clone()),
                _ => keep
                    .get("dpd_timeout_seconds")
                    .cloned()
                    .unwrap_or(Json::Null),
            },
        );
        m.insert(
            "express_route_gateway_bypass".into(),
            json!(
                props(resp, "expressRouteGatewayBypass")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        m.insert(
            "private_link_fast_path_enabled".into(),
            json!(
                props(resp, "enablePrivateLinkFastPath")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        m.insert(
            "use_policy_based_traffic_selectors".into(),
            json!(
                props(resp, "usePolicyBasedTrafficSelectors")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        m.insert(
            "local_azure_ip_address_enabled".into(),
            json!(
                props(resp, "useLocalAzureIpAddress")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        let _ = jget;
        Json::Object(m)
    }
}

/// Resources by (type, lowercased id), built once per check: looking each reference up by
/// scanning every resource made the cross-resource checks quadratic in the estate's size.
pub(crate) struct IdIndex<'a, 'b> {
    resources: &'a [ResourceView<'b>],
    by_id: std::collections::HashMap<(&'b str, String), usize>,
}

impl<'a, 'b> IdIndex<'a, 'b> {
    pub(crate) fn new(resources: &'a [ResourceView<'b>]) -> Self {
        let by_id = resources
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.value
                    .get("id")
                    .as_str()
                    .map(|id| ((r.type_name, id.to_ascii_lowercase()), i))
            })
            .collect();
        IdIndex { resources, by_id }
    }

    pub(crate) fn get(&self, type_name: &str, id: &str) -> Option<&'a ResourceView<'b>> {
        self.by_id
            .get(&(type_name, id.to_ascii_lowercase()))
            .map(|&i| &self.resources[i])
    }
}

/// ExpressRoute links: a Standard/Local circuit reaches only gateways in its peering location's
/// geopolitical region (R19); the circuit needs an AzurePrivatePeering (R20).
pub(crate) fn validate_expressroute_links(
    resources: &[ResourceView<'_>],
) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    let index = IdIndex::new(resources);
    // (resource group, circuit name) of every AzurePrivatePeering in the configuration.
    let private: std::collections::HashSet<(String, String)> = resources
        .iter()
        .filter(|p| {
            p.type_name == "azurerm_express_route_circuit_peering"
                && s(p.value, "peering_type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("AzurePrivatePeering"))
        })
        .filter_map(|p| {
            Some((
                s(p.value, "resource_group_name")?.to_ascii_lowercase(),
                s(p.value, "express_route_circuit_name")?.to_ascii_lowercase(),
            ))
        })
        .collect();
    for (i, r) in resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.type_name == "azurerm_virtual_network_gateway_connection")
    {
        if !s(r.value, "type").is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute")) {
            continue;
        }
        let Some(circuit_id) = s(r.value, "express_route_circuit_id") else {
            continue;
        };
        let Some(circuit) = index.get("azurerm_express_route_circuit", circuit_id) else {
            continue;
        };
        let tier = super::blocks(circuit.value, "sku")
            .first()
            .and_then(|b| s(b, "tier"))
            .unwrap_or("Standard");
        let gateway = s(r.value, "virtual_network_gateway_id")
            .and_then(|id| index.get("azurerm_virtual_network_gateway", id));
        if !tier.eq_ignore_ascii_case("Premium") {
            let peering_geo =
                s(circuit.value, "peering_location").and_then(super::regions::peering_location_geo);
            let gateway_geo = gateway
                .and_then(|g| s(g.value, "location"))
                .and_then(super::regions::region_geo);
            if let (Some(a), Some(b)) = (peering_geo, gateway_geo)
                && a != b
            {
                out.push((
                        i,
                        ProviderDiagnostic::error(
                            &["express_route_circuit_id"],
                            format!("a {tier} circuit peered in {a} cannot link to a gateway in {b}"),
                        )
                        .code("VnetAndCircuitNotInSameGeopoliticalRegion")
                        .hint("use a Premium circuit (sku { tier = \"Premium\" }) for links across geopolitical regions"),
                    ));
            }
        }
        let rg = s(circuit.value, "resource_group_name").map(str::to_ascii_lowercase);
        let name = s(circuit.value, "name").map(str::to_ascii_lowercase);
        let has_private = match (rg, name) {
            (Some(rg), Some(name)) => private.contains(&(rg, name)),
            _ => false,
        };
        if !has_private {
            out.push((
                i,
                ProviderDiagnostic::warning(&["express_route_circuit_id"], "the circuit has no AzurePrivatePeering in this configuration")
                    .detail("an ExpressRoute connection needs the circuit's private peering; Azure rejects it otherwise")
                    .hint("add an azurerm_express_route_circuit_peering with peering_type = \"AzurePrivatePeering\" and make the connection depend on it"),
            ));
        }
    }
    out
}

/// VNet links a circuit allows (R18): 10 on Standard/Local/Basic; on Premium by bandwidth.
pub(crate) fn vnet_link_limit(tier: &str, bandwidth_mbps: Option<f64>) -> usize {
    if !tier.eq_ignore_ascii_case("Premium") {
        return 10;
    }
    match bandwidth_mbps.map(|b| b as u64).unwrap_or(50) {
        0..=50 => 20,
        51..=200 => 25,
        201..=500 => 40,
        501..=1000 => 50,
        1001..=2000 => 60,
        2001..=5000 => 75,
        _ => 100,
    }
}

/// More ExpressRoute connections on one circuit than its SKU and bandwidth allow (R18): every
/// connection past the limit gets the error, at `express_route_circuit_id`.
pub(crate) fn validate_link_limits(
    resources: &[ResourceView<'_>],
) -> Vec<(usize, ProviderDiagnostic)> {
    let index = IdIndex::new(resources);
    let mut by_circuit: std::collections::BTreeMap<String, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, r) in resources.iter().enumerate() {
        if r.type_name != "azurerm_virtual_network_gateway_connection"
            || !s(r.value, "type").is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute"))
        {
            continue;
        }
        if let Some(id) = s(r.value, "express_route_circuit_id") {
            by_circuit
                .entry(id.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for (id, links) in by_circuit {
        let Some(circuit) = index.get("azurerm_express_route_circuit", &id) else {
            continue;
        };
        let tier = super::blocks(circuit.value, "sku")
            .first()
            .and_then(|b| s(b, "tier"))
            .unwrap_or("Standard")
            .to_string();
        let bandwidth = circuit.value.get("bandwidth_in_mbps").as_f64();
        let limit = vnet_link_limit(&tier, bandwidth);
        if links.len() <= limit {
            continue;
        }
        let name = s(circuit.value, "name").unwrap_or("?").to_string();
        for (pos, &i) in links.iter().enumerate().skip(limit) {
            out.push((
                i,
                ProviderDiagnostic::error(
                    &["express_route_circuit_id"],
                    format!("circuit \"{name}\" allows {limit} VNet links ({tier}); this is link {} of {}", pos + 1, links.len()),
                )
                .code("ExpressRouteCircuitVnetLinkLimitExceeded")
                .hint(if tier.eq_ignore_ascii_case("Premium") {
                    "raise the circuit's bandwidth (Premium allows more links at higher bandwidths) or use a second circuit".to_string()
                } else {
                    "a Premium circuit allows 20 to 100 links depending on bandwidth; or use a second circuit".to_string()
                }),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    const GW: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/ergw";
    const ERC: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc";

    fn er() -> Value {
        obj(&[
            ("name", "er-conn".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
            ("type", "ExpressRoute".into()),
            ("virtual_network_gateway_id", GW.into()),
            ("express_route_circuit_id", ERC.into()),
            ("routing_weight", Value::Number(10.0)),
        ])
    }

    #[test]
    fn er_body_and_state() {
        let body = Connection.body(&er(), None);
        assert_eq!(body["properties"]["peer"], json!({"id": ERC}));
        assert_eq!(body["properties"]["virtualNetworkGateway1"]["id"], GW);
        assert_eq!(body["properties"]["virtualNetworkGateway1"]["name"], "ergw");
        assert_eq!(body["properties"]["connectionType"], "ExpressRoute");
        assert_eq!(body["properties"]["routingWeight"], 10);
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/connections/er-conn","name":"er-conn",
            "location":"westeurope","properties":{"connectionType":"ExpressRoute","virtualNetworkGateway1":{"id":GW,"properties":{}},
            "peer":{"id":ERC},"routingWeight":10,"enableBgp":false,"expressRouteGatewayBypass":false}});
        let st = Connection.to_state(&resp, &er().to_json());
        assert_eq!(st["express_route_circuit_id"], ERC);
        assert_eq!(st["routing_weight"], 10);
        assert_eq!(
            Connection.lock_keys("s", &er()),
            vec![GW.to_string(), ERC.to_string()]
        );
    }

    #[test]
    fn rules() {
        assert!(Connection.validate(&er()).is_empty());
        let ipsec = obj(&[
            ("type", "IPsec".into()),
            ("virtual_network_gateway_id", GW.into()),
            ("routing_weight", Value::Number(40000.0)),
        ]);
        let d = Connection.validate(&ipsec);
        let paths: Vec<_> = d.iter().map(|d| d.path.join(".")).collect();
        assert_eq!(paths, vec!["local_network_gateway_id", "routing_weight"]);
    }
}
