"""The package header we define and the streaming check: any split of the bytes gives the same
verdict; storage, type, integrity and headerless images mapped by hash."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import (
    MAGIC,
    PackageCheck,
    PackageError,
    PackageRules,
    build_package,
    read_header,
)

BODY = bytes(range(256)) * 9
PACKAGE = build_package(BODY, name="meter-fw", version="1.4.2", package_type="meter")
ROOMY = PackageRules(storage=1 << 20)


def check(data: bytes, rules: PackageRules = ROOMY, cuts: list[int] | None = None) -> PackageCheck:
    checker = PackageCheck(rules)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts or [])})
    for start, end in itertools.pairwise(points):
        checker.feed(data[start:end])
    return checker


@given(st.lists(st.integers(min_value=0, max_value=len(PACKAGE)), max_size=12))
def test_any_split_gives_the_same_verdict(cuts: list[int]) -> None:
    verdict = check(PACKAGE, cuts=cuts).finish()
    assert verdict.result is None and verdict.size == len(PACKAGE)
    assert verdict.info is not None
    assert (verdict.info.name, verdict.info.version, verdict.info.type) == (
        "meter-fw",
        "1.4.2",
        "meter",
    )
    assert verdict.info.sha256 == hashlib.sha256(BODY).hexdigest()


@given(st.integers(min_value=0, max_value=len(PACKAGE) - 1), st.lists(st.integers(), max_size=5))
def test_any_flipped_body_byte_fails_the_integrity_check(where: int, cuts: list[int]) -> None:
    header_length = len(PACKAGE) - len(BODY)
    index = header_length + where % len(BODY)
    broken = bytearray(PACKAGE)
    broken[index] ^= 0x5A
    assert check(bytes(broken), cuts=cuts).finish().result is UpdateResult.INTEGRITY_FAILURE


def test_truncated_and_extended_bodies_fail() -> None:
    assert check(PACKAGE[:-1]).finish().result is UpdateResult.INTEGRITY_FAILURE
    assert check(PACKAGE + b"x").finish().result is UpdateResult.INTEGRITY_FAILURE


def test_storage_is_noticed_from_the_header_and_from_the_bytes() -> None:
    small = PackageRules(storage=len(PACKAGE) - 1)
    checker = PackageCheck(small)
    assert checker.feed(PACKAGE[:200]) is UpdateResult.NOT_ENOUGH_FLASH  # the header says so
    headerless = PackageCheck(PackageRules(storage=100))
    assert headerless.feed(b"\x01" * 60) is None
    assert headerless.feed(b"\x01" * 60) is UpdateResult.NOT_ENOUGH_FLASH
    assert headerless.finish().result is UpdateResult.NOT_ENOUGH_FLASH


def test_types_and_headerless_images() -> None:
    only_fleet = PackageRules(storage=1 << 20, types=frozenset({"fleet"}))
    assert check(PACKAGE, only_fleet).finish().result is UpdateResult.UNSUPPORTED_PACKAGE_TYPE
    raw = b"vendor image" * 100
    assert check(raw).finish().result is UpdateResult.UNSUPPORTED_PACKAGE_TYPE
    mapped = PackageRules(storage=1 << 20, versions={hashlib.sha256(raw).hexdigest(): "7.0"})
    verdict = check(raw, mapped).finish()
    assert verdict.result is None and verdict.info is not None and verdict.info.version == "7.0"
    broken_header = MAGIC + (5).to_bytes(2, "big") + b"{oops" + b"body"
    assert check(broken_header).finish().result is UpdateResult.UNSUPPORTED_PACKAGE_TYPE


def test_keep_holds_the_bytes_only_when_asked() -> None:
    kept = PackageCheck(ROOMY, keep=True)
    kept.feed(PACKAGE)
    assert kept.kept == PACKAGE
    assert check(PACKAGE).kept is None


def test_read_header_and_bad_names() -> None:
    info = read_header(PACKAGE)
    assert info is not None and info.size == len(BODY)
    assert read_header(b"not a package") is None
    with pytest.raises(PackageError, match="version"):
        build_package(b"x", name="a", version="")
