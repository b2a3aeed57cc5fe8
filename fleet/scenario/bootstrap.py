"""A group's ``bootstrap:`` key: devices that start from a Bootstrap-Server.

Two forms::

    bootstrap: coap://127.0.0.1:5783          # the Bootstrap-Server URI (NoSec)

    bootstrap:
      uri: coaps://bs.example:5784           # DTLS-PSK with the bootstrap account's own keys
      security: {identity: "bs-{endpoint}", key: "hex:00112233{index:024x}"}
      hold_off: 5s                           # Client Hold Off Time (/0/0/11)
      timeout: 60s                           # how long to wait for Bootstrap-Finish
      forget_on_reboot: true                 # a fault: reboots lose the bootstrap result

The URI is judged by :func:`fleet.client.uri.parse_uri` like every server URI;
``security`` takes the PSK forms of the group's ``security:`` (patterns or a
keys file), separate from the server account's keys, which the Bootstrap-Server
writes. ``fleet validate`` checks that a ``coaps://`` bootstrap server has keys
and a ``coap://`` one has none. :func:`build_bootstrap` turns the checked entry
into a :class:`BootstrapTarget`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, cast

from fleet.client.config import DEFAULT_BOOTSTRAP_TIMEOUT
from fleet.client.credentials import CredentialSource
from fleet.client.registration import UINT32_MAX
from fleet.client.uri import parse_uri
from fleet.scenario.containers import Field, Record
from fleet.scenario.group_context import GroupContext
from fleet.scenario.kinds import JSON, Boolean, Context, Custom, Duration, Kind, label
from fleet.scenario.problems import KeyPath
from fleet.scenario.security import PSK_SECURITY, build_security


def parse_bootstrap_uri(value: object) -> str:
    """A judged Bootstrap-Server URI (its text as given)."""
    parse_uri(value, what="bootstrap server URI")  # a UriError is a ValueError: located
    assert isinstance(value, str)
    return value.strip()


BOOTSTRAP_URI: Final = Custom(
    parse_bootstrap_uri,
    {"type": "string", "pattern": r"^coaps?://", "examples": ["coap://127.0.0.1:5783"]},
)
BOOTSTRAP_RECORD: Final = Record(
    "bootstrap",
    "The group's Bootstrap-Server and the bootstrap account's own keys.",
    (
        Field("uri", BOOTSTRAP_URI, "Bootstrap-Server URI: coap:// or coaps://.", required=True),
        Field(
            "security",
            PSK_SECURITY,
            "DTLS pre-shared keys of the bootstrap account (for a coaps:// bootstrap server).",
        ),
        Field(
            "hold_off",
            Duration(whole=True, positive=False, maximum=UINT32_MAX),
            "Client Hold Off Time (/0/0/11) before the first Bootstrap-Request.",
            default=0,
            schema_default=0,
        ),
        Field(
            "timeout",
            Duration(),
            "How long a device waits for Bootstrap-Finish.",
            default=DEFAULT_BOOTSTRAP_TIMEOUT,
            schema_default="247s",
        ),
        Field(
            "forget_on_reboot",
            Boolean(),
            "A fault: a reboot loses what the bootstrap wrote, so the device bootstraps again.",
            default=False,
            schema_default=False,
        ),
    ),
)


@dataclass(frozen=True)
class UriOrRecord(Kind):
    """A URI text, or a mapping with ``uri`` and more."""

    uri: Kind
    record: Record

    def schema(self) -> JSON:
        return {"anyOf": [self.uri.schema(), self.record.schema()]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if isinstance(value, dict):
            return self.record.check(value, path, ctx)
        return {"uri": self.uri.check(value, path, ctx), "hold_off": 0, "timeout": None}


BOOTSTRAP: Final = UriOrRecord(BOOTSTRAP_URI, BOOTSTRAP_RECORD)


@dataclass(frozen=True)
class BootstrapTarget:
    """A group's Bootstrap-Server: URI, the bootstrap account's keys, hold-off, timeout."""

    uri: str
    security: CredentialSource | None = field(default=None, compare=False, repr=False)
    hold_off: int = 0
    timeout: float = DEFAULT_BOOTSTRAP_TIMEOUT
    forget_on_reboot: bool = False

    @property
    def secure(self) -> bool:
        return parse_uri(self.uri).secure


def build_bootstrap(
    g: GroupContext, raw: object, first_index: int, count: int, endpoint_pattern: str
) -> BootstrapTarget | None:
    """The group's :class:`BootstrapTarget` (``None`` without one or after a reported
    problem)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("uri"), str):
        return None
    where = (*g.path, "bootstrap")
    uri = str(raw["uri"])
    secure = parse_uri(uri).secure
    keys = raw.get("security")
    source = None
    if keys is not None:
        if not secure:
            g.error((*where, "security"), f"{label(where)}: keys need a coaps:// bootstrap server")
            return None
        built = build_security(
            g, keys, first_index, count, endpoint_pattern, entry=("bootstrap", "security")
        )
        if built is None:
            return None
        source = cast(CredentialSource, built)  # the PSK forms only: never certificates
    elif secure:
        g.error(
            where,
            f"{label(where)}: the bootstrap server {uri} speaks DTLS; give bootstrap: "
            "security: with the bootstrap account's pre-shared keys",
        )
        return None
    hold_off = raw.get("hold_off", 0)
    timeout = raw.get("timeout")
    return BootstrapTarget(
        uri=uri,
        security=source,
        hold_off=int(hold_off) if isinstance(hold_off, int | float) else 0,
        timeout=float(timeout) if isinstance(timeout, int | float) else DEFAULT_BOOTSTRAP_TIMEOUT,
        forget_on_reboot=raw.get("forget_on_reboot") is True,
    )
