"""Inputs that once lost rows or stopped a day: each keeps working as docs/feeds.md says."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipeline.steps import run_day
from tests.conftest import household_row, member_row, person_id

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def count(settings, sql):
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


VEHICLE = ["皖R12345", person_id(40), "车主甲", "小型轿车", "非营运", "2020-05-01", "正常"]


def test_an_empty_snapshot_does_not_wipe_the_state_in_force(deliver, settings):
    deliver("police_vehicles", D1, [VEHICLE])
    run_day(settings, D1)
    deliver("police_vehicles", D2, [])

    run_day(settings, D2)

    assert count(settings, "select count(*) from staging.cur_police_vehicles") == 1


def test_a_wholly_quarantined_snapshot_does_not_wipe_the_state_in_force(deliver, settings):
    deliver("police_vehicles", D1, [VEHICLE])
    run_day(settings, D1)
    deliver("police_vehicles", D2, [[*VEHICLE[:1], "3.41702198E+17", *VEHICLE[2:]]])

    result = run_day(settings, D2)

    assert result.manifest["feeds"]["police_vehicles"]["rows_quarantined"] == 1
    assert count(settings, "select count(*) from staging.cur_police_vehicles") == 1


def test_members_come_back_when_their_household_arrives_late(deliver, settings):
    deliver("households", D1, [household_row(1)], marker=False)  # the registry's marker is late
    deliver("members", D1, [member_row(1, person_id(1)), member_row(1, person_id(2))])
    first = run_day(settings, D1)
    assert first.manifest["feeds"]["members"]["rows_quarantined"] == 2
    assert count(settings, "select count(*) from staging.cur_members") == 0

    deliver("households", D1, [household_row(1)])  # the marker arrives
    run_day(settings, D2)

    assert count(settings, "select count(*) from staging.cur_members") == 2
    assert count(settings, "select rows_loaded from meta.deliveries where feed = 'members'") == 2


def test_members_leave_when_their_household_leaves_the_registry(deliver, settings):
    deliver("households", D1, [household_row(1), household_row(2)])
    deliver("members", D1, [member_row(1, person_id(1)), member_row(2, person_id(2))])
    run_day(settings, D1)
    deliver("households", D2, [household_row(1)])

    result = run_day(settings, D2)

    assert count(settings, "select count(*) from staging.cur_members") == 1
    assert "户编号不在农户信息快照中" in (result.outbox / "quarantine.csv").read_text(
        encoding="utf-8-sig"
    )


def test_an_id_number_pasted_into_an_amount_is_quarantined_not_fatal(deliver, settings):
    deliver(
        "civil_assistance",
        D1,
        [
            [person_id(1), "甲", "低保", "新增", "20260301", "341702198005170011", ""],
            [person_id(2), "乙", "低保", "新增", "20260301", "600", ""],
        ],
    )
    result = run_day(settings, D1)
    info = result.manifest["feeds"]["civil_assistance"]
    assert (info["rows_loaded"], info["rows_quarantined"]) == (1, 1)
    assert "月救助金额数值超出合理范围" in (result.outbox / "quarantine.csv").read_text(
        encoding="utf-8-sig"
    )


def test_a_signature_line_starting_with_tian_biao_is_not_data(deliver, settings):
    row = [person_id(30), "户主丙", "梅村村一组", "C级", "2026-02-01", "未改造"]
    deliver(
        "housing_safety",
        D1,
        [row],
        footer=[
            ["合计", "1户", None, None, None, None],
            ["填表人：李四    审核人：王五", None, None, None, None, None],
        ],
    )
    assert run_day(settings, D1).manifest["feeds"]["housing_safety"]["status"] == "loaded"


@pytest.mark.parametrize(
    ("cell", "expected"), [(20260105, date(2026, 1, 5)), (46027.5, date(2026, 1, 5))]
)
def test_numeric_date_cells(deliver, settings, cell, expected):
    deliver("housing_safety", D1, [[person_id(30), "户主丙", "梅村村一组", "C级", cell, "未改造"]])
    run_day(settings, D1)
    assert count(settings, "select appraisal_date from staging.cur_housing_safety") == expected


def test_a_unit_in_parentheses_inside_a_header(deliver, settings, registry):
    header = [column.name for column in registry["disaster_events"].columns]
    header[6] = "直接经济损失（万元）"
    deliver(
        "disaster_events",
        D1,
        [["E1", "洪涝", "341702101", "", "2026-03-01", 12, "12.5", "较大"]],
        header=header,
    )
    run_day(settings, D1)
    assert count(settings, "select direct_loss_10k_yuan from staging.cur_disaster_events") == 12.5


def test_an_empty_increment_file_is_a_day_without_changes(deliver, settings):
    path = deliver("hrss_employment", D1, [])
    path.write_bytes(b"")
    from pipeline.feeds.inbox import write_marker

    write_marker(path, 0)
    info = run_day(settings, D1).manifest["feeds"]["hrss_employment"]
    assert (info["status"], info["rows_read"]) == ("loaded", 0)


def test_values_beyond_the_header_in_a_workbook_reject_it(deliver, settings):
    deliver(
        "housing_safety",
        D1,
        [[person_id(30), "户主丙", "梅村村一组", "C级", "2026-02-01", "未改造", "多余的值"]],
    )
    info = run_day(settings, D1).manifest["feeds"]["housing_safety"]
    assert info["status"] == "rejected"
    assert "第2行在表头以外的列中有值" in info["reason"]


def test_an_unreachable_database_after_earlier_pulls_is_unchanged(tmp_path, monkeypatch):
    from pipeline.settings import load_settings
    from tests.feeds.test_sql_source import FrontEnd, settlement

    url = f"sqlite:///{tmp_path / 'frontend.sqlite'}"
    FrontEnd(url).post(settlement("S1", 1, D1, "100.00"))
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)
    (tmp_path / "inbox").mkdir()
    settings = load_settings(tmp_path / "home", tmp_path / "inbox")
    run_day(settings, D1)
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")

    info = run_day(settings, D2).manifest["feeds"]["med_claims"]

    assert info["status"] == "unchanged"
    assert "无法连接数据库" in info["reason"]
    assert "沿用 2026-03-01" in info["reason"]


def test_a_settlement_quarantined_on_a_later_read_leaves_the_warehouse(tmp_path, monkeypatch):
    import sqlalchemy as sa

    from pipeline.settings import load_settings
    from tests.feeds.test_sql_source import FrontEnd, settlement

    url = f"sqlite:///{tmp_path / 'frontend.sqlite'}"
    server = FrontEnd(url)
    server.post(settlement("S1", 1, D1, "100.00"))
    monkeypatch.setenv("PIPELINE_MED_CLAIMS_URL", url)
    (tmp_path / "inbox").mkdir()
    settings = load_settings(tmp_path / "home", tmp_path / "inbox")
    run_day(settings, D1)
    with server.engine.begin() as connection:
        connection.execute(
            sa.update(server.table).where(server.table.c.JSLSH == "S1").values(GRZF=1)
        )

    run_day(settings, D2)

    assert count(settings, "select count(*) from staging.stg_med_claims") == 0
    assert count(settings, "select count(*) from meta.quarantine where row = 'S1'") == 1
