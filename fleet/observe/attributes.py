"""Notification attributes: what Write-Attributes sets and what governs when a device notifies.

The <NOTIFICATION> class attributes of LwM2M (1.1.1 section 5.1.2, table 5.1.2-2; 1.2 section
7.3.2, table 7.3.2-1):

=======  =====================  ==================================================================
name     levels                 meaning
=======  =====================  ==================================================================
pmin     O, OI, R, RI           minimum seconds between two notifications
pmax     O, OI, R, RI           maximum seconds between two notifications (0 or absent: none)
gt       R (single), RI         notify when the numeric value crosses this upper threshold
lt       R (single), RI         notify when the numeric value crosses this lower threshold
st       R (single), RI         notify when the value moved at least this much since last notified
epmin    O, OI, R, RI           minimum seconds between two evaluations of the reporting criteria
epmax    O, OI, R, RI           maximum seconds between two evaluations of the reporting criteria
edge     R (single), RI         (1.2) Boolean resources: notify on rising (1) / falling (0) edge
con      O, OI, R, RI           (1.2) notifications confirmable (1) or not (0); the client decides
=======  =====================  ==================================================================

Rules kept here (cited from the same sections):

* Attributes assigned at object level are inherited by instances and resources, those at instance
  level by resources, those at resource level by resource instances; an attribute assigned at a
  lower level overrides the inherited one (1.1.1 section 5.1.1 "Attributes Definitions and
  Rules"). :meth:`NotificationAttributes.merged_over` does one step of that.
* gt, lt and st apply only to numeric resources ("Numerical & Readable Resource": Integer,
  Unsigned Integer, Float, and Time, which is a number of seconds); they are attached to a
  single-instance resource or to one resource instance. An attribute written at a
  level where it does not apply is refused with 4.00 Bad Request.
* When both are present, lt must be smaller than gt, and lt + 2 * st must be smaller than gt
  (1.1.1 section 5.1.2, rules following table 5.1.2-2); otherwise 4.00.
* pmax must not be smaller than pmin, otherwise pmax is ignored (1.0.1 section 5.1.2: "the
  maximum period parameter MUST be not smaller than the minimum period parameter"); we apply that
  to the *effective* values after inheritance, so writing them at different levels is accepted.
  epmax against epmin is treated the same way.

Numbers are kept as ``int`` when written without a fraction and ``float`` otherwise, so that
:meth:`NotificationAttributes.link_params` gives back ``pmin=10`` rather than ``pmin=10.0``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Final

from fleet.errors import BadRequest
from fleet.model.path import Level
from fleet.model.types import ResourceType

AttributeValue = int | float | bool
"""The Python form of one attribute value (``bool`` only for ``edge`` and ``con``)."""

PERIOD_ATTRIBUTES: Final = ("pmin", "pmax", "epmin", "epmax")
VALUE_ATTRIBUTES: Final = ("gt", "lt", "st")
FLAG_ATTRIBUTES: Final = ("edge", "con")

ALL_LEVELS: Final = frozenset(
    {Level.OBJECT, Level.INSTANCE, Level.RESOURCE, Level.RESOURCE_INSTANCE}
)
VALUE_LEVELS: Final = frozenset({Level.RESOURCE, Level.RESOURCE_INSTANCE})


@dataclass(frozen=True, slots=True)
class NotificationAttributes:
    """A set of notification attributes; ``None`` means "not assigned here".

    Used both for what one level holds (one Write-Attributes target) and for the effective
    attributes of an observed path after inheritance and the server's defaults.
    """

    pmin: float | None = None
    pmax: float | None = None
    gt: float | None = None
    lt: float | None = None
    st: float | None = None
    epmin: float | None = None
    epmax: float | None = None
    edge: bool | None = None
    con: bool | None = None

    def __post_init__(self) -> None:
        for name in (*PERIOD_ATTRIBUTES, "st"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and 0 <= value < math.inf):
                raise BadRequest(f"attribute {name!r} must be a non-negative number, got {value!r}")
        for name in ("gt", "lt"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and math.isfinite(value)):
                raise BadRequest(f"attribute {name!r} must be a finite number, got {value!r}")
        for name in FLAG_ATTRIBUTES:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise BadRequest(f"attribute {name!r} must be 0 or 1, got {value!r}")

    # -- inheritance -------------------------------------------------------------------------

    def merged_over(self, parent: NotificationAttributes) -> NotificationAttributes:
        """These attributes assigned one level below ``parent``: ours win, the rest is inherited.

        LwM2M 1.1.1 section 5.1.1: an attribute assigned at a lower level takes precedence over
        the same attribute inherited from the level above.
        """
        return NotificationAttributes(
            **{
                name: mine if (mine := getattr(self, name)) is not None else getattr(parent, name)
                for name in ATTRIBUTE_NAMES
            }
        )

    # -- what is set -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in ATTRIBUTE_NAMES)

    def items(self) -> Iterator[tuple[str, AttributeValue]]:
        """``(name, value)`` of every assigned attribute, in the specification's order."""
        for name in ATTRIBUTE_NAMES:
            value = getattr(self, name)
            if value is not None:
                yield name, value

    def link_params(self) -> list[str]:
        """The assigned attributes as CoRE link parameters: ``["pmin=10", "gt=25.5"]``.

        This is how Discover shows them (LwM2M 1.1.1 section 5.4.2). Flags are written 0/1.
        """
        return [f"{name}={format_value(value)}" for name, value in self.items()]

    @property
    def has_value_conditions(self) -> bool:
        """True when gt, lt or st is set (the "change value conditions")."""
        return self.gt is not None or self.lt is not None or self.st is not None

    # -- the periods as they take effect -----------------------------------------------------

    @property
    def min_period(self) -> float:
        """pmin in seconds; 0 when absent (the Server object's default is 0 when not set)."""
        return self.pmin if self.pmin is not None else 0

    @property
    def max_period(self) -> float | None:
        """pmax in seconds, or ``None`` for "no periodic notification".

        ``None`` when pmax is absent, 0, or smaller than the effective pmin (then it is ignored,
        LwM2M 1.0.1 / 1.1.1 section 5.1.2).
        """
        pmax = self.pmax
        if pmax is None or pmax <= 0 or pmax < self.min_period:
            return None
        return pmax

    @property
    def min_evaluation_period(self) -> float:
        """epmin in seconds; 0 (no limit) when absent (LwM2M 1.1.1 section 5.1.2)."""
        return self.epmin if self.epmin is not None else 0

    @property
    def max_evaluation_period(self) -> float | None:
        """epmax in seconds, or ``None`` when absent, 0 or smaller than epmin (ignored)."""
        epmax = self.epmax
        if epmax is None or epmax <= 0 or epmax < self.min_evaluation_period:
            return None
        return epmax

    # -- where they may be assigned ----------------------------------------------------------

    def validate_for(
        self,
        level: Level,
        resource_type: ResourceType | None = None,
        multiple: bool = False,
    ) -> None:
        """Refuse (4.00 :class:`BadRequest`) attributes that cannot be assigned at ``level``.

        ``resource_type`` is the type of the resource at resource and resource-instance level
        (required there); ``multiple`` says whether that resource is a multiple-instance one
        (only meaningful at resource level). Checks, per LwM2M 1.1.1 section 5.1.2:

        * nothing can be assigned to the root path;
        * pmin, pmax, epmin, epmax, con at object, instance, resource or resource-instance level;
          nothing on an executable resource, which has no value to observe;
        * gt, lt, st only on a numeric single-instance resource or a numeric resource instance;
          edge (1.2) likewise on a Boolean one;
        * lt < gt, and lt + 2 * st < gt when st is present too.
        """
        if level not in ALL_LEVELS:
            if not self.is_empty:
                raise BadRequest("attributes cannot be assigned to the root path")
            return
        if level in VALUE_LEVELS:
            if resource_type is None:
                raise ValueError(f"validate_for({level.name}) needs the resource's type")
            if resource_type is ResourceType.NONE and not self.is_empty:
                raise BadRequest("an executable resource has no value: no attribute applies to it")
        conditional = [(name, getattr(self, name)) for name in (*VALUE_ATTRIBUTES, "edge")]
        for name, value in conditional:
            if value is None:
                continue
            if level not in VALUE_LEVELS:
                raise BadRequest(
                    f"attribute {name!r} applies to a resource or resource instance, "
                    f"not at {_level_name(level)} level"
                )
            if level is Level.RESOURCE and multiple:
                raise BadRequest(
                    f"attribute {name!r} cannot be assigned to a multiple-instance resource; "
                    "assign it to one of its resource instances"
                )
            assert resource_type is not None
            if name == "edge":
                if resource_type is not ResourceType.BOOLEAN:
                    raise BadRequest(
                        f"attribute 'edge' applies to Boolean resources, not {resource_type.value}"
                    )
            elif not resource_type.is_numeric:
                raise BadRequest(
                    f"attribute {name!r} applies to numeric resources, not {resource_type.value}"
                )
        self.check_thresholds()

    def check_thresholds(self) -> None:
        """lt < gt, and lt + 2 * st < gt (LwM2M 1.1.1 section 5.1.2); else 4.00."""
        if self.lt is None or self.gt is None:
            return
        if not self.lt < self.gt:
            raise BadRequest(
                f"lt ({format_value(self.lt)}) must be smaller than gt ({format_value(self.gt)})"
            )
        if self.st is not None and not self.lt + 2 * self.st < self.gt:
            raise BadRequest(
                f"lt + 2*st ({format_value(self.lt)} + 2*{format_value(self.st)}) "
                f"must be smaller than gt ({format_value(self.gt)})"
            )


ATTRIBUTE_NAMES: Final = tuple(f.name for f in fields(NotificationAttributes))
"""Every notification attribute, in the specification's order."""

EMPTY: Final = NotificationAttributes()


@dataclass(frozen=True, slots=True)
class AttributeUpdate:
    """What one Write-Attributes request (or an Observe query) does: set some, remove some.

    ``values`` holds the attributes to set; ``removed`` names attributes written without a value
    (``?pmin``), which removes them from the target level (LwM2M 1.1.1 section 5.4.4).
    """

    values: NotificationAttributes = field(default_factory=NotificationAttributes)
    removed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = self.removed - set(ATTRIBUTE_NAMES)
        if unknown:
            raise BadRequest(f"unknown attribute(s) to remove: {', '.join(sorted(unknown))}")
        both = {name for name, _ in self.values.items()} & self.removed
        if both:
            raise BadRequest(f"attribute(s) both set and removed: {', '.join(sorted(both))}")

    @property
    def is_empty(self) -> bool:
        return self.values.is_empty and not self.removed


def apply_update(
    current: NotificationAttributes, update: AttributeUpdate
) -> NotificationAttributes:
    """``current`` after ``update``: attributes not named in the update stay as they were.

    Write-Attributes changes only the attributes it carries (OMA LwM2M for developers issue 31:
    ``lt=30`` then ``gt=70`` leaves both set).
    """
    merged = update.values.merged_over(current)
    if not update.removed:
        return merged
    return NotificationAttributes(
        **{
            name: None if name in update.removed else getattr(merged, name)
            for name in ATTRIBUTE_NAMES
        }
    )


def format_value(value: AttributeValue) -> str:
    """An attribute value as written in a query or link: ``10``, ``25.5``, ``-3``, flags ``0/1``."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))  # exact, so that it parses back to the same number
    text = repr(value)
    if "e" in text:  # the ABNF has no exponent: 1.5e-05 -> 0.000015
        text = format(Decimal(text), "f")
    return text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _level_name(level: Level) -> str:
    return level.name.lower().replace("_", " ")
