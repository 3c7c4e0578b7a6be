"""Where a webhook may point, and the one way a delivery reaches it.

A subscription's URL is chosen by a supervisor, but the POST comes from inside the clinic's
network, next to the database, the broker and a cloud provider's metadata service. So a target must
resolve only to public addresses (or to networks listed in CASELOAD_WEBHOOK_ALLOWED_NETWORKS, for
a receiver inside the clinic), plain http is refused unless CASELOAD_WEBHOOK_ALLOW_HTTP is set, and
redirects are never followed.

The check runs twice: when the URL is saved, so a supervisor hears at once, and again at every
delivery, on the addresses the connection then uses. A name that resolved to a public address when
it was saved and to 127.0.0.1 later (DNS rebinding) is refused at delivery, and the socket connects
to the address that was checked, never to a second lookup of the name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from caseload.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL is not a place a webhook may go; the message says why, without secrets."""


class TargetUnresolved(TargetRefused):
    """The host name does not resolve (now): no address to check or to connect to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    """Scheme, host, port and path of a webhook URL, or TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("The URL is malformed.") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise TargetRefused("Use an https URL.")
    if scheme == "http" and not settings.CASELOAD_WEBHOOK_ALLOW_HTTP:
        raise TargetRefused("Use an https URL; plain http is not allowed here.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Put no credentials in the URL; deliveries are signed instead.")
    if not parts.hostname:
        raise TargetRefused("The URL names no host.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: IPv4-mapped (::ffff:0:0/96),
# IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96) and NAT64's well-known prefix
# (64:ff9b::/96, RFC 6052). A packet to one of these can end at the IPv4 address inside.
_LAST_32_BITS_IPV4 = tuple(
    ipaddress.ip_network(net)
    for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96")
)
# Transition prefixes refused outright: a local-use NAT64 prefix (RFC 8215) may translate to any
# IPv4 address, Teredo (2001::/32) relays to an address it obfuscates, and site-local (fec0::/10)
# is deprecated private space.
_REFUSED_V6 = tuple(
    ipaddress.ip_network(net) for net in ("64:ff9b:1::/48", "2001::/32", "fec0::/10")
)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, translated, compatible, NAT64, 6to4)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.sixtofour is not None:  # 2002:AABB:CCDD::/48 is 6to4 to A.B.C.D
        return address.sixtofour
    if any(address in network for network in _LAST_32_BITS_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def webhook_address_allowed(address: Address) -> bool:
    """May a delivery connect to this address? Listed networks, or public addresses only; an
    IPv6 address that leads to an IPv4 address is judged by that IPv4 address."""
    networks = [
        ipaddress.ip_network(network) for network in settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS
    ]
    if any(address.version == net.version and address in net for net in networks):
        return True
    inner = embedded_ipv4(address)
    if inner is not None:
        if address in ipaddress.ip_network("::/128") or address in ipaddress.ip_network("::1/128"):
            return False
        if any(inner in net for net in networks if net.version == 4):
            return True
        return inner.is_global and not inner.is_multicast
    if any(address in network for network in _REFUSED_V6):
        return False
    return address.is_global and not address.is_multicast


def resolve_target(target: Target) -> list[Address]:
    """Every address the host resolves to, each allowed; TargetRefused otherwise."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetUnresolved(f"The host {target.host!r} does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    refused = [a for a in addresses if not webhook_address_allowed(a)]
    if refused or not addresses:
        raise TargetRefused(
            f"The host {target.host!r} resolves to a private, loopback or reserved address."
        )
    return addresses


def webhook_check_url(url: str) -> None:
    """Refuse, naming `url`, a webhook URL that could reach inside the clinic's network.

    A name that does not resolve now is accepted (the receiver may not be live yet); delivery
    checks again and fails until it resolves to an allowed address.
    """
    try:
        resolve_target(parse_target(url))
    except TargetUnresolved:
        return
    except TargetRefused as exc:
        raise InvalidInput(str(exc), field="url", code="disallowed_target") from exc


class _PinnedConnection(http.client.HTTPSConnection):
    """Connects to an address checked beforehand, with the URL's host for Host and SNI."""

    def __init__(self, target: Target, address: Address, timeout: float):
        self._address = address
        self._secure = target.scheme == "https"
        super().__init__(target.host, target.port, timeout=timeout)

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)
        if self._secure:
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def post_to_target(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST once to an allowed address of the URL's host; the status code, redirects included.

    Raises TargetRefused when the URL is not allowed, OSError (TLS errors included) when the
    connection fails.
    """
    target = parse_target(url)
    address = resolve_target(target)[0]
    connection = _PinnedConnection(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()
