//! Connectivity impact: which paths between on-premises and Azure a plan takes down.
//!
//! A path is what carries traffic between the on-premises network and a virtual network:
//!
//! ```text
//! VNet ← GatewaySubnet ← virtual network gateway ← connection → circuit (ExpressRoute, with its private peering)
//!                                                             → local network gateway (IPsec VPN)
//! ```
//!
//! Paths are derived from the prior values in the plan (what carries traffic now), by the
//! azurerm attribute names that link the objects (`virtual_network_gateway_id`,
//! `ip_configuration.subnet_id`, `express_route_circuit_id`, `local_network_gateway_id`).
//! A change interrupts a path when it destroys or replaces one of the path's objects, or
//! decreases a circuit's bandwidth. Pure: a function of the plan.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::ResourceAddress;
use crate::plan::{Action, Plan, PlannedChange};
use crate::value::Value;

/// The kind of a path between on-premises and Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathKind {
    ExpressRoute,
    Vpn,
}

impl PathKind {
    pub fn label(self) -> &'static str {
        match self {
            PathKind::ExpressRoute => "ExpressRoute",
            PathKind::Vpn => "VPN",
        }
    }
}

/// One path that exists before the apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConnectivityPath {
    pub kind: PathKind,
    /// Name of the virtual network on the Azure side.
    pub vnet: String,
    /// Name of the circuit (ExpressRoute) or local network gateway (VPN) on the on-premises side.
    pub via: String,
    /// The connection resource that joins the two sides.
    pub connection: ResourceAddress,
    /// Every resource the path is made of.
    pub members: Vec<ResourceAddress>,
}

impl ConnectivityPath {
    /// `ExpressRoute on-premises <-> VNet "hub-vnet" via circuit "hub-erc"`.
    pub fn describe(&self) -> String {
        let via = match self.kind {
            PathKind::ExpressRoute => format!("circuit \"{}\"", self.via),
            PathKind::Vpn => format!("local network gateway \"{}\"", self.via),
        };
        format!(
            "{} on-premises <-> VNet \"{}\" via {via}",
            self.kind.label(),
            self.vnet
        )
    }
}

/// What happens to the other paths into the same VNet while a path is down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failover {
    /// Another path into the VNet stays up during the apply.
    StaysUp(Vec<ConnectivityPath>),
    /// Other paths exist, but this plan takes them down too.
    AlsoDown(Vec<ConnectivityPath>),
    /// No other path into the VNet exists.
    None,
}

/// A path this plan interrupts, with the changes that interrupt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathOutage {
    pub path: ConnectivityPath,
    /// (resource, what happens to it) for each interrupting change on the path.
    pub causes: Vec<(ResourceAddress, String)>,
    pub failover: Failover,
}

impl PathOutage {
    /// One line, e.g. for the plan's summary.
    pub fn describe(&self) -> String {
        let causes: Vec<String> = self
            .causes
            .iter()
            .map(|(a, what)| format!("{a} {what}"))
            .collect();
        format!(
            "{} goes down ({}); {}",
            self.path.describe(),
            causes.join(", "),
            self.failover_text()
        )
    }

    pub fn failover_text(&self) -> String {
        match &self.failover {
            Failover::StaysUp(paths) => format!(
                "failover stays up: {}",
                paths
                    .iter()
                    .map(ConnectivityPath::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Failover::AlsoDown(paths) => format!(
                "no failover: {} goes down too",
                paths
                    .iter()
                    .map(|p| format!("{} ({})", p.kind.label(), p.connection))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Failover::None => format!(
                "no failover: VNet \"{}\" has no other path to on-premises",
                self.path.vnet
            ),
        }
    }
}

/// The connectivity impact of a whole plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// Sorted by path.
    pub outages: Vec<PathOutage>,
}

impl Impact {
    pub fn is_empty(&self) -> bool {
        self.outages.is_empty()
    }

    /// The outages a given change causes (or shares in).
    pub fn caused_by<'a>(
        &'a self,
        addr: &'a ResourceAddress,
    ) -> impl Iterator<Item = &'a PathOutage> + 'a {
        self.outages
            .iter()
            .filter(move |o| o.causes.iter().any(|(a, _)| a == addr))
    }

    /// Addresses of every change that interrupts a path.
    pub fn disruptive_changes(&self) -> BTreeSet<&ResourceAddress> {
        self.outages
            .iter()
            .flat_map(|o| o.causes.iter().map(|(a, _)| a))
            .collect()
    }

    /// What a change does to traffic, for the line beside it in a plan (`None`: nothing).
    pub fn note_for(&self, addr: &ResourceAddress) -> Option<String> {
        let lines: Vec<String> = self
            .caused_by(addr)
            .map(|o| format!("interrupts {}; {}", o.path.describe(), o.failover_text()))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// Why a change interrupts traffic on the paths it belongs to, if it does.
fn interrupting(c: &PlannedChange) -> Option<String> {
    let kind = match c.addr.type_name.as_str() {
        "azurerm_express_route_circuit" => "circuit",
        "azurerm_express_route_circuit_peering" => "peering",
        "azurerm_virtual_network_gateway" => "gateway",
        "azurerm_virtual_network_gateway_connection" => "connection",
        "azurerm_local_network_gateway" => "local network gateway",
        "azurerm_virtual_network" => "virtual network",
        "azurerm_subnet" => "gateway subnet",
        "azurerm_public_ip" => "gateway public IP",
        _ => return None,
    };
    match c.action {
        Action::Delete => Some(format!("is destroyed (the {kind} goes away)")),
        Action::DeleteThenCreate => {
            let why = c
                .replace
                .iter()
                .map(|r| r.path.join("."))
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>();
            if why.is_empty() {
                Some(format!(
                    "is replaced (the {kind} is destroyed, then rebuilt)"
                ))
            } else {
                Some(format!(
                    "is replaced because of {} (the {kind} is destroyed, then rebuilt)",
                    why.join(", ")
                ))
            }
        }
        Action::CreateThenDelete => Some(format!(
            "is replaced (a new {kind} is created, then the old one destroyed; traffic moves over)"
        )),
        Action::Update if c.addr.type_name == "azurerm_express_route_circuit" => {
            let before = c.before.as_ref().map(Value::from_json).unwrap_or_default();
            let after = c.after.clone().unwrap_or_default();
            match (
                before.get("bandwidth_in_mbps").as_f64(),
                after.get("bandwidth_in_mbps").as_f64(),
            ) {
                (Some(old), Some(new)) if new < old => Some(format!(
                    "decreases its bandwidth from {} to {} Mbps",
                    crate::value::format_number(old),
                    crate::value::format_number(new)
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

fn lower(v: &Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Compute the connectivity impact of `plan`.
pub fn analyze(plan: &Plan) -> Impact {
    // Prior objects by type, with their cloud id.
    struct Obj<'a> {
        change: &'a PlannedChange,
        value: Value,
    }
    let mut by_id: BTreeMap<String, Obj<'_>> = BTreeMap::new();
    let mut connections = Vec::new();
    for c in &plan.changes {
        let Some(before) = &c.before else { continue };
        let value = Value::from_json(before);
        if c.addr.type_name == "azurerm_virtual_network_gateway_connection" {
            connections.push(Obj {
                change: c,
                value: value.clone(),
            });
        }
        if let Some(id) = lower(value.get("id")) {
            by_id.insert(id, Obj { change: c, value });
        }
    }
    let name_of = |o: &Obj<'_>| {
        o.value
            .get("name")
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| o.change.addr.name.clone())
    };

    // Every complete path that exists now, keyed by VNet id.
    let mut paths: Vec<(String, ConnectivityPath)> = Vec::new();
    for conn in &connections {
        let Some(gw) =
            lower(conn.value.get("virtual_network_gateway_id")).and_then(|id| by_id.get(&id))
        else {
            continue;
        };
        let mut members = vec![conn.change.addr.clone(), gw.change.addr.clone()];
        // Gateway → GatewaySubnet → VNet (and its public IPs).
        let mut vnet = None;
        for ipc in gw.value.get("ip_configuration").as_list().unwrap_or(&[]) {
            if let Some(subnet_id) = lower(ipc.get("subnet_id")) {
                if let Some(subnet) = by_id.get(&subnet_id) {
                    members.push(subnet.change.addr.clone());
                }
                if let Some((vnet_id, _)) = subnet_id.split_once("/subnets/") {
                    vnet = Some(vnet_id.to_string());
                }
            }
            if let Some(pip) = lower(ipc.get("public_ip_address_id")).and_then(|id| by_id.get(&id))
            {
                members.push(pip.change.addr.clone());
            }
        }
        let Some(vnet_id) = vnet else { continue };
        let vnet_name = match by_id.get(&vnet_id) {
            Some(v) => {
                members.push(v.change.addr.clone());
                name_of(v)
            }
            None => vnet_id.rsplit('/').next().unwrap_or_default().to_string(),
        };
        let (kind, via) =
            if let Some(circuit_id) = lower(conn.value.get("express_route_circuit_id")) {
                let Some(circuit) = by_id.get(&circuit_id) else {
                    continue;
                };
                members.push(circuit.change.addr.clone());
                // The circuit's private peering carries the routes.
                let prefix = format!("{circuit_id}/peerings/");
                for (id, o) in &by_id {
                    if id.starts_with(&prefix)
                        && o.value
                            .get("peering_type")
                            .as_str()
                            .is_some_and(|t| t.eq_ignore_ascii_case("AzurePrivatePeering"))
                    {
                        members.push(o.change.addr.clone());
                    }
                }
                (PathKind::ExpressRoute, name_of(circuit))
            } else if let Some(lng_id) = lower(conn.value.get("local_network_gateway_id")) {
                let Some(lng) = by_id.get(&lng_id) else {
                    continue;
                };
                members.push(lng.change.addr.clone());
                (PathKind::Vpn, name_of(lng))
            } else {
                continue;
            };
        members.sort();
        members.dedup();
        paths.push((
            vnet_id,
            ConnectivityPath {
                kind,
                vnet: vnet_name,
                via,
                connection: conn.change.addr.clone(),
                members,
            },
        ));
    }
    paths.sort_by(|a, b| a.1.cmp(&b.1));

    let changes: BTreeMap<&ResourceAddress, &PlannedChange> =
        plan.changes.iter().map(|c| (&c.addr, c)).collect();
    let causes_of = |p: &ConnectivityPath| -> Vec<(ResourceAddress, String)> {
        p.members
            .iter()
            .filter_map(|a| changes.get(a))
            .filter(|c| c.deferred.is_none())
            .filter_map(|c| interrupting(c).map(|why| (c.addr.clone(), why)))
            .collect()
    };
    let mut outages = Vec::new();
    for (vnet_id, path) in &paths {
        let causes = causes_of(path);
        if causes.is_empty() {
            continue;
        }
        let others: Vec<&ConnectivityPath> = paths
            .iter()
            .filter(|(v, p)| v == vnet_id && p != path)
            .map(|(_, p)| p)
            .collect();
        let (up, down): (Vec<&ConnectivityPath>, Vec<&ConnectivityPath>) =
            others.into_iter().partition(|p| causes_of(p).is_empty());
        let failover = if !up.is_empty() {
            Failover::StaysUp(up.into_iter().cloned().collect())
        } else if !down.is_empty() {
            Failover::AlsoDown(down.into_iter().cloned().collect())
        } else {
            Failover::None
        };
        outages.push(PathOutage {
            path: path.clone(),
            causes,
            failover,
        });
    }
    Impact { outages }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ReplaceCause;
    use serde_json::json;

    const RG: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network";

    fn change(addr: &str, action: Action, before: serde_json::Value) -> PlannedChange {
        let after = (action != Action::Delete).then(|| Value::from_json(&before));
        PlannedChange {
            addr: ResourceAddress::parse(addr).expect("addr"),
            action,
            before: Some(before),
            after,
            replace: Vec::new(),
            dependencies: Vec::new(),
            deferred: None,
            reason: None,
        }
    }

    fn estate(circuit: Action, vpn_conn: Action) -> Plan {
        let mut changes = vec![
            change(
                "azurerm_virtual_network.hub",
                Action::NoOp,
                json!({"id": format!("{RG}/virtualNetworks/hub-vnet"), "name": "hub-vnet"}),
            ),
            change(
                "azurerm_subnet.gateway",
                Action::NoOp,
                json!({"id": format!("{RG}/virtualNetworks/hub-vnet/subnets/GatewaySubnet"), "name": "GatewaySubnet"}),
            ),
            change(
                "azurerm_virtual_network_gateway.er",
                Action::NoOp,
                json!({"id": format!("{RG}/virtualNetworkGateways/er"), "name": "er", "type": "ExpressRoute",
                       "ip_configuration": [{"subnet_id": format!("{RG}/virtualNetworks/hub-vnet/subnets/GatewaySubnet")}]}),
            ),
            change(
                "azurerm_virtual_network_gateway.vpn",
                Action::NoOp,
                json!({"id": format!("{RG}/virtualNetworkGateways/vpn"), "name": "vpn", "type": "Vpn",
                       "ip_configuration": [{"subnet_id": format!("{RG}/virtualNetworks/HUB-vnet/subnets/GatewaySubnet")}]}),
            ),
            change(
                "azurerm_express_route_circuit.er",
                circuit,
                json!({"id": format!("{RG}/expressRouteCircuits/hub-erc"), "name": "hub-erc", "bandwidth_in_mbps": 100}),
            ),
            change(
                "azurerm_express_route_circuit_peering.private",
                Action::NoOp,
                json!({"id": format!("{RG}/expressRouteCircuits/hub-erc/peerings/AzurePrivatePeering"), "peering_type": "AzurePrivatePeering"}),
            ),
            change(
                "azurerm_local_network_gateway.onprem",
                Action::NoOp,
                json!({"id": format!("{RG}/localNetworkGateways/onprem"), "name": "onprem"}),
            ),
            change(
                "azurerm_virtual_network_gateway_connection.er",
                Action::NoOp,
                json!({"id": format!("{RG}/connections/er"), "name": "er", "type": "ExpressRoute",
                       "virtual_network_gateway_id": format!("{RG}/virtualNetworkGateways/er"),
                       "express_route_circuit_id": format!("{RG}/expressRouteCircuits/hub-erc")}),
            ),
            change(
                "azurerm_virtual_network_gateway_connection.vpn",
                vpn_conn,
                json!({"id": format!("{RG}/connections/vpn"), "name": "vpn", "type": "IPsec",
                       "virtual_network_gateway_id": format!("{RG}/virtualNetworkGateways/vpn"),
                       "local_network_gateway_id": format!("{RG}/localNetworkGateways/onprem")}),
            ),
        ];
        for c in &mut changes {
            if c.action.is_replace() {
                c.replace.push(ReplaceCause {
                    path: vec!["peering_location".into()],
                    reason: "cannot change".into(),
                });
            }
        }
        changes.sort_by(|a, b| a.addr.cmp(&b.addr));
        Plan {
            changes,
            outputs: BTreeMap::new(),
            prior_lineage: None,
            prior_serial: 0,
            destroy: false,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn replacing_the_circuit_takes_down_expressroute_and_vpn_stays_up() {
        let impact = analyze(&estate(Action::DeleteThenCreate, Action::NoOp));
        assert_eq!(impact.outages.len(), 1, "{impact:?}");
        let o = &impact.outages[0];
        assert_eq!(o.path.kind, PathKind::ExpressRoute);
        assert_eq!(o.path.vnet, "hub-vnet");
        assert_eq!(o.path.via, "hub-erc");
        assert!(matches!(&o.failover, Failover::StaysUp(p) if p[0].kind == PathKind::Vpn));
        let addr = ResourceAddress::new("azurerm_express_route_circuit", "er");
        let note = impact.note_for(&addr).expect("note");
        assert!(note.contains("failover stays up: VPN"), "{note}");
        assert!(o.describe().contains("because of peering_location"));
    }

    #[test]
    fn both_paths_down_means_no_failover() {
        let impact = analyze(&estate(Action::Delete, Action::DeleteThenCreate));
        assert_eq!(impact.outages.len(), 2);
        assert!(
            impact
                .outages
                .iter()
                .all(|o| matches!(o.failover, Failover::AlsoDown(_)))
        );
    }

    #[test]
    fn bandwidth_decrease_interrupts_and_no_change_does_not() {
        assert!(analyze(&estate(Action::NoOp, Action::NoOp)).is_empty());
        let mut plan = estate(Action::Update, Action::NoOp);
        for c in &mut plan.changes {
            if c.addr.type_name == "azurerm_express_route_circuit" {
                c.after = Some(Value::from_json(&json!({"bandwidth_in_mbps": 50})));
            }
        }
        let impact = analyze(&plan);
        assert_eq!(impact.outages.len(), 1);
        assert!(impact.outages[0].causes[0].1.contains("from 100 to 50"));
    }
}
