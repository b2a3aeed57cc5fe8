"""Hypothesis strategies: valid values and node trees for the objects of a registry."""

from __future__ import annotations

from hypothesis import strategies as st

from fleet.errors import InvalidValue
from fleet.model import (
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectModel,
    ObjectNode,
    ResourceInstance,
    ResourceModel,
    ResourceType,
    SingleResource,
    Value,
    check_value,
)
from fleet.model.nodes import ResourceNode
from fleet.model.ranges import RangeKind
from fleet.model.values import INT_MAX, INT_MIN, UINT_MAX

T = ResourceType
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
IDS = st.one_of(st.integers(0, 20), st.integers(0, 65534))


def _valid(resource: ResourceModel, value: object) -> bool:
    try:
        check_value(resource, value)
    except InvalidValue:
        return False
    return True


def values(resource: ResourceModel) -> st.SearchStrategy[Value]:
    """Valid values for a resource: its type, its range."""
    type_ = resource.type
    rng = resource.range
    base: st.SearchStrategy[Value]
    if type_ in (T.STRING, T.CORELNK):
        if rng.kind is RangeKind.ENUMERATION and rng.values:
            base = st.sampled_from(rng.values)
        else:
            base = TEXT
    elif type_ is T.OPAQUE:
        if rng.kind is RangeKind.LENGTH:
            base = st.sampled_from(rng.intervals).flatmap(
                lambda i: st.binary(
                    min_size=int(i.low), max_size=max(int(i.low), min(int(i.high), 40))
                )
            )
        else:
            base = st.binary(max_size=24)
    elif type_ is T.BOOLEAN:
        base = st.booleans()
    elif type_ is T.OBJLNK:
        base = st.builds(ObjectLink, st.integers(0, 65535), st.integers(0, 65535))
    elif type_ is T.FLOAT:
        if rng.kind is RangeKind.NUMERIC:
            base = st.floats(float(rng.low or 0), float(rng.high or 0))
        else:
            base = st.floats(allow_nan=False, allow_infinity=False)
    elif type_ is T.UNSIGNED_INTEGER:
        base = st.integers(0, UINT_MAX)
    else:
        if rng.kind in (RangeKind.NUMERIC, RangeKind.ENUMERATION) and rng.intervals:
            base = st.sampled_from(rng.intervals).flatmap(
                lambda i: st.integers(int(i.low), int(i.high))
            )
        else:
            base = st.one_of(st.integers(-300, 300), st.integers(INT_MIN, INT_MAX))
    return base.filter(lambda v: _valid(resource, v))


def readable(model: ObjectModel) -> list[ResourceModel]:
    return [r for r in model if r.type is not T.NONE]


def resource_nodes(resource: ResourceModel) -> st.SearchStrategy[ResourceNode]:
    if resource.multiple:
        return st.dictionaries(IDS, values(resource), max_size=3).map(
            lambda items: MultiResource(resource.id, items)
        )
    return values(resource).map(lambda v: SingleResource(resource.id, v))


def instances(model: ObjectModel, iid: int) -> st.SearchStrategy[ObjectInstance]:
    chosen = st.lists(st.sampled_from(readable(model)), unique_by=lambda r: r.id, max_size=6)
    return chosen.flatmap(
        lambda rs: st.tuples(*(resource_nodes(r) for r in rs)).map(
            lambda nodes: ObjectInstance(iid, {n.id: n for n in nodes})
        )
    )


def objects(model: ObjectModel) -> st.SearchStrategy[ObjectNode]:
    ids = st.lists(IDS, unique=True, max_size=3)
    return ids.flatmap(
        lambda iids: st.tuples(*(instances(model, i) for i in iids)).map(
            lambda insts: ObjectNode(model.id, {i.id: i for i in insts})
        )
    )


def nodes_at_level(
    model: ObjectModel, level: int
) -> st.SearchStrategy[tuple[tuple[int, ...], Node]]:
    """(path ids, node) with the node at a path of the given level (1 to 4)."""
    if level == 1:
        return objects(model).map(lambda n: ((model.id,), n))
    if level == 2:
        return IDS.flatmap(lambda iid: instances(model, iid).map(lambda n: ((model.id, iid), n)))
    if level == 3:
        return st.tuples(IDS, st.sampled_from(readable(model))).flatmap(
            lambda t: resource_nodes(t[1]).map(lambda n: ((model.id, t[0], t[1].id), n))
        )
    multi = [r for r in readable(model) if r.multiple]
    if not multi:
        return st.nothing()
    return st.tuples(IDS, st.sampled_from(multi), IDS).flatmap(
        lambda t: values(t[1]).map(
            lambda v: ((model.id, t[0], t[1].id, t[2]), ResourceInstance(t[2], v))
        )
    )
