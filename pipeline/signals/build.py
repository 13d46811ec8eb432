"""Signals: one SQL step per category in ``sql/signals/``, thresholds bound from the rules.

Each step writes ``signals.sig_<category>``: one row per household that the rule
raises, with its base grade, the date of its newest evidence and the reason in
Chinese. ``signals.raised`` unions them for the alert lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pipeline import sql
from pipeline.alerts.rules import CATEGORIES, Rules
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
    """Every value the signal steps bind, and warnings about carried-forward values."""
    warnings = []
    line = rules.monitoring_line_for(business_date.year)
    if line is None:
        raise ValueError(f"monitoring_line: no value for {business_date.year} or any earlier year")
    if line[1] != business_date.year:
        warnings.append(f"{business_date.year}年未配置监测范围，沿用{line[1]}年的{line[0]:.0f}元")
    income = rules.rural_income_for(business_date.year - 1)
    if income is None:
        raise ValueError(
            f"rural_income_per_capita: no value for {business_date.year - 1} or earlier"
        )
    if income[1] != business_date.year - 1:
        warnings.append(
            f"{business_date.year - 1}年未配置农村居民人均可支配收入，沿用{income[1]}年的{income[0]:.0f}元"
        )
    values: dict[str, Any] = {
        "business_date": business_date,
        "monitoring_line": line[0],
        "line_year": line[1],
        "near_line_factor": rules.near_line_factor,
        "recent_days": rules.recent_days,
        "labour_min_age": rules.labourer.min_age,
        "labour_max_age": rules.labourer.max_age,
        "labour_skills": list(rules.labourer.skills),
        "rural_income": income[0],
        "window_days": rules.medical_burden.window_days,
        "share_monitored": rules.medical_burden.share_of_rural_income_monitored,
        "share_other": rules.medical_burden.share_of_rural_income_other,
        "inpatient_monitored": rules.medical_burden.inpatient_self_paid_monitored_yuan,
        "inpatient_other": rules.medical_burden.inpatient_self_paid_other_yuan,
        "statuses": list(rules.education_dropout.statuses),
        "compulsory_stages": list(rules.education_dropout.compulsory_stages),
        "min_age": rules.education_dropout.min_age,
        "max_age": rules.education_dropout.max_age,
        "min_open_days": rules.water_unsafe.min_open_days,
        "red_open_days": rules.water_unsafe.red_open_days,
        "duration_types": list(rules.water_unsafe.duration_types),
        "immediate_types": list(rules.water_unsafe.immediate_types),
        "disaster_window_days": rules.disaster.window_days,
        "alert_severities": list(rules.disaster.alert_severities),
        "red_severities": list(rules.disaster.red_severities),
        "vehicle_types": list(rules.eligibility_review.vehicle_types),
        "company_types": list(rules.eligibility_review.company_types),
        "registered_capital_10k_yuan": rules.eligibility_review.registered_capital_10k_yuan,
    }
    return values, warnings


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
) -> SignalReport:
    """Every category's signals for ``business_date``, in ``signals.raised``; with
    ``checks``, the data-quality warnings and unlinked people of ``signal_checks`` too (a
    partition leaves them to the merge, which sees every household)."""
    values, warnings = parameters(rules, business_date)
    report = SignalReport(warnings=warnings)
    connection.execute("create schema if not exists signals")
    install_department_text(connection)
    run_step(connection, "int_households", values)
    run_step(connection, "int_people", values)
    run_step(connection, "int_enrolment_quarantined_members", values)
    run_step(connection, "int_assistance_newest", values)
    for category in CATEGORIES:
        run_step(connection, f"sig_{category}", values)
    union = "\nunion all\n".join(
        f"select household_id, category, base_grade, evidence_date, reason from signals.sig_{category}"
        for category in CATEGORIES
    )
    connection.execute(f"create or replace table signals.raised as {union}")
    report.raised = connection.execute("select count(*) from signals.raised").fetchone()[0]  # type: ignore[index]
    if checks:
        signal_checks(connection, report, registry)
    return report


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
