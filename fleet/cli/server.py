"""``fleet server``: the embedded LwM2M server with the platform's console.

Runs :class:`~fleet.server.Lwm2mServer` on a UDP port (it reads /3 and /6 after every
Register and keeps the device info), prints every received message in the platform's shape
(pretty JSON, or one object per line with ``--json``) and runs console lines
(:mod:`fleet.server.platform.console`: ``ENDPOINT COMMAND``, ``DEVICES``, ``INFO EP``,
``WAIT EP``, ``SLEEP S``, ``HELP``, ``QUIT``) from ``--commands FILE`` and then from stdin.

It runs until Ctrl-C / SIGTERM or QUIT. With ``--exit-after-commands`` it ends once the
commands are done: at the end of ``--commands FILE`` if given (stdin is not read), else at
the end of stdin. The address it listens on goes to stderr first
(``fleet server listening on coap://127.0.0.1:5683``); ``--port 0`` picks a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

import click

from fleet.server import Lwm2mServer
from fleet.server.platform import Console, Message, render

DEVICE_INFO = ("/3", "/6")


class LineReader:
    """Lines of a file descriptor (a TTY or a pipe) without a thread: the loop's reader
    callback reads what is there. ``await get()`` -> a line, or ``None`` at the end."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._loop = asyncio.get_running_loop()
        try:
            self._loop.add_reader(fd, self._readable)
        except (PermissionError, ValueError, OSError):  # a regular file: read it all now
            self._whole()

    def _whole(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 1 << 16):
                self._take(chunk)
        self._end()

    def _readable(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._take(chunk)
        else:
            self._loop.remove_reader(self.fd)
            self._end()

    def _take(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._queue.put_nowait(line.decode("utf-8", "replace"))

    def _end(self) -> None:
        if self._buffer:
            self._queue.put_nowait(self._buffer.decode("utf-8", "replace"))
            self._buffer = b""
        self._queue.put_nowait(None)

    async def get(self) -> str | None:
        return await self._queue.get()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.fd)


def printer(as_json: bool) -> tuple[Callable[[Message], None], Callable[[Any], None]]:
    """``emit`` for received messages and ``say`` for console output, both to stdout."""

    def emit(message: Message) -> None:
        click.echo(render(message, as_json=as_json))

    def say(what: Any) -> None:
        if isinstance(what, str):
            click.echo(what if not as_json else json.dumps({"console": what}))
        else:
            click.echo(json.dumps(what, indent=None if as_json else 2, ensure_ascii=False))

    return emit, say


async def run_server(
    host: str,
    port: int,
    commands: FilePath | None,
    as_json: bool,
    exit_after: bool,
    timeout: float,
) -> None:
    """The body of ``fleet server`` (see the module docstring)."""
    emit, say = printer(as_json)
    server = await Lwm2mServer.start(
        host, port, read_on_register=DEVICE_INFO, request_timeout=timeout
    )
    console = Console(server, emit, say=say)
    click.echo(f"fleet server listening on {server.uri} (HELP for commands)", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    async def feed() -> None:
        if commands is not None:
            for line in commands.read_text(encoding="utf-8").splitlines():
                await console.run_line(line)
                if console.finished:
                    return
            if exit_after:
                return
        reader = LineReader(sys.stdin.fileno())
        try:
            while (typed := await reader.get()) is not None:
                await console.run_line(typed)
                if console.finished:
                    return
        finally:
            reader.close()
        if not exit_after:
            await stop.wait()

    feeder = asyncio.ensure_future(feed())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({feeder, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (feeder, stopper):
            task.cancel()
        await asyncio.gather(feeder, stopper, return_exceptions=True)
        console.close()
        await server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    if feeder.done() and not feeder.cancelled():
        failure = feeder.exception()
        if failure is not None:
            raise failure


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5683, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--commands",
    type=click.Path(exists=True, dir_okay=False, path_type=FilePath),
    help="Run these console lines first (then stdin, unless --exit-after-commands).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--exit-after-commands",
    is_flag=True,
    help="End when the commands are done (end of --commands FILE, else of stdin).",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds a device has to answer before the command gets 408.",
)
def server(
    host: str,
    port: int,
    commands: FilePath | None,
    as_json: bool,
    exit_after_commands: bool,
    timeout: float,
) -> None:
    """Run the embedded LwM2M server with the platform's command console."""
    try:
        asyncio.run(run_server(host, port, commands, as_json, exit_after_commands, timeout))
    except OSError as error:
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from None
    except KeyboardInterrupt:
        pass
