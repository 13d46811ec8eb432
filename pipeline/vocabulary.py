"""The words the pipeline shares with its users: warning grades and alert statuses, each
with its order and its Chinese label, defined once.

Grades and statuses are stored and written as their plain values (``red``, ``open``);
these enums say which values there are, in which order, and what users read for them.
"""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    """分级预警: the grades, most severe first (the order users read them in)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"

    @property
    def label(self) -> str:
        return _GRADE_LABELS[self]

    @property
    def severity(self) -> int:
        """0 for yellow up to 2 for red: an open alert's grade rises, never falls."""
        return len(Grade) - 1 - list(Grade).index(self)

    def raised(self) -> Grade:
        """One grade more severe (red stays red)."""
        return Grade(GRADES[max(list(Grade).index(self) - 1, 0)])


_GRADE_LABELS = {Grade.RED: "红色", Grade.ORANGE: "橙色", Grade.YELLOW: "黄色"}

# The values, most severe first, and what users read for each.
GRADES: tuple[str, ...] = tuple(grade.value for grade in Grade)
GRADE_LABELS: dict[str, str] = {grade.value: grade.label for grade in Grade}


class AlertStatus(StrEnum):
    """An alert's status: new the day it is raised, open after, escalated once its
    verification deadline has passed, closed by verification or withdrawn evidence."""

    NEW = "new"
    OPEN = "open"
    ESCALATED = "escalated"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES: frozenset[str] = frozenset(
    {AlertStatus.NEW, AlertStatus.OPEN, AlertStatus.ESCALATED}
)


class DeliveryStatus(StrEnum):
    """What a run found and did with a delivery, and so with its feed (the manifest's
    ``status``): staged by the feed's step, then loaded, or unchanged since an earlier
    run, missing, incomplete (no marker yet) or rejected."""

    STAGED = "staged"
    LOADED = "loaded"
    UNCHANGED = "unchanged"
    MISSING = "missing"
    INCOMPLETE = "incomplete"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return _DELIVERY_LABELS[self]


_DELIVERY_LABELS = {
    DeliveryStatus.STAGED: "已暂存",
    DeliveryStatus.LOADED: "已读取",
    DeliveryStatus.UNCHANGED: "无新交付",
    DeliveryStatus.MISSING: "未交付",
    DeliveryStatus.INCOMPLETE: "未完成（缺标记）",
    DeliveryStatus.REJECTED: "已拒收",
}
DELIVERY_LABELS: dict[str, str] = {status.value: status.label for status in DeliveryStatus}
# A delivery whose rows are in the warehouse (staged today, loaded now or before).
IN_FORCE: frozenset[str] = frozenset(
    {DeliveryStatus.STAGED.value, DeliveryStatus.LOADED.value, DeliveryStatus.UNCHANGED.value}
)
# A feed that gave the day nothing new to read: shown in red to the bureau.
NOT_READ: frozenset[str] = frozenset(
    {DeliveryStatus.MISSING.value, DeliveryStatus.INCOMPLETE.value, DeliveryStatus.REJECTED.value}
)


class ReturnStatus(StrEnum):
    """A returned township workbook: applied, unchanged (applied before), or rejected."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


class CaseStatus(StrEnum):
    """An assistance case (帮扶台账, docs/assistance.md, "The assistance ledger"): awaiting
    a contact and a measure in place, in place, overdue (still awaiting after its due
    date), or closed once the registry marks the household's risk eliminated."""

    AWAITING = "awaiting"
    IN_PLACE = "in_place"
    OVERDUE = "overdue"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _CASE_LABELS[self]


_CASE_LABELS = {
    CaseStatus.AWAITING: "待落实",
    CaseStatus.IN_PLACE: "已落实",
    CaseStatus.OVERDUE: "逾期未落实",
    CaseStatus.CLOSED: "已销号",
}
