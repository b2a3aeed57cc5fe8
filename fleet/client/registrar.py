"""The Registration interface driven for one device: Register, Update, De-register, retries.

A :class:`Registrar` asks the pure rules of :mod:`fleet.client.registration`
what to send and when, and talks through the device's CoAP endpoint. It owns
no long-lived task: the next Update and the next retry are Clock timers, and
each exchange runs in a short task that ends with its response. Only one
exchange is in flight at a time; an Update asked for meanwhile follows it.

- Register: ``POST /rd?ep=..&lt=..&lwm2m=..&b=..`` with the link-format object
  list (content format 40); a 2.01 with a Location-Path registers the device.
- Update: ``POST <location>`` with only what changed (``lt``, ``b``, the
  links), due :func:`~fleet.client.registration.update_due` after the last
  success, or at once when the device asks (objects, lifetime or binding
  changed, ``/1/0/8`` executed). An Update answered 4.04 means the server
  forgot the device: a fresh Register follows at once.
- A Register or Update that fails (an error code, a Reset, a timeout) loses
  the registration and a fresh Register is tried after the delay of the
  retry policy (``/1/0/17..20``: retry timer doubled per attempt, sequence
  delay between sequences); when the policy is exhausted the device gives up
  (:attr:`RegistrationState.FAILED`). A Register answered 4.12 is the server
  refusing the LwM2M version: with another version configured
  (``lwm2m_fallback``) the device registers with it at once, else it is a failure
  named "4.12 LwM2M 1.2 not supported".
- De-register: ``DELETE <location>``.

Before each of these the device is asked (:meth:`RegistrationHost.before_uplink`):
a queue-mode device wakes up, and an uplink fault may drop, delay or answer
the message (:mod:`fleet.client.uplink`); after it the device hears the
outcome (:meth:`RegistrationHost.after_uplink`: a queue-mode device stays
awake from then on, and sends the notifications it stored). A Register
without a socket (the bind or the DTLS handshake failed at start, after a
reboot or a flap) first asks the device to :meth:`~RegistrationHost.connect`;
a failure there is a failed Register like any other, retried by the policy.

Every event says when its exchange began (``started``), so durations are
measured; a failure made by an uplink fault is marked ``injected``.

Requests go to the server's numeric address, looked up when the device
connects and again after an Update answered 4.04 (:meth:`RegistrationHost.server_forgot`):
no DNS lookup per message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from fleet.client.addresses import shown
from fleet.client.coap.dtls_errors import DtlsHandshakeError
from fleet.client.coap.errors import CoapError, CoapTimeout, CoapUnreachable
from fleet.client.coap.wire import Message
from fleet.client.events import (
    Deregistered,
    Registered,
    RegistrationFailed,
    Updated,
)
from fleet.client.reasons import answered, code_reason, error_cause, error_reason
from fleet.client.registration import (
    RegistrationParams,
    RegistrationState,
    update_due,
    update_query,
)
from fleet.client.registration_host import RegistrationHost
from fleet.client.site import Verdict
from fleet.client.uplink import Answer, UplinkDropped, exchange
from fleet.clock import TimerHandle
from fleet.errors import FleetError

_log = logging.getLogger("fleet.client.registration")

POST, DELETE = 2, 4
CREATED, DELETED, CHANGED, NOT_FOUND, PRECONDITION_FAILED = 65, 66, 68, 132, 140
LINK_FORMAT: Final = 40


def moves_on(error: BaseException) -> bool:
    """Whether a failure says the server is not at this address, so another of its
    addresses may do: no answer (not a fault's drop), ICMP unreachable, no socket, a failed
    DTLS handshake. An answer of the server, or a name that does not resolve, is not."""
    if isinstance(error, UplinkDropped):
        return False
    return isinstance(error, CoapTimeout | CoapUnreachable | DtlsHandshakeError | OSError)


class Registrar:
    """Registration state of one device and the exchanges that change it."""

    __slots__ = (
        "_attempt",
        "_host",
        "_sent",
        "_sent_links",
        "_sequence",
        "_task",
        "_timer",
        "_wanted",
        "location",
        "registered_at",
        "state",
    )

    def __init__(self, host: RegistrationHost) -> None:
        self._host = host
        self.state = RegistrationState.STOPPED
        self.location: tuple[str, ...] | None = None
        """The Location-Path the server gave (``("rd", "5a3f")``) while registered."""
        self.registered_at: float | None = None
        """When the last Register or Update succeeded (device clock)."""
        self._sent: RegistrationParams | None = None
        self._sent_links = b""
        self._attempt = 1
        self._sequence = 1
        self._timer: TimerHandle | None = None
        self._task: asyncio.Future[None] | None = None
        self._wanted = False

    @property
    def location_text(self) -> str:
        return "/" + "/".join(self.location) if self.location else ""

    @property
    def busy(self) -> bool:
        """Whether an exchange is in flight."""
        return self._task is not None and not self._task.done()

    # -- what the device asks for -------------------------------------------------------

    def start(self) -> None:
        """Register now (the first attempt of a fresh sequence)."""
        self._attempt = self._sequence = 1
        self.state = RegistrationState.REGISTERING
        self._begin(self._register)

    def request_update(self) -> None:
        """Send an Update as soon as possible (something the server must know changed)."""
        if self.state is RegistrationState.REGISTERED and not self.busy:
            self._begin(self._update)
        elif self.state in (
            RegistrationState.REGISTERED,
            RegistrationState.REGISTERING,
            RegistrationState.UPDATING,
        ):
            self._wanted = True

    def settings_changed(self) -> None:
        """Lifetime or binding may have changed: Update if they differ from what was sent."""
        if self._sent is not None and self._host.registration_params() != self._sent:
            self.request_update()

    def cancel(self) -> None:
        """Stop timers and the exchange in flight, send nothing; the state is kept."""
        self._cancel_timer()
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def deregister(self, reason: str) -> bool:
        """De-register (if registered) and stop; ``True`` when the server answered 2.02."""
        self.cancel()
        host = self._host
        location, self.location = self.location, None
        endpoint = host.endpoint
        if location is None or endpoint is None:
            self.state = RegistrationState.STOPPED
            return False
        self.state = RegistrationState.DEREGISTERING
        asked = (host.before_uplink("De-register"),)  # wakes a sleeping device first
        host.registration_changed(False)
        answered = injected = False
        started = host.clock.now()
        message = Message(code=DELETE, uri_path=location)
        try:
            answer = await self._request("De-register", message, asked=asked)
            answered = int(answer.response.code) == DELETED
            injected = answer.injected
        except CoapError as error:
            injected = isinstance(error, UplinkDropped)
            _log.info("%s: De-register got no answer: %s", host.name, error)
        host.after_uplink("De-register", answered)
        self.state = RegistrationState.STOPPED
        if host.listening:
            host.emit(
                Deregistered(
                    host.name,
                    host.clock.now(),
                    "/" + "/".join(location),
                    answered,
                    reason,
                    started,
                    injected,
                )
            )
        return answered

    def connect_failed(self, operation: str, error: BaseException) -> None:
        """The socket or secure session could not be opened (or the server's name not
        looked up): a failure the policy retries."""
        self.cancel()
        self._lost()
        self._error(operation, error)

    @property
    def sent(self) -> RegistrationParams | None:
        """What the last successful Register or Update told the server (``None``: nothing)."""
        return self._sent if self.location is not None else None

    # -- exchanges ----------------------------------------------------------------------

    def _begin(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._cancel_timer()
        task = asyncio.ensure_future(step())
        self._task = task
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[None]) -> None:
        if self._task is task:
            self._task = None
        if not task.cancelled() and task.exception() is not None:
            _log.error("%s: registration step failed", self._host.name, exc_info=task.exception())

    async def _request(
        self, operation: str, message: Message, *, asked: tuple[Verdict | None] | None = None
    ) -> Answer:
        """Send one registration message through the device's uplink rules (``asked``: the
        device's :meth:`~RegistrationHost.before_uplink` answer, when already asked)."""
        host = self._host
        endpoint = host.endpoint
        if endpoint is None:
            raise FleetError(f"{host.name}: no socket to send the {operation} from")
        verdict = asked[0] if asked is not None else host.before_uplink(operation)
        return await exchange(
            endpoint,
            message,
            host.server_address,
            operation=operation,
            verdict=verdict,
            clock=host.clock,
            params=host.transmission,
            timeout=host.exchange_timeout,
        )

    async def _register(self) -> None:
        host = self._host
        if host.endpoint is None:
            self.state = RegistrationState.REGISTERING
            try:
                await host.connect()
            except (FleetError, OSError) as error:
                self._error("Register", error)
                return
        self.state = RegistrationState.REGISTERING
        params = host.registration_params()
        links = host.register_payload()
        message = Message(
            code=POST,
            uri_path=("rd",),
            uri_query=tuple(params.register_query()),
            content_format=LINK_FORMAT,
            payload=links,
        )
        started = host.clock.now()
        try:
            answer = await self._request("Register", message)
        except CoapError as error:
            host.after_uplink("Register", False)
            self._error("Register", error, started, isinstance(error, UplinkDropped))
            return
        response = answer.response
        code = int(response.code)
        location = tuple(response.opt.location_path)
        if code == PRECONDITION_FAILED and not answer.injected:
            host.after_uplink("Register", False)
            self._version_refused(params.lwm2m_version, response.payload, started)
            return
        if code != CREATED or not location:
            host.after_uplink("Register", False)
            missing = " without a Location-Path" if code == CREATED else ""
            reason = answered(code, response.payload) + missing
            cause = code_reason(code) + missing
            self._failed("Register", reason, started, answer.injected, cause=cause)
            return
        self.location = location
        self._succeeded(params, links)
        host.registration_changed(True)
        if host.listening:
            host.emit(
                Registered(
                    host.name,
                    host.clock.now(),
                    self.location_text,
                    params.lifetime,
                    started,
                    host.server_address,
                )
            )
        host.after_uplink("Register", True)
        self._follow_up()

    async def _update(self) -> None:
        host = self._host
        location = self.location
        if host.endpoint is None or location is None or self._sent is None:
            return
        self.state = RegistrationState.UPDATING
        self._wanted = False
        params = host.registration_params()
        links = host.register_payload()
        query = tuple(update_query(self._sent, params))
        message = Message(code=POST, uri_path=location, uri_query=query)
        with_links = links != self._sent_links
        if with_links:
            message.opt.content_format = LINK_FORMAT
            message.payload = links
        started = host.clock.now()
        try:
            answer = await self._request("Update", message)
        except CoapError as error:
            host.after_uplink("Update", False)
            self._lost()
            self._error("Update", error, started, isinstance(error, UplinkDropped))
            return
        code = int(answer.response.code)
        if code == NOT_FOUND:
            _log.info("%s: Update answered 4.04, registering again", host.name)
            host.after_uplink("Update", False)
            self._lost()
            if host.listening:
                host.emit(
                    RegistrationFailed(
                        host.name,
                        host.clock.now(),
                        "Update",
                        "answered 4.04 Not Found: registering again",
                        1,
                        1,
                        0.0,
                        started,
                        answer.injected,
                        code_reason(NOT_FOUND),
                    )
                )
            self._attempt = self._sequence = 1
            try:
                await host.server_forgot()
            except FleetError as error:
                self._failed("Register", error_reason(error), cause=error_cause(error))
                return
            await self._register()
            return
        if code != CHANGED:
            host.after_uplink("Update", False)
            self._lost()
            self._failed(
                "Update",
                answered(code, answer.response.payload),
                started,
                answer.injected,
                cause=code_reason(code),
            )
            return
        self._succeeded(params, links)
        if host.listening:
            host.emit(
                Updated(host.name, host.clock.now(), self.location_text, query, with_links, started)
            )
        host.after_uplink("Update", True)
        self._follow_up()

    # -- outcomes -----------------------------------------------------------------------

    def _error(
        self,
        operation: str,
        error: BaseException,
        started: float | None = None,
        injected: bool = False,
    ) -> None:
        """An exchange (or the connect before it) failed with ``error``: on at once to the
        server's next address where the failure is the address's, else a failure the
        retry policy handles."""
        reason, cause = error_reason(error), error_cause(error)
        if not self._next_address(operation, error, reason, started, cause):
            self._failed(operation, reason, started, injected, cause=cause)

    def _retrying_now(self, operation: str, text: str, started: float | None, cause: str) -> None:
        """Tell listeners ``operation`` failed and is tried again at once (no delay): at
        the server's next address, or with the next LwM2M version."""
        host = self._host
        if host.listening:
            host.emit(
                RegistrationFailed(
                    host.name,
                    host.clock.now(),
                    operation,
                    text,
                    self._attempt,
                    self._sequence,
                    0.0,
                    started,
                    False,
                    cause,
                )
            )

    def _next_address(
        self,
        operation: str,
        error: BaseException,
        reason: str,
        started: float | None,
        cause: str,
    ) -> bool:
        """The server is not there at this address (no answer, ICMP unreachable, no socket
        or handshake): a Register goes at once to its next address, if it has one (``True``;
        :mod:`fleet.client.addresses`). ``False``: every address was tried (the retry
        policy decides), or the failure is not the address's."""
        host = self._host
        if not moves_on(error):
            return False
        following = host.address_failed()
        if following is None:
            return False
        text = f"{reason}; trying {shown(following)} ({host.address_position})"
        _log.info("%s: %s failed (%s)", host.name, operation, text)
        self._retrying_now(operation, text, started, cause)
        self.state = RegistrationState.REGISTERING
        self._begin(self._register)
        return True

    def _version_refused(self, version: str, payload: bytes, started: float) -> None:
        """A Register answered 4.12: the server does not support this LwM2M version (Core
        1.1 §6.2.1). The next configured version is tried at once; without one it is a
        failure like any other, named as what it is."""
        host = self._host
        reason = f"{answered(PRECONDITION_FAILED, payload)}: the server refuses LwM2M {version}"
        cause = f"4.12 LwM2M {version} not supported"
        following = host.fall_back()
        if following is None:
            self._failed("Register", reason, started, cause=cause)
            return
        _log.info("%s: %s; registering with LwM2M %s", host.name, reason, following)
        self._retrying_now("Register", f"{reason}; trying LwM2M {following}", started, cause)
        self._begin(self._register)

    def _succeeded(self, params: RegistrationParams, links: bytes) -> None:
        now = self._host.clock.now()
        self._sent = params
        self._sent_links = links
        self._attempt = self._sequence = 1
        self.state = RegistrationState.REGISTERED
        self.registered_at = now
        self._cancel_timer()
        self._timer = self._host.clock.call_at(update_due(now, params.lifetime), self._update_due)

    def _follow_up(self) -> None:
        """An Update asked for while the exchange was in flight goes out now."""
        if self._wanted:
            self._wanted = False
            self._begin(self._update)

    def _update_due(self) -> None:
        self._timer = None
        if self.state is RegistrationState.REGISTERED and not self.busy:
            self._begin(self._update)

    def _lost(self) -> None:
        if self.location is not None:
            self.location = None
            self._host.registration_changed(False)

    def _failed(
        self,
        operation: str,
        reason: str,
        started: float | None = None,
        injected: bool = False,
        *,
        cause: str = "",
    ) -> None:
        host = self._host
        policy = host.retry_policy()
        delay = policy.delay_after_failure(self._attempt, self._sequence)
        attempt, sequence = self._attempt, self._sequence
        _log.info("%s: %s failed (%s); retry in %s s", host.name, operation, reason, delay)
        self._cancel_timer()
        if delay is None:
            self.state = RegistrationState.FAILED
        else:
            self._attempt, self._sequence = policy.next_attempt(attempt, sequence)
            self.state = RegistrationState.WAITING_RETRY
            self._timer = host.clock.call_at(host.clock.now() + delay, self._retry)
        if host.listening:
            host.emit(
                RegistrationFailed(
                    host.name,
                    host.clock.now(),
                    operation,
                    reason,
                    attempt,
                    sequence,
                    delay,
                    started,
                    injected,
                    cause,
                )
            )
        if delay is None:
            host.registration_gave_up()

    def _retry(self) -> None:
        self._timer = None
        self.state = RegistrationState.REGISTERING
        self._begin(self._register)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
