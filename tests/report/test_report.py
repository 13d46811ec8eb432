"""The daily report as the bureau opens it: report.html in headless Chromium, offline.

Every chart is drawn, nothing is fetched from anywhere, the Chinese font is there, and
every figure shown equals what the warehouse and alerts.csv hold.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from fpwarn_demo.names import TOWNSHIP_NAMES
from pipeline.alerts.rules import load_rules
from pipeline.assessment import assessment, running_period
from pipeline.feeds.registry import load_registry
from pipeline.report.figures import DailyFigures
from pipeline.report.page import report_pdf
from pipeline.steps import run_day
from tests.conftest import home_for

START, END = date(2026, 3, 1), date(2026, 3, 4)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def outbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    summary = generate_district(root / "inbox", households=600, start=START, end=END, seed=3)
    settings = home_for(root, summary.claims_url, summary.inbox)
    day = START
    # The suite turns the report off (tests/conftest.py): this module looks at it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_DAILY_REPORT", "true")
        while day <= END:
            result = run_day(settings, day)
            day += timedelta(days=1)
    return result.outbox, settings.home.warehouse


@pytest.fixture(scope="module")
def page(outbox):
    if not os.path.exists(CHROMIUM):
        message = "Chromium is not installed (.ci/run installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    folder, _ = outbox
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto((folder / "report.html").as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        yield page, requests
        browser.close()


def test_nothing_leaves_the_machine(page, outbox):
    _, requests = page
    folder, _ = outbox
    assert requests == [(folder / "report.html").as_uri()]


VISIBLE_PATCHES = """svg => [...svg.querySelectorAll('g[id^="patch_"] path')]
    .filter(path => { const box = path.getBBox(); return box.width > 0 && box.height > 0; })
    .length"""


def test_every_chart_is_drawn(page, outbox):
    browser_page, _ = page
    folder, _ = outbox
    alerts = pd.read_csv(folder / "alerts.csv", encoding="utf-8-sig", dtype=str)
    # Bars drawn for every non-zero (township, grade) and (category, grade); matplotlib
    # adds two background patches (figure and axes) to each chart.
    bars = {
        "townships": alerts.groupby(["township_code", "grade"]).ngroups,
        "categories": alerts.groupby(["category", "grade"]).ngroups,
        "trend": 1,
        "verification": 1,
    }
    for name, expected in bars.items():
        chart = browser_page.locator(f"#chart-{name} svg")
        box = chart.bounding_box()
        assert box is not None, name
        assert box["width"] > 300, (name, box)
        assert box["height"] > 150, (name, box)
        assert chart.evaluate(VISIBLE_PATCHES) >= expected + 2, name
        assert chart.locator("text").count() > 5, name
    trend_lines = browser_page.locator('#chart-trend svg g[id^="line2d_"] path').count()
    assert trend_lines >= 3  # open, escalated, and the axes' ticks at least


def test_chinese_text_has_a_font_with_its_glyphs(page):
    browser_page, _ = page
    assert browser_page.evaluate(
        "document.fonts.check('16px \"Noto Sans CJK SC\"', '防止返贫预警')"
    )
    title = browser_page.locator("h1").inner_text()
    assert title == "防止返贫动态监测预警日报"


def test_the_figures_shown_are_the_warehouse_figures(page, outbox):
    browser_page, _ = page
    folder, warehouse = outbox
    shown = {
        element.get_attribute("data-figure"): int(element.inner_text())
        for element in browser_page.locator("[data-figure]").all()
    }
    alerts = pd.read_csv(folder / "alerts.csv", encoding="utf-8-sig", dtype=str)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        open_in_warehouse = connection.execute(
            "select count(*) from alerts.alerts where status in ('new', 'open', 'escalated')"
        ).fetchone()[0]
    assert shown["open"] == len(alerts) == open_in_warehouse
    assert shown["new"] == (alerts["status"] == "new").sum()
    assert shown["escalated"] == (alerts["status"] == "escalated").sum()
    assert shown["households"] == alerts["household_id"].nunique()
    for grade in ("red", "orange", "yellow"):
        assert shown[grade] == (alerts["grade"] == grade).sum()
    assert len(alerts) > 0
    # The township table adds up to the same alerts, township by township.
    totals = {
        row.get_attribute("data-township"): int(row.locator("[data-total]").inner_text())
        for row in browser_page.locator("#townships tr[data-township]").all()
    }
    expected = alerts.groupby("township_code").size().to_dict()
    assert {code: count for code, count in totals.items() if count} == expected
    # One row per feed of the registry in the feed health table.
    assert browser_page.locator("#feeds tr[data-feed]").count() == len(load_registry())


def test_the_running_assessment_shown_is_the_warehouses(page, outbox):
    """The section 考核评估 shows the running days per township and the district, as
    pipeline.assessment counts them (docs/assistance.md, "Assessment")."""
    browser_page, _ = page
    _, warehouse = outbox
    rules = load_rules()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        table = assessment(connection, rules, running_period(rules, END), END)
    expected = {
        (row["level"], row["township_code"] or ""): [
            str(row[name])
            for name in ("alerts_due", "alerts_verified_on_time", "alerts_verified_late")
        ]
        for row in table[table["level"] != "village"].to_dict("records")
    }
    shown = {
        (row.get_attribute("data-level"), row.get_attribute("data-township")): [
            cell.strip() for cell in row.locator("td").all_inner_texts()[1:4]
        ]
        for row in browser_page.locator("#assessment tr[data-level]").all()
    }
    assert shown == expected
    assert ("district", "") in shown
    assert browser_page.locator("#chart-precision svg").count() == 1
    assert browser_page.locator("#cases [data-cases]").count() == 4


def test_the_first_of_the_month_brings_the_previous_months_assessment(outbox):
    folder, _ = outbox
    for day in range(1, 5):
        outbox_of_day = folder.parent / f"2026-03-0{day}"
        outputs = json.loads((outbox_of_day / "manifest.json").read_text(encoding="utf-8"))[
            "outputs"
        ]
        files = sorted(name for name in outputs if name.startswith("assessment_"))
        assert files == (["assessment_202602.csv", "assessment_202602.xlsx"] if day == 1 else [])
        assert sorted(path.name for path in outbox_of_day.glob("assessment_*")) == files
    html = (folder / "report.html").read_text(encoding="utf-8")
    for heading in ("考核评估（2026-02-03至2026-03-04）", "帮扶台账", "核实结果反映的规则精度"):
        assert heading in html


SVG_TEXTS = """svg => {
    const frame = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')].map(text => {
        const box = text.getBoundingClientRect();
        return [text.textContent, box.left >= frame.left && box.right <= frame.right
                && box.top >= frame.top && box.bottom <= frame.bottom];
    });
}"""


def test_every_chart_label_is_whole_on_the_page(page, outbox):
    """The page's charts, as the browser lays their text out, keep every category and
    township label inside the chart."""
    browser_page, _ = page
    folder, _ = outbox
    alerts = pd.read_csv(folder / "alerts.csv", encoding="utf-8-sig", dtype=str)
    categories = load_rules().categories
    shown = {
        name: dict(browser_page.locator(f"#chart-{name} svg").evaluate(SVG_TEXTS))
        for name in ("categories", "townships", "verification")
    }
    labels = {categories[code].label for code in alerts["category"].unique()}
    assert {label: shown["categories"].get(label) for label in labels} == dict.fromkeys(
        labels, True
    )
    townships = browser_page.locator(
        "#townships tr[data-township] td:first-child"
    ).all_inner_texts()
    assert len(townships) >= 3
    for name in ("townships", "verification"):
        assert {town: shown[name].get(town) for town in townships} == dict.fromkeys(
            townships, True
        ), name


def test_a_printable_pdf_comes_with_it(outbox):
    folder, _ = outbox
    pdf = (folder / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert (
        pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") >= 3
    )


def _needs(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (.ci/run installs Debian's {package})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def chart_text(pdf: bytes) -> str:
    """The text of the PDF's chart pages (the first two; the third lists regional warnings,
    which name townships and categories too) in drawing order, all whitespace removed: a
    slanted label comes out one character per line, a label's own space as it may."""
    _needs("pdftotext", "poppler-utils")
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-l", "2", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return re.sub(r"\s+", "", text)


def ink_at_the_edges(pdf: bytes, folder: Path) -> list[str]:
    """Pages drawn on within a tenth of an inch of their edge, where a label running off
    the sheet would show (poppler's text boxes are no help there: they are as tall as the
    font's whole box). The PDF leaves a fifth of an inch blank all round."""
    _needs("pdftoppm", "poppler-utils")
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", "-png", "-", folder / "page"], input=pdf, check=True
    )
    inked = []
    for path in sorted(folder.glob("page-*.png")):
        with Image.open(path) as image:
            edges = image.convert("L")
        band = 5  # pixels at 50 dpi
        edges.paste(255, (band, band, edges.width - band, edges.height - band))
        if edges.getextrema()[0] < 250:  # anything darker than paper
            inked.append(path.name)
    return inked


def unwritten(labels: set[str], text: str) -> set[str]:
    return {label for label in labels if re.sub(r"\s+", "", label) not in text}


def test_the_pdf_shows_every_category_and_township_whole(outbox, tmp_path):
    """Its charts were pictures of the page's figures, cut at the left: 收入低于监测线
    printed as 入低于监测线. Now their labels are text, each one whole on its page."""
    folder, warehouse = outbox
    pdf = (folder / "report.pdf").read_bytes()
    alerts = pd.read_csv(folder / "alerts.csv", encoding="utf-8-sig", dtype=str)
    categories = load_rules().categories
    labels = {categories[code].label for code in alerts["category"].unique()}
    assert {"收入低于监测线", "主要劳动力死亡", "因病 医疗支出负担"} <= labels
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        townships = {
            name
            for (name,) in connection.execute(
                "select distinct township_name from signals.int_households"
            ).fetchall()
        }
    text = chart_text(pdf)
    assert unwritten(labels, text) == set()
    assert unwritten(townships, text) == set()
    assert ink_at_the_edges(pdf, tmp_path) == []


def crowded_district() -> DailyFigures:
    """18 townships (their names slanted) and every category of the rules, as figures."""
    names = TOWNSHIP_NAMES[:18]
    codes = [f"341702{100 + index}" for index in range(len(names))]
    counts = {
        grade: [index % modulo for index in range(len(names))]
        for grade, modulo in (("red", 3), ("orange", 5), ("yellow", 7))
    }
    by_township = pd.DataFrame({"township_code": codes, "township_name": names, **counts})
    by_township["total"] = by_township[["red", "orange", "yellow"]].sum(axis=1)
    categories = load_rules().categories
    by_category = pd.DataFrame(
        {
            "category": list(categories),
            "label": [category.label for category in categories.values()],
            "red": 1,
            "orange": 2,
            "yellow": range(len(categories)),
        }
    )
    by_category["total"] = by_category[["red", "orange", "yellow"]].sum(axis=1)
    day = date(2026, 3, 4)
    days = [day - timedelta(days=back) for back in range(29, -1, -1)]
    trend = pd.DataFrame(
        {"as_of_date": days, "open_alerts": range(30), "new_alerts": 2, "escalated_alerts": 1}
    )
    verification = pd.DataFrame(
        {
            "township_code": codes,
            "township_name": names,
            "awaiting": counts["yellow"],
            "overdue": counts["red"],
            "longest_overdue_days": 0,
            "verified": counts["orange"],
        }
    )
    headline = dict.fromkeys(("open", "new", "escalated", "households", "red", "orange"), 1)
    return DailyFigures(
        business_date=day,
        headline={**headline, "yellow": 1},
        by_township=by_township,
        by_category=by_category,
        trend=trend,
        verification=verification,
        regional=pd.DataFrame({"regional_id": [], "reason": []}),
        feed_health=pd.DataFrame(
            {
                "title": ["农户基础信息"],
                "owner": ["区乡村振兴局"],
                "status": ["loaded"],
                "rows_read": [1],
                "rows_quarantined": [0],
                "top_quarantine_reasons": [None],
            }
        ),
        warnings=[],
    )


def test_a_crowded_pdf_still_shows_every_label_whole(tmp_path):
    """A district of many townships slants their names; every category of the rules is open."""
    figures = crowded_district()
    pdf = report_pdf(figures)
    text = chart_text(pdf)
    assert (
        unwritten({category.label for category in load_rules().categories.values()}, text) == set()
    )
    assert unwritten(set(figures.by_township["township_name"]), text) == set()
    assert ink_at_the_edges(pdf, tmp_path) == []


def test_a_township_name_in_dollars_is_drawn_as_text_not_mathtext():
    """Names are department text: "$\\foo$" would stop matplotlib's mathtext parser."""
    from pipeline.report.charts import chart_svgs

    figures = crowded_district()
    names = ["$\\foo$", "$1$ 镇", *figures.by_township["township_name"][2:]]
    figures.by_township["township_name"] = names
    figures.verification["township_name"] = names
    assert "$\\foo$" in chart_svgs(figures)["townships"]
    assert "$\\foo$" in chart_text(report_pdf(figures))
