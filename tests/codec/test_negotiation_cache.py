"""The negotiation decisions are cached: no version parsing per request, the right path in errors,
and a remembered decision is the one a fresh computation gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.codec import ContentFormat, check_write_format, choose_format
from fleet.codec import negotiation as n
from fleet.errors import Lwm2mError, NotAcceptable, UnsupportedContentFormat
from fleet.model import Path, ResourceType

F = ContentFormat
CACHED = (n.formats_for, n._before_1_1, n._usable, n.read_decision, n.write_decision)


def clear() -> None:
    for function in CACHED:
        function.cache_clear()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    real = n.version_key

    def counting(version: str) -> tuple[int, ...]:
        calls.append(version)
        return real(version)

    monkeypatch.setattr(n, "version_key", counting)
    clear()
    yield calls
    clear()


def test_versions_are_parsed_once_not_per_request(counted: list[str]) -> None:
    assert choose_format(None, Path(3, 0, 0), "1.1", None, True) is F.TEXT
    assert choose_format(None, Path(3, 0), "1.1", None, False) is F.SENML_CBOR
    first = len(counted)
    assert first > 0
    for instance in range(50):  # other devices, other instances, the same decisions
        assert choose_format(None, Path(3303, instance, 5700), "1.1", None, True) is F.TEXT
        assert choose_format(112, Path(3303, instance), "1.1", None, False) is F.SENML_CBOR
        assert check_write_format(112, Path(3303, instance), "1.1", False) is F.SENML_CBOR
    assert len(counted) == first


def test_a_remembered_refusal_names_the_path_of_this_request() -> None:
    with pytest.raises(NotAcceptable, match=r"^/3/0: "):
        choose_format(int(F.TEXT), Path(3, 0), "1.1", None, False)
    with pytest.raises(NotAcceptable, match=r"^/3303/7: text \(0\) cannot carry"):
        choose_format(int(F.TEXT), Path(3303, 7), "1.1", None, False)
    with pytest.raises(UnsupportedContentFormat, match=r"^/5/0/1: .*is not supported"):
        check_write_format(int(F.LWM2M_CBOR), Path(5, 0, 1), "1.1", True)
    with pytest.raises(UnsupportedContentFormat, match=r"^/6/0/1: .*is not supported"):
        check_write_format(int(F.LWM2M_CBOR), Path(6, 0, 1), "1.1", True)


paths = st.lists(st.integers(0, 65534), max_size=4).map(lambda ids: Path(*ids))
requests = st.tuples(
    st.one_of(st.none(), st.sampled_from([int(f) for f in F] + [1541, 1542, 1543, 9999])),
    paths,
    st.sampled_from(["1.0", "1.1", "1.2"]),
    st.one_of(st.none(), st.sampled_from(list(F))),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(list(ResourceType))),
)


def outcome(call: object, *args: object, **kwargs: object) -> object:
    try:
        return call(*args, **kwargs)
    except Lwm2mError as error:
        return (type(error), str(error))


@given(st.lists(requests, min_size=1, max_size=20))
def test_remembered_decisions_equal_fresh_ones(batch: list[tuple]) -> None:
    warm = []
    for accept, path, version, preferred, single, rtype in batch:
        read = outcome(choose_format, accept, path, version, preferred, single, resource_type=rtype)
        written = outcome(check_write_format, accept, path, version, single, resource_type=rtype)
        warm.append((read, written))
    for (accept, path, version, preferred, single, rtype), expected in zip(
        batch, warm, strict=True
    ):
        clear()
        read = outcome(choose_format, accept, path, version, preferred, single, resource_type=rtype)
        written = outcome(check_write_format, accept, path, version, single, resource_type=rtype)
        assert (read, written) == expected
