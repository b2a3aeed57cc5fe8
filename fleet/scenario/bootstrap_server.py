"""A scenario's top-level ``bootstrap:`` section: what the embedded Bootstrap-Server writes.

The same shape as a ``--bootstrap-config`` file (:mod:`fleet.client.bootstrap.configs`),
so a file's content moves into a scenario as it is::

    bootstrap:                       # top level: the Bootstrap-Server's configurations
      endpoints:
        "meter-*":
          servers:
            - {uri: "coap://127.0.0.1:5683", short_server_id: 1, lifetime: 300}
            - {uri: "coap://127.0.0.1:5693", short_server_id: 2, lifetime: 600}
      faults:                        # optional: how the server fails on purpose
        - {kind: unauthorized, endpoints: "meter-00*", probability: 0.5}
      seed: 7
    groups:
      - name: meters
        endpoint: "meter-{index:06d}"
        bootstrap: coap://127.0.0.1:5783  # a group's bootstrap: where its devices bootstrap

A group's ``bootstrap:`` (:mod:`fleet.scenario.bootstrap`) says where its devices
bootstrap from; this section says what a Bootstrap-Server run from the scenario
(``fleet server --bootstrap-port N --scenario FILE``; ``fleet demo`` takes no scenario and
says so) writes into them. ``fleet validate`` checks it with the
configuration reader's own rules; a problem is located at the offending key's
``file:line:col`` like every other. Checked, it is a
:class:`~fleet.client.bootstrap.configs.BootstrapConfigs` (``Scenario.bootstrap``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fleet.client.bootstrap.config_reader import configs_from
from fleet.client.bootstrap.configs import FORMATS, LEVELS, SECURITY_NAMES, BootstrapConfigError
from fleet.client.bootstrap.server_faults import KINDS
from fleet.client.config import BINDINGS
from fleet.client.registration import UINT32_MAX
from fleet.scenario.kinds import JSON, Context, Kind, label
from fleet.scenario.problems import KeyPath


def _described(text: str, **schema: object) -> JSON:
    return {**schema, "description": text}


_PATTERN: Final = "A pattern on {endpoint} (like the security: patterns of a group)."
SERVER_ACCOUNT_SCHEMA: Final[JSON] = {
    "type": "object",
    "description": "One LwM2M Server account the Bootstrap-Server writes (/0/x and /1/y).",
    "additionalProperties": False,
    "required": ["uri"],
    "properties": {
        "uri": _described("Server URI: coap:// (NoSec) or coaps:// (PSK).", type="string"),
        "short_server_id": _described(
            "Short Server ID (/0/x/10, /1/y/0).",
            type="integer",
            minimum=1,
            maximum=65534,
            default=1,
        ),
        "lifetime": _described(
            "Lifetime (/1/y/1), seconds.",
            type="integer",
            minimum=1,
            maximum=UINT32_MAX,
            default=86400,
        ),
        "binding": _described("Binding (/1/y/7).", enum=list(BINDINGS), default="U"),
        "security": _described(
            "Security Mode (/0/x/2): nosec, or psk (default when psk_identity is given).",
            enum=list(SECURITY_NAMES),
        ),
        "psk_identity": _described(f"PSK identity (/0/x/3). {_PATTERN}", type="string"),
        "psk_key": _described(f"PSK key (/0/x/5), hex: or base64:. {_PATTERN}", type="string"),
        "default_pmin": _described("Default Minimum Period (/1/y/2).", type="integer", minimum=0),
        "default_pmax": _described("Default Maximum Period (/1/y/3).", type="integer", minimum=0),
    },
}
CONFIGURATION_SCHEMA: Final[JSON] = {
    "type": "object",
    "description": "What the Bootstrap-Server does with the endpoints this entry matches.",
    "additionalProperties": False,
    "required": ["servers"],
    "properties": {
        "servers": _described(
            "The LwM2M Server accounts written (the device registers with each).",
            type="array",
            minItems=1,
            items=SERVER_ACCOUNT_SCHEMA,
        ),
        "delete": _described(
            "Paths Bootstrap-Deleted first (/, objects or instances).",
            type="array",
            items={"type": "string"},
            default=["/0", "/1"],
        ),
        "discover": _described("Bootstrap-Discover / first.", type="boolean", default=True),
        "format": _described("Content format of the Writes.", enum=list(FORMATS), default="tlv"),
        "level": _described(
            "One Write per instance, or per object.", enum=list(LEVELS), default="instance"
        ),
        "psk_identity": _described(
            f"The bootstrap account's own PSK identity (the server then serves DTLS). {_PATTERN}",
            type="string",
        ),
        "psk_key": _described(f"Its key. {_PATTERN}", type="string"),
    },
}


FAULT_SCHEMA: Final[JSON] = {
    "type": "object",
    "description": "One way the Bootstrap-Server fails on purpose (seeded, counted).",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": _described(
            "unauthorized (4.01), no-config (4.00), fail-write (an undecodable first Write), "
            "fail-finish (Finish never sent), slow (seconds before the first operation).",
            enum=list(KINDS),
        ),
        "endpoints": _described(
            "Endpoint name or fnmatch pattern it hits.", type="string", default="*"
        ),
        "probability": _described(
            "Chance per Bootstrap-Request.", type="number", minimum=0, maximum=1, default=1
        ),
        "seconds": _described("How slow (slow only).", type="number", exclusiveMinimum=0),
    },
}


@dataclass(frozen=True)
class BootstrapServerSection(Kind):
    """The top-level ``bootstrap:`` section (see the module docstring)."""

    def schema(self) -> JSON:
        return {
            "type": "object",
            "description": "The Bootstrap-Server's configurations, by endpoint.",
            "additionalProperties": False,
            "required": ["endpoints"],
            "properties": {
                "endpoints": {
                    "type": "object",
                    "minProperties": 1,
                    "description": "Endpoint name or fnmatch pattern (an exact name wins) -> "
                    "configuration.",
                    "additionalProperties": CONFIGURATION_SCHEMA,
                },
                "faults": _described(
                    "Server-side faults, in order (the first that fires wins).",
                    type="array",
                    items=FAULT_SCHEMA,
                ),
                "seed": _described(
                    "Seed of the faults' draws (the same seed replays a run).",
                    type="integer",
                    default=0,
                ),
            },
        }

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        try:
            return configs_from(
                value, where=tuple(p if isinstance(p, int) else str(p) for p in path)
            )
        except BootstrapConfigError as error:
            where = error.path
            return ctx.error(where, f"{label(where)}: {error.reason}", at_key=error.at_key)


BOOTSTRAP_SERVER: Final = BootstrapServerSection()
