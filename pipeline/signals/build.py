"""Signals: one SQL step per category of the rules, ``sql/signals/sig_<code>.sql``, with
the values of the rules bound by name (``$medical_burden__window_days``, ``$recent_days``:
``pipeline/alerts/rules.py`` says how a value is named).

Each step writes ``signals.sig_<category>``: one row per household that the rule
raises, with its base grade, the date of its newest evidence and the reason in
Chinese. ``signals.raised`` unions them for the alert lifecycle.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Rules
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.safe_text import install_department_text
from pipeline.warehouse.statements import quote

# The registry itself: every other feed's people are looked up in it.
REGISTRY_FEEDS = ("households", "members")


def person_columns(registry: dict[str, FeedSpec]) -> dict[str, str]:
    """Per department feed, the column that names a person (its first ID number column)."""
    columns = {}
    for spec in registry.values():
        ids = [column.field for column in spec.columns if column.type == "id_number"]
        if ids and spec.feed not in REGISTRY_FEEDS:
            columns[spec.feed] = ids[0]
    return columns


@dataclass
class SignalReport:
    warnings: list[str] = field(default_factory=list)
    # Per feed: distinct people in its rows in force who are in no registered household.
    people_not_in_registry: dict[str, int] = field(default_factory=dict)
    raised: int = 0


def parameters(rules: Rules, business_date: date) -> tuple[dict[str, Any], list[str]]:
    """Every value the SQL steps may bind (``Rules.parameters``: each named after its place
    in the rules file), and warnings about the values carried forward from an earlier year."""
    return rules.parameters(business_date)


def run_step(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    values: dict[str, Any],
    *,
    schema: str = "signals",
) -> None:
    """Materialise ``<schema>.<name>`` from ``sql/<schema>/<name>.sql`` with its bound values."""
    sql.materialise(connection, f"{schema}/{name}", f"{schema}.{name}", values)


def build_signals(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    registry: dict[str, FeedSpec] | None = None,
    *,
    checks: bool = True,
    link_leads: bool = True,
) -> SignalReport:
    """Every category's signals for ``business_date``, in ``signals.raised``; with
    ``checks``, the data-quality warnings and unlinked people of ``signal_checks`` too (a
    partition leaves them to the merge, which sees every household); with ``link_leads``,
    the day's leads linked to the registry (a partition reads the district's links)."""
    values, warnings = parameters(rules, business_date)
    report = SignalReport(warnings=warnings)
    connection.execute("create schema if not exists signals")
    install_department_text(connection)
    run_step(connection, "int_households", values)
    run_step(connection, "int_people", values)
    run_step(connection, "int_enrolment_quarantined_members", values)
    run_step(connection, "int_assistance_newest", values)
    if "lead" in rules.categories:
        # The day's leads matched to registered members, for sig_lead (docs/warning-rules.md):
        # linked here in a district run; a partitioned run links them once for the whole
        # district before its partitions (pipeline/steps.py, link_leads).
        if link_leads:
            from pipeline.linkage.leads import match_leads

            match_leads(connection, values, business_date)
        run_step(connection, "int_lead_matches", values)
    # The categories of the rules, in the file's order (a code is checked when loaded to
    # be a word of lower-case letters, digits and single underscores: it names a table).
    for category in rules.categories.values():
        sql.materialise(connection, category.step, category.table, values)
    union = "\nunion all\n".join(
        f"select household_id, category, base_grade, evidence_date, reason from {category.table}"
        for category in rules.categories.values()
    )
    connection.execute(f"create or replace table signals.raised as {union}")
    _note_recovered_rows(connection, rules, values, registry)
    report.raised = connection.execute("select count(*) from signals.raised").fetchone()[0]  # type: ignore[index]
    if checks:
        signal_checks(connection, report, registry)
    return report


def _note_recovered_rows(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    values: dict[str, Any],
    registry: dict[str, FeedSpec] | None,
) -> None:
    """A signal of a household whose evidence may rest on a row that lost its ID number
    and was matched by name says so in its reason (docs/warning-rules.md)."""
    if not sql.relation_exists(connection, "linkage", "row_matches"):
        return
    feeds = registry if registry is not None else load_registry()
    category_feeds = pd.DataFrame(
        [
            {"category": code, "feed": feed, "snapshot": feeds[feed].kind == "snapshot"}
            for code, category in rules.categories.items()
            for feed in category.feeds
            if feed in feeds
        ],
        columns=["category", "feed", "snapshot"],
    ).astype({"snapshot": bool})
    connection.register("category_feeds", category_feeds)
    try:
        notes = sql.query(connection, "signals/recovered_rows_note", values)
    finally:
        connection.unregister("category_feeds")
    if notes.empty:
        return
    connection.register("recovered_notes", notes)
    try:
        connection.execute(
            "update signals.raised set reason = raised.reason || notes.note "
            "from recovered_notes as notes "
            "where raised.household_id = notes.household_id and raised.category = notes.category"
        )
    finally:
        connection.unregister("recovered_notes")


def link_district_leads(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> dict[str, int]:
    """The day's leads linked against the whole district's registry into
    ``linkage.lead_matches``, in one transaction of the district warehouse, before the
    partitions raise their alerts (each sees only its own households, and the probabilities
    must not depend on how the district is cut). Leaves no signals table behind."""
    from pipeline.linkage.leads import match_leads

    values, _ = parameters(rules, business_date)
    connection.begin()
    try:
        connection.execute("create schema if not exists signals")
        install_department_text(connection)
        run_step(connection, "int_households", values)
        run_step(connection, "int_people", values)
        counts = match_leads(connection, values, business_date)
        connection.execute("drop table signals.int_people")
        connection.execute("drop table signals.int_households")
        connection.commit()
    except BaseException:
        with suppress(duckdb.Error):  # the fault that got us here is the one to report
            connection.rollback()
        raise
    return counts


def signal_checks(
    connection: duckdb.DuckDBPyConnection,
    report: SignalReport,
    registry: dict[str, FeedSpec] | None = None,
) -> None:
    """Warnings about the registry and the people of each feed found in no household."""
    warnings = report.warnings
    faults = connection.execute(
        "select count(*), count(distinct village_code) from signals.int_households where has_grid_fault"
    ).fetchone()
    if faults and faults[0]:
        warnings.append(
            f"网格数据问题：{faults[0]}户的网格编号不是其所在村的组级网格，预警改由村级网格长接收（涉及{faults[1]}个村）"
        )
    for feed, column in person_columns(registry or load_registry()).items():
        unlinked = connection.execute(
            f"select count(distinct {quote(column)}) from staging.{quote('cur_' + feed)} "
            f"where {quote(column)} not in (select id_number from signals.int_people)"
        ).fetchone()
        report.people_not_in_registry[feed] = int(unlinked[0]) if unlinked else 0
    faults = connection.execute(
        "select count(*) from signals.int_enrolment_quarantined_members"
    ).fetchone()
    if faults and faults[0]:
        warnings.append(
            f"区医疗保障局参保名单：{faults[0]}名监测对象的参保记录因数据问题被隔离，未作未参保预警，请核对名单"
        )
    duplicated = connection.execute(
        "select count(*) from signals.int_households as households "
        "inner join signals.int_people as people on households.head_id_number = people.id_number "
        "where people.household_id <> households.household_id"
    ).fetchone()
    if duplicated and duplicated[0]:
        warnings.append(f"数据质量：{duplicated[0]}个户主身份证号同时登记为另一户的家庭成员")
