"""The live view on a terminal: one line rewritten in place at each interval (0.5 s by
default), ended with a newline when the run stops; a non-terminal gets whole lines."""

from __future__ import annotations

import io

import pytest

from fleet.clock import ManualClock
from fleet.runner.progress import TTY_INTERVAL, Progress, Snapshot

pytestmark = pytest.mark.asyncio


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def counting_source(clock: ManualClock) -> tuple[list[int], Progress, Terminal]:
    registered = [0]
    stream = Terminal()

    def source() -> Snapshot:
        registered[0] += 5
        return Snapshot(clock.now(), {"registered": registered[0]}, registrations=registered[0])

    return registered, Progress.of_source(source, stream, clock=clock), stream


async def test_a_terminal_gets_one_line_rewritten_in_place() -> None:
    clock = ManualClock()
    registered, view, stream = counting_source(clock)
    assert view.interactive and view.interval == TTY_INTERVAL
    view.start()
    await clock.advance(TTY_INTERVAL * 3)
    await view.close()
    text = stream.getvalue()
    frames = text.split("\r\x1b[K")
    assert frames[0] == "" and len(frames) == 4  # three updates, each erasing the line
    assert "registered 5" in frames[1] and "registered 15" in frames[3]
    assert all("\n" not in frame for frame in frames[1:-1])
    assert text.endswith("\n") and text.count("\n") == 1  # the line ended once, at close
    assert registered[0] == 15


async def test_a_pipe_gets_whole_lines_and_nothing_at_close() -> None:
    clock = ManualClock()
    stream = io.StringIO()
    view = Progress.of_source(lambda: Snapshot(clock.now()), stream, clock=clock)
    assert not view.interactive
    view.start()
    await clock.advance(view.interval * 2)
    await view.close()
    lines = stream.getvalue().splitlines(keepends=True)
    assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
    assert "\r" not in stream.getvalue()
