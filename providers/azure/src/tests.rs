//! Unit tests of the provider glue: settings precedence, plan_change, ids and lock keys.

use std::collections::BTreeMap;
use std::time::Duration;

use netform_engine::Value;
use netform_engine::proposal::propose;
use netform_engine::provider::{PlanChangeRequest, Provider, World};
use serde_json::{Value as Json, json};

use crate::{AzureProvider, AzureSettings};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn settings_block_wins_over_env() {
    let block = obj(&[
        ("subscription_id", "sub-from-block".into()),
        ("tenant_id", "tenant-block".into()),
        ("client_id", "client-block".into()),
        ("client_secret", "secret-block".into()),
        ("use_cli", false.into()),
    ]);
    let env = env_of(&[
        ("ARM_SUBSCRIPTION_ID", "sub-env"),
        ("ARM_TENANT_ID", "tenant-env"),
        ("ARM_CLIENT_SECRET", "secret-env"),
        ("ARM_USE_CLI", "true"),
        ("ARM_USE_MSI", "true"),
    ]);
    let s = AzureSettings::from_config(&block, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.subscription_id, "sub-from-block");
    assert_eq!(s.tenant_id.as_deref(), Some("tenant-block"));
    assert_eq!(s.client_secret.as_deref(), Some("secret-block"));
    assert!(!s.use_cli, "block false beats env true");
    assert!(s.use_msi, "env fills what the block leaves out");
    assert_eq!(s.endpoint, "https://management.azure.com");
    assert_eq!(s.scope(), "https://management.azure.com/.default");
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("secret-block"),
        "Debug must redact the client secret: {debug}"
    );
}

#[test]
fn settings_env_fallback_and_endpoint_override() {
    let env = env_of(&[
        ("ARM_SUBSCRIPTION_ID", "sub-env"),
        ("ARM_USE_OIDC", "true"),
        ("ARM_CLIENT_ID", "c"),
        ("ARM_TENANT_ID", "t"),
        ("ARM_OIDC_TOKEN_FILE_PATH", "/var/run/token"),
        ("NETFORM_ARM_ENDPOINT", "http://127.0.0.1:8080/"),
        ("NETFORM_ARM_MAX_POLL_INTERVAL", "0.5"),
    ]);
    let block = obj(&[("metadata_host", "management.example.com".into())]);
    let s = AzureSettings::from_config(&block, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.subscription_id, "sub-env");
    assert!(s.use_oidc);
    assert_eq!(
        s.oidc_token_file_path.as_deref(),
        Some(std::path::Path::new("/var/run/token"))
    );
    assert_eq!(
        s.endpoint, "http://127.0.0.1:8080",
        "NETFORM_ARM_ENDPOINT overrides metadata_host"
    );
    assert_eq!(s.max_poll_interval, Duration::from_millis(500));
    let s = AzureSettings::from_config(&block, &env_of(&[("ARM_SUBSCRIPTION_ID", "x")]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.endpoint, "https://management.example.com");
}

#[test]
fn settings_errors() {
    assert!(
        AzureSettings::from_config(&Value::Null, &env_of(&[])).is_err(),
        "subscription required"
    );
    let no_auth =
        AzureSettings::from_config(&Value::Null, &env_of(&[("NETFORM_ARM_NO_AUTH", "1")]))
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(no_auth.no_auth);
    assert_eq!(no_auth.subscription_id, crate::auth::EMULATOR_SUBSCRIPTION);
    let unknown = obj(&[("subscription_id", Value::Unknown)]);
    assert!(AzureSettings::from_config(&unknown, &env_of(&[])).is_err());
    let secret_alone = obj(&[
        ("subscription_id", "s".into()),
        ("client_secret", "hunter2".into()),
    ]);
    let err = AzureSettings::from_config(&secret_alone, &env_of(&[]))
        .err()
        .unwrap_or_default();
    assert!(!err.contains("hunter2"));
    let env = obj(&[
        ("subscription_id", "s".into()),
        ("environment", "china".into()),
    ]);
    let s = AzureSettings::from_config(&env, &env_of(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.endpoint, "https://management.chinacloudapi.cn");
    assert!(
        AzureSettings::from_config(
            &obj(&[
                ("subscription_id", "s".into()),
                ("environment", "mars".into())
            ]),
            &env_of(&[])
        )
        .is_err()
    );
}

struct TestWorld {
    prior: BTreeMap<String, Json>,
    planned: BTreeMap<String, (String, Value)>,
}

impl World for TestWorld {
    fn prior_by_id(&self, id: &str) -> Option<&Json> {
        self.prior.get(&id.to_ascii_lowercase())
    }
    fn planned_by_id(&self, id: &str) -> Option<(&str, &Value)> {
        self.planned
            .get(&id.to_ascii_lowercase())
            .map(|(t, v)| (t.as_str(), v))
    }
}

fn empty_world() -> TestWorld {
    TestWorld {
        prior: BTreeMap::new(),
        planned: BTreeMap::new(),
    }
}

fn provider() -> AzureProvider {
    AzureProvider::new(AzureSettings::for_emulator("http://127.0.0.1:9"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Config with the schema's defaults applied, as the engine decodes it.
fn decoded(p: &AzureProvider, type_name: &str, cfg: Value) -> Value {
    let Some(rt) = p.resource_type(type_name) else {
        panic!("no type {type_name}")
    };
    let Value::Object(mut map) = cfg else {
        panic!("object")
    };
    for (name, attr) in &rt.schema.attributes {
        if !map.contains_key(*name)
            && let Some(d) = &attr.default
        {
            map.insert(name.to_string(), d.clone());
        }
    }
    for name in rt.schema.blocks.keys() {
        map.entry(name.to_string()).or_insert(Value::List(vec![]));
    }
    Value::Object(map)
}

fn plan(
    p: &AzureProvider,
    type_name: &str,
    prior: Option<&Json>,
    config: &Value,
    world: &dyn World,
) -> netform_engine::provider::PlanChangeResponse {
    let Some(rt) = p.resource_type(type_name) else {
        panic!("no type {type_name}")
    };
    let (proposed, replace) = propose(&rt.schema, prior, config);
    p.plan_change(PlanChangeRequest {
        type_name,
        prior,
        config,
        proposed,
        replace,
        world,
    })
}

fn subnet_cfg() -> Value {
    obj(&[
        ("name", "GatewaySubnet".into()),
        ("resource_group_name", "rg".into()),
        ("virtual_network_name", "vnet".into()),
        (
            "address_prefixes",
            Value::List(vec!["10.0.255.224/27".into()]),
        ),
    ])
}

#[test]
fn plan_fills_deterministic_id() {
    let p = provider();
    let cfg = decoded(&p, "azurerm_subnet", subnet_cfg());
    let resp = plan(&p, "azurerm_subnet", None, &cfg, &empty_world());
    assert_eq!(
        resp.planned.get("id").as_str(),
        Some(
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/GatewaySubnet"
        )
    );
    assert_eq!(
        p.object_id("azurerm_subnet", &cfg),
        resp.planned.get("id").as_str().map(str::to_string)
    );
    assert_eq!(
        p.lock_keys("azurerm_subnet", &cfg),
        vec!["/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.network/virtualnetworks/vnet".to_string()]
    );
    let mut unknown = cfg.clone();
    if let Value::Object(m) = &mut unknown {
        m.insert("virtual_network_name".into(), Value::Unknown);
    }
    let resp = plan(&p, "azurerm_subnet", None, &unknown, &empty_world());
    assert!(resp.planned.get("id").is_unknown());
    assert_eq!(p.object_id("azurerm_subnet", &unknown), None);
}

#[test]
fn location_spelling_is_not_a_change() {
    let p = provider();
    let cfg = decoded(
        &p,
        "azurerm_resource_group",
        obj(&[("name", "rg".into()), ("location", "West Europe".into())]),
    );
    let prior = json!({"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg","name":"rg",
        "location":"westeurope","managed_by":null,"tags":null});
    let resp = plan(
        &p,
        "azurerm_resource_group",
        Some(&prior),
        &cfg,
        &empty_world(),
    );
    assert!(resp.replace.is_empty(), "{:?}", resp.replace);
    assert_eq!(resp.planned.get("location").as_str(), Some("West Europe"));
    assert_eq!(resp.planned.get("id").as_str(), prior["id"].as_str());
    // A real move is still a replacement.
    let moved = decoded(
        &p,
        "azurerm_resource_group",
        obj(&[("name", "rg".into()), ("location", "North Europe".into())]),
    );
    let resp = plan(
        &p,
        "azurerm_resource_group",
        Some(&prior),
        &moved,
        &empty_world(),
    );
    assert_eq!(resp.replace.len(), 1);
}

fn circuit(bw: f64, family: &str) -> Value {
    obj(&[
        ("name", "erc".into()),
        ("resource_group_name", "rg".into()),
        ("location", "westeurope".into()),
        ("service_provider_name", "Equinix".into()),
        ("peering_location", "Amsterdam".into()),
        ("bandwidth_in_mbps", Value::Number(bw)),
        (
            "sku",
            Value::List(vec![obj(&[
                ("tier", "Standard".into()),
                ("family", family.into()),
            ])]),
        ),
    ])
}

fn circuit_state(bw: i64, family: &str, provider_state: &str) -> Json {
    json!({"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc",
        "name":"erc","resource_group_name":"rg","location":"westeurope","tags":null,"service_provider_name":"Equinix",
        "peering_location":"Amsterdam","bandwidth_in_mbps":bw,"express_route_port_id":null,"bandwidth_in_gbps":null,
        "allow_classic_operations":false,"authorization_key":null,"service_key":"key-1",
        "service_provider_provisioning_state":provider_state,"sku":[{"tier":"Standard","family":family}]})
}

#[test]
fn circuit_bandwidth_decrease_replaces_with_unknown_computed() {
    let p = provider();
    let prior = circuit_state(500, "MeteredData", "Provisioned");
    let up = decoded(
        &p,
        "azurerm_express_route_circuit",
        circuit(1000.0, "MeteredData"),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit",
        Some(&prior),
        &up,
        &empty_world(),
    );
    assert!(resp.replace.is_empty());
    assert_eq!(resp.planned.get("service_key").as_str(), Some("key-1"));
    let down = decoded(
        &p,
        "azurerm_express_route_circuit",
        circuit(200.0, "MeteredData"),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit",
        Some(&prior),
        &down,
        &empty_world(),
    );
    assert_eq!(resp.replace.len(), 1);
    assert_eq!(resp.replace[0].path, vec!["bandwidth_in_mbps"]);
    assert_eq!(
        resp.replace[0].reason,
        "Azure cannot decrease a circuit's bandwidth in place"
    );
    assert!(resp.planned.get("service_key").is_unknown());
    assert!(
        resp.planned
            .get("service_provider_provisioning_state")
            .is_unknown()
    );
    assert!(
        resp.planned.get("id").as_str().is_some(),
        "id stays known across a replacement"
    );
    assert!(
        resp.diagnostics.iter().any(
            |d| d.severity == netform_engine::provider::Severity::Warning
                && d.summary.contains("new service key")
        ),
        "{:?}",
        resp.diagnostics
    );
}

#[test]
fn unlimited_to_metered_is_a_plan_error() {
    let p = provider();
    let prior = circuit_state(500, "UnlimitedData", "Provisioned");
    let cfg = decoded(
        &p,
        "azurerm_express_route_circuit",
        circuit(500.0, "MeteredData"),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit",
        Some(&prior),
        &cfg,
        &empty_world(),
    );
    assert_eq!(resp.diagnostics.len(), 1);
    assert_eq!(resp.diagnostics[0].path, vec!["sku", "0", "family"]);
}

#[test]
fn er_gateway_az_crossing_replaces() {
    let p = provider();
    let subnet = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/GatewaySubnet";
    let gw = |sku: &str| {
        decoded(
            &p,
            "azurerm_virtual_network_gateway",
            obj(&[
                ("name", "ergw".into()),
                ("resource_group_name", "rg".into()),
                ("location", "westeurope".into()),
                ("type", "ExpressRoute".into()),
                ("sku", sku.into()),
                (
                    "ip_configuration",
                    Value::List(vec![decoded_block(&[("subnet_id", subnet.into())])]),
                ),
            ]),
        )
    };
    let prior = json!({"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/ergw",
        "name":"ergw","resource_group_name":"rg","location":"westeurope","tags":null,"type":"ExpressRoute","vpn_type":"RouteBased",
        "sku":"Standard","generation":"None","active_active":false,"bgp_enabled":false,"private_ip_address_enabled":false,
        "ip_configuration":[{"name":"vnetGatewayConfig","private_ip_address_allocation":"Dynamic","subnet_id":subnet,"public_ip_address_id":null}],
        "bgp_settings":[]});
    let resp = plan(
        &p,
        "azurerm_virtual_network_gateway",
        Some(&prior),
        &gw("HighPerformance"),
        &empty_world(),
    );
    assert!(resp.replace.is_empty(), "{:?}", resp.replace);
    let resp = plan(
        &p,
        "azurerm_virtual_network_gateway",
        Some(&prior),
        &gw("ErGw1AZ"),
        &empty_world(),
    );
    assert_eq!(resp.replace.len(), 1);
    assert_eq!(resp.replace[0].path, vec!["sku"]);
    assert!(resp.replace[0].reason.contains("availability-zone"));
    assert!(resp.planned.get("generation").is_unknown());
    let keys = p.lock_keys("azurerm_virtual_network_gateway", &gw("ErGw1AZ"));
    assert_eq!(
        keys,
        vec![
            prior["id"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase()
        ]
    );
}

fn decoded_block(pairs: &[(&str, Value)]) -> Value {
    let mut v = obj(pairs);
    if let Value::Object(m) = &mut v {
        m.entry("name".into()).or_insert("vnetGatewayConfig".into());
        m.entry("private_ip_address_allocation".into())
            .or_insert("Dynamic".into());
        m.entry("public_ip_address_id".into())
            .or_insert(Value::Null);
    }
    v
}

#[test]
fn peering_on_unprovisioned_circuit_is_deferred() {
    let p = provider();
    let circuit_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/expressRouteCircuits/erc";
    let peering = decoded(
        &p,
        "azurerm_express_route_circuit_peering",
        obj(&[
            ("peering_type", "AzurePrivatePeering".into()),
            ("express_route_circuit_name", "erc".into()),
            ("resource_group_name", "rg".into()),
            ("vlan_id", Value::Number(100.0)),
            ("primary_peer_address_prefix", "192.168.16.252/30".into()),
            ("secondary_peer_address_prefix", "192.168.18.252/30".into()),
            ("peer_asn", Value::Number(65010.0)),
            ("shared_key", "sup3r-secret".into()),
        ]),
    );
    // A circuit created in this same plan: unknown provider state.
    let mut new_circuit = decoded(
        &p,
        "azurerm_express_route_circuit",
        circuit(200.0, "MeteredData"),
    );
    if let Value::Object(m) = &mut new_circuit {
        m.insert("service_provider_provisioning_state".into(), Value::Unknown);
    }
    let mut world = empty_world();
    world.planned.insert(
        circuit_id.to_ascii_lowercase(),
        ("azurerm_express_route_circuit".into(), new_circuit),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit_peering",
        None,
        &peering,
        &world,
    );
    let Some(deferred) = resp.deferred else {
        panic!("expected a deferral")
    };
    assert!(deferred.next_step.contains("Equinix"));
    assert!(!deferred.next_step.contains("key-1"));
    assert!(!format!("{deferred:?}").contains("sup3r-secret"));
    // Provisioned: proceeds.
    let mut world = empty_world();
    world.prior.insert(
        circuit_id.to_ascii_lowercase(),
        circuit_state(200, "MeteredData", "Provisioned"),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit_peering",
        None,
        &peering,
        &world,
    );
    assert!(resp.deferred.is_none());
    assert!(
        resp.planned
            .get("id")
            .as_str()
            .is_some_and(|id| id.ends_with("/peerings/AzurePrivatePeering"))
    );
    // Existing but NotProvisioned: deferred.
    let mut world = empty_world();
    world.prior.insert(
        circuit_id.to_ascii_lowercase(),
        circuit_state(200, "MeteredData", "NotProvisioned"),
    );
    assert!(
        plan(
            &p,
            "azurerm_express_route_circuit_peering",
            None,
            &peering,
            &world
        )
        .deferred
        .is_some()
    );
}

#[test]
fn peering_type_change_replaces() {
    let p = provider();
    let prior = json!({"id":"x/peerings/AzurePrivatePeering","peering_type":"AzurePrivatePeering","express_route_circuit_name":"erc",
        "resource_group_name":"rg","vlan_id":100,"ipv4_enabled":true,"microsoft_peering_config":[]});
    let cfg = decoded(
        &p,
        "azurerm_express_route_circuit_peering",
        obj(&[
            ("peering_type", "MicrosoftPeering".into()),
            ("express_route_circuit_name", "erc".into()),
            ("resource_group_name", "rg".into()),
            ("vlan_id", Value::Number(100.0)),
        ]),
    );
    let resp = plan(
        &p,
        "azurerm_express_route_circuit_peering",
        Some(&prior),
        &cfg,
        &empty_world(),
    );
    assert!(resp.replace.iter().any(|r| r.path == vec!["peering_type"]));
}

#[test]
fn every_type_has_id_and_timeouts() {
    let p = provider();
    assert_eq!(p.name(), "registry.terraform.io/hashicorp/azurerm");
    assert_eq!(p.resource_types().len(), 11);
    for rt in p.resource_types() {
        assert!(
            rt.schema.attributes.contains_key("id"),
            "{} lacks id",
            rt.name
        );
    }
    let gw = p
        .resource_type("azurerm_virtual_network_gateway")
        .map(|t| t.timeouts);
    assert_eq!(gw.map(|t| t.create), Some(Duration::from_secs(90 * 60)));
    assert_eq!(gw.map(|t| t.update), Some(Duration::from_secs(60 * 60)));
    assert_eq!(gw.map(|t| t.delete), Some(Duration::from_secs(120 * 60)));
    let erc = p
        .resource_type("azurerm_express_route_circuit")
        .map(|t| t.timeouts.create);
    assert_eq!(erc, Some(Duration::from_secs(30 * 60)));
    for (t, attr) in [
        ("azurerm_express_route_circuit", "service_key"),
        ("azurerm_express_route_circuit", "authorization_key"),
        ("azurerm_express_route_circuit_peering", "shared_key"),
        ("azurerm_virtual_network_gateway_connection", "shared_key"),
        (
            "azurerm_virtual_network_gateway_connection",
            "authorization_key",
        ),
        (
            "azurerm_express_route_circuit_authorization",
            "authorization_key",
        ),
    ] {
        let sensitive = p
            .resource_type(t)
            .and_then(|rt| rt.schema.attributes.get(attr).map(|a| a.sensitive));
        assert_eq!(sensitive, Some(true), "{t}.{attr}");
    }
    let alias = p
        .resource_type("azurerm_virtual_network_gateway")
        .and_then(|rt| {
            rt.schema
                .resolve_attr("enable_bgp")
                .map(|(n, _, deprecated)| (n, deprecated))
        });
    assert_eq!(alias, Some(("bgp_enabled", true)));
}

#[test]
fn errors_never_carry_secrets() {
    let p = provider();
    let Some(kind) = crate::resources::all_kinds()
        .into_iter()
        .find(|k| k.name() == "azurerm_express_route_circuit_peering")
    else {
        panic!("peering kind")
    };
    let planned = obj(&[("shared_key", "md5-secret".into())]);
    let secrets = p.secrets_of(kind, &planned, Some(&json!({"shared_key": "old-secret"})));
    let err = netform_engine::provider::ProviderError::new(
        netform_engine::provider::ErrorKind::Invalid,
        "PUT /x: HTTP 400: InvalidSharedKey: key md5-secret (was old-secret) is invalid",
    );
    let err = crate::redact(err, &secrets);
    assert!(
        !err.message.contains("md5-secret") && !err.message.contains("old-secret"),
        "{}",
        err.message
    );
    assert!(err.message.contains("(sensitive value)"));
}

#[test]
fn unknown_region_is_a_warning_with_a_suggestion() {
    let p = provider();
    let d = p.validate(
        "azurerm_resource_group",
        &obj(&[("name", "rg".into()), ("location", "westeurop".into())]),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, netform_engine::provider::Severity::Warning);
    assert_eq!(d[0].path, vec!["location"]);
    assert!(
        d[0].hint
            .as_deref()
            .is_some_and(|h| h.contains("westeurope"))
    );
    assert!(
        p.validate(
            "azurerm_resource_group",
            &obj(&[("name", "rg".into()), ("location", "West Europe".into())])
        )
        .is_empty()
    );
}

#[test]
fn cross_resource_rules() {
    use netform_engine::provider::ResourceView;
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network";
    let vnet = obj(&[
        ("name", "vnet".into()),
        ("resource_group_name", "rg".into()),
        ("location", "westeurope".into()),
    ]);
    let gw = obj(&[
        ("id", format!("{sub}/virtualNetworkGateways/ergw").into()),
        ("name", "ergw".into()),
        ("resource_group_name", "rg".into()),
        ("location", "eastus".into()),
        ("type", "ExpressRoute".into()),
        (
            "ip_configuration",
            Value::List(vec![obj(&[(
                "subnet_id",
                format!("{sub}/virtualNetworks/vnet/subnets/GatewaySubnet").into(),
            )])]),
        ),
    ]);
    let mut erc = circuit(200.0, "MeteredData");
    if let Value::Object(m) = &mut erc {
        m.insert(
            "id".into(),
            format!("{sub}/expressRouteCircuits/erc").into(),
        );
    }
    let conn = obj(&[
        ("type", "ExpressRoute".into()),
        (
            "virtual_network_gateway_id",
            format!("{sub}/virtualNetworkGateways/ergw").into(),
        ),
        (
            "express_route_circuit_id",
            format!("{sub}/expressRouteCircuits/erc").into(),
        ),
    ]);
    let views = vec![
        ResourceView {
            address: "azurerm_virtual_network.v",
            type_name: "azurerm_virtual_network",
            value: &vnet,
            prior: None,
        },
        ResourceView {
            address: "azurerm_virtual_network_gateway.g",
            type_name: "azurerm_virtual_network_gateway",
            value: &gw,
            prior: None,
        },
        ResourceView {
            address: "azurerm_express_route_circuit.c",
            type_name: "azurerm_express_route_circuit",
            value: &erc,
            prior: None,
        },
        ResourceView {
            address: "azurerm_virtual_network_gateway_connection.x",
            type_name: "azurerm_virtual_network_gateway_connection",
            value: &conn,
            prior: None,
        },
    ];
    let d = p_validate_all(&views);
    let got: Vec<(usize, String)> = d
        .iter()
        .map(|(i, d)| (*i, d.code.clone().unwrap_or_else(|| d.summary.clone())))
        .collect();
    assert!(
        got.contains(&(1, "InvalidResourceReference".to_string())),
        "{got:?}"
    );
    assert!(
        got.contains(&(3, "VnetAndCircuitNotInSameGeopoliticalRegion".to_string())),
        "{got:?}"
    );
    assert!(
        d.iter()
            .any(|(i, d)| *i == 3 && d.severity == netform_engine::provider::Severity::Warning),
        "private peering warning"
    );
}

fn p_validate_all(
    views: &[netform_engine::provider::ResourceView<'_>],
) -> Vec<(usize, netform_engine::provider::ProviderDiagnostic)> {
    provider().validate_all(views)
}

#[test]
fn engine_added_replacements_survive_location_alignment() {
    let p = provider();
    let Some(rt) = p.resource_type("azurerm_resource_group") else {
        panic!("rg")
    };
    let cfg = decoded(
        &p,
        "azurerm_resource_group",
        obj(&[("name", "rg".into()), ("location", "West Europe".into())]),
    );
    let prior = json!({"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg","name":"rg",
        "location":"westeurope","managed_by":null,"tags":null});
    let (proposed, mut replace) = propose(&rt.schema, Some(&prior), &cfg);
    replace.push(netform_engine::provider::ReplaceCause {
        path: vec![],
        reason: "replace requested".into(),
    });
    let world = empty_world();
    let resp = p.plan_change(PlanChangeRequest {
        type_name: "azurerm_resource_group",
        prior: Some(&prior),
        config: &cfg,
        proposed,
        replace,
        world: &world,
    });
    assert_eq!(resp.replace.len(), 1, "{:?}", resp.replace);
    assert_eq!(resp.replace[0].reason, "replace requested");
}
