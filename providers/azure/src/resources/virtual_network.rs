//! `azurerm_virtual_network` → `Microsoft.Network/virtualNetworks`.
//!
//! Subnets are managed either by `azurerm_subnet` resources or by inline `subnet` blocks. A VNet
//! PUT's subnet list is authoritative (Azure deletes the subnets it does not list), so:
//! - with inline `subnet` blocks, the PUT sends exactly those subnets;
//! - without them, every PUT round-trips the subnets the VNet already has (as azurerm does)
//!   instead of sending none, and state records no `subnet` blocks (azurerm's Optional+Computed
//!   `subnet`: leaving the blocks out does not delete the subnets).

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Cidr, Kind, PlanState, blocks, insert_opt, jget, jstr, jstrs, list_str, n, num_t, props, s,
    str_t, strs, tags_json, tracked_base, tracked_id, tracked_state,
};

/// The address prefixes of an ARM subnet body (`addressPrefixes`, or the older `addressPrefix`).
fn subnet_prefixes(subnet: &Json) -> Json {
    match jget(subnet, &["properties", "addressPrefixes"]) {
        Json::Array(_) => jstrs(jget(subnet, &["properties", "addressPrefixes"])),
        _ => match jget(subnet, &["properties", "addressPrefix"]).as_str() {
            Some(p) => json!([p]),
            None => Json::Null,
        },
    }
}

pub struct VirtualNetwork;

impl Kind for VirtualNetwork {
    fn name(&self) -> &'static str {
        "azurerm_virtual_network"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = tracked_base()
            .attr("address_space", AttrSchema::required(list_str()))
            .attr("dns_servers", AttrSchema::optional(list_str()))
            .attr("bgp_community", AttrSchema::optional(str_t()))
            .attr("flow_timeout_in_minutes", AttrSchema::optional(num_t()))
            .attr("guid", AttrSchema::computed(str_t()))
            .block(
                "subnet",
                0,
                usize::MAX,
                Schema::new()
                    .attr("name", AttrSchema::required(str_t()).case_insensitive())
                    .attr("address_prefixes", AttrSchema::required(list_str()))
                    .attr(
                        "security_group",
                        AttrSchema::optional(str_t()).case_insensitive(),
                    )
                    .attr("id", AttrSchema::computed(str_t())),
            );
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "virtualNetworks")
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        self.arm_id(sub, v).into_iter().collect()
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        for (i, prefix) in strs(config, "address_space")
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let idx = i.to_string();
            match Cidr::parse(prefix) {
                None => out.push(
                    ProviderDiagnostic::error(
                        &["address_space", &idx],
                        format!("{prefix:?} is not a CIDR prefix"),
                    )
                    .code("InvalidAddressPrefixFormat"),
                ),
                Some(c) if !c.host_bits_zero() => out.push(
                    ProviderDiagnostic::error(
                        &["address_space", &idx],
                        format!("{prefix:?} has host bits set"),
                    )
                    .code("InvalidCIDRNotation")
                    .hint("use the network address of the prefix"),
                ),
                _ => {}
            }
        }
        let space: Vec<Cidr> = strs(config, "address_space")
            .unwrap_or_default()
            .iter()
            .filter_map(|p| Cidr::parse(p))
            .collect();
        let subnets = blocks(config, "subnet");
        let mut seen: Vec<(String, Cidr)> = Vec::new();
        for (i, sn) in subnets.iter().enumerate() {
            let idx = i.to_string();
            let name = s(sn, "name").unwrap_or("?");
            if subnets[..i]
                .iter()
                .any(|o| s(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
            {
                out.push(ProviderDiagnostic::error(
                    &["subnet", &idx, "name"],
                    format!("subnet {name:?} is defined twice"),
                ));
            }
            for (j, prefix) in strs(sn, "address_prefixes")
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let jdx = j.to_string();
                let path = ["subnet", idx.as_str(), "address_prefixes", jdx.as_str()];
                let Some(c) = Cidr::parse(prefix) else {
                    out.push(
                        ProviderDiagnostic::error(
                            &path,
                            format!("{prefix:?} is not a CIDR prefix"),
                        )
                        .code("InvalidAddressPrefixFormat"),
                    );
                    continue;
                };
                if !c.host_bits_zero() {
                    out.push(
                        ProviderDiagnostic::error(&path, format!("{prefix:?} has host bits set"))
                            .code("InvalidCIDRNotation"),
                    );
                }
                if !space.is_empty() && !space.iter().any(|v| v.contains(&c)) {
                    out.push(
                        ProviderDiagnostic::error(
                            &path,
                            format!("{prefix} is outside the address space of the virtual network"),
                        )
                        .code("NetcfgSubnetRangeOutsideVnet"),
                    );
                }
                if let Some((other, _)) = seen.iter().find(|(_, o)| o.overlaps(&c)) {
                    out.push(
                        ProviderDiagnostic::error(
                            &path,
                            format!("{prefix} overlaps subnet prefix {other}"),
                        )
                        .code("NetcfgSubnetRangesOverlap"),
                    );
                }
                seen.push((prefix.clone(), c));
            }
        }
        if let Some(t) = n(config, "flow_timeout_in_minutes")
            && !(4..=30).contains(&t)
        {
            out.push(
                ProviderDiagnostic::error(&["flow_timeout_in_minutes"], "must be between 4 and 30")
                    .code("InvalidFlowTimeoutInMinutes"),
            );
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        // Optional+Computed `subnet` (azurerm): leaving every block out keeps the subnets the
        // prior state records inline instead of planning their removal (the PUT would keep
        // them anyway).
        if blocks(p.config, "subnet").is_empty()
            && let Some(prior) = p.prior
            && let Some(items) = prior.get("subnet").and_then(Json::as_array)
            && !items.is_empty()
            && let Value::Object(map) = &mut p.planned
        {
            map.insert(
                "subnet".into(),
                Value::from_json(&Json::Array(items.clone())),
            );
        }
        // Subnet ids are deterministic: `<vnet id>/subnets/<name>`.
        let Some(vnet_id) = self.arm_id(p.sub, p.config) else {
            return;
        };
        if let Value::Object(map) = &mut p.planned
            && let Some(Value::List(items)) = map.get_mut("subnet")
        {
            for item in items.iter_mut() {
                let name = s(item, "name").map(str::to_string);
                if let (Value::Object(sn), Some(name)) = (item, name)
                    && matches!(sn.get("id"), Some(Value::Unknown) | None)
                {
                    sn.insert(
                        "id".into(),
                        Value::String(format!("{vnet_id}/subnets/{name}")),
                    );
                }
            }
        }
    }
    fn merge_existing(&self) -> bool {
        true
    }
    fn body(&self, planned: &Value, existing: Option<&Json>) -> Json {
        let inline = blocks(planned, "subnet");
        let subnets = if inline.is_empty() {
            existing
                .map(|e| props(e, "subnets").clone())
                .filter(Json::is_array)
                .unwrap_or(json!([]))
        } else {
            Json::Array(
                inline
                    .iter()
                    .map(|sn| {
                        let mut p = Map::new();
                        p.insert(
                            "addressPrefixes".into(),
                            json!(strs(sn, "address_prefixes").unwrap_or_default()),
                        );
                        insert_opt(
                            &mut p,
                            "networkSecurityGroup",
                            s(sn, "security_group").map(|id| json!({ "id": id })),
                        );
                        json!({ "name": s(sn, "name").unwrap_or_default(), "properties": p })
                    })
                    .collect(),
            )
        };
        let mut properties = serde_json::Map::new();
        properties.insert(
            "addressSpace".into(),
            json!({ "addressPrefixes": strs(planned, "address_space").unwrap_or_default() }),
        );
        properties.insert(
            "dhcpOptions".into(),
            json!({ "dnsServers": strs(planned, "dns_servers").unwrap_or_default() }),
        );
        properties.insert("subnets".into(), subnets);
        // Keep peerings the VNet already has (they are separate resources too).
        if let Some(peerings) = existing
            .map(|e| props(e, "virtualNetworkPeerings"))
            .filter(|p| p.is_array())
        {
            properties.insert("virtualNetworkPeerings".into(), peerings.clone());
        }
        insert_opt(
            &mut properties,
            "bgpCommunities",
            s(planned, "bgp_community").map(|c| json!({ "virtualNetworkCommunity": c })),
        );
        insert_opt(
            &mut properties,
            "flowTimeoutInMinutes",
            n(planned, "flow_timeout_in_minutes").map(Json::from),
        );
        json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "properties": properties,
        })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        m.insert(
            "address_space".into(),
            jstrs(jget(
                resp,
                &["properties", "addressSpace", "addressPrefixes"],
            )),
        );
        m.insert(
            "dns_servers".into(),
            jstrs(jget(resp, &["properties", "dhcpOptions", "dnsServers"])),
        );
        m.insert(
            "bgp_community".into(),
            super::jstr(jget(
                resp,
                &["properties", "bgpCommunities", "virtualNetworkCommunity"],
            )),
        );
        m.insert(
            "flow_timeout_in_minutes".into(),
            props(resp, "flowTimeoutInMinutes").clone(),
        );
        m.insert("guid".into(), super::jstr(props(resp, "resourceGuid")));
        // Inline subnets only when the configuration (or the prior state) manages them, in its
        // order; subnets it does not list follow (drift: the next PUT deletes them).
        let kept: Vec<String> = keep
            .get("subnet")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get("name").and_then(Json::as_str))
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let mut subnets: Vec<(usize, Json)> = if kept.is_empty() {
            Vec::new()
        } else {
            props(resp, "subnets")
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|sn| {
                            let name = jget(sn, &["name"]).as_str().unwrap_or_default();
                            let pos = kept
                                .iter()
                                .position(|k| *k == name.to_ascii_lowercase())
                                .unwrap_or(usize::MAX);
                            (
                                pos,
                                json!({
                                    "name": jstr(jget(sn, &["name"])),
                                    "address_prefixes": subnet_prefixes(sn),
                                    "security_group": jstr(jget(sn, &["properties", "networkSecurityGroup", "id"])),
                                    "id": jstr(jget(sn, &["id"])),
                                }),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        subnets.sort_by_key(|(pos, _)| *pos);
        m.insert(
            "subnet".into(),
            Json::Array(subnets.into_iter().map(|(_, v)| v).collect()),
        );
        Json::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    fn cfg() -> Value {
        obj(&[
            ("name", "vnet1".into()),
            ("resource_group_name", "rg1".into()),
            ("location", "westeurope".into()),
            ("address_space", Value::List(vec!["10.0.0.0/16".into()])),
        ])
    }

    #[test]
    fn body_round_trips_existing_subnets() {
        let existing = json!({"properties":{"subnets":[{"name":"GatewaySubnet","id":"x","properties":{"addressPrefix":"10.0.255.224/27"}}]}});
        let body = VirtualNetwork.body(&cfg(), Some(&existing));
        assert_eq!(body["properties"]["subnets"][0]["name"], "GatewaySubnet");
        assert_eq!(
            body["properties"]["addressSpace"]["addressPrefixes"],
            json!(["10.0.0.0/16"])
        );
        let fresh = VirtualNetwork.body(&cfg(), None);
        assert_eq!(fresh["properties"]["subnets"], json!([]));
    }

    #[test]
    fn inline_subnets_are_authoritative() {
        let mut c = cfg();
        if let Value::Object(m) = &mut c {
            m.insert(
                "subnet".into(),
                Value::List(vec![obj(&[
                    ("name", "subnet2".into()),
                    ("address_prefixes", Value::List(vec!["10.0.2.0/24".into()])),
                    ("security_group", "nsg-id".into()),
                ])]),
            );
        }
        let existing = json!({"properties":{"subnets":[{"name":"other","properties":{"addressPrefix":"10.0.9.0/24"}}]}});
        let body = VirtualNetwork.body(&c, Some(&existing));
        assert_eq!(
            body["properties"]["subnets"],
            json!([{"name":"subnet2","properties":{"addressPrefixes":["10.0.2.0/24"],"networkSecurityGroup":{"id":"nsg-id"}}}])
        );
    }

    #[test]
    fn state_from_get() {
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1",
            "name":"vnet1","location":"westeurope","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
            "subnets":[{"name":"a"}],"resourceGuid":"g"}});
        let st = VirtualNetwork.to_state(&resp, &Json::Null);
        assert_eq!(st["resource_group_name"], "rg1");
        assert_eq!(st["address_space"], json!(["10.0.0.0/16"]));
        assert_eq!(st["guid"], "g");
        // Subnets managed by azurerm_subnet resources are not inline blocks.
        assert_eq!(st["subnet"], json!([]));
        let keep = json!({"subnet":[{"name":"b"},{"name":"A"}]});
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1",
            "properties":{"subnets":[{"name":"a","id":"ida","properties":{"addressPrefix":"10.0.1.0/24",
            "networkSecurityGroup":{"id":"nsg"}}},{"name":"b","id":"idb","properties":{"addressPrefixes":["10.0.2.0/24"]}}]}});
        let st = VirtualNetwork.to_state(&resp, &keep);
        assert_eq!(st["subnet"][0]["name"], "b");
        assert_eq!(st["subnet"][1]["address_prefixes"], json!(["10.0.1.0/24"]));
        assert_eq!(st["subnet"][1]["security_group"], "nsg");
    }

    #[test]
    fn validates_prefixes() {
        let mut c = cfg();
        if let Value::Object(m) = &mut c {
            m.insert(
                "address_space".into(),
                Value::List(vec!["10.0.3.5/16".into()]),
            );
        }
        let d = VirtualNetwork.validate(&c);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, vec!["address_space", "0"]);
    }
}
