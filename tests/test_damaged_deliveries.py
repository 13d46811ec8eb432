"""Damaged and odd deliveries as a data engineer meets them in manifest.json: each rejected
with a reason that names its cause (or read, with a note), a day without the household
registry said loudly, files that are no delivery listed, and a missing inbox refused."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import pytest

from pipeline.feeds.inbox import InboxMissing, write_marker
from pipeline.settings import load_settings
from pipeline.steps import Day, ingest, run_day
from tests.conftest import household_row, member_row, person_id

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


def housing_row(sequence: int) -> list[str]:
    return [person_id(sequence), f"户主{sequence}", "梅村村一组", "C级", "2026-02-01", "未改造"]


def hrss_line(sequence: int, name: str | None = None) -> str:
    return f"{person_id(sequence)},{name or f'测试{sequence}'},失业登记,,,2026-03-01"


def compound_file(*streams: str) -> bytes:
    """The start of an OLE2 compound file (Excel 97-2003, or an encrypted workbook): its
    signature, a 512-byte header, then directory entries naming ``streams`` in UTF-16."""
    header = bytes.fromhex("D0CF11E0A1B11AE1").ljust(512, b"\0")
    entries = b"".join(
        name.encode("utf-16-le").ljust(64, b"\0").ljust(128, b"\0") for name in streams
    )
    return header + entries.ljust(1024, b"\0")


def as_csv(workbook: bytes) -> bytes:
    """The same rows, exported as CSV and given the workbook's name."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["户主身份证号", "户主姓名", "房屋地址", "鉴定等级", "鉴定日期", "改造状态"],
            housing_row(1),
        ]
    )
    return buffer.getvalue().encode("utf-8")


DAMAGES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "a CSV renamed": (as_csv, "不是 XLSX 文件（内容是文本，可能是改了扩展名的 CSV）"),
    "a web page renamed": (
        lambda _: "<html><body><table><tr><td>户主姓名</td></tr></table></body></html>".encode(),
        "不是 XLSX 文件（内容是网页表格 HTML，可能是系统导出的“伪 Excel”文件）",
    ),
    "cut in half": (
        lambda workbook: workbook[: len(workbook) // 2],
        "文件不完整（ZIP 压缩包被截断或已损坏），请重新交付",
    ),
    "a legacy .xls": (
        lambda _: compound_file("Root Entry", "Workbook", "\x05SummaryInformation"),
        "是旧版 .xls 文件（Excel 97-2003 格式），请另存为 .xlsx 后重新交付",
    ),
    "encrypted": (
        lambda _: compound_file("Root Entry", "EncryptionInfo", "EncryptedPackage"),
        "文件已加密（设有打开密码），请取消密码后重新导出交付",
    ),
    "0 bytes": (lambda _: b"", "文件为空（0 字节）"),
}


def test_a_workbook_that_cannot_be_opened_is_rejected_naming_why(deliver, settings):
    # One delivery per damage, on the days before D1: one run reads them all.
    days = {damage: D1 - timedelta(days=offset) for offset, damage in enumerate(DAMAGES)}
    for damage, day in days.items():
        path = deliver("housing_safety", day, [housing_row(1)])
        path.write_bytes(DAMAGES[damage][0](path.read_bytes()))
        write_marker(path, 1)  # the sender's marker, written for the bytes as they are

    result = run_day(settings, D1)

    deliveries = {
        delivery["date"]: delivery
        for delivery in result.manifest["feeds"]["housing_safety"]["deliveries"]
    }
    for damage, day in days.items():
        delivery = deliveries[day.isoformat()]
        assert delivery["status"] == "rejected", damage
        assert delivery["reason"] == f"无法读取：无法打开 XLSX 文件：{DAMAGES[damage][1]}", damage
    quarantine = (result.outbox / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert quarantine.strip() == "feed,file,row,reason,raw"


def write_lines(deliver, lines: list[str], marker_rows: int) -> None:
    """An hrss_employment delivery of these lines under its header, as written by hand."""
    path = deliver("hrss_employment", D1, [], marker=False)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))
    write_marker(path, marker_rows)


def test_a_quote_never_closed_names_the_line_where_it_opens(deliver, settings):
    lines = [hrss_line(1), hrss_line(2, '"乙'), hrss_line(3), hrss_line(4)]
    write_lines(deliver, lines, marker_rows=4)

    info = run_day(settings, D1).manifest["feeds"]["hrss_employment"]

    assert info["status"] == "rejected"
    # The header is line 1: the second data row is line 3.
    assert info["reason"] == "无法读取：第3行的引号未闭合，其后直到文件末尾都被读成了一个值"


def test_rows_miscounted_by_a_quote_closed_lines_later_name_where_it_opens(deliver, settings):
    lines = [hrss_line(1), hrss_line(2, '"乙'), hrss_line(3), hrss_line(4, '丁"'), hrss_line(5)]
    write_lines(deliver, lines, marker_rows=5)

    info = run_day(settings, D1).manifest["feeds"]["hrss_employment"]

    assert info["status"] == "rejected"
    assert info["reason"] == (
        "数据行数 3 与 .ok 标记 rows=5 不符，整批拒收："
        "第3行的引号直到第5行才闭合，第3至5行被读成了一行（引号可能未闭合）"
    )


def test_a_utf16_file_with_its_byte_order_mark_is_read_and_noted(deliver, settings):
    deliver(
        "hrss_employment",
        D1,
        [[person_id(1), "张三", "失业登记", "", "", "2026-03-01"]],
        encoding="utf-16",  # Excel's "Unicode text": UTF-16 LE with a BOM
    )

    result = run_day(settings, D1)

    info = result.manifest["feeds"]["hrss_employment"]
    assert info["status"] == "loaded"
    assert info["deliveries"][0]["encoding"] == "utf-16"
    assert (
        "就业失业登记（hrss_employment_20260301.csv）：文件编码与约定不符：约定 UTF-8，实际按 UTF-16 读取"
        in result.manifest["warnings"]
    )
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute("select name from staging.stg_hrss_employment").fetchall() == [
            ("张三",)
        ]


def test_a_header_naming_one_column_twice_is_rejected(deliver, settings):
    header = ["身份证号", "姓名", "就业状态", "就业地区", "月工资", "变动日期", "身份证号"]
    row = [person_id(1), "张三", "失业登记", "", "", "2026-03-01", person_id(2)]
    deliver("hrss_employment", D1, [row], header=header)

    info = run_day(settings, D1).manifest["feeds"]["hrss_employment"]

    assert info["status"] == "rejected"
    assert info["reason"] == (
        "无法读取：表头中“身份证号”出现了两次（第1列和第7列），无法判断应使用哪一列，"
        "整批拒收（删去多余的一列后重新交付即可）"
    )


def test_a_zero_byte_snapshot_is_rejected_and_the_state_in_force_stays(deliver, settings):
    vehicle = ["皖R12345", person_id(10), "车主甲", "小型轿车", "非营运", "2020-05-01", "正常"]
    deliver("police_vehicles", D1, [vehicle])
    run_day(settings, D1)
    path = deliver("police_vehicles", D2, [], marker=False)
    path.write_bytes(b"")
    write_marker(path, 0)

    result = run_day(settings, D2)

    info = result.manifest["feeds"]["police_vehicles"]
    assert info["status"] == "rejected"
    assert info["reason"] == (
        "无法读取：文件为空（0 字节），连表头也没有：全量快照不能是空文件（没有数据时也应有表头行）"
    )
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select plate_number from staging.cur_police_vehicles"
        ).fetchall() == [("皖R12345",)]


def registry_day(deliver) -> None:
    """A day whose other feeds are fine: a labourer registered unemployed."""
    deliver("hrss_employment", D2, [[person_id(1), "户主1", "失业登记", "", "", "2026-03-02"]])


def test_a_day_without_the_household_registry_says_so_first(deliver, settings):
    path = deliver("households", D1, [household_row(1, head=person_id(1))])
    path.write_bytes(compound_file("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    write_marker(path, 1)
    deliver("members", D1, [member_row(1, person_id(1), relation="户主")])

    result = run_day(settings, D1)

    manifest = json.loads((result.outbox / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest)[:2] == ["business_date", "critical_warnings"]
    households, members = manifest["critical_warnings"]
    assert households == (
        "农户基础信息（households）没有可用的数据，本日无法将任何人员关联到农户，未产生任何预警。"
        "原因：本日交付已拒收（无法读取：无法打开 XLSX 文件：文件已加密（设有打开密码），"
        "请取消密码后重新导出交付）。请尽快重新交付后重新运行本日"
    )
    # Its members point at no household in force: quarantined, so none is in force either.
    assert members.startswith(
        "家庭成员信息（members）没有可用的数据，各部门数据中的人员无法关联到农户"
    )
    assert manifest["warnings"][:2] == manifest["critical_warnings"]
    assert manifest["alerts"]["raised"] == 0


def test_a_rejected_registry_delivery_says_which_registry_the_alerts_used(deliver, settings):
    deliver("households", D1, [household_row(1, head=person_id(1))])
    deliver("members", D1, [member_row(1, person_id(1), relation="户主")])
    run_day(settings, D1)
    path = deliver("households", D2, [household_row(1, head=person_id(1))])
    path.write_bytes(path.read_bytes()[:500])
    write_marker(path, 1)
    registry_day(deliver)

    manifest = run_day(settings, D2).manifest

    assert manifest["critical_warnings"] == [
        "农户基础信息（households）本日交付已拒收，本日预警仍按 2026-03-01 的农户基础信息研判，"
        "其后的变动未纳入。原因：无法读取：无法打开 XLSX 文件：文件不完整（ZIP 压缩包被截断或"
        "已损坏），请重新交付。请尽快重新交付"
    ]


def test_an_ordinary_day_has_no_critical_warnings(deliver, settings):
    deliver("households", D1, [household_row(1, head=person_id(1))])
    deliver("members", D1, [member_row(1, person_id(1), relation="户主")])

    manifest = run_day(settings, D1).manifest

    assert "critical_warnings" not in manifest
    assert not any("没有可用的数据" in warning for warning in manifest["warnings"])


def test_the_report_opens_with_a_banner_when_the_registry_is_missing(
    deliver, settings, monkeypatch
):
    monkeypatch.setenv("PIPELINE_DAILY_REPORT", "true")
    registry_day(deliver)

    result = run_day(settings, D2)

    page = (result.outbox / "report.html").read_text(encoding="utf-8")
    banner = page.index('<div class="critical" id="critical" role="alert"')
    assert banner < page.index('<section id="headline">')
    first = result.manifest["critical_warnings"][0]
    assert first.startswith("农户基础信息（households）没有可用的数据")
    assert page.count(first) == 1  # in the banner, not again in the list of warnings
    assert page.index(first) > banner
    if shutil.which("pdftotext"):  # the printed report opens with the same, on a page of its own
        text = subprocess.run(
            [
                "pdftotext",
                "-raw",
                "-enc",
                "UTF-8",
                "-l",
                "1",
                str(result.outbox / "report.pdf"),
                "-",
            ],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        assert "本日预警不完整" in re.sub(r"\s+", "", text)
        assert "农户基础信息（households）没有可用的数据" in re.sub(r"\s+", "", text)


def test_files_in_a_feed_folder_that_are_no_delivery_are_listed(deliver, settings):
    path = deliver("police_hukou", D1, [[person_id(8), "某", "迁出", "2026-03-01", ""]])
    deliver("police_hukou", D2, [[person_id(9), "某", "迁入", "2026-03-02", ""]])  # the future
    folder = path.parent
    (folder / "police_hukou_20260230.csv").write_bytes(path.read_bytes())
    (folder / "police_hukou_20260228.csv.ok").write_text("rows=1\nsha256=0\n", encoding="utf-8")
    (folder / "户籍变动0301.csv").write_bytes(path.read_bytes())
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "archive").mkdir()

    result = run_day(settings, D1)

    assert result.manifest["feeds"]["police_hukou"]["status"] == "loaded"
    listed = [warning for warning in result.manifest["warnings"] if "不是有效的交付" in warning]
    assert listed == [
        "户籍变动：文件夹 police_hukou/ 中的 police_hukou_20260228.csv.ok 不是有效的交付，未读取："
        "只有 .ok 标记，没有数据文件 police_hukou_20260228.csv",
        "户籍变动：文件夹 police_hukou/ 中的 police_hukou_20260230.csv 不是有效的交付，未读取："
        "文件名中的日期 20260230 不存在",
        "户籍变动：文件夹 police_hukou/ 中的 户籍变动0301.csv 不是有效的交付，未读取："
        "文件名不符合约定（应为 police_hukou_YYYYMMDD.csv 及其 .ok 标记）",
    ]


def test_an_inbox_without_any_feed_folder_is_said_first(settings):
    manifest = run_day(settings, D1).manifest

    assert manifest["critical_warnings"][0] == (
        f"收件箱 {settings.inbox} 中没有任何部门的文件夹，所有文件数据均按未交付处理："
        "若是收件箱未挂载成功，请恢复后重新运行本日"
    )


def test_a_missing_inbox_stops_the_day_before_anything_is_written(tmp_path, registry):
    settings = load_settings(tmp_path / "home", tmp_path / "not-mounted")

    with pytest.raises(InboxMissing, match=r"收件箱 .*not-mounted 不存在（挂载失败或路径有误？）"):
        run_day(settings, D1)
    # The per-feed step a scheduler runs refuses too, rather than reporting feeds missing.
    with pytest.raises(InboxMissing):
        ingest(Day.of(settings, D1, registry), "hrss_employment")

    assert not settings.home.outbox(D1).exists()
    assert not settings.home.run_dir(D1).exists()
