"""The web console in headless Chromium, against ``fleet demo --web`` as a process: the map
shows the fleet, a READ typed in the command box shows the device's answer, and the silence
switch silences a device, whose state changes on the page. Screenshots are kept."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.browser import open_page

DEVICES = 5
WAIT_MS = 20_000
DEMO = [
    "demo",
    "--web",
    "--web-port",
    "0",
    "--no-browser",
    "--devices",
    str(DEVICES),
    "--lifetime",
    "2",
]


@pytest.fixture
def demo_web() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from fleet.cli import main; main()", *DEMO, "--duration", "300"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        line = process.stderr.readline()
        found = re.search(r"web console on (http://127\.0\.0\.1:\d+/)", line)
        assert found, line
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


@pytest.mark.slow
def test_console_map_command_and_fault_switch(demo_web: str) -> None:
    with open_page() as browser:
        page = browser.page
        page.goto(demo_web)
        page.wait_for_function(
            f"document.querySelectorAll('#dots circle').length === {DEVICES}", timeout=WAIT_MS
        )
        page.wait_for_selector(f"#summary:has-text('{DEVICES} registered')", timeout=WAIT_MS)
        assert page.text_content("#city-name") == "Berlin (outline drawn by hand)"
        browser.screenshot("console-map")

        page.select_option("#device-select", "demo-004")
        page.fill("#command", "READ /3/0/0")
        page.click("#send")
        try:
            page.wait_for_function(
                "document.querySelector('#answer').textContent.includes('lwm2m-fleet demo')",
                timeout=WAIT_MS,
            )
        finally:
            browser.screenshot("console-read")
        answer = page.text_content("#answer") or ""
        assert '"code": 200' in answer and '"3/0/0": "lwm2m-fleet demo"' in answer
        page.wait_for_selector("#log li:has-text('demo-004 response read 3/0/0 200')")
        browser.screenshot("console-read")

        def button(op: str, path: str, expect: str, value: str = "") -> None:
            page.fill("#path", path)
            page.fill("#value", value)
            page.click(f"#btn-{op}")
            page.wait_for_function(
                f"document.querySelector('#answer').textContent.includes({expect!r})",
                timeout=WAIT_MS,
            )

        button("write", "/3442/0/110", '"method": "write"', "Hi there")
        button("read", "/3442/0/110", '"3442/0/110": "Hi there"')
        button("execute", "/3442/0/2", '"method": "exec"')
        button("observe", "/3303/0/5700", '"method": "observe"')
        assert '"code": 200' in (page.text_content("#answer") or "")

        dot = "#dots circle[data-endpoint='demo-004']"
        assert page.get_attribute(dot, "data-state") == "registered"
        page.check("#fault-silence")
        page.wait_for_selector("#device-faults:has-text('silenced')", timeout=WAIT_MS)
        page.wait_for_selector("#device-faults:has-text('device: stopped')", timeout=WAIT_MS)
        page.wait_for_selector(f"{dot}[data-state='expired']", timeout=WAIT_MS)
        page.wait_for_selector("#device-state:has-text('expired')", timeout=WAIT_MS)
        page.wait_for_selector("#log li:has-text('demo-004 registration-expire')")
        browser.screenshot("console-silenced")
        others = page.eval_on_selector_all(
            "#dots circle[data-state='registered']", "dots => dots.length"
        )
        assert others == DEVICES - 1

        assert browser.external == []
        assert browser.page_errors == []
        assert browser.console_errors == []


SERVER = ["server", "--port", "0", "--http", "0", "--token", "page-token"]


@pytest.mark.slow
def test_console_with_a_token_under_fleet_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from fleet.cli import main; main()", *SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None and process.stdin is not None
    try:
        process.stderr.readline()
        found = re.search(r"web console on (http://127\.0\.0\.1:\d+/)", process.stderr.readline())
        assert found
        with open_page() as browser:
            page = browser.page
            page.goto(found.group(1))
            page.wait_for_selector("#summary:has-text('missing Authorization')", timeout=WAIT_MS)
            page.goto(found.group(1) + "#token=page-token")
            page.reload()
            page.wait_for_selector("#summary:has-text('0 devices')", timeout=WAIT_MS)
            note = page.text_content("#faults-note") or ""
            assert "need the devices in this process" in note
            assert page.is_disabled("#fault-silence")
            assert browser.external == [] and browser.page_errors == []
    finally:
        process.stdin.write("QUIT\n")
        process.stdin.close()
        process.wait(timeout=30)
        process.stderr.close()
