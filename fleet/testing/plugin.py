"""The pytest plugin (entry point ``pytest11``: ``lwm2m_fleet = "fleet.testing.plugin"``).

Fixtures (see ``docs/testing.md``):

- ``lwm2m_server``: the embedded :class:`~fleet.server.Lwm2mServer` on a free loopback port,
  a fresh one per test (so nothing carries over), stopped at teardown;
- ``lwm2m_device`` / ``lwm2m_device_factory``: registered :class:`VirtualDevice` objects,
  configured by the ``@pytest.mark.lwm2m_device(...)`` marker or the factory's arguments,
  pointed at ``lwm2m_server`` or at ``--lwm2m-server-url`` / ``$LWM2M_SERVER_URL``;
- ``lwm2m_fleet``: a factory of :class:`Fleet` (N devices inline, or a scenario file);
- ``lwm2m_campaign``: ``await lwm2m_campaign(package, ["dev1", ...], push=False)`` runs a
  firmware campaign (:class:`~fleet.server.campaign.Campaign`) on ``lwm2m_server`` and
  returns it, finished (``.outcomes``, ``.report()``); ``uri="coap://..."`` points the
  devices at a file server of the test's own instead of the campaign's;
- ``lwm2m_bootstrap_server``: a Bootstrap-Server beside ``lwm2m_server`` writing its account
  (``DeviceConfig(name, bootstrap=lwm2m_bootstrap_server.uri)`` bootstraps, then registers);
- ``lwm2m_clock``: a :class:`~fleet.clock.ManualClock`; when a test requests it, the server
  and the devices of that test run on it;
- ``lwm2m_loop``, ``lwm2m_server_sync``, ``lwm2m_device_factory_sync``, ``lwm2m_device_sync``:
  the same on a background event loop, for tests that are not async.

At teardown the devices' expectations are verified (unmet ones fail the test with the request
log); a failing test gets each involved device's request log as a report section.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from inspect import signature
from typing import Any, TypeVar, cast

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.uri import UriError, parse_uri
from fleet.clock import Clock, ManualClock
from fleet.runner.extras import missing_extra
from fleet.server import Lwm2mServer
from fleet.server.bootstrap import BootstrapServer
from fleet.server.campaign import Campaign, CampaignOptions
from fleet.testing.exchanges import ExpectationError
from fleet.testing.fleet import Fleet, fleet_configs, scenario_configs
from fleet.testing.sync import BackgroundLoop, SyncDevice, SyncServer
from fleet.testing.virtual import VirtualDevice, device_config

_F = TypeVar("_F", bound=Callable[..., Any])
async_fixture: Callable[[_F], _F]
try:
    import pytest_asyncio

    async_fixture = cast("Callable[[_F], _F]", pytest_asyncio.fixture)
except ImportError:  # pragma: no cover - the async fixtures need pytest-asyncio; the rest not
    async_fixture = cast("Callable[[_F], _F]", pytest.fixture)

ENV_SERVER_URL = "LWM2M_SERVER_URL"
MARKER = "lwm2m_device"
SECTION = "LwM2M exchanges"
MAX_REPORTED_DEVICES = 20

DeviceFactory = Callable[..., Awaitable[VirtualDevice]]
FleetFactory = Callable[..., Awaitable[Fleet]]
CampaignRunner = Callable[..., Awaitable[Campaign]]
SyncDeviceFactory = Callable[..., SyncDevice]

_INVOLVED = pytest.StashKey[list[VirtualDevice]]()
_ATTACHED = pytest.StashKey[bool]()
_CALL_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lwm2m", "LwM2M virtual devices (lwm2m-fleet)")
    group.addoption(
        "--lwm2m-server-url",
        default=None,
        metavar="URL",
        help=f"register test devices with this server (coap://host:port) instead of the "
        f"embedded one; also ${ENV_SERVER_URL}",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(endpoint=None, *, values=None, objects=None, lwm2m='1.1', **config): "
        "configure the lwm2m_device fixture (any DeviceConfig field as keyword)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and report.when == "call":
        item.stash[_CALL_FAILED] = True
    if report.failed and not item.stash.get(_ATTACHED, False):
        devices = item.stash.get(_INVOLVED, [])
        if devices:
            item.stash[_ATTACHED] = True
            for device in devices[:MAX_REPORTED_DEVICES]:
                report.sections.append((f"{SECTION}: {device.endpoint}", device.log_text()))
            if len(devices) > MAX_REPORTED_DEVICES:
                left = len(devices) - MAX_REPORTED_DEVICES
                report.sections.append((SECTION, f"... and {left} more devices"))
    return report


def _involve(request: pytest.FixtureRequest, *devices: VirtualDevice) -> None:
    request.node.stash.setdefault(_INVOLVED, []).extend(devices)


def _fail_unmet(errors: list[str]) -> None:
    if errors:
        pytest.fail("unmet LwM2M expectations:\n" + "\n".join(errors), pytrace=False)


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    options = dict(marker.kwargs)
    if marker.args:
        if len(marker.args) > 1 or "endpoint" in options:
            raise pytest.UsageError(f"@{MARKER}: the only positional argument is the endpoint")
        options["endpoint"] = marker.args[0]
    return options


# -- time and target ----------------------------------------------------------------------


@pytest.fixture
def lwm2m_clock() -> ManualClock:
    """A manual clock; the server and devices of a test that requests it run on it."""
    return ManualClock()


@pytest.fixture
def lwm2m_test_clock(request: pytest.FixtureRequest) -> Clock | None:
    """``lwm2m_clock`` when the test requests it, else ``None`` (the loop's clock)."""
    if "lwm2m_clock" in request.fixturenames:
        clock: ManualClock = request.getfixturevalue("lwm2m_clock")
        return clock
    return None


@pytest.fixture
def lwm2m_server_url(request: pytest.FixtureRequest) -> str | None:
    """The external server given by ``--lwm2m-server-url`` or ``$LWM2M_SERVER_URL``, or None."""
    return _server_url(request)


def _server_url(request: pytest.FixtureRequest) -> str | None:
    """The external server's URL, judged as every command judges a URI."""
    url: str | None = request.config.getoption("--lwm2m-server-url")
    url = url or os.environ.get(ENV_SERVER_URL) or None
    if url is not None:
        try:
            parse_uri(url)
        except UriError as error:
            pytest.fail(f"--lwm2m-server-url / ${ENV_SERVER_URL}: {error}", pytrace=False)
    return url


def _embedded_only(request: pytest.FixtureRequest, name: str) -> None:
    """A test asking for the embedded server by name while devices register elsewhere."""
    url = _server_url(request)
    wanted = request.function is not None and name in signature(request.function).parameters
    if url and wanted:
        pytest.fail(
            f"{name} is the embedded LwM2M server: it is not available with "
            f"--lwm2m-server-url / ${ENV_SERVER_URL} ({url}), where the devices register with "
            "your server; ask for lwm2m_server_url (the URL) or lwm2m_device instead",
            pytrace=False,
        )


def _require_extras(config: DeviceConfig) -> None:
    """Fail the test with one line when its device needs a DTLS extra this machine lacks."""
    missing = missing_extra(config)
    if missing is not None:
        pytest.fail(f"lwm2m-fleet: {missing}", pytrace=False)


# -- async fixtures -----------------------------------------------------------------------


@async_fixture
async def lwm2m_server(
    request: pytest.FixtureRequest, lwm2m_test_clock: Clock | None
) -> AsyncIterator[Lwm2mServer]:
    """The embedded server on a free loopback port (a fresh one for each test); a test
    asking for it with ``--lwm2m-server-url`` fails at once saying why."""
    _embedded_only(request, "lwm2m_server")
    server = await Lwm2mServer.start("127.0.0.1", 0, clock=lwm2m_test_clock)
    try:
        yield server
    finally:
        server.reset()
        await server.stop()


@async_fixture
async def lwm2m_bootstrap_server(lwm2m_server: Lwm2mServer) -> AsyncIterator[BootstrapServer]:
    """A Bootstrap-Server beside ``lwm2m_server`` (``lwm2m_server.bootstrap``) that writes
    that server's account for every endpoint: point a device's ``bootstrap=`` at its
    ``uri``; its steps are ``lwm2m_server``'s events (``bootstrap-request``...)."""
    bootstrap = await lwm2m_server.start_bootstrap()
    try:
        yield bootstrap
    finally:
        await bootstrap.stop()


@async_fixture
async def lwm2m_device_factory(
    request: pytest.FixtureRequest,
    lwm2m_server: Lwm2mServer,
    lwm2m_server_url: str | None,
    lwm2m_test_clock: Clock | None,
) -> AsyncIterator[DeviceFactory]:
    """``await lwm2m_device_factory("dev1", values={...}, objects={...}, lwm2m="1.1")``."""
    created: list[VirtualDevice] = []

    async def make(
        endpoint: str | None = None,
        *,
        server: str | None = None,
        register: bool = True,
        timeout: float = 10.0,
        **options: Any,
    ) -> VirtualDevice:
        target = server or lwm2m_server_url or lwm2m_server.uri
        config = device_config(endpoint, server=target, **options)
        _require_extras(config)
        device = VirtualDevice(config, clock=lwm2m_test_clock)
        created.append(device)
        _involve(request, device)
        await device.start(wait=register, timeout=timeout)
        return device

    yield make
    errors = await _verify_all(request, created)
    for device in created:
        await device.stop()
    _fail_unmet(errors)


async def _verify_all(request: pytest.FixtureRequest, devices: list[VirtualDevice]) -> list[str]:
    """Unmet expectations, as messages; none are checked (or waited for) after a failure."""
    errors: list[str] = []
    if request.node.stash.get(_CALL_FAILED, False):
        return errors
    for device in devices:
        try:
            await device.verify()
        except ExpectationError as error:
            errors.append(str(error))
    return errors


@async_fixture
async def lwm2m_device(
    request: pytest.FixtureRequest, lwm2m_device_factory: DeviceFactory
) -> VirtualDevice:
    """One registered device, configured by ``@pytest.mark.lwm2m_device(...)``."""
    return await lwm2m_device_factory(**_marker_options(request))


@async_fixture
async def lwm2m_fleet(
    request: pytest.FixtureRequest,
    lwm2m_server: Lwm2mServer,
    lwm2m_server_url: str | None,
    lwm2m_test_clock: Clock | None,
) -> AsyncIterator[FleetFactory]:
    """``await lwm2m_fleet(10, endpoint="meter-{index}")`` or ``lwm2m_fleet(scenario=path)``."""
    fleets: list[Fleet] = []

    async def make(
        count: int | None = None,
        *,
        scenario: str | os.PathLike[str] | None = None,
        server: str | None = None,
        register: bool = True,
        timeout: float = 10.0,
        **options: Any,
    ) -> Fleet:
        target = server or lwm2m_server_url or lwm2m_server.uri
        if scenario is not None:
            if count is not None or options:
                raise TypeError("lwm2m_fleet: give a scenario file or inline parameters, not both")
            configs = scenario_configs(scenario, server=target)
        elif count is None:
            raise TypeError("lwm2m_fleet: give a device count or a scenario file")
        else:
            configs = fleet_configs(count, server=target, **options)
        fleet = Fleet(configs, clock=lwm2m_test_clock)
        fleets.append(fleet)
        _involve(request, *fleet.devices)
        return await fleet.start(wait=register, timeout=timeout)

    yield make
    errors = await _verify_all(request, [device for fleet in fleets for device in fleet])
    for fleet in fleets:
        await fleet.stop()
    _fail_unmet(errors)


@async_fixture
async def lwm2m_campaign(lwm2m_server: Lwm2mServer) -> AsyncIterator[CampaignRunner]:
    """``await lwm2m_campaign(package, endpoints, uri=None, **CampaignOptions fields)`` -> the
    finished :class:`~fleet.server.campaign.Campaign` (its image served by a file server of its
    own, or by the one ``uri`` names: ``package`` then says which version to expect)."""

    async def run(
        package: bytes, endpoints: Iterable[str], uri: str | None = None, **options: Any
    ) -> Campaign:
        campaign = Campaign(lwm2m_server, package, uri=uri, options=CampaignOptions(**options))
        await campaign.run(endpoints)
        return campaign

    yield run


# -- the synchronous face -----------------------------------------------------------------


@pytest.fixture
def lwm2m_loop() -> Iterator[BackgroundLoop]:
    """An event loop in a background thread, closed at teardown."""
    loop = BackgroundLoop()
    try:
        yield loop
    finally:
        loop.close()


@pytest.fixture
def lwm2m_server_sync(
    request: pytest.FixtureRequest, lwm2m_loop: BackgroundLoop
) -> Iterator[SyncServer]:
    """The embedded server on the background loop, with blocking methods."""
    _embedded_only(request, "lwm2m_server_sync")
    server = SyncServer.start(lwm2m_loop, host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.reset()
        server.stop()


@pytest.fixture
def lwm2m_device_factory_sync(
    request: pytest.FixtureRequest,
    lwm2m_loop: BackgroundLoop,
    lwm2m_server_sync: SyncServer,
    lwm2m_server_url: str | None,
) -> Iterator[SyncDeviceFactory]:
    """``lwm2m_device_factory_sync("dev1", values={...})`` -> a registered :class:`SyncDevice`."""
    created: list[SyncDevice] = []

    def make(
        endpoint: str | None = None, *, server: str | None = None, **options: Any
    ) -> SyncDevice:
        target = server or lwm2m_server_url or lwm2m_server_sync.uri
        device = SyncDevice.start(lwm2m_loop, endpoint, server=target, **options)
        created.append(device)
        _involve(request, device.virtual)
        return device

    yield make
    errors = lwm2m_loop.run(_verify_all(request, [device.virtual for device in created]))
    for device in created:
        device.stop()
    _fail_unmet(errors)


@pytest.fixture
def lwm2m_device_sync(
    request: pytest.FixtureRequest, lwm2m_device_factory_sync: SyncDeviceFactory
) -> SyncDevice:
    """One registered device on the background loop, configured by the marker."""
    return lwm2m_device_factory_sync(**_marker_options(request))
