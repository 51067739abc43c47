"""FastAPI dependencies: the core and the settings, taken from the app that serves the request.

``request.app`` is the Resentry app even when it is mounted in a host app (Starlette sets
``scope["app"]`` to the innermost app), so several Resentry apps can live in one process.
"""

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, Request

from resentry_core import Resentry, StorageError
from resentry_server._settings import Settings


async def get_resentry(request: Request) -> Resentry:
    """The core opened by the app's lifespan (or given to ``create_app(core=...)``).

    Raises:
        StorageError: the lifespan has not run, or has ended (503). A host app that mounts
            Resentry must enter its lifespan; see ``examples/mount_in_fastapi.py``.
    """
    resentry: Resentry | None = getattr(request.app.state, "resentry", None)
    if resentry is None:
        raise StorageError(
            "Resentry is not open: run the app's lifespan (a host app must enter "
            "resentry_app.router.lifespan_context(resentry_app) in its own lifespan)"
        )
    return resentry


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return _settings_of(request)


def _settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def public_url(request: Request) -> str:
    """The base URL for DSNs and links, without a trailing slash.

    ``settings.public_url`` when set; otherwise the URL the request reached, up to and
    including the mount prefix (``http://host:8000/errors`` when mounted under ``/errors``).
    """
    configured = _settings_of(request).public_url
    if configured:
        return configured
    root_path: str = request.scope.get("root_path", "")
    return str(request.url.replace(path=root_path, query="", fragment="")).rstrip("/")


async def client_address(request: Request) -> str | None:
    """The caller's address: the ASGI scope's client, or, when that is a trusted proxy
    (``settings.trusted_proxies``), the nearest untrusted address of ``X-Forwarded-For``.

    A forwarded address that is not an IP address is ignored (the proxy's own is kept).
    """
    client = request.scope.get("client")
    if not client:
        return None
    trusted = _settings_of(request).trusted_proxies
    address: str = client[0]
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    while trusted and hops and _within(address, trusted):
        hop = hops.pop()
        if not _is_ip(hop):
            break
        address = hop
    return address


def _within(address: str, networks: list[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


ResentryDep = Annotated[Resentry, Depends(get_resentry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PublicUrlDep = Annotated[str, Depends(public_url)]
ClientAddressDep = Annotated[str | None, Depends(client_address)]
