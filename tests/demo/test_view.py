"""The demo's live view, rendered headless, and its fleet set-up."""

from __future__ import annotations

from fleet.demo.fleet import BERLIN, KM_PER_DEGREE, Temperatures, demo_configs, location
from fleet.demo.view import DemoState, render, status_line, summary_lines


def _state(devices: int = 20) -> DemoState:
    state = DemoState(server="coap://127.0.0.1:5683", duration=20, time_scale=60)
    for i in range(devices):
        name = f"demo-{i + 1:03d}"
        state.devices[name] = "registered" if i % 4 else "registering"
        state.temperatures[name] = 15.0 + i / 4
    state.counts.update({"registration": 15, "response": 7, "notify": 3})
    state.recent.extend(f"demo-{i:03d} notify /3303/0/5602 = {i}" for i in range(30))
    state.elapsed, state.simulated_hour = 12.3, 8.2
    return state


def test_render_fits_the_screen_and_shows_every_part() -> None:
    screen = render(_state(), 80, 24)
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert "coap://127.0.0.1:5683" in lines[0] and "12.3 s / 20 s" in lines[1]
    assert "simulated time of day 08:12" in lines[1]
    assert "registered 15 · registering 5" in screen
    assert "15/20" in screen
    assert "notify 3 · registration 15 · response 7" in screen
    assert "demo-001  15.0" in screen
    assert lines[-1].strip() == "demo-029 notify /3303/0/5602 = 29"  # newest last


def test_render_in_a_tiny_terminal_still_fits() -> None:
    screen = render(_state(), 30, 8)
    lines = screen.splitlines()
    assert len(lines) <= 8 and all(len(line) <= 30 for line in lines)


def test_render_of_an_empty_fleet() -> None:
    screen = render(DemoState(server="coap://x:1"), 100, 30)
    assert "Devices (0): no devices" in screen and "none yet" in screen


def test_status_and_summary_lines() -> None:
    state = _state(4)
    state.registered_ever = {"demo-001", "demo-002"}
    state.deregistered = {"demo-001"}
    assert "mean temperature 15.4 °C at 08:12" in status_line(state)
    assert "messages 25" in status_line(state)
    assert summary_lines(state)[1] == "devices: 4 started, 2 registered, 1 de-registered"


def test_locations_are_seeded_and_within_the_city() -> None:
    points = [location(BERLIN, 7, i) for i in range(50)]
    assert points == [location(BERLIN, 7, i) for i in range(50)]
    assert points != [location(BERLIN, 8, i) for i in range(50)]
    assert len(set(points)) == 50
    for lat, lon in points:
        assert abs(lat - BERLIN.latitude) * KM_PER_DEGREE <= BERLIN.radius_km + 0.01
        assert abs(lon - BERLIN.longitude) * KM_PER_DEGREE * 0.61 <= BERLIN.radius_km + 0.01


def test_configs_carry_location_and_serial() -> None:
    configs = demo_configs(3, "coap://127.0.0.1:5683", seed=2)
    assert [c.endpoint for c in configs] == ["demo-001", "demo-002", "demo-003"]
    assert configs[1].values["/6/0/0"] == location(BERLIN, 2, 1)[0]
    assert len({c.values["/3/0/2"] for c in configs}) == 3


def test_temperatures_follow_the_daily_curve_with_time_scale() -> None:
    fast, slow = Temperatures(1, 3600.0, start_hour=3.0), Temperatures(1, 1.0, start_hour=3.0)
    got_fast: list[object] = []
    got_slow: list[object] = []
    fast.add(0, got_fast.append)
    slow.add(0, got_slow.append)
    for second in range(1, 13):  # 12 simulated hours at x3600: from 03:00 to 15:00 (peak)
        fast.apply(float(second))
        slow.apply(float(second))
    assert fast.simulated_hour(12.0) == 15.0
    assert isinstance(got_fast[-1], float) and isinstance(got_fast[0], float)
    assert got_fast[-1] - got_fast[0] > 8  # night low to afternoon high
    assert all(isinstance(v, float) and abs(v - got_slow[0]) < 2 for v in got_slow)
