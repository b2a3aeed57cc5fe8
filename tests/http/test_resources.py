"""The platform's resources, pure: time form, ids, sizes, containers and their bounds."""

from __future__ import annotations

import calendar

from fleet.server.http.resources import RECEIVED, SENT, Store, content_size, onem2m_time


def test_onem2m_time_is_the_platforms_form() -> None:
    seconds = calendar.timegm((2025, 7, 17, 14, 5, 33)) + 0.829
    assert onem2m_time(seconds) == "20250717T140533,829000"
    assert onem2m_time(calendar.timegm((2025, 7, 17, 14, 5, 33)) + 0.9999996) == (
        "20250717T140534,000000"
    )


def test_content_size() -> None:
    assert content_size("READ /3") == 7
    assert content_size({"method": "READ", "path": "/3442/0/160"}) == 38
    assert content_size("é") == 2


def test_store_containers_ids_and_state_tags() -> None:
    heard = []
    store = Store(max_instances=2)
    store.listen(heard.append)
    first = store.add("dev", SENT, "READ /3", now=100.0, creator="CNI-IPE", labels=["a:1"])
    second = store.add("dev", SENT, "READ /6", now=101.0, creator="CNI-IPE")
    node = store.node("dev", 0.0)
    box = node.containers[SENT]
    assert first.parent_id == second.parent_id == box.resource_id
    assert node.containers[RECEIVED].resource_id != box.resource_id
    assert len({first.resource_id, second.resource_id, box.resource_id}) == 3
    assert (first.state_tag, second.state_tag) == (1, 2)
    assert heard == [first, second]
    third = store.add("dev", SENT, "READ /5", now=102.0, creator="CNI-IPE")
    assert list(box.instances.values()) == [second, third]  # the oldest dropped (mni)
    assert box.latest() is third and box.oldest() is second
    listing = box.as_json(limit=1)["container"]
    assert listing["currentNrOfInstances"] == 2
    assert [i["resourceName"] for i in listing["contentInstance"]] == [third.resource_name]
    shown = first.as_json()["contentInstance"]
    assert shown["labels"] == ["a:1"] and "contentInfo" not in shown
    assert "labels" not in second.as_json()["contentInstance"]
