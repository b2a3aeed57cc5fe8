"""The seed document's error table, read in place: every row is one of our statuses, word for
word (or listed here as not applicable, with why), and the rows behaviour tests don't reach
elsewhere are produced here."""

from __future__ import annotations

import re

import pytest

from fleet.server.http import errors
from fleet.server.platform import texts
from fleet.server.platform.texts import Status
from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import Api
from tests.http.seed import SEED

_ROW = re.compile(r"^\| (\d{3}) \| ([^|]+) \| ([^|]+) \|$")

OURS: list[Status] = [
    texts.SUCCESS,
    texts.device_status("4.00"),
    texts.BAD_PAYLOAD,
    texts.VALUE_MANDATORY,
    errors.UNAUTHORIZED,
    texts.device_status("4.01"),
    texts.device_status("4.03"),
    texts.BAD_PATH,
    texts.NO_MATCHING_OBSERVE,
    texts.device_status("4.04"),
    texts.device_status("4.05"),
    texts.BAD_OPERATION,
    texts.device_status("4.06"),
    errors.NOT_ACCEPTABLE,
    texts.TIMEOUT,
    texts.ALREADY_OBSERVED,
    texts.device_status("4.15"),
    texts.UNSUPPORTED_FORMAT,
    errors.INTERNAL,
    texts.UNAVAILABLE,
]
"""Each produced by a test: test_error_table.py, test_bad_input.py, test_error_rows.py."""

NOT_APPLICABLE = {
    "Check the License": "the stand-in has no licences",
    "Please check the device parameters.": "one timeout row suffices; we give the first",
    "adapter didn\u2019t get id": "OBSERVE ids live in this process: nothing to fail to get",
    "unable to delete id": "the same",
    "unable to write id": "the same",
    "unable to get tenant data": "a wrong tenant is a 404 of its path",
    "unable to get device data": "a device not registered is 404 naming it (texts.no_device)",
}


def seed_rows() -> list[Status]:
    rows = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if match:
            code, message, detail = (part.strip() for part in match.groups())
            detail = re.sub(r"\s*\(1\)\.?$", "", detail)  # the table's footnote marks
            if not detail.endswith((".", "format")):
                detail += "."
            rows.append(Status(int(code), message, None if detail == "N/A." else detail))
    return rows


def test_every_row_of_the_table_is_ours_or_not_applicable() -> None:
    rows = seed_rows()
    assert len(rows) == 27
    unmatched = [row for row in rows if row not in OURS]
    for row in unmatched:
        assert any(key in (row.detail or "") for key in NOT_APPLICABLE), row
    assert len(unmatched) == len(NOT_APPLICABLE)
    assert [status for status in OURS if status not in rows] == []


@pytest.mark.asyncio
async def test_503_when_the_lwm2m_server_has_stopped(api: Api, device: VirtualDevice) -> None:
    await api.standin.server.stop()
    await api.run("device001", "READ /3/0/0")
    got = await api.latest("device001", "received-msg")
    assert got["content"]["status"] == texts.UNAVAILABLE.as_json()
