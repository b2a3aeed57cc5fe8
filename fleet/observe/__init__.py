"""When a device speaks up: LwM2M notification attributes and the pure notification decisions.

* :mod:`fleet.observe.attributes`: :class:`NotificationAttributes` (pmin pmax gt lt st epmin
  epmax, and 1.2's edge con), inheritance with ``merged_over``, where each may be assigned
  (``validate_for``), :class:`AttributeUpdate` and :func:`apply_update`;
* :mod:`fleet.observe.query`: :func:`parse_attributes` turns a Write-Attributes / Observe query
  into an :class:`AttributeUpdate`;
* :mod:`fleet.observe.store`: :class:`AttributeStore`, one server's attributes on one device,
  and the effective attributes of a path;
* :mod:`fleet.observe.decision`: :class:`ObservationState`, :func:`should_notify`,
  :func:`next_deadline` and the one-step :func:`evaluate`.

No I/O, no clock reading, no CoAP: the client drives these from its scheduler.
"""

from fleet.observe.attributes import (
    ATTRIBUTE_NAMES,
    AttributeUpdate,
    AttributeValue,
    NotificationAttributes,
    apply_update,
    format_value,
)
from fleet.observe.decision import (
    TIME_TOLERANCE,
    Evaluation,
    ObservationState,
    change_is_reportable,
    evaluate,
    next_deadline,
    should_notify,
)
from fleet.observe.query import ALIASES, parse_attributes
from fleet.observe.store import AttributeStore

__all__ = [
    "ALIASES",
    "ATTRIBUTE_NAMES",
    "TIME_TOLERANCE",
    "AttributeStore",
    "AttributeUpdate",
    "AttributeValue",
    "Evaluation",
    "NotificationAttributes",
    "ObservationState",
    "apply_update",
    "change_is_reportable",
    "evaluate",
    "format_value",
    "next_deadline",
    "parse_attributes",
    "should_notify",
]
