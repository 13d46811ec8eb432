"""How well the leads (群众反映线索) are matched: the demo's planted leads against the
warehouse's ``linkage.lead_matches``.

    python -m fpwarn_demo linkage-quality --inbox demo/inbox --home demo/home

The truth (``INBOX/_demo/truth.json``, list ``leads``, written by ``fpwarn_demo.leads``)
gives each planted lead its kind and its true member (an ID number, or none for somebody
not registered). The warehouse (``HOME/warehouse/warehouse.duckdb``, opened read-only) gives
what the linkage made of it on its business date: ``matched`` to a member, or not.

- precision: of the leads the pipeline matched, the share matched to their true member;
- recall: of the leads whose person is registered, the share matched to them.

Both overall and per kind; a share of nothing is ``None`` (printed ``—``). A lead the
warehouse has no row for (its date not run yet) counts as not matched.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

TRUTH = Path("_demo") / "truth.json"
# Where a pipeline HOME keeps its warehouse (README.md, "The daily job").
WAREHOUSE = Path("warehouse") / "warehouse.duckdb"


class QualityError(Exception):
    """The truth or the warehouse cannot be read: one line saying which."""


@dataclass
class Tally:
    """Counts of one kind of lead (or of all of them)."""

    leads: int = 0
    # Leads whose person is a registered member.
    registered: int = 0
    matched: int = 0
    # Matched to their true member.
    correct: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float | None:
        return self.correct / self.matched if self.matched else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.registered if self.registered else None

    def add(self, true_id: str | None, status: str, matched_id: str | None) -> None:
        self.leads += 1
        self.registered += true_id is not None
        self.statuses[status] += 1
        if status == "matched":
            self.matched += 1
            self.correct += true_id is not None and matched_id == true_id


@dataclass
class Quality:
    overall: Tally
    kinds: dict[str, Tally]
    # Each lead: lead_id, kind, variant, true id_number, status, matched id_number.
    leads: list[dict[str, object]]
    # What is counted: leads, or rows that lost their ID number.
    unit: str = "leads"

    def lines(self) -> list[str]:
        header = ("kind", self.unit, "registered", "matched", "correct", "precision", "recall")
        rows = [
            (kind, *_figures(tally)) for kind, tally in (*self.kinds.items(), ("all", self.overall))
        ]
        widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
        text = [
            "  ".join(
                str(cell).ljust(w) if i == 0 else str(cell).rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in (header, *rows)
        ]
        statuses = ", ".join(f"{s} {n}" for s, n in sorted(self.overall.statuses.items()))
        return [*text, f"statuses: {statuses}"]


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _figures(tally: Tally) -> tuple[object, ...]:
    return (
        tally.leads,
        tally.registered,
        tally.matched,
        tally.correct,
        _share(tally.precision),
        _share(tally.recall),
    )


def _truth(inbox: Path) -> tuple[Path, dict[str, Any]]:
    path = Path(inbox) / TRUTH
    try:
        return path, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise QualityError(f"无法读取演示区县的真值文件 {path}：{error}") from error


def planted_leads(inbox: Path) -> list[dict[str, object]]:
    path, truth = _truth(inbox)
    leads = truth.get("leads")
    if not isinstance(leads, list):
        raise QualityError(f"真值文件 {path} 中没有线索（leads）：请用当前的生成器重新生成")
    return leads


def lead_matches(home: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(business date, lead_id) -> (status, matched id_number), from the warehouse."""
    warehouse = Path(home) / WAREHOUSE
    if not warehouse.is_file():
        raise QualityError(f"没有数据仓库 {warehouse}：请先运行流水线")
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            rows = connection.execute(
                "select business_date::varchar, lead_id, status, id_number "
                "from linkage.lead_matches "
                # A lead quarantined (a township the district does not have) is never linked.
                "union all select delivery_date::varchar, raw ->> '线索编号', 'quarantined', null "
                "from meta.quarantine where feed = 'leads'"
            ).fetchall()
    except duckdb.CatalogException:
        rows = []  # no run linked leads yet
    except duckdb.Error as error:
        raise QualityError(f"无法读取数据仓库 {warehouse}：{error}") from error
    return {(day, lead_id): (status, number) for day, lead_id, status, number in rows}


def measure(inbox: Path, home: Path) -> Quality:
    """Precision and recall of the linkage of the planted leads, overall and per kind."""
    truth = planted_leads(inbox)
    found = lead_matches(home)
    overall = Tally()
    kinds: dict[str, Tally] = {}
    leads = []
    for lead in truth:
        lead_id, kind = str(lead["lead_id"]), str(lead["kind"])
        true_id = lead.get("id_number")
        status, matched_id = found.get((str(lead["date"]), lead_id), ("not_linked", None))
        for tally in (overall, kinds.setdefault(kind, Tally())):
            tally.add(None if true_id is None else str(true_id), status, matched_id)
        leads.append(
            {
                "lead_id": lead_id,
                "kind": kind,
                "variant": lead.get("variant"),
                "id_number": true_id,
                "expected_status": lead.get("expected_status"),
                "status": status,
                "matched_id_number": matched_id,
            }
        )
    return Quality(overall, dict(sorted(kinds.items(), key=_kind_order)), leads)


def planted_rows(inbox: Path) -> list[dict[str, object]]:
    """The planted row defects that broke an ID number, with the row's true number."""
    _, truth = _truth(inbox)
    return [row for row in truth.get("rows", []) if row.get("true_id_number")]


def measure_rows(inbox: Path, home: Path) -> Quality:
    """Precision and recall of the linkage of the rows that lost their ID number, per
    defect: of the rows recovered for the alerts, the share given their true number; of the
    rows of a feed that declares its ``person_name`` whose true person is a registered
    member, the share recovered to them. A row not linked (another fault beside the number)
    counts as not recovered; a row of a delivery never read is not counted."""
    from pipeline.feeds.registry import load_registry

    linked_feeds = {spec.feed for spec in load_registry().values() if spec.person_name}
    warehouse = Path(home) / WAREHOUSE
    if not warehouse.is_file():
        raise QualityError(f"没有数据仓库 {warehouse}：请先运行流水线")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        found = {
            (feed, file, row): (status, number)
            for feed, file, row, status, number in connection.execute(
                "select feed, file, row, status, id_number from linkage.row_matches"
            ).fetchall()
        }
        # A planted row of a delivery never read (rejected, or not yet run) is not counted.
        read = set(connection.execute("select feed, file, row from meta.quarantine").fetchall())
        members = {
            number
            for (number,) in connection.execute(
                "select distinct id_number from staging.stg_members"
            ).fetchall()
        }
    overall = Tally()
    kinds: dict[str, Tally] = {}
    rows = []
    for planted in planted_rows(inbox):
        if planted["feed"] not in linked_feeds:
            continue
        key = (str(planted["feed"]), str(planted["file"]), str(planted["row"]))
        if key not in read:
            continue
        status, number = found.get(key, ("not_linked", None))
        true_id = str(planted["true_id_number"])
        registered = true_id if true_id in members else None
        said = "matched" if status == "recovered" else status
        for tally in (overall, kinds.setdefault(str(planted["defect"]), Tally())):
            # Recovered while its person is not registered counts as matched, never correct.
            tally.add(registered, said, number)
        rows.append({**planted, "status": status, "matched_id_number": number})
    return Quality(overall, dict(sorted(kinds.items())), rows, unit="rows")


def _kind_order(item: tuple[str, Tally]) -> tuple[int, str]:
    from fpwarn_demo.leads import KINDS

    kind = item[0]
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def report(inbox: Path, home: Path) -> Iterable[str]:
    quality = measure(inbox, home)
    yield f"线索匹配质量：{Path(inbox) / TRUTH} 对照 {Path(home) / WAREHOUSE}"
    yield from quality.lines()
    yield ""
    yield "身份证号不可用的行（按缺陷）的匹配质量："
    yield from measure_rows(inbox, home).lines()
