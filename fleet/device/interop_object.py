"""Behaviour of the LwM2M v1.1 Test Object (3442), as its definition describes it.

- every value resource starts at the value its description requires
  ("initial value", 1024, 2**63, 3.14159, true, 0x0123456789ABCDEF, 946684800
  (2000-01-01), 3:0, ``</3442>``; the multiple ones hold that value as
  instance 0);
- Reset values (0) puts the instance back to those initial values;
- Randomize values (1) gives every value resource a random value from the
  device's seeded generator (1 to 10 instances for multiple resources, text and
  bytes of 20 at most), except Arguments List (4) and Resources to Send (6);
- Clear values (2): multiple resources empty, numbers 0, text empty, false,
  empty bytes, time 0 (1970-01-01), object links the null link 65535:65535;
- Exec With Arguments (3) stores its arguments into Arguments List (4): instance
  *digit* holds the argument's value, or an empty text when it has none;
- Send Data (5) asks the client to Send the paths listed in Resources to Send
  (6); argument 0 may choose the content format, argument 1 the timeout in ms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.device.arguments import Arguments
from fleet.device.behaviour import Behaviour
from fleet.device.events import DeviceEvent, SendRequested
from fleet.device.random_values import random_instances, random_value
from fleet.device.store import DeviceStore
from fleet.errors import BadRequest, FleetError
from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.path import Path
from fleet.model.types import ResourceType
from fleet.model.values import ObjectLink, Value

NULL_LINK: Final = ObjectLink(65535, 65535)
_INITIAL: Final[dict[int, object]] = {
    110: "initial value",
    120: 1024,
    125: 2**63,
    130: 3.14159,
    140: True,
    150: bytes.fromhex("0123456789ABCDEF"),
    160: 946684800,
    170: ObjectLink(3, 0),
    180: "</3442>",
}
_CLEARED: Final[dict[ResourceType, Value]] = {
    ResourceType.STRING: "",
    ResourceType.CORELNK: "",
    ResourceType.INTEGER: 0,
    ResourceType.UNSIGNED_INTEGER: 0,
    ResourceType.FLOAT: 0.0,
    ResourceType.BOOLEAN: False,
    ResourceType.OPAQUE: b"",
    ResourceType.TIME: 0,
    ResourceType.OBJLNK: NULL_LINK,
}


class TestObjectBehaviour(Behaviour):
    """Object 3442: the executables of the interoperability test object."""

    __test__ = False  # not a pytest test class, whatever its name
    object_id = 3442
    RESET, RANDOMIZE, CLEAR, EXEC_WITH_ARGUMENTS, ARGUMENTS_LIST = 0, 1, 2, 3, 4
    SEND_DATA, RESOURCES_TO_SEND = 5, 6
    KEPT_BY_RANDOMIZE: Final = frozenset({ARGUMENTS_LIST, RESOURCES_TO_SEND})

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        values: dict[int, object] = dict(_INITIAL)
        values.update({rid + 1000: [value] for rid, value in _INITIAL.items()})
        values[self.ARGUMENTS_LIST] = []
        values[self.RESOURCES_TO_SEND] = []
        return values

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        if resource_id == self.RESET:
            tree.restore_instance(self.object_id, instance_id)
        elif resource_id == self.RANDOMIZE:
            self._randomize(tree, instance_id)
        elif resource_id == self.CLEAR:
            for resource in self._values(tree):
                cleared: object = {} if resource.multiple else _CLEARED[resource.type]
                tree.store(self.object_id, instance_id, resource.id, cleared)
        elif resource_id == self.EXEC_WITH_ARGUMENTS:
            listed = {digit: value or "" for digit, value in arguments.items()}
            tree.store(self.object_id, instance_id, self.ARGUMENTS_LIST, listed)
        elif resource_id == self.SEND_DATA:
            return self._send(tree, instance_id, arguments)
        return None

    def _values(self, tree: DeviceStore) -> list[ResourceModel]:
        return [r for r in tree.supported(self.object_id) if not r.executable]

    def _randomize(self, tree: DeviceStore, instance_id: int) -> None:
        rng = tree.rng
        for resource in self._values(tree):
            if resource.id in self.KEPT_BY_RANDOMIZE:
                continue
            value: object = (
                random_instances(resource, rng)
                if resource.multiple
                else random_value(resource, rng)
            )
            tree.store(self.object_id, instance_id, resource.id, value)

    def _send(self, tree: DeviceStore, instance_id: int, arguments: Arguments) -> SendRequested:
        here = Path(self.object_id, instance_id, self.SEND_DATA)
        listed = tree.stored(self.object_id, instance_id, self.RESOURCES_TO_SEND)
        texts = list(listed.values()) if isinstance(listed, dict) else []
        paths: list[Path] = []
        for text in texts:
            try:
                path = Path.parse(str(text))
            except FleetError:
                raise BadRequest(
                    f"{here}: Resources to Send lists {text!r}, which is not a path"
                ) from None
            if not path:
                raise BadRequest(f"{here}: Resources to Send lists the root path")
            paths.append(path)
        if not paths:
            raise BadRequest(
                f"{here}: Resources to Send (/{self.object_id}/{instance_id}/6) is empty"
            )
        content_format = _number_argument(here, arguments, 0, "content format")
        timeout_ms = _number_argument(here, arguments, 1, "timeout in ms")
        timeout = timeout_ms / 1000 if timeout_ms is not None else None
        return SendRequested(here, tuple(paths), content_format, timeout)


def _number_argument(here: Path, arguments: Arguments, digit: int, what: str) -> int | None:
    if digit not in arguments:
        return None
    text = arguments[digit]
    if text is None or not text.isascii() or not text.isdigit():
        raise BadRequest(f"{here}: argument {digit} must be the {what} as digits, got {text!r}")
    return int(text)
