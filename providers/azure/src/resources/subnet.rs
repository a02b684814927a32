//! `azurerm_subnet` → `Microsoft.Network/virtualNetworks/subnets`.

use std::collections::BTreeMap;

use netform_engine::Value;
use netform_engine::provider::{ProviderDiagnostic, ResourceView};
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Cidr, Kind, PlanState, blocks, id_segment, jget, jstr, jstrs, list_str, network_id, props, s,
    str_t, strs,
};

pub struct Subnet;

/// (resource group, vnet name), lowercased.
type VnetKey = (String, String);

/// Writable subnet properties azurerm keeps when it updates a subnet.
const KEEP_PROPERTIES: &[&str] = &[
    "networkSecurityGroup",
    "routeTable",
    "natGateway",
    "serviceEndpoints",
    "serviceEndpointPolicies",
    "privateEndpointNetworkPolicies",
    "privateLinkServiceNetworkPolicies",
    "defaultOutboundAccess",
];

impl Kind for Subnet {
    fn name(&self) -> &'static str {
        "azurerm_subnet"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(str_t()))
            .attr(
                "name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "resource_group_name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "virtual_network_name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            // Optional+Computed so that the deprecated singular `address_prefix` (azurerm 2.x
            // and early 3.x documentation) can stand in for it; exactly one of them is required.
            .attr(
                "address_prefixes",
                AttrSchema::optional_computed(list_str()),
            )
            .attr(
                "address_prefix",
                AttrSchema::optional(str_t()).describe("Deprecated: use `address_prefixes`."),
            )
            .block(
                "delegation",
                0,
                usize::MAX,
                Schema::new()
                    .attr("name", AttrSchema::required(str_t()))
                    .block(
                        "service_delegation",
                        1,
                        1,
                        Schema::new()
                            .attr("name", AttrSchema::required(str_t()))
                            .attr("actions", AttrSchema::optional(list_str())),
                    ),
            );
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        let vnet = network_id(
            sub,
            s(v, "resource_group_name")?,
            "virtualNetworks",
            s(v, "virtual_network_name")?,
        );
        Some(format!("{vnet}/subnets/{}", s(v, "name")?))
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        match (s(v, "resource_group_name"), s(v, "virtual_network_name")) {
            (Some(rg), Some(vnet)) => vec![network_id(sub, rg, "virtualNetworks", vnet)],
            _ => Vec::new(),
        }
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let gateway = s(config, "name").is_some_and(|n| n.eq_ignore_ascii_case("GatewaySubnet"));
        let singular = !config.get("address_prefix").is_null();
        let plural = !config.get("address_prefixes").is_null();
        if singular && plural {
            out.push(ProviderDiagnostic::error(
                &["address_prefix"],
                "`address_prefix` conflicts with `address_prefixes`",
            ));
        } else if !singular && !plural {
            out.push(ProviderDiagnostic::error(
                &["address_prefixes"],
                "a subnet needs `address_prefixes`",
            ));
        }
        if singular {
            out.push(
                ProviderDiagnostic::warning(&["address_prefix"], "Argument \"address_prefix\" is deprecated")
                    .detail("azurerm 3.0 removed `address_prefix`; netform still reads it as a one-element `address_prefixes`")
                    .hint("write address_prefixes = [\"…\"]"),
            );
        }
        if config
            .get("address_prefixes")
            .as_list()
            .is_some_and(|l| l.is_empty())
        {
            out.push(ProviderDiagnostic::error(
                &["address_prefixes"],
                "a subnet needs at least one address prefix",
            ));
        }
        let (key, prefixes) = match s(config, "address_prefix") {
            Some(p) => ("address_prefix", vec![p.to_string()]),
            None => (
                "address_prefixes",
                strs(config, "address_prefixes").unwrap_or_default(),
            ),
        };
        for (i, prefix) in prefixes.iter().enumerate() {
            let idx = i.to_string();
            let path: Vec<&str> = if key == "address_prefix" {
                vec![key]
            } else {
                vec![key, idx.as_str()]
            };
            match Cidr::parse(prefix) {
                None => out.push(
                    ProviderDiagnostic::error(&path, format!("{prefix:?} is not a CIDR prefix"))
                        .code("InvalidAddressPrefixFormat"),
                ),
                Some(c) => {
                    if !c.host_bits_zero() {
                        out.push(
                            ProviderDiagnostic::error(
                                &path,
                                format!("{prefix:?} has host bits set"),
                            )
                            .code("InvalidCIDRNotation")
                            .hint("use the network address of the prefix"),
                        );
                    }
                    if gateway && c.bits == 32 && c.len > 29 {
                        out.push(
                            ProviderDiagnostic::error(&path, "GatewaySubnet must be /29 or larger")
                                .code("GatewaySubnetTooSmall")
                                .hint("use a /27 (required when ExpressRoute and VPN gateways coexist)"),
                        );
                    } else if gateway && c.bits == 32 && c.len > 27 {
                        out.push(
                            ProviderDiagnostic::warning(&path, "GatewaySubnet smaller than /27")
                                .detail("ExpressRoute/VPN coexistence and ExpressRoute gateways need a /27 or larger GatewaySubnet")
                                .hint("use a /27"),
                        );
                    }
                }
            }
        }
        let delegations = blocks(config, "delegation");
        for (i, d) in delegations.iter().enumerate() {
            if let Some(name) = s(d, "name")
                && delegations[..i]
                    .iter()
                    .any(|o| s(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
            {
                out.push(ProviderDiagnostic::error(
                    &["delegation", &i.to_string(), "name"],
                    format!("delegation name {name:?} is used twice"),
                ));
            }
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        // The deprecated singular form stands for a one-element `address_prefixes`.
        let single = p.config.get("address_prefix").clone();
        if single.is_null() {
            return;
        }
        let prefixes = match single {
            Value::String(_) => Value::List(vec![single]),
            _ => Value::Unknown,
        };
        if let Value::Object(map) = &mut p.planned {
            map.insert("address_prefixes".into(), prefixes);
        }
    }
    fn merge_existing(&self) -> bool {
        true
    }
    fn body(&self, planned: &Value, existing: Option<&Json>) -> Json {
        let mut properties = Map::new();
        if let Some(Json::Object(old)) = existing.map(|e| jget(e, &["properties"])) {
            for key in KEEP_PROPERTIES {
                if let Some(v) = old.get(*key) {
                    properties.insert(key.to_string(), v.clone());
                }
            }
        }
        properties.insert(
            "addressPrefixes".into(),
            json!(strs(planned, "address_prefixes").unwrap_or_default()),
        );
        let delegations: Vec<Json> = blocks(planned, "delegation")
            .iter()
            .map(|d| {
                let sd = blocks(d, "service_delegation").first();
                let mut p = Map::new();
                p.insert(
                    "serviceName".into(),
                    json!(sd.and_then(|x| s(x, "name")).unwrap_or_default()),
                );
                if let Some(actions) = sd.and_then(|x| strs(x, "actions")) {
                    p.insert("actions".into(), json!(actions));
                }
                json!({ "name": s(d, "name").unwrap_or_default(), "properties": p })
            })
            .collect();
        // Delegations are managed: send them when configured, and clear ones the subnet has.
        let had = existing
            .map(|e| props(e, "delegations"))
            .and_then(Json::as_array)
            .is_some_and(|a| !a.is_empty());
        if !delegations.is_empty() || had {
            properties.insert("delegations".into(), Json::Array(delegations));
        }
        json!({ "properties": properties })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let id = jget(resp, &["id"]).as_str().unwrap_or_default();
        let prefixes = match props(resp, "addressPrefixes") {
            Json::Array(_) => jstrs(props(resp, "addressPrefixes")),
            _ => match props(resp, "addressPrefix").as_str() {
                Some(p) => json!([p]),
                None => Json::Null,
            },
        };
        let from_id = |kind: &str, key: &str| {
            id_segment(id, kind)
                .map(|s| Json::String(s.to_string()))
                .unwrap_or_else(|| keep.get(key).cloned().unwrap_or(Json::Null))
        };
        // The deprecated singular attribute is in state only when the configuration uses it.
        let single = match keep.get("address_prefix") {
            Some(Json::String(_)) => prefixes.get(0).cloned().unwrap_or(Json::Null),
            _ => Json::Null,
        };
        let delegations: Vec<Json> = props(resp, "delegations")
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| {
                        json!({
                            "name": jstr(jget(d, &["name"])),
                            "service_delegation": [{
                                "name": jstr(jget(d, &["properties", "serviceName"])),
                                "actions": jstrs(jget(d, &["properties", "actions"])),
                            }],
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "id": jstr(jget(resp, &["id"])),
            "name": jstr(jget(resp, &["name"])),
            "resource_group_name": from_id("resourceGroups", "resource_group_name"),
            "virtual_network_name": from_id("virtualNetworks", "virtual_network_name"),
            "address_prefixes": prefixes,
            "address_prefix": single,
            "delegation": delegations,
        })
    }
}

/// Subnets must lie inside their VNet's address space and must not overlap each other
/// (`NetcfgSubnetRangeOutsideVnet`, `NetcfgSubnetRangesOverlap`).
pub(crate) fn validate_against_vnets(
    resources: &[ResourceView<'_>],
) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    let key = |v: &Value, name_attr: &str| -> Option<(String, String)> {
        Some((
            s(v, "resource_group_name")?.to_ascii_lowercase(),
            s(v, name_attr)?.to_ascii_lowercase(),
        ))
    };
    let mut vnets: BTreeMap<(String, String), Vec<Cidr>> = BTreeMap::new();
    // VNets whose subnets are inline `subnet` blocks, by key, with their address.
    let mut inline: BTreeMap<(String, String), &str> = BTreeMap::new();
    for r in resources
        .iter()
        .filter(|r| r.type_name == "azurerm_virtual_network")
    {
        if let (Some(k), Some(space)) = (key(r.value, "name"), strs(r.value, "address_space")) {
            vnets.insert(k, space.iter().filter_map(|p| Cidr::parse(p)).collect());
        }
        if let Some(k) = key(r.value, "name")
            && !blocks(r.value, "subnet").is_empty()
        {
            inline.insert(k, r.address);
        }
    }
    let mut seen: BTreeMap<VnetKey, Vec<(usize, String, Cidr)>> = BTreeMap::new();
    for (i, r) in resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.type_name == "azurerm_subnet")
    {
        let Some(k) = key(r.value, "virtual_network_name") else {
            continue;
        };
        if let Some(vnet) = inline.get(&k) {
            out.push((
                i,
                ProviderDiagnostic::warning(
                    &["virtual_network_name"],
                    format!("{vnet} defines its subnets inline: this subnet and its `subnet` blocks fight over the same objects"),
                )
                .detail("a virtual network PUT with inline subnets replaces the subnet list, so every apply of the VNet deletes subnets it does not list")
                .hint("use either inline `subnet` blocks or azurerm_subnet resources for one virtual network"),
            ));
        }
        let prefixes = s(r.value, "address_prefix")
            .map(|p| vec![p.to_string()])
            .or_else(|| strs(r.value, "address_prefixes"))
            .unwrap_or_default();
        for (j, prefix) in prefixes.iter().enumerate() {
            let Some(c) = Cidr::parse(prefix) else {
                continue;
            };
            let idx = j.to_string();
            if let Some(space) = vnets.get(&k)
                && !space.is_empty()
                && !space.iter().any(|v| v.contains(&c))
            {
                out.push((
                    i,
                    ProviderDiagnostic::error(
                        &["address_prefixes", &idx],
                        format!(
                            "{prefix} is outside the address space of virtual network {}",
                            k.1
                        ),
                    )
                    .code("NetcfgSubnetRangeOutsideVnet"),
                ));
            }
            let siblings = seen.entry(k.clone()).or_default();
            if let Some((_, other, _)) = siblings
                .iter()
                .find(|(o, _, oc)| *o != i && oc.overlaps(&c))
            {
                out.push((
                    i,
                    ProviderDiagnostic::error(
                        &["address_prefixes", &idx],
                        format!("{prefix} overlaps subnet prefix {other}"),
                    )
                    .code("NetcfgSubnetRangesOverlap"),
                ));
            }
            siblings.push((i, prefix.clone(), c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    fn cfg(name: &str, prefix: &str) -> Value {
        obj(&[
            ("name", name.into()),
            ("resource_group_name", "rg1".into()),
            ("virtual_network_name", "vnet1".into()),
            ("address_prefixes", Value::List(vec![prefix.into()])),
        ])
    }

    #[test]
    fn id_body_state() {
        let c = cfg("GatewaySubnet", "10.0.255.224/27");
        let id = Subnet.arm_id("s", &c).unwrap_or_default();
        assert_eq!(
            id,
            "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/GatewaySubnet"
        );
        let existing = json!({"properties":{"addressPrefix":"10.0.0.0/24","ipConfigurations":[{"id":"x"}],"routeTable":{"id":"rt"}}});
        let body = Subnet.body(&c, Some(&existing));
        assert_eq!(
            body,
            json!({"properties":{"routeTable":{"id":"rt"},"addressPrefixes":["10.0.255.224/27"]}})
        );
        let resp = json!({"id": id, "name":"GatewaySubnet","properties":{"addressPrefix":"10.0.255.224/27"}});
        let st = Subnet.to_state(&resp, &Json::Null);
        assert_eq!(st["address_prefixes"], json!(["10.0.255.224/27"]));
        assert_eq!(st["virtual_network_name"], "vnet1");
    }

    #[test]
    fn gateway_subnet_size() {
        let d = Subnet.validate(&cfg("GatewaySubnet", "10.0.255.248/30"));
        assert!(
            d.iter()
                .any(|d| d.code.as_deref() == Some("GatewaySubnetTooSmall"))
        );
        assert!(
            Subnet
                .validate(&cfg("GatewaySubnet", "10.0.255.224/27"))
                .is_empty()
        );
        let d = Subnet.validate(&cfg("app", "10.0.1.1/24"));
        assert_eq!(d[0].code.as_deref(), Some("InvalidCIDRNotation"));
    }

    #[test]
    fn outside_and_overlap() {
        let vnet = obj(&[
            ("name", "vnet1".into()),
            ("resource_group_name", "rg1".into()),
            ("address_space", Value::List(vec!["10.0.0.0/16".into()])),
        ]);
        let a = cfg("a", "10.0.1.0/24");
        let b = cfg("b", "10.0.1.128/25");
        let c = cfg("c", "10.1.0.0/24");
        let views: Vec<ResourceView<'_>> = [
            ("azurerm_virtual_network", &vnet),
            ("azurerm_subnet", &a),
            ("azurerm_subnet", &b),
            ("azurerm_subnet", &c),
        ]
        .iter()
        .map(|(t, v)| ResourceView {
            address: "x",
            type_name: t,
            value: v,
            prior: None,
        })
        .collect();
        let d = validate_against_vnets(&views);
        let codes: Vec<_> = d
            .iter()
            .map(|(i, d)| (*i, d.code.clone().unwrap_or_default()))
            .collect();
        assert!(codes.contains(&(2, "NetcfgSubnetRangesOverlap".to_string())));
        assert!(codes.contains(&(3, "NetcfgSubnetRangeOutsideVnet".to_string())));
        assert_eq!(codes.len(), 2);
    }

    #[test]
    fn deprecated_address_prefix_and_delegations() {
        let mut c = cfg("aci", "10.0.1.0/24");
        if let Value::Object(m) = &mut c {
            m.remove("address_prefixes");
            m.insert("address_prefix".into(), "10.0.1.0/24".into());
            m.insert(
                "delegation".into(),
                Value::List(vec![obj(&[
                    ("name", "d".into()),
                    (
                        "service_delegation",
                        Value::List(vec![obj(&[
                            ("name", "Microsoft.ContainerInstance/containerGroups".into()),
                            (
                                "actions",
                                Value::List(vec![
                                    "Microsoft.Network/virtualNetworks/subnets/join/action".into(),
                                ]),
                            ),
                        ])]),
                    ),
                ])]),
            );
        }
        let d = Subnet.validate(&c);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].summary.contains("deprecated"));
        let mut p = PlanState {
            sub: "s",
            prior: None,
            config: &c,
            planned: c.clone(),
            replace: Vec::new(),
            diagnostics: Vec::new(),
            deferred: None,
            world: &crate::resources::NoWorld,
        };
        Subnet.plan(&mut p);
        assert_eq!(
            strs(&p.planned, "address_prefixes"),
            Some(vec!["10.0.1.0/24".to_string()])
        );
        let body = Subnet.body(&p.planned, None);
        assert_eq!(
            body["properties"]["delegations"],
            json!([{"name":"d","properties":{"serviceName":"Microsoft.ContainerInstance/containerGroups",
                "actions":["Microsoft.Network/virtualNetworks/subnets/join/action"]}}])
        );
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/aci",
            "name":"aci","properties":{"addressPrefixes":["10.0.1.0/24"],"delegations":[{"name":"d","id":"x",
            "properties":{"serviceName":"Microsoft.ContainerInstance/containerGroups","actions":[],"provisioningState":"Succeeded"}}]}});
        let st = Subnet.to_state(&resp, &p.planned.to_json());
        assert_eq!(st["address_prefix"], "10.0.1.0/24");
        assert_eq!(
            st["delegation"][0]["service_delegation"][0]["name"],
            "Microsoft.ContainerInstance/containerGroups"
        );
        // Removing every delegation clears the ones the subnet has.
        let body = Subnet.body(&cfg("aci", "10.0.1.0/24"), Some(&resp));
        assert_eq!(body["properties"]["delegations"], json!([]));
        // Both forms at once, or neither, is an error.
        let mut both = cfg("x", "10.0.1.0/24");
        if let Value::Object(m) = &mut both {
            m.insert("address_prefix".into(), "10.0.1.0/24".into());
        }
        assert!(
            Subnet
                .validate(&both)
                .iter()
                .any(|d| d.summary.contains("conflicts"))
        );
    }
}
