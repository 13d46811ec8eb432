"""Shared test helpers: deliveries written exactly as senders write them."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

# The daily report takes about two seconds to draw per run of a day; only the tests that
# look at it (tests/report, the command line's, which runs without PIPELINE_ variables)
# draw it. Subprocesses and Airflow's components inherit this.
os.environ.setdefault("PIPELINE_DAILY_REPORT", "false")
# Feeds are read one at a time in the test process, which imports Great Expectations once
# for the session (feed workers would import it again on every run of a day, 5 s each);
# tests/test_parallel_ingest.py and the command line's tests read them side by side.
os.environ.setdefault("PIPELINE_INGEST_WORKERS", "1")

from pipeline.feeds.inbox import delivery_path, write_marker
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.settings import Settings, load_settings
from pipeline.validation.id_numbers import make

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def registry() -> dict[str, FeedSpec]:
    return load_registry()


def person_id(sequence: int, *, birth: date = date(1980, 5, 17), sex: str = "男") -> str:
    """A valid ID number, distinct per ``sequence`` (0-499 per birth date)."""
    return make("341702", birth, (sequence * 2) % 1000, sex)


def write_delivery(
    inbox: Path,
    spec: FeedSpec,
    business_date: date,
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[str] | None = None,
    encoding: str | None = None,
    marker_rows: int | None = None,
    marker: bool = True,
    footer: Sequence[Sequence[Any]] = (),
    extra_sheets: dict[str, list[list[Any]]] | None = None,
) -> Path:
    """A delivery of ``rows`` (values in column order) in the feed's format, then its marker."""
    path = delivery_path(inbox, spec, business_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = list(header or [column.name for column in spec.columns])
    if spec.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(
            [["" if value is None else value for value in row] for row in [*rows, *footer]]
        )
        path.write_bytes(buffer.getvalue().encode(encoding or spec.encoding or "utf-8"))
    else:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = spec.sheet or "Sheet1"
        sheet.append(header)
        for row in [*rows, *footer]:
            sheet.append(list(row))
        for name, sheet_rows in (extra_sheets or {}).items():
            extra = workbook.create_sheet(name)
            for row in sheet_rows:
                extra.append(row)
        workbook.save(path)
    if marker:
        write_marker(path, len(rows) if marker_rows is None else marker_rows)
    return path


@pytest.fixture
def deliver(tmp_path: Path, registry: dict[str, FeedSpec]) -> Callable[..., Path]:
    inbox = tmp_path / "inbox"

    def _deliver(
        feed: str, business_date: date, rows: Sequence[Sequence[Any]], **options: Any
    ) -> Path:
        return write_delivery(inbox, registry[feed], business_date, rows, **options)

    return _deliver


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return load_settings(tmp_path / "home", tmp_path / "inbox")


def require_service(url_env: str, default: str) -> str:
    """The URL of a database the tests need; in CI a missing one fails, never skips."""
    import sqlalchemy as sa

    url = os.environ.get(url_env, default)
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        if os.environ.get("CI"):
            pytest.fail(f"{url_env}: database not reachable in CI: {type(error).__name__}")
        pytest.skip(f"{url_env}: database not reachable here: {type(error).__name__}")
    return url


def household_row(
    number: int,
    *,
    head: str | None = None,
    size: int = 2,
    income: float = 30000,
    kind: str = "一般农户",
) -> list[Any]:
    """A households row of village 341702101201 (梅村镇梅村村), in the feed's column order."""
    return [
        f"341702101201{number:04d}",
        f"户主{number}",
        head or person_id(number),
        "341702101",
        "梅村镇",
        "341702101201",
        "梅村村",
        "一组",
        "341702101201G01",
        kind,
        None,
        None,
        None,
        size,
        income,
        None,
    ]


def member_row(number: int, id_number: str, *, relation: str = "之子") -> list[Any]:
    """A members row of household ``number`` of ``household_row``: a working-age labourer."""
    return [
        f"341702101201{number:04d}",
        "成员",
        id_number,
        relation,
        "男",
        "普通劳动力",
        "健康",
        "",
        "非在校生",
        "县内务工",
    ]


def home_for(root: Path, claims_url: str, inbox: Path, name: str = "home") -> Settings:
    """A HOME under ``root`` whose config points at a demo district's claims database."""
    home = root / name
    home.mkdir()
    (home / "config.yaml").write_text(f"med_claims_url: {claims_url}\n", encoding="utf-8")
    return load_settings(home, inbox)


def outbox_files(outbox: Path) -> dict[str, str]:
    """Every file of an outbox by relative path, with its SHA-256: two outboxes are equal
    when these are (the files are byte-deterministic, workbooks included)."""
    import hashlib

    return {
        path.relative_to(outbox).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(outbox.rglob("*"))
        if path.is_file()
    }


# Wall-clock columns: when a row was loaded, when a run finished. Everything else in the
# warehouse depends on the inputs only.
WALL_CLOCK_COLUMNS = ("loaded_at", "finished_at")


def warehouse_contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a warehouse file, rows sorted, without the wall-clock columns."""
    import duckdb

    contents = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        for schema, table in tables:
            columns = [
                name
                for (name,) in connection.execute(
                    "select column_name from duckdb_columns() where schema_name = $schema "
                    "and table_name = $table order by column_index",
                    {"schema": schema, "table": table},
                ).fetchall()
                if name not in WALL_CLOCK_COLUMNS
            ]
            # Names from the catalog itself, quoted: no outside text reaches this statement.
            listed = ", ".join(f'"{name}"' for name in columns)
            contents[f"{schema}.{table}"] = connection.execute(
                f'select {listed} from "{schema}"."{table}" order by all'
            ).fetchall()
    return contents
