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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path as FilePath
from typing import Any, TypeVar

import click

from fleet.client.bootstrap.configs import single
from fleet.client.credentials import CredentialError, PatternCredentials
from fleet.server.bootstrap import (
    BootstrapConfigError,
    BootstrapConfigs,
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
        if self.psk is None:
            return configs
        return BootstrapConfigs(
            {name: replace(config, psk=self.psk) for name, config in configs.entries.items()}
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
) -> BootstrapOptions | None:
    """The options as :class:`BootstrapOptions` (``None`` without ``--bootstrap-port``);
    ``section``: a scenario's top-level ``bootstrap:`` (used without ``--bootstrap-config``;
    without ``--bootstrap-port`` it is refused rather than ignored)."""
    if (identity is None) != (key is None):
        raise click.UsageError("--bootstrap-psk-identity and --bootstrap-psk-key go together")
    if port is None:
        if config is not None or identity is not None:
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
    return BootstrapOptions(port, dtls_port, config, psk, section)
