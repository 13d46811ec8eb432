"""The review tables for the bureau's BI tool: the warehouse's rows as of each date, upserted
into PostgreSQL or the default SQLite file, and publishing a date again changes nothing."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fpwarn_demo import generate_district
from pipeline.feeds.inbox import delivery_path
from pipeline.feeds.registry import load_registry
from pipeline.review.feed_health import feed_health
from pipeline.review.publish import (
    ALERT_EVENTS,
    ALERTS,
    FEED_HEALTH,
    REGIONAL_ALERTS,
    ReviewPublishError,
    metadata,
    publish_review_tables,
    review_url,
)
from pipeline.settings import Settings, load_settings
from pipeline.steps import run_day
from tests.conftest import home_for, require_service

D1 = date(2026, 3, 1)
D2 = D1 + timedelta(days=1)
# A feed that delivers well on day 1 and whose day-2 delivery arrives damaged.
SPOILED_FEED = "police_hukou"

Contents = dict[str, list[tuple[Any, ...]]]


@dataclass
class District:
    settings: Settings
    manifests: dict[date, dict[str, Any]]

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.home.warehouse), read_only=True)


@dataclass
class History:
    """What the review database held after each publication of the sequence."""

    url: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    contents: dict[str, Contents] = field(default_factory=dict)
    # PostgreSQL only: each row's version (xmin), which any write of the row changes.
    versions: dict[str, Contents] = field(default_factory=dict)


# Day 1, day 2, day 2 again, then day 1 again (a backfill after the later date).
SEQUENCE = (("d1", D1), ("d2", D2), ("d2 again", D2), ("d1 after d2", D1))


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> District:
    root = tmp_path_factory.mktemp("review")
    summary = generate_district(root / "inbox", households=300, start=D1, end=D2, seed=7)
    spec = load_registry()[SPOILED_FEED]
    spoiled = delivery_path(summary.inbox, spec, D2)
    with spoiled.open("ab") as handle:  # its marker's digest no longer matches: rejected
        handle.write(b"\r\n")
    settings = home_for(root, summary.claims_url, summary.inbox)
    with pytest.MonkeyPatch.context() as patch:
        # Whatever the daily job itself publishes stays in this HOME.
        patch.delenv("PIPELINE_REVIEW_DB_URL", raising=False)
        manifests = {day: run_day(settings, day).manifest for day in (D1, D2)}
    return District(settings, manifests)


def _sorted_by_key(rows: list[tuple[Any, ...]], table: sa.Table) -> list[tuple[Any, ...]]:
    keys = len(table.primary_key.columns)  # the key columns come first in every table
    return sorted(rows, key=lambda row: row[:keys])


def _contents(url: str) -> Contents:
    """Every review table, rows sorted by primary key."""
    engine = sa.create_engine(url)
    contents = {}
    try:
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                rows = [tuple(row) for row in connection.execute(sa.select(table))]
                contents[table.name] = _sorted_by_key(rows, table)
    finally:
        engine.dispose()
    return contents


def _publish_sequence(district: District, url: str) -> History:
    history = History(url)
    with district.warehouse() as connection:
        for step, day in SEQUENCE:
            history.counts[step] = publish_review_tables(
                connection, day, district.manifests[day], url
            )
            history.contents[step] = _contents(url)
            if url.startswith("postgresql"):
                history.versions[step] = _versions(url)
    return history


def _versions(url: str) -> Contents:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    tuple(row)
                    for row in connection.execute(
                        sa.select(sa.column("xmin").cast(sa.Text), *table.primary_key.columns)
                    )
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    server = require_service(
        "FPWARN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    database = f"fpwarn_review_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create database "{database}"'))
    try:
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop database if exists "{database}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="module")
def postgres(district: District, postgres_url: str) -> History:
    return _publish_sequence(district, postgres_url)


@pytest.fixture(scope="module")
def default_sqlite(district: District) -> History:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PIPELINE_REVIEW_DB_URL", raising=False)
        url = review_url(district.settings)
    # The daily job may have published into the same file: the sequence starts from none.
    (district.settings.home.root / "review" / "review.sqlite").unlink(missing_ok=True)
    return _publish_sequence(district, url)


def _warehouse(district: District, sql: str, day: date, table: sa.Table) -> list[tuple[Any, ...]]:
    """The warehouse's rows in the table's column order, sorted by its primary key."""
    with district.warehouse() as connection:
        frame = connection.execute(sql, {"day": day}).df()
    rows = [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame[list(table.columns.keys())].itertuples(index=False, name=None)
    ]
    normalised = [
        tuple(value.date() if isinstance(value, pd.Timestamp) else value for value in row)
        for row in rows
    ]
    return _sorted_by_key(normalised, table)


def _snapshot(district: District, day: date) -> list[tuple[Any, ...]]:
    return _warehouse(
        district, "select * from alerts.snapshots where as_of_date = $day", day, ALERTS
    )


def _events(district: District, day: date) -> list[tuple[Any, ...]]:
    return _warehouse(
        district, "select * from alerts.events where event_date <= $day", day, ALERT_EVENTS
    )


def _regional(district: District, day: date) -> list[tuple[Any, ...]]:
    return _warehouse(
        district,
        "select * from alerts.regional_snapshots where as_of_date = $day",
        day,
        REGIONAL_ALERTS,
    )


def _by_id(rows: list[tuple[Any, ...]], table: sa.Table) -> dict[str, dict[str, Any]]:
    names = list(table.columns.keys())
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def _check_day_one(history: History, district: District) -> None:
    tables = history.contents["d1"]
    assert tables[ALERTS.name] == _snapshot(district, D1)
    assert len(tables[ALERTS.name]) > 0
    alerts = _by_id(tables[ALERTS.name], ALERTS)
    open_alerts = pd.read_csv(
        district.settings.home.outbox(D1) / "alerts.csv", encoding="utf-8-sig", dtype=str
    )
    assert len(open_alerts) > 0
    for alert in open_alerts.itertuples():
        assert alerts[alert.alert_id]["grade"] == alert.grade
        assert alerts[alert.alert_id]["status"] == alert.status
    assert tables[ALERT_EVENTS.name] == _events(district, D1)
    assert tables[REGIONAL_ALERTS.name] == _regional(district, D1)
    health = tables[FEED_HEALTH.name]
    assert {row[1] for row in health} == set(district.manifests[D1]["feeds"])
    assert {row[0] for row in health} == {D1}
    assert history.counts["d1"] == {name: len(rows) for name, rows in tables.items()}


def _check_day_two(history: History, district: District) -> None:
    before, after = history.contents["d1"], history.contents["d2"]
    assert after[ALERTS.name] == _snapshot(district, D2)
    old, new = _by_id(before[ALERTS.name], ALERTS), _by_id(after[ALERTS.name], ALERTS)
    changed = [
        alert_id
        for alert_id in old
        if (old[alert_id]["status"], old[alert_id]["last_updated"])
        != (new[alert_id]["status"], new[alert_id]["last_updated"])
        or old[alert_id]["as_of_date"] != new[alert_id]["as_of_date"]
    ]
    assert changed == list(old), "every day-1 alert is now as of day 2"
    assert any(old[alert_id]["status"] != new[alert_id]["status"] for alert_id in old)
    assert all(row["as_of_date"] == D2 for row in new.values())
    assert after[ALERT_EVENTS.name] == _events(district, D2)
    assert set(before[ALERT_EVENTS.name]) < set(after[ALERT_EVENTS.name])
    assert after[REGIONAL_ALERTS.name] == _regional(district, D2)
    assert {row[0] for row in after[FEED_HEALTH.name]} == {D1, D2}
    assert set(before[FEED_HEALTH.name]) < set(after[FEED_HEALTH.name])


def _check_idempotent(history: History) -> None:
    assert history.contents["d2 again"] == history.contents["d2"]
    assert history.counts["d2 again"] == history.counts["d2"]
    # A backfill of an earlier date keeps the newer state of the alerts.
    assert history.contents["d1 after d2"] == history.contents["d2"]


@pytest.mark.services
def test_day_one_in_postgres_is_the_warehouse_of_day_one(
    postgres: History, district: District
) -> None:
    _check_day_one(postgres, district)


@pytest.mark.services
def test_day_two_in_postgres_updates_the_alerts_and_adds_events(
    postgres: History, district: District
) -> None:
    _check_day_two(postgres, district)


@pytest.mark.services
def test_publishing_a_date_again_changes_nothing_in_postgres(postgres: History) -> None:
    _check_idempotent(postgres)
    # Not even a rewrite of equal values: no row has a new version.
    assert postgres.versions["d2 again"] == postgres.versions["d2"]
    assert postgres.versions["d1 after d2"] == postgres.versions["d2"]


def test_rows_of_the_date_the_warehouse_no_longer_holds_are_removed(
    district: District, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    with district.warehouse() as connection:
        publish_review_tables(connection, D2, district.manifests[D2], url)
    published = _contents(url)
    engine = sa.create_engine(url)
    # What an earlier run of the dates left, before a rerun withdrew it; and a later date's.
    gone = {"alert_id": "gone", "event_date": D2, "sequence": 1, "event": "raised"}
    later = {"alert_id": "later", "event_date": D2 + timedelta(days=1), "sequence": 1}
    with engine.begin() as target:
        for alert_id, day in (("gone", D2), ("later", D2 + timedelta(days=1))):
            row = dict(_by_id(published[ALERTS.name], ALERTS)[published[ALERTS.name][0][0]])
            target.execute(ALERTS.insert(), {**row, "alert_id": alert_id, "as_of_date": day})
        for event in (gone, {**later, "event": "raised"}):
            target.execute(ALERT_EVENTS.insert(), {"grade": "red", "cause": "…", **event})
    engine.dispose()

    with district.warehouse() as connection:
        publish_review_tables(connection, D2, district.manifests[D2], url)

    after = _contents(url)
    assert {row[0] for row in after[ALERTS.name]} == {row[0] for row in published[ALERTS.name]} | {
        "later"
    }
    assert [row for row in after[ALERT_EVENTS.name] if row[0] in ("gone", "later")] == [
        ("later", later["event_date"], 1, "raised", "red", "…")
    ]


def test_without_a_review_database_an_sqlite_file_in_home_is_used(
    default_sqlite: History, district: District
) -> None:
    path = district.settings.home.root / "review" / "review.sqlite"
    assert default_sqlite.url == f"sqlite:///{path}"
    assert path.is_file()
    _check_day_one(default_sqlite, district)
    _check_day_two(default_sqlite, district)
    _check_idempotent(default_sqlite)


@pytest.mark.services
def test_sqlite_holds_the_same_rows_as_postgres(postgres: History, default_sqlite: History) -> None:
    assert default_sqlite.contents == postgres.contents
    assert default_sqlite.counts == postgres.counts


@pytest.mark.services
def test_a_password_in_the_url_is_never_logged(
    district: District, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cret-" + uuid.uuid4().hex[:6]
    url = make_url(postgres_url)
    if url.password:
        secret = str(url.password)
    else:
        url = url.set(password=secret)
    caplog.set_level(logging.DEBUG)
    with district.warehouse() as connection:
        try:
            publish_review_tables(
                connection, D2, district.manifests[D2], url.render_as_string(hide_password=False)
            )
        except sa.exc.OperationalError:
            pytest.skip("the test server does not accept a password it does not check")
    assert "published to postgresql+psycopg://" in caplog.text
    assert secret not in caplog.text


def test_another_database_is_refused_without_showing_its_password(district: District) -> None:
    with district.warehouse() as connection, pytest.raises(ReviewPublishError) as refused:
        publish_review_tables(
            connection, D1, district.manifests[D1], "mysql+pymysql://bi:s3cret@bi-host/review"
        )
    assert "PostgreSQL" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    assert "***" in str(refused.value)


def test_review_url_from_the_environment_then_the_config_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_REVIEW_DB_URL", raising=False)
    home = tmp_path / "home"
    settings = load_settings(home, tmp_path / "inbox")
    assert review_url(settings) == f"sqlite:///{settings.home.root / 'review' / 'review.sqlite'}"
    assert (settings.home.root / "review").is_dir()

    (home / "config.yaml").write_text(
        "review_db_url: postgresql+psycopg://bi@db/review\n", encoding="utf-8"
    )
    assert (
        review_url(load_settings(home, tmp_path / "inbox")) == "postgresql+psycopg://bi@db/review"
    )

    monkeypatch.setenv("PIPELINE_REVIEW_DB_URL", "postgresql+psycopg://bi@other/review")
    assert (
        review_url(load_settings(home, tmp_path / "inbox"))
        == "postgresql+psycopg://bi@other/review"
    )


# feed_health: no review database needed.


def _health(district: District, day: date) -> dict[str, dict[str, Any]]:
    with district.warehouse() as connection:
        frame = feed_health(connection, day, district.manifests[day])
    assert list(frame["feed"]) == list(district.manifests[day]["feeds"])
    return {str(row["feed"]): row for row in frame.to_dict("records")}


def _ledger(district: District, day: date) -> pd.DataFrame:
    with district.warehouse() as connection:
        return connection.execute(
            "select * from meta.deliveries where delivery_date <= $day and loaded_for_date <= $day",
            {"day": day},
        ).df()


def test_a_feed_that_delivered_on_the_day_is_zero_days_old(district: District) -> None:
    health = _health(district, D2)
    ledger = _ledger(district, D2)
    delivered = ledger[(ledger["delivery_date"].dt.date == D2) & (ledger["rows_loaded"] > 0)]
    assert len(delivered) > 0
    for feed in delivered["feed"]:
        row = health[feed]
        assert (row["delivered"], row["status"]) == (1, "loaded"), feed
        assert (row["last_good_delivery"], row["days_since_last_good"]) == (D2, 0), feed


def test_a_rejected_delivery_counts_the_days_since_the_last_good_one(district: District) -> None:
    row = _health(district, D2)[SPOILED_FEED]
    assert row["status"] == "rejected"
    assert "SHA-256" in row["reason"]
    assert row["delivered"] == 0
    assert (row["last_good_delivery"], row["days_since_last_good"]) == (D1, 1)
    # A snapshot feed with no delivery on day 2 keeps the day-1 one in force.
    households = _health(district, D2)["households"]
    assert (households["status"], households["delivered"]) == ("unchanged", 0)
    assert (households["last_good_delivery"], households["days_since_last_good"]) == (D1, 1)


def test_a_feed_never_delivered_has_no_last_good_delivery(district: District) -> None:
    health = _health(district, D2)
    never = set(health) - set(_ledger(district, D2)["feed"])
    assert never, "the demo district has a feed rejected on both days"
    for feed in never:
        row = health[feed]
        assert row["status"] in {"rejected", "incomplete", "missing"}, feed
        assert row["delivered"] == 0
        assert row["last_good_delivery"] is None
        assert pd.isna(row["days_since_last_good"])


def test_an_earlier_date_does_not_see_later_deliveries(district: District) -> None:
    row = _health(district, D1)[SPOILED_FEED]
    assert (row["status"], row["delivered"]) == ("loaded", 1)
    assert (row["last_good_delivery"], row["days_since_last_good"]) == (D1, 0)


def test_counts_come_from_the_manifest_and_the_owner_from_the_registry(
    district: District,
) -> None:
    registry = load_registry()
    for feed, row in _health(district, D1).items():
        entry = district.manifests[D1]["feeds"][feed]
        assert row["business_date"] == D1
        assert (row["title"], row["owner"]) == (registry[feed].title, registry[feed].owner)
        for count in ("rows_read", "rows_loaded", "rows_quarantined"):
            assert row[count] == entry[count], (feed, count)


def _kind(reason: str) -> str:
    """A reason without the value it quotes, as the feed health groups them."""
    reason = re.sub(
        r"(取值不在约定范围|无法解析为日期|无法解析为金额|不是整数|应为整数)：.*$", r"\1", reason
    )
    return re.sub(r"^与本批第[^行]*行重复", "与本批其他行重复", reason)


@pytest.mark.parametrize("day", [D1, D2])
def test_top_quarantine_reasons_are_the_most_frequent_with_their_counts(
    district: District, day: date
) -> None:
    with district.warehouse() as connection:
        quarantine = connection.execute(
            "select feed, reason from meta.quarantine where loaded_for_date = $day", {"day": day}
        ).df()
    health = _health(district, day)
    listed = 0
    for feed, row in health.items():
        reasons = quarantine[quarantine["feed"] == feed]["reason"].map(_kind).value_counts()
        text = row["top_quarantine_reasons"]
        if reasons.empty:
            assert pd.isna(text), feed
            continue
        entries = [entry.rsplit(" ", 1) for entry in text.split("；")]
        assert 1 <= len(entries) <= 3
        counts = [int(count) for _, count in entries]
        assert counts == sorted(counts, reverse=True)
        assert counts[0] == reasons.max()
        for reason, count in entries:
            assert reasons[reason] == int(count), (feed, reason)
            assert any(_kind(raw) == reason for raw in quarantine["reason"]), reason
        listed += 1
    assert listed > 0


def test_a_manifest_of_another_day_is_refused(district: District) -> None:
    with district.warehouse() as connection, pytest.raises(ValueError, match="业务日期"):
        feed_health(connection, D1, district.manifests[D2])
