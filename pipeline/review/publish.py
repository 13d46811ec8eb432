"""Review tables for the district bureau's own BI tool, published after each daily run.

Tables written through SQLAlchemy Core into PostgreSQL (``review_db_url``) or, when
none is configured, an SQLite file in ``HOME/review/``:

- ``fpwarn_alerts``: every alert as of the business date, one row per ``alert_id``;
- ``fpwarn_alert_events``: every alert event up to the business date;
- ``fpwarn_regional_alerts``: the regional warnings as of the business date;
- ``fpwarn_assistance_cases``: every assistance case as of the business date, one row per
  ``case_id`` (docs/assistance.md, "The assistance ledger");
- ``fpwarn_feed_health``: one row per business date and feed (``feed_health``).
- ``fpwarn_rule_precision``: per business date, category and township, the verification
  results of the precision window (docs/assistance.md, "Rule precision").

Publishing is an upsert by primary key in one transaction, and it is idempotent: every
value comes from the warehouse and the manifest (nothing like "published at now()"), a
row whose values are unchanged is not written at all, and publishing a date again gives
the same tables. The publication of a date answers for its own rows: a row of that date
that the warehouse no longer holds (a rerun after a corrected delivery) is deleted.
Publishing an earlier date after a later one (a backfill) leaves rows already published
from the later date as they are: the BI tool keeps seeing the newest state.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from pipeline import sql
from pipeline.alerts.lifecycle import Alert
from pipeline.alerts.rules import Rules, load_rules
from pipeline.assessment.precision import precision_by_township
from pipeline.review.feed_health import feed_health
from pipeline.settings import Settings

log = logging.getLogger(__name__)

# Rows per executemany: large enough for speed, small enough to bound the memory of one
# statement's parameters.
BATCH_ROWS = 5_000

# Strings have no length, as in the warehouse: a code longer than expected must not stop a
# publication.
metadata = sa.MetaData()


def _alert_columns() -> list[sa.Column[Any]]:
    """The alert's columns as ``pipeline.alerts.lifecycle.Alert`` declares them."""
    hints = typing.get_type_hints(Alert)
    columns: list[sa.Column[Any]] = []
    for index, declared in enumerate(dataclasses.fields(Alert)):
        hint = hints[declared.name]
        optional = type(None) in typing.get_args(hint)
        python_type = next(arg for arg in (*typing.get_args(hint), hint) if arg is not type(None))
        kind: Any = (
            sa.Date if python_type is date else sa.Text if declared.metadata["text"] else sa.String
        )
        columns.append(
            sa.Column(
                declared.name,
                kind,
                primary_key=index == 0,
                nullable=optional,
                comment=declared.metadata["label"],
            )
        )
    return columns


ALERTS = sa.Table(
    "fpwarn_alerts",
    metadata,
    *_alert_columns(),
    sa.Column("as_of_date", sa.Date, nullable=False, comment="数据截至的业务日期"),
    comment="防返贫监测预警（每条预警一行，截至最近发布的业务日期）",
)

ALERT_EVENTS = sa.Table(
    "fpwarn_alert_events",
    metadata,
    sa.Column("alert_id", sa.String, primary_key=True, comment="预警编号"),
    sa.Column("event_date", sa.Date, primary_key=True, comment="事件日期"),
    sa.Column("sequence", sa.Integer, primary_key=True, comment="同日事件序号"),
    sa.Column(
        "event",
        sa.String,
        nullable=False,
        comment="事件：raised/updated/regraded/escalated/closed",
    ),
    sa.Column("grade", sa.String, nullable=False, comment="事件后的预警等级"),
    sa.Column("cause", sa.Text, nullable=False, comment="事件原因"),
    comment="预警事件（预警的每次变化）",
)

REGIONAL_ALERTS = sa.Table(
    "fpwarn_regional_alerts",
    metadata,
    sa.Column("regional_id", sa.String, primary_key=True, comment="区域预警编号"),
    sa.Column("scope", sa.String, nullable=False, comment="范围：village/township"),
    sa.Column("scope_code", sa.String, nullable=False, comment="村或乡镇代码"),
    sa.Column("township_code", sa.String, comment="乡镇代码"),
    sa.Column("village_code", sa.String, comment="村代码"),
    sa.Column("scope_name", sa.String, comment="村或乡镇名称"),
    sa.Column("rule", sa.String, nullable=False, comment="规则"),
    sa.Column("category", sa.String, nullable=False, comment="预警类别"),
    sa.Column("status", sa.String, nullable=False, comment="状态：new/open/closed"),
    sa.Column("first_raised", sa.Date, nullable=False, comment="首次预警日期"),
    sa.Column("last_updated", sa.Date, nullable=False, comment="最近更新日期"),
    sa.Column("figure", sa.Integer, nullable=False, comment="触发阈值的数值"),
    sa.Column("reason", sa.Text, nullable=False, comment="预警原因"),
    sa.Column("as_of_date", sa.Date, nullable=False, comment="数据截至的业务日期"),
    comment="规模性返贫风险区域预警",
)

ASSISTANCE_CASES = sa.Table(
    "fpwarn_assistance_cases",
    metadata,
    sa.Column("case_id", sa.String, primary_key=True, comment="台账编号"),
    sa.Column("household_id", sa.String, nullable=False, comment="户编号"),
    sa.Column("township_code", sa.String, comment="乡镇代码"),
    sa.Column("village_code", sa.String, comment="村代码"),
    sa.Column("categories", sa.String, nullable=False, comment="确认的预警类别（代码，逗号分隔）"),
    sa.Column("confirmed_date", sa.Date, nullable=False, comment="确认日期（核实日期）"),
    sa.Column("due_by", sa.Date, nullable=False, comment="办结期限"),
    sa.Column(
        "status", sa.String, nullable=False, comment="状态：awaiting/in_place/overdue/closed"
    ),
    sa.Column("contact", sa.String, comment="帮扶联系人"),
    sa.Column("contact_unit", sa.Text, comment="联系人单位"),
    sa.Column("measures", sa.Integer, nullable=False, comment="已登记帮扶措施数"),
    sa.Column("in_place_date", sa.Date, comment="落实日期（联系人和措施均已落实）"),
    sa.Column("closed_date", sa.Date, comment="销号日期"),
    sa.Column("close_cause", sa.Text, comment="销号原因"),
    sa.Column("as_of_date", sa.Date, nullable=False, comment="数据截至的业务日期"),
    comment="帮扶台账（每户一案，截至最近发布的业务日期）",
)

FEED_HEALTH = sa.Table(
    "fpwarn_feed_health",
    metadata,
    sa.Column("business_date", sa.Date, primary_key=True, comment="业务日期"),
    sa.Column("feed", sa.String, primary_key=True, comment="数据源"),
    sa.Column("title", sa.String, comment="数据源名称"),
    sa.Column("owner", sa.String, comment="报送部门"),
    sa.Column("delivered", sa.Integer, nullable=False, comment="本日交付已入库：1是 0否"),
    sa.Column("status", sa.String, comment="状态：loaded/unchanged/missing/incomplete/rejected"),
    sa.Column("reason", sa.Text, comment="状态说明"),
    sa.Column("rows_read", sa.Integer, comment="读取行数"),
    sa.Column("rows_loaded", sa.Integer, comment="入库行数"),
    sa.Column("rows_quarantined", sa.Integer, comment="隔离行数"),
    sa.Column("top_quarantine_reasons", sa.Text, comment="主要隔离原因（最多3项）"),
    sa.Column("last_good_delivery", sa.Date, comment="最近一次可用交付的日期"),
    sa.Column("days_since_last_good", sa.Integer, comment="距最近一次可用交付的天数"),
    comment="各部门数据交付情况（每个业务日期、每个数据源一行）",
)

# What verification teaches (docs/assistance.md, "Rule precision"): one row per business
# date, category and township with verified alerts in the window.
RULE_PRECISION = sa.Table(
    "fpwarn_rule_precision",
    metadata,
    sa.Column("business_date", sa.Date, primary_key=True, comment="业务日期"),
    sa.Column("category", sa.String, primary_key=True, comment="预警类别"),
    sa.Column("township_code", sa.String, primary_key=True, comment="乡镇代码"),
    sa.Column("category_label", sa.String, comment="预警类别名称"),
    sa.Column("township_name", sa.String, comment="乡镇名称"),
    sa.Column("verified", sa.Integer, nullable=False, comment="窗口期内已核实预警数"),
    sa.Column("found_true", sa.Integer, nullable=False, comment="核实属实数（两种属实结果）"),
    sa.Column("not_true", sa.Integer, nullable=False, comment="核实不属实数"),
    sa.Column("risk_eliminated", sa.Integer, nullable=False, comment="核实风险已消除数"),
    sa.Column("share_found_true", sa.Float, nullable=False, comment="属实占比"),
    sa.Column(
        "is_category_flagged",
        sa.Integer,
        nullable=False,
        comment="该类别全区属实占比低于下限、需复核规则：1是 0否",
    ),
    comment="核实结果反映的预警规则精度（每个业务日期、类别、乡镇一行，近N天按核实日期）",
)

DEFAULT_DATABASE = Path("review") / "review.sqlite"

_INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class ReviewPublishError(ValueError):
    """A review database this module cannot write to."""


@dataclass(frozen=True)
class _Publication:
    table: sa.Table
    rows: list[dict[str, Any]]
    # The rows of the target this publication answers for: any of them it does not hold is stale.
    scope: sa.ColumnElement[bool]
    # A row already published from a later date (this column greater) is left as it is.
    newer_wins: str | None = None
    # Read the rows in scope and send only the new or changed ones: for the event history,
    # which grows every day while its earlier rows never change.
    send_changes_only: bool = False


def review_url(settings: Settings) -> str:
    """``review_db_url`` (``HOME/config.yaml`` or ``PIPELINE_REVIEW_DB_URL``), else an SQLite
    file ``HOME/review/review.sqlite``, whose folder is created."""
    configured = settings.review_db_url
    if configured:
        return str(configured)
    path = settings.home.root / DEFAULT_DATABASE
    # The alerts name households: owner and group only, like the rest of HOME.
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def safe_url(url: str) -> str:
    """The URL for messages and logs, its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL may still hold a password: show nothing of it
        return "<无法解析的连接串>"


def _value(value: Any) -> Any:
    """A value the database drivers take: NaN, NaT and pd.NA become NULL, timestamps dates."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):  # pd.Timestamp too: every time-like column here is a date
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return _value(value.item())
    return value


def _warehouse_rows(
    connection: duckdb.DuckDBPyConnection, name: str, business_date: date
) -> list[dict[str, Any]]:
    # DuckDB returns NULL as None and dates as dates: the rows go out as they come (the
    # review SQL selects no floating-point column, so there is no NaN to clear).
    result = sql.execute(connection, f"review/{name}", {"business_date": business_date})
    names = [column[0] for column in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    names = [str(name) for name in frame.columns]
    return [
        {name: _value(value) for name, value in zip(names, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _check_columns(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    # A SQL file and its table declared apart must agree, or a column would silently be NULL.
    if rows and set(rows[0]) != set(table.columns.keys()):
        raise ReviewPublishError(
            f"{table.name}：查询结果的列与表定义不一致："
            f"{sorted(set(rows[0]) ^ set(table.columns.keys()))}"
        )


def _upsert(
    connection: sa.Connection,
    insert: Callable[[sa.Table], Any],
    publication: _Publication,
    rows: list[dict[str, Any]],
) -> None:
    table = publication.table
    statement = insert(table)
    excluded = statement.excluded
    updated = [column.name for column in table.columns if not column.primary_key]
    # Only rows whose values differ are written: publishing again writes nothing.
    condition: sa.ColumnElement[bool] = sa.or_(
        *(table.c[name].is_distinct_from(excluded[name]) for name in updated)
    )
    if publication.newer_wins:
        column = publication.newer_wins
        condition = sa.and_(table.c[column] <= excluded[column], condition)
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: excluded[name] for name in updated},
        where=condition,
    )
    for start in range(0, len(rows), BATCH_ROWS):
        connection.execute(statement, rows[start : start + BATCH_ROWS])


def _apply(
    connection: sa.Connection, insert: Callable[[sa.Table], Any], publication: _Publication
) -> tuple[int, int]:
    """Upsert the publication's rows and delete the stale rows of its scope; returns the
    rows sent and the rows deleted."""
    table = publication.table
    keys = [column.name for column in table.primary_key.columns]
    # The key first; every column when the rows are compared, else the key alone.
    names = keys + [
        column.name
        for column in table.columns
        if publication.send_changes_only and not column.primary_key
    ]
    present = {
        tuple(row[: len(keys)]): tuple(row)
        for row in connection.execute(
            sa.select(*(table.c[name] for name in names)).where(publication.scope)
        )
    }
    rows = publication.rows
    if publication.send_changes_only:
        rows = [
            row
            for row in rows
            if present.get(tuple(row[name] for name in keys)) != tuple(row[name] for name in names)
        ]
    _upsert(connection, insert, publication, rows)
    published = {tuple(row[name] for name in keys) for row in publication.rows}
    stale = [
        {f"stale_{name}": value for name, value in zip(keys, key, strict=True)}
        for key in present
        if key not in published
    ]
    if stale:
        statement = table.delete().where(
            sa.and_(*(table.c[name] == sa.bindparam(f"stale_{name}") for name in keys))
        )
        for start in range(0, len(stale), BATCH_ROWS):
            connection.execute(statement, stale[start : start + BATCH_ROWS])
    return len(rows), len(stale)


def _precision_rows(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> list[dict[str, Any]]:
    frame = precision_by_township(connection, rules, business_date)
    frame["township_code"] = frame["township_code"].fillna("")
    frame["is_category_flagged"] = frame["is_category_flagged"].astype(int)
    return _frame_rows(frame.assign(business_date=business_date))


def _publications(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    manifest: dict[str, Any],
    rules: Rules,
) -> list[_Publication]:
    day = sa.literal(business_date, sa.Date)
    return [
        _Publication(
            ALERTS,
            _warehouse_rows(connection, "alerts", business_date),
            ALERTS.c.as_of_date == day,
            newer_wins="as_of_date",
        ),
        _Publication(
            ALERT_EVENTS,
            _warehouse_rows(connection, "alert_events", business_date),
            ALERT_EVENTS.c.event_date <= day,
            send_changes_only=True,
        ),
        _Publication(
            REGIONAL_ALERTS,
            _warehouse_rows(connection, "regional_alerts", business_date),
            REGIONAL_ALERTS.c.as_of_date == day,
            newer_wins="as_of_date",
        ),
        _Publication(
            ASSISTANCE_CASES,
            _warehouse_rows(connection, "assistance_cases", business_date),
            ASSISTANCE_CASES.c.as_of_date == day,
            newer_wins="as_of_date",
        ),
        _Publication(
            FEED_HEALTH,
            _frame_rows(feed_health(connection, business_date, manifest)),
            FEED_HEALTH.c.business_date == day,
        ),
        _Publication(
            RULE_PRECISION,
            _precision_rows(connection, rules, business_date),
            RULE_PRECISION.c.business_date == day,
        ),
    ]


def _engine(url: str) -> sa.Engine:
    shown = safe_url(url)
    try:
        parsed = make_url(url)
    except Exception as error:
        raise ReviewPublishError(f"审阅库连接串无法解析：{shown}") from error
    if parsed.get_backend_name() not in _INSERTS:
        raise ReviewPublishError(
            f"审阅库 {shown}：不支持的数据库类型 {parsed.get_backend_name()}，"
            "只支持 PostgreSQL（postgresql+psycopg://…）和 SQLite（sqlite:///…）"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(parsed)


def publish_review_tables(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    manifest: dict[str, Any],
    url: str,
    rules: Rules | None = None,
) -> dict[str, int]:
    """Publish the review tables of ``business_date`` to the database at ``url`` in one
    transaction; returns the rows published per table (the date's rows, written or
    already equal). ``rules``: the run's (the project's rules file unless given)."""
    started = time.perf_counter()
    engine = _engine(url)
    try:
        insert = _INSERTS[engine.dialect.name]
        publications = _publications(
            connection, business_date, manifest, rules if rules is not None else load_rules()
        )
        for publication in publications:
            _check_columns(publication.table, publication.rows)
        metadata.create_all(engine, checkfirst=True)
        done = {}
        with engine.begin() as target:
            for publication in publications:
                done[publication.table.name] = _apply(target, insert, publication)
    finally:
        engine.dispose()
    counts = {publication.table.name: len(publication.rows) for publication in publications}
    log.info(
        "review tables for %s published to %s in %.1f s: rows %s, sent %s, stale rows removed %s",
        business_date,
        safe_url(url),
        time.perf_counter() - started,
        counts,
        {name: sent for name, (sent, _) in done.items()},
        {name: removed for name, (_, removed) in done.items() if removed},
    )
    return counts
