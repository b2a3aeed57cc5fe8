"""Which event loop a command runs on: ``--loop auto|asyncio|uvloop`` in one place.

Every command that runs an event loop (``fleet run`` and its worker processes,
``fleet device``, ``fleet server``, ``fleet demo``) starts it through :func:`run`
with the name the user chose:

- ``asyncio``: the standard library's loop;
- ``uvloop``: `uvloop <https://github.com/MagicStack/uvloop>`_, a drop-in loop on
  libuv (the ``fast`` extra: ``pip install 'lwm2m-fleet[fast]'``); asking for it
  when it is not installed is a :class:`LoopUnavailable` error that says so;
- ``auto`` (the default): uvloop when it is installed, else asyncio.

Behaviour is the same on both loops (the test suite runs on both); uvloop only
spends less CPU per datagram and per callback. uvloop is imported lazily, only
when a loop is made, so a command that does not run a loop never loads it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

from fleet.errors import FleetError

T = TypeVar("T")

LOOPS: Final = ("auto", "asyncio", "uvloop")
"""The names ``--loop`` accepts."""

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


class LoopUnavailable(FleetError):
    """The event loop asked for cannot be used here (uvloop is not installed)."""


def _uvloop() -> Any | None:
    """The uvloop module, or None when it cannot be imported."""
    try:
        return importlib.import_module("uvloop")
    except ImportError:
        return None


def resolve(name: str) -> str:
    """The loop ``name`` stands for here: ``asyncio`` or ``uvloop`` (``auto`` decided)."""
    if name not in LOOPS:
        raise LoopUnavailable(f"unknown event loop {name!r} (choose one of {', '.join(LOOPS)})")
    if name == "auto":
        return "uvloop" if _uvloop() is not None else "asyncio"
    if name == "uvloop" and _uvloop() is None:
        raise LoopUnavailable(
            "--loop uvloop: uvloop is not installed "
            "(pip install 'lwm2m-fleet[fast]', or use --loop asyncio)"
        )
    return name


def loop_factory(name: str) -> LoopFactory:
    """A function that makes a new loop of kind ``name`` (see :func:`resolve`)."""
    if resolve(name) == "uvloop":
        module = _uvloop()
        assert module is not None  # resolve() checked
        factory: LoopFactory = module.new_event_loop
        return factory
    return asyncio.SelectorEventLoop  # the standard loop, whatever the policy says


def policy(name: str) -> asyncio.AbstractEventLoopPolicy:
    """An event loop policy whose loops are of kind ``name`` (for code that uses policies)."""
    if resolve(name) == "uvloop":
        module = _uvloop()
        assert module is not None
        made: asyncio.AbstractEventLoopPolicy = module.EventLoopPolicy()
        return made
    return asyncio.DefaultEventLoopPolicy()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: the kind of ``loop``."""
    return "uvloop" if type(loop).__module__.split(".")[0] == "uvloop" else "asyncio"


def run(main: Coroutine[Any, Any, T], name: str = "auto") -> T:
    """``asyncio.run(main)`` on a new loop of kind ``name`` (closed afterwards)."""
    try:
        factory = loop_factory(name)
    except LoopUnavailable:
        main.close()  # never awaited: say nothing about it
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


__all__ = ["LOOPS", "LoopUnavailable", "loop_factory", "loop_name", "policy", "resolve", "run"]
