"""The pure bootstrap rules (LwM2M 1.1 Core 5.2.7, 6.1, Appendix E.1/E.2) on real device trees."""

from __future__ import annotations

import pytest

from fleet.client.bootstrap import rules
from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.device.tree import ObjectTree
from fleet.errors import BadRequest, NotFound
from fleet.model.nodes import ObjectInstance, SingleResource
from fleet.model.path import Path

BS = "coap://127.0.0.1:5783"


def tree_of(**options: object) -> ObjectTree:
    options.setdefault("bootstrap", BS)
    config = DeviceConfig("dev", **options)  # type: ignore[arg-type]
    return Device(config, clock=ManualClock()).tree


def instance(iid: int, values: dict[int, object]) -> ObjectInstance:
    return ObjectInstance(iid, {r: SingleResource(r, v) for r, v in values.items()})  # type: ignore[arg-type]


def write_account(
    tree: ObjectTree,
    security: int,
    server: int,
    ssid: int,
    uri: str = "coap://127.0.0.1:5683",
    mode: int = 3,
    identity: bytes = b"",
    key: bytes = b"",
) -> None:
    tree.bootstrap_write(
        Path(0, security),
        instance(security, {0: uri, 1: False, 2: mode, 3: identity, 5: key, 10: ssid}),
    )
    tree.bootstrap_write(Path(1, server), instance(server, {0: ssid, 1: 60, 6: True, 7: "U"}))


def test_a_factory_bootstrap_device_holds_only_its_bootstrap_account() -> None:
    tree = tree_of()
    assert tree.instances(0) == [0] and tree.instances(1) == []
    account = rules.bootstrap_account(tree)
    assert account is not None and account.bootstrap and account.uri == BS
    assert account.mode is SecurityMode.NO_SEC
    assert rules.needs_bootstrap(tree)


def test_a_psk_bootstrap_account_carries_its_credentials() -> None:
    psk = PskCredentials(b"bs-dev", b"\x01\x02")
    tree = tree_of(bootstrap="coaps://127.0.0.1:5784", bootstrap_psk=psk)
    account = rules.bootstrap_account(tree)
    assert account is not None and account.mode is SecurityMode.PRE_SHARED_KEY
    assert account.psk == psk


def test_delete_root_spares_the_bootstrap_account_and_the_device_instance() -> None:
    # 5.2.7.5: "/" deletes all instances except the Bootstrap-Server Account and Device (/3/0)
    tree = tree_of()
    write_account(tree, 1, 0, 7)
    gone = rules.deletions(tree, Path())
    assert Path(0, 0) not in gone and Path(3, 0) not in gone
    assert {Path(0, 1), Path(1, 0), Path(6, 0), Path(3303, 0), Path(3442, 0)} <= set(gone)


def test_delete_security_object_spares_only_the_bootstrap_account() -> None:
    tree = tree_of()
    write_account(tree, 1, 0, 7)
    write_account(tree, 2, 1, 8)
    assert rules.deletions(tree, Path(0)) == [Path(0, 1), Path(0, 2)]
    assert rules.deletions(tree, Path(1)) == [Path(1, 0), Path(1, 1)]


@pytest.mark.parametrize("target", [Path(0, 0), Path(3, 0)])
def test_deleting_the_bootstrap_account_or_device_by_name_is_refused(target: Path) -> None:
    with pytest.raises(BadRequest, match="never deleted"):
        rules.deletions(tree_of(), target)


def test_delete_of_a_missing_instance_deletes_nothing_and_resources_are_refused() -> None:
    tree = tree_of()
    assert rules.deletions(tree, Path(1, 9)) == []
    with pytest.raises(BadRequest):
        rules.deletions(tree, Path(1, 0, 1))


def test_finish_needs_a_usable_server_account() -> None:
    # 5.2.7.6: no usable LwM2M Server account -> Bootstrap-Finish is 4.06
    tree = tree_of()
    problem = rules.finish_problem(tree)
    assert problem is not None and "no LwM2M Server account" in problem
    write_account(tree, 1, 0, 7)
    assert rules.finish_problem(tree) is None
    usable, _ = rules.server_accounts(tree)
    assert [(a.short_server_id, a.server_instance, a.security_instance) for a in usable] == [
        (7, 0, 1)
    ]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"ssid": 7, "server_ssid": 8}, "no Server object instance with Short Server ID 7"),
        ({"mode": 0, "uri": "coaps://127.0.0.1:5684"}, "PSK mode without an identity"),
        ({"mode": 0}, "PSK mode needs a coaps:// URI"),
        ({"mode": 2}, "security mode 2 (X.509) is not supported"),
        ({"uri": "coaps://127.0.0.1:5684"}, "NoSec mode with a coaps:// URI"),
        ({"uri": "http://127.0.0.1"}, "the scheme must be coap://"),
    ],
)
def test_finish_says_why_an_account_is_unusable(options: dict[str, object], reason: str) -> None:
    tree = tree_of()
    ssid = int(options.get("ssid", 7))  # type: ignore[call-overload]
    write_account(
        tree,
        1,
        0,
        ssid,
        uri=str(options.get("uri", "coap://127.0.0.1:5683")),
        mode=int(options.get("mode", 3)),  # type: ignore[call-overload]
    )
    if "server_ssid" in options:
        tree.bootstrap_write(Path(1, 0, 0), SingleResource(0, int(options["server_ssid"])))  # type: ignore[call-overload]
    problem = rules.finish_problem(tree)
    assert problem is not None and reason in problem


def test_psk_account_is_usable_with_identity_and_key() -> None:
    tree = tree_of()
    write_account(tree, 1, 0, 7, "coaps://127.0.0.1:5684", 0, b"dev", b"\x0a\x0b")
    (account,), problems = rules.server_accounts(tree)
    assert problems == []
    assert account.mode is SecurityMode.PRE_SHARED_KEY and account.psk == PskCredentials(
        b"dev", b"\x0a\x0b"
    )


@pytest.mark.parametrize("path", [Path(1), Path(1, 0), Path(2), Path(1, 0, 1)])
def test_bootstrap_read_targets_server_and_access_control(path: Path) -> None:
    rules.check_read(path)  # 5.2.7.2 (1.1): only objects 1 and 2


@pytest.mark.parametrize("path", [Path(), Path(0), Path(0, 0), Path(3)])
def test_bootstrap_read_of_anything_else_is_refused(path: Path) -> None:
    with pytest.raises(BadRequest):
        rules.check_read(path)


def test_discover_names_the_version_on_root_and_ssid_uri_on_accounts() -> None:
    # 5.2.7.3: lwm2m= on </>; ssid and uri on Security instances, ssid on Server instances
    tree = tree_of()
    write_account(tree, 1, 0, 7, "coap://127.0.0.1:5999")
    links = rules.discover_links(tree, Path(), "1.1")
    assert links.startswith("</>;lwm2m=1.1,</0>;ver=1.1,</0/0>,")
    assert '</0/1>;ssid=7;uri="coap://127.0.0.1:5999"' in links
    assert "</1/0>;ssid=7" in links
    assert rules.discover_links(tree, Path(1), "1.1") == "</1>;ver=1.1,</1/0>;ssid=7"
    with pytest.raises(BadRequest):
        rules.discover_links(tree, Path(1, 0), "1.1")
    with pytest.raises(NotFound):
        rules.discover_links(tree, Path(5), "1.1")


def test_bootstrap_request_query_carries_pct_since_1_1() -> None:
    assert rules.bootstrap_query("dev", "1.1", 112) == ["ep=dev", "pct=112"]
    assert rules.bootstrap_query("dev", "1.0", 112) == ["ep=dev"]
    assert rules.bootstrap_query("dev", "1.2", None) == ["ep=dev"]


def test_the_account_timeout_purges_only_when_set() -> None:
    tree = tree_of()
    assert rules.purge_delay(rules.bootstrap_account(tree)) is None
    tree.bootstrap_write(Path(0, 0, 12), SingleResource(12, 30))
    assert rules.purge_delay(rules.bootstrap_account(tree)) == 30.0
