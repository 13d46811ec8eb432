"""What candidate rules would raise on a business date, beside what the rules in force raised.

The warehouse is copied (``COPY FROM DATABASE`` through a read-only attachment, so the
original is never opened for writing and a running job's lock is respected), and on the
copy the date is raised twice with the very code of a daily run
(``pipeline.alerts.raising.raise_alerts_in``): once with the rules in force, once with the
candidate. Raising a date that ran rewinds to the state before it, so both start from the
same alerts, the same returned workbooks apply, and the only difference is the rules. The
copy is deleted afterwards; nothing is written to the warehouse, the outbox or the review
tables (docs/warning-rules.md, "Trying new rules").
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.raising import raise_alerts_in
from pipeline.alerts.rules import Rules, load_rules
from pipeline.assessment.precision import precision_by_category, precision_by_township
from pipeline.dispatch.masking import mask_id_number, mask_phone
from pipeline.elimination.candidates import elimination_candidates
from pipeline.feedback.returns import read_returns
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.partitions.warehouse import literal
from pipeline.regional.warnings import regional_warnings
from pipeline.settings import Settings
from pipeline.warehouse.ledger import WarehouseBusy, connect_read_only
from pipeline.warehouse.statements import quote

SIDES = ("in_force", "candidate")
# The grid's current pace of verification is measured over this many days before D.
PACE_DAYS = 30


class WhatIfError(RuntimeError):
    """The comparison cannot be made; the message is the one line to show."""


@dataclass
class Side:
    """What one rule set raised on the date."""

    alerts: pd.DataFrame  # the open alerts, with their households (sql/dispatch/township_alerts)
    regional: pd.DataFrame  # regional warnings in force (new or open)
    elimination: pd.DataFrame  # households listed as elimination candidates


@dataclass
class WhatIf:
    business_date: date
    candidate_path: Path
    in_force: Side
    candidate: Side
    changes: pd.DataFrame  # one row per household and category added, removed or regraded
    by_category: pd.DataFrame  # per category and grade: added, removed, regraded, before, after
    by_township: pd.DataFrame  # per township: the same, and the workload
    regional_changes: pd.DataFrame
    elimination_changes: pd.DataFrame
    precision: pd.DataFrame  # per category, the last window's verification figures
    rules_changed: list[str] = field(default_factory=list)  # the rules' values that differ


def what_if(
    settings: Settings,
    candidate_path: Path,
    business_date: date,
    registry: dict[str, FeedSpec] | None = None,
) -> WhatIf:
    """Compare ``candidate_path`` with the rules in force on ``business_date``.

    Raises ``RulesConfigError`` for a candidate that does not validate (file and field),
    ``WhatIfError`` for a date the warehouse has not run or a HOME it cannot read."""
    candidate = load_rules(candidate_path)
    in_force = load_rules()
    registry = registry if registry is not None else load_registry()
    if settings.partitions:
        raise WhatIfError(
            "分区部署的数仓按分区保存预警，暂不支持规则试算：请在未分区的副本 HOME 上试算"
        )
    returns = read_returns(settings.inbox)
    with tempfile.TemporaryDirectory(prefix="fpwarn-whatif-") as scratch:
        copy = _copy_warehouse(settings, business_date, Path(scratch))
        with duckdb.connect(str(copy)) as connection:
            connection.execute("set enable_progress_bar = false")
            sides = {}
            for name, rules in (("in_force", in_force), ("candidate", candidate)):
                raise_alerts_in(connection, rules, business_date, returns, registry)
                sides[name] = Side(
                    alerts=sql.query(connection, "dispatch/township_alerts"),
                    regional=_regional_in_force(connection, business_date),
                    elimination=elimination_candidates(connection, rules, business_date),
                )
            precision = _precision(connection, in_force, business_date)
            pace = _pace(connection, in_force, business_date)
    changes = _alert_changes(
        sides["in_force"].alerts, sides["candidate"].alerts, in_force, candidate
    )
    return WhatIf(
        business_date=business_date,
        candidate_path=candidate_path,
        in_force=sides["in_force"],
        candidate=sides["candidate"],
        changes=changes,
        by_category=_by_category(sides, changes, candidate),
        by_township=_by_township(sides, changes, pace),
        regional_changes=_set_changes(
            sides["in_force"].regional,
            sides["candidate"].regional,
            ["scope", "scope_code", "scope_name", "rule", "category"],
            "reason",
        ),
        elimination_changes=_set_changes(
            sides["in_force"].elimination,
            sides["candidate"].elimination,
            ["township_code", "village_code", "household_id"],
            "evidence",
        ),
        precision=precision,
        rules_changed=_rules_changed(in_force, candidate, business_date),
    )


def _copy_warehouse(settings: Settings, business_date: date, scratch: Path) -> Path:
    """A copy of the warehouse in ``scratch``, once the date is known to have run there."""
    try:
        source = connect_read_only(settings.home, wait_s=0)
    except WarehouseBusy as error:
        raise WhatIfError(
            f"数仓 {settings.home.warehouse} 正被运行中的任务写入，只读也无法打开：请在该任务结束后再试算"
        ) from error
    if source is None:
        raise WhatIfError(f"HOME {settings.home.root} 中还没有数仓：请先运行日常任务")
    with source:
        try:
            ran = source.execute(
                "select count(*) from alerts.runs where as_of_date = $day", {"day": business_date}
            ).fetchone()
        except duckdb.CatalogException:
            ran = None
    if not ran or not ran[0]:
        raise WhatIfError(f"{business_date} 尚未运行：数仓中没有该日的预警，无从比较")
    copy = scratch / "whatif.duckdb"
    with duckdb.connect(str(copy)) as target:
        # ATTACH takes no bound parameter; the path is HOME's own, not department text.
        target.execute(f"attach {literal(settings.home.warehouse)} as source (read_only)")
        target.execute(f"copy from database source to {quote(copy.stem)}")
        target.execute("detach source")
    return copy


def _regional_in_force(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    frame = regional_warnings(connection, business_date)
    return frame[frame["status"].isin(["new", "open"])].reset_index(drop=True)


def _alert_changes(
    before: pd.DataFrame, after: pd.DataFrame, in_force: Rules, candidate: Rules
) -> pd.DataFrame:
    """Added, removed and regraded alerts by household and category, masked as in a
    township workbook, with the reason under each rule set."""
    key = ["household_id", "category"]
    merged = before.merge(after, on=key, how="outer", suffixes=("_in_force", "_candidate"))
    grade_before, grade_after = merged["grade_in_force"], merged["grade_candidate"]
    merged["change"] = "regraded"
    merged.loc[grade_before.isna(), "change"] = "added"
    merged.loc[grade_after.isna(), "change"] = "removed"
    changed = merged[grade_before.isna() | grade_after.isna() | (grade_before != grade_after)]
    rows = []
    for row in changed.itertuples(index=False):
        side = "candidate" if row.change == "added" else "in_force"
        value = row._asdict()
        rules = candidate if side == "candidate" else in_force
        category = rules.categories.get(row.category) or in_force.categories.get(row.category)
        rows.append(
            {
                "change": row.change,
                "township_code": value[f"township_code_{side}"],
                "township_name": value[f"township_name_{side}"],
                "village_name": value[f"village_name_{side}"],
                "household_id": row.household_id,
                "head_name": value[f"head_name_{side}"],
                "head_id_number": mask_id_number(value[f"head_id_number_{side}"]),
                "phone": mask_phone(value[f"household_phone_{side}"]),
                "category": row.category,
                "category_label": category.label if category else row.category,
                "grade_in_force": _text(row.grade_in_force),
                "grade_candidate": _text(row.grade_candidate),
                "reason_in_force": _text(row.reasons_in_force),
                "reason_candidate": _text(row.reasons_candidate),
            }
        )
    columns = [
        "change",
        "township_code",
        "township_name",
        "village_name",
        "household_id",
        "head_name",
        "head_id_number",
        "phone",
        "category",
        "category_label",
        "grade_in_force",
        "grade_candidate",
        "reason_in_force",
        "reason_candidate",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["change", "township_code", "household_id", "category"]).reset_index(
        drop=True
    )


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _by_category(sides: dict[str, Side], changes: pd.DataFrame, candidate: Rules) -> pd.DataFrame:
    """Per category and grade (the grade each rule set gives): alerts before and after,
    added, no longer raised, regraded (counted under the candidate's grade)."""
    rows = []
    for code in dict.fromkeys([*candidate.categories, *sides["in_force"].alerts["category"]]):
        label = candidate.categories[code].label if code in candidate.categories else code
        of_category = changes[changes["category"] == code]
        for grade in ("red", "orange", "yellow"):
            before = sides["in_force"].alerts
            after = sides["candidate"].alerts
            rows.append(
                {
                    "category": code,
                    "category_label": label,
                    "grade": grade,
                    "in_force": int(
                        ((before["category"] == code) & (before["grade"] == grade)).sum()
                    ),
                    "candidate": int(
                        ((after["category"] == code) & (after["grade"] == grade)).sum()
                    ),
                    "added": int(
                        (
                            (of_category["change"] == "added")
                            & (of_category["grade_candidate"] == grade)
                        ).sum()
                    ),
                    "removed": int(
                        (
                            (of_category["change"] == "removed")
                            & (of_category["grade_in_force"] == grade)
                        ).sum()
                    ),
                    "regraded": int(
                        (
                            (of_category["change"] == "regraded")
                            & (of_category["grade_candidate"] == grade)
                        ).sum()
                    ),
                }
            )
    return pd.DataFrame(rows)


def _by_township(sides: dict[str, Side], changes: pd.DataFrame, pace: pd.DataFrame) -> pd.DataFrame:
    """Per township: open alerts under each rule set, the changes, and the working days
    the grid would need to verify the candidate's open alerts at its current pace."""
    before, after = sides["in_force"].alerts, sides["candidate"].alerts
    names = pd.concat([before, after])[["township_code", "township_name"]].drop_duplicates(
        "township_code"
    )
    rows = []
    for township in names.sort_values("township_code").itertuples(index=False):
        code = township.township_code
        of_township = changes[changes["township_code"] == code]
        per_day = pace.loc[pace["township_code"] == code, "verified_per_working_day"]
        speed = float(per_day.iloc[0]) if len(per_day) else 0.0
        open_after = int((after["township_code"] == code).sum())
        rows.append(
            {
                "township_code": code,
                "township_name": township.township_name,
                "in_force": int((before["township_code"] == code).sum()),
                "candidate": open_after,
                "added": int((of_township["change"] == "added").sum()),
                "removed": int((of_township["change"] == "removed").sum()),
                "regraded": int((of_township["change"] == "regraded").sum()),
                "verified_per_working_day": round(speed, 2),
                "working_days_needed": round(open_after / speed, 1) if speed else None,
            }
        )
    return pd.DataFrame(rows)


def _set_changes(
    before: pd.DataFrame, after: pd.DataFrame, key: list[str], detail: str
) -> pd.DataFrame:
    """Rows that appear or go between the two rule sets, with the detail of each."""
    merged = before[[*key, detail]].merge(
        after[[*key, detail]],
        on=key,
        how="outer",
        suffixes=("_in_force", "_candidate"),
        indicator=True,
    )
    merged = merged[merged["_merge"] != "both"].copy()
    merged["change"] = (
        merged["_merge"].map({"left_only": "removed", "right_only": "added"}).astype(str)
    )
    merged[detail] = merged[f"{detail}_candidate"].where(
        merged["change"] == "added", merged[f"{detail}_in_force"]
    )
    return merged[["change", *key, detail]].reset_index(drop=True)


def _precision(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> pd.DataFrame:
    """Per category, the verification results of the last window and the flag of a rule
    found true too rarely (docs/assistance.md, "Rule precision")."""
    table = precision_by_category(precision_by_township(connection, rules, business_date), rules)
    return pd.DataFrame(
        {
            "category": table["category"],
            "verified": table["verified"],
            "share_true": table["share_found_true"].where(table["verified"] > 0),
            "flagged": table["is_flagged"],
        }
    )


def _pace(connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date) -> pd.DataFrame:
    """Alerts each township verified per working day over the last PACE_DAYS days."""
    calendar = rules.working_calendar()
    first = business_date - timedelta(days=PACE_DAYS - 1)
    working_days = sum(
        calendar.is_working_day(first + timedelta(days=offset)) for offset in range(PACE_DAYS)
    )
    frame = sql.query(
        connection,
        "whatif/verification_pace",
        {"business_date": business_date, "pace_days": PACE_DAYS},
    )
    frame["verified_per_working_day"] = frame["verified"] / max(working_days, 1)
    return frame


def _rules_changed(in_force: Rules, candidate: Rules, business_date: date) -> list[str]:
    """The values bound to the SQL steps that differ: ``$name: before → after``."""
    before, _ = in_force.parameters(business_date)
    after, _ = candidate.parameters(business_date)
    lines = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            lines.append(f"{name}: {before.get(name, '（无）')} → {after.get(name, '（无）')}")
    labels = {
        code: (
            in_force.categories[code].label if code in in_force.categories else None,
            candidate.categories[code].label if code in candidate.categories else None,
        )
        for code in {*in_force.categories, *candidate.categories}
    }
    for code, (old, new) in sorted(labels.items()):
        if old != new:
            lines.append(f"categories.{code}: {old or '（无）'} → {new or '（无）'}")
    return lines
