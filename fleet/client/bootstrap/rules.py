"""The client side of the Bootstrap Interface as pure rules: accounts, Delete, Read, Finish.

Nothing here sends a message; :mod:`fleet.client.bootstrap.site` and
:mod:`fleet.client.bootstrap.driver` ask these functions. The facts from the
OMA LwM2M Core TS 1.1 they implement:

- an *account* joins a Security object instance (``/0/x``) and, for a LwM2M
  Server, the Server object instance (``/1/y``) with the same Short Server ID
  (``/0/x/10`` = ``/1/y/0``); ``/0/x/1`` (Bootstrap-Server) true marks the
  Bootstrap-Server Account, which has no Server object instance
  (Appendix E.1, E.2);
- 6.1 Bootstrap: a client with no usable LwM2M Server account bootstraps
  (client-initiated: ``POST /bs?ep=<name>`` and in 1.1 ``&pct=<preferred
  content format>``), after the Client Hold Off Time (``/0/x/11``) of its
  Bootstrap-Server Account;
- 5.2.7.5 Bootstrap-Delete: ``/`` deletes every object instance except the
  Bootstrap-Server Account (and, 1.1, the single instance of the Device
  object); ``/0`` deletes every Security instance except the Bootstrap-Server
  Account; a Bootstrap-Delete that names the Bootstrap-Server Account or the
  Device instance itself is refused (4.00 Bad Request, as Leshan and Wakaama
  answer);
- 5.2.7.2 Bootstrap-Read (1.1): only the Server (1) and Access Control (2)
  objects may be read (anything else is 4.00 Bad Request);
- 5.2.7.3 Bootstrap-Discover: link format with ``lwm2m=`` on ``</>``; Security
  instances carry ``ssid`` (and ``uri`` for non-bootstrap accounts), Server
  instances ``ssid`` (1.1 adds these attributes);
- 5.2.7.6 Bootstrap-Finish: the client checks the configuration; when no LwM2M
  Server account is usable it answers 4.06 Not Acceptable and stays with its
  Bootstrap-Server, else 2.04 Changed and registers;
- E.1 resource 12, Bootstrap-Server Account Timeout: after a successful
  bootstrap the account is purged that many seconds later (0 or absent: never).

The security mode is an explicit field of every account (:class:`SecurityMode`):
NoSec (3) and Pre-Shared Key (0) are supported; Raw Public Key (1), Certificate
(2) and Certificate with EST (4) are recognised and reported as unsupported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from fleet.client.coap.psk import PskCredentials
from fleet.client.uri import Address, ServerUri, parse_uri
from fleet.codec.link import Link, format_links
from fleet.device.store import DeviceStore
from fleet.errors import BadRequest, ConfigError, Lwm2mError, NotFound
from fleet.model.path import Path

SECURITY: Final = 0
SERVER: Final = 1
ACCESS_CONTROL: Final = 2
DEVICE: Final = 3
OSCORE: Final = 21
READABLE_OBJECTS: Final = frozenset({SERVER, ACCESS_CONTROL})
"""What a Bootstrap-Read may target (1.1, 5.2.7.2)."""

# Security object (/0) resources
URI, IS_BOOTSTRAP, MODE, IDENTITY, SERVER_KEY, SECRET_KEY = 0, 1, 2, 3, 4, 5
SHORT_SERVER_ID, HOLD_OFF, ACCOUNT_TIMEOUT = 10, 11, 12
# Server object (/1) resource
SERVER_SHORT_ID: Final = 0


class SecurityMode(IntEnum):
    """Security Mode (``/0/x/2``), Appendix E.1."""

    PRE_SHARED_KEY = 0
    RAW_PUBLIC_KEY = 1
    CERTIFICATE = 2
    NO_SEC = 3
    CERTIFICATE_EST = 4

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]


_MODE_LABELS: Final = {
    SecurityMode.PRE_SHARED_KEY: "PSK",
    SecurityMode.RAW_PUBLIC_KEY: "RPK",
    SecurityMode.CERTIFICATE: "X.509",
    SecurityMode.NO_SEC: "NoSec",
    SecurityMode.CERTIFICATE_EST: "EST",
}
SUPPORTED_MODES: Final = frozenset({SecurityMode.NO_SEC, SecurityMode.PRE_SHARED_KEY})


@dataclass(frozen=True, slots=True)
class SecurityInstance:
    """One Security object instance as stored (``/0/<instance>``)."""

    instance: int
    uri: str
    bootstrap: bool
    mode: int
    identity: bytes
    key: bytes
    short_server_id: int | None
    hold_off: int
    account_timeout: int


@functools.lru_cache(maxsize=4096)
def judged_uri(uri: str) -> ServerUri:
    """:func:`~fleet.client.uri.parse_uri` of an account's URI, remembered: the accounts are
    read from the tree for every request a device gets (is it its Bootstrap-Server's?), and
    a fleet's devices share a handful of URIs (a refused URI raises every time)."""
    return parse_uri(uri)


@dataclass(frozen=True, slots=True)
class ServerAccount:
    """An account the device can talk to: where, how (security mode) and which instances.

    ``server_instance`` is the Server object instance (``None`` for the
    Bootstrap-Server Account); ``psk`` is set exactly when ``mode`` is PSK.
    """

    uri: str
    mode: SecurityMode
    security_instance: int
    short_server_id: int | None = None
    server_instance: int | None = None
    psk: PskCredentials | None = None
    bootstrap: bool = False
    hold_off: int = 0
    account_timeout: int = 0

    @property
    def address(self) -> Address | None:
        """The numeric ``(host, port)`` of a literal URI (``None``: a name, looked up when
        the device connects)."""
        return judged_uri(self.uri).literal

    @property
    def secure(self) -> bool:
        return self.mode is not SecurityMode.NO_SEC


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else b""


def security_instances(store: DeviceStore) -> list[SecurityInstance]:
    """Every Security instance of the device, by instance id (none without object 0)."""
    if SECURITY not in store.object_versions():
        return []
    found: list[SecurityInstance] = []
    for iid in store.instances(SECURITY):

        def get(rid: int, iid: int = iid) -> object:
            return store.stored(SECURITY, iid, rid)

        ssid = get(SHORT_SERVER_ID)
        uri = get(URI)
        found.append(
            SecurityInstance(
                instance=iid,
                uri=uri if isinstance(uri, str) else "",
                bootstrap=get(IS_BOOTSTRAP) is True,
                mode=_int(get(MODE), int(SecurityMode.NO_SEC)),
                identity=_bytes(get(IDENTITY)),
                key=_bytes(get(SECRET_KEY)),
                short_server_id=_int(ssid) if isinstance(ssid, int) else None,
                hold_off=_int(get(HOLD_OFF)),
                account_timeout=_int(get(ACCOUNT_TIMEOUT)),
            )
        )
    return found


def bootstrap_instance(store: DeviceStore) -> SecurityInstance | None:
    """The Bootstrap-Server Account's Security instance (the lowest, if several)."""
    return next((s for s in security_instances(store) if s.bootstrap), None)


def _account(security: SecurityInstance, server_instance: int | None) -> ServerAccount:
    """The account of ``security``; :class:`ValueError` saying why it cannot be used."""
    try:
        mode = SecurityMode(security.mode)
    except ValueError:
        raise ValueError(f"security mode {security.mode} is not defined") from None
    if mode not in SUPPORTED_MODES:
        raise ValueError(f"security mode {mode.value} ({mode.label}) is not supported")
    if not security.uri:
        raise ValueError("no server URI")
    try:
        judged_uri(security.uri)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    secure_uri = security.uri.lower().startswith("coaps:")
    psk = None
    if mode is SecurityMode.PRE_SHARED_KEY:
        if not secure_uri:
            raise ValueError(f"PSK mode needs a coaps:// URI, not {security.uri}")
        if not security.identity or not security.key:
            raise ValueError("PSK mode without an identity (/0/x/3) and key (/0/x/5)")
        psk = PskCredentials(security.identity, security.key)
    elif secure_uri:
        raise ValueError(f"NoSec mode with a coaps:// URI ({security.uri})")
    return ServerAccount(
        uri=security.uri,
        mode=mode,
        security_instance=security.instance,
        short_server_id=security.short_server_id,
        server_instance=server_instance,
        psk=psk,
        bootstrap=security.bootstrap,
        hold_off=security.hold_off,
        account_timeout=security.account_timeout,
    )


def bootstrap_account(store: DeviceStore) -> ServerAccount | None:
    """The usable Bootstrap-Server Account (``None``: none, or not usable)."""
    security = bootstrap_instance(store)
    if security is None:
        return None
    try:
        return _account(security, None)
    except ValueError:
        return None


def server_accounts(store: DeviceStore) -> tuple[list[ServerAccount], list[str]]:
    """The usable LwM2M Server accounts (by Server instance id) and why others are not."""
    servers: dict[int, int] = {}
    if SERVER in store.object_versions():
        for iid in store.instances(SERVER):
            ssid = store.stored(SERVER, iid, SERVER_SHORT_ID)
            if isinstance(ssid, int) and not isinstance(ssid, bool):
                servers.setdefault(ssid, iid)
    usable: list[ServerAccount] = []
    problems: list[str] = []
    paired: set[int] = set()
    for security in security_instances(store):
        if security.bootstrap:
            continue
        where = f"/0/{security.instance}"
        ssid = security.short_server_id
        if ssid is None or ssid not in servers:
            problems.append(f"{where}: no Server object instance with Short Server ID {ssid}")
            continue
        try:
            usable.append(_account(security, servers[ssid]))
            paired.add(ssid)
        except ValueError as error:
            problems.append(f"{where}: {error}")
    for ssid, iid in servers.items():
        if ssid not in paired and not any(
            s.short_server_id == ssid for s in security_instances(store)
        ):
            problems.append(f"/1/{iid}: no Security instance with Short Server ID {ssid}")
    usable.sort(key=lambda a: a.server_instance if a.server_instance is not None else -1)
    return usable, problems


def finish_problem(store: DeviceStore) -> str | None:
    """What Bootstrap-Finish refuses (4.06), or ``None`` when at least one account is usable."""
    usable, problems = server_accounts(store)
    if usable:
        return None
    detail = "; ".join(problems) if problems else "no LwM2M Server account was written"
    return f"no usable LwM2M Server account: {detail}"


def needs_bootstrap(store: DeviceStore) -> bool:
    """Whether the device must bootstrap before it can register (6.1): no usable account."""
    return not server_accounts(store)[0]


def deletions(store: DeviceStore, path: Path) -> list[Path]:
    """The instances a Bootstrap-Delete of ``path`` removes (see the module docstring).

    Raises :class:`BadRequest` for a target that must be spared or a resource path.
    """
    if len(path) > 2:
        raise BadRequest(f"{path}: a Bootstrap-Delete targets /, an object or an instance")
    spared = _spared(store)
    objects = store.object_versions()
    if len(path) == 2:
        target = Path(path[0], path[1])
        if target in spared:
            what = "the Bootstrap-Server Account" if path[0] == SECURITY else "the Device object"
            raise BadRequest(f"{path}: {what} instance is never deleted by the Bootstrap-Server")
        if path[0] not in objects or path[1] not in store.instances(path[0]):
            return []  # deleting what is not there is no error (the goal is reached)
        return [target]
    chosen = objects if not path else ({path[0]: ""} if path[0] in objects else {})
    found: list[Path] = []
    for oid in chosen:
        found.extend(Path(oid, iid) for iid in store.instances(oid) if Path(oid, iid) not in spared)
    return found


def _spared(store: DeviceStore) -> frozenset[Path]:
    spared = {Path(DEVICE, iid) for iid in _instances(store, DEVICE)}
    account = bootstrap_instance(store)
    if account is not None:
        spared.add(Path(SECURITY, account.instance))
    return frozenset(spared)


def _instances(store: DeviceStore, oid: int) -> list[int]:
    return store.instances(oid) if oid in store.object_versions() else []


def check_read(path: Path) -> None:
    """A Bootstrap-Read targets the Server or Access Control object (1.1), else 4.00."""
    if not path or path[0] not in READABLE_OBJECTS:
        raise BadRequest(
            f"{path}: a Bootstrap-Read targets the Server (1) or Access Control (2) object"
        )


def discover_links(store: DeviceStore, path: Path, lwm2m_version: str) -> str:
    """The Bootstrap-Discover answer for ``/`` or an object (5.2.7.3).

    ``</>;lwm2m=1.1`` first (for ``/``), then per object ``</o>`` (with ``ver=``
    when not 1.0) and its instances; Security instances carry ``ssid`` and, for
    LwM2M Server accounts, ``uri``; Server instances carry ``ssid``.
    """
    if len(path) > 1:
        raise BadRequest(f"{path}: a Bootstrap-Discover targets / or an object")
    versions = store.object_versions()
    if path and path[0] not in versions:
        raise _not_found(path)
    links: list[Link] = []
    if not path:
        links.append(Link("/", {"lwm2m": lwm2m_version}))
    securities = {s.instance: s for s in security_instances(store)}
    for oid, version in versions.items():
        if path and oid != path[0]:
            continue
        instances = store.instances(oid)
        attributes: dict[str, str | None] = {}
        if version != "1.0":
            attributes["ver"] = version
        if attributes or not instances or path:
            links.append(Link(f"/{oid}", attributes))
        for iid in instances:
            links.append(Link(f"/{oid}/{iid}", _instance_attributes(store, oid, iid, securities)))
    return format_links(links)


def _instance_attributes(
    store: DeviceStore, oid: int, iid: int, securities: dict[int, SecurityInstance]
) -> dict[str, str | None]:
    if oid == SECURITY:
        security = securities[iid]
        if security.bootstrap:
            return {}
        attributes: dict[str, str | None] = {}
        if security.short_server_id is not None:
            attributes["ssid"] = str(security.short_server_id)
        attributes["uri"] = security.uri
        return attributes
    if oid == SERVER:
        ssid = store.stored(SERVER, iid, SERVER_SHORT_ID)
        if isinstance(ssid, int):
            return {"ssid": str(ssid)}
    return {}


def _not_found(path: Path) -> Lwm2mError:
    return NotFound(f"{path}: this device has no object {path[0]}")


def bootstrap_query(endpoint: str, lwm2m_version: str, preferred: int | None) -> list[str]:
    """The Uri-Query of a Bootstrap-Request: ``ep=`` and, since 1.1, ``pct=`` (6.1.3)."""
    query = [f"ep={endpoint}"]
    if lwm2m_version != "1.0" and preferred is not None:
        query.append(f"pct={preferred}")
    return query


def purge_delay(account: ServerAccount | None) -> float | None:
    """Seconds after a successful bootstrap to purge the Bootstrap-Server Account (E.1 /12)."""
    if account is None or account.account_timeout <= 0:
        return None
    return float(account.account_timeout)
