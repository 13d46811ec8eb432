"""The medical claims view read through SQLAlchemy: SQLite here, and the machine's
MariaDB and PostgreSQL through their drivers (in CI these must be reachable)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, require_service

D = date(2026, 3, 10)


def claims_table(metadata: sa.MetaData) -> sa.Table:
    amount = sa.Numeric(12, 2)
    return sa.Table(
        "JSMX",
        metadata,
        sa.Column("JSLSH", sa.String(32), primary_key=True),
        sa.Column("SFZH", sa.String(32)),
        sa.Column("XM", sa.String(32)),
        sa.Column("JSRQ", sa.Date),
        sa.Column("JZLX", sa.String(16)),
        sa.Column("YLJGMC", sa.String(64)),
        sa.Column("ZDMC", sa.String(64)),
        sa.Column("ZFY", amount),
        sa.Column("TCZF", amount),
        sa.Column("DBZF", amount),
        sa.Column("JZZF", amount),
        sa.Column("GRZF", amount),
        sa.Column("CXBZ", sa.String(1)),
        sa.Column("YJSLSH", sa.String(32)),
    )


def settlement(
    serial: str,
    person: int,
    when: date,
    total: str,
    self_paid: str | None = None,
    *,
    reversal_of: str | None = None,
) -> dict:
    total_d = Decimal(total)
    pooled = (total_d * Decimal("0.6")).quantize(Decimal("0.01"))
    paid = total_d - pooled if self_paid is None else Decimal(self_paid)
    return {
        "JSLSH": serial,
        "SFZH": person_id(person),
        "XM": f"参保人{person}",
        "JSRQ": when,
        "JZLX": "住院",
        "YLJGMC": "贵池区人民医院",
        "ZDMC": "肺炎",
        "ZFY": total_d,
        "TCZF": pooled,
        "DBZF": Decimal("0"),
        "JZZF": Decimal("0"),
        "GRZF": paid,
        "CXBZ": "1" if reversal_of else "0",
        "YJSLSH": reversal_of,
    }


class FrontEnd:
    """A front-end server with the JSMX table behind the V_JSMX view (``view=False``: no
    view; ``left_out``: columns the view does not show)."""

    def __init__(self, url: str, *, view: bool = True, left_out: tuple[str, ...] = ()) -> None:
        self.engine = sa.create_engine(url)
        self.table = claims_table(sa.MetaData())
        quote = self.engine.dialect.identifier_preparer.quote
        shown = ", ".join(
            quote(column.name) for column in self.table.c if column.name not in left_out
        )
        with self.engine.begin() as connection:
            connection.execute(sa.text(f"drop view if exists {quote('V_JSMX')}"))
            self.table.drop(connection, checkfirst=True)
            self.table.create(connection)
            if view:
                connection.execute(
                    sa.text(f"create view {quote('V_JSMX')} as select {shown} from {quote('JSMX')}")
                )

    def post(self, *rows: dict) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.insert(self.table), list(rows))


def run(tmp_path, url, business_date):
    settings = load_settings(tmp_path / "home", tmp_path / "inbox")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return run_day(settings, business_date)


def loaded(tmp_path):
    with duckdb.connect(
        str(tmp_path / "home" / "warehouse" / "warehouse.duckdb"), read_only=True
    ) as connection:
        return dict(
            connection.execute(
                "select settlement_id, self_paid_yuan from staging.cur_med_claims order by 1"
            ).fetchall()
        )


def exercise_view(tmp_path, monkeypatch, url):
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)
    server = FrontEnd(url)
    server.post(
        settlement(
            "S001", 1, D - timedelta(days=364), "1000.00"
        ),  # first day of the 365-day window
        settlement("S000", 1, D - timedelta(days=365), "1000.00"),  # one day too old
        settlement("S002", 2, D - timedelta(days=2), "8000.00"),
        settlement("S003", 2, D - timedelta(days=1), "-8000.00", reversal_of="S002"),
        settlement("S004", 3, D, "500.00", self_paid="300.00"),  # amounts do not add up
    )

    first = run(tmp_path, url, D)

    info = first.manifest["feeds"]["med_claims"]
    assert info["status"] == "loaded"
    assert info["deliveries"][0]["file"] == f"V_JSMX {D - timedelta(days=364)}..{D}"
    assert (info["rows_read"], info["rows_loaded"], info["rows_quarantined"]) == (4, 3, 1)
    assert loaded(tmp_path) == {
        "S001": Decimal("400.00"),
        "S002": Decimal("3200.00"),
        "S003": Decimal("-3200.00"),
    }
    quarantine = (first.outbox / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert "med_claims,V_JSMX" in quarantine
    assert ",S004,个人自付（GRZF）" in quarantine

    # Rerun of the same date: the same window, the same rows: unchanged.
    again = run(tmp_path, url, D)
    assert again.manifest["feeds"]["med_claims"]["status"] == "unchanged"

    # Next day: a settlement posted late, dated three days back, and the corrected S004.
    with server.engine.begin() as connection:
        connection.execute(sa.delete(server.table).where(server.table.c.JSLSH == "S004"))
    server.post(
        settlement("S005", 4, D - timedelta(days=3), "200.00"), settlement("S004", 3, D, "500.00")
    )
    second = run(tmp_path, url, D + timedelta(days=1))

    info = second.manifest["feeds"]["med_claims"]
    assert (
        info["deliveries"][0]["file"] == f"V_JSMX {D - timedelta(days=7)}..{D + timedelta(days=1)}"
    )
    assert info["rows_quarantined"] == 0
    assert set(loaded(tmp_path)) == {"S001", "S002", "S003", "S004", "S005"}
    assert "S004" not in (second.outbox / "quarantine.csv").read_text(encoding="utf-8-sig")


def test_claims_view_on_sqlite(tmp_path, monkeypatch):
    exercise_view(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'frontend.sqlite'}")


@pytest.mark.services
def test_claims_view_on_mariadb(tmp_path, monkeypatch):
    url = require_service(
        "PIPELINE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"
    )
    exercise_view(tmp_path, monkeypatch, url)


@pytest.mark.services
def test_claims_view_on_postgresql(tmp_path, monkeypatch):
    url = require_service(
        "PIPELINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    exercise_view(tmp_path, monkeypatch, url)


def test_unreachable_database_is_reported_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PIPELINE_MED_CLAIMS_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    )
    result = run(tmp_path, None, D)
    info = result.manifest["feeds"]["med_claims"]
    assert info["status"] == "missing"
    assert "无法连接数据库" in info["reason"]
    assert "secret" not in info["reason"]


def test_unconfigured_database_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
    result = run(tmp_path, None, D)
    assert "未配置数据库连接 med_claims_url" in result.manifest["feeds"]["med_claims"]["reason"]


def reads_of_the_view(monkeypatch) -> list[str]:
    """Every query the pipeline sends to the claims view, as it sends them."""
    sent: list[str] = []
    original = sa.engine.Connection.execute

    def execute(connection, statement, *args, **kwargs):
        text = str(statement)
        if text.lstrip().upper().startswith("SELECT") and "V_JSMX" in text:
            sent.append(text)
        return original(connection, statement, *args, **kwargs)

    monkeypatch.setattr(sa.engine.Connection, "execute", execute)
    return sent


def test_a_window_larger_than_a_chunk_stages_what_one_chunk_would(tmp_path, monkeypatch):
    """A year of a province's claims is validated a chunk at a time: the same rows loaded,
    the same rows quarantined with the same reasons, as when it fits in one chunk."""
    from pipeline.feeds import sql_source

    rows = [
        settlement(f"S{serial:03d}", serial % 7, D - timedelta(days=serial), "1000.00")
        for serial in range(40)
    ]
    rows[13] = settlement("S013", 3, D - timedelta(days=13), "500.00", self_paid="300.00")
    results = {}
    for name, chunk in (("whole", 1000), ("chunked", 6)):
        folder = tmp_path / name
        folder.mkdir()
        url = f"sqlite:///{folder / 'frontend.sqlite'}"
        monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)
        FrontEnd(url).post(*rows)
        monkeypatch.setattr(sql_source, "CHUNK_ROWS", chunk)
        read = reads_of_the_view(monkeypatch)
        result = run(folder, url, D)
        info = result.manifest["feeds"]["med_claims"]
        for delivery in info["deliveries"]:
            del delivery["sha256"]  # a digest of the chunks as read
        results[name] = (
            info,
            (result.outbox / "quarantine.csv").read_bytes(),
            loaded(folder),
            len(read),
        )
    whole, chunked = results["whole"], results["chunked"]
    assert whole[0]["rows_read"] == 40
    assert whole[0]["rows_quarantined"] == 1
    assert chunked[:3] == whole[:3]
    # A morning's first reading reads the window once, staging it as it comes.
    assert (whole[3], chunked[3]) == (1, 1)
    # The same date again: read once to see that nothing changed, nothing staged again.
    again = run(tmp_path / "chunked", url, D)
    assert again.manifest["feeds"]["med_claims"]["deliveries"][0]["status"] == "unchanged"
    assert len(read) == 2
    # The view changed meanwhile (now one claim, one chunk): read once to see it, and
    # staged from that same reading.
    FrontEnd(url).post(settlement("S100", 1, D, "80.00"))
    changed = run(tmp_path / "chunked", url, D)
    assert changed.manifest["feeds"]["med_claims"]["deliveries"][0]["status"] == "loaded"
    assert len(read) == 3


SERVERS = {
    "mariadb": (
        "PIPELINE_TEST_MARIADB_URL",
        "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
    ),
    "postgresql": (
        "PIPELINE_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
}
BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("mariadb", marks=pytest.mark.services),
    pytest.param("postgresql", marks=pytest.mark.services),
]


def url_of(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'frontend.sqlite'}"
    return require_service(*SERVERS[backend])


class ViewReads:
    """Every query the pipeline sends to the claims view: the driver's cursor, and how many
    rows the driver has taken from the server for the last one."""

    def __init__(self) -> None:
        self.cursors: list = []
        self.decoded = 0  # rows PyMySQL decoded from the wire since the last query was sent

    @staticmethod
    def reads_view(statement: str) -> bool:
        return "V_JSMX" in statement and statement.lstrip().upper().startswith("SELECT")

    def before(self, connection, cursor, statement, parameters, context, executemany):
        if self.reads_view(statement):
            self.decoded = 0

    def after(self, connection, cursor, statement, parameters, context, executemany):
        if self.reads_view(statement):
            self.cursors.append(cursor)

    def received(self, backend: str) -> int | None:
        if backend == "postgresql":
            # What the server last sent: the whole window to a client-side cursor, one
            # FETCH to a named one.
            return self.cursors[-1].pgresult.ntuples
        if backend == "mariadb":
            return self.decoded
        return None  # sqlite3 steps through the result as it is fetched


@pytest.fixture
def view_reads(monkeypatch):
    import pymysql.connections

    reads = ViewReads()
    decode = pymysql.connections.MySQLResult._read_row_from_packet

    def counted(result, packet):
        reads.decoded += 1
        return decode(result, packet)

    monkeypatch.setattr(pymysql.connections.MySQLResult, "_read_row_from_packet", counted)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", reads.before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", reads.after)
    yield reads
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", reads.before)
    sa.event.remove(sa.engine.Engine, "after_cursor_execute", reads.after)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_view_is_read_from_the_server_a_chunk_at_a_time(
    backend, tmp_path, registry, view_reads
):
    """A year of a province's claims never sits in memory whole: the first chunk comes
    before the driver has taken the rest from the server (a named cursor on PostgreSQL,
    an unbuffered one on MariaDB), every chunk holds at most the chunk size, and the
    chunk size changes no row."""
    from pipeline.feeds import sql_source

    url = url_of(backend, tmp_path)
    FrontEnd(url).post(
        *(
            settlement(f"S{serial:05d}", serial % 400, D - timedelta(days=serial % 300), "10.00")
            for serial in range(2500)
        )
    )
    spec = registry["med_claims"]
    window = sql_source.window_for(spec, D, None)

    chunks = sql_source.read_window_chunks(spec, url, window, chunk_rows=400)
    first = next(chunks)
    (cursor,) = view_reads.cursors
    held = view_reads.received(backend)
    frames = [first, *chunks]

    assert [len(frame) for frame in frames] == [400] * 6 + [100]
    if backend == "postgresql":
        import psycopg

        assert isinstance(cursor, psycopg.ServerCursor)
        assert held <= 400
    if backend == "mariadb":
        import pymysql.cursors

        assert isinstance(cursor, pymysql.cursors.SSCursor)
        assert held <= 400
    whole = list(sql_source.read_window_chunks(spec, url, window, chunk_rows=10_000))
    assert len(whole) == 1

    def by_serial(frames):
        return pd.concat(frames).sort_values("JSLSH").reset_index(drop=True)

    pd.testing.assert_frame_equal(by_serial(frames), by_serial(whole))
    assert by_serial(whole)["JSLSH"].tolist() == [f"S{serial:05d}" for serial in range(2500)]


def with_password(url: str) -> str:
    """The URL with a password, where the server lets any in (PostgreSQL's trust)."""
    parsed = sa.make_url(url)
    if parsed.password is None and parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(password="pw-never-shown")
    return parsed.render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_without_the_view_says_so(backend, tmp_path, monkeypatch):
    url = with_password(url_of(backend, tmp_path))
    FrontEnd(url, view=False)
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)

    info = run(tmp_path, url, D).manifest["feeds"]["med_claims"]

    assert info["status"] == "missing"
    assert "中没有视图 V_JSMX" in info["reason"]
    assert "无法连接" not in info["reason"]
    password = sa.make_url(url).password
    assert password is None or password not in info["reason"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_view_without_a_column_names_the_column(backend, tmp_path, monkeypatch):
    url = with_password(url_of(backend, tmp_path))
    FrontEnd(url, left_out=("GRZF",)).post(settlement("S001", 1, D, "100.00"))
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)

    info = run(tmp_path, url, D).manifest["feeds"]["med_claims"]

    assert info["status"] == "rejected"
    assert info["reason"].endswith("的视图 V_JSMX 缺少列：GRZF")
    assert "无法连接" not in info["reason"]
    password = sa.make_url(url).password
    assert password is None or password not in info["reason"]
