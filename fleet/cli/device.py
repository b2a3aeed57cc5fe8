"""``fleet device``: run one virtual device in the foreground against any LwM2M server.

The device has the shipped objects, plus instance 0 of every object that the
``--objects`` folders define beyond them; an object whose definition cannot be
instantiated (a readable resource without a Type...) is skipped with one line on
stderr naming its file and what is wrong, and the device starts with the rest.
It registers with ``--server``, answers whatever the server asks and logs one line
per request to stderr (method, path, content format, response code), plus its
registration events and
every retry with its reason: each retransmission of an unanswered message, then the
failed Register with why (no answer after N transmissions, an ICMP port unreachable
at once, a DTLS alert, a 4.xx with its code and diagnostic payload) and when it is
tried again (the Server object's back-off). Ctrl-C or SIGTERM de-registers and exits
with status 130; a device that gives up (the retry policy exhausted) exits with 1.

A ``coaps://`` server needs ``--psk-identity`` and ``--psk-key`` (hex or base64;
also from ``FLEET_PSK_IDENTITY`` / ``FLEET_PSK_KEY``, which keeps the key out of
the process list and shell history), or ``--certificate`` and ``--private-key``
with ``--server-ca`` or ``--server-certificate`` (DTLS with X.509, see
:mod:`fleet.cli.x509_options`); the handshake is logged with its duration, never the key.

With ``--bootstrap URI`` instead of ``--server`` the device starts knowing only its
Bootstrap-Server (LwM2M 1.1 client-initiated bootstrap): it logs the
Bootstrap-Request, each Delete/Write/Discover/Read and the Finish it answers, then
registers with the server account written. A ``coaps://`` bootstrap server takes
the PSK options (the bootstrap account's key).
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import signal
import sys
from collections.abc import Sequence

import click

from fleet.cli.durations import Duration
from fleet.cli.options import loop_option, objects_option_with, registry_from_options
from fleet.cli.x509_options import x509_from_options, x509_options
from fleet.client.addresses import shown
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import LWM2M_VERSIONS, ConfigError, DeviceConfig, default_registry
from fleet.client.device import Device
from fleet.client.events import (
    BootstrapDone,
    BootstrapFailed,
    ClientEvent,
    Deregistered,
    Handshake,
    NotificationSent,
    ObservationEnded,
    Registered,
    RegistrationFailed,
    RequestServed,
    Retransmitted,
    SendDone,
    Updated,
)
from fleet.client.uri import UriError
from fleet.codec.formats import format_label, parse_format
from fleet.device.instantiable import Skipped, with_instance_zero
from fleet.device.layout import SHIPPED_LAYOUT, DeviceLayout
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.runner import loops
from fleet.runner.extras import missing_extra

EXIT_INTERRUPTED = 130
"""128 + SIGINT: Ctrl-C (or SIGTERM) ends the device, as it ends ``fleet run``."""
STOP_TIMEOUT = 10.0
"""Seconds given to the De-register on exit."""


def describe(event: ClientEvent) -> str | None:
    """One log line for an event (``None``: not worth a line)."""
    if isinstance(event, RequestServed):
        fmt = "-" if event.content_format is None else format_label(event.content_format)
        if event.operation.value.startswith("Bootstrap-"):
            return f"{event.operation.value} {event.path} {fmt} {event.code}"
        return f"{event.method} {event.path} {fmt} {event.code}"
    if isinstance(event, Registered):
        server = "" if event.server is None else f" with {shown(event.server)}"
        return f"registered at {event.location}{server} (lifetime {event.lifetime} s)"
    if isinstance(event, Updated):
        changed = "&".join(event.query) or "nothing changed"
        return f"updated {event.location}: {changed}{' + links' if event.links else ''}"
    if isinstance(event, Deregistered):
        answered = "" if event.answered else " (no answer)"
        return f"de-registered {event.location}: {event.reason}{answered}"
    if isinstance(event, RegistrationFailed):
        if event.retry_in == 0:  # at once, as the reason says (next address or version)
            return f"{event.operation} failed: {event.reason}"
        then = "giving up" if event.final else f"retry in {event.retry_in:g} s"
        return f"{event.operation} failed: {event.reason}; {then}"
    if isinstance(event, Retransmitted):
        host, port = event.remote
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return f"no answer from {where} yet: sent again"
    if isinstance(event, NotificationSent):
        paths = ",".join(str(p) for p in event.paths)
        kind = "CON" if event.confirmable else "NON"
        return f"notify {paths} {kind}"
    if isinstance(event, ObservationEnded):
        return f"observation of {','.join(str(p) for p in event.paths)} ended: {event.reason}"
    if isinstance(event, Handshake):
        host, port = event.remote
        if event.error is None:
            return f"DTLS handshake with {host}:{port} done in {event.duration * 1000:.0f} ms"
        if event.error.startswith("DTLS "):  # it names the handshake and the peer itself
            return event.error
        return f"DTLS handshake with {host}:{port} failed: {event.error}"
    if isinstance(event, BootstrapDone):
        took = "" if event.duration is None else f" in {event.duration * 1000:.0f} ms"
        return f"bootstrapped{took}: registering with {event.server} ({event.mode})"
    if isinstance(event, BootstrapFailed):
        then = "giving up" if event.final else f"retry in {event.retry_in:g} s"
        return f"bootstrap {event.step} failed: {event.reason}; {then}"
    if isinstance(event, SendDone):
        outcome = event.code or event.error
        return f"send {','.join(str(p) for p in event.paths)}: {outcome}"
    return None


def device_layout(registry: ModelRegistry) -> tuple[DeviceLayout, tuple[Skipped, ...]]:
    """The shipped layout plus instance 0 of every object the registry adds to the shipped ones
    that can be instantiated, and those that cannot (:mod:`fleet.device.instantiable`)."""
    added = set(registry.ids()) - set(default_registry().ids())
    return with_instance_zero(registry, SHIPPED_LAYOUT, added)


def parse_values(items: Sequence[str]) -> dict[str, str]:
    """``/3/0/0=ACME`` items as initial values (the path is checked here, the value later)."""
    values: dict[str, str] = {}
    for item in items:
        path, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected PATH=VALUE", param_hint="--value")
        try:
            Path.parse(path)
        except FleetError as exc:
            raise click.BadParameter(f"{item!r}: {exc}", param_hint="--value") from None
        values[path] = value
    return values


def psk_from_options(identity: str | None, key: str | None) -> PskCredentials | None:
    """``--psk-identity`` and ``--psk-key`` as credentials (both or neither)."""
    if identity is None and key is None:
        return None
    if identity is None or key is None:
        raise click.UsageError("--psk-identity and --psk-key go together")
    try:
        return PskCredentials.of(identity, key)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--psk-key") from None


@click.command()
@loop_option
@click.option(
    "--server",
    metavar="URI",
    help="The LwM2M server: coap://HOST:PORT, or coaps://HOST:PORT (DTLS-PSK, default port 5684).",
)
@click.option(
    "--bootstrap",
    metavar="URI",
    help="Start from this Bootstrap-Server instead (coap:// or coaps:// with the PSK options).",
)
@click.option("--endpoint", required=True, metavar="NAME", help="The endpoint client name.")
@click.option("--lifetime", type=Duration(1, whole=True), default=86400, show_default=True)
@click.option("--binding", type=click.Choice(["U", "UQ"]), default="U", show_default=True)
@click.option(
    "--lwm2m",
    "lwm2m_version",
    default="1.1",
    show_default=True,
    metavar="VERSIONS",
    help=f"LwM2M version ({', '.join(LWM2M_VERSIONS)}), or several to fall back through when "
    "the server refuses one with 4.12: 1.2,1.1",
)
@click.option(
    "--format",
    "format_name",
    metavar="NAME",
    help="Preferred content format when a request has no Accept (tlv, senml-json, 112, ...).",
)
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="PATH=VALUE",
    help="Initial value of a resource, e.g. /3/0/0=ACME; repeatable.",
)
@click.option("--no-send", is_flag=True, help="Mute Send (/1/0/23), for servers without it.")
@click.option("--reboot-delay", type=Duration(0), default=5.0, show_default=True)
@click.option(
    "--psk-identity",
    envvar="FLEET_PSK_IDENTITY",
    metavar="TEXT",
    help="DTLS PSK identity for a coaps:// server [env FLEET_PSK_IDENTITY].",
)
@click.option(
    "--psk-key",
    envvar="FLEET_PSK_KEY",
    metavar="KEY",
    help="DTLS pre-shared key: hex:..., base64:... or bare hex [env FLEET_PSK_KEY].",
)
@click.option(
    "--handshake-timeout",
    type=Duration(0.1),
    default=10.0,
    show_default=True,
    help="How long a DTLS handshake may take (10s, 1m...).",
)
@click.option(
    "--any-source",
    is_flag=True,
    help="Answer requests from any address, not only the server's (test rigs poking the "
    "device with coap-client; docs/security.md).",
)
@x509_options
@objects_option_with(
    "Folder (or file) of DDF XML object definitions; repeatable, later folders win. The "
    "device has instance 0 of every shipped object (/1/0 /3/0 /6/0 /3303/0 /3442/0, and the "
    "Security /0/0) and instance 0 of each object the folders add; an object whose definition "
    "cannot be instantiated is skipped with one line naming its file and what is wrong."
)
def device(
    server: str | None,
    bootstrap: str | None,
    endpoint: str,
    lifetime: int,
    binding: str,
    lwm2m_version: str,
    format_name: str | None,
    values: tuple[str, ...],
    no_send: bool,
    reboot_delay: float,
    psk_identity: str | None,
    psk_key: str | None,
    handshake_timeout: float,
    any_source: bool,
    certificate: pathlib.Path | None,
    private_key: pathlib.Path | None,
    server_ca: pathlib.Path | None,
    server_certificate: pathlib.Path | None,
    server_name: str | None,
    objects_dirs: tuple[pathlib.Path, ...],
    loop: str,
) -> None:
    """Run one virtual device until Ctrl-C, logging every request it answers."""
    versions = tuple(part.strip() for part in lwm2m_version.split(",") if part.strip())
    if not versions or any(v not in LWM2M_VERSIONS for v in versions):
        raise click.BadParameter(
            f"{lwm2m_version!r}: give {', '.join(LWM2M_VERSIONS)}, or several like 1.2,1.1",
            param_hint="--lwm2m",
        )
    psk = psk_from_options(psk_identity, psk_key)
    if (server is None) == (bootstrap is None):
        raise click.UsageError("give either --server or --bootstrap")
    target = server if server is not None else bootstrap
    assert target is not None
    x509 = x509_from_options(certificate, private_key, server_ca, server_certificate, server_name)
    if x509 is not None and (psk is not None or server is None):
        raise click.UsageError("--certificate goes with --server, without PSK options")
    if psk is None and x509 is None and target.strip().lower().startswith("coaps:"):
        raise click.UsageError(
            "a coaps:// server needs --psk-identity and --psk-key, or --certificate"
        )
    where: dict[str, object] = (
        {"server": server, "psk": psk, "x509": x509}
        if server is not None
        else {"bootstrap": bootstrap, "bootstrap_psk": psk}
    )
    registry = registry_from_options(objects_dirs)
    try:
        layout, skipped = device_layout(registry)
        for item in skipped:
            click.echo(f"{endpoint}: {item.line()}", err=True)
        preferred = parse_format(format_name) if format_name is not None else None
        config = DeviceConfig(
            endpoint=endpoint,
            lifetime=lifetime,
            binding=binding,
            lwm2m_version=versions[0],
            lwm2m_fallback=versions[1:],
            content_format=preferred,
            layout=layout,
            registry=registry,
            values=parse_values(values),
            send_enabled=not no_send,
            reboot_delay=reboot_delay,
            handshake_timeout=handshake_timeout,
            any_source=any_source,
            **where,  # type: ignore[arg-type]
        )
        missing = missing_extra(config)
        if missing is not None:
            raise click.ClickException(missing)
    except UriError as exc:  # a command-line mistake, as for fleet run and fleet validate
        raise click.UsageError(str(exc)) from None
    except (ConfigError, FleetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    code = loops.run(_run(config), loop)
    sys.exit(code)


async def _run(config: DeviceConfig) -> int:
    try:
        virtual = Device(config)
    except FleetError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    stop = asyncio.Event()
    outcome = {"code": 0}

    def log(event: ClientEvent) -> None:
        line = describe(event)
        if line is not None:
            click.echo(f"{config.endpoint}: {line}", err=True)
        if isinstance(event, RegistrationFailed | BootstrapFailed) and event.final:
            outcome["code"] = 1
            stop.set()

    def interrupted() -> None:
        outcome["code"] = EXIT_INTERRUPTED
        stop.set()

    virtual.add_listener(log)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted)
    try:
        await virtual.start()
        address = virtual.address
        if config.bootstrap is not None:
            click.echo(
                f"{config.endpoint}: bootstrapping from {config.bootstrap} (Ctrl-C to stop)",
                err=True,
            )
        else:
            click.echo(
                f"{config.endpoint}: listening on {address[0]}:{address[1]}, registering with "
                f"{config.server} (Ctrl-C to stop)"
                if address is not None
                else f"{config.endpoint}: started",
                err=True,
            )
        await stop.wait()
    except FleetError as exc:
        click.echo(f"{config.endpoint}: error: {exc}", err=True)
        outcome["code"] = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(virtual.stop(), STOP_TIMEOUT)
    return outcome["code"]


if __name__ == "__main__":  # pragma: no cover - `python -m fleet.cli.device`
    device()
