"""The medical claims view on the front-end server, read through SQLAlchemy.

The view name and columns come from the registry; they are quoted by
SQLAlchemy's constructs and the window dates are bound parameters. The rows come
through a server-side cursor, a chunk at a time, and a view that is missing or short
of a column is said to be so (``ViewMismatch``), apart from a server that cannot be
reached (``SourceUnavailable``).
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pipeline.feeds.registry import FeedSpec


class SourceUnavailable(ConnectionError):
    """The database could not be reached: a transient fault, worth a retry (a scheduler
    retries ``ConnectionError`` and nothing that bad data raises)."""


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def describe(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def window_for(spec: FeedSpec, business_date: date, last_pulled: date | None) -> Window:
    """Rows to read for ``business_date``: from ``lookback_days`` before the last date
    already loaded, or the ``first_window_days`` up to it on the first run."""
    assert spec.sql is not None
    if last_pulled is None:
        return Window(business_date - timedelta(days=spec.sql.first_window_days - 1), business_date)
    return Window(last_pulled - timedelta(days=spec.sql.lookback_days), business_date)


# Airflow connection types and the SQLAlchemy drivers this project installs for them.
DRIVERS = {
    "mysql": "mysql+pymysql",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "sqlite": "sqlite",
}


def url_from_connection(
    conn_type: str,
    *,
    host: str | None = None,
    login: str | None = None,
    password: str | None = None,
    port: int | None = None,
    schema: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A SQLAlchemy URL from the fields of a scheduler's connection (Airflow's, say).

    ``extra["sqlalchemy_url"]`` wins when given; a SQLite connection keeps its file in ``host``.
    """
    if extra and extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    driver = DRIVERS.get(conn_type)
    if driver is None:
        raise SourceUnavailable(
            f"不支持的连接类型 {conn_type!r}（可用：{'、'.join(sorted(DRIVERS))}）"
        )
    if driver == "sqlite":
        return f"sqlite:///{host}"
    url = sa.URL.create(
        driver, username=login, password=password, host=host, port=port, database=schema
    )
    return url.render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL fit for a message: no password."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(无法解析的连接串)"


# Rows validated and staged at a time: a province's year of claims never sits in memory
# whole (a chunk of this size takes about 1 GB through validation).
CHUNK_ROWS = 250_000


def _window_query(spec: FeedSpec) -> Any:
    assert spec.sql is not None
    names = [column.name for column in spec.columns]
    view = sa.table(spec.sql.view, *(sa.column(name) for name in names))
    date_column: sa.ColumnClause[Any] = sa.column(spec.sql.date_column)
    return sa.select(*(view.c[name] for name in names)).where(
        date_column.between(
            sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)
        )
    )  # in the view's own order: sorting a year of claims cost as much as sending them


def read_window_chunks(
    spec: FeedSpec,
    url: str,
    window: Window,
    chunk_rows: int | None = None,
    digest: Digest | None = None,
) -> Iterator[pd.DataFrame]:
    """The view's rows in the window, columns as the view names them, values as they come,
    in frames of at most ``chunk_rows`` rows (a key repeated in two frames is found by
    the validation all the same). Each frame's rows go into ``digest`` first, if given."""
    names = [column.name for column in spec.columns]
    for rows in _row_batches(spec, url, window, chunk_rows or CHUNK_ROWS, digest):
        frame = pd.DataFrame(rows, columns=names, dtype="object")
        del rows  # the frame holds the values: one chunk in memory, not two
        yield frame


def _row_batches(
    spec: FeedSpec, url: str, window: Window, size: int, digest: Digest | None
) -> Iterator[list[Any]]:
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise SourceUnavailable(
            f"数据库连接串不可用：{redact(url)}（{type(error).__name__}）"
        ) from error
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as error:
            raise SourceUnavailable(
                f"无法连接数据库 {redact(url)}：{type(error.orig).__name__}"
            ) from error
        with connection:
            # A server-side cursor where the driver has one (a named cursor on psycopg,
            # SSCursor on PyMySQL): their plain cursors take the whole window into memory
            # before the first row (1.3 GB for a million claims on PyMySQL).
            streaming = connection.execution_options(yield_per=size)
            try:
                result = streaming.execute(
                    _window_query(spec), {"start": window.start, "end": window.end}
                )
            except sa.exc.DBAPIError as error:
                raise _query_failed(connection, spec, url, error) from error
            try:
                for partition in result.partitions(size):
                    # The driver's own tuples (a Row's whole slice is its tuple, not a
                    # copy): Row objects cost pandas ten times as much (10 s instead of
                    # 0.5 s for half a million claims), and the digest stays what it was.
                    rows = [row[:] for row in partition]
                    del partition
                    if digest is not None:
                        digest.update(rows)
                    yield rows
                    del rows  # before the next chunk is fetched
            except sa.exc.OperationalError as error:
                raise SourceUnavailable(
                    f"读取数据库 {redact(url)} 的视图 {_view(spec)} 时中断："
                    f"{type(error.orig).__name__}"
                ) from error
    finally:
        engine.dispose()


class ViewMismatch(Exception):
    """The database answered, but its view is not what the contract says: missing, short
    of columns, or refused. Not a fault a retry mends; ``missing_columns`` names the
    contract's columns the view lacks (none when the view itself is the problem)."""

    def __init__(self, message: str, missing_columns: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing_columns = tuple(missing_columns)


def _view(spec: FeedSpec) -> str:
    assert spec.sql is not None
    return spec.sql.view


def _query_failed(
    connection: sa.Connection, spec: FeedSpec, url: str, error: sa.exc.DBAPIError
) -> Exception:
    """What a refused query of the view means, said plainly: the view or some of its
    columns missing (looked up in the database's catalogue), else the fault as it came."""
    view = _view(spec)
    if error.connection_invalidated:
        return SourceUnavailable(
            f"读取数据库 {redact(url)} 的视图 {view} 时连接中断：{type(error.orig).__name__}"
        )
    try:
        connection.rollback()  # PostgreSQL answers nothing more in a failed transaction
        found = [column["name"] for column in sa.inspect(connection).get_columns(view)]
    except sa.exc.NoSuchTableError:
        return ViewMismatch(f"数据库 {redact(url)} 中没有视图 {view}（或当前用户无权查看）")
    except sa.exc.DBAPIError:
        found = None
    if found is not None:
        # PostgreSQL keeps the case of quoted names; MariaDB and SQLite match any case.
        exact = connection.dialect.name == "postgresql"
        known = set(found) if exact else {name.casefold() for name in found}
        missing = [
            column.name
            for column in spec.columns
            if (column.name if exact else column.name.casefold()) not in known
        ]
        if missing:
            return ViewMismatch(
                f"数据库 {redact(url)} 的视图 {view} 缺少列：{'、'.join(missing)}", missing
            )
    if isinstance(error, sa.exc.OperationalError):
        return SourceUnavailable(
            f"查询数据库 {redact(url)} 的视图 {view} 失败：{type(error.orig).__name__}"
        )
    return ViewMismatch(
        f"数据库 {redact(url)} 拒绝了对视图 {view} 的查询：{type(error.orig).__name__}"
    )


class Digest:
    """A content digest of rows read, so that the same window read twice is ``unchanged``:
    chunk by chunk, each chunk's rows as the driver gave them, serialised in one call in C
    (each value with its type): by ``marshal`` when they are plain Python values (strings,
    numbers, None), else by their ``repr`` (a database's Decimal and date values)."""

    def __init__(self, names: Sequence[str]) -> None:
        self._hash = hashlib.sha256("\x1e".join(names).encode("utf-8"))
        self._known: str | None = None

    @classmethod
    def known(cls, hexdigest: str) -> Digest:
        """The digest of rows already read (and kept)."""
        digest = cls([])
        digest._known = hexdigest
        return digest

    def update(self, rows: list[Any]) -> None:
        try:
            # Version 2: without back-references, so equal rows always give equal bytes.
            data = marshal.dumps(rows, 2)
        except ValueError:
            data = repr(rows).encode("utf-8", "backslashreplace")
        self._hash.update(data)
        self._hash.update(b"\x1d")

    def hexdigest(self) -> str:
        return self._known or self._hash.hexdigest()


def digest_window(
    spec: FeedSpec, url: str, window: Window
) -> tuple[str, list[pd.DataFrame] | None]:
    """The window's digest, reading it once; its frame too when it came in one chunk (a
    larger window is read again, chunk by chunk, if it must be staged)."""
    names = [column.name for column in spec.columns]
    digest = Digest(names)
    batches = _row_batches(spec, url, window, CHUNK_ROWS, digest)
    first = next(batches, None)
    if next(batches, None) is not None:
        for _ in batches:  # read on for the digest; nothing kept
            pass
        return digest.hexdigest(), None
    frames = [] if first is None else [pd.DataFrame(first, columns=names, dtype="object")]
    return digest.hexdigest(), frames
