"""A whole demo district: every feed's deliveries in an inbox, the claims view, the truth.

Headers, encodings, sheet names, formats and the view name come from the
project's feed registry. The same arguments always give the same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases, plant_cases
from fpwarn_demo.defects import APPLIERS, ID_BREAKING, Shape, plant
from fpwarn_demo.departments.medical_claims import write_claims
from fpwarn_demo.feeds import Increments, Snapshots
from fpwarn_demo.population import District, build_district, give_rare_names, random_date
from fpwarn_demo.shared import PROTECTED, Row, business_dates, snapshot_dates
from fpwarn_demo.writers import DataRow, csv_bytes, write_xlsx
from pipeline.alerts.rules import load_rules
from pipeline.feeds.inbox import MARKER_SUFFIX, delivery_path, write_marker
from pipeline.feeds.registry import FeedSpec, load_registry

# Deliveries that the pipeline must refuse to read: they carry no row defects.
UNREADABLE = ("no_marker", "wrong_row_count", "bad_digest")
# Departments that may skip a day now and then (the next delivery catches up).
MAY_SKIP = ("hrss_employment", "edu_students", "civil_assistance", "police_hukou")
# Feeds delivered clean: their bad rows are tested on their own (tests/feeds/test_grid_reports.py).
CLEAN_FEEDS = ("grid_reports", "leads")
BROKEN_CANDIDATES = ("hrss_employment", "police_hukou", "civil_assistance", "applications")
HEADER_CANDIDATES = (
    "hrss_employment",
    "police_hukou",
    "civil_assistance",
    "water_supply",
    "edu_students",
)


@dataclass(frozen=True)
class DemoSummary:
    inbox: Path
    claims_url: str
    households: int
    members: int
    townships: int
    villages: int
    grids: int
    files: Mapping[str, tuple[str, ...]]
    claims_rows: int
    truth_path: Path


@dataclass(frozen=True)
class _Plan:
    """Delivery-level events of the range: broken deliveries, skipped days, a renamed header."""

    broken: dict[tuple[str, date], str]
    skipped: dict[str, date]
    header_variant: tuple[str, date] | None


def generate_district(
    inbox: Path,
    *,
    households: int,
    start: date,
    end: date,
    seed: int = 7,
    claims_url: str | None = None,
    registry: Mapping[str, FeedSpec] | None = None,
) -> DemoSummary:
    """Write every feed's deliveries for ``start``..``end`` into ``inbox``, and the claims view.

    ``registry`` defaults to the project's feed registry (``load_registry()``).
    """
    if end < start:
        raise ValueError("end is before start")
    specs = dict(registry if registry is not None else load_registry())
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    district = build_district(households, start, random.Random(f"{seed}/district"))
    rare = give_rare_names(district, random.Random(f"{seed}/rare"))
    members_at_start = len(district.persons)
    plan = _plan(specs, start, end, seed)
    unreadable = {key for key, defect in plan.broken.items() if defect in UNREADABLE}
    cases = plant_cases(
        district, start, end, random.Random(f"{seed}/cases"), load_rules(), unreadable
    )
    increments = Increments(district, start, end, seed, cases).generate(rare)
    snapshots = Snapshots(district, seed, cases)
    truth_rows: list[dict[str, object]] = []
    truth_deliveries: list[dict[str, object]] = []
    files: dict[str, tuple[str, ...]] = {}
    claims_rows = 0
    for feed, spec in specs.items():
        if spec.format == "sql":
            continue
        shape = Shape.of(spec)
        rng = random.Random(f"{seed}/defects/{feed}")
        # Each row's ID number before any defect, for the truth of the defects that break it.
        true_ids: TrueIds = {}
        decoy = _decoy_maker(
            feed, spec, shape, district, random.Random(f"{seed}/decoys/{feed}"), true_ids
        )
        written: list[str] = []
        if spec.kind == "snapshot":
            dates = [start] if feed == "grids" else snapshot_dates(start, end)
            for day in dates:
                rows = [_data_row(spec, row) for row in snapshots.rows(feed, day)]
                _remember_ids(shape, [rows], true_ids)
                plant(shape, [rows], rng, decoy)
                written.append(
                    _deliver(
                        inbox, spec, shape, day, rows, plan, truth_rows, truth_deliveries, true_ids
                    )
                )
        else:
            by_day = _increment_days(feed, increments, plan, start, end)
            deliveries = {
                day: [_data_row(spec, row) for row in rows] for day, rows in by_day.items()
            }
            readable = [
                rows
                for day, rows in deliveries.items()
                if plan.broken.get((feed, day)) not in UNREADABLE
            ]
            if feed not in CLEAN_FEEDS:
                _remember_ids(shape, readable, true_ids)
                plant(shape, readable, rng, decoy)
            for day, rows in deliveries.items():
                written.append(
                    _deliver(
                        inbox, spec, shape, day, rows, plan, truth_rows, truth_deliveries, true_ids
                    )
                )
        files[feed] = tuple(written)
    url = claims_url
    for feed, spec in specs.items():
        if spec.format != "sql" or spec.sql is None:
            continue
        if url is None:
            frontend = inbox / "_frontend"
            frontend.mkdir(parents=True, exist_ok=True)
            database = frontend / "med_claims.sqlite"
            # A fresh file, so that a rerun gives the same bytes.
            database.unlink(missing_ok=True)
            url = f"sqlite:///{database.resolve()}"
        result = write_claims(url, spec, district, start, end, seed, cases)
        claims_rows += result.rows
        truth_rows += [
            {"feed": feed, "file": spec.sql.view, "row": serial, "defect": defect}
            for serial, defect in result.truth
        ]
        files[feed] = (spec.sql.view,)
    truth_path = _write_truth(
        inbox, seed, households, start, end, plan, truth_rows, truth_deliveries, cases
    )
    return DemoSummary(
        inbox=inbox,
        claims_url=url or "",
        households=len(district.households),
        members=members_at_start,
        townships=len(district.townships),
        villages=len(district.villages),
        grids=len(district.grids),
        files=files,
        claims_rows=claims_rows,
        truth_path=truth_path,
    )


def _data_row(spec: FeedSpec, row: Row) -> DataRow:
    return DataRow(
        [row.get(column.field) for column in spec.columns], protected=bool(row.get(PROTECTED))
    )


def _plan(specs: Mapping[str, FeedSpec], start: date, end: date, seed: int) -> _Plan:
    rng = random.Random(f"{seed}/deliveries")
    days = business_dates(start, end)
    later = days[1:] if len(days) >= 3 else days
    broken: dict[tuple[str, date], str] = {}
    candidates = [feed for feed in BROKEN_CANDIDATES if feed in specs]
    for feed, defect in zip(
        rng.sample(candidates, min(3, len(candidates))), UNREADABLE, strict=False
    ):
        broken[(feed, rng.choice(later))] = defect
    if "edu_students" in specs:
        broken[("edu_students", rng.choice(later))] = "wrong_encoding"
    skipped: dict[str, date] = {}
    if len(days) >= 5:
        for feed in MAY_SKIP:
            if feed in specs and rng.random() < 0.5:
                day = rng.choice(days[1:-1])
                if (feed, day) not in broken:
                    skipped[feed] = day
    header_variant = None
    options = [
        (feed, day)
        for feed in HEADER_CANDIDATES
        if feed in specs and specs[feed].format == "csv"
        for day in later
        if (feed, day) not in broken and skipped.get(feed) != day
    ]
    if options:
        header_variant = rng.choice(options)
    return _Plan(broken, skipped, header_variant)


def _increment_days(
    feed: str, increments: dict[str, dict[date, list[Row]]], plan: _Plan, start: date, end: date
) -> dict[date, list[Row]]:
    """Rows per delivery date; a skipped day's changes arrive with the next delivery."""
    by_day = increments.get(feed)
    if by_day is None:
        raise ValueError(f"the demo district has no generator for increment feed {feed!r}")
    result: dict[date, list[Row]] = {}
    carried: list[Row] = []
    for day in business_dates(start, end):
        rows = carried + by_day.get(day, [])
        if plan.skipped.get(feed) == day and day != end:
            carried = rows
            continue
        carried = []
        result[day] = rows
    return result


# The ID number of a row before its defects, by the row's identity (the rows stay alive in
# their deliveries until written): the row itself is kept with it.
TrueIds = dict[int, tuple[DataRow, object]]


def _remember_ids(shape: Shape, deliveries: list[list[DataRow]], true_ids: TrueIds) -> None:
    if shape.id_col is None:
        return
    for rows in deliveries:
        for row in rows:
            true_ids[id(row)] = (row, row.values[shape.id_col])


def _true_id(row: DataRow, true_ids: TrueIds | None) -> object:
    kept = (true_ids or {}).get(id(row))
    return kept[1] if kept is not None and kept[0] is row else None


def _decoy_maker(
    feed: str,
    spec: FeedSpec,
    shape: Shape,
    district: District,
    rng: random.Random,
    true_ids: TrueIds | None = None,
) -> Callable[[str, random.Random], DataRow] | None:
    """Extra rows for defects that must not touch real households (see ``Shape``)."""
    if not shape.decoy_kinds:
        return None
    numbers = iter(range(9999, 1000, -1))

    def household_id(village_code: str) -> str:
        while True:
            candidate = f"{village_code}{next(numbers):04d}"
            if candidate not in district.used_household_ids:
                district.used_household_ids.add(candidate)
                return candidate

    def make(kind: str, kind_rng: random.Random) -> DataRow:
        village = rng.choice(district.villages)
        sex = "男" if rng.random() < 0.7 else "女"
        birth = random_date(rng, date(1950, 1, 1), date(1990, 12, 28))
        number = district.new_id(rng, birth, sex)
        name = names.person_name(rng, sex, birth)
        if feed == "households":
            grid = rng.choice(village.grids)
            row: Row = {
                "household_id": household_id(village.code),
                "head_name": name,
                "head_id_number": number,
                "township_code": village.township.code,
                "township_name": village.township.name,
                "village_code": village.code,
                "village_name": village.name,
                "villager_group": names.group_name(int(grid.grid_id[-2:])),
                "grid_id": grid.grid_id,
                "household_type": "一般农户",
                "household_size": rng.randint(1, 5),
                "net_income_last_year_yuan": float(rng.randrange(20000, 90000, 100)),
                "phone": names.mobile(rng),
            }
        else:
            row = {
                "household_id": household_id(village.code),
                "name": name,
                "id_number": number,
                "relation": "户主",
                "sex": sex,
                "labour_skill": "普通劳动力",
                "health": "健康",
                "schooling": "非在校生",
                "work_status": "县内务工",
            }
        data = _data_row(spec, row)
        if true_ids is not None:
            true_ids[id(data)] = (data, number)
        if kind in APPLIERS and not APPLIERS[kind](data.values, shape, kind_rng):
            raise AssertionError(f"decoy cannot carry {kind}")
        data.defect = kind
        return data

    return make


def _deliver(
    inbox: Path,
    spec: FeedSpec,
    shape: Shape,
    day: date,
    rows: list[DataRow],
    plan: _Plan,
    truth_rows: list[dict[str, object]],
    truth_deliveries: list[dict[str, object]],
    true_ids: TrueIds | None = None,
) -> str:
    """Write one delivery (data first, marker last) and note its planted defects (with the
    true ID number of a row whose defect broke it)."""
    path = delivery_path(inbox, spec, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = path.with_name(path.name + MARKER_SUFFIX)
    # As senders re-deliver: the old marker goes first.
    marker.unlink(missing_ok=True)
    broken = plan.broken.get((spec.feed, day))
    header = [column.name for column in spec.columns]
    if plan.header_variant == (spec.feed, day):
        header = [(f" {name} ", f"{name}\u3000", name)[i % 3] for i, name in enumerate(header)]
        truth_deliveries.append({"feed": spec.feed, "file": path.name, "defect": "header_variant"})
    _write_data(path, spec, shape, day, header, rows, broken)
    if broken is not None:
        truth_deliveries.append({"feed": spec.feed, "file": path.name, "defect": broken})
    if broken != "no_marker":
        count = len(rows)
        if broken == "wrong_row_count":
            count += 3 if count < 3 or day.day % 2 else -2
        write_marker(path, count)
    if broken == "bad_digest":
        # The sender corrected a value after writing the marker.
        changed = [DataRow(list(row.values)) for row in rows]
        column = shape.name_col if shape.name_col is not None else 0
        changed[-1].values[column] = f"{changed[-1].values[column]}补"
        _write_data(path, spec, shape, day, header, changed, broken)
    for number, row in enumerate(rows, start=1):
        if row.defect is not None:
            entry: dict[str, object] = {
                "feed": spec.feed,
                "file": path.name,
                "row": number,
                "defect": row.defect,
            }
            if row.defect in ID_BREAKING:
                entry["true_id_number"] = _true_id(row, true_ids)
            truth_rows.append(entry)
    return path.name


def _write_data(
    path: Path,
    spec: FeedSpec,
    shape: Shape,
    day: date,
    header: list[str],
    rows: list[DataRow],
    broken: str | None,
) -> None:
    if spec.format == "csv":
        assert spec.encoding is not None
        encoding = "utf-8" if broken == "wrong_encoding" else spec.encoding
        path.write_bytes(csv_bytes(header, rows, encoding, shape.date_style))
        return
    assert spec.sheet is not None
    footer: list[list[object]] = []
    extra: list[tuple[str, list[list[object]]]] = []
    if spec.feed == "housing_safety":
        footer = _housing_footer(rows, day, len(header))
    if spec.feed == "households":
        extra = [("说明", _households_notes(day))]
    write_xlsx(path, spec.sheet, header, rows, footer=footer, extra_sheets=extra)


def _housing_footer(rows: list[DataRow], day: date, width: int) -> list[list[object]]:
    grades = [str(value) for row in rows for value in row.values if value in ("C级", "D级")]
    total: list[object] = [
        "合计",
        f"{len(rows)}户",
        None,
        f"C级{grades.count('C级')}户，D级{grades.count('D级')}户",
    ]
    signature = f"制表人：汪建华　审核人：檀志刚　日期：{day.year}年{day.month}月{day.day}日"
    return [total + [None] * (width - len(total)), [signature]]


def _households_notes(day: date) -> list[list[object]]:
    return [
        ["说明"],
        [
            f"1. 本表由全国防止返贫监测信息系统导出，数据日期：{day.year}年{day.month}月{day.day}日。"
        ],
        ["2. 户类型分为脱贫户、监测户、一般农户；监测类型、风险状态、识别监测时间仅监测户填写。"],
        ["3. 上年家庭纯收入单位为元，为全家上一年度纯收入。"],
        ["4. 本表含个人信息，仅限工作使用，不得外传。"],
    ]


def _write_truth(
    inbox: Path,
    seed: int,
    households: int,
    start: date,
    end: date,
    plan: _Plan,
    rows: list[dict[str, object]],
    deliveries: list[dict[str, object]],
    cases: Cases,
) -> Path:
    folder = inbox / "_demo"
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "seed": seed,
        "households": households,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": rows,
        "deliveries": deliveries,
        "skipped": [
            {"feed": feed, "date": day.isoformat()} for feed, day in sorted(plan.skipped.items())
        ],
        # The open alerts expected after the run of the end date, by docs/warning-rules.md.
        "alerts": cases.expected_alerts(),
        # What was planted for them: one entry per household and category, base grade first.
        "cases": cases.notes,
        # The regional warnings those events call for, on some date of the district.
        "regional": cases.regional,
        # The planted leads (群众反映线索) with their true match: the registered member's ID
        # number and household, or none (fpwarn_demo/leads.py).
        "leads": cases.leads,
    }
    # One entry per line: thousands of rows stay readable and diffable.
    parts = []
    for name, value in document.items():
        if isinstance(value, list):
            entries = ",\n".join("  " + json.dumps(entry, ensure_ascii=False) for entry in value)
            text = f"[\n{entries}\n ]" if value else "[]"
        else:
            text = json.dumps(value, ensure_ascii=False)
        parts.append(f" {json.dumps(name)}: {text}")
    path = folder / "truth.json"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
    temporary.replace(path)
    return path
