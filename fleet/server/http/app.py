"""The stand-in's aiohttp application and its lifecycle on a TCP port.

:func:`build_app` puts the platform API (:mod:`.api`), the event stream (:mod:`.stream`) and
the web console (:mod:`.web`) into one :class:`aiohttp.web.Application` with the token check
and the single error translation (:mod:`.errors`); bodies over :data:`MAX_BODY` bytes are
refused (413). :class:`HttpServer` runs it on ``host:port`` (127.0.0.1 unless told otherwise;
port 0 picks a free one) on the running loop, beside the LwM2M server.
"""

from __future__ import annotations

from aiohttp import web

from fleet.server.http import api, stream
from fleet.server.http import web as console
from fleet.server.http.errors import error_middleware
from fleet.server.http.standin import StandIn
from fleet.server.http.switches import NoSwitches, Switches

MAX_BODY = 64 * 1024
"""Largest request body accepted: an outgoing message is a few hundred bytes."""
SHUTDOWN_TIMEOUT = 2.0


def build_app(
    standin: StandIn, *, token: str | None = None, switches: Switches | None = None
) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, api.token_middleware], client_max_size=MAX_BODY
    )
    app[api.STANDIN] = standin
    app[api.TOKEN] = token
    app[console.SWITCHBOARD] = switches if switches is not None else NoSwitches()
    app[stream.SUBSCRIBERS] = set()
    api.add_routes(app)
    app.router.add_get("/fleet/api/events", stream.events)
    console.add_routes(app)
    app.on_shutdown.append(stream.close_streams)
    return app


class HttpServer:
    """The application served on a TCP port; :meth:`start`, then :meth:`stop`."""

    def __init__(self, runner: web.AppRunner, address: tuple[str, int]) -> None:
        self._runner = runner
        self.address = address

    @classmethod
    async def start(
        cls,
        standin: StandIn,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        switches: Switches | None = None,
    ) -> HttpServer:
        """Listen on ``host:port``; ``OSError`` if that address cannot be bound."""
        runner = web.AppRunner(
            build_app(standin, token=token, switches=switches),
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        bound = runner.addresses[0]
        return cls(runner, (str(bound[0]), int(bound[1])))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:8080`` (IPv6 hosts in brackets)."""
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def api_url(self) -> str:
        standin = self._runner.app[api.STANDIN]
        return f"{self.url}{api.PREFIX}/{standin.tenant}"

    async def stop(self) -> None:
        await self._runner.cleanup()
