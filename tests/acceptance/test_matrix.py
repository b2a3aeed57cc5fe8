"""Every device management and reporting operation, a real Device against a real Lwm2mServer.

Over real UDP on loopback, parametrised over the LwM2M versions and every content format the
device offers for the operation (:mod:`.formats`). Values the server decodes are compared with
the device's own tree. The error rows live in :mod:`.test_matrix_errors`.
"""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.codec import ContentFormat as F
from fleet.model import Path, flatten
from fleet.server import EventKind, Lwm2mServer

from .conftest import WAIT, DeviceFactory, within
from .formats import COMPOSITE, SINGLE, STRUCTURED, VERSIONS, cases

pytestmark = pytest.mark.asyncio

SINGLE_PATHS = ("/3/0/0", "/3303/0/5700", "/3442/0/120", "/3442/0/140", "/3442/0/170", "/3/0/7/1")
STRUCTURED_PATHS = ("/3", "/3/0", "/3442/0", "/3/0/7", "/3303/0/5700", "/3/0/7/1")


def tree_values(device: object, path: str) -> dict[Path, object]:
    target = Path.parse(path)
    return dict(flatten(device.tree.read(target), target))  # type: ignore[attr-defined]


# -- Read ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "fmt"), cases(SINGLE))
@pytest.mark.parametrize("path", SINGLE_PATHS)
async def test_read_single_value(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F, path: str
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.read("dev1", path, format=fmt))
    assert (result.code, result.content_format) == ("2.05", fmt), result
    assert result.decode_error is None
    assert dict(result.values) == tree_values(device, path)


@pytest.mark.parametrize(("version", "fmt"), cases(STRUCTURED))
@pytest.mark.parametrize("path", STRUCTURED_PATHS)
async def test_read_structured_at_every_level(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F, path: str
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.read("dev1", path, format=fmt))
    assert (result.code, result.content_format) == ("2.05", fmt), result
    assert result.decode_error is None
    expected = tree_values(device, path)
    assert expected and dict(result.values) == expected


@pytest.mark.parametrize("version", VERSIONS)
async def test_read_opaque_resource_as_opaque(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.read("dev1", "/3442/0/150", format=F.OPAQUE))
    assert (result.code, result.content_format) == ("2.05", F.OPAQUE)
    assert result.payload == device.tree.value(Path.parse("/3442/0/150"))


@pytest.mark.parametrize(
    ("version", "path", "fmt"),
    [
        ("1.0", "/3/0/0", F.TEXT),
        ("1.0", "/3/0", F.TLV),
        ("1.0", "/3442/0/150", F.OPAQUE),
        ("1.1", "/3/0/0", F.TEXT),
        ("1.1", "/3/0", F.SENML_CBOR),
        ("1.1", "/3442/0/150", F.OPAQUE),
        ("1.2", "/3/0", F.SENML_CBOR),
    ],
)
async def test_read_without_accept_uses_the_versions_default(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, path: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.read("dev1", path))
    assert (result.code, result.content_format) == ("2.05", fmt)
    assert dict(result.values) == tree_values(device, path)


async def test_register_then_read_on_register_saw_the_device(
    make_device: DeviceFactory, server: Lwm2mServer
) -> None:
    device = await make_device()
    record = server.device("dev1")
    assert record is not None and record.registration is not None
    assert record.registration.address == device.address
    assert record.info.manufacturer == device.tree.value(Path(3, 0, 0))


# -- Discover and Write-Attributes -----------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_write_attributes_then_discover_shows_them(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    await make_device(lwm2m_version=version)
    written = await within(server.write_attributes("dev1", "/3303/0/5700", pmin=2, pmax=30, gt=25))
    assert written.code == "2.04"
    assert (await within(server.write_attributes("dev1", "/3303/0", pmax=60))).code == "2.04"
    found = await within(server.discover("dev1", "/3303/0"))
    assert found.code == "2.05" and found.content_format == F.LINK
    links = {link.target: dict(link.attributes) for link in found.links}
    assert "/3303/0/5700" in links and "/3303/0/5601" in links
    assert {k: str(v) for k, v in links["/3303/0/5700"].items()} == {
        "pmin": "2",
        "pmax": "30",
        "gt": "25",
    }
    assert {k: str(v) for k, v in links["/3303/0"].items()} == {"pmax": "60"}
    removed = await within(server.write_attributes("dev1", "/3303/0/5700", gt=None))
    assert removed.code == "2.04"
    again = await within(server.discover("dev1", "/3303/0/5700"))
    attrs = {link.target: dict(link.attributes) for link in again.links}["/3303/0/5700"]
    assert "gt" not in attrs and str(attrs["pmin"]) == "2"


@pytest.mark.parametrize("version", VERSIONS)
async def test_discover_object_lists_instances_and_resources(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    found = await within(server.discover("dev1", "/3"))
    assert found.code == "2.05"
    targets = {link.target for link in found.links}
    expected = {str(p) for p, _ in device.tree.discover(Path(3))}
    assert targets == expected and {"/3", "/3/0", "/3/0/0"} <= targets


# -- Write -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "fmt"), cases(SINGLE) + cases(STRUCTURED))
async def test_write_resource_replace(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    text = f"written in {int(fmt)}"
    assert (await within(server.write("dev1", "/3442/0/110", text, format=fmt))).code == "2.04"
    assert (await within(server.write("dev1", "/3442/0/130", -2.5, format=fmt))).code == "2.04"
    assert device.tree.value(Path(3442, 0, 110)) == text
    assert device.tree.value(Path(3442, 0, 130)) == -2.5
    read = await within(server.read("dev1", "/3442/0/110", format=fmt))
    assert read.value == text


@pytest.mark.parametrize(("version", "fmt"), [(v, F.OPAQUE) for v in VERSIONS] + cases(STRUCTURED))
async def test_write_opaque_resource(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    blob = bytes(range(250, 256)) + b"\x00ok"
    assert (await within(server.write("dev1", "/3442/0/150", blob, format=fmt))).code == "2.04"
    assert device.tree.value(Path(3442, 0, 150)) == blob


@pytest.mark.parametrize(("version", "fmt"), cases(STRUCTURED))
async def test_write_instance_partial_keeps_the_rest(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    before = device.tree.value(Path(3442, 0, 130))
    values = {110: "partial", 120: -7, 1110: {3: "three"}}
    result = await within(server.write("dev1", "/3442/0", values, replace=False, format=fmt))
    assert result.code == "2.04", result
    tree = device.tree
    assert tree.value(Path(3442, 0, 110)) == "partial"
    assert tree.value(Path(3442, 0, 120)) == -7
    assert tree.value(Path(3442, 0, 130)) == before
    assert tree.value(Path(3442, 0, 1110)) == {0: "initial value", 3: "three"}


@pytest.mark.parametrize(("version", "fmt"), cases(STRUCTURED))
async def test_write_replace_multiple_resource_and_instance(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.write("dev1", "/3442/0/1120", {4: 40, 9: 90}, format=fmt))
    assert result.code == "2.04", result
    assert device.tree.value(Path(3442, 0, 1120)) == {4: 40, 9: 90}
    replaced = await within(server.write("dev1", "/3442/0", {110: "whole", 140: False}, format=fmt))
    assert replaced.code == "2.04", replaced
    assert device.tree.value(Path(3442, 0, 110)) == "whole"
    assert device.tree.value(Path(3442, 0, 140)) is False
    read = await within(server.read("dev1", "/3442/0", format=fmt))
    assert dict(read.values) == tree_values(device, "/3442/0")


# -- Execute, Create, Delete -----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_execute_with_arguments(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.execute("dev1", "/3442/0/3", "0='first',3='x-y',7"))
    assert result.code == "2.04"
    listed = device.tree.value(Path(3442, 0, 4))
    assert isinstance(listed, dict) and len(listed) == 3
    assert (await within(server.read("dev1", "/3442/0/4"))).values
    as_map = await within(server.execute("dev1", "/3442/0/3", {1: "one"}))
    assert as_map.code == "2.04"
    assert len(device.tree.value(Path(3442, 0, 4))) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize(("version", "fmt"), cases(STRUCTURED))
async def test_create_read_delete_instance(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    updates = server.expect(EventKind.UPDATE, endpoint="dev1")
    created = await within(
        server.create("dev1", "/3303", {5750: "created"}, instance_id=4, format=fmt)
    )
    assert created.code == "2.01", created
    assert sorted(device.tree.instances(3303)) == [0, 4]
    assert device.tree.value(Path(3303, 4, 5750)) == "created"
    await within(updates)  # the device tells the server about the new instance
    registration = server.registration("dev1")
    assert registration is not None and "</3303/4>" in registration.links
    read = await within(server.read("dev1", "/3303/4", format=fmt))
    assert read.code == "2.05" and dict(read.values) == tree_values(device, "/3303/4")
    assert (await within(server.delete("dev1", "/3303/4"))).code == "2.02"
    assert list(device.tree.instances(3303)) == [0]
    assert (await within(server.read("dev1", "/3303/4"))).code == "4.04"


@pytest.mark.parametrize("version", VERSIONS)
async def test_create_without_instance_id_lets_the_device_choose(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    created = await within(server.create("dev1", "/3442", {110: "new"}))
    assert created.code == "2.01" and created.location is not None
    new = created.location
    assert new[0] == 3442 and new[1] != 0
    assert device.tree.value(Path(3442, new[1], 110)) == "new"


# -- Composite operations (1.1+) -------------------------------------------------------------

COMPOSITE_PATHS = ("/3/0/0", "/3303/0", "/3442/0/1110")


@pytest.mark.parametrize(("version", "fmt"), cases(COMPOSITE))
async def test_read_composite(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.read_composite("dev1", COMPOSITE_PATHS, format=fmt))
    assert (result.code, result.content_format) == ("2.05", fmt), result
    expected: dict[Path, object] = {}
    for path in COMPOSITE_PATHS:
        expected.update(tree_values(device, path))
    assert dict(result.values) == expected


@pytest.mark.parametrize(("version", "fmt"), cases(COMPOSITE))
async def test_write_composite(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    values = {"/3442/0/110": "composite", "/3303/0/5750": "kitchen", "/3442/0/1120/2": 22}
    result = await within(server.write_composite("dev1", values, format=fmt))
    assert result.code == "2.04", result
    assert device.tree.value(Path(3442, 0, 110)) == "composite"
    assert device.tree.value(Path(3303, 0, 5750)) == "kitchen"
    assert device.tree.value(Path(3442, 0, 1120)) == {0: 1024, 2: 22}


@pytest.mark.parametrize(("version", "fmt"), cases(COMPOSITE))
async def test_observe_composite_notifies_on_change_and_cancels(
    make_device: DeviceFactory,
    server: Lwm2mServer,
    clock: ManualClock,
    version: str,
    fmt: F,
) -> None:
    device = await make_device(lwm2m_version=version)
    handle = await within(
        server.observe_composite("dev1", ("/3442/0/120", "/3303/0/5750"), format=fmt)
    )
    assert handle.result is not None and handle.result.code == "2.05"
    assert handle.result.values[Path(3442, 0, 120)] == 1024
    device.tree.set_value(Path(3442, 0, 120), 5)
    await clock.advance(0)
    note = await handle.next(WAIT)
    assert note.content_format == fmt and note.values[Path(3442, 0, 120)] == 5
    assert note.values[Path(3303, 0, 5750)] == device.tree.value(Path(3303, 0, 5750))
    cancelled = await within(handle.cancel())
    assert cancelled.code == "2.05" and not handle.active
    assert not device.has_observations()


# -- Send (1.1+) -----------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "fmt"), cases(COMPOSITE))
async def test_send(make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F) -> None:
    device = await make_device(lwm2m_version=version)
    sent = server.expect(EventKind.SEND, endpoint="dev1")
    done = await within(device.send(["/3303/0/5700", "/3/0/9"], content_format=fmt))
    event = await within(sent)
    assert done.code == "2.04"
    assert dict(event.values) == {
        Path(3303, 0, 5700): device.tree.value(Path(3303, 0, 5700)),
        Path(3, 0, 9): device.tree.value(Path(3, 0, 9)),
    }


async def test_send_data_executable_sends_the_listed_paths(
    make_device: DeviceFactory, server: Lwm2mServer
) -> None:
    device = await make_device()
    assert (await within(server.write("dev1", "/3442/0/6", ["/3442/0/110"]))).code == "2.04"
    sent = server.expect(EventKind.SEND, endpoint="dev1")
    assert (await within(server.execute("dev1", "/3442/0/5"))).code == "2.04"
    event = await within(sent)
    assert dict(event.values) == {Path(3442, 0, 110): device.tree.value(Path(3442, 0, 110))}
