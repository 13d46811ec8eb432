"""The alert's shape is declared once (sql/alerts/schema.sql, mirrored by the Alert
dataclass); the snapshots, the review table and "open" are derived from it, so a column
added in one place and forgotten in another fails here rather than in a district's run."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date

import duckdb
import sqlalchemy as sa

from pipeline.alerts.lifecycle import Alert, ensure_schema
from pipeline.review.publish import ALERTS
from pipeline.vocabulary import OPEN_STATUSES, AlertStatus

DUCKDB_TYPES = {str: "VARCHAR", date: "DATE"}


def declared() -> list[tuple[str, str, bool]]:
    """(name, DuckDB type, nullable) of every field of the dataclass."""
    hints = typing.get_type_hints(Alert)
    columns = []
    for item in dataclasses.fields(Alert):
        args = typing.get_args(hints[item.name])
        python_type = next((arg for arg in args if arg is not type(None)), hints[item.name])
        columns.append((item.name, DUCKDB_TYPES[python_type], type(None) in args))
    return columns


def table_columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool]]:
    return [
        (name, kind, nullable)
        for name, kind, nullable in connection.execute(
            "select column_name, data_type, is_nullable from duckdb_columns() "
            "where schema_name = 'alerts' and table_name = $table order by column_index",
            {"table": table},
        ).fetchall()
    ]


def test_the_dataclass_is_the_table_the_schema_declares():
    with duckdb.connect() as connection:
        ensure_schema(connection)
        stored = table_columns(connection, "alerts")
    # The key is not null without saying so in the dataclass.
    assert [(name, kind) for name, kind, _ in stored] == [
        (name, kind) for name, kind, _ in declared()
    ]
    assert [nullable for _, _, nullable in stored][1:] == [
        nullable for _, _, nullable in declared()
    ][1:]


def test_snapshots_and_the_review_table_are_the_alert_and_its_date():
    with duckdb.connect() as connection:
        ensure_schema(connection)
        snapshots = table_columns(connection, "snapshots")
    fields = [name for name, _, _ in declared()]
    assert [name for name, _, _ in snapshots] == ["as_of_date", *fields]
    assert [column.name for column in ALERTS.columns] == [*fields, "as_of_date"]
    assert [column.name for column in ALERTS.primary_key.columns] == ["alert_id"]
    assert isinstance(ALERTS.c.reasons.type, sa.Text)
    assert isinstance(ALERTS.c.first_raised.type, sa.Date)
    assert ALERTS.c.evidence_date.nullable
    assert not ALERTS.c.verify_by.nullable


def test_open_is_defined_once_and_means_what_the_vocabulary_says():
    with duckdb.connect() as connection:
        ensure_schema(connection)
        for number, status in enumerate(AlertStatus):
            connection.execute(
                "insert into alerts.alerts (alert_id, household_id, category, grade, status, "
                "first_raised, last_updated, verify_by, reasons) values "
                "($id, 'h', 'disaster', 'red', $status, current_date, current_date, "
                "current_date, 'r')",
                {"id": f"A{number}", "status": status.value},
            )
        in_view = {
            row[0] for row in connection.execute("select status from alerts.open_alerts").fetchall()
        }
        by_macro = {
            status
            for status in AlertStatus
            if connection.execute("select alerts.is_open($s)", {"s": status.value}).fetchone()[0]
        }
    assert in_view == by_macro == set(OPEN_STATUSES)
    assert AlertStatus.CLOSED not in in_view
