//! `azurerm_virtual_network_gateway` → `Microsoft.Network/virtualNetworkGateways` (VPN or ExpressRoute).

use std::collections::BTreeMap;

use netform_engine::Value;
use netform_engine::provider::{ProviderDiagnostic, ResourceView};
use netform_engine::schema::{AttrSchema, ResourceType, Schema, Timeouts};
use serde_json::{Map, Value as Json, json};

use super::{
    Cidr, Kind, PlanState, b, blocks, bool_t, insert_opt, jget, jstr, jstrs, list_str, n, num_t,
    parent_id, props, s, set_str, str_t, strs, tags_json, tracked_base, tracked_id, tracked_state,
};

/// Point-to-site rules the configuration alone decides (ARM rejects them at apply time).
fn validate_vpn_client(config: &Value, is_er: bool, out: &mut Vec<ProviderDiagnostic>) {
    let Some(p2s) = blocks(config, "vpn_client_configuration").first() else {
        return;
    };
    let at = |attr: &str| ["vpn_client_configuration", "0", attr].map(str::to_string);
    let path = |attr: &str| at(attr);
    if is_er {
        out.push(
            ProviderDiagnostic::error(
                &["vpn_client_configuration"],
                "an ExpressRoute gateway takes no point-to-site configuration",
            )
            .code("VpnClientConfigurationNotSupportedForGatewayType"),
        );
    }
    for (i, prefix) in strs(p2s, "address_space")
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let idx = i.to_string();
        let p = [
            "vpn_client_configuration",
            "0",
            "address_space",
            idx.as_str(),
        ];
        match Cidr::parse(prefix) {
            None => out.push(
                ProviderDiagnostic::error(&p, format!("{prefix:?} is not a CIDR prefix"))
                    .code("InvalidAddressPrefixFormat"),
            ),
            Some(c) if !c.host_bits_zero() => out.push(
                ProviderDiagnostic::error(&p, format!("{prefix:?} has host bits set"))
                    .code("InvalidCIDRNotation"),
            ),
            _ => {}
        }
    }
    let basic = s(config, "sku").is_some_and(|x| x.eq_ignore_ascii_case("Basic"));
    if basic {
        if let Some(protocols) = strs(p2s, "vpn_client_protocols")
            && let Some(bad) = protocols.iter().find(|x| !x.eq_ignore_ascii_case("SSTP"))
        {
            let pth = path("vpn_client_protocols");
            let pth: Vec<&str> = pth.iter().map(String::as_str).collect();
            out.push(
                ProviderDiagnostic::error(
                    &pth,
                    format!("a Basic SKU gateway supports only SSTP for point-to-site, not {bad}"),
                )
                .code("VpnClientProtocolNotSupportedForGatewaySku")
                .hint("use a VpnGw SKU for IKEv2 or OpenVPN"),
            );
        }
        for attr in ["radius_server_address", "aad_tenant"] {
            if !p2s.get(attr).is_null() {
                let pth = path(attr);
                let pth: Vec<&str> = pth.iter().map(String::as_str).collect();
                out.push(
                    ProviderDiagnostic::error(&pth, "a Basic SKU gateway supports only certificate authentication for point-to-site")
                        .code("VpnClientAuthenticationNotSupportedForGatewaySku"),
                );
            }
        }
    }
    for (i, cert) in blocks(p2s, "revoked_certificate").iter().enumerate() {
        if let Some(tp) = s(cert, "thumbprint")
            && !(tp.len() == 40 && tp.chars().all(|c| c.is_ascii_hexdigit()))
        {
            let idx = i.to_string();
            out.push(ProviderDiagnostic::error(
                &[
                    "vpn_client_configuration",
                    "0",
                    "revoked_certificate",
                    idx.as_str(),
                    "thumbprint",
                ],
                "a certificate thumbprint is 40 hexadecimal digits (SHA-1)",
            ));
        }
    }
}

fn vpn_client_body(p2s: &Value) -> Json {
    let mut m = Map::new();
    m.insert(
        "vpnClientAddressPool".into(),
        json!({ "addressPrefixes": strs(p2s, "address_space").unwrap_or_default() }),
    );
    m.insert(
        "vpnClientRootCertificates".into(),
        Json::Array(
            blocks(p2s, "root_certificate")
                .iter()
                .map(|c| json!({ "name": s(c, "name").unwrap_or_default(), "properties": { "publicCertData": s(c, "public_cert_data").unwrap_or_default() } }))
                .collect(),
        ),
    );
    m.insert(
        "vpnClientRevokedCertificates".into(),
        Json::Array(
            blocks(p2s, "revoked_certificate")
                .iter()
                .map(|c| json!({ "name": s(c, "name").unwrap_or_default(), "properties": { "thumbprint": s(c, "thumbprint").unwrap_or_default() } }))
                .collect(),
        ),
    );
    if let Some(p) = strs(p2s, "vpn_client_protocols").filter(|p| !p.is_empty()) {
        m.insert("vpnClientProtocols".into(), json!(p));
    }
    if let Some(p) = strs(p2s, "vpn_auth_types").filter(|p| !p.is_empty()) {
        m.insert("vpnAuthenticationTypes".into(), json!(p));
    }
    for (attr, prop) in [
        ("radius_server_address", "radiusServerAddress"),
        ("radius_server_secret", "radiusServerSecret"),
        ("aad_tenant", "aadTenant"),
        ("aad_audience", "aadAudience"),
        ("aad_issuer", "aadIssuer"),
    ] {
        insert_opt(&mut m, prop, s(p2s, attr).map(Json::from));
    }
    Json::Object(m)
}

fn vpn_client_state(p2s: &Json) -> Json {
    let certs = |list: &str, attr: &str, prop: &str| -> Json {
        Json::Array(
            jget(p2s, &[list])
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| json!({ "name": jstr(jget(c, &["name"])), attr: jstr(jget(c, &["properties", prop])) }))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    json!([{
        "address_space": jstrs(jget(p2s, &["vpnClientAddressPool", "addressPrefixes"])),
        "aad_tenant": jstr(jget(p2s, &["aadTenant"])),
        "aad_audience": jstr(jget(p2s, &["aadAudience"])),
        "aad_issuer": jstr(jget(p2s, &["aadIssuer"])),
        "radius_server_address": jstr(jget(p2s, &["radiusServerAddress"])),
        "radius_server_secret": jstr(jget(p2s, &["radiusServerSecret"])),
        "vpn_client_protocols": jstrs(jget(p2s, &["vpnClientProtocols"])),
        "vpn_auth_types": jstrs(jget(p2s, &["vpnAuthenticationTypes"])),
        "root_certificate": certs("vpnClientRootCertificates", "public_cert_data", "publicCertData"),
        "revoked_certificate": certs("vpnClientRevokedCertificates", "thumbprint", "thumbprint"),
    }])
}

pub struct VirtualNetworkGateway;

pub(crate) const ER_SKUS: &[&str] = &[
    "Standard",
    "HighPerformance",
    "UltraPerformance",
    "ErGw1AZ",
    "ErGw2AZ",
    "ErGw3AZ",
    "ErGwScale",
];
pub(crate) const VPN_GEN1_SKUS: &[&str] = &[
    "Basic",
    "Standard",
    "HighPerformance",
    "VpnGw1",
    "VpnGw2",
    "VpnGw3",
    "VpnGw1AZ",
    "VpnGw2AZ",
    "VpnGw3AZ",
];
pub(crate) const VPN_GEN2_SKUS: &[&str] = &[
    "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ",
];

fn one_of(list: &[&str], v: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(v))
}

/// Zone-redundant ExpressRoute SKUs (the scalable gateway counts as one).
fn er_sku_is_az(sku: &str) -> bool {
    let l = sku.to_ascii_lowercase();
    l.ends_with("az") || l == "ergwscale"
}

/// ExpressRoute gateway resizes Azure performs in place (DOC-ERGW "Gateway SKUs").
fn er_resize_in_place(from: &str, to: &str) -> bool {
    let (f, t) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    f == t
        || matches!(
            (f.as_str(), t.as_str()),
            ("standard", "highperformance")
                | ("standard", "ultraperformance")
                | ("highperformance", "ultraperformance")
                | ("highperformance", "standard")
                | ("ergw1az", "ergw2az")
                | ("ergw1az", "ergw3az")
                | ("ergw2az", "ergw3az")
                | ("ergw2az", "ergw1az")
        )
}

fn vpn_sku_is_legacy(sku: &str) -> bool {
    one_of(&["Basic", "Standard", "HighPerformance"], sku)
}

impl Kind for VirtualNetworkGateway {
    fn name(&self) -> &'static str {
        "azurerm_virtual_network_gateway"
    }
    fn resource_type(&self) -> ResourceType {
        let ip_configuration = Schema::new()
            .attr(
                "name",
                AttrSchema::optional(str_t()).default("vnetGatewayConfig"),
            )
            .attr(
                "private_ip_address_allocation",
                AttrSchema::optional(str_t())
                    .default("Dynamic")
                    .case_insensitive(),
            )
            .attr(
                "subnet_id",
                AttrSchema::required(str_t()).case_insensitive(),
            )
            .attr(
                "public_ip_address_id",
                AttrSchema::optional(str_t()).case_insensitive(),
            );
        let peering_addresses = Schema::new()
            .attr(
                "ip_configuration_name",
                AttrSchema::optional_computed(str_t()),
            )
            .attr("apipa_addresses", AttrSchema::optional(list_str()))
            .attr("default_addresses", AttrSchema::computed(list_str()))
            .attr("tunnel_ip_addresses", AttrSchema::computed(list_str()));
        let bgp_settings = Schema::new()
            .attr("asn", AttrSchema::optional_computed(num_t()))
            .attr("peer_weight", AttrSchema::optional_computed(num_t()))
            .block("peering_addresses", 0, 2, peering_addresses);
        let vpn_client_configuration = Schema::new()
            .attr("address_space", AttrSchema::required(list_str()))
            .attr("aad_tenant", AttrSchema::optional(str_t()))
            .attr("aad_audience", AttrSchema::optional(str_t()))
            .attr("aad_issuer", AttrSchema::optional(str_t()))
            .attr("radius_server_address", AttrSchema::optional(str_t()))
            .attr(
                "radius_server_secret",
                AttrSchema::optional(str_t()).sensitive(),
            )
            .attr(
                "vpn_client_protocols",
                AttrSchema::optional_computed(set_str()),
            )
            .attr("vpn_auth_types", AttrSchema::optional_computed(set_str()))
            .block(
                "root_certificate",
                0,
                usize::MAX,
                Schema::new()
                    .attr("name", AttrSchema::required(str_t()))
                    .attr("public_cert_data", AttrSchema::required(str_t())),
            )
            .block(
                "revoked_certificate",
                0,
                usize::MAX,
                Schema::new()
                    .attr("name", AttrSchema::required(str_t()))
                    .attr("thumbprint", AttrSchema::required(str_t())),
            );
        let schema = tracked_base()
            .attr(
                "type",
                AttrSchema::required(str_t()).force_new().case_insensitive(),
            )
            .attr(
                "vpn_type",
                AttrSchema::optional(str_t())
                    .default("RouteBased")
                    .force_new()
                    .case_insensitive(),
            )
            .attr("sku", AttrSchema::required(str_t()).case_insensitive())
            .attr(
                "generation",
                AttrSchema::optional_computed(str_t())
                    .force_new()
                    .case_insensitive(),
            )
            .attr(
                "active_active",
                AttrSchema::optional(bool_t()).default(false),
            )
            .attr(
                "bgp_enabled",
                AttrSchema::optional(bool_t())
                    .default(false)
                    .alias("enable_bgp"),
            )
            .attr(
                "private_ip_address_enabled",
                AttrSchema::optional(bool_t()).default(false).force_new(),
            )
            .block_force_new("ip_configuration", 1, 3, ip_configuration)
            .block("bgp_settings", 0, 1, bgp_settings)
            .block("vpn_client_configuration", 0, 1, vpn_client_configuration);
        ResourceType {
            name: self.name(),
            schema,
            timeouts: Timeouts::minutes(90, 60, 120, 5),
        }
    }
    fn arm_id(&self, sub: &str, v: &Value) -> Option<String> {
        tracked_id(sub, v, "virtualNetworkGateways")
    }
    fn lock_keys(&self, sub: &str, v: &Value) -> Vec<String> {
        self.arm_id(sub, v).into_iter().collect()
    }
    fn validate(&self, config: &Value) -> Vec<ProviderDiagnostic> {
        let mut out = Vec::new();
        let gw_type = s(config, "type");
        let is_er = gw_type.is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute"));
        let is_vpn = gw_type.is_some_and(|t| t.eq_ignore_ascii_case("Vpn"));
        if gw_type.is_some() && !is_er && !is_vpn {
            out.push(
                ProviderDiagnostic::error(&["type"], "type must be ExpressRoute or Vpn")
                    .code("InvalidGatewayType"),
            );
        }
        let vpn_type = s(config, "vpn_type").unwrap_or("RouteBased");
        let policy_based = vpn_type.eq_ignore_ascii_case("PolicyBased");
        if !policy_based && !vpn_type.eq_ignore_ascii_case("RouteBased") {
            out.push(ProviderDiagnostic::error(
                &["vpn_type"],
                "vpn_type must be RouteBased or PolicyBased",
            ));
        }
        let generation = s(config, "generation");
        if let Some(g) = generation {
            if !one_of(&["Generation1", "Generation2", "None"], g) {
                out.push(ProviderDiagnostic::error(
                    &["generation"],
                    "generation must be Generation1, Generation2 or None",
                ));
            } else if is_er && !g.eq_ignore_ascii_case("None") {
                out.push(
                    ProviderDiagnostic::error(
                        &["generation"],
                        "an ExpressRoute gateway has no VPN generation",
                    )
                    .code("InvalidVpnGatewayGeneration")
                    .hint("remove `generation` or set it to \"None\""),
                );
            }
        }
        if let Some(sku) = s(config, "sku") {
            let sku_code = "InvalidGatewaySku";
            if is_er && !one_of(ER_SKUS, sku) {
                out.push(
                    ProviderDiagnostic::error(
                        &["sku"],
                        format!("{sku} is not an ExpressRoute gateway SKU"),
                    )
                    .code(sku_code)
                    .hint(format!("use one of {}", ER_SKUS.join(", "))),
                );
            } else if is_vpn && policy_based && !sku.eq_ignore_ascii_case("Basic") {
                out.push(
                    ProviderDiagnostic::error(
                        &["sku"],
                        "a PolicyBased VPN gateway supports only the Basic SKU",
                    )
                    .code(sku_code)
                    .hint("use vpn_type = \"RouteBased\" for other SKUs"),
                );
            } else if is_vpn && !policy_based {
                let gen2 = generation.is_some_and(|g| g.eq_ignore_ascii_case("Generation2"));
                let gen1 = generation.is_some_and(|g| g.eq_ignore_ascii_case("Generation1"));
                let allowed: Vec<&str> = if gen2 {
                    VPN_GEN2_SKUS.to_vec()
                } else if gen1 {
                    VPN_GEN1_SKUS.to_vec()
                } else {
                    VPN_GEN1_SKUS.iter().chain(VPN_GEN2_SKUS).copied().collect()
                };
                if !one_of(&allowed, sku) {
                    let which = if gen2 {
                        "a Generation2 VPN gateway"
                    } else if gen1 {
                        "a Generation1 VPN gateway"
                    } else {
                        "a VPN gateway"
                    };
                    out.push(
                        ProviderDiagnostic::error(
                            &["sku"],
                            format!("{sku} is not a valid SKU for {which}"),
                        )
                        .code(sku_code)
                        .hint(format!("use one of {}", allowed.join(", "))),
                    );
                }
            }
        }
        let configs = blocks(config, "ip_configuration");
        for (i, ipc) in configs.iter().enumerate() {
            let idx = i.to_string();
            if let Some(subnet) = ipc.get("subnet_id").as_str() {
                let ok =
                    subnet
                        .trim_end_matches('/')
                        .rsplit_once('/')
                        .is_some_and(|(head, last)| {
                            last.eq_ignore_ascii_case("GatewaySubnet")
                                && head.to_ascii_lowercase().ends_with("/subnets")
                        });
                if !ok {
                    out.push(
                        ProviderDiagnostic::error(
                            &["ip_configuration", &idx, "subnet_id"],
                            "a virtual network gateway can only be created in the subnet named GatewaySubnet",
                        )
                        .code("InvalidGatewaySubnet")
                        .hint("point subnet_id at the virtual network's `GatewaySubnet` subnet"),
                    );
                }
            }
            let pip = ipc.get("public_ip_address_id");
            if is_vpn && pip.is_null() {
                out.push(
                    ProviderDiagnostic::error(
                        &["ip_configuration", &idx, "public_ip_address_id"],
                        "a VPN gateway needs a public IP on every ip_configuration",
                    )
                    .code("PublicIpAddressRequiredForVpnGateway")
                    .hint("create an azurerm_public_ip (Standard, Static) and reference its id"),
                );
            }
            if is_er && !pip.is_null() {
                out.push(
                    ProviderDiagnostic::warning(&["ip_configuration", &idx, "public_ip_address_id"], "ExpressRoute gateways no longer need a public IP")
                        .detail("Azure now manages the public IP of ExpressRoute gateways; azurerm rejects public_ip_address_id for them")
                        .hint("remove public_ip_address_id"),
                );
            }
        }
        // Each ip_configuration needs its own name and its own public IP.
        for (i, ipc) in configs.iter().enumerate() {
            let idx = i.to_string();
            if let Some(name) = s(ipc, "name")
                && configs[..i]
                    .iter()
                    .any(|o| s(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["ip_configuration", &idx, "name"],
                        format!("ip_configuration name {name:?} is used twice"),
                    )
                    .code("InvalidRequestFormat")
                    .hint("name the second block differently, e.g. \"vnetGatewayConfig2\""),
                );
            }
            if let Some(pip) = s(ipc, "public_ip_address_id")
                && configs[..i].iter().any(|o| {
                    s(o, "public_ip_address_id").is_some_and(|n| n.eq_ignore_ascii_case(pip))
                })
            {
                out.push(
                    ProviderDiagnostic::error(
                        &["ip_configuration", &idx, "public_ip_address_id"],
                        "this public IP is already used by another ip_configuration",
                    )
                    .code("PublicIPAddressInUse")
                    .hint("an active-active gateway needs one public IP per ip_configuration"),
                );
            }
        }
        let active_active = b(config, "active_active").unwrap_or(false);
        if active_active && configs.len() < 2 {
            out.push(
                ProviderDiagnostic::error(
                    &["active_active"],
                    "an active-active gateway needs two ip_configuration blocks",
                )
                .code("ActiveActiveGatewayRequiresTwoIpConfigurations"),
            );
        }
        if !active_active && configs.len() > 1 && is_er {
            out.push(ProviderDiagnostic::error(
                &["ip_configuration"],
                "an ExpressRoute gateway takes one ip_configuration",
            ));
        }
        if is_vpn && policy_based && (active_active || b(config, "bgp_enabled").unwrap_or(false)) {
            out.push(
                ProviderDiagnostic::error(
                    &["vpn_type"],
                    "PolicyBased VPN gateways support neither active-active nor BGP",
                )
                .code("InvalidGatewaySku"),
            );
        }
        validate_vpn_client(config, is_er, &mut out);
        if let Some(bgp) = blocks(config, "bgp_settings").first()
            && let Some(asn) = n(bgp, "asn")
            && super::circuit_peering::reserved_asn(asn)
            && asn != 65515
        {
            out.push(
                ProviderDiagnostic::error(
                    &["bgp_settings", "0", "asn"],
                    format!("ASN {asn} is reserved by Azure"),
                )
                .code("InvalidBgpAsn")
                .hint("use 65515 (the Azure default) or a private ASN outside 65515-65520"),
            );
        }
        out
    }
    fn plan(&self, p: &mut PlanState<'_>) {
        let Some(prior) = p.prior_value() else { return };
        let (Some(old), Some(new)) = (
            s(&prior, "sku").map(str::to_string),
            s(p.config, "sku").map(str::to_string),
        ) else {
            return;
        };
        if old.eq_ignore_ascii_case(&new) {
            return;
        }
        let is_er = s(p.config, "type").is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute"));
        if is_er {
            if er_sku_is_az(&old) != er_sku_is_az(&new) {
                p.add_replace(
                    &["sku"],
                    format!(
                        "Azure cannot change an ExpressRoute gateway between an availability-zone SKU and a non-zone SKU in place ({old} → {new})"
                    ),
                );
            } else if !er_resize_in_place(&old, &new) {
                p.add_replace(
                    &["sku"],
                    format!(
                        "Azure cannot resize an ExpressRoute gateway from {old} to {new} in place"
                    ),
                );
            }
        } else if vpn_sku_is_legacy(&old) != vpn_sku_is_legacy(&new) {
            p.add_replace(
                &["sku"],
                format!("Azure cannot resize a VPN gateway between the legacy SKUs and the VpnGw SKUs in place ({old} → {new})"),
            );
        }
    }
    fn body(&self, planned: &Value, _existing: Option<&Json>) -> Json {
        let gateway_id = s(planned, "id").unwrap_or_default().to_string();
        let is_vpn = s(planned, "type").is_some_and(|t| t.eq_ignore_ascii_case("Vpn"));
        let ip_configurations: Vec<Json> = blocks(planned, "ip_configuration")
            .iter()
            .map(|ipc| {
                let mut p = Map::new();
                p.insert(
                    "privateIPAllocationMethod".into(),
                    json!(s(ipc, "private_ip_address_allocation").unwrap_or("Dynamic")),
                );
                p.insert(
                    "subnet".into(),
                    json!({ "id": s(ipc, "subnet_id").unwrap_or_default() }),
                );
                insert_opt(
                    &mut p,
                    "publicIPAddress",
                    s(ipc, "public_ip_address_id").map(|id| json!({ "id": id })),
                );
                json!({ "name": s(ipc, "name").unwrap_or("vnetGatewayConfig"), "properties": p })
            })
            .collect();
        let sku = s(planned, "sku").unwrap_or_default();
        let mut properties = Map::new();
        properties.insert(
            "gatewayType".into(),
            json!(s(planned, "type").unwrap_or_default()),
        );
        properties.insert(
            "vpnType".into(),
            json!(s(planned, "vpn_type").unwrap_or("RouteBased")),
        );
        properties.insert("sku".into(), json!({ "name": sku, "tier": sku }));
        properties.insert(
            "activeActive".into(),
            json!(b(planned, "active_active").unwrap_or(false)),
        );
        properties.insert(
            "enableBgp".into(),
            json!(b(planned, "bgp_enabled").unwrap_or(false)),
        );
        properties.insert(
            "enablePrivateIpAddress".into(),
            json!(b(planned, "private_ip_address_enabled").unwrap_or(false)),
        );
        if is_vpn {
            insert_opt(
                &mut properties,
                "vpnGatewayGeneration",
                s(planned, "generation").map(Json::from),
            );
        }
        properties.insert("ipConfigurations".into(), Json::Array(ip_configurations));
        if let Some(bgp) = blocks(planned, "bgp_settings").first() {
            let mut m = Map::new();
            insert_opt(&mut m, "asn", n(bgp, "asn").map(Json::from));
            insert_opt(&mut m, "peerWeight", n(bgp, "peer_weight").map(Json::from));
            let addresses: Vec<Json> = blocks(bgp, "peering_addresses")
                .iter()
                .map(|pa| {
                    let ipc = s(pa, "ip_configuration_name").unwrap_or("vnetGatewayConfig");
                    json!({
                        "ipconfigurationId": format!("{gateway_id}/ipConfigurations/{ipc}"),
                        "customBgpIpAddresses": strs(pa, "apipa_addresses").unwrap_or_default(),
                    })
                })
                .collect();
            if !addresses.is_empty() {
                m.insert("bgpPeeringAddresses".into(), Json::Array(addresses));
            }
            properties.insert("bgpSettings".into(), Json::Object(m));
        }
        if let Some(p2s) = blocks(planned, "vpn_client_configuration").first() {
            properties.insert("vpnClientConfiguration".into(), vpn_client_body(p2s));
        }
        json!({
            "location": s(planned, "location").unwrap_or_default(),
            "tags": tags_json(planned),
            "properties": properties,
        })
    }
    fn to_state(&self, resp: &Json, keep: &Json) -> Json {
        let mut m = tracked_state(resp, keep);
        m.insert("type".into(), jstr(props(resp, "gatewayType")));
        m.insert("vpn_type".into(), jstr(props(resp, "vpnType")));
        m.insert(
            "sku".into(),
            jstr(jget(resp, &["properties", "sku", "name"])),
        );
        let generation = jstr(props(resp, "vpnGatewayGeneration"));
        m.insert(
            "generation".into(),
            if generation.is_null() {
                keep.get("generation").cloned().unwrap_or(json!("None"))
            } else {
                generation
            },
        );
        m.insert(
            "active_active".into(),
            json!(props(resp, "activeActive").as_bool().unwrap_or(false)),
        );
        m.insert(
            "bgp_enabled".into(),
            json!(props(resp, "enableBgp").as_bool().unwrap_or(false)),
        );
        m.insert(
            "private_ip_address_enabled".into(),
            json!(
                props(resp, "enablePrivateIpAddress")
                    .as_bool()
                    .unwrap_or(false)
            ),
        );
        if m.get("vpn_type").is_some_and(Json::is_null) {
            m.insert(
                "vpn_type".into(),
                keep.get("vpn_type").cloned().unwrap_or(json!("RouteBased")),
            );
        }
        let ipcs: Vec<Json> = props(resp, "ipConfigurations")
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|ipc| {
                        json!({
                            "name": jstr(jget(ipc, &["name"])),
                            "private_ip_address_allocation": jstr(jget(ipc, &["properties", "privateIPAllocationMethod"])),
                            "subnet_id": jstr(jget(ipc, &["properties", "subnet", "id"])),
                            "public_ip_address_id": jstr(jget(ipc, &["properties", "publicIPAddress", "id"])),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut ipcs = ipcs;
        // Azure manages the public IP of ExpressRoute gateways: report one only when the
        // configuration sets it, or the whole (force-new) block would always differ.
        let is_er = props(resp, "gatewayType")
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute"));
        if is_er {
            for (i, ipc) in ipcs.iter_mut().enumerate() {
                let kept = jget(keep, &["ip_configuration"])
                    .get(i)
                    .and_then(|k| k.get("public_ip_address_id"));
                if kept.is_none_or(Json::is_null) {
                    ipc["public_ip_address_id"] = Json::Null;
                }
            }
        }
        m.insert("ip_configuration".into(), Json::Array(ipcs));
        // bgp_settings only when the configuration manages it: Azure always returns one.
        let kept_bgp = jget(keep, &["bgp_settings"]).get(0);
        let bgp = props(resp, "bgpSettings");
        let block = match kept_bgp {
            Some(kept) if bgp.is_object() => {
                let manages_addresses = kept
                    .get("peering_addresses")
                    .and_then(Json::as_array)
                    .is_some_and(|a| !a.is_empty());
                let addresses: Vec<Json> = if manages_addresses {
                    jget(bgp, &["bgpPeeringAddresses"])
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|pa| {
                                    let name = pa
                                        .get("ipconfigurationId")
                                        .and_then(Json::as_str)
                                        .and_then(|id| id.rsplit('/').next())
                                        .map(|s| Json::String(s.to_string()))
                                        .unwrap_or(Json::Null);
                                    json!({
                                        "ip_configuration_name": name,
                                        "apipa_addresses": jstrs(jget(pa, &["customBgpIpAddresses"])),
                                        "default_addresses": jstrs(jget(pa, &["defaultBgpIpAddresses"])),
                                        "tunnel_ip_addresses": jstrs(jget(pa, &["tunnelIpAddresses"])),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                json!([{ "asn": bgp.get("asn").cloned().unwrap_or(Json::Null),
                         "peer_weight": bgp.get("peerWeight").cloned().unwrap_or(Json::Null),
                         "peering_addresses": addresses }])
            }
            _ => json!([]),
        };
        m.insert("bgp_settings".into(), block);
        let p2s = props(resp, "vpnClientConfiguration");
        let has_p2s = p2s.is_object()
            && !jget(p2s, &["vpnClientAddressPool", "addressPrefixes"])
                .as_array()
                .is_none_or(Vec::is_empty);
        m.insert(
            "vpn_client_configuration".into(),
            if has_p2s {
                vpn_client_state(p2s)
            } else {
                json!([])
            },
        );
        Json::Object(m)
    }
}

fn vnet_of_subnet(subnet_id: &str) -> Option<String> {
    parent_id(subnet_id).map(|v| v.to_ascii_lowercase())
}

/// A gateway must be in its virtual network's region (R8).
pub(crate) fn validate_same_region_as_vnet(
    resources: &[ResourceView<'_>],
) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    // VNet locations by (resource group, name), built once rather than searched per gateway.
    let vnet_location: std::collections::HashMap<(String, String), &str> = resources
        .iter()
        .filter(|v| v.type_name == "azurerm_virtual_network")
        .filter_map(|v| {
            Some((
                (
                    s(v.value, "resource_group_name")?.to_ascii_lowercase(),
                    s(v.value, "name")?.to_ascii_lowercase(),
                ),
                s(v.value, "location")?,
            ))
        })
        .collect();
    for (i, r) in resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.type_name == "azurerm_virtual_network_gateway")
    {
        let Some(subnet) = blocks(r.value, "ip_configuration")
            .first()
            .and_then(|c| c.get("subnet_id").as_str())
        else {
            continue;
        };
        let (Some(rg), Some(vnet)) = (
            super::id_segment(subnet, "resourceGroups"),
            super::id_segment(subnet, "virtualNetworks"),
        ) else {
            continue;
        };
        let Some(gw_loc) = s(r.value, "location") else {
            continue;
        };
        if let Some(&vnet_loc) =
            vnet_location.get(&(rg.to_ascii_lowercase(), vnet.to_ascii_lowercase()))
            && super::norm(vnet_loc) != super::norm(gw_loc)
        {
            out.push((
                i,
                ProviderDiagnostic::error(
                    &["location"],
                    format!(
                        "the gateway is in {gw_loc} but its virtual network {vnet} is in {vnet_loc}"
                    ),
                )
                .code("InvalidResourceReference")
                .hint(
                    "a virtual network gateway must be in the same region as its virtual network",
                ),
            ));
        }
    }
    out
}

/// One gateway per gateway type per VNet (R3), and ExpressRoute/VPN coexistence rules (R5).
pub(crate) fn validate_one_per_type(
    resources: &[ResourceView<'_>],
) -> Vec<(usize, ProviderDiagnostic)> {
    let mut out = Vec::new();
    let mut by_vnet: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (i, r) in resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.type_name == "azurerm_virtual_network_gateway")
    {
        let Some(subnet) = blocks(r.value, "ip_configuration")
            .first()
            .and_then(|c| c.get("subnet_id").as_str())
        else {
            continue;
        };
        let (Some(vnet), Some(t)) = (vnet_of_subnet(subnet), s(r.value, "type")) else {
            continue;
        };
        by_vnet
            .entry(vnet)
            .or_default()
            .push((i, t.to_ascii_lowercase()));
    }
    for gateways in by_vnet.values() {
        for (k, (i, t)) in gateways.iter().enumerate() {
            if gateways[..k].iter().any(|(_, other)| other == t) {
                out.push((
                    *i,
                    ProviderDiagnostic::error(
                        &["type"],
                        "a virtual network can have only one gateway of each type",
                    )
                    .code("VnetAlreadyHasGatewayOfSameType")
                    .hint("one Vpn and one ExpressRoute gateway may share a VNet"),
                ));
            }
        }
        let has_er = gateways.iter().any(|(_, t)| t == "expressroute");
        let has_vpn = gateways.iter().any(|(_, t)| t == "vpn");
        if has_er && has_vpn {
            // Coexistence needs a /27 or larger GatewaySubnet (R2).
            for (gi, _) in gateways {
                let Some(subnet_id) = blocks(resources[*gi].value, "ip_configuration")
                    .first()
                    .and_then(|c| c.get("subnet_id").as_str())
                else {
                    continue;
                };
                let want = (
                    super::id_segment(subnet_id, "resourceGroups").map(str::to_ascii_lowercase),
                    super::id_segment(subnet_id, "virtualNetworks").map(str::to_ascii_lowercase),
                    super::id_segment(subnet_id, "subnets").map(str::to_ascii_lowercase),
                );
                for (si, r) in resources
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.type_name == "azurerm_subnet")
                {
                    let have = (
                        s(r.value, "resource_group_name").map(str::to_ascii_lowercase),
                        s(r.value, "virtual_network_name").map(str::to_ascii_lowercase),
                        s(r.value, "name").map(str::to_ascii_lowercase),
                    );
                    if have != want || out.iter().any(|(i, _)| *i == si) {
                        continue;
                    }
                    let too_small = strs(r.value, "address_prefixes")
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|p| super::Cidr::parse(p))
                        .any(|c| c.bits == 32 && c.len > 27);
                    if too_small {
                        out.push((
                            si,
                            ProviderDiagnostic::error(
                                &["address_prefixes", "0"],
                                "GatewaySubnet must be /27 or larger when ExpressRoute and VPN gateways coexist",
                            )
                            .code("GatewaySubnetTooSmall")
                            .hint("use a /27 GatewaySubnet"),
                        ));
                    }
                }
            }
        }
        if has_er {
            for (i, t) in gateways.iter().filter(|(_, t)| t == "vpn") {
                let _ = t;
                let v = resources[*i].value;
                if s(v, "vpn_type").is_some_and(|x| x.eq_ignore_ascii_case("PolicyBased")) {
                    out.push((
                        *i,
                        ProviderDiagnostic::error(
                            &["vpn_type"],
                            "a VPN gateway beside an ExpressRoute gateway must be RouteBased",
                        )
                        .code("ExpressRouteVpnCoexistenceNotSupported"),
                    ));
                }
                if s(v, "sku").is_some_and(|x| x.eq_ignore_ascii_case("Basic")) {
                    out.push((
                        *i,
                        ProviderDiagnostic::error(
                            &["sku"],
                            "the Basic VPN SKU cannot coexist with an ExpressRoute gateway",
                        )
                        .code("ExpressRouteVpnCoexistenceNotSupported")
                        .hint("use VpnGw1 or larger"),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::obj;

    const SUBNET: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/GatewaySubnet";

    pub(crate) fn er_gateway(sku: &str) -> Value {
        obj(&[
            ("id", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/ergw".into()),
            ("name", "ergw".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
            ("type", "ExpressRoute".into()),
            ("vpn_type", "RouteBased".into()),
            ("sku", sku.into()),
            ("active_active", false.into()),
            ("bgp_enabled", false.into()),
            ("ip_configuration", Value::List(vec![obj(&[("name", "vnetGatewayConfig".into()), ("private_ip_address_allocation", "Dynamic".into()), ("subnet_id", SUBNET.into())])])),
            ("bgp_settings", Value::List(vec![])),
        ])
    }

    #[test]
    fn er_body_matches_azurerm() {
        let body = VirtualNetworkGateway.body(&er_gateway("ErGw1AZ"), None);
        assert_eq!(
            body["properties"]["sku"],
            json!({"name":"ErGw1AZ","tier":"ErGw1AZ"})
        );
        assert_eq!(body["properties"]["gatewayType"], "ExpressRoute");
        assert_eq!(
            body["properties"]["ipConfigurations"],
            json!([{"name":"vnetGatewayConfig","properties":{"privateIPAllocationMethod":"Dynamic","subnet":{"id":SUBNET}}}])
        );
        assert!(body["properties"].get("vpnGatewayGeneration").is_none());
        assert!(body["properties"].get("bgpSettings").is_none());
    }

    #[test]
    fn state_ignores_unmanaged_bgp_settings() {
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/ergw","name":"ergw",
          "location":"westeurope","properties":{"gatewayType":"ExpressRoute","vpnType":"RouteBased","sku":{"name":"ErGw1AZ","tier":"ErGw1AZ","capacity":2},
          "vpnGatewayGeneration":"None","activeActive":false,"enableBgp":false,
          "ipConfigurations":[{"name":"vnetGatewayConfig","id":"x","properties":{"privateIPAllocationMethod":"Dynamic","subnet":{"id":SUBNET}}}],
          "bgpSettings":{"asn":65515,"bgpPeeringAddress":"10.0.255.254","peerWeight":0}}});
        let st = VirtualNetworkGateway.to_state(&resp, &er_gateway("ErGw1AZ").to_json());
        assert_eq!(st["bgp_settings"], json!([]));
        assert_eq!(st["generation"], "None");
        assert_eq!(st["ip_configuration"][0]["subnet_id"], SUBNET);
        assert_eq!(
            st["ip_configuration"][0]["public_ip_address_id"],
            Json::Null
        );
    }

    #[test]
    fn rules() {
        let mut gw = er_gateway("VpnGw1");
        let d = VirtualNetworkGateway.validate(&gw);
        assert!(
            d.iter()
                .any(|d| d.path == vec!["sku"] && d.code.as_deref() == Some("InvalidGatewaySku"))
        );
        if let Value::Object(m) = &mut gw {
            m.insert("sku".into(), "ErGw1AZ".into());
            m.insert(
                "ip_configuration".into(),
                Value::List(vec![obj(&[(
                    "subnet_id",
                    SUBNET.replace("GatewaySubnet", "app").into(),
                )])]),
            );
        }
        let d = VirtualNetworkGateway.validate(&gw);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, vec!["ip_configuration", "0", "subnet_id"]);
        assert_eq!(d[0].code.as_deref(), Some("InvalidGatewaySubnet"));
        // lower-case gatewaySubnet works, as in azurerm's own tests
        if let Value::Object(m) = &mut gw {
            m.insert(
                "ip_configuration".into(),
                Value::List(vec![obj(&[(
                    "subnet_id",
                    SUBNET.replace("GatewaySubnet", "gatewaySubnet").into(),
                )])]),
            );
        }
        assert!(VirtualNetworkGateway.validate(&gw).is_empty());
        let vpn = obj(&[
            ("type", "Vpn".into()),
            ("vpn_type", "PolicyBased".into()),
            ("sku", "VpnGw1".into()),
            (
                "ip_configuration",
                Value::List(vec![obj(&[
                    ("subnet_id", SUBNET.into()),
                    ("public_ip_address_id", "pip".into()),
                ])]),
            ),
        ]);
        let d = VirtualNetworkGateway.validate(&vpn);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].summary.contains("Basic"));
        let gen2 = obj(&[
            ("type", "Vpn".into()),
            ("generation", "Generation2".into()),
            ("sku", "VpnGw1".into()),
            (
                "ip_configuration",
                Value::List(vec![obj(&[
                    ("subnet_id", SUBNET.into()),
                    ("public_ip_address_id", "pip".into()),
                ])]),
            ),
        ]);
        assert_eq!(VirtualNetworkGateway.validate(&gen2).len(), 1);
        let aa = obj(&[
            ("type", "Vpn".into()),
            ("sku", "VpnGw1".into()),
            ("active_active", true.into()),
            (
                "ip_configuration",
                Value::List(vec![
                    obj(&[
                        ("name", "a".into()),
                        ("subnet_id", SUBNET.into()),
                        ("public_ip_address_id", "pip".into()),
                    ]),
                    obj(&[
                        ("name", "a".into()),
                        ("subnet_id", SUBNET.into()),
                        ("public_ip_address_id", "pip".into()),
                    ]),
                ]),
            ),
        ]);
        let d = VirtualNetworkGateway.validate(&aa);
        let paths: Vec<String> = d.iter().map(|d| d.path.join(".")).collect();
        assert_eq!(
            paths,
            vec![
                "ip_configuration.1.name",
                "ip_configuration.1.public_ip_address_id"
            ]
        );
    }

    fn p2s(protocols: Option<&str>) -> Value {
        let mut pairs = vec![
            ("address_space", Value::List(vec!["10.2.0.0/24".into()])),
            (
                "root_certificate",
                Value::List(vec![obj(&[
                    ("name", "root".into()),
                    ("public_cert_data", "MIIB\n".into()),
                ])]),
            ),
            (
                "revoked_certificate",
                Value::List(vec![obj(&[
                    ("name", "old".into()),
                    (
                        "thumbprint",
                        "912198EEF23DCAC40939312FEE97DD560BAE49B1".into(),
                    ),
                ])]),
            ),
        ];
        if let Some(p) = protocols {
            pairs.push(("vpn_client_protocols", Value::List(vec![p.into()])));
        }
        obj(&[
            ("name", "gw".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
            ("type", "Vpn".into()),
            ("sku", "Basic".into()),
            ("vpn_client_configuration", Value::List(vec![obj(&pairs)])),
        ])
    }

    #[test]
    fn point_to_site_body_state_and_rules() {
        let c = p2s(None);
        assert!(
            VirtualNetworkGateway
                .validate(&c)
                .iter()
                .all(|d| d.path.first().map(String::as_str) != Some("vpn_client_configuration"))
        );
        let body = VirtualNetworkGateway.body(&c, None);
        let v = &body["properties"]["vpnClientConfiguration"];
        assert_eq!(
            v["vpnClientAddressPool"]["addressPrefixes"],
            json!(["10.2.0.0/24"])
        );
        assert_eq!(
            v["vpnClientRootCertificates"][0],
            json!({"name":"root","properties":{"publicCertData":"MIIB\n"}})
        );
        assert!(v.get("vpnClientProtocols").is_none());
        let mut resp_v = v.clone();
        resp_v["vpnClientProtocols"] = json!(["SSTP"]);
        let resp = json!({"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw",
            "properties":{"gatewayType":"Vpn","vpnClientConfiguration":resp_v}});
        let st = VirtualNetworkGateway.to_state(&resp, &c.to_json());
        let block = &st["vpn_client_configuration"][0];
        assert_eq!(block["vpn_client_protocols"], json!(["SSTP"]));
        assert_eq!(block["root_certificate"][0]["public_cert_data"], "MIIB\n");
        assert_eq!(
            block["revoked_certificate"][0]["thumbprint"],
            "912198EEF23DCAC40939312FEE97DD560BAE49B1"
        );
        let d = VirtualNetworkGateway.validate(&p2s(Some("IkeV2")));
        assert!(
            d.iter()
                .any(|d| d.code.as_deref() == Some("VpnClientProtocolNotSupportedForGatewaySku"))
        );
    }
}
