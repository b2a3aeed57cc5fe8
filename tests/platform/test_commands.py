"""The command language parser and the error table's texts (pure, table-driven)."""

from __future__ import annotations

import pytest

from fleet.server.platform import texts
from fleet.server.platform.commands import (
    Command,
    Method,
    Refused,
    normalise_path,
    parse_content,
    split_line,
)

R, W, X, OB, U = Method.READ, Method.WRITE, Method.EXECUTE, Method.OBSERVE, Method.UNOBSERVE


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("READ /6", [(R, "/6", None, {})]),
        ("READ /6; RD /3/0/0", [(R, "/6", None, {}), (R, "/3/0/0", None, {})]),
        ("rd 3/0", [(R, "/3/0", None, {})]),
        ("WRITE /3442/0/110 Hello", [(W, "/3442/0/110", "Hello", {})]),
        ("WR /3442/0/110 Hello world", [(W, "/3442/0/110", "Hello world", {})]),
        ('WR /3442/0/110 "a b"', [(W, "/3442/0/110", "a b", {})]),
        ("EXECUTE /3442/0/2", [(X, "/3442/0/2", None, {})]),
        ("EXE /3/0/4", [(X, "/3/0/4", None, {})]),
        ("OBSERVE /3303/0/5602", [(OB, "/3303/0/5602", None, {})]),
        (
            "OBS /3303/0/5602 pmin=5 pmax=30",
            [(OB, "/3303/0/5602", None, {"pmin": 5, "pmax": 30})],
        ),
        (
            "OBSERVE /3303/0/5700?gt=25.5&lt=10&steps=2",
            [(OB, "/3303/0/5700", None, {"gt": 25.5, "lt": 10, "st": 2})],
        ),
        ("UNOBSERVE /3303/0/5602 pmin=5", [(U, "/3303/0/5602", None, {})]),
        ("UOBS /3303/0/5602", [(U, "/3303/0/5602", None, {})]),
        ('{"method": "GET", "path": "/3442/0/160"}', [(R, "/3442/0/160", None, {})]),
        (
            '[{"method": "read", "path": "/6"}, {"method": "READ", "path": "/3/0/0"}]',
            [(R, "/6", None, {}), (R, "/3/0/0", None, {})],
        ),
        ('{"method": "PUT", "path": "/3442/0/120", "value": 42}', [(W, "/3442/0/120", 42, {})]),
        ('{"method": "PUT", "path": "/3442/0/110", "payload": "x"}', [(W, "/3442/0/110", "x", {})]),
        ('{"method": "POST", "path": "/3442/0/2"}', [(X, "/3442/0/2", None, {})]),
        (
            '{"method": "OBS", "path": "/3303/0/5700", "attributes": {"pmax": 9}, "pmin": 1}',
            [(OB, "/3303/0/5700", None, {"pmax": 9, "pmin": 1})],
        ),
    ],
)
def test_well_formed_commands(content: str, expected: list[tuple[object, ...]]) -> None:
    parsed = parse_content(content)
    assert all(isinstance(p, Command) for p in parsed)
    got = [(p.method, p.path, p.value, p.attributes) for p in parsed if isinstance(p, Command)]
    assert got == expected


@pytest.mark.parametrize(
    ("content", "status"),
    [
        ("WRITE /3442/0/110", texts.VALUE_MANDATORY),
        ("WR /3442/0/110   ", texts.VALUE_MANDATORY),
        ('{"method": "PUT", "path": "/3442/0/110"}', texts.VALUE_MANDATORY),
        ("READ /abc", texts.BAD_PATH),
        ("READ", texts.BAD_PATH),
        ("READ /3/0/0/0/0", texts.BAD_PATH),
        ("READ /70000", texts.BAD_PATH),
        ("READ /3/65535", texts.BAD_PATH),
        ('{"method": "GET", "path": "x"}', texts.BAD_PATH),
        ('{"method": "GET"}', texts.BAD_PATH),
        ("FROB /3", texts.BAD_OPERATION),
        ("DELETE /3/0", texts.BAD_OPERATION),
        ('{"method": "PATCH", "path": "/3"}', texts.BAD_OPERATION),
        ('{"path": "/3"}', texts.BAD_OPERATION),
        ("{not json", texts.BAD_PAYLOAD),
        ("[]", texts.BAD_PAYLOAD),
        ("[1]", texts.BAD_PAYLOAD),
        ("READ /3 extra", texts.BAD_PAYLOAD),
        ("EXECUTE /3442/0/3 0='a'", texts.BAD_PAYLOAD),
        ("OBSERVE /3303/0/5700 pmin=x", texts.BAD_PAYLOAD),
        ("OBSERVE /3303/0/5700 pmin=1.5", texts.BAD_PAYLOAD),
        ("OBSERVE /3303/0/5700 pmin=10 pmax=5", texts.BAD_PAYLOAD),
        ("OBSERVE /3303/0/5700 color=red", texts.BAD_PAYLOAD),
        ("OBSERVE /3303/0/5700 lt=10 gt=11 st=1", texts.BAD_PAYLOAD),
        (";", texts.BAD_PAYLOAD),
    ],
)
def test_malformed_commands_are_refused_with_the_table_row(
    content: str, status: texts.Status
) -> None:
    (parsed,) = parse_content(content)
    assert isinstance(parsed, Refused)
    assert parsed.status == status


def test_a_bad_command_does_not_stop_the_others() -> None:
    parsed = parse_content("READ /6; FROB /3; RD /3/0/0")
    assert [type(p) for p in parsed] == [Command, Refused, Command]


def test_the_texts_are_the_tables() -> None:
    assert texts.VALUE_MANDATORY.detail is not None
    assert texts.VALUE_MANDATORY.detail.endswith("Value is mandatory for WRITE.")
    assert texts.NO_MATCHING_OBSERVE.as_json() == {
        "code": 404,
        "message": "Not Found",
        "detail": "The command UNOBSERVE could not been proceeded. No matching OBSERVE was found.",
    }


@pytest.mark.parametrize(
    ("code", "number", "ending"),
    [
        ("2.05", 200, None),
        ("2.04", 200, None),
        ("4.00", 400, "Device could not process the command."),
        ("4.01", 401, "Device rejects command as unauthorized request."),
        ("4.03", 403, "Device rejects command as forbidden request."),
        ("4.04", 404, "Device rejects command as not found."),
        ("4.05", 405, "Device rejects command, method not allowed."),
        ("4.06", 406, "Device rejects command, not acceptable."),
        ("4.15", 415, "Device rejects command, unsupported content format."),
        ("5.00", 500, "Device could not process the command."),
    ],
)
def test_device_answers_map_to_the_table(code: str, number: int, ending: str | None) -> None:
    status = texts.device_status(code)
    assert status.code == number
    if ending is None:
        assert status == texts.SUCCESS
    else:
        assert status.detail == f"Command was successfully sent to the device. {ending}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("dev1 READ /3", ("dev1", "READ /3")),
        ("  dev-2   RD /3 ; RD /6 ", ("dev-2", "RD /3 ; RD /6")),
        ("dev1", None),
        ("", None),
    ],
)
def test_split_line(line: str, expected: tuple[str, str] | None) -> None:
    assert split_line(line) == expected


def test_normalise_path() -> None:
    assert normalise_path("3/0/1") == "/3/0/1"
    assert normalise_path("/003/0") == "/3/0"
    assert normalise_path("/3/") is None
    assert normalise_path("") is None
