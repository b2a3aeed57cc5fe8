"""``run_demo``: the embedded server, a fleet of virtual devices, the example flows, the view.

Unless ``server`` is given, :class:`~fleet.server.Lwm2mServer` starts on a free loopback port
(reading /3 and /6 on every Register) with a platform :class:`~fleet.server.platform.Console`
whose received messages feed the view. The devices (:mod:`.fleet`) register, their
temperatures follow the daily curve, and once the first ones are registered the document's
example flows run against them (:data:`FLOWS`). The view is redrawn every ``refresh`` seconds:
the full-screen :func:`~.view.render` on a terminal, otherwise a plain status line (and, on a
non-terminal, every flow message as one JSON line). At the end of ``duration`` (or on
cancellation: Ctrl-C) every device de-registers, and the final state is returned.

With ``web`` (``fleet demo --web``) the platform's HTTP API and the web console
(:mod:`fleet.server.http`) are served too, over the same console; the devices run in this
process, so the console's fault switches reach them (:class:`~fleet.server.http.DeviceSwitches`).
``open_browser`` opens the console's page in the user's browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, replace

from fleet.client.bootstrap.configs import ServerAccountSpec, single
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Deregistered, Registered
from fleet.demo.fleet import TEMPERATURE, Temperatures, demo_configs
from fleet.demo.view import DemoState, render, status_line
from fleet.model import Value
from fleet.server import Lwm2mServer
from fleet.server.http.launch import HttpOptions, WebFace, start_http
from fleet.server.platform import Console, Message
from fleet.server.platform import render as render_message
from fleet.server.platform import summary as message_summary
from fleet.server.platform.rules import Rule

FLOWS: tuple[tuple[int, str], ...] = (
    (0, "READ /3"),
    (0, "READ /6"),
    (1, "WRITE /3442/0/110 Hello"),
    (1, "READ /3442/0/110"),
    (1, "EXECUTE /3442/0/2"),
    (1, '{"method": "GET", "path": "/3442/0/160"}'),
    (2, "OBSERVE /3303/0/5602 pmin=1 pmax=2"),
)
"""(device index, content): the document's example flows, run once in this order."""

STOP_TIMEOUT = 10.0
REGISTER_WAIT = 15.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    devices: int = 20
    duration: float | None = None
    time_scale: float = 60.0
    seed: int = 1
    server: str | None = None
    interactive: bool = False
    refresh: float = 0.5
    lifetime: int = 300
    web: HttpOptions | None = None
    open_browser: bool = False
    bootstrap: bool = False
    """The devices start from the embedded Bootstrap-Server, which writes the server's account."""
    on_register: tuple[Rule, ...] = ()
    """Rules the embedded server runs against every device as it registers."""


Write = Callable[[str], None]


async def run_flows(console: Console, names: list[str], write: Write | None) -> None:
    """Run :data:`FLOWS` against ``names`` (wrapping around a small fleet)."""
    for index, content in FLOWS:
        name = names[index % len(names)]
        try:
            await console.server.wait_for_registration(name, REGISTER_WAIT, hooks=True)
        except TimeoutError:
            continue
        await console.run_content(name, content)


async def run_demo(
    options: DemoOptions, write: Write, stop: asyncio.Event | None = None
) -> DemoState:
    """Run the demo (see the module docstring); ``write`` takes the text to print.

    Setting ``stop`` (Ctrl-C) ends it like the end of ``duration``."""
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    server = None
    if options.server is None:
        server = await Lwm2mServer.start(read_on_register=("/3", "/6"), request_timeout=10.0)
    uri = options.server or (server.uri if server is not None else "")
    state = DemoState(server=uri, duration=options.duration, time_scale=options.time_scale)
    plain = not options.interactive

    def emit(message: Message) -> None:
        content = message["content"]
        state.counts[content["messageType"]] += 1
        state.recent.append(message_summary(message))
        if plain and content["messageType"] in ("response", "notify"):
            write(render_message(message, as_json=True))

    temperatures = Temperatures(options.seed, options.time_scale)
    first = [temperatures.add(index) for index in range(options.devices)]
    configs = demo_configs(
        options.devices, uri, seed=options.seed, lifetime=options.lifetime, temperatures=first
    )
    if options.bootstrap and server is not None:
        bootstrap = await server.start_bootstrap(
            single([ServerAccountSpec(server.uri, lifetime=options.lifetime)])
        )
        configs = [replace(config, bootstrap=bootstrap.uri) for config in configs]
        state.server = f"{uri} · bootstrap {bootstrap.uri}"
    devices = [Device(config) for config in configs]
    console, web = await _console(server, emit, devices, options)
    if console is not None and options.on_register:
        console.add_rules(options.on_register)
    if web is not None:
        state.server = f"{uri} · web console {web.http.url}/"
    for index, device in enumerate(devices):
        device.add_listener(_tracker(state, device.name))
        setter = _setter(state, device)
        temperatures.attach(index, setter)
        setter(first[index])
    started = loop.time()
    tasks = [asyncio.ensure_future(temperatures.run(started))]
    try:
        for device in devices:
            await device.start()
        if options.bootstrap:  # the flows need the devices registered where they were told
            await asyncio.wait_for(
                asyncio.gather(*(device.registered.wait() for device in devices)), 30
            )
        if console is not None:
            tasks.append(
                asyncio.ensure_future(run_flows(console, [d.name for d in devices], write))
            )
        if options.interactive:
            write("\x1b[?1049h\x1b[?25l")
        await _refresh(state, devices, temperatures, options, started, write, stop)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(
            *(asyncio.wait_for(d.stop(), STOP_TIMEOUT) for d in devices), return_exceptions=True
        )
        _observe(state, devices, loop.time() - started, temperatures)
        if options.interactive:
            write("\x1b[?25h\x1b[?1049l")
        if web is not None:
            await web.stop()
        elif console is not None:
            console.close()
        if server is not None:
            await server.stop()
    return state


async def _console(
    server: Lwm2mServer | None,
    emit: Callable[[Message], None],
    devices: list[Device],
    options: DemoOptions,
) -> tuple[Console | None, WebFace | None]:
    """The platform console (and, with ``options.web``, the HTTP face sharing it)."""
    if server is None:
        return None, None
    if options.web is None:
        return Console(server, emit), None
    from fleet.server.http.switches import DeviceSwitches

    try:
        web = await start_http(server, options.web, forward=emit, switches=DeviceSwitches(devices))
    except BaseException:
        await server.stop()
        raise
    if options.open_browser:
        webbrowser.open(web.http.url + "/")
    return web.standin.console, web


async def _refresh(
    state: DemoState,
    devices: list[Device],
    temperatures: Temperatures,
    options: DemoOptions,
    started: float,
    write: Write,
    stop: asyncio.Event,
) -> None:
    loop = asyncio.get_running_loop()
    next_line = 0.0
    while True:
        elapsed = loop.time() - started
        _observe(state, devices, elapsed, temperatures)
        if options.interactive:
            size = shutil.get_terminal_size((100, 30))
            write("\x1b[H\x1b[2J" + render(state, size.columns, size.lines - 1))
        elif elapsed >= next_line:
            write(status_line(state))
            next_line = elapsed + max(1.0, options.refresh)
        if stop.is_set() or (options.duration is not None and elapsed >= options.duration):
            return
        left = None if options.duration is None else options.duration - elapsed
        pause = options.refresh if left is None else min(options.refresh, left)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


def _observe(
    state: DemoState, devices: list[Device], elapsed: float, temperatures: Temperatures
) -> None:
    state.elapsed = elapsed
    state.simulated_hour = temperatures.simulated_hour(elapsed)
    for device in devices:
        state.devices[device.name] = device.state.value


def _tracker(state: DemoState, name: str) -> Callable[[ClientEvent], None]:
    def track(event: ClientEvent) -> None:
        if isinstance(event, Registered):
            state.registered_ever.add(name)
            state.deregistered.discard(name)
        elif isinstance(event, Deregistered):
            state.deregistered.add(name)

    return track


def _setter(state: DemoState, device: Device) -> Callable[[Value], None]:
    def apply(value: Value) -> None:
        with contextlib.suppress(Exception):
            device.tree.set_value(TEMPERATURE, value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            state.temperatures[device.name] = float(value)

    return apply
