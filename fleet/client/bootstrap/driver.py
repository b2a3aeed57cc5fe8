"""The Bootstrap Interface driven for one device: Bootstrap-Request, waiting, Finish, retries.

A :class:`Bootstrapper` follows LwM2M 1.1 Core 6.1 (client-initiated
bootstrap) and 5.2.7 with the pure rules of :mod:`fleet.client.bootstrap.rules`:

1. after the Client Hold Off Time (``/0/x/11`` of the Bootstrap-Server
   Account) the device opens its endpoint toward the Bootstrap-Server (plain
   UDP, or DTLS with the account's PSK) and sends ``POST /bs?ep=..&pct=..``;
2. answered 2.04, it serves the Bootstrap-Server's Delete / Write / Read /
   Discover (:mod:`fleet.client.bootstrap.site`) and waits for
   Bootstrap-Finish at most ``config.bootstrap_timeout`` seconds;
3. Finish with no usable LwM2M Server account is answered 4.06 and the device
   keeps waiting; an accepted Finish (2.04) hands over to the device, which
   registers with the account written (:meth:`BootstrapHost.bootstrapped`), and,
   when the account has a Bootstrap-Server Account Timeout (``/0/x/12``),
   purges the Bootstrap-Server Account that many seconds later;
4. a Bootstrap-Request refused (4.xx/5.xx), unanswered, or a Finish that never
   comes is a failed attempt, retried after the back-off of
   ``config.bootstrap_retry`` (retry timer doubled per attempt, like the Server
   object's registration retries); when it is exhausted the device gives up.
   A registration that fails for good afterwards (:meth:`Bootstrapper.fall_back`)
   is a failed attempt too; only a successful Register resets the count.

A Bootstrap-Server may also begin on its own (server-initiated bootstrap): its
first operation puts the bootstrapper in step 2 (:meth:`Bootstrapper.touched`).

Like the registrar it owns no long-lived task: the hold-off, the wait for
Finish, the retry and the purge are Clock timers, and the Bootstrap-Request
runs in a short task. The Bootstrap-Request goes through the device's uplink
seam (operation ``Bootstrap-Request``), where faults drop, delay or answer it.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Final, Protocol

from fleet.client.bootstrap import rules
from fleet.client.coap.errors import CoapError
from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Message
from fleet.client.config import DeviceConfig
from fleet.client.events import BootstrapDone, BootstrapFailed, code_text
from fleet.client.hosts import EndpointHost
from fleet.client.reasons import code_reason, error_cause, error_reason
from fleet.client.site import Verdict
from fleet.client.uplink import UplinkDropped, exchange
from fleet.clock import TimerHandle
from fleet.codec.negotiation import default_format
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path

_log = logging.getLogger("fleet.client.bootstrap")

POST: Final = 2
CHANGED: Final = 68
REQUEST: Final = "Bootstrap-Request"
FINISH: Final = "Bootstrap-Finish"
NO_FINISH: Final = "no Bootstrap-Finish"
REFUSED: Final = "registration refused"


class BootstrapState(Enum):
    """Where a device stands with its Bootstrap-Server."""

    IDLE = "idle"
    HOLDING_OFF = "holding-off"
    REQUESTING = "requesting"
    WAITING = "waiting-finish"
    WAITING_RETRY = "waiting-retry"
    DONE = "done"
    FAILED = "failed"


ACTIVE: Final = frozenset(
    {BootstrapState.HOLDING_OFF, BootstrapState.REQUESTING, BootstrapState.WAITING}
)


class BootstrapHost(EndpointHost, Protocol):
    """What the bootstrapper needs from its device."""

    @property
    def tree(self) -> ObjectTree: ...

    @property
    def config(self) -> DeviceConfig: ...

    @property
    def transmission(self) -> TransmissionParameters: ...

    async def connect_to(self, account: rules.ServerAccount) -> None:
        """Open the endpoint toward ``account`` (closing another); raises on failure."""
        ...

    def before_uplink(self, operation: str) -> Verdict | None: ...

    def after_uplink(self, operation: str, ok: bool) -> None: ...

    def bootstrapped(self, account: rules.ServerAccount) -> None:
        """Finish was accepted: register with ``account`` (after the answer went out)."""
        ...


class Bootstrapper:
    """Bootstrap state of one device and the exchanges that change it."""

    __slots__ = (
        "_attempt",
        "_host",
        "_ignored",
        "_purge",
        "_sequence",
        "_task",
        "_timer",
        "initiated",
        "started",
        "state",
    )

    def __init__(self, host: BootstrapHost) -> None:
        self._host = host
        self.state = BootstrapState.IDLE
        self.started: float | None = None
        """When the current bootstrap began (device clock)."""
        self.initiated = "client"
        self._attempt = 1
        self._sequence = 1
        self._ignored = False
        self._timer: TimerHandle | None = None
        self._purge: TimerHandle | None = None
        self._task: asyncio.Future[None] | None = None

    @property
    def active(self) -> bool:
        """Whether a bootstrap is under way (holding off, requesting, waiting for Finish)."""
        return self.state in ACTIVE

    @property
    def attempt(self) -> int:
        return self._attempt

    # -- what the device asks for -------------------------------------------------------

    def start(self, *, hold_off: bool = True) -> None:
        """Begin a client-initiated bootstrap (after the hold-off time unless told not to)."""
        self.cancel()
        self._attempt = self._sequence = 1
        account = rules.bootstrap_account(self._host.tree)
        if account is None:
            self.state = BootstrapState.FAILED
            self._emit_failed(REQUEST, "no usable Bootstrap-Server Account in /0", None)
            return
        self.initiated = "client"
        delay = float(account.hold_off) if hold_off else 0.0
        self.state = BootstrapState.HOLDING_OFF
        if delay <= 0:
            self._request_due()
            return
        clock = self._host.clock
        self._timer = clock.call_at(clock.now() + delay, self._request_due)

    def cancel(self) -> None:
        """Stop timers and the exchange in flight (the bootstrap account purge too)."""
        self._cancel_timer()
        if self._purge is not None:
            self._purge.cancel()
            self._purge = None
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        if self.active or self.state is BootstrapState.WAITING_RETRY:
            self.state = BootstrapState.IDLE

    def touched(self) -> None:
        """The Bootstrap-Server sent an operation: from now on wait for its Finish."""
        if self.state is BootstrapState.WAITING:
            return
        if self.state is not BootstrapState.REQUESTING:
            # server-initiated bootstrap (5.2.7: the Bootstrap-Server may begin unasked)
            self.cancel()
            self.initiated = "server"
            self.started = self._host.clock.now()
        self._wait_for_finish()

    def finish(self) -> str | None:
        """Bootstrap-Finish arrived: what is wrong (answered 4.06), or ``None`` (2.04)."""
        host = self._host
        problem = rules.finish_problem(host.tree)
        if problem is not None:
            _log.info("%s: Bootstrap-Finish refused: %s", host.name, problem)
            return problem
        accounts, _ = rules.server_accounts(host.tree)
        account = accounts[0]
        self._cancel_timer()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        self.state = BootstrapState.DONE
        delay = rules.purge_delay(rules.bootstrap_account(host.tree))
        if delay is not None:
            self._purge = host.clock.call_at(host.clock.now() + delay, self._purge_account)
        host.bootstrapped(account)
        return None

    def finish_ignored(self) -> None:
        """A fault made the device ignore (or refuse) the Finish: the wait that runs out
        is an injected failure."""
        self._ignored = True

    def fall_back(self) -> None:
        """Every server refused the registration (1.1 "bootstrap on registration failure",
        /1/x/16): bootstrap again after the back-off, counted as a failed attempt (so a
        server that keeps refusing does not get a bootstrap storm)."""
        self.cancel()
        self.initiated = "client"
        self._failed("Register", "every LwM2M server refused the registration", None, cause=REFUSED)

    def registered(self) -> None:
        """The device registered: the next failure starts the back-off from the beginning."""
        self._attempt = self._sequence = 1

    def report_done(self, account: rules.ServerAccount) -> None:
        """Tell the listeners the bootstrap ended (once the Finish's answer is reported)."""
        host = self._host
        if host.listening:
            host.emit(
                BootstrapDone(
                    host.name,
                    host.clock.now(),
                    account.uri,
                    account.mode.label,
                    self.initiated,
                    self.started,
                )
            )

    # -- exchanges ----------------------------------------------------------------------

    def _request_due(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self._request())
        self._task = task
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[None]) -> None:
        if self._task is task:
            self._task = None
        if not task.cancelled() and task.exception() is not None:
            _log.error("%s: bootstrap step failed", self._host.name, exc_info=task.exception())

    async def _request(self) -> None:
        host = self._host
        config = host.config
        self.state = BootstrapState.REQUESTING
        started = self.started = host.clock.now()
        account = rules.bootstrap_account(host.tree)
        if account is None:
            self._failed(REQUEST, "no usable Bootstrap-Server Account in /0", started)
            return
        try:
            await host.connect_to(account)
        except (FleetError, OSError) as error:
            self._failed("connect", error_reason(error), started, cause=error_cause(error))
            return
        endpoint = host.endpoint
        if endpoint is None:  # pragma: no cover - connect_to opened it or raised
            self._failed("connect", "no socket", started)
            return
        preferred = config.content_format
        if preferred is None and config.lwm2m_version != "1.0":
            preferred = default_format(Path(rules.SERVER), config.lwm2m_version, False)
        pct = int(preferred) if preferred is not None else None
        message = Message(
            code=POST,
            uri_path=("bs",),
            uri_query=tuple(rules.bootstrap_query(config.endpoint, config.lwm2m_version, pct)),
        )
        verdict = host.before_uplink(REQUEST)
        try:
            answer = await exchange(
                endpoint,
                message,
                host.server_address,
                operation=REQUEST,
                verdict=verdict,
                clock=host.clock,
                params=host.transmission,
                timeout=host.exchange_timeout,
            )
        except CoapError as error:
            host.after_uplink(REQUEST, False)
            injected = isinstance(error, UplinkDropped)
            self._failed(REQUEST, error_reason(error), started, injected, error_cause(error))
            return
        code = int(answer.response.code)
        if code != CHANGED:
            host.after_uplink(REQUEST, False)
            self._failed(
                REQUEST, f"answered {code_text(code)}", started, answer.injected, code_reason(code)
            )
            return
        host.after_uplink(REQUEST, True)
        if self.state is BootstrapState.REQUESTING:
            self._wait_for_finish()

    def _wait_for_finish(self) -> None:
        clock = self._host.clock
        self.state = BootstrapState.WAITING
        self._ignored = False
        self._cancel_timer()
        timeout = self._host.config.bootstrap_timeout
        self._timer = clock.call_at(clock.now() + timeout, self._finish_missing)

    def _finish_missing(self) -> None:
        self._timer = None
        timeout = self._host.config.bootstrap_timeout
        reason = f"no Bootstrap-Finish within {timeout:g} s"
        if self._ignored:
            reason = f"Bootstrap-Finish ignored (injected); none acted on within {timeout:g} s"
        self._failed(FINISH, reason, self.started, self._ignored, cause=NO_FINISH)

    def _purge_account(self) -> None:
        """E.1 /0/x/12: the Bootstrap-Server Account's time is over."""
        self._purge = None
        security = rules.bootstrap_instance(self._host.tree)
        if security is not None:
            _log.info(
                "%s: Bootstrap-Server Account /0/%s purged", self._host.name, security.instance
            )
            self._host.tree.remove_instance(rules.SECURITY, security.instance)

    # -- outcomes -----------------------------------------------------------------------

    def _failed(
        self,
        step: str,
        reason: str,
        started: float | None,
        injected: bool = False,
        cause: str = "",
    ) -> None:
        host = self._host
        policy = host.config.bootstrap_retry
        attempt = self._attempt
        delay = policy.delay_after_failure(attempt, self._sequence)
        _log.info("%s: bootstrap %s failed (%s); retry in %s s", host.name, step, reason, delay)
        self._cancel_timer()
        if delay is None:
            self.state = BootstrapState.FAILED
        else:
            self._attempt, self._sequence = policy.next_attempt(attempt, self._sequence)
            self.state = BootstrapState.WAITING_RETRY
            self._timer = host.clock.call_at(host.clock.now() + delay, self._request_due)
        self._emit_failed(step, reason, delay, started, injected, attempt, cause)

    def _emit_failed(
        self,
        step: str,
        reason: str,
        delay: float | None,
        started: float | None = None,
        injected: bool = False,
        attempt: int = 1,
        cause: str = "",
    ) -> None:
        host = self._host
        if host.listening:
            host.emit(
                BootstrapFailed(
                    host.name,
                    host.clock.now(),
                    step,
                    reason,
                    attempt,
                    delay,
                    started,
                    injected,
                    cause or reason,
                )
            )

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
