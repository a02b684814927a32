//! `azurerm_express_route_circuit_peering` → `.../expressRouteCircuits/{c}/peerings/{peering_type}`.

use std::collections::BTreeMap;

use netform_engine::Value;
use netform_engine::provider::{ProviderDiagnostic, ResourceView};
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Cidr, Kind, PlanState, b, blocks, bool_t, id_segment, insert_opt, jget, jstr, jstrs, list_str,
    n, network_id, num_t, props, s, str_t, strs,
};

pub struct CircuitPeering;

const PEERING_TYPES: &[&str] = &[
    "AzurePrivatePeering",
    "AzurePublicPeering",
    "MicrosoftPeering",
];
const REGISTRIES: &[&str] = &[
    "NONE", "ARIN", "APNIC", "AFRINIC", "LACNIC", "RIPENCC", "RADB", "ALTDB", "LEVEL3",
];

/// ASNs Azure reserves or that may not be used as a peer ASN (DOC-ROUTING, IANA).
pub(crate) fn reserved_asn(asn: i64) -> bool {
    (65515..=65520).contains(&asn)
        || matches!(asn, 8074 | 8075 | 12076 | 23456 | 4_294_967_295)
        || (64496..=64511).contains(&asn)
        || (65535..=65551).contains(&asn)
}

fn circuit_id(sub: &str, v: &Value) -> Option<String> {
    Some(network_id(
        sub,
        s(v, "resource_group_name")?,
        "expressRouteCircuits",
        s(v, "express_route_circuit_name")?,
    ))
}

/// The Microsoft peering settings, with `advertised_public_prefixes` as given.
fn microsoft_peering_schema(prefixes: AttrSchema) -> Schema {
    Schema::new()
        .attr("advertised_public_prefixes", prefixes)
        .attr("advertised_communities", AttrSchema::optional(list_str()))
        .attr(
            "customer_asn",
            AttrSchema::optional(num_t()).default(Value::Number(0.0)),
        )
        .attr(
            "routing_registry_name",
            AttrSchema::optional(str_t())
                .default("NONE")
                .case_insensitive(),
        )
}

impl Kind for CircuitPeering {
    fn name(&self) -> &'static str {
        "azurerm_express_route_circuit_peering"
    }
    fn resource_type(&self) -> ResourceType {
        // `microsoft_peering_config` and the IPv6 block's `microsoft_peering` differ only in
        // whether the advertised prefixes are required.
        let ms_config = microsoft_peering_schema(AttrSchema::required(list_str()));
        let ipv6_ms = microsoft_peering_schema(AttrSchema::optional(list_str()));
        let ipv6 = Schema::new()
            .attr("primary_peer_address_prefix", AttrSchema::required(str_t()))
            .attr(
                "secondary_peer_address_prefix",
                AttrSchema::required(str_t()),
            )
            .attr("enabled", AttrSchema::optional(bool_t()).default(true))
            .attr(
                "route_filter_id",
                AttrSchema::optional(str_t()).case_insensitive(),
            )
            .block("microsoft_peering", 0, 1, ipv6_ms);
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(str_t()))
            // peering_type is the last segment of the id: changing it is a different object.
            .attr(
                "peering_type",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "express_route_circuit_name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "resource_group_name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr("vlan_id", AttrSchema::required(num_t()))
            .attr("primary_peer_address_prefix", AttrSchema::optional(str_t()))
            .attr(
                "secondary_peer_address_prefix",
                AttrSchema::optional(str_t()),
            )
            .attr("peer_asn", AttrSchema::optional_computed(num_t()))
            .attr("shared_key", AttrSchema::optional(str_t()).sensitive())
            .attr("ipv4_enabled", AttrSchema::optional(bool_t()).default(true))
            .attr(
                "route_filter_id",
                AttrSchema::optional(str_t()).case_insensitive(),
            )
            .attr("azure_asn", AttrSchema::computed(num_t()))
            .attr("primary_azure_port", AttrSchema::computed(str_t()))
            .attr("secondary_azure_port", AttrSchema::computed(str_t()))
            .attr("gateway_manager_etag", AttrSchema::computed(str_t()))
            .block("microsoft_peering_config", 0, 1, ms_config)
            .block("ipv6", 0, 1, ipv6);
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        let peering = s(v, "peering_type")?;
        let canonical = PEERING_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(peering))
            .copied()
            .unwrap_or(peering);
        Some(format!("{}/peerings/{canonical}", circuit_id(sub, v)?))
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        circuit_id(sub, v).into_iter().collect()
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let peering_type = s(config, "peering_type");
        if let Some(t) = peering_type
            && !PEERING_TYPES.iter().any(|x| x.eq_ignore_ascii_case(t))
        {
            out.push(
                ProviderDiagnostic::error(
                    &["peering_type"],
                    format!("{t:?} is not a peering type"),
                )
                .hint("use AzurePrivatePeering, MicrosoftPeering or AzurePublicPeering"),
            );
        }
        let microsoft = peering_type.is_some_and(|t| t.eq_ignore_ascii_case("MicrosoftPeering"));
        if let Some(vlan) = config.get("vlan_id").as_f64()
            && (vlan.fract() != 0.0 || !(1.0..=4094.0).contains(&vlan))
        {
            out.push(
                ProviderDiagnostic::error(&["vlan_id"], format!("VLAN {vlan} is outside 1-4094"))
                    .code("InvalidVlanId")
                    .hint("use a VLAN ID between 1 and 4094 that is unique on the circuit"),
            );
        }
        let primary = config.get("primary_peer_address_prefix");
        let secondary = config.get("secondary_peer_address_prefix");
        let mut parsed = Vec::new();
        for (key, value) in [
            ("primary_peer_address_prefix", primary),
            ("secondary_peer_address_prefix", secondary),
        ] {
            let Some(text) = value.as_str() else { continue };
            match Cidr::parse(text) {
                Some(c) if (c.bits == 32 && c.len == 30) || (c.bits == 128 && c.len == 126) => {
                    if !c.host_bits_zero() {
                        out.push(
                            ProviderDiagnostic::error(&[key], format!("{text} has host bits set"))
                                .code("InvalidPeerAddressPrefix")
                                .hint(format!(
                                    "use the network address, e.g. {}",
                                    network_text(&c)
                                )),
                        );
                    }
                    parsed.push(c);
                }
                _ => out.push(
                    ProviderDiagnostic::error(&[key], format!("{text:?} must be a /30 prefix"))
                        .code("InvalidPeerAddressPrefix")
                        .hint("each link of a peering takes its own /30 (e.g. 192.168.16.252/30)"),
                ),
            }
        }
        if let (Some(a), Some(bb)) = (primary.as_str(), secondary.as_str()) {
            if parsed.len() == 2 && parsed[0].network() == parsed[1].network() {
                out.push(
                    ProviderDiagnostic::error(
                        &["secondary_peer_address_prefix"],
                        format!("primary and secondary prefixes are both {a}"),
                    )
                    .code("InvalidPeerAddressPrefix")
                    .hint("the secondary link needs a different /30"),
                );
            }
            let _ = bb;
        }
        let ipv4 = b(config, "ipv4_enabled").unwrap_or(true);
        if ipv4
            && (primary.is_null() != secondary.is_null()
                || (primary.is_null() && secondary.is_null()))
        {
            let key = if primary.is_null() {
                "primary_peer_address_prefix"
            } else {
                "secondary_peer_address_prefix"
            };
            out.push(
                ProviderDiagnostic::error(&[key], "an IPv4 peering needs both primary_peer_address_prefix and secondary_peer_address_prefix")
                    .code("InvalidPeerAddressPrefix"),
            );
        }
        if let Some(asn) = config.get("peer_asn").as_f64() {
            let asn_i = asn as i64;
            if asn.fract() != 0.0 || !(1..=4_294_967_295).contains(&asn_i) {
                out.push(
                    ProviderDiagnostic::error(
                        &["peer_asn"],
                        "peer_asn must be between 1 and 4294967295",
                    )
                    .code("InvalidPeerAsn"),
                );
            } else if reserved_asn(asn_i) {
                out.push(
                    ProviderDiagnostic::error(&["peer_asn"], format!("ASN {asn_i} is reserved"))
                        .code("InvalidPeerAsn")
                        .detail("Azure reserves 8074, 8075, 12076 and 65515-65520; IANA reserves 23456, 64496-64511, 65535-65551 and 4294967295")
                        .hint("use your own public ASN, or a private ASN such as 65010"),
                );
            }
        }
        if let Some(key) = config.get("shared_key").as_str()
            && (key.is_empty() || key.chars().count() > 25)
        {
            out.push(
                ProviderDiagnostic::error(&["shared_key"], "shared_key must be 1 to 25 characters")
                    .code("InvalidSharedKey")
                    .hint("the BGP MD5 key of a peering is at most 25 characters"),
            );
        }
        let ms = blocks(config, "microsoft_peering_config").first();
        if microsoft && ipv4 {
            let has_prefixes = ms
                .map(|m| m.get("advertised_public_prefixes"))
                .is_some_and(|p| match p {
                    Value::List(items) => !items.is_empty(),
                    Value::Unknown => true,
                    _ => false,
                });
            if !has_prefixes {
                out.push(
                    ProviderDiagnostic::error(&["microsoft_peering_config"], "MicrosoftPeering needs microsoft_peering_config.advertised_public_prefixes")
                        .code("InvalidMicrosoftPeeringConfig")
                        .hint("add a microsoft_peering_config block listing the public prefixes you advertise"),
                );
            }
        }
        if let Some(m) = ms {
            if !microsoft {
                out.push(ProviderDiagnostic::error(
                    &["microsoft_peering_config"],
                    "microsoft_peering_config is only valid for MicrosoftPeering",
                ));
            }
            if let Some(reg) = s(m, "routing_registry_name")
                && !REGISTRIES.iter().any(|r| r.eq_ignore_ascii_case(reg))
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["microsoft_peering_config", "0", "routing_registry_name"],
                        format!("unknown routing registry {reg:?}"),
                    )
                    .hint(REGISTRIES.join(", ")),
                );
            }
            if let Some(asn) = n(m, "customer_asn")
                && asn != 0
                && reserved_asn(asn)
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["microsoft_peering_config", "0", "customer_asn"],
                        format!("ASN {asn} is reserved"),
                    )
                    .code("InvalidPeerAsn"),
                );
            }
        }
        if !config.get("route_filter_id").is_null() && !microsoft {
            out.push(ProviderDiagnostic::error(
                &["route_filter_id"],
                "route filters apply to MicrosoftPeering only",
            ));
        }
        if let Some(v6) = blocks(config, "ipv6").first() {
            validate_ipv6(v6, peering_type, microsoft, &mut out);
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        if p.prior.is_some() {
            return;
        }
        let Some(circuit) = circuit_id(p.sub, p.config) else {
            return;
        };
        let what = format!("peering {}", s(p.config, "peering_type").unwrap_or("?"));
        p.deferred = super::circuit::provider_gate(p.world, &circuit, &what);
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let mut properties = Map::new();
        let peering_type = s(planned, "peering_type").unwrap_or_default();
        let canonical = PEERING_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(peering_type))
            .copied()
            .unwrap_or(peering_type);
        properties.insert("peeringType".into(), json!(canonical));
        insert_opt(
            &mut properties,
            "peerASN",
            n(planned, "peer_asn").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "primaryPeerAddressPrefix",
            s(planned, "primary_peer_address_prefix").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "secondaryPeerAddressPrefix",
            s(planned, "secondary_peer_address_prefix").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "vlanId",
            n(planned, "vlan_id").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "sharedKey",
            s(planned, "shared_key").map(Json::from),
        );
        properties.insert(
            "state".into(),
            json!(if b(planned, "ipv4_enabled").unwrap_or(true) {
                "Enabled"
            } else {
                "Disabled"
            }),
        );
        if let Some(m) = blocks(planned, "microsoft_peering_config").first() {
            properties.insert("microsoftPeeringConfig".into(), ms_config_body(m));
        }
        if let Some(v6) = blocks(planned, "ipv6").first() {
            let mut c = Map::new();
            insert_opt(
                &mut c,
                "primaryPeerAddressPrefix",
                s(v6, "primary_peer_address_prefix").map(Json::from),
            );
            insert_opt(
                &mut c,
                "secondaryPeerAddressPrefix",
                s(v6, "secondary_peer_address_prefix").map(Json::from),
            );
            if let Some(m) = blocks(v6, "microsoft_peering").first() {
                c.insert("microsoftPeeringConfig".into(), ms_config_body(m));
            }
            insert_opt(
                &mut c,
                "routeFilter",
                s(v6, "route_filter_id").map(|id| json!({ "id": id })),
            );
            c.insert(
                "state".into(),
                json!(if b(v6, "enabled").unwrap_or(true) {
                    "Enabled"
                } else {
                    "Disabled"
                }),
            );
            properties.insert("ipv6PeeringConfig".into(), Json::Object(c));
        }
        insert_opt(
            &mut properties,
            "routeFilter",
            s(planned, "route_filter_id").map(|id| json!({ "id": id })),
        );
        json!({ "properties": properties })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let id = jget(resp, &["id"]).as_str().unwrap_or_default();
        let from_id = |kind: &str, key: &str| {
            id_segment(id, kind)
                .map(|s| Json::String(s.to_string()))
                .unwrap_or_else(|| keep.get(key).cloned().unwrap_or(Json::Null))
        };
        let peering_type = match jstr(props(resp, "peeringType")) {
            Json::Null => jstr(jget(resp, &["name"])),
            t => t,
        };
        let ms = props(resp, "microsoftPeeringConfig");
        let managed_ms = keep
            .get("microsoft_peering_config")
            .and_then(Json::as_array)
            .is_some_and(|a| !a.is_empty());
        let ms_block = if ms.is_object()
            && (managed_ms
                || !jget(ms, &["advertisedPublicPrefixes"])
                    .as_array()
                    .is_none_or(Vec::is_empty))
        {
            json!([ms_config_state(ms)])
        } else {
            json!([])
        };
        let v6 = props(resp, "ipv6PeeringConfig");
        let ipv6 = if v6.is_object() && !jget(v6, &["primaryPeerAddressPrefix"]).is_null() {
            let v6ms = jget(v6, &["microsoftPeeringConfig"]);
            let kept_ms = jget(keep, &["ipv6"])
                .get(0)
                .and_then(|x| x.get("microsoft_peering"))
                .and_then(Json::as_array)
                .is_some_and(|a| !a.is_empty());
            let ms = if v6ms.is_object()
                && (kept_ms
                    || !jget(v6ms, &["advertisedPublicPrefixes"])
                        .as_array()
                        .is_none_or(Vec::is_empty))
            {
                json!([ms_config_state(v6ms)])
            } else {
                json!([])
            };
            json!([{
                "primary_peer_address_prefix": jstr(jget(v6, &["primaryPeerAddressPrefix"])),
                "secondary_peer_address_prefix": jstr(jget(v6, &["secondaryPeerAddressPrefix"])),
                "enabled": jget(v6, &["state"]).as_str().is_none_or(|s| !s.eq_ignore_ascii_case("Disabled")),
                "route_filter_id": jstr(jget(v6, &["routeFilter", "id"])),
                "microsoft_peering": ms,
            }])
        } else {
            json!([])
        };
        let state = props(resp, "state")
            .as_str()
            .map(|s| !s.eq_ignore_ascii_case("Disabled"))
            .unwrap_or(true);
        json!({
            "id": jstr(jget(resp, &["id"])),
            "peering_type": peering_type,
            "express_route_circuit_name": from_id("expressRouteCircuits", "express_route_circuit_name"),
            "resource_group_name": from_id("resourceGroups", "resource_group_name"),
            "vlan_id": props(resp, "vlanId").clone(),
            "primary_peer_address_prefix": jstr(props(resp, "primaryPeerAddressPrefix")),
            "secondary_peer_address_prefix": jstr(props(resp, "secondaryPeerAddressPrefix")),
            "peer_asn": props(resp, "peerASN").clone(),
            "shared_key": jstr(props(resp, "sharedKey")),
            "ipv4_enabled": state,
            "route_filter_id": jstr(jget(resp, &["properties", "routeFilter", "id"])),
            "azure_asn": props(resp, "azureASN").clone(),
            "primary_azure_port": props(resp, "primaryAzurePort").as_str().map(Json::from).unwrap_or(Json::Null),
            "secondary_azure_port": props(resp, "secondaryAzurePort").as_str().map(Json::from).unwrap_or(Json::Null),
            "gateway_manager_etag": props(resp, "gatewayManagerEtag").as_str().map(Json::from).unwrap_or(Json::Null),
            "microsoft_peering_config": ms_block,
            "ipv6": ipv6,
        })
    }
}

/// The `ipv6` block: two different IPv6 /126 prefixes; Microsoft settings only on MicrosoftPeering;
/// no IPv6 on AzurePublicPeering.
fn validate_ipv6(
    v6: &Value,
    peering_type: Option<&str>,
    microsoft: bool,
    out: &mut Vec<ProviderDiagnostic>,
) {
    if peering_type.is_some_and(|t| t.eq_ignore_ascii_case("AzurePublicPeering")) {
        out.push(
            ProviderDiagnostic::error(&["ipv6"], "AzurePublicPeering has no IPv6 peering")
                .code("InvalidIpv6PeeringConfig"),
        );
    }
    let mut parsed = Vec::new();
    for key in [
        "primary_peer_address_prefix",
        "secondary_peer_address_prefix",
    ] {
        let Some(text) = s(v6, key) else { continue };
        match Cidr::parse(text) {
            Some(c) if c.bits == 128 && c.len == 126 && c.host_bits_zero() => parsed.push(c),
            _ => out.push(
                ProviderDiagnostic::error(
                    &["ipv6", "0", key],
                    format!("{text:?} must be an IPv6 /126 prefix"),
                )
                .code("InvalidPeerAddressPrefix")
                .hint("each link of an IPv6 peering takes its own /126 (e.g. 2001:db8::/126)"),
            ),
        }
    }
    if parsed.len() == 2 && parsed[0].overlaps(&parsed[1]) {
        out.push(
            ProviderDiagnostic::error(
                &["ipv6", "0", "secondary_peer_address_prefix"],
                "the primary and secondary IPv6 prefixes overlap",
            )
            .code("InvalidPeerAddressPrefix"),
        );
    }
    let ms = blocks(v6, "microsoft_peering").first();
    if !microsoft && (ms.is_some() || !v6.get("route_filter_id").is_null()) {
        out.push(ProviderDiagnostic::error(
            &["ipv6"],
            "`microsoft_peering` and `route_filter_id` apply to MicrosoftPeering only",
        ));
    }
    if let Some(m) = ms {
        for (i, p) in strs(m, "advertised_public_prefixes")
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if Cidr::parse(p).is_none_or(|c| c.bits != 128) {
                let idx = i.to_string();
                out.push(
                    ProviderDiagnostic::error(
                        &[
                            "ipv6",
                            "0",
                            "microsoft_peering",
                            "0",
                            "advertised_public_prefixes",
                            idx.as_str(),
                        ],
                        format!("{p:?} is not an IPv6 prefix"),
                    )
                    .code("InvalidMicrosoftPeeringConfig"),
                );
            }
        }
    }
}

fn ms_config_body(m: &Value) -> Json {
    json!({
        "advertisedPublicPrefixes": strs(m, "advertised_public_prefixes").unwrap_or_default(),
        "advertisedCommunities": strs(m, "advertised_communities").unwrap_or_default(),
        "customerASN": n(m, "customer_asn").unwrap_or(0),
        "routingRegistryName": s(m, "routing_registry_name").unwrap_or("NONE"),
    })
}

fn ms_config_state(ms: &Json) -> Json {
    json!({
        "advertised_public_prefixes": jstrs(jget(ms, &["advertisedPublicPrefixes"])),
        "advertised_communities": jstrs(jget(ms, &["advertisedCommunities"])),
        "customer_asn": jget(ms, &["customerASN"]).as_i64().unwrap_or(0),
        "routing_registry_name": jget(ms, &["routingRegistryName"]).as_str().unwrap_or("NONE"),
    })
}

fn network_text(c: &Cidr) -> String {
    if c.bits == 32 {
        format!("{}/{}", std::net::Ipv4Addr::from(c.network() as u32), c.len)
    } else {
        format!("{}/{}", std::net::Ipv6Addr::from(c.network()), c.len)
    }
}

/// VLAN IDs must be unique across the peerings of one circuit.
pub(crate) fn validate_vlans(resources: &[ResourceView<'_>]) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, String, i64), usize> = BTreeMap::new();
    for (i, r) in resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.type_name == "azurerm_express_route_circuit_peering")
    {
        let (Some(rg), Some(c), Some(vlan)) = (
            s(r.value, "resource_group_name"),
            s(r.value, "express_route_circuit_name"),
            n(r.value, "vlan_id"),
        ) else {
            continue;
        };
        let key = (rg.to_ascii_lowercase(), c.to_ascii_lowercase(), vlan);
        if let Some(first) = seen.get(&key) {
            out.push((
                i,
                ProviderDiagnostic::error(
                    &["vlan_id"],
                    format!(
                        "VLAN {vlan} is already used by {} on circuit {c}",
                        resources[*first].address
                    ),
                )
                .code("VlanIdAlreadyInUse")
                .hint("every peering on a circuit needs its own VLAN ID"),
            ));
        } else {
            seen.insert(key, i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    fn private(vlan: f64, p1: &str, p2: &str) -> Value {
        obj(&[
            ("peering_type", "AzurePrivatePeering".into()),
            ("express_route_circuit_name", "erc".into()),
            ("resource_group_name", "rg".into()),
            ("vlan_id", Value::Number(vlan)),
            ("primary_peer_address_prefix", p1.into()),
            ("secondary_peer_address_prefix", p2.into()),
            ("peer_asn", Value::Number(65010.0)),
            ("shared_key", "s3cret".into()),
            ("ipv4_enabled", true.into()),
            ("microsoft_peering_config", Value::List(vec![])),
        ])
    }

    #[test]
    fn body_matches_example() {
        let cfg = private(200.0, "192.168.16.252/30", "192.168.18.252/30");
        assert_eq!(
            CircuitPeering.arm_id("s", &cfg).as_deref(),
            Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc/peerings/AzurePrivatePeering"
            )
        );
        assert_eq!(
            CircuitPeering.body(&cfg, None),
            json!({"properties":{"peeringType":"AzurePrivatePeering","peerASN":65010,"primaryPeerAddressPrefix":"192.168.16.252/30",
                "secondaryPeerAddressPrefix":"192.168.18.252/30","vlanId":200,"sharedKey":"s3cret","state":"Enabled"}})
        );
    }

    #[test]
    fn state_keeps_nothing_secret_from_api() {
        let resp = json!({"name":"AzurePrivatePeering","id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc/peerings/AzurePrivatePeering",
            "properties":{"provisioningState":"Succeeded","peeringType":"AzurePrivatePeering","azureASN":12076,"peerASN":65010,
            "primaryPeerAddressPrefix":"192.168.16.252/30","secondaryPeerAddressPrefix":"192.168.18.252/30","primaryAzurePort":"",
            "secondaryAzurePort":"","state":"Enabled","vlanId":200,"gatewayManagerEtag":""}});
        let st = CircuitPeering.to_state(&resp, &Json::Null);
        assert_eq!(st["azure_asn"], 12076);
        assert_eq!(st["shared_key"], Json::Null);
        assert_eq!(st["express_route_circuit_name"], "erc");
        assert_eq!(st["microsoft_peering_config"], json!([]));
    }

    #[test]
    fn rules() {
        assert!(
            CircuitPeering
                .validate(&private(200.0, "192.168.16.252/30", "192.168.18.252/30"))
                .is_empty()
        );
        let d = CircuitPeering.validate(&private(5000.0, "192.168.16.253/30", "192.168.16.252/29"));
        let paths: Vec<_> = d.iter().map(|d| d.path.join(".")).collect();
        assert!(paths.contains(&"vlan_id".to_string()));
        assert!(paths.contains(&"primary_peer_address_prefix".to_string()));
        assert!(paths.contains(&"secondary_peer_address_prefix".to_string()));
        let d = CircuitPeering.validate(&private(100.0, "192.168.16.252/30", "192.168.16.252/30"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, vec!["secondary_peer_address_prefix"]);
        let mut reserved = private(100.0, "192.168.16.252/30", "192.168.18.252/30");
        if let Value::Object(m) = &mut reserved {
            m.insert("peer_asn".into(), Value::Number(65515.0));
            m.insert("shared_key".into(), "x".repeat(26).into());
        }
        let d = CircuitPeering.validate(&reserved);
        assert_eq!(d.len(), 2);
        let mut ms = private(300.0, "192.168.16.252/30", "192.168.18.252/30");
        if let Value::Object(m) = &mut ms {
            m.insert("peering_type".into(), "MicrosoftPeering".into());
        }
        let d = CircuitPeering.validate(&ms);
        assert_eq!(d[0].code.as_deref(), Some("InvalidMicrosoftPeeringConfig"));
    }

    #[test]
    fn vlan_unique_per_circuit() {
        let a = private(100.0, "192.168.16.252/30", "192.168.18.252/30");
        let mut bb = a.clone();
        if let Value::Object(m) = &mut bb {
            m.insert("peering_type".into(), "MicrosoftPeering".into());
        }
        let views = vec![
            ResourceView {
                address: "a",
                type_name: "azurerm_express_route_circuit_peering",
                value: &a,
                prior: None,
            },
            ResourceView {
                address: "b",
                type_name: "azurerm_express_route_circuit_peering",
                value: &bb,
                prior: None,
            },
        ];
        let d = validate_vlans(&views);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, 1);
    }

    #[test]
    fn ipv6_block() {
        let mut cfg = private(300.0, "123.0.0.0/30", "123.0.0.4/30");
        let v6 = |secondary: &str| {
            Value::List(vec![obj(&[
                ("primary_peer_address_prefix", "2002:db01::/126".into()),
                ("secondary_peer_address_prefix", secondary.into()),
                ("enabled", true.into()),
                ("microsoft_peering", Value::List(vec![])),
            ])])
        };
        if let Value::Object(m) = &mut cfg {
            m.insert("ipv6".into(), v6("2003:db01::/126"));
        }
        assert!(CircuitPeering.validate(&cfg).is_empty());
        let body = CircuitPeering.body(&cfg, None);
        assert_eq!(
            body["properties"]["ipv6PeeringConfig"],
            json!({"primaryPeerAddressPrefix":"2002:db01::/126","secondaryPeerAddressPrefix":"2003:db01::/126","state":"Enabled"})
        );
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc/peerings/AzurePrivatePeering",
            "properties":{"peeringType":"AzurePrivatePeering","ipv6PeeringConfig":body["properties"]["ipv6PeeringConfig"].clone()}});
        let st = CircuitPeering.to_state(&resp, &cfg.to_json());
        assert_eq!(
            st["ipv6"][0]["secondary_peer_address_prefix"],
            "2003:db01::/126"
        );
        assert_eq!(st["ipv6"][0]["enabled"], true);
        assert_eq!(st["ipv6"][0]["microsoft_peering"], json!([]));
        if let Value::Object(m) = &mut cfg {
            m.insert("ipv6".into(), v6("2003:db01::/64"));
        }
        let d = CircuitPeering.validate(&cfg);
        assert_eq!(
            d[0].path,
            vec!["ipv6", "0", "secondary_peer_address_prefix"]
        );
    }
}
