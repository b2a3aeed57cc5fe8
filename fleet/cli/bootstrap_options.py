"""``fleet server``'s Bootstrap-Server options: ``--bootstrap-port`` and its configuration.

``--bootstrap-port N`` starts the embedded Bootstrap-Server
(:class:`~fleet.server.bootstrap.BootstrapServer`) beside the LwM2M server.
``--bootstrap-config FILE`` (YAML or JSON, see ``docs/bootstrap.md``) says what it
writes per endpoint; without it every endpoint gets the LwM2M server's own
account (NoSec); with ``--scenario FILE`` its top-level ``bootstrap:`` section (the same
shape) says it instead, unless ``--bootstrap-config`` is given.
``--bootstrap-psk-identity`` / ``--bootstrap-psk-key`` (patterns on ``{index}`` /
``{endpoint}``, like a scenario's ``security:``) make it serve
DTLS-PSK on ``--bootstrap-dtls-port`` and require that identity of every device.
``--bootstrap-fault KIND[,endpoints=PATTERN][,probability=P][,seconds=S]`` (repeatable)
adds a server-side fault to those of the configuration (``faults:``), ``--bootstrap-seed``
seeds their draws. When the server stops, :func:`report` prints what the Bootstrap-Server
did (requests, accepted, rejected, finished, failed) and the faults it injected, and with
``--bootstrap-summary-json FILE`` writes the same as JSON (``faults`` by kind, as a run's
summary counts its faults).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path as FilePath
from typing import Any, TypeVar

import click

from fleet.client.bootstrap.config_reader import fault_from
from fleet.client.bootstrap.configs import single
from fleet.client.bootstrap.server_faults import BootstrapFault
from fleet.client.credentials import CredentialError, PatternCredentials
from fleet.codec import json_text
from fleet.server.bootstrap import (
    BootstrapConfigError,
    BootstrapConfigs,
    BootstrapServer,
    ServerAccountSpec,
    load_configs,
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class BootstrapOptions:
    """What ``fleet server`` starts the Bootstrap-Server with."""

    port: int
    dtls_port: int
    config: FilePath | None
    psk: PatternCredentials | None
    section: BootstrapConfigs | None = None
    """A scenario's top-level ``bootstrap:`` section (``--scenario``)."""
    faults: tuple[BootstrapFault, ...] = ()
    """``--bootstrap-fault``: added to the configuration's own."""
    seed: int | None = None
    """``--bootstrap-seed`` (``None``: the configuration's ``seed:``)."""
    summary_json: FilePath | None = None

    def configs(self, server_uri: str) -> BootstrapConfigs:
        """The configurations: the file's, the scenario's section, or this server's account
        for every endpoint (in that order)."""
        if self.config is not None:
            try:
                configs = load_configs(self.config)
            except BootstrapConfigError as error:
                raise click.ClickException(str(error)) from None
        elif self.section is not None:
            configs = self.section
        else:
            configs = single([ServerAccountSpec(server_uri)])
        seed = configs.seed if self.seed is None else self.seed
        configs = replace(configs, faults=(*configs.faults, *self.faults), seed=seed)
        if self.psk is None:
            return configs
        return replace(
            configs,
            entries={
                name: replace(config, psk=self.psk) for name, config in configs.entries.items()
            },
        )


def bootstrap_options(command: F) -> F:
    """Add the ``--bootstrap-*`` options to a click command."""
    options = [
        click.option(
            "--bootstrap-port",
            type=click.IntRange(0, 65535),
            help="Also run the Bootstrap-Server on this UDP port (0: a free one).",
        ),
        click.option(
            "--bootstrap-config",
            type=click.Path(exists=True, dir_okay=False, path_type=FilePath),
            help="YAML/JSON of what it writes per endpoint (default: this server's account).",
        ),
        click.option(
            "--bootstrap-dtls-port",
            default=5784,
            show_default=True,
            type=click.IntRange(0, 65535),
            help="UDP port of its DTLS-PSK socket (with --bootstrap-psk-*).",
        ),
        click.option(
            "--bootstrap-psk-identity",
            metavar="PATTERN",
            help="Bootstrap account PSK identity pattern, e.g. bs-{index:06d}.",
        ),
        click.option(
            "--bootstrap-psk-key",
            envvar="FLEET_BOOTSTRAP_PSK_KEY",
            metavar="PATTERN",
            help="Its key pattern, e.g. hex:00112233{index:024x} [env FLEET_BOOTSTRAP_PSK_KEY].",
        ),
        click.option(
            "--bootstrap-fault",
            "bootstrap_faults",
            multiple=True,
            metavar="KIND[,endpoints=P][,probability=X][,seconds=S]",
            help="Make it fail on purpose: unauthorized, no-config, fail-write, fail-finish, "
            "slow (with seconds=); repeatable.",
        ),
        click.option("--bootstrap-seed", type=int, help="Seed of its faults' draws."),
        click.option(
            "--bootstrap-summary-json",
            type=click.Path(dir_okay=False, path_type=FilePath),
            help="At the end, write what it did and the faults it injected as JSON.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def bootstrap_from_options(
    port: int | None,
    config: FilePath | None,
    dtls_port: int,
    identity: str | None,
    key: str | None,
    section: BootstrapConfigs | None = None,
    faults: tuple[str, ...] = (),
    seed: int | None = None,
    summary_json: FilePath | None = None,
) -> BootstrapOptions | None:
    """The options as :class:`BootstrapOptions` (``None`` without ``--bootstrap-port``);
    ``section``: a scenario's top-level ``bootstrap:`` (used without ``--bootstrap-config``;
    without ``--bootstrap-port`` it is refused rather than ignored)."""
    if (identity is None) != (key is None):
        raise click.UsageError("--bootstrap-psk-identity and --bootstrap-psk-key go together")
    if port is None:
        if config is not None or identity is not None or faults or summary_json is not None:
            raise click.UsageError("the --bootstrap-* options need --bootstrap-port")
        if section is not None:
            raise click.UsageError(
                "the scenario's bootstrap: section is served with --bootstrap-port N"
            )
        return None
    psk = None
    if identity is not None and key is not None:
        try:
            psk = PatternCredentials(identity, key)
        except CredentialError as error:
            raise click.BadParameter(str(error), param_hint="--bootstrap-psk-identity") from None
    parsed = tuple(parse_fault(text) for text in faults)
    return BootstrapOptions(port, dtls_port, config, psk, section, parsed, seed, summary_json)


def parse_fault(text: str) -> BootstrapFault:
    """``KIND[,endpoints=P][,probability=X][,seconds=S]`` as a :class:`BootstrapFault`."""
    kind, *items = [part.strip() for part in text.split(",")]
    data: dict[str, object] = {"kind": kind}
    for item in items:
        name, sign, value = item.partition("=")
        if not sign:
            raise click.BadParameter(
                f"{text!r}: {item!r} is not name=value", param_hint="--bootstrap-fault"
            )
        if name in ("probability", "seconds"):
            try:
                data[name] = float(value)
            except ValueError:
                raise click.BadParameter(
                    f"{text!r}: {name} must be a number, got {value!r}",
                    param_hint="--bootstrap-fault",
                ) from None
        else:
            data[name] = value
    try:
        return fault_from(data)
    except BootstrapConfigError as error:
        raise click.BadParameter(f"{text!r}: {error}", param_hint="--bootstrap-fault") from None


def summary(server: BootstrapServer) -> dict[str, object]:
    """What the Bootstrap-Server did and the faults it injected."""
    counters = server.counters
    done: dict[str, object] = {
        name: counters[name] for name in ("requests", "accepted", "rejected", "finished", "failed")
    }
    done["faults"] = server.faults.fired()
    return done


def report(options: BootstrapOptions, server: BootstrapServer) -> None:
    """Print :func:`summary` (stderr) and write it to ``--bootstrap-summary-json``."""
    found = summary(server)
    faults: dict[str, int] = found["faults"]  # type: ignore[assignment]
    line = ", ".join(f"{found[name]} {name}" for name in found if name != "faults")
    click.echo(f"fleet bootstrap server: {line}", err=True)
    if faults:
        total = sum(faults.values())
        fired = ", ".join(f"{kind} {n}" for kind, n in faults.items())
        click.echo(f"  faults (injected on purpose): {total}: {fired}", err=True)
    if options.summary_json is not None:
        document = {"bootstrap_server": found}
        options.summary_json.write_text(
            json_text.dumps(document, indent=2) + "\n", encoding="utf-8"
        )
