"""When a device falls back to bootstrap after its registrations failed (a pure rule).

LwM2M 1.1 Core, the registration procedure (6.2.1.1) with the Server object's
resource 16, "Bootstrap on Registration Failure" (Appendix E.2): the resource
is read per Server instance, and a client with a Bootstrap-Server starts a
Client Initiated Bootstrap when the registration sequences failed, for a
server whose ``/1/x/16`` is true (absent means true). Read with the rest of
the procedure (a client registers with *every* server account it has), the
device falls back only once

- every server account's registration sequences all failed (none registered,
  none still retrying: a second server still in its back-off keeps the device
  waiting), and
- at least one of those failed accounts has ``/1/x/16`` true or absent (an
  account with ``false`` never asks for the bootstrap itself; when every failed
  account says ``false`` the device stays failed).
"""

from __future__ import annotations

from collections.abc import Iterable

from fleet.device.store import DeviceStore

SERVER = 1
BOOTSTRAP_ON_FAILURE = 16


def bootstrap_on_failure(store: DeviceStore, server_instance: int | None) -> bool:
    """``/1/x/16`` of ``server_instance``: true unless stored false."""
    if server_instance is None:
        return True
    return store.stored(SERVER, server_instance, BOOTSTRAP_ON_FAILURE) is not False


def falls_back(store: DeviceStore, accounts: Iterable[tuple[int | None, bool]]) -> bool:
    """Whether to bootstrap again, from ``(server instance, failed for good)`` of every
    server account the device registers with (see the module docstring)."""
    seen = list(accounts)
    if not seen or not all(failed for _, failed in seen):
        return False
    return any(bootstrap_on_failure(store, instance) for instance, _ in seen)
