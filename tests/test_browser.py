"""The browser harness: Debian's Chromium renders a local page; foreign requests are caught."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import SCREENSHOTS, is_local, open_page

PAGE = """<!doctype html><html><body>
<h1 id="title">fleet</h1>
<button id="go" onclick="document.getElementById('title').textContent='clicked'">go</button>
<img src="http://192.0.2.1/never.png" alt="">
</body></html>"""


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text(PAGE)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_is_local() -> None:
    assert is_local("http://127.0.0.1:8080/x")
    assert is_local("http://[::1]/")
    assert is_local("data:text/plain,hi")
    assert not is_local("https://cdn.example.com/lib.js")
    assert not is_local("http://192.0.2.1/never.png")


def test_renders_clicks_and_blocks_foreign_requests(local_site: str) -> None:
    with open_page() as browser:
        browser.page.goto(local_site)
        browser.page.click("#go")
        assert browser.page.text_content("#title") == "clicked"
        shot = browser.screenshot("browser-harness")
        assert browser.external == ["http://192.0.2.1/never.png"]
    assert shot.parent == SCREENSHOTS
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
