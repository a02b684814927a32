//! `azurerm_express_route_circuit_authorization` → `.../expressRouteCircuits/{c}/authorizations/{name}`.

use netform_engine::Value;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Value as Json, json};

use super::{Kind, id_segment, jget, jstr, network_id, props, s, str_t};

pub struct CircuitAuthorization;

impl Kind for CircuitAuthorization {
    fn name(&self) -> &'static str {
        "azurerm_express_route_circuit_authorization"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(str_t()))
            .attr(
                "name",
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
            .attr(
                "authorization_key",
                AttrSchema::computed(str_t()).sensitive(),
            )
            .attr("authorization_use_status", AttrSchema::computed(str_t()));
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        let circuit = network_id(
            sub,
            s(v, "resource_group_name")?,
            "expressRouteCircuits",
            s(v, "express_route_circuit_name")?,
        );
        Some(format!("{circuit}/authorizations/{}", s(v, "name")?))
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        match (
            s(v, "resource_group_name"),
            s(v, "express_route_circuit_name"),
        ) {
            (Some(rg), Some(c)) => vec![network_id(sub, rg, "expressRouteCircuits", c)],
            _ => Vec::new(),
        }
    }
    fn body(&self, _planned: &Value, _existing: Option<&Json>) -> Json {
        json!({ "properties": {} })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let id = jget(resp, &["id"]).as_str().unwrap_or_default();
        let from_id = |kind: &str, key: &str| {
            id_segment(id, kind)
                .map(|s| Json::String(s.to_string()))
                .unwrap_or_else(|| keep.get(key).cloned().unwrap_or(Json::Null))
        };
        json!({
            "id": jstr(jget(resp, &["id"])),
            "name": jstr(jget(resp, &["name"])),
            "express_route_circuit_name": from_id("expressRouteCircuits", "express_route_circuit_name"),
            "resource_group_name": from_id("resourceGroups", "resource_group_name"),
            "authorization_key": jstr(props(resp, "authorizationKey")),
            "authorization_use_status": jstr(props(resp, "authorizationUseStatus")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    #[test]
    fn id_and_state() {
        let cfg = obj(&[
            ("name", "a1".into()),
            ("express_route_circuit_name", "erc".into()),
            ("resource_group_name", "rg".into()),
        ]);
        let id = CircuitAuthorization.arm_id("s", &cfg).unwrap_or_default();
        assert_eq!(
            id,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc/authorizations/a1"
        );
        let st = CircuitAuthorization.to_state(
            &json!({"id": id, "name":"a1","properties":{"authorizationKey":"k","authorizationUseStatus":"Available"}}),
            &Json::Null,
        );
        assert_eq!(st["authorization_key"], "k");
        assert_eq!(st["express_route_circuit_name"], "erc");
        assert_eq!(
            CircuitAuthorization.body(&cfg, None),
            json!({"properties":{}})
        );
    }
}
