"""The SSRF guard for webhook targets: only http(s) URLs whose every address is public.

A webhook must not be aimed at the server's own network: loopback, link-local (cloud metadata
at 169.254.169.254), private, shared (100.64/10), unspecified, multicast and reserved addresses
are refused, including IPv4 addresses embedded in IPv6 ones (IPv4-mapped, 6to4, Teredo,
NAT64), and host names are resolved so that one resolving to such an address is refused too.
"""

import ipaddress
import socket
from typing import Final
from urllib.parse import urlsplit

from resentry_core._errors import InvalidInputError

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or ``None`` when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and (reason := _refusal(embedded)):
            return f"{reason} (embedded in {address})"
    checks = (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved or shared", not address.is_global),
    )
    return next((f"{name} address" for name, hit in checks if hit), None)


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` if a webhook may be sent to it, else raise.

    It must be an absolute ``http`` or ``https`` URL with a host; unless ``allow_private``,
    the host (an address, or a name resolved here) must have only public addresses. This
    resolves names, so it blocks: call it through ``anyio.to_thread.run_sync`` in async code.

    Raises:
        InvalidInputError: the URL is malformed, not http(s), or aims at a refused address;
            the message says which.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"webhook URL is malformed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInputError("webhook URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise InvalidInputError("webhook URL has no host")
    if allow_private:
        return url
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        addresses = _resolve(host, port or (443 if parts.scheme == "https" else 80))
    for address in sorted(addresses, key=str):
        if reason := _refusal(address):
            shown = host if str(address) == host else f"{host} ({address})"
            raise InvalidInputError(
                f"webhook host {shown} is {reason}; webhooks may only be sent to public "
                "addresses (an administrator can allow private ones in the settings)"
            )
    return url


def _resolve(host: str, port: int) -> set[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidInputError(f"webhook host {host} cannot be resolved: {exc}") from None
    # An IPv6 scope ("fe80::1%eth0") is not part of the address.
    return {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
