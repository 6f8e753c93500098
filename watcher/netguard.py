"""Keeping fetches off private networks: which addresses are private, and a guarded connector.

A feed's author chooses the links watcher follows for full texts; without a guard
``http://127.0.0.1:8080/admin`` or the cloud metadata address would be fetched and
quoted to subscribers. The check is made on the address actually connected to,
after resolution, so a public-looking name that resolves to a private address (or
a redirect to one) is refused as well; checking the name would not stop that.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# What a fetch may reach besides public addresses: every private address (True, the
# operator's setting), none (False), or these exact ones (a source's configured address).
PrivateAllowance = bool | frozenset[str]

# Ranges not covered by the ipaddress predicates used below.
_EXTRA_RANGES = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, RFC 6598
    ipaddress.ip_network("0.0.0.0/8"),  # "this network": Linux connects it to the host itself
)
# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateAddressError(Exception):
    """A connection was refused because the host resolves to a private address."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to a private address ({address})")
        self.host = host
        self.address = address


def is_private_address(address: str | Address) -> bool:
    """True for loopback, private, link-local, CGNAT, multicast, unspecified or reserved."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the IPv4 address itself is what is reached
            return is_private_address(ip.ipv4_mapped)
        embedded = ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and is_private_address(embedded):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or any(ip in network for network in _EXTRA_RANGES if network.version == ip.version)
    )


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0]).split("%")[0]  # drop an IPv6 zone index
        if address not in addresses:
            addresses.append(address)
    return addresses


async def is_private_host(url: str) -> bool:
    """Whether the host of ``url`` resolves to a private address (False if it does not resolve).

    The runtime asks this of a source's own URL: a source served from a private
    address (a local test server, an intranet portal) may fetch its own links.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await resolve(parts.hostname, port)
    except (OSError, ValueError, UnicodeError):
        return False
    return any(is_private_address(address) for address in addresses)


def configured_address(url: str) -> frozenset[str]:
    """The private address a source's URL names literally (``http://10.0.0.5/feed``).

    Reliability: that address, and only it, is what the source may reach. A host
    *name* is never trusted for one of its addresses being private: an extra A
    record or a DNS rebinding would otherwise switch the guard off for the whole
    poll (every link of the feed, every address of every host). An intranet source
    known by name needs ``settings.allow_private_addresses``.
    """
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return frozenset()
    return frozenset({str(address)}) if is_private_address(address) else frozenset()


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses private addresses, then connects to a checked address."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend | None = None,
        *,
        private: Callable[[str], bool] = is_private_address,
    ) -> None:
        self.inner = inner or httpcore.AnyIOBackend()
        self.private = private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        # Every address is checked, not only the first: the resolver's order may change.
        for address in addresses:
            if self.private(address):
                raise PrivateAddressError(host, address)
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                # TLS still verifies the certificate against the name: httpcore passes
                # the origin's host as server_hostname, not the address.
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressError(path, "a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool connecting through ``GuardedBackend``.

    httpx does not take a network backend, so the pool it built is replaced by an
    identical one that has it (tests/test_fetch.py fails if httpx renames it).
    ``private`` says which addresses are refused.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits | None = None,
        private: Callable[[str], bool] = is_private_address,
    ) -> None:
        ssl_context = ssl_context or httpx.create_ssl_context()
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(private=private),
        )
