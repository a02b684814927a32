//! `azurerm_public_ip` → `Microsoft.Network/publicIPAddresses`.

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Kind, PlanState, insert_opt, jget, jstr, jstrs, n, num_t, props, s, set_str, str_t, strs,
    tags_json, tracked_base, tracked_id, tracked_state,
};

pub struct PublicIp;

impl Kind for PublicIp {
    fn name(&self) -> &'static str {
        "azurerm_public_ip"
    }
    fn resource_type(&self) -> ResourceType {
        let schema = tracked_base()
            .attr(
                "allocation_method",
                AttrSchema::required(str_t()).case_insensitive(),
            )
            // Optional+Computed: left out, it is Standard (azurerm 4.x), except for a Dynamic
            // address, which azurerm 3.x's documentation examples create with its Basic default.
            .attr(
                "sku",
                AttrSchema::optional_computed(str_t())
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "sku_tier",
                AttrSchema::optional(str_t())
                    .default("Regional")
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "zones",
                AttrSchema::optional_computed(set_str()).force_new(),
            )
            .attr(
                "ip_version",
                AttrSchema::optional(str_t())
                    .default("IPv4")
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "idle_timeout_in_minutes",
                AttrSchema::optional(num_t()).default(Value::Number(4.0)),
            )
            .attr("domain_name_label", AttrSchema::optional(str_t()))
            .attr("reverse_fqdn", AttrSchema::optional(str_t()))
            .attr("fqdn", AttrSchema::computed(str_t()))
            .attr("ip_address", AttrSchema::computed(str_t()));
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "publicIPAddresses")
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let sku = s(config, "sku").unwrap_or("Standard");
        if let Some(method) = s(config, "allocation_method") {
            if !["static", "dynamic"].contains(&method.to_ascii_lowercase().as_str()) {
                out.push(ProviderDiagnostic::error(
                    &["allocation_method"],
                    "must be Static or Dynamic",
                ));
            } else if method.eq_ignore_ascii_case("dynamic") && config.get("sku").is_null() {
                out.push(
                    ProviderDiagnostic::warning(
                        &["allocation_method"],
                        "a Dynamic public IP without `sku` is deprecated: it is planned as a Basic SKU public IP",
                    )
                    .detail(
                        "azurerm 3.x defaulted `sku` to Basic, the only SKU that allows Dynamic allocation; azurerm 4.x defaults to Standard, which must be Static. Azure stopped creating Basic SKU public IPs on 2025-03-31 and retired them on 2025-09-30: only the emulator still creates this one",
                    )
                    .code("BasicSkuPublicIpDeprecated")
                    .hint("set sku = \"Standard\" and allocation_method = \"Static\""),
                );
            } else if method.eq_ignore_ascii_case("dynamic") && !sku.eq_ignore_ascii_case("basic") {
                out.push(
                    ProviderDiagnostic::error(
                        &["allocation_method"],
                        format!("a {sku} SKU public IP must be Static"),
                    )
                    .code("StandardSkuPublicIPAddressesMustBeStatic")
                    .hint("set allocation_method = \"Static\""),
                );
            }
        }
        if s(config, "sku").is_some() {
            match sku.to_ascii_lowercase().as_str() {
                "standard" | "standardv2" => {}
                "basic" => out.push(
                    ProviderDiagnostic::error(
                        &["sku"],
                        "Basic SKU public IPs were retired on 2025-03-31",
                    )
                    .code("BasicSkuPublicIpRetired")
                    .hint("use sku = \"Standard\""),
                ),
                _ => out.push(ProviderDiagnostic::error(
                    &["sku"],
                    "must be Basic, Standard or StandardV2",
                )),
            }
        }
        if let Some(tier) = s(config, "sku_tier")
            && !["regional", "global"].contains(&tier.to_ascii_lowercase().as_str())
        {
            out.push(ProviderDiagnostic::error(
                &["sku_tier"],
                "must be Regional or Global",
            ));
        }
        if let Some(v) = s(config, "ip_version")
            && !["ipv4", "ipv6"].contains(&v.to_ascii_lowercase().as_str())
        {
            out.push(ProviderDiagnostic::error(
                &["ip_version"],
                "must be IPv4 or IPv6",
            ));
        }
        if let Some(t) = n(config, "idle_timeout_in_minutes")
            && !(4..=30).contains(&t)
        {
            out.push(
                ProviderDiagnostic::error(&["idle_timeout_in_minutes"], "must be between 4 and 30")
                    .code("PublicIPIdleTimeoutIsOutOfRange"),
            );
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        if !p.config.get("sku").is_null() || !matches!(p.planned.get("sku"), Value::Unknown) {
            return;
        }
        let dynamic =
            s(p.config, "allocation_method").is_some_and(|m| m.eq_ignore_ascii_case("Dynamic"));
        if let Value::Object(map) = &mut p.planned {
            map.insert(
                "sku".into(),
                Value::String(if dynamic { "Basic" } else { "Standard" }.into()),
            );
        }
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let mut properties = Map::new();
        insert_opt(
            &mut properties,
            "publicIPAllocationMethod",
            s(planned, "allocation_method").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "publicIPAddressVersion",
            s(planned, "ip_version").map(Json::from),
        );
        insert_opt(
            &mut properties,
            "idleTimeoutInMinutes",
            n(planned, "idle_timeout_in_minutes").map(Json::from),
        );
        let mut dns = Map::new();
        insert_opt(
            &mut dns,
            "domainNameLabel",
            s(planned, "domain_name_label").map(Json::from),
        );
        insert_opt(
            &mut dns,
            "reverseFqdn",
            s(planned, "reverse_fqdn").map(Json::from),
        );
        if !dns.is_empty() {
            properties.insert("dnsSettings".into(), Json::Object(dns));
        }
        let mut body = json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "sku": { "name": s(planned, "sku").unwrap_or("Standard"), "tier": s(planned, "sku_tier").unwrap_or("Regional") },
            "properties": properties,
        });
        if let Some(zones) = strs(planned, "zones").filter(|z| !z.is_empty()) {
            body["zones"] = json!(zones);
        }
        body
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        m.insert(
            "allocation_method".into(),
            jstr(props(resp, "publicIPAllocationMethod")),
        );
        m.insert("sku".into(), jstr(jget(resp, &["sku", "name"])));
        m.insert("sku_tier".into(), jstr(jget(resp, &["sku", "tier"])));
        m.insert("zones".into(), jstrs(jget(resp, &["zones"])));
        m.insert(
            "ip_version".into(),
            jstr(props(resp, "publicIPAddressVersion")),
        );
        m.insert(
            "idle_timeout_in_minutes".into(),
            props(resp, "idleTimeoutInMinutes").clone(),
        );
        m.insert(
            "domain_name_label".into(),
            jstr(jget(
                resp,
                &["properties", "dnsSettings", "domainNameLabel"],
            )),
        );
        m.insert(
            "reverse_fqdn".into(),
            jstr(jget(resp, &["properties", "dnsSettings", "reverseFqdn"])),
        );
        m.insert(
            "fqdn".into(),
            jstr(jget(resp, &["properties", "dnsSettings", "fqdn"])),
        );
        m.insert("ip_address".into(), jstr(props(resp, "ipAddress")));
        // Defaults the API may leave out.
        for (k, default) in [
            ("sku", json!("Standard")),
            ("sku_tier", json!("Regional")),
            ("ip_version", json!("IPv4")),
        ] {
            if m.get(k).is_none_or(Json::is_null) {
                m.insert(
                    k.into(),
                    keep.get(k)
                        .filter(|v| !v.is_null())
                        .cloned()
                        .unwrap_or(default),
                );
            }
        }
        Json::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    #[test]
    fn body_and_state() {
        let cfg = obj(&[
            ("name", "pip".into()),
            ("resource_group_name", "rg".into()),
            ("location", "West Europe".into()),
            ("allocation_method", "Static".into()),
            ("sku", "Standard".into()),
            ("sku_tier", "Regional".into()),
            ("ip_version", "IPv4".into()),
            ("idle_timeout_in_minutes", Value::Number(4.0)),
            ("zones", Value::List(vec!["1".into(), "2".into()])),
        ]);
        let body = PublicIp.body(&cfg, None);
        assert_eq!(
            body,
            json!({"location":"West Europe","tags":{},"sku":{"name":"Standard","tier":"Regional"},"zones":["1","2"],
                "properties":{"publicIPAllocationMethod":"Static","publicIPAddressVersion":"IPv4","idleTimeoutInMinutes":4}})
        );
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/pip","name":"pip",
            "location":"westeurope","sku":{"name":"Standard","tier":"Regional"},"zones":["1","2"],
            "properties":{"publicIPAllocationMethod":"Static","publicIPAddressVersion":"IPv4","idleTimeoutInMinutes":4,"ipAddress":"20.1.2.3"}});
        let st = PublicIp.to_state(&resp, &cfg.to_json());
        assert_eq!(st["ip_address"], "20.1.2.3");
        assert_eq!(st["resource_group_name"], "rg");
        assert_eq!(st["zones"], json!(["1", "2"]));
    }

    #[test]
    fn dynamic_without_sku_is_a_deprecated_basic_ip() {
        let cfg = obj(&[("allocation_method", "Dynamic".into())]);
        let d = PublicIp.validate(&cfg);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code.as_deref(), Some("BasicSkuPublicIpDeprecated"));
        assert!(d[0].summary.contains("deprecated"));
        let mut p = PlanState {
            sub: "s",
            prior: None,
            config: &cfg,
            planned: obj(&[("sku", Value::Unknown)]),
            replace: Vec::new(),
            diagnostics: Vec::new(),
            deferred: None,
            world: &crate::resources::NoWorld,
        };
        PublicIp.plan(&mut p);
        assert_eq!(p.planned.get("sku").as_str(), Some("Basic"));
    }

    #[test]
    fn dynamic_standard_rejected() {
        let cfg = obj(&[
            ("allocation_method", "Dynamic".into()),
            ("sku", "Standard".into()),
        ]);
        let d = PublicIp.validate(&cfg);
        assert_eq!(
            d[0].code.as_deref(),
            Some("StandardSkuPublicIPAddressesMustBeStatic")
        );
        assert_eq!(d[0].path, vec!["allocation_method"]);
    }
}
