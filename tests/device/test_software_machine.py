"""Object 9 Software Management's state machine, table-tested: every transition, every refused
operation with 4.05, failures back to Initial with their codes; and through the tree."""

from __future__ import annotations

import itertools

import pytest

from fleet.clock import ManualClock
from fleet.device.firmware.software import (
    DOWNLOAD_FAILURES,
    SERVER_TRIGGERS,
    SOFTWARE_TABLE,
    SoftwareDownloadRequested,
    SoftwarePackageWritten,
    SoftwareResult,
    SoftwareState,
    SoftwareStep,
    SoftwareTrigger,
    software_advance,
    software_transition,
)
from fleet.device.layout import DeviceLayout
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError, MethodNotAllowed
from fleet.model.nodes import SingleResource
from fleet.model.shipped import shipped_registry

S, T, R = SoftwareState, SoftwareTrigger, SoftwareResult
EXPECTED = {
    (S.INITIAL, T.WRITE_PACKAGE): (S.DOWNLOAD_STARTED, R.DOWNLOADING, None),
    (S.DOWNLOAD_STARTED, T.DOWNLOADED): (S.DOWNLOADED, None, None),
    (S.DOWNLOADED, T.VERIFIED): (S.DELIVERED, R.VERIFIED, None),
    (S.DELIVERED, T.INSTALL): (S.INSTALLED, R.INSTALLED, False),
    (S.DELIVERED, T.UNINSTALL): (S.INITIAL, R.INITIAL, False),
    (S.INSTALLED, T.ACTIVATE): (S.INSTALLED, None, True),
    (S.INSTALLED, T.DEACTIVATE): (S.INSTALLED, None, False),
    (S.INSTALLED, T.UNINSTALL): (S.INITIAL, R.INITIAL, False),
    (S.INSTALLED, T.INSTALL_FAILED): (S.DELIVERED, R.INSTALL_FAILURE, False),
}


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s, t in itertools.product(S, T) if t is not T.FAILED],
    ids=str,
)
def test_every_state_and_trigger(state: SoftwareState, trigger: SoftwareTrigger) -> None:
    expected = EXPECTED.get((state, trigger))
    if expected is not None:
        assert software_transition(state, trigger) == SoftwareStep(*expected)
    elif trigger in SERVER_TRIGGERS:
        with pytest.raises(MethodNotAllowed) as info:
            software_transition(state, trigger)
        assert info.value.code == (4, 5)
    else:
        with pytest.raises(FleetError) as other:
            software_transition(state, trigger)
        assert not isinstance(other.value, MethodNotAllowed)
    assert set(SOFTWARE_TABLE) == set(EXPECTED)


@pytest.mark.parametrize("result", list(R), ids=lambda r: r.name)
def test_failures(result: SoftwareResult) -> None:
    for state in S:
        if state in (S.DOWNLOAD_STARTED, S.DOWNLOADED) and result in DOWNLOAD_FAILURES:
            assert software_transition(state, T.FAILED, result) == SoftwareStep(S.INITIAL, result)
        else:
            with pytest.raises(FleetError):
                software_transition(state, T.FAILED, result)


def test_codes_are_within_the_definition() -> None:
    model = shipped_registry().get(9)
    state, result = model.resource(7), model.resource(9)
    assert max(S) == state.range.high  # type: ignore[union-attr]
    assert all(result.range.low <= r <= result.range.high for r in R)  # type: ignore[union-attr]


def test_through_the_tree() -> None:
    tree = ObjectTree.build(
        shipped_registry(), DeviceLayout.of({3: [0], 9: [0, 1]}), clock=ManualClock()
    )
    seen: list[object] = []
    tree.add_event_listener(seen.append)
    with pytest.raises(MethodNotAllowed):
        tree.execute("/9/0/4")  # Install in Initial
    tree.write("/9/0/3", SingleResource(3, "coap://127.0.0.1/sw"), replace=True)
    assert isinstance(seen[-1], SoftwareDownloadRequested) and seen[-1].path[1] == 0
    assert (tree.value("/9/0/7"), tree.value("/9/0/9")) == (1, 1)
    with pytest.raises(MethodNotAllowed):
        tree.write("/9/0/2", SingleResource(2, b"pkg"), replace=True)
    tree.write("/9/1/2", SingleResource(2, b"pkg"), replace=True)  # another instance: its own
    assert isinstance(seen[-1], SoftwarePackageWritten) and seen[-1].data == b"pkg"
    assert tree.stored(9, 1, 2, raw=True) == b""
    software_advance(tree, 0, T.DOWNLOADED)
    software_advance(tree, 0, T.VERIFIED)
    tree.execute("/9/0/4")
    tree.execute("/9/0/10")
    assert (tree.value("/9/0/7"), tree.value("/9/0/9"), tree.value("/9/0/12")) == (4, 2, True)
    with pytest.raises(MethodNotAllowed):
        tree.execute("/9/1/10")
    tree.execute("/9/0/6")
    assert (tree.value("/9/0/7"), tree.value("/9/0/12")) == (0, False)
