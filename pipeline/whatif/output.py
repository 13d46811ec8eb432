"""The what-if's page, workbook and terminal figures (docs/warning-rules.md, "Trying new rules")."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill

from pipeline.outbox import atomic_write_bytes, atomic_write_text
from pipeline.safe_text import put_cell
from pipeline.vocabulary import GRADE_LABELS, GRADES
from pipeline.whatif.compare import PACE_DAYS, WhatIf

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
CHANGE_LABELS = {"added": "新增", "removed": "不再预警", "regraded": "等级变化"}
LISTING_LABELS = {"added": "新列入", "removed": "移出名单"}
# The page lists this many households; the workbook lists them all.
PAGE_ROWS = 2_000


def headline(result: WhatIf) -> dict[str, int]:
    changes = result.changes["change"]
    return {
        "in_force": len(result.in_force.alerts),
        "candidate": len(result.candidate.alerts),
        "added": int((changes == "added").sum()),
        "removed": int((changes == "removed").sum()),
        "regraded": int((changes == "regraded").sum()),
    }


def by_category(result: WhatIf) -> pd.DataFrame:
    """Per category and grade, with the category's verification figures beside it."""
    precision = result.precision[["category", "verified", "share_true", "flagged"]]
    frame = result.by_category.merge(precision, on="category", how="left")
    frame["flagged"] = frame["flagged"].fillna(False).astype(bool)
    frame["grade_label"] = frame["grade"].map(GRADE_LABELS)
    return frame


def per_category(result: WhatIf) -> pd.DataFrame:
    """One row per category for the page: the grades under each rule set as 红/橙/黄
    counts, the changes, and the category's verification figures once."""
    frame = by_category(result)
    rows = []
    for code, of_category in frame.groupby("category", sort=False):
        first = of_category.iloc[0]
        counts = of_category.set_index("grade")
        verified = first["verified"]
        share = first["share_true"]
        rows.append(
            {
                "category": code,
                "category_label": first["category_label"],
                "in_force": " / ".join(str(int(counts.loc[g, "in_force"])) for g in GRADES),
                "candidate": " / ".join(str(int(counts.loc[g, "candidate"])) for g in GRADES),
                "added": int(of_category["added"].sum()),
                "removed": int(of_category["removed"].sum()),
                "regraded": int(of_category["regraded"].sum()),
                "verified": "" if pd.isna(verified) else str(int(verified)),
                "share_true": None if pd.isna(share) else f"{share:.0%}",
                "flagged": bool(first["flagged"]),
            }
        )
    return pd.DataFrame(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _labelled(frame: pd.DataFrame, labels: dict[str, str] = CHANGE_LABELS) -> pd.DataFrame:
    frame = frame.copy()
    frame["change_label"] = frame["change"].map(labels)
    for column in ("grade_in_force", "grade_candidate"):
        if column in frame:
            frame[f"{column}_label"] = frame[column].map(GRADE_LABELS).fillna("")
    return frame


def page_html(result: WhatIf, window: int, min_verified: int, floor: float) -> str:
    changes = _labelled(result.changes)
    return TEMPLATES.get_template("whatif.html.j2").render(
        day=result.business_date.isoformat(),
        candidate=result.candidate_path.name,
        h=headline(result),
        rules_changed=result.rules_changed,
        by_category=_records(per_category(result)),
        by_township=_records(result.by_township),
        changes=_records(changes.head(PAGE_ROWS)),
        changes_cut=len(changes) > PAGE_ROWS,
        regional=_records(_labelled(result.regional_changes)),
        elimination=_records(_labelled(result.elimination_changes, LISTING_LABELS)),
        window=window,
        min_verified=min_verified,
        floor=f"{floor:.0%}",
        pace_days=PACE_DAYS,
    )


SHEETS: dict[str, dict[str, str]] = {
    "按类别和等级": {
        "category_label": "预警类别",
        "grade_label": "等级",
        "in_force": "现行",
        "candidate": "候选",
        "added": "新增",
        "removed": "不再预警",
        "regraded": "改为此等级",
        "verified": "近期已核实",
        "share_true": "属实占比",
    },
    "按乡镇": {
        "township_code": "乡镇代码",
        "township_name": "乡镇",
        "in_force": "现行",
        "candidate": "候选",
        "added": "新增",
        "removed": "不再预警",
        "regraded": "等级变化",
        "verified_per_working_day": "每工作日核实",
        "working_days_needed": "需要的工作日",
    },
    "涉及农户": {
        "change_label": "变化",
        "township_name": "乡镇",
        "village_name": "村",
        "household_id": "户编号",
        "head_name": "户主姓名",
        "head_id_number": "户主身份证号",
        "phone": "联系电话",
        "category_label": "预警类别",
        "grade_in_force_label": "现行等级",
        "grade_candidate_label": "候选等级",
        "reason_in_force": "现行规则的原因",
        "reason_candidate": "候选规则的原因",
    },
    "区域预警变化": {
        "change_label": "变化",
        "scope_name": "范围",
        "rule": "规则",
        "category": "类别",
        "reason": "说明",
    },
    "风险消除名单变化": {
        "change_label": "变化",
        "household_id": "户编号",
        "village_code": "村代码",
        "evidence": "依据",
    },
}


def workbook_bytes(result: WhatIf) -> bytes:
    """One sheet per table; every value through ``put_cell`` (never a formula)."""
    frames = {
        "按类别和等级": by_category(result),
        "按乡镇": result.by_township,
        "涉及农户": _labelled(result.changes),
        "区域预警变化": _labelled(result.regional_changes),
        "风险消除名单变化": _labelled(result.elimination_changes, LISTING_LABELS),
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    for title, columns in SHEETS.items():
        sheet = book.create_sheet(title)
        frame = frames[title]
        for number, header in enumerate(columns.values(), 1):
            cell = sheet.cell(row=1, column=number, value=header)
            cell.font, cell.fill = Font(bold=True), header_fill
            sheet.column_dimensions[cell.column_letter].width = (
                40 if "原因" in header or header in ("说明", "依据") else 12
            )
        for row_number, row in enumerate(_records(frame), 2):
            for number, field in enumerate(columns, 1):
                value = row.get(field)
                cell = put_cell(sheet, row_number, number, "" if value is None else value)
                if isinstance(value, str) and len(value) > 30:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
    rules_sheet = book.create_sheet("规则的变化")
    rules_sheet.column_dimensions["A"].width = 100
    put_cell(rules_sheet, 1, 1, "候选规则与现行规则不同的取值")
    for row_number, line in enumerate(result.rules_changed or ["候选规则与现行规则相同"], 2):
        put_cell(rules_sheet, row_number, 1, line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_outputs(
    result: WhatIf, folder: Path, window: int, min_verified: int, floor: float
) -> list[Path]:
    """The page and the workbook, each whole or not at all."""
    stem = f"whatif_{result.business_date.isoformat()}_{_safe_stem(result.candidate_path)}"
    page = folder / f"{stem}.html"
    book = folder / f"{stem}.xlsx"
    atomic_write_text(page, page_html(result, window, min_verified, floor))
    atomic_write_bytes(book, workbook_bytes(result))
    return [page, book]


def _safe_stem(path: Path) -> str:
    """The candidate file's name as part of a file name (letters, digits, - and _)."""
    stem = "".join(
        character if character.isalnum() or character in "-_" else "_" for character in path.stem
    )
    return stem[:40] or "rules"


def terminal_lines(result: WhatIf) -> list[str]:
    """The figures for the terminal: the headline, per category and grade, per township."""
    h = headline(result)
    lines = [
        f"{result.business_date} 规则试算（{result.candidate_path.name}）：现行规则在办预警 {h['in_force']} 条，"
        f"候选规则 {h['candidate']} 条；新增 {h['added']}，不再预警 {h['removed']}，等级变化 {h['regraded']}",
    ]
    lines.extend(f"  规则变化 {line}" for line in result.rules_changed[:20])
    for row in _records(by_category(result)):
        if row["added"] or row["removed"] or row["regraded"]:
            lines.append(
                f"  {row['category_label']} {row['grade_label']}：{row['in_force']} → {row['candidate']}"
                f"（新增 {row['added']}，不再预警 {row['removed']}，改为此等级 {row['regraded']}）"
            )
    for row in _records(result.by_township):
        needed = row["working_days_needed"]
        lines.append(
            f"  {row['township_name'] or row['township_code']}：{row['in_force']} → {row['candidate']}，"
            + (f"按近期速度约需 {needed} 个工作日核实" if needed is not None else "近期无核实记录")
        )
    regional, elimination = result.regional_changes, result.elimination_changes
    lines.append(
        f"  区域预警：新增 {int((regional['change'] == 'added').sum())}，"
        f"消失 {int((regional['change'] == 'removed').sum())}；风险消除候选："
        f"新增 {int((elimination['change'] == 'added').sum())}，"
        f"减少 {int((elimination['change'] == 'removed').sum())}"
    )
    return lines
