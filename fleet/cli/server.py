"""``fleet server``: the embedded LwM2M server with the platform's console.

Runs :class:`~fleet.server.Lwm2mServer` on a UDP port (it reads /3 and /6 after every
Register and keeps the device info), prints every received message in the platform's shape
(pretty JSON, or one object per line with ``--json``) and runs console lines
(:mod:`fleet.server.platform.console`: ``ENDPOINT COMMAND``, ``DEVICES``, ``INFO EP``,
``WAIT EP``, ``SLEEP S``, ``HELP``, ``QUIT``) from ``--commands FILE`` and then from stdin
(not from a terminal it was started in the background of: :mod:`fleet.cli.console_input`).

It runs until Ctrl-C / SIGTERM (exit status 130) or QUIT. With ``--exit-after-commands``
it ends once the commands are done: at the end of ``--commands FILE`` if given (stdin is not
read), else at the end of stdin. The address it listens on goes to stderr first
(``fleet server listening on coap://127.0.0.1:5683``); ``--port 0`` picks a free port.

DTLS-PSK (``coaps://``) is served too when keys are given: ``--psk-keys FILE`` (a CSV of
``endpoint,identity,key``), ``--scenario FILE`` (the keys of the scenario's groups),
``--psk-identity``/``--psk-key`` (one identity, also ``FLEET_PSK_IDENTITY``/``FLEET_PSK_KEY``),
any of them together; ``--dtls-port`` (default 5684, 0: a free port) on the same host.
The DTLS address goes to stderr too; keys are never printed. ``--ca DIR`` serves DTLS with
certificates instead: a fleet CA folder (``fleet credentials init``) whose ``server.pem``
the server presents and whose ``ca.pem`` device certificates must verify to.

``--http PORT`` also serves the platform's HTTP API and the web console
(:mod:`fleet.server.http`) on ``--http-host`` (127.0.0.1), tenant ``--tenant``, with an
optional bearer ``--token``; the stdin console and the HTTP API share one platform console.

``--objects DIR`` gives the server the devices' object definitions, ``--on-register RULE``
runs a console command against every device as it registers, ``--concurrency N`` bounds
those and ``*`` commands (:mod:`fleet.cli.server_setup`, docs/server.md).

``--bootstrap-port N`` also runs the embedded Bootstrap-Server
(:mod:`fleet.cli.bootstrap_options`); its ``bootstrap-request`` and
``bootstrap-finish`` messages (with the code) are printed like the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

import click

from fleet.cli.bootstrap_options import (
    BootstrapOptions,
    bootstrap_from_options,
    bootstrap_options,
    report,
)
from fleet.cli.console_input import BACKGROUND_NOTE, background_terminal
from fleet.cli.durations import Duration
from fleet.cli.options import loop_option, registry_from_options
from fleet.cli.server_setup import ServerSetup, check_rules, server_setup, setup_options
from fleet.cli.signals import EXIT_INTERRUPTED, StopSignals
from fleet.client.coap.x509 import X509Credentials, X509Error, x509_available
from fleet.client.credentials import (
    CredentialError,
    KeysFile,
    KeyStore,
    SingleCredentials,
    key_lookup,
)
from fleet.client.fleet_ca import FleetCa
from fleet.errors import FleetError
from fleet.model.reading import MAX_COMMANDS_BYTES, FileTooLarge, read_bounded
from fleet.runner import loops
from fleet.runner.configs import scenario_key_lookup
from fleet.scenario import Scenario, ScenarioErrors, load_scenario
from fleet.server import Lwm2mServer
from fleet.server.http.launch import HttpOptions, http_options, start_http
from fleet.server.platform import Console, Message, render
from fleet.server.platform.messages import dumps
from fleet.server.platform.pool import Pool
from fleet.server.secure import KeyLookup

DEVICE_INFO = ("/3", "/6")


MAX_LINE = 64 * 1024
"""Bytes a console line may have; a longer one ends console input (``</dev/zero``)."""
CHUNK = 64 * 1024
"""Bytes read from the console per turn of the event loop."""


class LineReader:
    """Lines of a file descriptor without a thread, bounded in time and memory.

    A TTY or a pipe: the loop's reader callback reads what is there. A file the loop cannot
    poll (a regular file, ``/dev/zero``): one chunk per turn of the loop, so devices keep
    being answered. A line longer than ``max_line`` bytes (or a NUL byte: binary input) ends
    the input with :attr:`problem` saying why; nothing grows past one line.
    ``await get()`` -> a line, or ``None`` at the end."""

    def __init__(self, fd: int, max_line: int = MAX_LINE) -> None:
        self.fd = fd
        self.max_line = max_line
        self.problem: str | None = None
        """Why the input ended early (``None``: it did not)."""
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._lines = 0
        self._ended = False
        self._polled = False
        self._loop = asyncio.get_running_loop()
        try:
            self._loop.add_reader(fd, self._readable)
            self._polled = True
        except (PermissionError, ValueError, OSError):  # not pollable: a chunk per turn
            self._loop.call_soon(self._step)

    def _step(self) -> None:
        if self._ended:
            return
        if self._queue.qsize() > 1000:  # the console is behind: wait for it, unread
            self._loop.call_later(0.01, self._step)
            return
        self._readable()
        if not self._ended:
            self._loop.call_soon(self._step)

    def _readable(self) -> None:
        try:
            chunk = os.read(self.fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._take(chunk)
        else:
            self._end()

    def _take(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if not self._accept(line):
                return
        if len(self._buffer) > self.max_line:
            self._stop(f"line {self._lines + 1} is longer than {self.max_line} bytes")

    def _accept(self, line: bytes) -> bool:
        self._lines += 1
        if len(line) > self.max_line:
            self._stop(f"line {self._lines} is longer than {self.max_line} bytes")
            return False
        if b"\0" in line:
            self._stop(f"line {self._lines} has a NUL byte (binary input?)")
            return False
        self._queue.put_nowait(line.decode("utf-8", "replace"))
        return True

    def _stop(self, why: str) -> None:
        self.problem = f"console input ends: {why} (the limit is {self.max_line} bytes a line)"
        self._buffer = b""
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self.close()
        if self._buffer and self._accept(self._buffer):
            self._buffer = b""
        self._queue.put_nowait(None)

    async def get(self) -> str | None:
        return await self._queue.get()

    def close(self) -> None:
        self._ended = True
        if self._polled:
            self._polled = False
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)


def read_commands(path: FilePath) -> list[str]:
    """The lines of ``--commands FILE`` (at most :data:`MAX_COMMANDS_BYTES`)."""
    try:
        return read_bounded(path, MAX_COMMANDS_BYTES).decode("utf-8", "replace").splitlines()
    except (FileTooLarge, OSError) as error:
        raise click.ClickException(f"--commands: {error}") from None


def printer(as_json: bool) -> tuple[Callable[[Message], None], Callable[[Any], None]]:
    """``emit`` for received messages and ``say`` for console output, both to stdout."""

    def emit(message: Message) -> None:
        click.echo(render(message, as_json=as_json))

    def say(what: Any) -> None:
        if isinstance(what, str):
            click.echo(what if not as_json else dumps({"console": what}, compact=False))
        else:
            click.echo(dumps(what, indent=None if as_json else 2, compact=False))

    return emit, say


def fleet_ca_credentials(folder: FilePath) -> X509Credentials:
    """The server's certificate, key and trusted CA from a fleet CA folder (``--ca``)."""
    reason = x509_available()
    if reason is not None:
        raise click.ClickException(reason)
    try:
        return FleetCa.load(folder).server_credentials()
    except X509Error as error:
        raise click.ClickException(f"--ca: {error}") from None


def load_server_scenario(path: FilePath | None) -> Scenario | None:
    """``--scenario FILE``, its ``embedded_server`` rules checked (``file:line:col``)."""
    if path is None:
        return None
    try:
        return check_rules(load_scenario(path))
    except ScenarioErrors as exc:
        raise click.ClickException(str(exc)) from None


def psk_lookup(
    keys_files: tuple[FilePath, ...],
    scenario: Scenario | None,
    identity: str | None,
    key: str | None,
) -> KeyLookup | None:
    """The server's ``identity -> key`` lookup from the options (``None``: no DTLS keys)."""
    stores: list[KeyStore] = []
    if (identity is None) != (key is None):
        raise click.UsageError("--psk-identity and --psk-key go together")
    try:
        if identity is not None and key is not None:
            stores.append(SingleCredentials.of(identity, key))
        stores.extend(KeysFile.load(path) for path in keys_files)
    except CredentialError as exc:
        raise click.ClickException(str(exc)) from None
    lookups = [key_lookup(stores)] if stores else []
    if scenario is not None and any(group.security is not None for group in scenario.groups):
        lookups.append(scenario_key_lookup(scenario))
    if not lookups:
        return None

    def lookup(wanted: bytes) -> bytes | None:
        for each in lookups:
            found = each(wanted)
            if found is not None:
                return found
        return None

    return lookup


async def run_server(
    host: str,
    port: int,
    commands: FilePath | None,
    as_json: bool,
    exit_after: bool,
    timeout: float,
    psk: KeyLookup | None = None,
    dtls_port: int = 5684,
    http: HttpOptions | None = None,
    bootstrap: BootstrapOptions | None = None,
    certificate: X509Credentials | None = None,
    setup: ServerSetup | None = None,
) -> bool:
    """The body of ``fleet server`` (see the module docstring); ``True`` when Ctrl-C or
    SIGTERM ended it (the command then exits 130)."""
    emit, say = printer(as_json)
    started = None
    setup = setup if setup is not None else ServerSetup(registry_from_options(()))
    server = await Lwm2mServer.start(
        host,
        port,
        models=setup.models,
        read_on_register=DEVICE_INFO,
        request_timeout=timeout,
        psk=psk,
        dtls_port=dtls_port,
        certificate=certificate,
    )
    secure = f" and {server.secure_uri}" if server.secure_uri is not None else ""
    click.echo(f"fleet server listening on {server.uri}{secure} (HELP for commands)", err=True)
    if bootstrap is not None:
        try:
            started = await server.start_bootstrap(
                bootstrap.configs(server.uri), bootstrap.port, dtls_port=bootstrap.dtls_port
            )
        except BaseException:
            await server.stop()
            raise
        also = f" and {started.secure_uri}" if started.secure_uri is not None else ""
        click.echo(f"fleet bootstrap server listening on {started.uri}{also}", err=True)
    web = None
    if http is None:
        console = Console(server, emit, say=say)
    else:
        try:
            web = await start_http(server, http, emit, say)
        except BaseException:
            await server.stop()
            raise
        console = web.standin.console
    console.pool = Pool(setup.concurrency)
    if setup.rules:
        console.add_rules(setup.rules)
    stop = asyncio.Event()
    signals = StopSignals(stop).install()

    async def feed() -> None:
        if commands is not None:
            for line in read_commands(commands):
                await console.run_line(line)
                if console.finished:
                    return
            if exit_after:
                return
        if background_terminal(sys.stdin.fileno()):
            click.echo(BACKGROUND_NOTE, err=True)
            if not exit_after:
                await stop.wait()
            return
        reader = LineReader(sys.stdin.fileno())
        try:
            while (typed := await reader.get()) is not None:
                await console.run_line(typed)
                if console.finished:
                    return
        finally:
            reader.close()
        if reader.problem is not None:
            click.echo(f"fleet server: {reader.problem}", err=True)
        if not exit_after:
            await stop.wait()

    feeder = asyncio.ensure_future(feed())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({feeder, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (feeder, stopper):
            task.cancel()
        await asyncio.gather(feeder, stopper, return_exceptions=True)
        console.close()
        if web is not None:
            await web.stop()
        await server.stop()
        signals.remove()
        if bootstrap is not None and started is not None:
            report(bootstrap, started)
    if feeder.done() and not feeder.cancelled():
        failure = feeder.exception()
        if failure is not None:
            raise failure
    return signals.received is not None


@click.command("server")
@loop_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5683, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--commands",
    type=click.Path(exists=True, dir_okay=False, path_type=FilePath),
    help="Run these console lines first (then stdin, unless --exit-after-commands).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--exit-after-commands",
    is_flag=True,
    help="End when the commands are done (end of --commands FILE, else of stdin).",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=Duration(0.01),
    help="How long a device has to answer before the command gets 408 (30s, 2m...).",
)
@click.option(
    "--dtls-port",
    default=5684,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port for DTLS-PSK (coaps://), served when keys are given.",
)
@click.option(
    "--psk-keys",
    "keys_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=FilePath),
    help="CSV of endpoint,identity,key (hex or base64) the devices use; repeatable.",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=FilePath),
    help="Serve this scenario: the DTLS keys of its groups (security:), its objects:, "
    "its embedded_server: rules and (with --bootstrap-port) its bootstrap: section.",
)
@click.option(
    "--psk-identity",
    envvar="FLEET_PSK_IDENTITY",
    metavar="TEXT",
    help="One PSK identity to accept [env FLEET_PSK_IDENTITY].",
)
@click.option(
    "--psk-key",
    envvar="FLEET_PSK_KEY",
    metavar="KEY",
    help="Its key: hex:..., base64:... or bare hex [env FLEET_PSK_KEY].",
)
@click.option(
    "--ca",
    "ca_dir",
    type=click.Path(exists=True, file_okay=False, path_type=FilePath),
    help="Serve DTLS with certificates: a fleet CA folder (fleet credentials init), its "
    "server.pem/server.key presented, devices of its ca.pem accepted (instead of PSK).",
)
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    help="Also serve the platform's HTTP API and the web console on this TCP port (0: free).",
)
@click.option("--http-host", default="127.0.0.1", show_default=True, help="Address for --http.")
@click.option("--tenant", default="default", show_default=True, help="Tenant in the API paths.")
@click.option(
    "--token",
    envvar="FLEET_HTTP_TOKEN",
    metavar="TEXT",
    help="Require Authorization: Bearer TEXT on the HTTP API [env FLEET_HTTP_TOKEN].",
)
@bootstrap_options
@setup_options
def server(
    host: str,
    port: int,
    commands: FilePath | None,
    as_json: bool,
    exit_after_commands: bool,
    timeout: float,
    dtls_port: int,
    keys_files: tuple[FilePath, ...],
    scenario: FilePath | None,
    psk_identity: str | None,
    psk_key: str | None,
    ca_dir: FilePath | None,
    http_port: int | None,
    http_host: str,
    tenant: str,
    token: str | None,
    bootstrap_port: int | None,
    bootstrap_config: FilePath | None,
    bootstrap_dtls_port: int,
    bootstrap_psk_identity: str | None,
    bootstrap_psk_key: str | None,
    bootstrap_faults: tuple[str, ...],
    bootstrap_seed: int | None,
    bootstrap_summary_json: FilePath | None,
    objects_dirs: tuple[FilePath, ...],
    on_register: tuple[str, ...],
    concurrency: int | None,
    loop: str,
) -> None:
    """Run the embedded LwM2M server with the platform's command console."""
    loaded = load_server_scenario(scenario)
    setup = server_setup(objects_dirs, on_register, concurrency, loaded)
    certificate = None
    section = loaded.bootstrap if loaded is not None else None  # served with --bootstrap-port
    if ca_dir is not None:
        if keys_files or psk_identity or psk_key:
            raise click.UsageError("--ca serves certificates: it takes no PSK keys (one port)")
        certificate = fleet_ca_credentials(ca_dir)
        loaded = None  # its certificate groups need no keys: the CA checks the devices
    psk = psk_lookup(keys_files, loaded, psk_identity, psk_key)
    bootstrap = bootstrap_from_options(
        bootstrap_port,
        bootstrap_config,
        bootstrap_dtls_port,
        bootstrap_psk_identity,
        bootstrap_psk_key,
        section,
        bootstrap_faults,
        bootstrap_seed,
        bootstrap_summary_json,
    )
    http = http_options(http_port, http_host, tenant, token)
    try:
        interrupted = loops.run(
            run_server(
                host,
                port,
                commands,
                as_json,
                exit_after_commands,
                timeout,
                psk,
                dtls_port,
                http,
                bootstrap,
                certificate,
                setup,
            ),
            loop,
        )
    except OSError as error:
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from None
    except FleetError as error:  # DTLS unavailable
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
