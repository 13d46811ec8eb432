"""The demo district's grid: township workbooks filled in and returned, as grid workers do.

After each day's run, some townships (on working days, at most once a day) fill in the
workbook the pipeline sent them and drop it into ``INBOX/feedback/``, where the next run
applies it. The grid reads the workbook as a worker would, by the contract's headers
(``pipeline.dispatch.township_workbook``), never with the pipeline's lifecycle code:

- 预警明细: a share of the open alerts get a result, a verifier and a date (on or before
  the business date, never before 首次预警): most within the 核实期限, some after it,
  some never (they stay overdue).
- 帮扶台账: the listed cases get a contact, the contact's unit, a measure type from the
  drop-down (``rules.assistance.measure_types``), what was done and the date it was put
  in place: most within the month, some after it, some never; now and then a copied row
  adds a second measure, or names another contact.
- A few mistakes a real grid makes on the ledger (a measure type not in the list, no
  contact, a date typed a year ahead), so that the rejection list has something to show;
  the next return of the case gets it right.

Every decision is drawn from a ``random.Random`` seeded with the seed and the alert's or
case's id (or the township and date), so a decision never depends on what else is in the
workbook, and the same seed gives the same returned files, byte for byte.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

import fpwarn_demo.names as names
from pipeline.alerts.rules import load_rules
from pipeline.dispatch.township_workbook import (
    ALERT_ID,
    CASE_ID,
    DETAIL_SHEET,
    FILLED_IN,
    LEDGER_FILLED_IN,
    LEDGER_SHEET,
    VERIFICATION_RESULTS,
)
from pipeline.settings import load_settings
from pipeline.steps import run_day

FEEDBACK_FOLDER = "feedback"
# What the grid reads on the sheets besides the columns it fills in (headers of the
# contract), and the columns it fills in, by the field each becomes on a returned row.
RAISED, VERIFY_BY, WORKER, VILLAGE_HEAD = "首次预警", "核实期限", "网格员", "村级网格长"
VILLAGE, SUGGESTED, CONFIRMED, CASE_DUE = "村", "确认类别及建议帮扶", "确认日期", "办结期限"
FILL = {field: header for header, field in FILLED_IN.items()}
LEDGER_FILL = {field: header for header, field in LEDGER_FILLED_IN.items()}
DETAIL_READ = (ALERT_ID, RAISED, VERIFY_BY, WORKER, VILLAGE_HEAD, *FILL.values())
LEDGER_READ = (CASE_ID, VILLAGE, SUGGESTED, CONFIRMED, CASE_DUE, *LEDGER_FILL.values())
# The share of working days on which a township returns its workbook.
RETURN_SHARE = 0.7
# How the verification of an alert goes: never, after the 核实期限, or within it.
NEVER_VERIFIED = 0.12
VERIFIED_LATE = 0.22
# How a case's ledger goes: never, after the month, or within it.
LEDGER_NEVER = 0.2
LEDGER_LATE = 0.25
SECOND_MEASURE = 0.15
CONTACT_CHANGE = 0.2
# A mistake on a case's row in one return (the next return gets it right).
LEDGER_MISTAKE = 0.08
# The results, most of them confirmed, some not true, a few resolved already.
RESULT_WEIGHTS = (0.45, 0.22, 0.23, 0.10)
# A date typed as text now and then (the reader takes the usual forms).
TEXT_DATE = 0.15
# Measure types a grid worker writes that are not in the drop-down.
UNLISTED_MEASURES = ("低保兜底", "产业扶持", "医疗救助", "送温暖")

# The measure a worker picks from what the sheet suggests (确认类别及建议帮扶).
SUGGESTED_MEASURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("医疗", "大病", "参保"), "健康帮扶（医疗救助）"),
    (("控辍", "教育", "失学"), "教育帮扶"),
    (("危房", "住房", "重建"), "住房安全保障"),
    (("供水", "饮水", "送水"), "饮水安全保障"),
    (("低保", "特困", "临时救助", "兜底", "灾后救助"), "综合保障（低保、特困、临时救助）"),
    (("就业", "失业"), "就业帮扶"),
    (("公益性岗位",), "公益岗位"),
    (("产业", "经营"), "产业帮扶"),
    (("技能培训",), "扶志扶智"),
    (("收入", "监测评议", "资产"), "金融帮扶（小额信贷）"),
)
MEASURE_CONTENT: dict[str, tuple[str, ...]] = {
    "产业帮扶": ("发放产业奖补资金，扶持发展{industry}", "落实{industry}产业项目，技术员上门指导"),
    "就业帮扶": ("推荐到{company}务工，月收入约3500元", "组织参加技能培训，推荐就近就业"),
    "公益岗位": ("安排村级保洁公益岗位", "安排护林员公益岗位，每月补贴800元"),
    "金融帮扶（小额信贷）": ("办理小额信贷5万元，用于发展{industry}", "落实小额信贷贴息"),
    "健康帮扶（医疗救助）": ("落实医疗救助和大病保险报销", "签约家庭医生，办理慢性病门诊卡"),
    "教育帮扶": ("落实教育资助和雨露计划补助", "劝返复学，落实寄宿生生活补助"),
    "住房安全保障": ("纳入危房改造，已开工维修", "落实农房修缮补助，已完成加固"),
    "饮水安全保障": ("维修入户供水管网，已恢复供水", "应急送水，新建蓄水池"),
    "综合保障（低保、特困、临时救助）": ("申请纳入低保，已审批", "发放临时救助金2000元"),
    "社会帮扶（消费帮扶、万企兴万村）": ("结对企业收购{industry}产品", "联系爱心企业捐赠生活物资"),
    "扶志扶智": ("入户宣讲政策，引导发展生产", "组织参加{industry}种养技术培训"),
    "其他": ("入户走访，协调解决实际困难",),
}
DISTRICT_UNITS = (
    "区农业农村局",
    "区乡村振兴局",
    "区民政局",
    "区人力资源和社会保障局",
    "区卫生健康委员会",
    "区教育局",
    "区住房和城乡建设局",
    "区水利局",
    "区财政局",
)
NOTES = {
    "属实-已纳入监测": ("入户核实，情况属实", "已开展入户走访", ""),
    "属实-已落实帮扶": ("已落实帮扶措施", "入户核实，已申请救助", ""),
    "不属实": ("入户核实，家庭收入稳定", "经核实，数据有误", "电话核实，已外出务工"),
    "风险已消除": ("经帮扶，风险已消除", "已稳定就业", ""),
}


@dataclass(frozen=True)
class Returned:
    """One workbook the grid returned: where, and what it filled in."""

    path: Path
    township_code: str
    verified: int
    ledger_rows: int
    mistakes: int


def run_days(
    inbox: Path,
    home: Path,
    dates: Sequence[date],
    seed: int = 7,
    say: Callable[[str], None] | None = None,
) -> None:
    """The daily job on every date in ``dates``, in order, the grid returning some of each
    day's township workbooks after its run (the next run applies them)."""
    settings = load_settings(home, inbox)
    measure_types = load_rules().assistance.measure_types
    for business_date in dates:
        result = run_day(settings, business_date)
        feedback = result.manifest.get("feedback", {})
        returned = return_workbooks(
            result.outbox / "townships", inbox, business_date, measure_types, seed
        )
        filled = ", ".join(
            f"{item.township_code} ({item.verified} 条核实、{item.ledger_rows} 条台账)"
            for item in returned
        )
        (say or _silent)(
            f"{business_date}: 预警 {result.manifest.get('alerts', {}).get('raised', 0)} 条新增；"
            f"回传核实表应用 {feedback.get('rows_applied', 0)} 行、退回 "
            f"{feedback.get('rows_rejected', 0)} 行；网格回传 {filled or '无'}；"
            f"outbox {result.outbox}"
        )


def _silent(_: str) -> None:
    pass


def is_working_day(day: date) -> bool:
    """A working day on China's official calendar (Monday-Friday for a year it lacks)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def return_workbooks(
    townships: Path,
    inbox: Path,
    business_date: date,
    measure_types: Sequence[str],
    seed: int = 7,
) -> list[Returned]:
    """The grid's returns of the day: the workbooks in ``townships`` (the day's outbox
    folder) that some townships fill in and drop into ``INBOX/feedback/`` (on working days
    only); the outbox files themselves are never changed."""
    if not is_working_day(business_date) or not townships.is_dir():
        return []
    folder = inbox / FEEDBACK_FOLDER
    returned = []
    for source in sorted(townships.glob("*.xlsx")):
        township = source.name.split("_", 1)[0]
        draw = random.Random(f"{seed}/return/{township}/{business_date.isoformat()}")
        if draw.random() >= RETURN_SHARE:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        filled = fill_workbook(source, folder / source.name, business_date, measure_types, seed)
        if filled is not None:
            returned.append(filled)
    return returned


def fill_workbook(
    source: Path,
    target: Path,
    business_date: date,
    measure_types: Sequence[str],
    seed: int = 7,
) -> Returned | None:
    """``source`` as the township's grid fills it in on ``business_date``, saved as
    ``target`` (``source`` is not changed); None, and nothing saved, when there was
    nothing to fill in that day."""
    book = openpyxl.load_workbook(source)
    parts = source.stem.split("_")
    township_code = parts[0]
    township_name = parts[1] if len(parts) > 2 else "乡镇"
    grid = _Grid(business_date, tuple(measure_types), seed, township_name)
    if DETAIL_SHEET in book.sheetnames:
        grid.verify(book[DETAIL_SHEET])
    if LEDGER_SHEET in book.sheetnames:
        grid.keep_ledger(book[LEDGER_SHEET])
    if not grid.verified and not grid.ledger_rows:
        return None
    book.properties.lastModifiedBy = f"{township_name}网格工作站"
    _save(book, target, datetime.combine(business_date, time(17, 30)))
    return Returned(target, township_code, grid.verified, grid.ledger_rows, grid.mistakes)


class _Grid:
    """One township's grid workers on one day."""

    def __init__(
        self, business_date: date, measure_types: tuple[str, ...], seed: int, township: str
    ) -> None:
        self.day = business_date
        self.measure_types = measure_types
        self.seed = seed
        self.township = township
        self.verified = self.ledger_rows = self.mistakes = 0

    def _rng(self, *key: object) -> random.Random:
        return random.Random("/".join(map(str, (self.seed, *key))))

    # -- 预警明细 ----------------------------------------------------------------------

    def verify(self, sheet: Worksheet) -> None:
        located = _header(sheet, ALERT_ID, DETAIL_READ)
        if located is None:
            return  # not the sheet that was sent: nobody fills it in
        first_row, column = located
        for row in range(first_row + 1, sheet.max_row + 1):
            alert_id = _text(sheet.cell(row, column[ALERT_ID]).value)
            raised = _as_date(sheet.cell(row, column[RAISED]).value)
            due = _as_date(sheet.cell(row, column[VERIFY_BY]).value)
            if not alert_id or raised is None or due is None:
                continue
            if _text(sheet.cell(row, column[FILL["result"]]).value):
                continue
            rng = self._rng("alert", alert_id)
            when = _verification_day(rng, raised, max(due, raised))
            if when is None or when > self.day:
                continue
            result = rng.choices(VERIFICATION_RESULTS, weights=RESULT_WEIGHTS)[0]
            worker = _text(sheet.cell(row, column[WORKER]).value)
            head = _text(sheet.cell(row, column[VILLAGE_HEAD]).value)
            verifier = head if rng.random() < 0.15 and head else worker
            if not verifier:
                verifier = _cadre_name(rng)
            note = rng.choice(NOTES[result])
            sheet.cell(row, column[FILL["result"]]).value = result
            sheet.cell(row, column[FILL["verifier"]]).value = verifier
            sheet.cell(row, column[FILL["verified_on"]]).value = _typed_date(rng, when)
            if note:
                sheet.cell(row, column[FILL["note"]]).value = note
            self.verified += 1

    # -- 帮扶台账 ----------------------------------------------------------------------

    def keep_ledger(self, sheet: Worksheet) -> None:
        located = _header(sheet, CASE_ID, LEDGER_READ)
        if located is None:
            return
        first_row, column = located
        cases: dict[str, list[int]] = {}
        for row in range(first_row + 1, sheet.max_row + 1):
            case_id = _text(sheet.cell(row, column[CASE_ID]).value)
            if case_id:
                cases.setdefault(case_id, []).append(row)
        last = sheet.max_row
        for case_id, rows in cases.items():
            last = self._keep_case(sheet, column, case_id, rows, last)

    def _keep_case(
        self, sheet: Worksheet, column: dict[str, int], case_id: str, rows: list[int], last: int
    ) -> int:
        """Fill in one case's rows (or add copied ones); returns the sheet's last row."""
        row = rows[0]
        confirmed = _as_date(sheet.cell(row, column[CONFIRMED]).value)
        due = _as_date(sheet.cell(row, column[CASE_DUE]).value)
        if confirmed is None or due is None:
            return last
        recorded = [
            r for r in rows if _text(sheet.cell(r, column[LEDGER_FILL["put_in_place_on"]]).value)
        ]
        contacts = {_text(sheet.cell(r, column[LEDGER_FILL["contact"]]).value) for r in recorded}
        rng = self._rng("case", case_id)
        plan = rng.random()
        if plan < LEDGER_NEVER + LEDGER_LATE:
            when = due + timedelta(days=rng.randint(1, 15))
        else:
            span = max(1, (due - confirmed).days - 1)
            when = confirmed + timedelta(days=1 + min(span - 1, _early(rng, span)))
        village = _text(sheet.cell(row, column[VILLAGE]).value) or "本村"
        suggested = _text(sheet.cell(row, column[SUGGESTED]).value)
        contact, unit = _cadre_name(rng), self._unit(rng, village)
        first, second = self._measures(rng, suggested)
        more = rng.random() < SECOND_MEASURE
        change = rng.random() < CONTACT_CHANGE
        new_contact, new_unit = _cadre_name(rng), self._unit(rng, village)
        change_after = rng.randint(3, 15)
        if recorded:
            # In place already: now and then the contact can no longer serve, and a copied
            # row names the new one, with the measure the new contact put in place.
            put = [
                _as_date(sheet.cell(r, column[LEDGER_FILL["put_in_place_on"]]).value)
                for r in recorded
            ]
            changed_on = (
                min(p for p in put if p is not None) + timedelta(days=change_after)
                if any(put)
                else None
            )
            if (
                change
                and changed_on is not None
                and changed_on <= self.day
                and new_contact not in contacts
            ):
                last += 1
                _copy_row(sheet, row, last)
                values = [new_contact, new_unit, second, self._content(rng, second), changed_on]
                self._put(sheet, column, last, values, case_id, mistakes=True)
            return last
        if plan < LEDGER_NEVER or when > self.day:
            return last  # not in place (yet): overdue once the month is over
        free = next(
            (
                r
                for r in rows
                if not _text(sheet.cell(r, column[LEDGER_FILL["measure_type"]]).value)
            ),
            None,
        )
        if free is None:
            free = last = last + 1
            _copy_row(sheet, row, free)
        values = [contact, unit, first, self._content(rng, first), when]
        self._put(sheet, column, free, values, case_id, mistakes=True)
        if more:
            # A copied row with the same case id: a second measure.
            last += 1
            _copy_row(sheet, row, last)
            later = min(when + timedelta(days=rng.randint(0, 10)), self.day)
            values = [contact, unit, second, self._content(rng, second), later]
            self._put(sheet, column, last, values, case_id)
        return last

    def _put(
        self,
        sheet: Worksheet,
        column: dict[str, int],
        row: int,
        values: list[Any],
        case_id: str = "",
        *,
        mistakes: bool = False,
    ) -> None:
        contact, unit, measure, content, when = values
        rng = self._rng("ledger", case_id, self.day, measure, when)
        if mistakes and self._rng("case-mistake", case_id, self.day).random() < LEDGER_MISTAKE:
            self.mistakes += 1
            kind = rng.randrange(3)
            if kind == 0:
                measure = rng.choice(UNLISTED_MEASURES)
            elif kind == 1:
                contact = None
            else:
                when = _year_ahead(when)
        sheet.cell(row, column[LEDGER_FILL["contact"]]).value = contact
        sheet.cell(row, column[LEDGER_FILL["contact_unit"]]).value = unit
        sheet.cell(row, column[LEDGER_FILL["measure_type"]]).value = measure
        sheet.cell(row, column[LEDGER_FILL["measure"]]).value = content
        sheet.cell(row, column[LEDGER_FILL["put_in_place_on"]]).value = _typed_date(rng, when)
        self.ledger_rows += 1

    def _measures(self, rng: random.Random, suggested: str) -> tuple[str, str]:
        """The measure the suggestion calls for, and another one for a second measure."""
        fitting = [
            measure
            for words, measure in SUGGESTED_MEASURES
            if measure in self.measure_types and any(word in suggested for word in words)
        ]
        others = [m for m in self.measure_types if m != "其他"] or list(self.measure_types)
        first = rng.choice(fitting) if fitting else rng.choice(others)
        rest = [m for m in [*fitting, *others] if m != first] or [first]
        return first, rng.choice(rest)

    def _content(self, rng: random.Random, measure: str) -> str:
        template = rng.choice(MEASURE_CONTENT.get(measure, MEASURE_CONTENT["其他"]))
        company = rng.choice(names.COMPANY_WORDS) + rng.choice(names.COMPANY_TRADES) + "有限公司"
        return template.format(industry=rng.choice(names.INDUSTRIES), company=company)

    def _unit(self, rng: random.Random, village: str) -> str:
        draw = rng.random()
        if draw < 0.35:
            return f"{self.township}人民政府"
        if draw < 0.65:
            return f"{village}村民委员会"
        return rng.choice(DISTRICT_UNITS)


def _header(sheet: Worksheet, key: str, wanted: Sequence[str]) -> tuple[int, dict[str, int]] | None:
    """The header row (the first of the top rows holding ``key``) and the columns by
    header; None when one of the ``wanted`` headers is missing (headers edited: the grid
    does not fill in a sheet it does not recognise)."""
    for row in range(1, min(sheet.max_row, 5) + 1):
        found: dict[str, int] = {}
        for cell in sheet[row]:
            text = "".join(_text(cell.value).split())
            if text and text not in found:
                found[text] = cell.column
        if key in found:
            if all(header in found for header in wanted):
                return row, found
            return None
    return None


def _verification_day(rng: random.Random, raised: date, due: date) -> date | None:
    """When the alert is verified on the ground: never, within the deadline, or after it."""
    draw = rng.random()
    if draw < NEVER_VERIFIED:
        return None
    if draw < NEVER_VERIFIED + VERIFIED_LATE:
        return _working_on_or_after(due + timedelta(days=rng.randint(1, 12)))
    span = [
        raised + timedelta(days=offset)
        for offset in range((due - raised).days + 1)
        if is_working_day(raised + timedelta(days=offset))
    ]
    # Most are verified in the first days, a few near the deadline.
    return span[min(len(span) - 1, _early(rng, len(span)))] if span else raised


def _early(rng: random.Random, span: int) -> int:
    """A day of a span of ``span`` days, the early ones likelier (a third of it on average)."""
    return int(rng.expovariate(3 / span))


def _working_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _year_ahead(day: date) -> date:
    return (
        day.replace(year=day.year + 1) if (day.month, day.day) != (2, 29) else day + timedelta(366)
    )


def _typed_date(rng: random.Random, day: date) -> object:
    """A date cell mostly; now and then the date typed as text."""
    if rng.random() >= TEXT_DATE:
        return day
    return rng.choice(
        (f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日")
    )


def _cadre_name(rng: random.Random) -> str:
    sex = "男" if rng.random() < 0.6 else "女"
    return names.person_name(rng, sex, date(rng.randint(1966, 1996), 6, 1))


def _copy_row(sheet: Worksheet, source: int, target: int) -> None:
    """A row copied below the table, as a worker copies a case's row to add a measure."""
    for cell in sheet[source]:
        copied = sheet.cell(target, cell.column)
        copied.value = cell.value
        if cell.has_style:
            copied._style = copy(cell._style)
    height = sheet.row_dimensions[source].height
    if height is not None:
        sheet.row_dimensions[target].height = height


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _save(book: Any, target: Path, moment: datetime) -> None:
    """The workbook as bytes that depend on its content and ``moment`` only (openpyxl's
    ``save`` stamps the clock into the document properties and the zip entries)."""
    book.properties.created = book.properties.modified = moment
    draft = io.BytesIO()
    with zipfile.ZipFile(draft, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    final = io.BytesIO()
    with zipfile.ZipFile(draft) as source, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            stamped = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            stamped.external_attr = 0o600 << 16
            out.writestr(stamped, source.read(entry))
    # Written beside it first: the next run never sees half a workbook.
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(final.getvalue())
    partial.replace(target)
