//! The resource types the emulator knows, their path segments, ARM type strings and the
//! simulated durations of their operations (arm-api.md §8.1).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    ResourceGroup,
    VirtualNetwork,
    Subnet,
    PublicIp,
    VirtualNetworkGateway,
    ExpressRouteCircuit,
    Peering,
    Authorization,
    LocalNetworkGateway,
    Connection,
    NetworkSecurityGroup,
}

pub const TOP_LEVEL: [Kind; 7] = [
    Kind::VirtualNetwork,
    Kind::PublicIp,
    Kind::VirtualNetworkGateway,
    Kind::ExpressRouteCircuit,
    Kind::LocalNetworkGateway,
    Kind::Connection,
    Kind::NetworkSecurityGroup,
];

impl Kind {
    /// The URL segment of the collection (canonical casing).
    pub fn segment(self) -> &'static str {
        match self {
            Kind::ResourceGroup => "resourceGroups",
            Kind::VirtualNetwork => "virtualNetworks",
            Kind::Subnet => "subnets",
            Kind::PublicIp => "publicIPAddresses",
            Kind::VirtualNetworkGateway => "virtualNetworkGateways",
            Kind::ExpressRouteCircuit => "expressRouteCircuits",
            Kind::Peering => "peerings",
            Kind::Authorization => "authorizations",
            Kind::LocalNetworkGateway => "localNetworkGateways",
            Kind::Connection => "connections",
            Kind::NetworkSecurityGroup => "networkSecurityGroups",
        }
    }

    pub fn type_str(self) -> &'static str {
        match self {
            Kind::ResourceGroup => "Microsoft.Resources/resourceGroups",
            Kind::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            Kind::Subnet => "Microsoft.Network/virtualNetworks/subnets",
            Kind::PublicIp => "Microsoft.Network/publicIPAddresses",
            Kind::VirtualNetworkGateway => "Microsoft.Network/virtualNetworkGateways",
            Kind::ExpressRouteCircuit => "Microsoft.Network/expressRouteCircuits",
            Kind::Peering => "Microsoft.Network/expressRouteCircuits/peerings",
            Kind::Authorization => "Microsoft.Network/expressRouteCircuits/authorizations",
            Kind::LocalNetworkGateway => "Microsoft.Network/localNetworkGateways",
            Kind::Connection => "Microsoft.Network/connections",
            Kind::NetworkSecurityGroup => "Microsoft.Network/networkSecurityGroups",
        }
    }

    pub fn top_from_segment(seg: &str) -> Option<Kind> {
        TOP_LEVEL
            .iter()
            .copied()
            .find(|k| k.segment().eq_ignore_ascii_case(seg))
    }

    pub fn child_from_segment(parent: Kind, seg: &str) -> Option<Kind> {
        let candidates: &[Kind] = match parent {
            Kind::VirtualNetwork => &[Kind::Subnet],
            Kind::ExpressRouteCircuit => &[Kind::Peering, Kind::Authorization],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|k| k.segment().eq_ignore_ascii_case(seg))
    }

    pub fn parent(self) -> Option<Kind> {
        match self {
            Kind::Subnet => Some(Kind::VirtualNetwork),
            Kind::Peering | Kind::Authorization => Some(Kind::ExpressRouteCircuit),
            _ => None,
        }
    }

    pub fn is_child(self) -> bool {
        self.parent().is_some()
    }

    /// Real-world duration of a create or update, in milliseconds (before time scaling).
    pub fn put_duration_ms(self) -> u64 {
        match self {
            Kind::ResourceGroup => 0,
            Kind::VirtualNetwork => 10_000,
            Kind::Subnet => 10_000,
            Kind::PublicIp => 10_000,
            Kind::VirtualNetworkGateway => 45 * 60_000,
            Kind::ExpressRouteCircuit => 20_000,
            Kind::Peering => 30_000,
            Kind::Authorization => 20_000,
            Kind::LocalNetworkGateway => 20_000,
            Kind::Connection => 120_000,
            Kind::NetworkSecurityGroup => 10_000,
        }
    }

    /// Real-world duration of a delete, in milliseconds (before time scaling).
    pub fn delete_duration_ms(self) -> u64 {
        match self {
            Kind::ResourceGroup => 45_000,
            Kind::VirtualNetwork => 10_000,
            Kind::Subnet => 10_000,
            Kind::PublicIp => 10_000,
            Kind::VirtualNetworkGateway => 20 * 60_000,
            Kind::ExpressRouteCircuit => 10_000,
            Kind::Peering => 20_000,
            Kind::Authorization => 10_000,
            Kind::LocalNetworkGateway => 10_000,
            Kind::Connection => 60_000,
            Kind::NetworkSecurityGroup => 10_000,
        }
    }
}
