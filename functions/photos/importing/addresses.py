"""Which IP addresses the import engine may connect to.

Only globally routable unicast addresses. Refused, whatever DNS says:
private (RFC 1918, ULA), loopback, link-local, multicast, reserved,
unspecified, CGNAT (100.64.0.0/10), benchmarking, documentation, IPv4-mapped
and IPv4-compatible IPv6, NAT64, 6to4 and Teredo (they embed an IPv4 address
we would otherwise have to re-check), and the cloud metadata endpoints.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata / platform endpoints: refused even when loopback is allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.170.23",  # EKS pod identity agent
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # EKS pod identity agent over IPv6
        "168.63.129.16",  # Azure wire server (globally routable on paper)
        "100.100.100.200",  # Alibaba Cloud metadata
    )
)

_REFUSED_NETWORKS = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("198.18.0.0/15", "benchmarking"),
        ("::ffff:0:0/96", "IPv4-mapped IPv6"),
        ("::/96", "IPv4-compatible IPv6"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo"),
        ("2002::/16", "6to4"),
        ("fc00::/7", "unique local"),
        ("fec0::/10", "site-local"),
    )
)

_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def parse_address(text: str) -> IPAddress:
    """Parse an address as getaddrinfo returns it (an IPv6 zone id is dropped)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def refusal_reason(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why we must not connect to ``address``, or None when it is fine."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if allow_loopback and any(
        address in net for net in _LOOPBACK if net.version == address.version
    ):
        return None
    for network, reason in _REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not globally routable"
    return None
