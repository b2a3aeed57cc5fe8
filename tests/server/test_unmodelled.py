"""The server reads and writes what the devices' own objects hold, with the models it has.

With the device's object definition (``models=``) every value is typed by the model; without
one, nothing is dropped silently: the answer names the paths (``unmodelled``), shows the values
whose format carries their type, and a Write of one plain value goes as text/plain.
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.codec import ContentFormat
from fleet.model import ModelRegistry, Path
from fleet.server import Lwm2mServer, NoModel
from tests.server.unmodelled_fixtures import TANK_LAYOUT, TANK_VALUES, tank_registry

pytestmark = pytest.mark.asyncio
WAIT = 5.0
Start = Callable[..., Awaitable[tuple[Lwm2mServer, Device]]]


@pytest_asyncio.fixture
async def start(tmp_path: pathlib.Path) -> AsyncIterator[Start]:
    """``await start(models=..., content_format=...)``: a server and a tank device."""
    opened: list[tuple[Lwm2mServer, Device]] = []
    registry = tank_registry(tmp_path)

    async def make(
        models: ModelRegistry | None = None, content_format: ContentFormat | None = None
    ) -> tuple[Lwm2mServer, Device]:
        server = await Lwm2mServer.start(models=models, request_timeout=WAIT)
        config = DeviceConfig(
            endpoint="tank-1",
            server=server.uri,
            layout=TANK_LAYOUT,
            registry=registry,
            values=dict(TANK_VALUES),
            content_format=content_format,
        )
        device = Device(config)
        opened.append((server, device))
        await device.start()
        await server.wait_for_registration("tank-1", WAIT)
        return server, device

    yield make
    for server, device in opened:
        await device.stop(deregister=False)
        await server.stop()


async def test_with_the_model_every_value_is_typed(start: Start, tmp_path: pathlib.Path) -> None:
    server, _ = await start(models=tank_registry(tmp_path))
    for fmt in ("tlv", "senml-json", "senml-cbor", "lwm2m-json"):
        result = await server.read("tank-1", "/20500/0", format=fmt)
        assert result.ok and result.unmodelled == ()
        assert dict(result.values) == {
            Path(20500, 0, 0): "north",
            Path(20500, 0, 1): 42.5,
            Path(20500, 0, 2): 7,
            Path(20500, 0, 3): True,
        }, fmt
    single = await server.read("tank-1", "/20500/0/1")  # text/plain: typed by the model
    assert single.content_format == ContentFormat.TEXT and single.value == 42.5


async def test_without_a_model_values_are_shown_as_sent_and_named(start: Start) -> None:
    server, _ = await start()
    text = await server.read("tank-1", "/20500/0/1", format="text")
    assert text.value == "42.5"  # the text the device sent, not a number the server guessed
    assert text.unmodelled == (Path(20500, 0, 1),)
    senml = await server.read("tank-1", "/20500/0", format="senml-json")
    assert dict(senml.values) == {
        Path(20500, 0, 0): "north",
        Path(20500, 0, 1): 42.5,
        Path(20500, 0, 2): 7,
        Path(20500, 0, 3): True,
    }  # SenML's own types: vs, v, vb
    assert senml.unmodelled == tuple(Path(20500, 0, r) for r in range(4))
    tlv = await server.read("tank-1", "/20500/0", format="tlv")
    assert tlv.values == {} and tlv.decode_error is None
    assert tlv.unmodelled == tuple(Path(20500, 0, r) for r in range(4))  # said, not dropped


async def test_the_shipped_objects_need_no_extra_model(start: Start) -> None:
    server, _ = await start()
    known = await server.read("tank-1", "/3/0", format="senml-cbor")
    assert known.unmodelled == ()  # the shipped Device object types it all


async def test_a_write_without_a_model_goes_as_text(start: Start) -> None:
    server, device = await start()
    result = await server.write("tank-1", "/20500/0/0", "south")
    assert result.ok, result
    assert device.tree.value("/20500/0/0") == "south"
    assert (await server.write("tank-1", "/20500/0/2", 12)).ok
    assert device.tree.value("/20500/0/2") == 12
    assert (await server.write("tank-1", "/20500/0/3", False)).ok  # "0", LwM2M's Boolean text
    assert device.tree.value("/20500/0/3") is False


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        ("/20500/0", {0: "x"}, "no model for /20500/0: cannot encode an instance without one"),
        ("/20500", {0: {0: "x"}}, "no model for /20500: cannot encode an object without one"),
        ("/20500/0/0", ["a", "b"], "not a list"),
        ("/20500/0/0", b"\x00", "not bytes"),
        ("/20500/0/1", float("nan"), "not nan"),
    ],
)
async def test_a_write_the_server_cannot_encode_says_why(
    start: Start, path: str, value: object, why: str
) -> None:
    server, _ = await start()
    with pytest.raises(NoModel) as caught:
        await server.write("tank-1", path, value)
    assert why in str(caught.value)
    assert "load its definition with --objects DIR" in str(caught.value)


async def test_a_write_without_a_model_in_another_format_is_refused(start: Start) -> None:
    server, _ = await start()
    with pytest.raises(NoModel, match="text/plain only, not tlv"):
        await server.write("tank-1", "/20500/0/0", "x", format="tlv")
