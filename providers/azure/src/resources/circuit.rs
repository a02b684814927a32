//! `azurerm_express_route_circuit` → `Microsoft.Network/expressRouteCircuits`.

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Kind, PlanState, b, blocks, bool_t, jget, jstr, n, num_t, props, s, str_t, tags_json,
    tracked_base, tracked_id, tracked_state,
};

pub struct Circuit;

pub(crate) const BANDWIDTHS: &[i64] = &[50, 100, 200, 500, 1000, 2000, 5000, 10000];
const TIERS: &[&str] = &["Basic", "Local", "Standard", "Premium"];
const FAMILIES: &[&str] = &["MeteredData", "UnlimitedData"];

fn canonical<'a>(list: &[&'a str], v: &str) -> Option<&'a str> {
    list.iter().copied().find(|x| x.eq_ignore_ascii_case(v))
}

impl Kind for Circuit {
    fn name(&self) -> &'static str {
        "azurerm_express_route_circuit"
    }
    fn resource_type(&self) -> ResourceType {
        let sku = Schema::new()
            .attr("tier", AttrSchema::required(str_t()).case_insensitive())
            .attr("family", AttrSchema::required(str_t()).case_insensitive());
        let schema = tracked_base()
            .attr(
                "service_provider_name",
                AttrSchema::optional(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "peering_location",
                AttrSchema::optional(str_t()).force_new().case_insensitive(),
            )
            .attr("bandwidth_in_mbps", AttrSchema::optional(num_t()))
            .attr(
                "express_route_port_id",
                AttrSchema::optional(str_t()).force_new().case_insensitive(),
            )
            .attr("bandwidth_in_gbps", AttrSchema::optional(num_t()))
            .attr(
                "allow_classic_operations",
                AttrSchema::optional(bool_t()).default(false),
            )
            .attr(
                "authorization_key",
                AttrSchema::optional(str_t()).sensitive(),
            )
            .attr("service_key", AttrSchema::computed(str_t()).sensitive())
            .attr(
                "service_provider_provisioning_state",
                AttrSchema::computed(str_t()),
            )
            .block("sku", 1, 1, sku);
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "expressRouteCircuits")
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        self.arm_id(sub, v).into_iter().collect()
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        if let Some(sku) = blocks(config, "sku").first() {
            if let Some(tier) = s(sku, "tier")
                && canonical(TIERS, tier).is_none()
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["sku", "0", "tier"],
                        format!("{tier:?} is not a circuit SKU tier"),
                    )
                    .code("InvalidExpressRouteCircuitSku")
                    .hint("use Standard, Premium, Basic or Local"),
                );
            }
            if let Some(family) = s(sku, "family")
                && canonical(FAMILIES, family).is_none()
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["sku", "0", "family"],
                        format!("{family:?} is not a circuit SKU family"),
                    )
                    .code("InvalidExpressRouteCircuitSku")
                    .hint("use MeteredData or UnlimitedData"),
                );
            }
        }
        let provider_mode = [
            "service_provider_name",
            "peering_location",
            "bandwidth_in_mbps",
        ];
        let set: Vec<&str> = provider_mode
            .iter()
            .copied()
            .filter(|k| !config.get(k).is_null())
            .collect();
        let port_mode = !config.get("express_route_port_id").is_null()
            || !config.get("bandwidth_in_gbps").is_null();
        if port_mode && !set.is_empty() {
            out.push(ProviderDiagnostic::error(
                &[set[0]],
                "service-provider attributes conflict with express_route_port_id / bandwidth_in_gbps (ExpressRoute Direct)",
            ));
        } else if !port_mode && set.len() != provider_mode.len() {
            for k in provider_mode.iter().filter(|k| config.get(k).is_null()) {
                out.push(ProviderDiagnostic::error(
                    &[k],
                    format!(
                        "`{k}` is required with {}",
                        set.iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if set.is_empty() {
                out.clear();
                out.push(ProviderDiagnostic::error(
                    &["service_provider_name"],
                    "set service_provider_name, peering_location and bandwidth_in_mbps (or express_route_port_id and bandwidth_in_gbps)",
                ));
            }
        }
        if let Some(bw) = config.get("bandwidth_in_mbps").as_f64()
            && (bw.fract() != 0.0 || !BANDWIDTHS.contains(&(bw as i64)))
        {
            out.push(
                ProviderDiagnostic::error(
                    &["bandwidth_in_mbps"],
                    format!("{bw} Mbps is not an ExpressRoute circuit bandwidth"),
                )
                .code("InvalidServiceProviderBandwidth")
                .hint("use one of 50, 100, 200, 500, 1000, 2000, 5000, 10000"),
            );
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        let Some(prior) = p.prior_value() else { return };
        if let (Some(old), Some(new)) = (
            n(&prior, "bandwidth_in_mbps"),
            n(p.config, "bandwidth_in_mbps"),
        ) && new < old
        {
            p.add_replace(
                &["bandwidth_in_mbps"],
                "Azure cannot decrease a circuit's bandwidth in place",
            );
        }
        if let (Some(old), Some(new)) = (
            n(&prior, "bandwidth_in_gbps"),
            n(p.config, "bandwidth_in_gbps"),
        ) && new < old
        {
            p.add_replace(
                &["bandwidth_in_gbps"],
                "Azure cannot decrease a circuit's bandwidth in place",
            );
        }
        let old_family = blocks(&prior, "sku")
            .first()
            .and_then(|s2| s(s2, "family"))
            .map(str::to_string);
        let new_family = blocks(p.config, "sku")
            .first()
            .and_then(|s2| s(s2, "family"))
            .map(str::to_string);
        if let (Some(old), Some(new)) = (old_family, new_family)
            && old.eq_ignore_ascii_case("UnlimitedData")
            && new.eq_ignore_ascii_case("MeteredData")
        {
            p.diagnostics.push(
                    ProviderDiagnostic::error(&["sku", "0", "family"], "Azure cannot change a circuit from UnlimitedData to MeteredData")
                        .code("CircuitSkuFamilyDowngradeNotSupported")
                        .detail("Metered → Unlimited is supported in place; Unlimited → Metered is not supported at all")
                        .hint("keep UnlimitedData, or create a new circuit and migrate to it"),
                );
        }
    }
    fn merge_existing(&self) -> bool {
        true
    }
    fn body(&self, planned: &Value, existing: Option<&Json>) -> Json {
        // Update: start from the full existing model (keeps peerings, authorizations and
        // provider-side fields), as azurerm does.
        let mut body = match existing {
            Some(Json::Object(e)) => Json::Object(e.clone()),
            _ => json!({ "properties": { "authorizations": [], "peerings": [] } }),
        };
        let Json::Object(root) = &mut body else {
            return body;
        };
        root.insert(
            "location".into(),
            json!(s(planned, "location").unwrap_or_default()),
        );
        root.insert("tags".into(), tags_json(planned));
        let sku = blocks(planned, "sku").first().cloned().unwrap_or_default();
        let tier = s(&sku, "tier")
            .map(|t| canonical(TIERS, t).unwrap_or(t))
            .unwrap_or_default()
            .to_string();
        let family = s(&sku, "family")
            .map(|f| canonical(FAMILIES, f).unwrap_or(f))
            .unwrap_or_default()
            .to_string();
        root.insert(
            "sku".into(),
            json!({ "name": format!("{tier}_{family}"), "tier": tier, "family": family }),
        );
        let properties = root.entry("properties").or_insert_with(|| json!({}));
        if !properties.is_object() {
            *properties = json!({});
        }
        if let Json::Object(p) = properties {
            p.insert(
                "allowClassicOperations".into(),
                json!(b(planned, "allow_classic_operations").unwrap_or(false)),
            );
            if let Some(provider) = s(planned, "service_provider_name") {
                let mut spp = match p.get("serviceProviderProperties") {
                    Some(Json::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                spp.insert("serviceProviderName".into(), json!(provider));
                spp.insert(
                    "peeringLocation".into(),
                    json!(s(planned, "peering_location").unwrap_or_default()),
                );
                if let Some(bw) = n(planned, "bandwidth_in_mbps") {
                    spp.insert("bandwidthInMbps".into(), json!(bw));
                }
                p.insert("serviceProviderProperties".into(), Json::Object(spp));
            }
            if let Some(port) = s(planned, "express_route_port_id") {
                p.insert("expressRoutePort".into(), json!({ "id": port }));
            }
            if let Some(gbps) = planned.get("bandwidth_in_gbps").as_f64() {
                p.insert("bandwidthInGbps".into(), json!(gbps));
            }
            match s(planned, "authorization_key") {
                Some(key) => {
                    p.insert("authorizationKey".into(), json!(key));
                }
                None => {
                    p.remove("authorizationKey");
                }
            }
        }
        body
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        let spp = props(resp, "serviceProviderProperties");
        m.insert(
            "service_provider_name".into(),
            jstr(jget(spp, &["serviceProviderName"])),
        );
        m.insert(
            "peering_location".into(),
            jstr(jget(spp, &["peeringLocation"])),
        );
        m.insert(
            "bandwidth_in_mbps".into(),
            jget(spp, &["bandwidthInMbps"]).clone(),
        );
        m.insert(
            "express_route_port_id".into(),
            jstr(jget(resp, &["properties", "expressRoutePort", "id"])),
        );
        m.insert(
            "bandwidth_in_gbps".into(),
            props(resp, "bandwidthInGbps").clone(),
        );
        m.insert(
            "allow_classic_operations".into(),
            json!(
                props(resp, "allowClassicOperations")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        m.insert(
            "authorization_key".into(),
            jstr(props(resp, "authorizationKey")),
        );
        m.insert("service_key".into(), jstr(props(resp, "serviceKey")));
        m.insert(
            "service_provider_provisioning_state".into(),
            jstr(props(resp, "serviceProviderProvisioningState")),
        );
        m.insert(
            "sku".into(),
            json!([{ "tier": jstr(jget(resp, &["sku", "tier"])), "family": jstr(jget(resp, &["sku", "family"])) }]),
        );
        Json::Object(m)
    }
}

/// The connectivity-provider gate: changes that need a provisioned circuit wait (deferred) while
/// the circuit with this id is new or not `Provisioned`. `None` when it is provisioned or unknown
/// to this configuration.
pub(crate) fn provider_gate(
    world: &dyn netform_engine::provider::World,
    circuit_id: &str,
    what: &str,
) -> Option<netform_engine::provider::Deferral> {
    let (state, provider, name) = if let Some((_, planned)) = world.planned_by_id(circuit_id) {
        let state = match planned.get("service_provider_provisioning_state") {
            Value::String(st) => Some(st.clone()),
            Value::Unknown => None,
            _ => world
                .prior_by_id(circuit_id)
                .and_then(|p| p.get("service_provider_provisioning_state"))
                .and_then(Json::as_str)
                .map(str::to_string),
        };
        (
            state,
            s(planned, "service_provider_name").map(str::to_string),
            s(planned, "name").map(str::to_string),
        )
    } else if let Some(prior) = world.prior_by_id(circuit_id) {
        (
            Some(
                prior
                    .get("service_provider_provisioning_state")
                    .and_then(Json::as_str)
                    .unwrap_or("NotProvisioned")
                    .to_string(),
            ),
            prior
                .get("service_provider_name")
                .and_then(Json::as_str)
                .map(str::to_string),
            prior.get("name").and_then(Json::as_str).map(str::to_string),
        )
    } else {
        return None;
    };
    if state
        .as_deref()
        .is_some_and(|st| st.eq_ignore_ascii_case("Provisioned"))
    {
        return None;
    }
    let name = name.unwrap_or_else(|| circuit_id.rsplit('/').next().unwrap_or("").to_string());
    let provider = provider.unwrap_or_else(|| "the connectivity provider".to_string());
    let state = state.unwrap_or_else(|| "not created yet".to_string());
    Some(netform_engine::provider::Deferral {
        reason: format!(
            "{what} needs ExpressRoute circuit {name:?} to be Provisioned by its connectivity provider; it is {state}"
        ),
        next_step: format!(
            "give the circuit's service key (the sensitive `service_key` attribute of circuit {name:?}) to {provider}; once service_provider_provisioning_state is Provisioned, run apply again (or apply with --wait-for-provider)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{NoWorld, obj};

    pub(crate) fn circuit_cfg(bw: f64, family: &str) -> Value {
        obj(&[
            ("name", "erc".into()),
            ("resource_group_name", "rg".into()),
            ("location", "West Europe".into()),
            ("service_provider_name", "Equinix".into()),
            ("peering_location", "Amsterdam".into()),
            ("bandwidth_in_mbps", Value::Number(bw)),
            ("allow_classic_operations", false.into()),
            (
                "sku",
                Value::List(vec![obj(&[
                    ("tier", "Standard".into()),
                    ("family", family.into()),
                ])]),
            ),
        ])
    }

    #[test]
    fn create_body_matches_arm_example() {
        let body = Circuit.body(&circuit_cfg(200.0, "MeteredData"), None);
        assert_eq!(
            body,
            json!({"properties":{"authorizations":[],"peerings":[],"allowClassicOperations":false,
                "serviceProviderProperties":{"serviceProviderName":"Equinix","peeringLocation":"Amsterdam","bandwidthInMbps":200}},
                "location":"West Europe","tags":{},"sku":{"name":"Standard_MeteredData","tier":"Standard","family":"MeteredData"}})
        );
    }

    #[test]
    fn update_keeps_existing_children() {
        let existing = json!({"id":"x","location":"westeurope","sku":{"name":"Standard_MeteredData","tier":"Standard","family":"MeteredData"},
            "properties":{"peerings":[{"name":"AzurePrivatePeering"}],"authorizations":[{"name":"a"}],"serviceKey":"k",
            "serviceProviderProperties":{"serviceProviderName":"Equinix","peeringLocation":"Amsterdam","bandwidthInMbps":200}}});
        let body = Circuit.body(&circuit_cfg(500.0, "UnlimitedData"), Some(&existing));
        assert_eq!(
            body["properties"]["peerings"][0]["name"],
            "AzurePrivatePeering"
        );
        assert_eq!(body["properties"]["authorizations"][0]["name"], "a");
        assert_eq!(
            body["properties"]["serviceProviderProperties"]["bandwidthInMbps"],
            500
        );
        assert_eq!(body["sku"]["name"], "Standard_UnlimitedData");
    }

    #[test]
    fn state_from_get() {
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc","name":"erc",
            "location":"westeurope","sku":{"name":"Standard_MeteredData","tier":"Standard","family":"MeteredData"},
            "properties":{"serviceKey":"abc","serviceProviderProvisioningState":"NotProvisioned","allowClassicOperations":false,
            "serviceProviderProperties":{"serviceProviderName":"Equinix","peeringLocation":"Amsterdam","bandwidthInMbps":200}}});
        let st = Circuit.to_state(&resp, &Json::Null);
        assert_eq!(st["service_key"], "abc");
        assert_eq!(
            st["sku"],
            json!([{"tier":"Standard","family":"MeteredData"}])
        );
        assert_eq!(st["bandwidth_in_mbps"], 200);
    }

    #[test]
    fn bandwidth_rules() {
        let d = Circuit.validate(&circuit_cfg(300.0, "MeteredData"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, vec!["bandwidth_in_mbps"]);
        let prior =
            json!({"bandwidth_in_mbps": 500, "sku":[{"tier":"Standard","family":"UnlimitedData"}]});
        let cfg = circuit_cfg(200.0, "MeteredData");
        let mut p = PlanState {
            sub: "s",
            prior: Some(&prior),
            config: &cfg,
            planned: cfg.clone(),
            replace: vec![],
            diagnostics: vec![],
            deferred: None,
            world: &NoWorld,
        };
        Circuit.plan(&mut p);
        assert_eq!(p.replace.len(), 1);
        assert_eq!(
            p.replace[0].reason,
            "Azure cannot decrease a circuit's bandwidth in place"
        );
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].path, vec!["sku", "0", "family"]);
    }
}
