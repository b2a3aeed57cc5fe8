"""The Object 5 Firmware Update state machine (LwM2M 1.1 Core, Appendix E.6), as one table.

State (``/5/0/3``): 0 Idle, 1 Downloading, 2 Downloaded, 3 Updating. Update
Result (``/5/0/5``) codes 0..9. :func:`transition` answers the next
``(state, result)`` for a trigger, or raises
:class:`~fleet.errors.MethodNotAllowed` (4.05) when the LwM2M Server asked for
something the current state does not allow:

- Writing a package (``/5/0/0``) or a Package URI (``/5/0/1``) starts a
  download in Idle (whatever the last result), Update Result back to 0; in
  any other state the Write is refused (4.05: one firmware at a time).
- An empty Write to ``/5/0/0`` (or a single ``\\0`` byte) or ``/5/0/1`` resets
  the machine: Idle with Update Result 0, in every state but Updating (an
  update under way cannot be called back: 4.05).
- Execute Update (``/5/0/2``) only in Downloaded (the definition says so);
  anywhere else 4.05.
- The device's own triggers: the download completes (Downloaded) or fails
  (Idle with the failure's result: 2, 3, 4, 5, 6, 7 or 9), the update
  succeeds (Idle, 1) or fails: 8 "firmware update failed" keeps the package
  (back to Downloaded, the server may Execute again), any other failure (2,
  3, 5, 6) drops it (Idle). The definition lets the device choose between
  the two ("depending on the underlying reason of update failure").

A device trigger the state does not expect is a bug of the caller
(:class:`~fleet.errors.FleetError`), never an answer to the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

from fleet.errors import FleetError, MethodNotAllowed


class State(IntEnum):
    """``/5/0/3`` State."""

    IDLE = 0
    DOWNLOADING = 1
    DOWNLOADED = 2
    UPDATING = 3


class UpdateResult(IntEnum):
    """``/5/0/5`` Update Result, every code of the definition."""

    INITIAL = 0
    SUCCESS = 1
    NOT_ENOUGH_FLASH = 2
    OUT_OF_RAM = 3
    CONNECTION_LOST = 4
    INTEGRITY_FAILURE = 5
    UNSUPPORTED_PACKAGE_TYPE = 6
    INVALID_URI = 7
    UPDATE_FAILED = 8
    UNSUPPORTED_PROTOCOL = 9

    @property
    def label(self) -> str:
        """``integrity check failure`` and the like (for reports)."""
        return _LABELS[self]


_LABELS: Final = {
    UpdateResult.INITIAL: "initial",
    UpdateResult.SUCCESS: "updated",
    UpdateResult.NOT_ENOUGH_FLASH: "not enough flash",
    UpdateResult.OUT_OF_RAM: "out of RAM",
    UpdateResult.CONNECTION_LOST: "connection lost",
    UpdateResult.INTEGRITY_FAILURE: "integrity check failure",
    UpdateResult.UNSUPPORTED_PACKAGE_TYPE: "unsupported package type",
    UpdateResult.INVALID_URI: "invalid URI",
    UpdateResult.UPDATE_FAILED: "firmware update failed",
    UpdateResult.UNSUPPORTED_PROTOCOL: "unsupported protocol",
}


class Trigger(Enum):
    """What happens to the machine: the server's operations, then the device's own events."""

    WRITE_PACKAGE = "write package"
    WRITE_URI = "write package URI"
    RESET = "empty write"
    EXECUTE_UPDATE = "execute update"
    DOWNLOADED = "download complete"
    DOWNLOAD_FAILED = "download failed"
    UPDATED = "update succeeded"
    UPDATE_FAILED = "update failed"


SERVER_TRIGGERS: Final = frozenset(
    {Trigger.WRITE_PACKAGE, Trigger.WRITE_URI, Trigger.RESET, Trigger.EXECUTE_UPDATE}
)
DOWNLOAD_FAILURES: Final = frozenset(
    {
        UpdateResult.NOT_ENOUGH_FLASH,
        UpdateResult.OUT_OF_RAM,
        UpdateResult.CONNECTION_LOST,
        UpdateResult.INTEGRITY_FAILURE,
        UpdateResult.UNSUPPORTED_PACKAGE_TYPE,
        UpdateResult.INVALID_URI,
        UpdateResult.UNSUPPORTED_PROTOCOL,
    }
)
"""The results a failed download may end with."""
UPDATE_FAILURES: Final = frozenset(
    {
        UpdateResult.NOT_ENOUGH_FLASH,
        UpdateResult.OUT_OF_RAM,
        UpdateResult.INTEGRITY_FAILURE,
        UpdateResult.UNSUPPORTED_PACKAGE_TYPE,
        UpdateResult.UPDATE_FAILED,
    }
)
"""The results a failed update may end with."""


@dataclass(frozen=True, slots=True)
class Step:
    """The machine after a trigger."""

    state: State
    result: UpdateResult


_S, _R, _T = State, UpdateResult, Trigger
TABLE: Final[dict[tuple[State, Trigger], Step | None]] = {
    # Idle: a new download may start whatever the last result was
    (_S.IDLE, _T.WRITE_PACKAGE): Step(_S.DOWNLOADING, _R.INITIAL),
    (_S.IDLE, _T.WRITE_URI): Step(_S.DOWNLOADING, _R.INITIAL),
    (_S.IDLE, _T.RESET): Step(_S.IDLE, _R.INITIAL),
    (_S.IDLE, _T.EXECUTE_UPDATE): None,
    # Downloading
    (_S.DOWNLOADING, _T.WRITE_PACKAGE): None,
    (_S.DOWNLOADING, _T.WRITE_URI): None,
    (_S.DOWNLOADING, _T.RESET): Step(_S.IDLE, _R.INITIAL),
    (_S.DOWNLOADING, _T.EXECUTE_UPDATE): None,
    (_S.DOWNLOADING, _T.DOWNLOADED): Step(_S.DOWNLOADED, _R.INITIAL),
    # Downloaded
    (_S.DOWNLOADED, _T.WRITE_PACKAGE): None,
    (_S.DOWNLOADED, _T.WRITE_URI): None,
    (_S.DOWNLOADED, _T.RESET): Step(_S.IDLE, _R.INITIAL),
    (_S.DOWNLOADED, _T.EXECUTE_UPDATE): Step(_S.UPDATING, _R.INITIAL),
    # Updating: nothing the server does changes it
    (_S.UPDATING, _T.WRITE_PACKAGE): None,
    (_S.UPDATING, _T.WRITE_URI): None,
    (_S.UPDATING, _T.RESET): None,
    (_S.UPDATING, _T.EXECUTE_UPDATE): None,
    (_S.UPDATING, _T.UPDATED): Step(_S.IDLE, _R.SUCCESS),
}
"""Fixed transitions; ``None`` marks a server operation refused with 4.05. Failures with a
result are :func:`transition`'s (``DOWNLOAD_FAILED`` in Downloading, ``UPDATE_FAILED`` in
Updating)."""

_REFUSALS: Final = {
    Trigger.WRITE_PACKAGE: "a package can be written in the Idle state only",
    Trigger.WRITE_URI: "a Package URI can be written in the Idle state only",
    Trigger.RESET: "an update under way cannot be reset",
    Trigger.EXECUTE_UPDATE: "Update can be executed in the Downloaded state only",
}


def transition(state: State, trigger: Trigger, result: UpdateResult | None = None) -> Step:
    """The machine after ``trigger`` in ``state`` (``result``: the failure's code).

    Raises :class:`~fleet.errors.MethodNotAllowed` for a server operation the
    state refuses and :class:`~fleet.errors.FleetError` for a device trigger it
    does not expect (or a failure code that does not fit the trigger).
    """
    if trigger is Trigger.DOWNLOAD_FAILED:
        if state is not State.DOWNLOADING:
            raise FleetError(f"firmware: a download cannot fail in state {state.name}")
        if result not in DOWNLOAD_FAILURES:
            raise FleetError(f"firmware: {result!r} is not a download failure")
        return Step(State.IDLE, result)
    if trigger is Trigger.UPDATE_FAILED:
        if state is not State.UPDATING:
            raise FleetError(f"firmware: an update cannot fail in state {state.name}")
        if result not in UPDATE_FAILURES:
            raise FleetError(f"firmware: {result!r} is not an update failure")
        back = State.DOWNLOADED if result is UpdateResult.UPDATE_FAILED else State.IDLE
        return Step(back, result)
    key = (state, trigger)
    if key not in TABLE:
        raise FleetError(f"firmware: {trigger.value} is not expected in state {state.name}")
    step = TABLE[key]
    if step is None:
        raise MethodNotAllowed(
            f"/5/0: {_REFUSALS[trigger]} (State is {int(state)} {state.name.title()})"
        )
    return step
