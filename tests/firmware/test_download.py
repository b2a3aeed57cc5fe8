"""The coap:// pull on its own, against an in-process fake file server on a ManualClock: the
link speed sets how long a download takes, losses resume, restart or fail as configured, a
changed representation restarts, error codes map to Update Results."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fleet.client.coap.blockwise import body_etag, slice_block
from fleet.client.coap.errors import CoapTimeout
from fleet.client.coap.wire import Message
from fleet.client.firmware.download import Pull, download_coap
from fleet.client.firmware.settings import LINK_SPEEDS, FirmwareSettings
from fleet.client.firmware.uri import Target, parse_package_uri
from fleet.clock import ManualClock
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageCheck, build_package

pytestmark = pytest.mark.asyncio

PACKAGE = build_package(bytes(range(256)) * 32, name="fw", version="9")  # 8 KiB + header
TARGET = Target("coap", "127.0.0.1", 5683, ("fw",), ())


class FakeFiles:
    """Answers Block2 GETs from ``body``; ``lose`` block numbers time out once each."""

    def __init__(self, body: bytes, lose: tuple[int, ...] = (), code: int = 69) -> None:
        self.body = body
        self.lose = list(lose)
        self.code = code
        self.asked: list[int] = []
        self.peers: frozenset[tuple[str, int]] | None = frozenset({("127.0.0.1", 1)})

    async def request(self, message: Any, remote: Any, **options: Any) -> Any:
        assert options["reassemble"] is False
        number, _, szx = message.opt.block2
        self.asked.append(number)
        if number in self.lose:
            self.lose.remove(number)
            raise CoapTimeout("lost")
        if self.code != 69:
            return Message(code=self.code)
        part = slice_block(self.body, number, szx)
        assert part is not None
        chunk, more = part
        response = Message(code=69, payload=chunk)
        response.opt.block2 = (number, more, szx)
        response.opt.etag = body_etag(self.body)
        return response


async def run(
    files: FakeFiles, settings: FirmwareSettings, clock: ManualClock, step: float = 0.5
) -> tuple[UpdateResult | None, Pull]:
    rules = settings.rules
    pull = Pull(PackageCheck(rules))
    task = asyncio.ensure_future(
        download_coap(lambda: files, TARGET, pull, settings, clock, lambda: PackageCheck(rules))
    )
    for _ in range(10_000):
        if task.done():
            break
        await clock.advance(step)
    return task.result(), pull


async def test_link_speed_sets_the_duration() -> None:
    clock = ManualClock()
    speed = 1024.0
    files = FakeFiles(PACKAGE)
    result, pull = await run(files, FirmwareSettings(link_speed=speed), clock)
    assert result is None and pull.check.finish().result is None
    expected = len(PACKAGE) / speed
    assert expected <= clock.now() <= expected + 0.5
    assert files.peers == {("127.0.0.1", 1), ("127.0.0.1", 5683)}


async def test_no_link_speed_takes_no_device_time() -> None:
    clock = ManualClock()
    result, _ = await run(FakeFiles(PACKAGE), FirmwareSettings(), clock)
    assert result is None and clock.now() <= 0.5


@pytest.mark.parametrize(
    ("on_loss", "asked_after_loss"),
    [("resume", 3), ("restart", 0)],
)
async def test_a_lost_block_resumes_or_restarts(on_loss: str, asked_after_loss: int) -> None:
    files = FakeFiles(PACKAGE, lose=(3,))
    settings = FirmwareSettings(on_loss=on_loss, retry_delay=2.0, block_szx=6)
    result, pull = await run(files, settings, ManualClock())
    assert result is None and pull.losses == 1
    assert pull.check.finish().result is None
    lost_at = files.asked.index(3)
    assert files.asked[lost_at + 1] == asked_after_loss
    assert pull.check.received == len(PACKAGE)


async def test_fail_on_loss_and_retries_spent() -> None:
    result, pull = await run(
        FakeFiles(PACKAGE, lose=(1,)), FirmwareSettings(on_loss="fail"), ManualClock()
    )
    assert (result, pull.losses) == (UpdateResult.CONNECTION_LOST, 1)
    result, pull = await run(
        FakeFiles(PACKAGE, lose=(1, 1, 1)), FirmwareSettings(retries=2), ManualClock()
    )
    assert (result, pull.losses) == (UpdateResult.CONNECTION_LOST, 3)


@pytest.mark.parametrize(("code", "result"), [(132, 7), (128, 7), (160, 4), (163, 4)])
async def test_error_codes(code: int, result: int) -> None:
    outcome, _ = await run(FakeFiles(PACKAGE, code=code), FirmwareSettings(), ManualClock())
    assert outcome == result


async def test_a_changed_representation_restarts() -> None:
    files = FakeFiles(PACKAGE)
    original = files.request
    calls = 0

    async def changing(message: Any, remote: Any, **options: Any) -> Any:
        nonlocal calls
        calls += 1
        response = await original(message, remote, **options)
        if calls == 3:
            response.opt.etag = b"new!"
        return response

    files.request = changing  # type: ignore[method-assign]
    result, pull = await run(files, FirmwareSettings(), ManualClock())
    assert result is None and pull.check.finish().result is None
    assert files.asked[:4] == [0, 1, 2, 0]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("coap://127.0.0.1:5690/a/b?x=1", Target("coap", "127.0.0.1", 5690, ("a", "b"), ("x=1",))),
        ("coap://localhost/fw", Target("coap", "127.0.0.1", 5683, ("fw",), ())),
        ("coap://[::1]/fw", Target("coap", "::1", 5683, ("fw",), ())),
        ("coap://127.0.0.1:99999/fw", UpdateResult.INVALID_URI),
        ("not a uri", UpdateResult.INVALID_URI),
        ("coap://example.org/fw", UpdateResult.INVALID_URI),
        ("coaps://127.0.0.1/fw", UpdateResult.UNSUPPORTED_PROTOCOL),
        ("http://127.0.0.1/fw", UpdateResult.UNSUPPORTED_PROTOCOL),
        ("gopher://127.0.0.1/fw", UpdateResult.UNSUPPORTED_PROTOCOL),
    ],
)
async def test_package_uris(uri: str, expected: object) -> None:
    assert parse_package_uri(uri, frozenset({0})) == expected


async def test_a_1_mib_image_takes_its_nb_iot_time() -> None:
    """The issue's example: at the NB-IoT default (3,000 B/s) a 1 MiB image takes ~350 s."""
    clock = ManualClock()
    image = build_package(bytes(1024 * 1024), name="fw", version="9")
    speed = LINK_SPEEDS["nb-iot"]
    assert speed == 3000
    result, pull = await run(FakeFiles(image), FirmwareSettings(link_speed=speed), clock, 2.0)
    assert result is None and pull.check.finish().result is None
    expected = len(image) / speed  # 349.6 s
    assert expected <= clock.now() <= expected + 2.0
