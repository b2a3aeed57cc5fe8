"""The embedded LwM2M Bootstrap-Server (Core TS 1.1 §5.2.7, §6.1).

- :mod:`fleet.client.bootstrap.configs` (pure data, below the scenario, which reads it too):
  per-endpoint configurations (servers, security, PSK patterns), and
  :mod:`~fleet.client.bootstrap.config_reader` their YAML/JSON / scenario-section reader;
- :mod:`.plan`: the pure order of operations (Discover, Delete, Write, Finish) and payloads;
- :mod:`.faults`: seeded server-side failures;
- :mod:`.session`: the operations it sends (single ones, and the session after a request);
- :mod:`.server`: :class:`BootstrapServer`, the driver on one CoAP endpoint (UDP, DTLS-PSK).
"""

from fleet.client.bootstrap.config_reader import load_configs
from fleet.client.bootstrap.configs import (
    BootstrapConfig,
    BootstrapConfigError,
    BootstrapConfigs,
    ServerAccountSpec,
)
from fleet.server.bootstrap.faults import BootstrapFault, BootstrapFaults
from fleet.server.bootstrap.server import BootstrapServer

__all__ = [
    "BootstrapConfig",
    "BootstrapConfigError",
    "BootstrapConfigs",
    "BootstrapFault",
    "BootstrapFaults",
    "BootstrapServer",
    "ServerAccountSpec",
    "load_configs",
]
