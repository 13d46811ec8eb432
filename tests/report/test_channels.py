"""The report's section 发现渠道 (issue 17): alerts per channel of their category
(``channel`` in config/rules.yaml, docs/warning-rules.md, "Categories"), the day's leads by
source and by what the linkage decided, and the grids that did not send their monthly
report, counted and pointed to.

One day of a small district: six leads (two matched by ID number, one by record linkage,
one ambiguous, one unmatched, one in a township that does not exist), a grid worker's
report, a household below the monitoring line; and no grid sent February's report."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline.alerts.rules import CHANNELS, DEFAULT_CHANNEL, RulesConfigError, load_rules
from pipeline.feeds.registry import load_registry
from pipeline.paths import CONFIG_DIR
from pipeline.report import page
from pipeline.report.figures import channel_figures, daily_figures, lead_sources
from pipeline.settings import Settings, load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery

D = date(2026, 3, 10)
TOWNSHIPS = {1: ("341702101", "青山镇"), 2: ("341702102", "白水乡")}
VILLAGES = {1: (1, "桃园村"), 2: (1, "柳河村"), 3: (2, "石桥村")}
PEOPLE = [
    # key, household, name, birth, village
    ("zhang", "h1", "张建国", date(1968, 4, 2), 1),
    ("zhang_wife", "h1", "李秀英", date(1970, 8, 9), 1),
    ("wang", "h2", "王小明", date(1985, 1, 20), 1),
    ("liu_a", "h3", "刘伟", date(1979, 3, 3), 2),
    ("liu_b", "h4", "刘伟", date(1990, 6, 6), 2),
    ("zhao", "h5", "赵桂兰", date(1955, 12, 1), 3),
    ("sun", "h6", "孙立平", date(1972, 5, 5), 3),
]
IDS = {key: person_id(number, birth=birth) for number, (key, _, _, birth, _) in enumerate(PEOPLE)}
PHONES = ("13912345678", "13800000000", "13900000000")


def household_id(home: str) -> str:
    return f"3417021010010{int(home[1:]):03d}"


def village(index: int) -> tuple[str, str, str, str]:
    township, name = VILLAGES[index]
    code, township_name = TOWNSHIPS[township]
    return code, township_name, f"{code}{index:03d}", name


def lead(lead_id: str, source: str, name: str, id_text: str | None, town: str, place: str) -> list:
    return [lead_id, source, D.isoformat(), name, id_text, town, place, PHONES[0], "反映家庭困难"]


LEADS = [
    lead("XF1", "信访", "张建国", IDS["zhang"], "青山镇", "桃园村"),  # matched by ID number
    lead("XF2", "12317", "张建国", None, "青山乡", "桃园"),  # matched by linkage, same household
    lead("XF3", "自主申报", "王小明", IDS["wang"], "青山镇", "桃园村"),  # matched by ID number
    lead("XF4", "舆情", "刘伟", None, "青山镇", "柳河村"),  # two 刘伟 in the village: ambiguous
    lead("XF5", "媒体", "孙丽萍", None, "白水镇", ""),  # nobody: unmatched
    # No such township: quarantined, counted as such.
    lead("XF6", "信访", "赵桂兰", None, "黑山镇", "石桥村"),
]


def _deliver(inbox: Path) -> None:
    registry = load_registry()
    households: dict[str, list[Any]] = {}
    members = []
    for key, home, name, _, index in PEOPLE:
        township_code, township_name, village_code, village_name = village(index)
        members.append(
            [household_id(home), name, IDS[key], "户主" if home not in households else "配偶",
             "男", "普通劳动力", "健康", None, "非在校生", "未务工"]
        )  # fmt: skip
        # h5 is an ordinary household below the monitoring line: a department's alert.
        kind, income = ("一般农户", 8000) if home == "h5" else ("脱贫户", 40000)
        households.setdefault(
            home,
            [household_id(home), name, IDS[key], township_code, township_name, village_code,
             village_name, "一组", f"{village_code}G01", kind, None, None, None, 2, income,
             PHONES[1]],
        )  # fmt: skip
    grids = []
    for index in VILLAGES:
        township_code, _, village_code, village_name = village(index)
        grids += [
            [village_code, "村级", township_code, f"{village_name}网格", "村网格长", PHONES[2]],
            [
                f"{village_code}G01",
                "组级",
                village_code,
                f"{village_name}一组",
                "网格员",
                PHONES[2],
            ],
        ]
    for code, name in TOWNSHIPS.values():
        grids.append([code, "乡镇级", "341702", f"{name}网格", "乡镇网格长", PHONES[2]])
    wang_grid = f"{village(1)[2]}G01"
    write_delivery(inbox, registry["households"], D, list(households.values()))
    write_delivery(inbox, registry["members"], D, members)
    write_delivery(inbox, registry["grids"], D, grids)
    write_delivery(inbox, registry["leads"], D, LEADS)
    # The grid worker's report of March on h2: a 基层干部排查 alert. February's report of
    # every group grid was due on March 5 and none came.
    write_delivery(
        inbox,
        registry["grid_reports"],
        D,
        [[wang_grid, household_id("h2"), D - timedelta(days=1), "重大疾病", "住院", "网格员"]],
    )


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("channels")
    _deliver(root / "inbox")
    # The suite turns the report off (tests/conftest.py): this module looks at it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_DAILY_REPORT", "true")
        settings = load_settings(root / "home", root / "inbox")
        result = run_day(settings, D)
    return result.outbox, settings


def _figures(settings: Settings, business_date: date = D):
    # Not read-only: the figures' steps make sure of the alerts' schema and macros.
    with duckdb.connect(str(settings.home.warehouse)) as connection:
        return daily_figures(connection, load_rules(), business_date, pd.DataFrame())


def test_each_lead_of_the_day_is_counted_by_source_and_by_what_the_linkage_decided(day):
    _, settings = day
    sources = _figures(settings).lead_sources
    assert sources is not None
    shown = sources.set_index("source")
    # Every source of the feed's contract, in its order, a source without leads with zeros.
    assert list(shown.index) == ["信访", "12317", "媒体", "舆情", "自主申报"]
    columns = ["leads", "matched_by_id_number", "matched_by_linkage", "ambiguous", "unmatched",
               "quarantined"]  # fmt: skip
    assert shown[columns].to_dict("index") == {
        "信访": dict(zip(columns, [2, 1, 0, 0, 0, 1], strict=True)),
        "12317": dict(zip(columns, [1, 0, 1, 0, 0, 0], strict=True)),
        "媒体": dict(zip(columns, [1, 0, 0, 0, 1, 0], strict=True)),
        "舆情": dict(zip(columns, [1, 0, 0, 1, 0, 0], strict=True)),
        "自主申报": dict(zip(columns, [1, 1, 0, 0, 0, 0], strict=True)),
    }
    assert shown["channel"].to_dict() == {
        "信访": "群众反映线索",
        "12317": "群众反映线索",
        "媒体": "群众反映线索",
        "舆情": "群众反映线索",
        "自主申报": "农户自主申报",
    }


def test_alerts_are_counted_under_the_channel_of_their_category(day):
    _, settings = day
    channels = _figures(settings).channels.set_index("channel")
    assert list(channels.index) == list(CHANNELS)
    assert channels[["raised", "open"]].to_dict("index") == {
        "部门筛查预警": {"raised": 1, "open": 1},  # h5 below the line
        "基层干部排查": {"raised": 1, "open": 1},  # the grid worker's report on h2
        # h1 (two leads, one alert) and h2 (self-declared): the category lead's channel
        "群众反映线索": {"raised": 2, "open": 2},
        "农户自主申报": {"raised": 0, "open": 0},
    }
    # The matched leads: 信访 and 12317 for h1; h2's self-declared one.
    assert channels["leads_matched"].to_dict() == {
        "部门筛查预警": None,
        "基层干部排查": None,
        "群众反映线索": 2,
        "农户自主申报": 1,
    }
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        categories = connection.execute(
            "select category, count(*) from alerts.alerts group by all order by all"
        ).fetchall()
    assert categories == [("grid_report", 1), ("income_below_line", 1), ("lead", 2)]


class _Section(HTMLParser):
    """The text and the data-count cells of the section 发现渠道, by row."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.links: list[str] = []
        self._row: tuple[str, str] | None = None
        self._count: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("id") == "channels":
            self.depth = 1
        elif tag == "section" and self.depth:
            self.depth += 1
        if not self.depth:
            return
        if tag == "tr":
            self._row = (found.get("data-channel") or "", found.get("data-lead-source") or "")
        if tag == "a":
            self.links.append(found.get("href") or "")
        self._count = found.get("data-count")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.depth:
            self.depth -= 1
        if tag == "table":
            self._row = None

    def handle_data(self, data: str) -> None:
        if not self.depth:
            return
        self.text.append(data)
        if self._count and data.strip():
            # A figure outside the tables is in the row ("*", "*").
            table = self.rows.setdefault(self._row or ("*", "*"), {})
            table[self._count] = data.strip()
            self._count = None


def _section(html: str) -> _Section:
    parser = _Section()
    parser.feed(html)
    return parser


def test_the_report_shows_the_channels_with_their_figures(day):
    outbox, _ = day
    html = (outbox / "report.html").read_text(encoding="utf-8")
    section = _section(html)
    text = "".join(section.text)
    assert "发现渠道" in text
    assert section.rows[("部门筛查预警", "")] == {"raised": "1", "open": "1", "leads_matched": "—"}
    assert section.rows[("群众反映线索", "")] == {"raised": "2", "open": "2", "leads_matched": "2"}
    assert section.rows[("农户自主申报", "")] == {"raised": "0", "open": "0", "leads_matched": "1"}
    assert section.rows[("群众反映线索", "信访")] == {"matched": "1"}
    assert section.rows[("农户自主申报", "自主申报")] == {"matched": "1"}
    # The leads of the day, the row of the totals last (its key is the empty source).
    assert section.rows[("", "")] == {
        "leads": "6",
        "matched_by_id_number": "2",
        "matched_by_linkage": "1",
        "ambiguous": "1",
        "unmatched": "1",
        "quarantined": "1",
    }
    assert section.rows[("*", "*")] == {"grids_not_reported": "3", "grid_months_not_reported": "3"}
    # The grids without February's report: counted here, listed once, further down.
    assert section.links == ["#grids-not-reported"]
    assert html.count('id="grids-not-reported"') == 1
    assert 'id="channels"' in html
    assert html.index('id="channels"') < html.index('id="grids-not-reported"')


def test_the_report_names_nobody(day):
    outbox, _ = day
    html = (outbox / "report.html").read_text(encoding="utf-8")
    for name in {person[2] for person in PEOPLE} | {"孙丽萍"}:
        assert name not in html
    for number in [*IDS.values(), *PHONES]:
        assert number not in html
        assert number[:10] not in html


def test_the_pdf_has_a_page_of_the_channels(day, monkeypatch):
    outbox, settings = day
    pages: dict[str, list[str]] = {}
    draw = page._text_page

    def recorded(pdf: Any, title: str, lines: list[str], **options: Any) -> None:
        pages[title] = lines
        draw(pdf, title, lines, **options)

    monkeypatch.setattr(page, "_text_page", recorded)
    page.report_pdf(_figures(settings))
    lines = pages[f"发现渠道（{D}）"]
    expected = [
        "部门筛查预警：今日发现预警1，在办预警1",
        "群众反映线索：今日发现预警2，在办预警2，今日匹配线索2（其中信访 1，12317 1，媒体 0，舆情 0）",
        "农户自主申报：今日发现预警0，在办预警0，今日匹配线索1（其中自主申报 1）",
        "合计：6条；按身份证号匹配2，按姓名等信息匹配1，多个候选1，未匹配1，已隔离（见 quarantine.csv）1",
    ]
    assert set(expected) <= set(lines)
    assert any("未按期报送网格员月报的组级网格3个（3个网格月）" in line for line in lines)
    # The page as printed, where poppler is installed (.ci/run installs it).
    if shutil.which("pdftotext") is None:
        return
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"],
        input=(outbox / "report.pdf").read_bytes(),
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    for line in [f"发现渠道（{D}）", *expected]:
        assert re.sub(r"\s+", "", line) in flat


def test_the_next_day_counts_its_own_leads_and_keeps_the_open_alerts(day, tmp_path):
    _, settings = day
    home = tmp_path / "home"
    shutil.copytree(settings.home.root, home)
    copy = load_settings(home, settings.inbox)
    run_day(copy, D + timedelta(days=1))
    figures = _figures(copy, D + timedelta(days=1))
    channels = figures.channels.set_index("channel")
    assert channels.loc["群众反映线索", ["raised", "open", "leads_matched"]].tolist() == [0, 2, 0]
    assert figures.lead_sources is not None
    assert figures.lead_sources[["leads", "matched"]].sum().tolist() == [0, 0]


def _copy(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.home.warehouse, path)
    return path


def test_a_warehouse_that_never_linked_leads_still_has_its_report(day, tmp_path):
    _, settings = day
    with duckdb.connect(str(_copy(settings, tmp_path))) as connection:
        connection.execute("drop table linkage.lead_matches")
        figures = daily_figures(connection, load_rules(), D, pd.DataFrame())
    assert figures.lead_sources is None
    channels = figures.channels.set_index("channel")
    assert channels.loc["群众反映线索", "open"] == 2
    assert channels["leads_matched"].isna().all()
    html = page.report_html(figures)
    assert "本数仓尚未进行过线索匹配" in html
    assert 'id="channels-leads"' in html
    assert page.report_pdf(figures).startswith(b"%PDF")


def test_leads_read_through_a_view_as_a_partitioned_district_reads_them(day, tmp_path):
    _, settings = day
    rules = load_rules()
    with duckdb.connect(str(_copy(settings, tmp_path))) as connection:
        expected = lead_sources(connection, rules, D)
        connection.execute("alter table linkage.lead_matches rename to lead_matches_linked")
        connection.execute(
            "create view linkage.lead_matches as select * from linkage.lead_matches_linked"
        )
        seen = lead_sources(connection, rules, D)
        channels = channel_figures(connection, rules, D, seen)
    assert seen is not None
    assert expected is not None
    pd.testing.assert_frame_equal(seen, expected)
    assert channels.set_index("channel").loc["农户自主申报", "leads_matched"] == 1


def _rules_without(tmp_path: Path, *keys: str) -> Path:
    text = (CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
    pattern = rf"^    (?:{'|'.join(keys)}):.*\n"
    assert re.search(pattern, text, flags=re.MULTILINE)
    path = tmp_path / "rules.yaml"
    path.write_text(re.sub(pattern, "", text, flags=re.MULTILINE), encoding="utf-8")
    return path


def test_a_rules_file_without_channels_still_loads(tmp_path):
    """A bureau's rules file older than the key: every category is 部门筛查预警."""
    rules = load_rules(_rules_without(tmp_path, "channel", "source_channels"))
    assert {category.channel for category in rules.categories.values()} == {DEFAULT_CHANNEL}
    assert DEFAULT_CHANNEL == "部门筛查预警"
    assert rules.categories["lead"].channel_of_source("自主申报") == DEFAULT_CHANNEL
    shipped = load_rules()
    assert shipped.categories["grid_report"].channel == "基层干部排查"
    assert shipped.categories["lead"].channel_of_source("信访") == "群众反映线索"
    assert shipped.categories["lead"].channel_of_source("自主申报") == "农户自主申报"


def test_a_channel_not_of_the_policy_is_refused_naming_its_place(tmp_path):
    text = (CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace("channel: 基层干部排查", "channel: 网格排查"), encoding="utf-8")
    with pytest.raises(RulesConfigError, match=r"categories\.grid_report\.channel"):
        load_rules(path)
    path.write_text(
        text.replace("{自主申报: 农户自主申报}", "{自主申报: 自己申报}"), encoding="utf-8"
    )
    with pytest.raises(RulesConfigError, match=r"categories\.lead\.source_channels\.自主申报"):
        load_rules(path)
