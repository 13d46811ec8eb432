"""The one way the SQL steps of ``sql/`` are run: read from their file, given the
``$name`` values they use as bound parameters, never a value pasted into their text.

A step is named by its path under ``sql/`` without the suffix (``signals/sig_disaster``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from pipeline.paths import SQL_DIR

PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def step_sql(step: str) -> str:
    """The text of ``sql/<step>.sql``."""
    return (SQL_DIR / f"{step}.sql").read_text(encoding="utf-8")


def bound_parameters(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a statement names as ``$name``, and only those (DuckDB refuses unused ones)."""
    return {key: values[key] for key in dict.fromkeys(PARAMETER.findall(sql))}


def execute(
    connection: duckdb.DuckDBPyConnection, step: str, values: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run a step's one statement; its result is read from the connection returned."""
    sql = step_sql(step)
    return connection.execute(sql, bound_parameters(sql, values or {}))


def query(
    connection: duckdb.DuckDBPyConnection, step: str, values: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """A step's rows as a frame."""
    return execute(connection, step, values).df()


def materialise(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    table: str,
    values: Mapping[str, Any] | None = None,
) -> None:
    """The table ``table`` (a name from the code, never from data) made anew from a step."""
    _into(connection, f"create or replace table {table} as", step, values)


def insert(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    table: str,
    values: Mapping[str, Any] | None = None,
) -> None:
    """A step's rows added to ``table`` by column name."""
    _into(connection, f"insert into {table} by name", step, values)


def _into(
    connection: duckdb.DuckDBPyConnection,
    statement: str,
    step: str,
    values: Mapping[str, Any] | None,
) -> None:
    """``statement`` (its start, from the code) followed by the step's SELECT."""
    sql = step_sql(step)
    connection.execute(f"{statement} {sql}", bound_parameters(sql, values or {}))


def script(connection: duckdb.DuckDBPyConnection, step: str) -> None:
    """A step of several statements without parameters (a schema, a macro)."""
    connection.execute(step_sql(step))


def relation_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether the connection's database has a table or a view ``schema.name``."""
    rows = connection.execute(
        "select 1 from information_schema.tables where table_catalog = current_database() "
        "and table_schema = $schema and table_name = $name",
        {"schema": schema, "name": name},
    ).fetchall()
    return bool(rows)
