"""The scenario format, declared once: every key, its kind, default and description.

This declaration is the single source of truth: :mod:`fleet.scenario.loader`
checks files with it and :func:`fleet.scenario.schema.json_schema` publishes
it as JSON Schema. Keys are snake_case (``lwm2m_version``, ``send_enabled``),
like generator parameters and metric names, except the phase keys
``arrivalRate``, ``rampTo`` and ``arrivalCount``, spelled as load testers
know them (Artillery). A key written in the other style gets a "did you
mean" suggestion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from fleet.client.config import DEFAULT_AWAKE_TIME
from fleet.client.registration import DEFAULT_LIFETIME, UINT32_MAX
from fleet.codec import ContentFormat
from fleet.model.path import MAX_ID
from fleet.scenario import thresholds
from fleet.scenario.bootstrap import BOOTSTRAP
from fleet.scenario.bootstrap_server import BOOTSTRAP_SERVER
from fleet.scenario.containers import (
    Alternatives,
    Field,
    Key,
    ListOf,
    MapOf,
    Record,
    Shorthand,
    Variants,
)
from fleet.scenario.faults import FAULT
from fleet.scenario.firmware import FIRMWARE
from fleet.scenario.kinds import (
    JSON,
    AnyValue,
    Boolean,
    Choice,
    Custom,
    Duration,
    Integer,
    Number,
    Text,
)
from fleet.scenario.model import DEFAULT_PORT, ServerTarget
from fleet.scenario.parsers import (
    SCENARIO_VERSION,
    GeneratorKind,
    parse_content_format,
    parse_metric,
    parse_object_id,
    parse_resource_path,
    parse_scenario_version,
    parse_server,
    parse_version_text,
    threshold_expression,
)
from fleet.scenario.security import SECURITY

DEFAULT_SERVER: Final = ServerTarget("127.0.0.1", DEFAULT_PORT)
DEFAULT_ENDPOINT: Final = "sim-{index:06d}"
LWM2M_VERSIONS: Final = ("1.0", "1.1", "1.2")
MANDATORY_OBJECTS: Final = (0, 1, 3)
"""Security, Server and Device: every group has them (instance 0 unless listed)."""
MAX_GROUP_SIZE: Final = 10_000_000


def _custom(parse: Callable[[object], object], schema: JSON) -> Custom:
    return Custom(parse, schema)


SERVER = _custom(
    parse_server,
    {"type": "string", "pattern": r"^coaps?://", "examples": ["coap://127.0.0.1:5683"]},
)
INSTANCES: Final = ListOf(Integer(0, MAX_ID - 1), min_items=1)

OBJECT_ENTRY: Final = Alternatives(
    INSTANCES,
    Record(
        "object",
        "An object with its instances and, optionally, its version.",
        (
            Field(
                "instances",
                INSTANCES,
                "Instance ids the device starts with.",
                default=[0],
                schema_default=[0],
            ),
            Field(
                "version",
                _custom(parse_version_text, {"type": ["string", "number"]}),
                "Object version (default: the newest made for the group's LwM2M version).",
            ),
            Field(
                "optional",
                Boolean(),
                "Instantiate optional resources (false: only mandatory ones and those given "
                "an initial value).",
                default=True,
                schema_default=True,
            ),
        ),
    ),
    "a list of instance ids or a mapping with instances and version",
)

GROUP: Final = Record(
    "group",
    "Devices that share one configuration.",
    (
        Field(
            "name",
            Text(r"^[A-Za-z][A-Za-z0-9_-]*$", "a name of letters, digits, - and _"),
            "Name in the summary and for --set groups.NAME.key (default group-1, group-2...).",
        ),
        Field("count", Integer(1, MAX_GROUP_SIZE), "Number of devices.", required=True),
        Field(
            "endpoint",
            Text(),
            "Endpoint name pattern; {index} is the device's index in the whole fleet "
            "(e.g. sim-{index:06d}, urn:imei:35193454{index:07d}).",
            default=DEFAULT_ENDPOINT,
            schema_default=DEFAULT_ENDPOINT,
        ),
        Field(
            "lwm2m_version",
            ListOf(Choice(LWM2M_VERSIONS, numbers=True), min_items=1, single=True),
            "LwM2M version the devices speak; a list ([1.2, 1.1]) is tried in order, the "
            "next when a server refuses one with 4.12.",
            default="1.1",
            schema_default="1.1",
        ),
        Field(
            "lifetime",
            Duration(whole=True, maximum=UINT32_MAX),
            "Registration lifetime (whole seconds or 10m, 1h...).",
            default=DEFAULT_LIFETIME,
            schema_default=DEFAULT_LIFETIME,
        ),
        Field(
            "binding",
            Choice(("U", "UQ")),
            "U (UDP) or UQ (UDP with queue mode).",
            default="U",
            schema_default="U",
        ),
        Field(
            "format",
            _custom(
                parse_content_format,
                {"enum": [f.short_name for f in ContentFormat if f is not ContentFormat.LINK]},
            ),
            "Preferred content format (tlv, senml-json, senml-cbor, lwm2m-json, lwm2m-cbor, "
            "cbor, text, opaque); default: the LwM2M version's.",
        ),
        Field(
            "objects",
            MapOf(Key(parse_object_id, {"pattern": r"^[0-9]+$"}, "object ids"), OBJECT_ENTRY),
            "Objects and their instances: {3303: [0, 1]} or {3: {version: '1.1', "
            "instances: [0]}}. Objects 0, 1 and 3 are always there (instance 0 unless listed).",
            default={},
        ),
        Field(
            "values",
            MapOf(
                Key(parse_resource_path, {"pattern": r"^/?\d+/\d+/\d+(/\d+)?$"}, "paths"),
                AnyValue(),
            ),
            "Initial values by path: {'/3/0/0': ACME}; a multiple resource takes a list.",
            default={},
        ),
        Field(
            "generators",
            MapOf(
                Key(parse_resource_path, {"pattern": r"^/?\d+/\d+/\d+(/\d+)?$"}, "paths"),
                GeneratorKind(),
            ),
            "Value generators by path: {'/3303/0/5700': {kind: random_walk, min: -10, "
            "max: 40, step: 0.5, every: 10s}}.",
            default={},
        ),
        Field(
            "send_enabled",
            Boolean(),
            "The devices may use Send (LwM2M 1.1 or later).",
            default=False,
            schema_default=False,
        ),
        Field(
            "awake_time",
            Duration(positive=False),
            "Queue mode (binding UQ): how long a device stays reachable after each Update "
            "or notification before it sleeps.",
            default=DEFAULT_AWAKE_TIME,
            schema_default="93s",
        ),
        Field(
            "security",
            SECURITY,
            "DTLS pre-shared keys of the group's devices (for a coaps:// server).",
        ),
        Field(
            "bootstrap",
            BOOTSTRAP,
            "Bootstrap-Server the devices start from (coap://host:port, or {uri, security, "
            "hold_off, timeout}); the server account is then the one it writes.",
        ),
        Field(
            "firmware",
            FIRMWARE,
            "Firmware updates (Object 5, added when not listed): link speed, storage, "
            "loss handling, update duration; failures come from faults: firmware-*.",
        ),
    ),
)

_PHASE_NAME = Field("name", Text(), "Name shown in progress and summary.", default="")
RATE_PHASE: Final = Record(
    "rate phase",
    "arrivalRate devices per second for duration, ramping linearly to rampTo if given.",
    (
        Field("duration", Duration(), "How long the phase lasts.", required=True),
        Field("arrivalRate", Number(0), "Devices arriving per second at the start.", required=True),
        Field("rampTo", Number(0), "Devices per second reached at the end (linear ramp)."),
        _PHASE_NAME,
    ),
)
COUNT_PHASE: Final = Record(
    "count phase",
    "arrivalCount devices spread evenly over duration.",
    (
        Field("duration", Duration(), "How long the phase lasts.", required=True),
        Field("arrivalCount", Integer(1), "Devices arriving during the phase.", required=True),
        _PHASE_NAME,
    ),
)
PAUSE_PHASE: Final = Record(
    "pause phase",
    "Nobody arrives for this long.",
    (Field("pause", Duration(), "How long nobody arrives.", required=True), _PHASE_NAME),
)
PHASE: Final = Variants(
    "phase", (("pause", PAUSE_PHASE), ("arrivalCount", COUNT_PHASE), ("arrivalRate", RATE_PHASE))
)

CHURN: Final = Record(
    "churn",
    "Devices leaving and coming back while the run goes on.",
    (
        Field(
            "deregister_rate",
            Number(positive=True),
            "Registered devices de-registering per second (chosen at random).",
            required=True,
        ),
        Field(
            "away",
            Duration(positive=False),
            "How long a device stays away before registering again.",
            default=30.0,
            schema_default="30s",
        ),
        Field(
            "start",
            Duration(positive=False),
            "When churn begins, from the start of the run (default: when the last phase ends).",
        ),
    ),
)


THRESHOLD_EXPRESSION: Final = _custom(
    threshold_expression, {"type": "string", "pattern": thresholds.PATTERN}
)
THRESHOLDS: Final = MapOf(
    Key(parse_metric, {"enum": list(thresholds.METRICS)}, "metric names"),
    ListOf(
        Shorthand(
            THRESHOLD_EXPRESSION,
            Record(
                "threshold",
                "A threshold with options (the short form is the expression alone).",
                (
                    Field(
                        "threshold",
                        THRESHOLD_EXPRESSION,
                        "The expression, e.g. 'p(95)<2s'.",
                        required=True,
                    ),
                    Field(
                        "allow_empty",
                        Boolean(),
                        "Pass when the metric has no data (no sample, no attempt); "
                        "without it no data fails the threshold.",
                        default=False,
                        schema_default=False,
                    ),
                ),
            ),
        ),
        single=True,
    ),
)

EMBEDDED_SERVER: Final = Record(
    "embedded_server",
    "What the embedded server does when it serves this scenario (fleet server --scenario, "
    "fleet demo --scenario); a server of your own ignores it.",
    (
        Field(
            "on_register",
            ListOf(Text(), single=True),
            "Rules: console commands without the endpoint (READ, WRITE, EXECUTE, OBSERVE "
            "with pmin/pmax/gt/lt/st, UNOBSERVE; ';' joins several), run against every "
            "device as it registers and registers again, e.g. 'OBSERVE /3303/0/5700 pmin=1 "
            "pmax=10'. Added to --on-register.",
            default=[],
        ),
        Field(
            "concurrency",
            Integer(1, 10_000),
            "Devices the rules (and * commands) talk to at once (default 32; --concurrency wins).",
        ),
    ),
)

SCENARIO: Final = Record(
    "scenario",
    "An lwm2m-fleet scenario: which devices, how they arrive, what passes.",
    (
        Field(
            "version",
            _custom(parse_scenario_version, {"const": SCENARIO_VERSION}),
            "Scenario format version; must be 1.",
            required=True,
        ),
        Field("description", Text(), "Free text shown in the summary.", default=""),
        Field(
            "server",
            SERVER,
            "The LwM2M server: coap://host:port (port 5683 if omitted). "
            "Overridden by --server or FLEET_SERVER.",
            default=DEFAULT_SERVER,
            schema_default=DEFAULT_SERVER.uri,
        ),
        Field(
            "seed",
            Integer(0, 2**64 - 1),
            "Seed of every random choice: the same seed gives the same run. "
            "Overridden by --seed or FLEET_SEED.",
            default=0,
            schema_default=0,
        ),
        Field(
            "duration",
            Duration(),
            "How long the run lasts (absent: until stopped). Overridden by --duration or "
            "FLEET_DURATION.",
        ),
        Field(
            "objects",
            ListOf(Text()),
            "Folders (or files) of DDF XML object definitions, relative to this file.",
            default=[],
        ),
        Field(
            "groups",
            ListOf(GROUP, min_items=1),
            "Device groups; device indexes run through the groups in order.",
            required=True,
        ),
        Field(
            "phases",
            ListOf(PHASE),
            "Arrival phases, in order (absent: every device arrives at the start). Devices "
            "stay until the run ends; arrivals stop once the whole fleet has arrived.",
            default=[],
        ),
        Field("churn", CHURN, "Devices de-registering and coming back during the run."),
        Field(
            "thresholds",
            THRESHOLDS,
            "Pass/fail criteria per metric, k6 style: {register_duration: ['p(95)<2s']}.",
            default={},
        ),
        Field(
            "faults",
            ListOf(FAULT),
            "Faults the devices inject: rejections, drops, delays, silence, reboots, flaps...",
            default=[],
        ),
        Field(
            "bootstrap",
            BOOTSTRAP_SERVER,
            "What the embedded Bootstrap-Server writes per endpoint (fleet server "
            "--bootstrap-port N --scenario FILE): the shape of a --bootstrap-config file. A "
            "group's bootstrap: says where its devices bootstrap from.",
        ),
        Field("embedded_server", EMBEDDED_SERVER, EMBEDDED_SERVER.description),
    ),
)

FIELDS_BY_KEY: Final[Mapping[str, Field]] = SCENARIO.by_key
