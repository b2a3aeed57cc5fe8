"""Interop: libcoap's ``coap-client-notls`` (software we did not write) drives the Registration
interface of the embedded server: Register, Update, De-register and a malformed Register."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from fleet.server import EventKind, Lwm2mServer

CLIENT = shutil.which("coap-client-notls")

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.interop,
    pytest.mark.skipif(
        CLIENT is None,
        reason="coap-client-notls not on PATH: run scripts/install-tools.sh (Debian libcoap3-bin)",
    ),
]
RUN_TIMEOUT = 20.0


async def coap_client(*args: str) -> tuple[str, str]:
    """Run coap-client-notls with verbose output (it prints the response header and options)."""
    assert CLIENT is not None
    process = await asyncio.create_subprocess_exec(
        CLIENT,
        "-v",
        "6",
        "-B",
        "5",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    return out.decode(errors="replace"), err.decode(errors="replace")


def answer_line(output: str) -> str:
    """The line of the response (the one that is not our request)."""
    lines = [line for line in output.splitlines() if " c:" in line and "c:POST" not in line]
    lines = [line for line in lines if "c:DELETE" not in line]
    assert lines, output
    return lines[-1]


async def test_register_update_deregister_from_libcoap(server: Lwm2mServer) -> None:
    base = f"coap://127.0.0.1:{server.address[1]}"
    registered = server.expect(EventKind.REGISTRATION, endpoint="x")
    out, _ = await coap_client(
        "-m", "post", "-t", "40", "-e", "</3/0>,</3303/1>", f"{base}/rd?ep=x&lt=60"
    )
    line = answer_line(out)
    assert "c:2.01" in line, out
    location = re.findall(r"Location-Path:([^,\] ]+)", line)
    assert location[0] == "rd" and len(location) == 2, line
    await asyncio.wait_for(registered, 5.0)
    registration = server.registration("x")
    assert registration is not None and registration.location == location[1]
    assert (registration.lifetime, registration.lwm2m_version) == (60, "1.0")
    record = server.device("x")
    assert record is not None and record.objects.instances == {3: (0,), 3303: (1,)}

    out, _ = await coap_client("-m", "post", f"{base}/rd/{location[1]}?lt=120")
    assert "c:2.04" in answer_line(out), out
    updated = server.registration("x")
    assert updated is not None and updated.lifetime == 120

    out, _ = await coap_client("-m", "delete", f"{base}/rd/{location[1]}")
    assert "c:2.02" in answer_line(out), out
    assert server.registration("x") is None

    out, _ = await coap_client("-m", "delete", f"{base}/rd/{location[1]}")
    assert "c:4.04" in answer_line(out), out


@pytest.mark.parametrize(
    ("payload", "query"),
    [("garbage", "ep=x&lt=60"), ("</3/0>", "lt=60"), ("</3/0>", "ep=x&lt=-5")],
)
async def test_malformed_register_from_libcoap_is_400(
    server: Lwm2mServer, payload: str, query: str
) -> None:
    base = f"coap://127.0.0.1:{server.address[1]}"
    out, _ = await coap_client("-m", "post", "-t", "40", "-e", payload, f"{base}/rd?{query}")
    assert "c:4.00" in answer_line(out), out
    assert server.registrations() == [] and server.counters.rejected == 1
