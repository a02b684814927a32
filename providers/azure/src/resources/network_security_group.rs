//! `azurerm_network_security_group` → `Microsoft.Network/networkSecurityGroups`.
//!
//! `security_rule` blocks are authoritative: a PUT's `securityRules` replaces the group's rules
//! (Azure's default rules, `defaultSecurityRules`, are not part of it and not in state).

use std::collections::BTreeMap;

use netform_engine::Value;
use netform_engine::provider::ProviderDiagnostic;
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Kind, blocks, insert_opt, jget, jstr, jstrs, n, num_t, props, s, set_str, str_t, strs,
    tags_json, tracked_base, tracked_id, tracked_state,
};

pub struct NetworkSecurityGroup;

const PROTOCOLS: &[&str] = &["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];

/// (HCL attribute, ARM property) pairs of a rule's plain string fields.
const RULE_STRINGS: &[(&str, &str)] = &[
    ("description", "description"),
    ("source_port_range", "sourcePortRange"),
    ("destination_port_range", "destinationPortRange"),
    ("source_address_prefix", "sourceAddressPrefix"),
    ("destination_address_prefix", "destinationAddressPrefix"),
];
/// (HCL attribute, ARM property) pairs of a rule's string sets.
const RULE_SETS: &[(&str, &str)] = &[
    ("source_port_ranges", "sourcePortRanges"),
    ("destination_port_ranges", "destinationPortRanges"),
    ("source_address_prefixes", "sourceAddressPrefixes"),
    ("destination_address_prefixes", "destinationAddressPrefixes"),
];

fn canon<'a>(list: &[&'a str], v: &str) -> Option<&'a str> {
    list.iter().find(|x| x.eq_ignore_ascii_case(v)).copied()
}

impl Kind for NetworkSecurityGroup {
    fn name(&self) -> &'static str {
        "azurerm_network_security_group"
    }
    fn resource_type(&self) -> ResourceType {
        let mut rule = Schema::new()
            .attr("name", AttrSchema::required(str_t()))
            .attr("priority", AttrSchema::required(num_t()))
            .attr(
                "direction",
                AttrSchema::required(str_t()).case_insensitive(),
            )
            .attr("access", AttrSchema::required(str_t()).case_insensitive())
            .attr("protocol", AttrSchema::required(str_t()).case_insensitive());
        for (attr, _) in RULE_STRINGS {
            rule = rule.attr(attr, AttrSchema::optional(str_t()));
        }
        for (attr, _) in RULE_SETS {
            rule = rule.attr(attr, AttrSchema::optional(set_str()));
        }
        let schema = tracked_base().block("security_rule", 0, usize::MAX, rule);
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(30, 30, 30, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "networkSecurityGroups")
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        self.arm_id(sub, v).into_iter().collect()
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        let mut priorities: BTreeMap<(String, i64), usize> = BTreeMap::new();
        for (i, rule) in blocks(config, "security_rule").iter().enumerate() {
            let idx = i.to_string();
            let at = |attr: &str| vec!["security_rule".to_string(), idx.clone(), attr.into()];
            let diag = |attr: &str, msg: String| {
                let path = at(attr);
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                ProviderDiagnostic::error(&path, msg)
            };
            if let Some(name) = s(rule, "name")
                && let Some(first) = names.insert(name.to_ascii_lowercase(), i)
            {
                out.push(
                    diag(
                        "name",
                        format!("security rule {name:?} is already defined by rule {first}"),
                    )
                    .code("SecurityRuleNameNotUnique"),
                );
            }
            if let Some(p) = n(rule, "priority")
                && !(100..=4096).contains(&p)
            {
                out.push(
                    diag("priority", format!("priority {p} is outside 100-4096"))
                        .code("SecurityRuleInvalidPriority"),
                );
            }
            let direction = s(rule, "direction");
            if let Some(d) = direction
                && canon(&["Inbound", "Outbound"], d).is_none()
            {
                out.push(diag(
                    "direction",
                    "direction must be Inbound or Outbound".into(),
                ));
            }
            if let (Some(d), Some(p)) = (direction, n(rule, "priority"))
                && let Some(first) = priorities.insert((d.to_ascii_lowercase(), p), i)
            {
                out.push(
                    diag(
                        "priority",
                        format!("priority {p} is already used by {d} rule {first}"),
                    )
                    .code("SecurityRuleConflict")
                    .hint("every rule of one direction needs its own priority"),
                );
            }
            if let Some(a) = s(rule, "access")
                && canon(&["Allow", "Deny"], a).is_none()
            {
                out.push(diag("access", "access must be Allow or Deny".into()));
            }
            if let Some(p) = s(rule, "protocol")
                && canon(PROTOCOLS, p).is_none()
            {
                out.push(diag(
                    "protocol",
                    format!("protocol must be one of {}", PROTOCOLS.join(", ")),
                ));
            }
            for (single, plural) in [
                ("source_port_range", "source_port_ranges"),
                ("destination_port_range", "destination_port_ranges"),
                ("source_address_prefix", "source_address_prefixes"),
                ("destination_address_prefix", "destination_address_prefixes"),
            ] {
                let has_plural = strs(rule, plural).is_some_and(|l| !l.is_empty());
                if !rule.get(single).is_null() && has_plural {
                    out.push(diag(
                        single,
                        format!("`{single}` conflicts with `{plural}`"),
                    ));
                }
            }
        }
        out
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let rules: Vec<Json> = blocks(planned, "security_rule")
            .iter()
            .map(|rule| {
                let mut p = Map::new();
                insert_opt(
                    &mut p,
                    "protocol",
                    s(rule, "protocol").map(|v| json!(canon(PROTOCOLS, v).unwrap_or(v))),
                );
                for (attr, prop) in RULE_STRINGS {
                    insert_opt(&mut p, prop, s(rule, attr).map(Json::from));
                }
                for (attr, prop) in RULE_SETS {
                    if let Some(items) = strs(rule, attr).filter(|l| !l.is_empty()) {
                        p.insert(prop.to_string(), json!(items));
                    }
                }
                insert_opt(&mut p, "access", s(rule, "access").map(Json::from));
                insert_opt(&mut p, "priority", n(rule, "priority").map(Json::from));
                insert_opt(&mut p, "direction", s(rule, "direction").map(Json::from));
                json!({ "name": s(rule, "name").unwrap_or_default(), "properties": p })
            })
            .collect();
        json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "properties": { "securityRules": rules },
        })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        let rules: Vec<Json> = props(resp, "securityRules")
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        let mut o = Map::new();
                        o.insert("name".into(), jstr(jget(r, &["name"])));
                        for (attr, prop) in [
                            ("priority", "priority"),
                            ("direction", "direction"),
                            ("access", "access"),
                        ] {
                            o.insert(attr.into(), jget(r, &["properties", prop]).clone());
                        }
                        o.insert(
                            "protocol".into(),
                            jstr(jget(r, &["properties", "protocol"])),
                        );
                        for (attr, prop) in RULE_STRINGS {
                            o.insert(attr.to_string(), jstr(jget(r, &["properties", prop])));
                        }
                        for (attr, prop) in RULE_SETS {
                            o.insert(attr.to_string(), jstrs(jget(r, &["properties", prop])));
                        }
                        Json::Object(o)
                    })
                    .collect()
            })
            .unwrap_or_default();
        m.insert("security_rule".into(), Json::Array(rules));
        Json::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    fn rule(name: &str, priority: f64, direction: &str) -> Value {
        obj(&[
            ("name", name.into()),
            ("priority", Value::Number(priority)),
            ("direction", direction.into()),
            ("access", "Allow".into()),
            ("protocol", "tcp".into()),
            ("source_port_range", "*".into()),
            ("destination_port_range", "443".into()),
            ("source_address_prefix", "*".into()),
            ("destination_address_prefix", "*".into()),
        ])
    }

    fn cfg(rules: Vec<Value>) -> Value {
        obj(&[
            ("name", "nsg".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
            ("security_rule", Value::List(rules)),
        ])
    }

    #[test]
    fn body_and_state() {
        let c = cfg(vec![rule("https", 100.0, "Inbound")]);
        assert_eq!(
            NetworkSecurityGroup.arm_id("s", &c).as_deref(),
            Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg"
            )
        );
        let body = NetworkSecurityGroup.body(&c, None);
        assert_eq!(
            body["properties"]["securityRules"][0],
            json!({"name":"https","properties":{"protocol":"Tcp","sourcePortRange":"*","destinationPortRange":"443",
                "sourceAddressPrefix":"*","destinationAddressPrefix":"*","access":"Allow","priority":100,"direction":"Inbound"}})
        );
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
            "name":"nsg","location":"westeurope","properties":{"securityRules":body["properties"]["securityRules"].clone(),
            "defaultSecurityRules":[{"name":"AllowVnetInBound"}]}});
        let st = NetworkSecurityGroup.to_state(&resp, &Json::Null);
        assert_eq!(st["security_rule"][0]["priority"], 100);
        assert_eq!(st["security_rule"][0]["protocol"], "Tcp");
        assert_eq!(st["security_rule"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn rules_are_checked() {
        let d = NetworkSecurityGroup.validate(&cfg(vec![
            rule("a", 100.0, "Inbound"),
            rule("a", 100.0, "Inbound"),
            rule("b", 100.0, "Outbound"),
            rule("c", 50.0, "Inbound"),
        ]));
        let codes: Vec<_> = d.iter().filter_map(|d| d.code.clone()).collect();
        assert!(codes.contains(&"SecurityRuleNameNotUnique".to_string()));
        assert!(codes.contains(&"SecurityRuleConflict".to_string()));
        assert!(codes.contains(&"SecurityRuleInvalidPriority".to_string()));
        assert_eq!(d.len(), 3);
    }
}
