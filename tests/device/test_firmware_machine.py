"""The Object 5 state machine, table-tested against the object definition: every transition,
every refused Execute and Write with its code, every Update Result code of the definition."""

from __future__ import annotations

import itertools
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from fleet.clock import ManualClock
from fleet.device.firmware.events import FirmwareReset, PackageUriWritten, PackageWritten
from fleet.device.firmware.machine import (
    DOWNLOAD_FAILURES,
    TABLE,
    UPDATE_FAILURES,
    State,
    Step,
    Trigger,
    UpdateResult,
    transition,
)
from fleet.device.layout import DeviceLayout
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError, MethodNotAllowed
from fleet.model.nodes import SingleResource
from fleet.model.shipped import shipped_registry

REGISTRY_5 = pathlib.Path(__file__).resolve().parents[3] / "shared" / "oma-registry" / "5.xml"
S, T, R = State, Trigger, UpdateResult

# (state, trigger) -> (state, result) or "4.05": written from the definition's text, not
# from the table under test
EXPECTED: dict[tuple[State, Trigger], tuple[State, UpdateResult] | str] = {
    (S.IDLE, T.WRITE_PACKAGE): (S.DOWNLOADING, R.INITIAL),
    (S.IDLE, T.WRITE_URI): (S.DOWNLOADING, R.INITIAL),
    (S.IDLE, T.RESET): (S.IDLE, R.INITIAL),
    (S.IDLE, T.EXECUTE_UPDATE): "4.05",
    (S.DOWNLOADING, T.WRITE_PACKAGE): "4.05",
    (S.DOWNLOADING, T.WRITE_URI): "4.05",
    (S.DOWNLOADING, T.RESET): (S.IDLE, R.INITIAL),
    (S.DOWNLOADING, T.EXECUTE_UPDATE): "4.05",
    (S.DOWNLOADING, T.DOWNLOADED): (S.DOWNLOADED, R.INITIAL),
    (S.DOWNLOADED, T.WRITE_PACKAGE): "4.05",
    (S.DOWNLOADED, T.WRITE_URI): "4.05",
    (S.DOWNLOADED, T.RESET): (S.IDLE, R.INITIAL),
    (S.DOWNLOADED, T.EXECUTE_UPDATE): (S.UPDATING, R.INITIAL),
    (S.UPDATING, T.WRITE_PACKAGE): "4.05",
    (S.UPDATING, T.WRITE_URI): "4.05",
    (S.UPDATING, T.RESET): "4.05",
    (S.UPDATING, T.EXECUTE_UPDATE): "4.05",
    (S.UPDATING, T.UPDATED): (S.IDLE, R.SUCCESS),
}
FAILURES = (T.DOWNLOAD_FAILED, T.UPDATE_FAILED)


@pytest.mark.parametrize(("state", "trigger"), list(EXPECTED), ids=str)
def test_every_fixed_transition(state: State, trigger: Trigger) -> None:
    expected = EXPECTED[(state, trigger)]
    if expected == "4.05":
        with pytest.raises(MethodNotAllowed) as info:
            transition(state, trigger)
        assert info.value.code == (4, 5)
    else:
        assert transition(state, trigger) == Step(*expected)


def test_the_table_has_nothing_else() -> None:
    assert set(TABLE) == set(EXPECTED)


@pytest.mark.parametrize("result", list(UpdateResult), ids=lambda r: r.name)
def test_failures_with_their_codes(result: UpdateResult) -> None:
    if result in DOWNLOAD_FAILURES:
        assert transition(S.DOWNLOADING, T.DOWNLOAD_FAILED, result) == Step(S.IDLE, result)
    else:
        with pytest.raises(FleetError):
            transition(S.DOWNLOADING, T.DOWNLOAD_FAILED, result)
    if result in UPDATE_FAILURES:
        back = S.DOWNLOADED if result is R.UPDATE_FAILED else S.IDLE
        assert transition(S.UPDATING, T.UPDATE_FAILED, result) == Step(back, result)
    else:
        with pytest.raises(FleetError):
            transition(S.UPDATING, T.UPDATE_FAILED, result)


def test_every_result_code_is_reachable() -> None:
    reachable = {R.INITIAL, R.SUCCESS} | DOWNLOAD_FAILURES | UPDATE_FAILURES
    assert reachable == set(UpdateResult)


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (s, t)
        for s, t in itertools.product(State, Trigger)
        if (s, t) not in EXPECTED and t not in FAILURES
    ],
    ids=str,
)
def test_unexpected_device_triggers_are_bugs_not_answers(state: State, trigger: Trigger) -> None:
    with pytest.raises(FleetError) as info:
        transition(state, trigger)
    assert not isinstance(info.value, MethodNotAllowed)


def test_codes_and_states_are_those_of_the_definition() -> None:
    model = shipped_registry().get(5)
    state, result = model.resource(3), model.resource(5)
    assert (state.range.low, state.range.high) == (0, len(State) - 1)  # type: ignore[union-attr]
    assert (result.range.low, result.range.high) == (0, 9)  # type: ignore[union-attr]
    if not REGISTRY_5.exists():
        pytest.skip("the OMA registry copy is not there")
    item = ET.parse(REGISTRY_5).getroot().find("./Object/Resources/Item[@ID='5']")
    assert item is not None
    text = item.findtext("Description") or ""
    for code in UpdateResult:
        words = code.label.split()[0].lower() if code.value > 1 else ""
        line = re.search(rf"^{code.value}: (.*)$", text, re.MULTILINE)
        assert line is not None, code
        assert words in line.group(1).lower(), (code, line.group(1))


# -- the same rules through the tree (what the LwM2M Server sees) --------------------------


@pytest.fixture
def tree() -> ObjectTree:
    layout = DeviceLayout.of({3: [0], 5: [0]})
    built = ObjectTree.build(shipped_registry(), layout, clock=ManualClock())
    return built


def events_of(tree: ObjectTree) -> list[object]:
    seen: list[object] = []
    tree.add_event_listener(seen.append)
    return seen


def test_tree_write_uri_starts_download_and_empty_write_resets(tree: ObjectTree) -> None:
    seen = events_of(tree)
    tree.write("/5/0/1", SingleResource(1, "coap://127.0.0.1/fw"), replace=True)
    assert (tree.value("/5/0/3"), tree.value("/5/0/5")) == (1, 0)
    assert isinstance(seen[-1], PackageUriWritten) and seen[-1].uri == "coap://127.0.0.1/fw"
    with pytest.raises(MethodNotAllowed):
        tree.write("/5/0/1", SingleResource(1, "coap://127.0.0.1/other"), replace=True)
    with pytest.raises(MethodNotAllowed):
        tree.execute("/5/0/2")
    assert tree.value("/5/0/1") == "coap://127.0.0.1/fw"
    tree.write("/5/0/0", SingleResource(0, b"\x00"), replace=True)
    assert (tree.value("/5/0/3"), tree.value("/5/0/5")) == (0, 0)
    assert isinstance(seen[-1], FirmwareReset)


def test_tree_push_never_stores_the_package(tree: ObjectTree) -> None:
    seen = events_of(tree)
    tree.write("/5/0/0", SingleResource(0, b"firmware bytes"), replace=True)
    assert isinstance(seen[-1], PackageWritten) and seen[-1].data == b"firmware bytes"
    assert tree.stored(5, 0, 0, raw=True) == b""
    with pytest.raises(MethodNotAllowed):
        tree.read("/5/0/0")
