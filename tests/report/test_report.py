"""The daily report as the bureau opens it: report.html in headless Chromium, offline.

Every chart is drawn, nothing is fetched from anywhere, the Chinese font is there, and
every figure shown equals what the warehouse and alerts.csv hold.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from pipeline.daily import run_day
from pipeline.demo import generate_district
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
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
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
    assert browser_page.locator("#feeds tr[data-feed]").count() == 15


def test_a_printable_pdf_comes_with_it(outbox):
    folder, _ = outbox
    pdf = (folder / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert (
        pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") >= 3
    )
