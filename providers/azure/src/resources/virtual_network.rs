//! `azurerm_virtual_network` → `Microsoft.Network/virtualNetworks`.
//!
//! Subnets are managed by `azurerm_subnet`. A VNet PUT's subnet list is authoritative, so every
//! PUT round-trips the subnets the VNet already has (as azurerm does) instead of sending none.

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Timeouts};
use serde_json::{Value as Json, json};

use super::{
    Cidr, Kind, insert_opt, jget, jstrs, list_str, n, num_t, props, s, str_t, strs, tags_json,
    tracked_base, tracked_id, tracked_state,
};

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
            .attr("guid", AttrSchema::computed(str_t()));
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
    fn merge_existing(&self) -> bool {
        true
    }
    fn body(&self, planned: &Value, existing: Option<&Json>) -> Json {
        let subnets = existing
            .map(|e| props(e, "subnets").clone())
            .filter(Json::is_array)
            .unwrap_or(json!([]));
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
    fn state_from_get() {
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1",
            "name":"vnet1","location":"westeurope","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
            "subnets":[{"name":"a"}],"resourceGuid":"g"}});
        let st = VirtualNetwork.to_state(&resp, &Json::Null);
        assert_eq!(st["resource_group_name"], "rg1");
        assert_eq!(st["address_space"], json!(["10.0.0.0/16"]));
        assert_eq!(st["guid"], "g");
        assert!(st.get("subnet").is_none());
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
