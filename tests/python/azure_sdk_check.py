"""Microsoft's own Python SDK against the netform emulator, unmodified apart from the endpoint.

Run by tests/python_sdk.rs:  python azure_sdk_check.py EMULATOR_URL SUBSCRIPTION OTHER_SUBSCRIPTION
with REQUESTS_CA_BUNDLE pointing at the emulator's generated CA and AZURE_CLIENT_ID /
AZURE_CLIENT_SECRET / AZURE_TENANT_ID set. The credential is azure-identity's
ClientSecretCredential (MSAL underneath) with the emulator as its authority; the clients are
azure-mgmt-resource and azure-mgmt-network with their own pipelines and LRO pollers.
"""

import os
import sys

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    AddressSpace,
    ExpressRouteCircuit,
    ExpressRouteCircuitPeering,
    ExpressRouteCircuitServiceProviderProperties,
    ExpressRouteCircuitSku,
    Subnet,
    VirtualNetwork,
)
from azure.mgmt.resource.resources import ResourceManagementClient


def step(msg):
    print(f"ok: {msg}", flush=True)


def main():
    base, sub, other_sub = sys.argv[1], sys.argv[2], sys.argv[3]
    scopes = ["https://management.azure.com/.default"]
    cred = ClientSecretCredential(
        tenant_id=os.environ["AZURE_TENANT_ID"],
        client_id=os.environ["AZURE_CLIENT_ID"],
        client_secret=os.environ["AZURE_CLIENT_SECRET"],
        authority=base,
        # MSAL would otherwise ask login.microsoftonline.com whether this authority is known.
        disable_instance_discovery=True,
    )
    token = cred.get_token(*scopes)
    assert token.token, "empty token"
    step("ClientSecretCredential got a token from the emulator's token endpoint")

    rc = ResourceManagementClient(cred, sub, base_url=base, credential_scopes=scopes)
    nc = NetworkManagementClient(cred, sub, base_url=base, credential_scopes=scopes)

    rg = rc.resource_groups.create_or_update("sdk-rg", {"location": "West Europe"})
    assert rg.location == "westeurope", rg.location
    step(f"resource group {rg.id}")

    vnet = nc.virtual_networks.begin_create_or_update(
        "sdk-rg",
        "sdk-vnet",
        VirtualNetwork(
            location="westeurope",
            address_space=AddressSpace(address_prefixes=["10.10.0.0/16"]),
            subnets=[Subnet(name="apps", address_prefix="10.10.1.0/24")],
        ),
    ).result()
    assert vnet.provisioning_state == "Succeeded", vnet.provisioning_state
    assert [s.name for s in vnet.subnets] == ["apps"], vnet.subnets
    step(f"virtual network {vnet.id} with subnet apps")

    subnet = nc.subnets.begin_create_or_update(
        "sdk-rg", "sdk-vnet", "GatewaySubnet", Subnet(address_prefix="10.10.255.0/27")
    ).result()
    assert subnet.provisioning_state == "Succeeded"
    step(f"subnet {subnet.id}")

    circuit = nc.express_route_circuits.begin_create_or_update(
        "sdk-rg",
        "sdk-circuit",
        ExpressRouteCircuit(
            location="westeurope",
            sku=ExpressRouteCircuitSku(
                name="Standard_MeteredData", tier="Standard", family="MeteredData"
            ),
            service_provider_properties=ExpressRouteCircuitServiceProviderProperties(
                service_provider_name="Equinix",
                peering_location="Amsterdam",
                bandwidth_in_mbps=50,
            ),
        ),
    ).result()
    assert circuit.provisioning_state == "Succeeded", circuit.provisioning_state
    assert circuit.service_key, "no service key"
    assert circuit.service_provider_provisioning_state == "NotProvisioned"
    step(f"ExpressRoute circuit {circuit.id} service key {circuit.service_key}")

    peering = nc.express_route_circuit_peerings.begin_create_or_update(
        "sdk-rg",
        "sdk-circuit",
        "AzurePrivatePeering",
        ExpressRouteCircuitPeering(
            peering_type="AzurePrivatePeering",
            peer_asn=65010,
            primary_peer_address_prefix="192.168.10.0/30",
            secondary_peer_address_prefix="192.168.10.4/30",
            vlan_id=210,
        ),
    ).result()
    assert peering.provisioning_state == "Succeeded"
    assert peering.vlan_id == 210 and peering.peer_asn == 65010
    step(f"private peering {peering.id}")

    # A domain rule answered as Azure does: a /29 peer prefix is refused (R14).
    try:
        nc.express_route_circuit_peerings.begin_create_or_update(
            "sdk-rg",
            "sdk-circuit",
            "AzurePrivatePeering",
            ExpressRouteCircuitPeering(
                peering_type="AzurePrivatePeering",
                peer_asn=65010,
                primary_peer_address_prefix="192.168.10.0/29",
                secondary_peer_address_prefix="192.168.10.8/30",
                vlan_id=210,
            ),
        ).result()
        raise AssertionError("a /29 peer prefix was accepted")
    except HttpResponseError as e:
        assert e.status_code == 400, e
        assert e.error.code == "InvalidPeerAddressPrefix", e.error.code
        step(f"rule R14 surfaced by the SDK as {e.error.code}")

    # Read everything back.
    got = nc.express_route_circuits.get("sdk-rg", "sdk-circuit")
    assert [p.name for p in got.peerings] == ["AzurePrivatePeering"], got.peerings
    assert nc.express_route_circuit_peerings.get(
        "sdk-rg", "sdk-circuit", "AzurePrivatePeering"
    ).primary_peer_address_prefix == "192.168.10.0/30"
    names = sorted(s.name for s in nc.subnets.list("sdk-rg", "sdk-vnet"))
    assert names == ["GatewaySubnet", "apps"], names
    vnets = [v.name for v in nc.virtual_networks.list("sdk-rg")]
    assert vnets == ["sdk-vnet"], vnets
    circuits = [c.name for c in nc.express_route_circuits.list_all()]
    assert circuits == ["sdk-circuit"], circuits
    assert rc.resource_groups.get("sdk-rg").name == "sdk-rg"
    step("read back: circuit with its peering, subnets, lists at RG and subscription scope")

    # A subscription the client's token does not cover: 403 AuthorizationFailed.
    other = ResourceManagementClient(cred, other_sub, base_url=base, credential_scopes=scopes)
    try:
        other.resource_groups.create_or_update("sdk-rg", {"location": "westeurope"})
        raise AssertionError("a subscription outside the token's coverage was accepted")
    except HttpResponseError as e:
        assert e.status_code == 403, e
        assert e.error.code == "AuthorizationFailed", e.error.code
        step(f"other subscription: HTTP 403 {e.error.code}")

    # Delete, through the SDK's pollers (Location / Azure-AsyncOperation).
    nc.express_route_circuit_peerings.begin_delete(
        "sdk-rg", "sdk-circuit", "AzurePrivatePeering"
    ).result()
    nc.express_route_circuits.begin_delete("sdk-rg", "sdk-circuit").result()
    try:
        nc.express_route_circuits.get("sdk-rg", "sdk-circuit")
        raise AssertionError("the circuit is still there")
    except ResourceNotFoundError as e:
        assert e.status_code == 404
    nc.subnets.begin_delete("sdk-rg", "sdk-vnet", "GatewaySubnet").result()
    nc.virtual_networks.begin_delete("sdk-rg", "sdk-vnet").result()
    step("deleted peering, circuit, subnet and virtual network")
    rc.resource_groups.begin_delete("sdk-rg").result()
    assert not rc.resource_groups.check_existence("sdk-rg")
    step("deleted the resource group")
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
