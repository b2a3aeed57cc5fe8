"""A validated scenario as frozen data, ready for the runner.

:class:`Scenario` holds everything a run needs: the target server, the seed,
the run duration, the device groups (each with a compiled
:class:`~fleet.device.template.TreeTemplate`, its generators and its
endpoint pattern), the arrival phases, churn, thresholds and faults (windows
already in run time), and the model registry the groups were checked against.

Device indexes are global: the first group's devices are ``0 .. count-1``,
the next group's follow, and so on in file order. The endpoint pattern, the
per-device random generator and the arrival order all use that index, so
the same seed gives the same fleet whatever the shard count.
"""

from __future__ import annotations

import bisect
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fleet.client.bootstrap.configs import BootstrapConfigs
from fleet.client.config import DEFAULT_AWAKE_TIME
from fleet.client.firmware.settings import FirmwareSettings
from fleet.codec import ContentFormat
from fleet.device import DeviceLayout, TreeTemplate
from fleet.errors import ScenarioError
from fleet.model import ModelRegistry, Path
from fleet.scenario.phases import Churn, Phase
from fleet.scenario.problems import Mark
from fleet.scenario.thresholds import Threshold

if TYPE_CHECKING:
    from fleet.client.certificates import CertificateSource
    from fleet.client.credentials import CredentialSource
    from fleet.device.generators import GeneratorSpec
    from fleet.faults import Fault
    from fleet.scenario.bootstrap import BootstrapTarget

DEFAULT_PORT = 5683
DEFAULT_SECURE_PORT = 5684


@dataclass(frozen=True, slots=True)
class ServerTarget:
    """Where the fleet registers: ``coap://host:port`` or ``coaps://host:port`` (DTLS)."""

    host: str
    port: int = DEFAULT_PORT
    scheme: str = "coap"

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class Group:
    """Devices that share one configuration.

    ``first_index`` is the global index of the group's first device;
    :meth:`endpoint` renders the endpoint pattern for a global index.
    ``content_format`` is the device's preferred format (``None``: the
    specification's default for its LwM2M version). ``generators`` drive
    resource values over time (parsed once, shared by every device).
    """

    name: str
    count: int
    first_index: int
    endpoint_pattern: str
    lwm2m_version: str
    lifetime: int
    binding: str
    content_format: ContentFormat | None
    layout: DeviceLayout
    generators: Mapping[Path, GeneratorSpec]
    send_enabled: bool
    template: TreeTemplate = field(compare=False, repr=False)
    awake_time: float = DEFAULT_AWAKE_TIME
    security: CredentialSource | CertificateSource | None = field(
        default=None, compare=False, repr=False
    )
    bootstrap: BootstrapTarget | None = None
    """The group's Bootstrap-Server (``None``: the devices register with ``server:``)."""
    lwm2m_fallback: tuple[str, ...] = ()
    """Versions tried next, in order, when a server refuses ``lwm2m_version`` with 4.12."""
    firmware: FirmwareSettings | None = None
    """Object 5 behaviour (``firmware:``); ``None``: the defaults, when the group has /5."""

    @property
    def indexes(self) -> range:
        return range(self.first_index, self.first_index + self.count)

    def endpoint(self, index: int) -> str:
        """The endpoint name of the device with this global index."""
        return self.endpoint_pattern.format(index=index)


RuleCheck = Callable[[str], "str | None"]
"""What is wrong with an ``on_register`` rule, or ``None``. The rules are in the server's
command language, which this layer cannot import: the commands that know it (``fleet
validate``, ``fleet run``, ``fleet server``) pass its checker to
:meth:`EmbeddedServer.problems`."""


@dataclass(frozen=True)
class EmbeddedServer:
    """``embedded_server:``: what the embedded server does when it serves the scenario."""

    on_register: tuple[str, ...] = ()
    """Rules run against every device as it registers (console commands, no endpoint)."""
    concurrency: int | None = None
    """Devices the rules talk to at once (``None``: the server's default)."""
    marks: tuple[Mark, ...] = field(default=(), compare=False, repr=False)
    """Where each rule is written (file:line:col)."""

    def problems(self, check: RuleCheck) -> list[ScenarioError]:
        """Every rule ``check`` refuses, as an error at the rule's place."""
        found = []
        for index, rule in enumerate(self.on_register):
            problem = check(rule)
            if problem is not None:
                mark = self.marks[index] if index < len(self.marks) else Mark()
                found.append(mark.error(f"embedded_server.on_register[{index}]: {problem}"))
        return found


@dataclass(frozen=True)
class Scenario:
    """A whole validated scenario. ``duration`` ``None`` runs until stopped."""

    source: str
    server: ServerTarget
    seed: int
    duration: float | None
    groups: tuple[Group, ...]
    phases: tuple[Phase, ...]
    churn: Churn | None
    thresholds: tuple[Threshold, ...]
    objects_dirs: tuple[pathlib.Path, ...]
    description: str = ""
    version: int = 1
    registry: ModelRegistry = field(default_factory=ModelRegistry, compare=False, repr=False)
    faults: tuple[Fault, ...] = ()
    bootstrap: BootstrapConfigs | None = field(default=None, compare=False, repr=False)
    """The top-level ``bootstrap:`` section: what the embedded Bootstrap-Server writes."""
    embedded_server: EmbeddedServer = field(default_factory=EmbeddedServer)

    @property
    def device_count(self) -> int:
        return sum(group.count for group in self.groups)

    def group_of(self, index: int) -> Group:
        """The group of the device with this global index."""
        if not 0 <= index < self.device_count:
            raise IndexError(f"device index {index} is outside 0..{self.device_count - 1}")
        starts = [group.first_index for group in self.groups]
        return self.groups[bisect.bisect_right(starts, index) - 1]

    def endpoint(self, index: int) -> str:
        return self.group_of(index).endpoint(index)

    def summary(self) -> str:
        """``200 devices in 2 groups, 3 phases`` (``, 4 faults`` with faults; what
        ``fleet validate`` prints)."""
        devices = self.device_count
        groups = len(self.groups)
        phases = len(self.phases)
        faults = len(self.faults)
        return (
            f"{devices} device{'s' * (devices != 1)} in {groups} group{'s' * (groups != 1)}, "
            f"{phases} phase{'s' * (phases != 1)}"
            + (f", {faults} fault{'s' * (faults != 1)}" if faults else "")
        )
