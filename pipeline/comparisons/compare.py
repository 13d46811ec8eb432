"""The data comparison (数据比对) of the applications received on a business date.

One SQL step per file in ``sql/comparisons/``, thresholds bound from ``rules.comparison``
(``$comparison__recent_days``…).
The applicant and, when the household is in the registry, every member are compared with
the department data in the warehouse; each finding names the person by role (申请人 or
与户主关系), never by name, ID number or plate number, because the rows go to the village
for review. An application without a signed authorisation (已签承诺授权书 not 是) is never
compared: the steps drop it before any department table is read, and its only row is
``authorisation_missing``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Rules
from pipeline.dispatch.masking import mask_text
from pipeline.outbox import atomic_write_bytes, csv_bytes

# The intermediate steps, in order, each materialised as ``comparisons.<name>``.
STEPS = ("int_applications", "int_application_people")
# The columns of comparisons.csv.
COLUMNS = (
    "application_id",
    "township_code",
    "village_code",
    "household_id",
    "person_role",
    "finding",
    "finding_label",
    "evidence",
)


def parameters(rules: Rules, business_date: date) -> dict[str, Any]:
    """Every value the comparison steps may bind (``$comparison__recent_days``…:
    ``Rules.parameters``)."""
    values, _ = rules.parameters(business_date)
    return values


def _run(connection: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    sql.script(connection, "comparisons/schema")
    for name in STEPS:
        sql.materialise(connection, f"comparisons/{name}", f"comparisons.{name}", values)
    # Delete, then insert: a rerun of the date gives the same rows, never a second copy.
    connection.execute(
        "delete from comparisons.findings where business_date = $business_date",
        {"business_date": values["business_date"]},
    )
    sql.insert(connection, "comparisons/comparisons", "comparisons.findings", values)


def build_comparisons(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    *,
    in_transaction: bool = False,
) -> pd.DataFrame:
    """Compare the applications received for ``business_date``; replaces that date's rows
    of ``comparisons.findings`` and returns them (ordered by township, village, application).

    The steps run in a transaction of their own, unless ``in_transaction`` says that the
    caller already holds one (DuckDB cannot nest them); then they join it.
    """
    values = parameters(rules, business_date)
    if in_transaction:
        _run(connection, values)
    else:
        connection.begin()
        try:
            _run(connection, values)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    return comparison_findings(connection, business_date)


def comparison_findings(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    """The findings of ``business_date``, ordered by township, village and application."""
    sql.script(connection, "comparisons/schema")
    return connection.execute(
        "select * exclude (sequence) from comparisons.findings "
        "where business_date = $business_date "
        "order by township_code, village_code, application_id, sequence",
        {"business_date": business_date},
    ).df()


def write_comparisons_csv(frame: pd.DataFrame, path: Path) -> str:
    """``comparisons.csv``: one row per application and finding, written atomically;
    returns its SHA-256."""
    rows = frame.loc[:, list(COLUMNS)].copy()
    # A second safety net: the evidence is built without personal numbers.
    rows["evidence"] = rows["evidence"].map(lambda text: mask_text(str(text)))
    return atomic_write_bytes(path, csv_bytes(rows))
