"""Build the warehouse: load every staged delivery of a run in one transaction.

This is the only step that writes the DuckDB file, and it does so in a single
transaction: a run killed half-way leaves the warehouse as it was before, and
the next run simply loads again. A delivery already in the ledger with the same
digest is ``unchanged``; a new digest for a date replaces what that date's
earlier delivery contributed (rows and quarantine alike).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Linkage
from pipeline.feeds.readers import jsonable
from pipeline.feeds.registry import FeedSpec
from pipeline.ingest import DeliveryResult, FeedPlan
from pipeline.outbox import atomic_write_text
from pipeline.paths import Home
from pipeline.runs import RunFolder
from pipeline.vocabulary import IN_FORCE, DeliveryStatus
from pipeline.warehouse import statements
from pipeline.warehouse.ledger import connect_writer

log = logging.getLogger(__name__)


@dataclass
class LoadOutcome:
    plans: dict[str, FeedPlan]


def connect(home: Home) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing (waits while another process holds it)."""
    return connect_writer(home)


def ensure_schema(connection: duckdb.DuckDBPyConnection, registry: dict[str, FeedSpec]) -> None:
    sql.script(connection, "warehouse/schema")
    # What record linkage decides of leads and of rows that lost their ID number.
    sql.script(connection, "linkage/schema")
    for spec in registry.values():
        connection.execute(statements.create_staging_table_sql(spec))
        existing = {
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'staging' and table_name = $table",
                {"table": "stg_" + spec.feed},
            ).fetchall()
        }
        for name in statements.staging_columns(spec):
            if name not in existing:
                connection.execute(statements.add_column_sql(spec, name))
    # Views after every table exists: a view may read another feed's view.
    for spec in sorted(registry.values(), key=lambda item: len(item.references)):
        connection.execute(statements.current_view_sql(spec, registry))


def read_plans(
    home: Home, business_date: date, registry: dict[str, FeedSpec]
) -> dict[str, FeedPlan]:
    """The plans the feed steps wrote for this run; a feed without one was not ingested."""
    plans = {}
    for feed in registry:
        path = RunFolder.of(home, business_date).feed_plan(feed)
        if path.is_file():
            plans[feed] = FeedPlan.from_json(path.read_text(encoding="utf-8"))
    return plans


def load_run(
    home: Home,
    business_date: date,
    registry: dict[str, FeedSpec],
    linkage: Linkage | None = None,
) -> LoadOutcome:
    """Load what the feed steps staged for ``business_date``; marks each delivery
    ``loaded`` or ``unchanged`` in the plans it returns. The rows of the deliveries loaded
    that only their ID number kept out are linked to the registry (``linkage``: the rules'
    section, its defaults when not given)."""
    plans = read_plans(home, business_date, registry)
    loaded_at = datetime.now().replace(microsecond=0)
    connection = connect(home)
    try:
        ensure_schema(connection, registry)
        connection.begin()
        loaded: list[tuple[FeedSpec, DeliveryResult]] = []
        for feed, plan in plans.items():
            spec = registry[feed]
            for delivery in plan.deliveries:
                if delivery.status not in IN_FORCE:
                    continue
                known = _ledger_digest(connection, delivery)
                if known == delivery.sha256:
                    _mark_unchanged(connection, delivery)
                    continue
                if known is not None and spec.is_file_feed:
                    connection.execute(
                        "insert into meta.redeliveries values ($feed, $date, $previous, $sha256, $day)",
                        {
                            "feed": feed,
                            "date": delivery.date,
                            "previous": known,
                            "sha256": delivery.sha256,
                            "day": business_date,
                        },
                    )
                _load_delivery(connection, spec, delivery, business_date, loaded_at)
                delivery.status = DeliveryStatus.LOADED
                loaded.append((spec, delivery))
        loaded_feeds = {spec.feed for spec, _ in loaded}
        for spec in registry.values():
            touched = {spec.feed, *(reference.feed for reference in spec.references)}
            if spec.references and spec.is_file_feed and touched & loaded_feeds:
                _check_references(connection, spec, plans, registry, business_date)
        if loaded and any(spec.person_name for spec in registry.values()):
            from pipeline.linkage.rows import recover_rows

            recovered = recover_rows(
                connection,
                registry,
                linkage or Linkage(),
                business_date,
                [(spec.feed, date.fromisoformat(delivery.date)) for spec, delivery in loaded],
                loaded_at,
            )
            for spec, delivery in loaded:
                key = (spec.feed, date.fromisoformat(delivery.date))
                delivery.rows_recovered = recovered.get(key, 0)
        connection.commit()
    finally:
        # Closing without a commit rolls the whole run back.
        connection.close()
    # What the load made of each delivery (loaded, unchanged, the figures), for the steps
    # after it, which may run in other processes.
    for feed, plan in plans.items():
        atomic_write_text(RunFolder.of(home, business_date).feed_plan(feed), plan.to_json())
    return LoadOutcome(plans=plans)


def _ledger_digest(connection: duckdb.DuckDBPyConnection, delivery: DeliveryResult) -> str | None:
    """The digest of the delivery in force for this feed and date, if any."""
    row = connection.execute(
        "select sha256 from meta.deliveries where feed = $feed and delivery_date = $date",
        {"feed": delivery.feed, "date": delivery.date},
    ).fetchone()
    return None if row is None else str(row[0])


def _mark_unchanged(connection: duckdb.DuckDBPyConnection, delivery: DeliveryResult) -> None:
    """Loaded by an earlier run: report the figures the ledger holds."""
    row = connection.execute(
        "select rows_read, rows_loaded, rows_quarantined from meta.deliveries "
        "where feed = $feed and delivery_date = $date",
        {"feed": delivery.feed, "date": delivery.date},
    ).fetchone()
    assert row is not None
    delivery.status = DeliveryStatus.UNCHANGED
    delivery.rows_read, delivery.rows_loaded, delivery.rows_quarantined = (
        int(value) for value in row
    )
    if sql.relation_exists(connection, "linkage", "row_matches"):
        counted = connection.execute(
            "select count(*) from linkage.row_matches where feed = $feed "
            "and delivery_date = $date and status = 'recovered'",
            {"feed": delivery.feed, "date": delivery.date},
        ).fetchone()
        delivery.rows_recovered = int(counted[0]) if counted else 0


def _load_delivery(
    connection: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    delivery: DeliveryResult,
    business_date: date,
    loaded_at: datetime,
) -> None:
    assert delivery.staged is not None
    staged = Path(delivery.staged)
    rows_path = str(staged / "rows.parquet")
    quarantine_path = str(staged / "quarantine.parquet")
    if spec.is_file_feed:
        connection.execute(statements.delete_delivery_sql(spec), {"delivery_date": delivery.date})
        connection.execute(
            "delete from meta.quarantine where feed = $feed and delivery_date = $delivery_date",
            {"feed": spec.feed, "delivery_date": delivery.date},
        )
    else:
        # Rows read again replace their earlier copy; a row quarantined before and
        # now readable (or quarantined now) leaves only its newest verdict.
        files = {"rows_path": rows_path, "quarantine_path": quarantine_path}
        connection.execute(statements.delete_keys_sql(spec), files)
        reread = statements.REREAD_KEYS_SQL.format(key=statements.quote(spec.key[0]))
        connection.execute(
            f"delete from meta.quarantine where feed = $feed and row in ({reread})",
            {"feed": spec.feed, **files},
        )
    connection.execute(
        statements.insert_delivery_sql(spec),
        {
            "delivery_date": delivery.date,
            "rows_path": rows_path,
            "loaded_at": loaded_at,
            "loaded_for_date": business_date,
        },
    )
    connection.execute(
        "insert into meta.quarantine by name "
        "select *, $delivery_date::date as delivery_date, $loaded_for_date::date as loaded_for_date "
        "from read_parquet($quarantine_path)",
        {
            "delivery_date": delivery.date,
            "loaded_for_date": business_date,
            "quarantine_path": quarantine_path,
        },
    )
    connection.execute(
        "insert or replace into meta.deliveries values "
        "($feed, $delivery_date, $file, $sha256, $marker_rows, $rows_read, $rows_loaded, "
        "$rows_quarantined, $encoding, $loaded_at, $loaded_for_date)",
        {
            "feed": spec.feed,
            "delivery_date": delivery.date,
            "file": delivery.file,
            "sha256": delivery.sha256,
            "marker_rows": delivery.marker_rows,
            "rows_read": delivery.rows_read,
            "rows_loaded": delivery.rows_loaded,
            "rows_quarantined": delivery.rows_quarantined,
            "encoding": delivery.encoding,
            "loaded_at": loaded_at,
            "loaded_for_date": business_date,
        },
    )
    log.info("loaded %s %s (%d rows)", spec.feed, delivery.file, delivery.rows_loaded)


def _check_references(
    connection: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    plans: dict[str, FeedPlan],
    registry: dict[str, FeedSpec],
    business_date: date,
) -> None:
    """Quarantine the rows of the delivery in force (of every delivery of an increment)
    that point at nothing in force, or at a target whose ``same`` fields differ.

    Judged again whenever either side loads: a member whose household arrives
    later comes back, a member whose household left the registry goes. The rows
    stay in staging; the ``cur_`` view leaves them out.
    """
    in_force = connection.execute(
        "select max(delivery_date) from meta.deliveries where feed = $feed", {"feed": spec.feed}
    ).fetchone()
    if not in_force or in_force[0] is None:
        return
    # A snapshot's delivery in force is judged; an increment's every delivery is.
    dates = (
        [in_force[0]]
        if spec.kind == "snapshot"
        else [
            row[0]
            for row in connection.execute(
                "select delivery_date from meta.deliveries where feed = $feed order by 1",
                {"feed": spec.feed},
            ).fetchall()
        ]
    )
    table = statements.staging_table(spec)
    if any(reference.match != "exact" for reference in spec.references):
        sql.script(connection, "linkage/place_keys")
    passed: list[str] = []  # a row gets the reason of the first reference it fails
    for reference in spec.references:
        connection.execute(
            "delete from meta.quarantine where feed = $feed and delivery_date in "
            "(select unnest($dates::date[])) and reason = $reason",
            {"feed": spec.feed, "dates": dates, "reason": reference.reason},
        )
        holds = statements.reference_holds_sql(reference, registry)
        orphans = connection.execute(
            f"select delivered.* from {table} as delivered "
            "where delivered.delivery_date in (select unnest($dates::date[])) "
            f"and not {holds}" + "".join(f" and {earlier}" for earlier in passed),
            {"dates": dates},
        ).df()
        passed.append(holds)
        if orphans.empty:
            continue
        raw = [
            json.dumps(
                {column.name: jsonable(row[column.field]) for column in spec.columns},
                ensure_ascii=False,
            )
            for _, row in orphans.iterrows()
        ]
        quarantined = pd.DataFrame(
            {
                "feed": spec.feed,
                "file": orphans["source_file"],
                "row": orphans["source_row"].astype("string"),
                "reason": reference.reason,
                "raw": raw,
                "delivery_date": orphans["delivery_date"],
                "loaded_for_date": business_date,
            }
        )
        connection.register("orphans_quarantined", quarantined)
        connection.execute("insert into meta.quarantine by name select * from orphans_quarantined")
        connection.unregister("orphans_quarantined")
    for delivery_date in dates:
        _count_quarantined(connection, spec, plans, delivery_date)


def _count_quarantined(
    connection: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    plans: dict[str, FeedPlan],
    delivery_date: date,
) -> None:
    """A delivery's figures after its rows were judged against the references again."""
    counts = connection.execute(
        "update meta.deliveries set "
        "rows_quarantined = (select count(*) from meta.quarantine "
        "    where feed = $feed and delivery_date = $delivery_date), "
        "rows_loaded = rows_read - (select count(*) from meta.quarantine "
        "    where feed = $feed and delivery_date = $delivery_date) "
        "where feed = $feed and delivery_date = $delivery_date "
        "returning rows_loaded, rows_quarantined",
        {"feed": spec.feed, "delivery_date": delivery_date},
    ).fetchone()
    for delivery in plans.get(spec.feed, FeedPlan(spec.feed, "", [])).deliveries:
        if (
            counts
            and delivery.date == delivery_date.isoformat()
            and delivery.status == DeliveryStatus.LOADED
        ):
            delivery.rows_loaded, delivery.rows_quarantined = int(counts[0]), int(counts[1])


def record_run(home: Home, business_date: date, manifest: dict[str, object]) -> None:
    connection = connect(home)
    try:
        connection.execute(
            "insert or replace into meta.runs values ($business_date, $finished_at, $manifest)",
            {
                "business_date": business_date,
                "finished_at": datetime.now().replace(microsecond=0),
                "manifest": json.dumps(manifest, ensure_ascii=False),
            },
        )
    finally:
        connection.close()


def quarantine_for(home: Home, business_date: date) -> pd.DataFrame:
    """Every row quarantined from the deliveries that the runs of ``business_date`` loaded."""
    connection = connect(home)
    try:
        return sql.query(
            connection, "warehouse/quarantine_for_date", {"business_date": business_date}
        )
    finally:
        connection.close()
