"""Device configuration: validation, the server URI (coap:// and coaps://), the PSK and the
Security object it shows, and what devices share."""

from __future__ import annotations

import pytest

from fleet.client.coap.psk import PskCredentials
from fleet.client.config import (
    ConfigError,
    DeviceConfig,
    default_bind_host,
    device_overrides,
    profile_for,
    server_values,
)
from fleet.client.device import Device
from fleet.client.registration import RetryPolicy
from fleet.clock import ManualClock
from fleet.codec import ContentFormat
from fleet.device import SHIPPED_LAYOUT, DeviceLayout, TreeTemplate
from fleet.model.ddf import shipped_registry


def test_bind_host_follows_the_server() -> None:
    assert default_bind_host("127.0.0.1") == "127.0.0.1"
    assert default_bind_host("::1") == "::1"
    assert default_bind_host("192.0.2.1") == "0.0.0.0"
    assert default_bind_host("2001:db8::1") == "::"
    assert DeviceConfig("a", server="coap://[::1]:1").local_host_for(("::1", 1)) == "::1"
    named = DeviceConfig("a", server="coap://lwm2m.example.net")
    assert named.server_address is None  # a name: resolved when the device connects
    assert named.local_host_for(("2001:db8::1", 5683)) == "::"
    answers = (("2001:db8::7", 5683), ("192.0.2.7", 5683))  # the shard's AAAA and A
    resolved = DeviceConfig("a", server="coap://lwm2m.example.net", resolved=answers)
    assert resolved.server_address == ("2001:db8::7", 5683)  # the resolver's first
    config = DeviceConfig("a", bind_host="127.0.0.2")
    assert config.local_host_for(("127.0.0.1", 5683)) == "127.0.0.2"


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"endpoint": ""}, "endpoint name"),
        ({"lifetime": 0}, "lifetime"),
        ({"binding": "S"}, "binding"),
        ({"lwm2m_version": "2.0"}, "LwM2M version"),
        ({"lwm2m_version": "1.0", "content_format": ContentFormat.SENML_CBOR}, "not a data format"),
        ({"lwm2m_version": "1.1", "content_format": ContentFormat.LWM2M_CBOR}, "not a data format"),
        ({"short_server_id": 0}, "short server id"),
        ({"default_pmin": -1}, "default_pmin"),
        ({"retry": RetryPolicy(retry_timer=0.5)}, "retry.retry_timer"),
        ({"reboot_delay": -1}, "reboot_delay"),
        ({"exchange_timeout": 0}, "exchange_timeout"),
        ({"server": "coaps://127.0.0.1"}, "coaps:// server needs a pre-shared key"),
        ({"psk": PskCredentials(b"id", b"k")}, "needs a coaps:// server"),
        ({"server": "coaps://127.0.0.1", "psk": ("id", "00")}, "PskCredentials"),
        (
            {
                "server": "coaps://127.0.0.1",
                "psk": PskCredentials(b"id", b"k"),
                "handshake_timeout": 0,
            },
            "handshake_timeout",
        ),
    ],
)
def test_bad_settings(settings: dict[str, object], reason: str) -> None:
    values = {"endpoint": "dev", **settings}
    with pytest.raises(ConfigError, match=reason):
        DeviceConfig(**values)  # type: ignore[arg-type]


def test_server_values_reflect_the_config() -> None:
    config = DeviceConfig(
        "dev",
        server="coap://127.0.0.1:7000",
        lifetime=60,
        binding="UQ",
        send_enabled=False,
        default_pmin=1,
        retry=RetryPolicy(retry_count=2, retry_timer=3, sequence_delay=4, sequence_retry_count=5),
    )
    values = server_values(config)
    assert values["/0/0/0"] == "coap://127.0.0.1:7000" and values["/0/0/2"] == 3
    assert values["/1/0/1"] == 60 and values["/1/0/7"] == "UQ" and values["/1/0/23"] is True
    assert [values[f"/1/0/{rid}"] for rid in (17, 18, 19, 20)] == [2, 3, 4, 5]
    assert values["/1/0/2"] == 1 and values["/1/0/3"] == 0  # 0: no periodic notification


def test_configs_with_one_layout_share_one_profile() -> None:
    layout = DeviceLayout.of({1: [0], 3: [0], 3303: [0, 1]})
    first_config = DeviceConfig("a", layout=layout, lifetime=60)
    first = profile_for(first_config)
    assert profile_for(DeviceConfig("b", layout=layout, lifetime=60)) is first
    other_config = DeviceConfig("c", layout=layout, lifetime=90, values={"/3/0/2": "SN"})
    assert profile_for(other_config) is first  # compiled once, whatever the lifetime
    assert device_overrides(first_config, first) == {}  # folded into the template
    assert device_overrides(other_config, first) == {"/1/0/1": 90, "/3/0/2": "SN"}
    periods = DeviceConfig("e", layout=layout, lifetime=60, default_pmin=4)
    assert device_overrides(periods, first) == {"/1/0/2": 4}
    assert Device(periods, clock=ManualClock()).attributes.defaults.pmin == 4
    assert Device(first_config, clock=ManualClock()).attributes.defaults.pmin == 0
    device = Device(other_config, clock=ManualClock())
    assert device.tree.value("/1/0/1") == 90 and device.registration_params().lifetime == 90
    assert profile_for(DeviceConfig("d")).template.layout.objects.keys() == (
        SHIPPED_LAYOUT.objects.keys()
    )


def test_a_shared_template_costs_only_what_differs() -> None:
    template = TreeTemplate.compile(shipped_registry(), SHIPPED_LAYOUT)
    config = DeviceConfig("a", layout=template, lifetime=86400, values={"/3/0/2": "SN-1"})
    profile = profile_for(config)
    assert profile.template is template
    overrides = device_overrides(config, profile)
    # the template has the specification's defaults; the config names its server
    assert overrides["/3/0/2"] == "SN-1" and overrides["/0/0/0"] == config.server
    assert "/1/0/1" not in overrides  # 86400 is the template's value already
    device = Device(config, clock=ManualClock())
    assert device.tree.value("/3/0/2") == "SN-1"
    assert device.tree.stored(0, 0, 0) == config.server
    assert device.tree.template is template


def test_like_devices_of_a_compiled_template_share_their_server_values() -> None:
    template = TreeTemplate.compile(shipped_registry(), SHIPPED_LAYOUT)
    first = Device(DeviceConfig("a", layout=template, lifetime=60), clock=ManualClock())
    second = Device(DeviceConfig("b", layout=template, lifetime=60), clock=ManualClock())
    assert first.tree.value("/1/0/1") == 60 and first.tree.stored(0, 0, 0) == first.config.server
    assert first.tree._objects[1] is second.tree._objects[1]  # one resolved copy
    first.tree.set_value("/1/0/1", 120)
    assert second.tree.value("/1/0/1") == 60
    other = Device(DeviceConfig("c", layout=template, lifetime=90), clock=ManualClock())
    assert other.tree.value("/1/0/1") == 90  # other values: other shared copy
    keyed = DeviceConfig(
        "d", layout=template, lifetime=60, server="coaps://127.0.0.1", psk=PskCredentials("d", b"k")
    )
    with_key = Device(keyed, clock=ManualClock())
    assert with_key.tree.stored(0, 0, 5) == b"k"  # a key is the device's own, never shared
    assert with_key.tree._objects[0] is not first.tree._objects[0]
    assert all(b"k" not in repr(v).encode() for v in profile_for(keyed)._resolved.values())


def test_configs_share_their_parsed_server_uri_and_empty_values() -> None:
    first, second = DeviceConfig("a", server="coap://127.0.0.1:5683"), DeviceConfig("b")
    again = DeviceConfig("c", server="coap://127.0.0.1:5683")
    assert first.uri is again.uri and first.values is second.values
    assert dict(DeviceConfig("d", values={"/3/0/2": "x"}).values) == {"/3/0/2": "x"}
    with pytest.raises(ConfigError, match="not a URI"):
        DeviceConfig("e", server="coap//nowhere")
    with pytest.raises(ConfigError, match="not a URI"):  # a refusal is not remembered as a URI
        DeviceConfig("f", server="coap//nowhere")


def test_a_layout_without_the_server_object_uses_the_config() -> None:
    layout = DeviceLayout.of({3: [0], 3303: [0]})
    config = DeviceConfig("a", layout=layout, lifetime=77, binding="UQ")
    device = Device(config, clock=ManualClock())
    params = device.registration_params()
    assert (params.lifetime, params.binding) == (77, "UQ")
    assert device.retry_policy() == config.retry
    assert b"</1" not in device.register_payload()


PSK = PskCredentials.of("sim-000007", "hex:00112233445566778899aabbccddeeff")


def test_a_coaps_config_shows_psk_mode_and_identity_in_the_security_object() -> None:
    config = DeviceConfig("sim-000007", server="coaps://127.0.0.1", psk=PSK)
    assert config.secure and config.server_address == ("127.0.0.1", 5684)
    values = server_values(config)
    assert values["/0/0/0"] == "coaps://127.0.0.1" and values["/0/0/2"] == 0  # Pre-Shared Key
    assert values["/0/0/3"] == b"sim-000007" and values["/0/0/5"] == PSK.key
    device = Device(config, clock=ManualClock())
    assert device.tree.value("/0/0/2") == 0
    assert device.tree.value("/0/0/3") == b"sim-000007"
    assert device.tree.value("/0/0/5") == PSK.key
    plain = Device(DeviceConfig("plain"), clock=ManualClock())
    assert plain.tree.value("/0/0/2") == 3 and plain.tree.value("/0/0/5") == b""


def test_devices_sharing_a_layout_keep_their_own_keys() -> None:
    """The first device's key is never folded into the template the others share."""
    first = PskCredentials.of("sim-1", "hex:0101")
    second = PskCredentials.of("sim-2", "hex:0202")
    one = Device(DeviceConfig("a", server="coaps://127.0.0.1", psk=first), clock=ManualClock())
    two = Device(DeviceConfig("b", server="coaps://127.0.0.1", psk=second), clock=ManualClock())
    assert one.profile is two.profile
    assert one.tree.value("/0/0/5") == b"\x01\x01" and two.tree.value("/0/0/5") == b"\x02\x02"
    template_values = repr(one.profile.template.plans[0].initial)
    assert "\\x01\\x01" not in template_values and "sim-1" not in template_values


def test_the_key_is_not_in_the_config_repr() -> None:
    config = DeviceConfig("sim-000007", server="coaps://127.0.0.1", psk=PSK)
    text = repr(config)
    assert "sim-000007" in text and "<16 bytes>" in text
    assert PSK.key.hex() not in text and repr(PSK.key) not in text


def test_no_shared_profile_or_its_cache_keeps_a_device_key() -> None:
    """Keys go into each device's own values, never into the profile cache or template."""
    template = TreeTemplate.compile(shipped_registry(), SHIPPED_LAYOUT)
    layout = DeviceLayout.of({0: [0], 1: [0], 3: [0]})
    keys = [bytes([0xA5, n, 0x5A, n]) for n in range(6)]
    devices = [
        Device(
            DeviceConfig(
                f"sim-{n}",
                server="coaps://127.0.0.1",
                psk=PskCredentials(f"sim-{n}".encode(), key),
                layout=template if n % 2 else layout,
            ),
            clock=ManualClock(),
        )
        for n, key in enumerate(keys)
    ]
    assert [device.tree.value("/0/0/5") for device in devices] == keys
    assert [device.tree.value("/0/0/3") for device in devices] == [
        f"sim-{n}".encode() for n in range(6)
    ]
    profiles = {id(device.profile): device.profile for device in devices}
    assert len(profiles) == 2  # one per layout, shared
    for profile in profiles.values():
        cached = repr(profile._overrides) + repr([plan.initial for plan in profile.template])
        for n, key in enumerate(keys):
            assert repr(key) not in cached and f"sim-{n}" not in cached
    # every secure device of a layout shares one cached set of server overrides
    assert all(len(profile._overrides) == 1 for profile in profiles.values())
