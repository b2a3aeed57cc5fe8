"""Registration rules: retry back-off, update timing, Register/Update query items."""

from __future__ import annotations

import pytest

from fleet.client.registration import (
    RegistrationParams,
    RetryPolicy,
    update_due,
    update_margin,
    update_query,
)


@pytest.mark.parametrize(
    ("attempt", "sequence", "expected"),
    [
        (1, 1, 60.0),  # first retry: timer * 2**0
        (2, 1, 120.0),
        (4, 1, 480.0),
        (5, 1, None),  # retry count exhausted, only one sequence allowed
    ],
)
def test_default_retry_policy(attempt: int, sequence: int, expected: float | None) -> None:
    assert RetryPolicy().delay_after_failure(attempt, sequence) == expected


def test_sequence_delay_between_sequences() -> None:
    policy = RetryPolicy(retry_count=2, retry_timer=10, sequence_delay=300, sequence_retry_count=3)
    schedule = []
    attempt, sequence = 1, 1
    for _ in range(10):
        delay = policy.delay_after_failure(attempt, sequence)
        schedule.append(delay)
        if delay is None:
            break
        attempt, sequence = policy.next_attempt(attempt, sequence)
    assert schedule == [10.0, 300.0, 10.0, 300.0, 10.0, None]


def test_max_sequence_delay_means_never_again() -> None:
    policy = RetryPolicy(retry_count=1, sequence_delay=2**32 - 1, sequence_retry_count=5)
    assert policy.delay_after_failure(1, 1) is None


def test_attempt_numbers_count_from_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay_after_failure(0, 1)


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(86400, 8640.0), (300, 93.0), (60, 30.0), (1000, 100.0)],
)
def test_update_margin(lifetime: int, margin: float) -> None:
    assert update_margin(lifetime) == margin
    assert update_due(1000.0, lifetime) == 1000.0 + lifetime - margin
    assert update_due(0.0, lifetime) < lifetime


def test_register_query_lwm2m_11_queue_mode() -> None:
    params = RegistrationParams("urn:imei:351934540000001", lifetime=300, binding="UQ")
    assert params.register_query() == [
        "ep=urn:imei:351934540000001",
        "lt=300",
        "lwm2m=1.1",
        "b=U",
        "Q",
    ]


def test_register_query_lwm2m_10_keeps_uq_binding() -> None:
    params = RegistrationParams("dev 1", lifetime=60, lwm2m_version="1.0", binding="UQ")
    assert params.register_query() == ["ep=dev%201", "lt=60", "lwm2m=1.0", "b=UQ"]


def test_update_query_lists_only_changes() -> None:
    old = RegistrationParams("d", lifetime=60)
    assert update_query(old, old) == []
    assert update_query(old, RegistrationParams("d", lifetime=120)) == ["lt=120"]
    assert update_query(old, RegistrationParams("d", lifetime=60, binding="UQ")) == ["b=U", "Q"]
