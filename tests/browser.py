"""Headless Chromium for the tests that look at a page: reports, the web console.

Playwright (the Python package, a test dependency) drives Debian's ``chromium`` (installed by
``scripts/install-tools.sh``); Playwright's own browser download is not reachable from CI, so
the system browser is launched by path. :func:`open_page` yields a page whose every request
is watched: requests to anything but loopback, ``data:``, ``blob:`` and ``about:`` are aborted
and listed in :attr:`BrowserPage.external`, so a test can assert that a page works offline.

Screenshots go under :data:`SCREENSHOTS` (``artifacts/screenshots/`` at the project root,
ignored by git, kept by CI as an artifact; docs/DEVELOPING.md names it).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

# As the machine's notes advise for root in a closed network: no sandbox, no GPU, and none of
# Chromium's own background connections (which this network refuses, many at a time).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "file"})


def chromium_path() -> str:
    """The system Chromium, or a test failure that says how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is not installed: run scripts/install-tools.sh")
    return found


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (loopback, data:, blob:, about:, file:)."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    return parts.hostname in _LOCAL_HOSTS if parts.hostname else False


@dataclass
class BrowserPage:
    """A Playwright page plus what it tried to fetch from elsewhere and what it logged."""

    page: Any
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG under :data:`SCREENSHOTS` and return its path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@contextmanager
def open_page(*, width: int = 1280, height: int = 900) -> Iterator[BrowserPage]:
    """A fresh headless Chromium page (new profile) that refuses every non-local request."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("the Python package playwright is missing: pip install -e '.[test]'")
    executable = chromium_path()
    with tempfile.TemporaryDirectory(prefix="fleet-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": height},
        )
        try:
            watched = BrowserPage(page=context.pages[0] if context.pages else context.new_page())

            def route(route: Any) -> None:
                url = route.request.url
                if is_local(url):
                    route.continue_()
                else:
                    watched.external.append(url)
                    route.abort()

            context.route("**/*", route)

            def console(message: Any) -> None:
                if message.type == "error":
                    watched.console_errors.append(message.text)

            watched.page.on("console", console)
            watched.page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))
            yield watched
        finally:
            context.close()
