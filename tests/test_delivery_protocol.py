"""The delivery protocol end to end through the daily job: markers, digests,
re-deliveries, late deliveries and reruns, as a data engineer sees them."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from pipeline.feeds.inbox import write_marker
from pipeline.steps import run_day
from tests.conftest import household_row, person_id

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def hrss_row(
    sequence: int, status: str = "失业登记", when: str = "2026-03-01", wage: str = ""
) -> list[str]:
    return [person_id(sequence), f"测试{sequence}", status, "", wage, when]


def feed_of(result, feed):
    return result.manifest["feeds"][feed]


def rows_in(settings, table):
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        return connection.execute(f"select count(*) from staging.{table}").fetchone()[0]


def test_delivery_without_marker_is_not_read(deliver, settings):
    deliver("hrss_employment", D1, [hrss_row(1)], marker=False)

    result = run_day(settings, D1)

    info = feed_of(result, "hrss_employment")
    assert info["status"] == "incomplete"
    assert info["deliveries"][0]["status"] == "incomplete"
    assert rows_in(settings, "stg_hrss_employment") == 0


def test_wrong_digest_rejects_the_whole_delivery(deliver, settings):
    path = deliver("hrss_employment", D1, [hrss_row(1), hrss_row(2)])
    path.write_bytes(path.read_bytes() + b"tampered\r\n")

    result = run_day(settings, D1)

    info = feed_of(result, "hrss_employment")
    assert info["status"] == "rejected"
    assert "SHA-256" in info["reason"]
    assert rows_in(settings, "stg_hrss_employment") == 0
    assert (result.outbox / "quarantine.csv").read_text(
        encoding="utf-8-sig"
    ).strip() == "feed,file,row,reason,raw"


def test_wrong_row_count_rejects_the_whole_delivery_and_other_feeds_go_on(deliver, settings):
    deliver("hrss_employment", D1, [hrss_row(1), hrss_row(2)], marker_rows=5)
    deliver("police_hukou", D1, [[person_id(3), "王某", "死亡注销", "2026-03-01", ""]])

    result = run_day(settings, D1)

    info = feed_of(result, "hrss_employment")
    assert info["status"] == "rejected"
    assert "数据行数 2 与 .ok 标记 rows=5 不符" in info["reason"]
    assert info["deliveries"][0]["rows_rejected"] == 2
    assert feed_of(result, "police_hukou")["status"] == "loaded"
    assert rows_in(settings, "stg_police_hukou") == 1


def test_file_in_another_encoding_is_read_and_reported(deliver, settings):
    # edu_students is agreed as GBK; the bureau sent UTF-8 this time.
    row = [person_id(4), "张小明", "梅村小学", "小学", "三年级", "辍学", "2026/3/1", ""]
    deliver("edu_students", D1, [row], encoding="utf-8")

    result = run_day(settings, D1)

    info = feed_of(result, "edu_students")
    assert info["status"] == "loaded"
    assert info["deliveries"][0]["encoding"] == "utf-8"
    assert any("约定 GBK，实际按 UTF-8 读取" in warning for warning in result.manifest["warnings"])
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select student_name, school_name from staging.stg_edu_students"
        ).fetchall() == [("张小明", "梅村小学")]


def test_gbk_declared_file_with_gb18030_characters_is_read(deliver, settings):
    row = [person_id(5), "王䶮", "梅村小学", "小学", "三年级", "在读", "2026/3/1", ""]
    deliver("edu_students", D1, [row], encoding="gb18030")

    result = run_day(settings, D1)

    assert feed_of(result, "edu_students")["deliveries"][0]["encoding"] == "gb18030"
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select student_name from staging.stg_edu_students"
        ).fetchone() == ("王䶮",)


def test_rerun_of_the_same_date_counts_nothing_twice(deliver, settings):
    deliver(
        "hrss_employment",
        D1,
        [hrss_row(1), hrss_row(2), ["123", "坏号", "失业登记", "", "", "2026-03-01"]],
    )

    first = run_day(settings, D1)
    quarantine_first = (first.outbox / "quarantine.csv").read_bytes()
    second = run_day(settings, D1)

    assert feed_of(first, "hrss_employment")["status"] == "loaded"
    assert feed_of(second, "hrss_employment")["status"] == "unchanged"
    assert feed_of(second, "hrss_employment")["rows_loaded"] == 0  # nothing read by this run
    assert rows_in(settings, "stg_hrss_employment") == 2
    assert (second.outbox / "quarantine.csv").read_bytes() == quarantine_first
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from meta.quarantine").fetchone() == (1,)


def test_redelivery_of_a_date_replaces_its_rows_and_quarantine(deliver, settings):
    deliver(
        "hrss_employment",
        D1,
        [hrss_row(1), hrss_row(2), ["123", "坏号", "失业登记", "", "", "2026-03-01"]],
    )
    run_day(settings, D1)
    # The sender deletes the marker, writes the corrected file, writes the marker.
    deliver("hrss_employment", D1, [hrss_row(1), hrss_row(7)])

    result = run_day(settings, D2)

    info = feed_of(result, "hrss_employment")
    assert info["status"] == "loaded"  # the re-delivered D1 file, read by the D2 run
    assert info["rows_read"] == 2
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        ids = {
            row[0]
            for row in connection.execute(
                "select id_number from staging.stg_hrss_employment"
            ).fetchall()
        }
        quarantined = connection.execute("select count(*) from meta.quarantine").fetchone()[0]
    assert ids == {person_id(1), person_id(7)}
    assert quarantined == 0


def test_late_delivery_is_loaded_by_the_next_run_and_future_ones_never(deliver, settings):
    deliver("police_hukou", D3, [[person_id(9), "未来", "迁出", "2026-03-03", ""]])
    first = run_day(settings, D1)
    assert feed_of(first, "police_hukou")["status"] == "missing"

    deliver("police_hukou", D1, [[person_id(8), "迟到", "迁出", "2026-03-01", ""]])
    second = run_day(settings, D2)

    info = feed_of(second, "police_hukou")
    assert info["status"] == "loaded"
    assert [delivery["date"] for delivery in info["deliveries"]] == ["2026-03-01"]
    assert rows_in(settings, "stg_police_hukou") == 1


def test_snapshot_replaces_state_and_increment_accumulates(deliver, settings):
    vehicle = ["皖R12345", person_id(10), "车主甲", "小型轿车", "非营运", "2020-05-01", "正常"]
    other = ["皖R54321", person_id(11), "车主乙", "轻型货车", "营运", "2019-05-01", "正常"]
    deliver("police_vehicles", D1, [vehicle, other])
    deliver("police_hukou", D1, [[person_id(12), "甲", "迁出", "2026-03-01", ""]])
    run_day(settings, D1)
    deliver("police_vehicles", D2, [vehicle])
    deliver("police_hukou", D2, [[person_id(13), "乙", "迁入", "2026-03-02", ""]])
    run_day(settings, D2)

    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        plates = connection.execute(
            "select plate_number from staging.cur_police_vehicles"
        ).fetchall()
        changes = connection.execute("select count(*) from staging.cur_police_hukou").fetchone()[0]
    assert plates == [("皖R12345",)]
    assert changes == 2


def test_a_later_row_of_an_update_feed_updates_the_record(deliver, settings):
    # water_supply: a problem reported and restored on the same day comes as two rows.
    reported = ["W001", "341702101201", "梅村供水站", "停水", "2026-03-01", "", 40]
    restored = ["W001", "341702101201", "梅村供水站", "停水", "2026-03-01", "2026-03-01", 40]
    other = ["W002", "341702101201", "梅村供水站", "水量不足", "2026-02-20", "", 40]
    deliver("water_supply", D1, [reported, restored, other, list(other)])

    result = run_day(settings, D1)

    info = feed_of(result, "water_supply")
    assert (info["rows_read"], info["rows_loaded"], info["rows_quarantined"]) == (4, 3, 1)
    quarantine = (result.outbox / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert "与本批第3行完全相同（重复行）" in quarantine
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        history = connection.execute(
            "select problem_id, restored_date from staging.stg_water_supply order by source_row"
        ).fetchall()
        in_force = connection.execute(
            "select problem_id, restored_date from staging.cur_water_supply order by problem_id"
        ).fetchall()
    assert history == [("W001", None), ("W001", D1), ("W002", None)]
    assert in_force == [("W001", D1), ("W002", None)]


def test_unchanged_feed_and_silence_warning(deliver, settings):
    vehicle = ["皖R12345", person_id(10), "车主甲", "小型轿车", "非营运", "2020-05-01", "正常"]
    deliver("police_vehicles", date(2026, 1, 1), [vehicle])
    run_day(settings, date(2026, 1, 1))

    result = run_day(settings, D1)

    info = feed_of(result, "police_vehicles")
    assert info["status"] == "unchanged"
    assert "2026-01-01" in info["reason"]
    assert any(
        "机动车登记" in warning and "59 天" in warning for warning in result.manifest["warnings"]
    )


def test_member_of_unknown_household_is_quarantined_at_load(deliver, settings):
    household = household_row(1, head=person_id(20), size=1, income=20000)
    deliver("households", D1, [household])
    members = [
        [
            "3417021012010001",
            "户主甲",
            person_id(20),
            "户主",
            "男",
            "普通劳动力",
            "健康",
            "",
            "非在校生",
            "县内务工",
        ],
        [
            "3417021012019999",
            "无户乙",
            person_id(21),
            "户主",
            "男",
            "普通劳动力",
            "健康",
            "",
            "非在校生",
            "县内务工",
        ],
    ]
    deliver("members", D1, members)

    result = run_day(settings, D1)

    info = feed_of(result, "members")
    assert (info["rows_read"], info["rows_loaded"], info["rows_quarantined"]) == (2, 1, 1)
    quarantine = (result.outbox / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert "members,members_20260301.csv,2,户编号不在农户信息快照中" in quarantine


def test_quarantine_file_is_for_owner_and_group_only(deliver, settings):
    deliver("hrss_employment", D1, [hrss_row(1)])
    result = run_day(settings, D1)
    assert (result.outbox / "quarantine.csv").stat().st_mode & 0o777 == 0o640
    # Leads not matched keep names and phones as callers gave them: for the bureau's staff.
    assert (result.outbox / "leads_unmatched.csv").stat().st_mode & 0o777 == 0o640
    # So do the rows that lost their ID number, with the members proposed for them.
    assert (result.outbox / "linkage_candidates.csv").stat().st_mode & 0o777 == 0o640
    manifest = json.loads((result.outbox / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == {
        "quarantine.csv",
        "alerts.csv",
        "overdue.csv",
        "feedback_rejections.csv",
        "assistance.csv",
        "leads_unmatched.csv",
        "linkage_candidates.csv",
        "regional_alerts.csv",
        "comparisons.csv",
        "elimination_candidates.csv",  # D1 is the 1st: the monthly list
        "assessment_202602.csv",  # and the previous month's assessment
        "assessment_202602.xlsx",
    }  # report.html and report.pdf too, but the suite turns the report off (conftest.py)


def test_a_run_killed_during_the_load_leaves_nothing_half_loaded(deliver, settings, monkeypatch):
    from pipeline.warehouse import load

    deliver("hrss_employment", D1, [hrss_row(1)])
    deliver("police_hukou", D1, [[person_id(8), "某", "迁出", "2026-03-01", ""]])
    original = load._load_delivery
    calls = []

    def dies_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(load, "_load_delivery", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        run_day(settings, D1)
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from meta.deliveries").fetchone() == (0,)
        assert connection.execute(
            "select count(*) from staging.stg_hrss_employment"
        ).fetchone() == (0,)

    monkeypatch.setattr(load, "_load_delivery", original)
    result = run_day(settings, D1)
    assert feed_of(result, "hrss_employment")["status"] == "loaded"
    assert feed_of(result, "police_hukou")["status"] == "loaded"


def test_marker_written_by_sender_counts_data_rows_only(tmp_path, registry):
    from tests.conftest import write_delivery

    path = write_delivery(
        tmp_path,
        registry["housing_safety"],
        D1,
        [[person_id(30), "户主丙", "梅村村一组", "C级", "2026-02-01", "未改造"]],
        footer=[
            ["合计", "1户", None, None, None, None],
            ["制表人：李四 审核人：王五", None, None, None, None, None],
        ],
    )
    marker = path.with_name(path.name + ".ok").read_text()
    assert marker.startswith("rows=1\n")
    write_marker(path, 1)
