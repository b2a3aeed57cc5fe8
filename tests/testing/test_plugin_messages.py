"""What the pytest plugin says when a test cannot work: at once, in one line, saying why.

With ``--lwm2m-server-url`` devices register with the user's server, so a test asking for
the embedded ``lwm2m_server`` fails at once with that reason (not a confusing pass against
a server nobody talks to); a bad URL gets the same message as every command gives it; a
device needing the DTLS extra fails with the install line; ``wait_for_registration`` says
what it waited for.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.server import Lwm2mServer
from tests.testing.conftest import Run

ASKS_FOR_THE_EMBEDDED_SERVER = """
import pytest

@pytest.mark.asyncio
async def test_reads(lwm2m_server, lwm2m_device):
    pass
"""

JUST_A_DEVICE = """
import pytest

@pytest.mark.asyncio
async def test_device(lwm2m_device_factory):
    await lwm2m_device_factory("sec-1", server="coaps://127.0.0.1:1",
                               psk=__import__("fleet.client.coap.psk", fromlist=["x"])
                               .PskCredentials(b"id", b"0123456789abcdef"), register=False)
"""


def test_the_embedded_server_fails_at_once_with_an_external_url(run: Run) -> None:
    result = run(ASKS_FOR_THE_EMBEDDED_SERVER, "--lwm2m-server-url=coap://127.0.0.1:1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*lwm2m_server is the embedded LwM2M server: it is not available with "
            "--lwm2m-server-url / $LWM2M_SERVER_URL (coap://127.0.0.1:1)*"
        ]
    )


def test_a_bad_server_url_is_judged_like_everywhere_else(run: Run) -> None:
    result = run(ASKS_FOR_THE_EMBEDDED_SERVER, "--lwm2m-server-url=coap//nowhere")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*--lwm2m-server-url / $LWM2M_SERVER_URL: server URI 'coap//nowhere': not a URI*"]
    )


def test_a_missing_dtls_extra_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import fleet.runner.extras as extras

    monkeypatch.setattr(extras, "dtls_available", lambda: "DTLS needs the optional DTLSSocket")
    result = run(JUST_A_DEVICE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*lwm2m-fleet: DTLS needs the optional DTLSSocket*"])


@pytest.mark.asyncio
async def test_wait_for_registration_says_what_it_waited_for() -> None:
    async with await Lwm2mServer.start() as server:
        with pytest.raises(TimeoutError) as caught:
            await server.wait_for_registration("meter-7", timeout=0.01)
    assert str(caught.value) == (
        "no Register from endpoint 'meter-7' within 0.01 s (registered: none)"
    )
    assert asyncio.iscoroutinefunction(server.wait_for_registration)
