"""Starting the HTTP face from a command line (``fleet server --http``, ``fleet demo --web``).

:func:`http_options` checks the options (tenant, token); :func:`start_http` starts a
:class:`~.standin.StandIn` over the LwM2M server and serves it (:class:`~.app.HttpServer`),
printing where. aiohttp is imported only here, when the HTTP face is asked for, so the other
commands do not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from fleet.errors import FleetError
from fleet.server import Lwm2mServer

if TYPE_CHECKING:
    from fleet.server.http.app import HttpServer
    from fleet.server.http.standin import StandIn
    from fleet.server.http.switches import Switches

_TENANT = re.compile(r"[A-Za-z0-9._~-]{1,64}")


class HttpBindError(FleetError):
    """The HTTP port could not be bound."""


@dataclass(frozen=True, slots=True)
class HttpOptions:
    port: int
    host: str = "127.0.0.1"
    tenant: str = "default"
    token: str | None = None


def http_options(port: int | None, host: str, tenant: str, token: str | None) -> HttpOptions | None:
    """The checked options (``None`` without a port); ``click.BadParameter`` if wrong."""
    if not _TENANT.fullmatch(tenant):
        raise click.BadParameter("1-64 letters, digits or ._~-", param_hint="--tenant")
    if token is not None and (not token.strip() or any(c.isspace() for c in token)):
        raise click.BadParameter("a token is one word without spaces", param_hint="--token")
    if port is None:
        if token is not None or tenant != "default" or host != "127.0.0.1":
            raise click.UsageError("--http-host, --tenant and --token go with --http PORT")
        return None
    return HttpOptions(port, host, tenant, token)


@dataclass(slots=True)
class WebFace:
    """A running stand-in and its HTTP server."""

    standin: StandIn
    http: HttpServer

    async def stop(self) -> None:
        await self.http.stop()
        await self.standin.close()


async def start_http(
    server: Lwm2mServer,
    options: HttpOptions,
    forward: Callable[[Any], None] | None = None,
    say: Callable[[Any], None] | None = None,
    switches: Switches | None = None,
) -> WebFace:
    """Serve the stand-in for ``server``; say where on stderr. :class:`HttpBindError`."""
    from fleet.server.http.app import HttpServer
    from fleet.server.http.standin import StandIn

    standin = StandIn(server, tenant=options.tenant, forward=forward, say=say)
    try:
        http = await HttpServer.start(
            standin, options.host, options.port, token=options.token, switches=switches
        )
    except OSError as error:
        await standin.close()
        raise HttpBindError(
            f"cannot serve HTTP on {options.host}:{options.port}: {error.strerror or error}"
        ) from None
    click.echo(
        f"fleet server: platform API on {http.api_url}, web console on {http.url}/", err=True
    )
    return WebFace(standin, http)
