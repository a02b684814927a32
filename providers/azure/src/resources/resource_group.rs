//! `azurerm_resource_group` → `Microsoft.Resources/resourceGroups`.

use netform_engine::Value;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Value as Json, json};

use super::{Kind, jget, jstr, rg_id, s, str_t, tags_json, tags_state};
use crate::arm::RESOURCES_API_VERSION;

pub struct ResourceGroup;

impl Kind for ResourceGroup {
    fn name(&self) -> &'static str {
        "azurerm_resource_group"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = Schema::new()
            .attr("id", AttrSchema::computed(str_t()))
            .attr(
                "name",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "location",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr("managed_by", AttrSchema::optional(str_t()))
            .attr(
                "tags",
                AttrSchema::optional(netform_engine::schema::AttrType::Map(Box::new(str_t()))),
            );
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(90, 90, 90, 5),
        }
    }
    fn api_version(&self) -> &'static str {
        RESOURCES_API_VERSION
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        Some(rg_id(sub, s(v, "name")?))
    }
    fn validate(&self, config: &Value) -> Vec<netform_engine::provider::ProviderDiagnostic> {
        let mut out = Vec::new();
        if let Some(name) = s(config, "name") {
            let ok_chars = name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'));
            if name.len() > 90 || !ok_chars || name.ends_with('.') {
                out.push(
                    netform_engine::provider::ProviderDiagnostic::error(
                        &["name"],
                        "invalid resource group name",
                    )
                    .code("InvalidResourceGroupName")
                    .hint(
                        "up to 90 letters, digits, '-', '_', '.', '(' and ')', not ending in '.'",
                    ),
                );
            }
        }
        out
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let mut body = json!({ "location": s(planned, "location").unwrap_or_default(), "tags": tags_json(planned) });
        if let Some(m) = s(planned, "managed_by") {
            body["managedBy"] = json!(m);
        }
        body
    }
    fn to_state(&self, resp: &Json, _keep: &Json) -> Json {
        json!({
            "id": jstr(jget(resp, &["id"])),
            "name": jstr(jget(resp, &["name"])),
            "location": jstr(jget(resp, &["location"])),
            "managed_by": jstr(jget(resp, &["managedBy"])),
            "tags": tags_state(resp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    #[test]
    fn body_and_state() {
        let cfg = obj(&[("name", "rg1".into()), ("location", "West Europe".into())]);
        assert_eq!(
            ResourceGroup.arm_id("sub", &cfg).as_deref(),
            Some("/subscriptions/sub/resourceGroups/rg1")
        );
        assert_eq!(
            ResourceGroup.body(&cfg, None),
            json!({"location":"West Europe","tags":{}})
        );
        let resp = json!({"id":"/subscriptions/sub/resourceGroups/rg1","name":"rg1","location":"westeurope",
            "properties":{"provisioningState":"Succeeded"}});
        let st = ResourceGroup.to_state(&resp, &Json::Null);
        assert_eq!(st["location"], "westeurope");
        assert_eq!(st["id"], "/subscriptions/sub/resourceGroups/rg1");
    }
}
