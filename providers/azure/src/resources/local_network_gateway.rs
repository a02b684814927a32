//! `azurerm_local_network_gateway` → `Microsoft.Network/localNetworkGateways` (the on-premises VPN device).

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Cidr, Kind, blocks, insert_opt, jget, jstr, jstrs, n, num_t, props, s, set_str, str_t, strs,
    tags_json, tracked_base, tracked_id, tracked_state,
};

pub struct LocalNetworkGateway;

impl Kind for LocalNetworkGateway {
    fn name(&self) -> &'static str {
        "azurerm_local_network_gateway"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = tracked_base()
            .attr("gateway_address", AttrSchema::optional(str_t()))
            .attr(
                "gateway_fqdn",
                AttrSchema::optional(str_t()).case_insensitive(),
            )
            .attr("address_space", AttrSchema::optional(set_str()))
            .block(
                "bgp_settings",
                0,
                1,
                Schema::new()
                    .attr("asn", AttrSchema::required(num_t()))
                    .attr("bgp_peering_address", AttrSchema::required(str_t()))
                    .attr("peer_weight", AttrSchema::optional(num_t())),
            );
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "localNetworkGateways")
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let addr = config.get("gateway_address");
        let fqdn = config.get("gateway_fqdn");
        if !addr.is_null() && !fqdn.is_null() {
            out.push(
                ProviderDiagnostic::error(
                    &["gateway_fqdn"],
                    "only one of gateway_address and gateway_fqdn can be set",
                )
                .code("InvalidLocalNetworkGateway"),
            );
        } else if addr.is_null() && fqdn.is_null() {
            out.push(
                ProviderDiagnostic::error(
                    &["gateway_address"],
                    "one of gateway_address or gateway_fqdn must be set",
                )
                .code("InvalidLocalNetworkGateway"),
            );
        }
        if let Some(a) = addr.as_str()
            && a.parse::<std::net::IpAddr>().is_err()
        {
            out.push(ProviderDiagnostic::error(
                &["gateway_address"],
                format!("{a:?} is not an IP address"),
            ));
        }
        for (i, p) in strs(config, "address_space")
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if !Cidr::parse(p).is_some_and(|c| c.host_bits_zero()) {
                out.push(
                    ProviderDiagnostic::error(
                        &["address_space", &i.to_string()],
                        format!("{p:?} is not a valid CIDR prefix"),
                    )
                    .code("InvalidCIDRNotation"),
                );
            }
        }
        if let Some(asn) = blocks(config, "bgp_settings")
            .first()
            .and_then(|b| n(b, "asn"))
            && !(1..=4_294_967_295).contains(&asn)
        {
            out.push(ProviderDiagnostic::error(
                &["bgp_settings", "0", "asn"],
                "must be between 1 and 4294967295",
            ));
        }
        out
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let mut properties = Map::new();
        properties.insert(
            "localNetworkAddressSpace".into(),
            json!({ "addressPrefixes": strs(planned, "address_space").unwrap_or_default() }),
        );
        insert_opt(
            &mut properties,
            "gatewayIpAddress",
            s(planned, "gateway_address").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "fqdn",
            s(planned, "gateway_fqdn").map(Json::from),
        );
        if let Some(bgp) = blocks(planned, "bgp_settings").first() {
            let mut m = Map::new();
            insert_opt(&mut m, "asn", n(bgp, "asn").map(Json::from));
            insert_opt(
                &mut m,
                "bgpPeeringAddress",
                s(bgp, "bgp_peering_address").map(Json::from),
            );
            insert_opt(&mut m, "peerWeight", n(bgp, "peer_weight").map(Json::from));
            properties.insert("bgpSettings".into(), Json::Object(m));
        }
        json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "properties": properties,
        })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        m.insert(
            "gateway_address".into(),
            jstr(props(resp, "gatewayIpAddress")),
        );
        m.insert("gateway_fqdn".into(), jstr(props(resp, "fqdn")));
        m.insert(
            "address_space".into(),
            jstrs(jget(
                resp,
                &["properties", "localNetworkAddressSpace", "addressPrefixes"],
            )),
        );
        let bgp = props(resp, "bgpSettings");
        let managed = keep
            .get("bgp_settings")
            .and_then(Json::as_array)
            .is_some_and(|a| !a.is_empty());
        let block = if bgp.is_object()
            && (managed || bgp.get("asn").is_some_and(|a| a.as_i64().unwrap_or(0) != 0))
        {
            let peer_weight = match (
                bgp.get("peerWeight"),
                jget(keep, &["bgp_settings"])
                    .get(0)
                    .and_then(|b| b.get("peer_weight")),
            ) {
                (Some(Json::Number(w)), Some(Json::Null) | None) if w.as_i64() == Some(0) => {
                    Json::Null
                }
                (Some(w), _) => w.clone(),
                (None, _) => Json::Null,
            };
            json!([{ "asn": bgp.get("asn").cloned().unwrap_or(Json::Null),
                     "bgp_peering_address": jstr(jget(bgp, &["bgpPeeringAddress"])),
                     "peer_weight": peer_weight }])
        } else {
            json!([])
        };
        m.insert("bgp_settings".into(), block);
        Json::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    #[test]
    fn body_state_rules() {
        let cfg = obj(&[
            ("name", "onprem".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
            ("gateway_address", "203.0.113.10".into()),
            ("address_space", Value::List(vec!["192.168.0.0/16".into()])),
            (
                "bgp_settings",
                Value::List(vec![obj(&[
                    ("asn", Value::Number(65010.0)),
                    ("bgp_peering_address", "192.168.255.1".into()),
                ])]),
            ),
        ]);
        assert!(LocalNetworkGateway.validate(&cfg).is_empty());
        let body = LocalNetworkGateway.body(&cfg, None);
        assert_eq!(body["properties"]["gatewayIpAddress"], "203.0.113.10");
        assert_eq!(
            body["properties"]["bgpSettings"],
            json!({"asn":65010,"bgpPeeringAddress":"192.168.255.1"})
        );
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/localNetworkGateways/onprem",
            "name":"onprem","location":"westeurope","properties":{"gatewayIpAddress":"203.0.113.10",
            "localNetworkAddressSpace":{"addressPrefixes":["192.168.0.0/16"]},
            "bgpSettings":{"asn":65010,"bgpPeeringAddress":"192.168.255.1","peerWeight":0}}});
        let st = LocalNetworkGateway.to_state(&resp, &cfg.to_json());
        assert_eq!(
            st["bgp_settings"],
            json!([{"asn":65010,"bgp_peering_address":"192.168.255.1","peer_weight":null}])
        );
        let both = obj(&[
            ("gateway_address", "1.2.3.4".into()),
            ("gateway_fqdn", "vpn.example.com".into()),
        ]);
        assert_eq!(
            LocalNetworkGateway.validate(&both)[0].path,
            vec!["gateway_fqdn"]
        );
    }
}
