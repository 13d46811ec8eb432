"""Planted defects: the habits of Chinese administrative exports, placed on purpose.

Every planted row defect is recorded in the truth file with its code. A row
carries at most one; quarantine defects must be quarantined by the pipeline,
normalisable ones must load. Which columns a defect touches is read from the
registry's column types (id_number, date, amount, enum, required).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from fpwarn_demo.writers import (
    DATE_STYLES,
    DataRow,
    Raw,
    excel_serial,
    format_amount,
    format_date,
)
from pipeline.feeds.registry import FeedSpec
from pipeline.validation.id_numbers import check_digit

QUARANTINE = (
    "id_check_digit",
    "id_birth_date",
    "id_length",
    "id_numeric",
    "required_missing",
    "enum_invalid",
    "date_invalid",
    "amount_invalid",
    "duplicate_key",
    "sex_mismatch",
    "amount_sum",
    "unknown_household",
)
# The defects that break a row's ID number: the truth gives the row's true number with them.
ID_BREAKING = ("id_check_digit", "id_birth_date", "id_length", "id_numeric")
NORMALISE = (
    "id_15_digit",
    "id_fullwidth",
    "id_spaces",
    "id_lower_x",
    "date_variant",
    "amount_separator",
    "fullwidth_punctuation",
    "header_variant",
    "blank_row",
)
DELIVERY_DEFECTS = (
    "no_marker",
    "wrong_row_count",
    "bad_digest",
    "wrong_encoding",
    "header_variant",
)

SHARE = 0.005  # about 0.5 % of the rows of a feed
CAP = 0.4  # never more than this share of one delivery's rows (tiny deliveries)

# A plausible wrong value for each enum field: what a clerk would type instead.
WRONG_ENUM = {
    "household_type": "贫困户",
    "relation": "儿子",
    "labour_skill": "劳动力",
    "health": "良好",
    "schooling": "初中",
    "work_status": "外出务工",
    "safety_grade": "危房",
    "renovation_status": "待改造",
    "insurance_status": "已参保",
    "subsidy_type": "部分资助",
    "entity_type": "个体户",
    "registration_status": "在业",
    "vehicle_type": "面包车",
    "usage": "自用",
    "vehicle_status": "抵押",
    "stage": "初级中学",
    "status": "退学",
    "assistance_type": "低保户",
    "change_type": "变更",
    "employment_status": "失业",
    "disaster_type": "暴雨",
    "severity": "严重",
    "problem_type": "管网破损",
    "reason": "因病致贫",
    "has_signed_authorisation": "已签",
    "grid_level": "片区级",
}
# Code-like columns that may arrive in full-width digits.
CODE_FIELDS = ("household_id", "village_code", "township_code")
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass(frozen=True)
class Shape:
    """Where each kind of defect goes in one feed, from the registry's column types."""

    feed: str
    fields: tuple[str, ...]
    fmt: str
    date_style: str
    id_col: int | None
    date_cols: tuple[int, ...]
    required_date_col: int | None
    amount_cols: tuple[int, ...]
    enum_col: int | None
    missing_col: int | None
    name_col: int | None
    code_cols: tuple[int, ...]
    sex_col: int | None
    kinds: tuple[str, ...]
    decoy_kinds: frozenset[str] = frozenset()
    weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: FeedSpec) -> Shape:
        columns = spec.columns
        index = {column.field: position for position, column in enumerate(columns)}

        def first(predicate: Callable[[int], bool]) -> int | None:
            return next((i for i in range(len(columns)) if predicate(i)), None)

        id_col = first(lambda i: columns[i].type == "id_number")
        date_cols = tuple(i for i, c in enumerate(columns) if c.type == "date")
        required_date = first(lambda i: columns[i].type == "date" and columns[i].required)
        amount_cols = tuple(i for i, c in enumerate(columns) if c.type == "amount")
        enum_col = first(
            lambda i: (
                columns[i].type == "enum"
                and columns[i].field in WRONG_ENUM
                and columns[i].field not in spec.key
            )
        )
        missing_col = first(
            lambda i: (
                columns[i].required
                and columns[i].type == "string"
                and columns[i].field not in spec.key
                and columns[i].field not in CODE_FIELDS
            )
        )
        if missing_col is None:
            missing_col = first(
                lambda i: (
                    columns[i].required
                    and columns[i].type == "enum"
                    and columns[i].field not in spec.key
                    and columns[i].field != "sex"
                )
            )
        name_col = first(lambda i: columns[i].type == "string" and "name" in columns[i].field)
        code_cols = tuple(
            index[name] for name in CODE_FIELDS if name in index and name not in spec.key
        )
        sex_col = index.get("sex")
        fmt = spec.format
        quarantine: list[str] = []
        normalise: list[str] = []
        if id_col is not None:
            quarantine += ["id_check_digit", "id_birth_date", "id_length"]
            # The registry's own head ID never arrives as a number (brief of the demo).
            if spec.feed != "households":
                quarantine.append("id_numeric")
            normalise += ["id_15_digit", "id_fullwidth", "id_spaces", "id_lower_x"]
        if missing_col is not None:
            quarantine.append("required_missing")
        if enum_col is not None:
            quarantine.append("enum_invalid")
        if required_date is not None:
            quarantine.append("date_invalid")
        if amount_cols:
            quarantine.append("amount_invalid")
        quarantine.append("duplicate_key")
        if spec.feed == "members":
            quarantine += ["sex_mismatch", "unknown_household"]
        if date_cols:
            normalise.append("date_variant")
        if amount_cols:
            normalise.append("amount_separator")
        if name_col is not None or code_cols:
            normalise.append("fullwidth_punctuation")
        if fmt == "csv":
            normalise.append("blank_row")
        decoys: frozenset[str] = frozenset()
        if spec.feed == "grids":
            # A broken grid row would turn into grid faults for whole villages.
            quarantine, normalise = ["duplicate_key"], ["fullwidth_punctuation", "blank_row"]
        elif spec.feed == "households":
            # A quarantined household would take its members with it: those
            # defects go on extra rows of households that exist nowhere else.
            decoys = frozenset(kind for kind in quarantine if kind != "duplicate_key")
        elif spec.feed == "members":
            decoys = frozenset({"unknown_household"})
        weights = {"id_numeric": 4.0} if spec.feed == "med_enrollment" else {}
        return cls(
            feed=spec.feed,
            fields=tuple(column.field for column in columns),
            fmt=fmt,
            date_style=DATE_STYLES.get(spec.feed, "iso"),
            id_col=id_col,
            date_cols=date_cols,
            required_date_col=required_date,
            amount_cols=amount_cols,
            enum_col=enum_col,
            missing_col=missing_col,
            name_col=name_col,
            code_cols=code_cols,
            sex_col=sex_col,
            kinds=tuple(quarantine + normalise),
            decoy_kinds=decoys,
            weights=weights,
        )


# -- single-row defects: each returns False (and changes nothing) when it does not apply.

Applier = Callable[[list[object], Shape, random.Random], bool]


def _clean_id(values: list[object], shape: Shape) -> str | None:
    if shape.id_col is None:
        return None
    value = values[shape.id_col]
    return value if isinstance(value, str) and len(value) == 18 else None


def _id_check_digit(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None:
        return False
    wrong = rng.choice([c for c in "0123456789X" if c != number[17]])
    values[shape.id_col] = number[:17] + wrong  # type: ignore[index]
    return True


def _id_birth_date(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None:
        return False
    month_day = rng.choice(("1305", "0230", "0231", "0431", "0010", "1532"))
    first17 = number[:10] + month_day + number[14:17]
    values[shape.id_col] = first17 + check_digit(first17)  # type: ignore[index]
    return True


def _id_length(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None:
        return False
    if rng.random() < 0.5:
        values[shape.id_col] = number[:17]  # type: ignore[index]
    else:
        values[shape.id_col] = number[:17] + str(rng.randint(0, 9)) + number[17]  # type: ignore[index]
    return True


def _id_numeric(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None or not number.isdigit():
        return False
    # Excel kept 15 significant digits (XLSX number) or showed 9 (CSV text).
    as_number = float(number)
    values[shape.id_col] = Raw(as_number if shape.fmt == "xlsx" else f"{as_number:.8E}")  # type: ignore[index]
    return True


def _id_15_digit(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None or not 1900 <= int(number[6:10]) <= 1999:
        return False
    values[shape.id_col] = number[:6] + number[8:17]  # type: ignore[index]
    return True


def _id_fullwidth(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None:
        return False
    values[shape.id_col] = number.translate(_FULLWIDTH)  # type: ignore[index]
    return True


def _id_spaces(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None:
        return False
    values[shape.id_col] = rng.choice(  # type: ignore[index]
        (
            f" {number}",
            f"{number} ",
            f"{number[:6]} {number[6:14]} {number[14:]}",
            f"{number[:6]} {number[6:]}",
            f" {number[:10]} {number[10:]} ",
        )
    )
    return True


def _id_lower_x(values: list[object], shape: Shape, rng: random.Random) -> bool:
    number = _clean_id(values, shape)
    if number is None or not number.endswith("X"):
        return False
    values[shape.id_col] = number[:17] + "x"  # type: ignore[index]
    return True


def _required_missing(values: list[object], shape: Shape, rng: random.Random) -> bool:
    column = shape.missing_col
    if column is None or values[column] in (None, ""):
        return False
    values[column] = None
    return True


def _enum_invalid(values: list[object], shape: Shape, rng: random.Random) -> bool:
    column = shape.enum_col
    if column is None or values[column] in (None, ""):
        return False
    values[column] = WRONG_ENUM[shape.fields[column]]
    return True


def _date_invalid(values: list[object], shape: Shape, rng: random.Random) -> bool:
    column = shape.required_date_col
    if column is None or isinstance(values[column], Raw) or values[column] is None:
        return False
    year = values[column].year  # type: ignore[attr-defined]
    month, day = rng.choice(((2, 30), (2, 31), (4, 31), (6, 31), (13, 1)))
    style = "iso" if shape.fmt == "xlsx" else shape.date_style
    if style == "slash":
        text = f"{year}/{month}/{day}"
    elif style == "compact":
        text = f"{year}{month:02d}{day:02d}"
    else:
        text = f"{year}-{month:02d}-{day:02d}"
    values[column] = Raw(text)
    return True


def _date_variant(values: list[object], shape: Shape, rng: random.Random) -> bool:
    columns = [
        c for c in shape.date_cols if values[c] is not None and not isinstance(values[c], Raw)
    ]
    if not columns:
        return False
    column = rng.choice(columns)
    day = values[column]
    if shape.fmt == "xlsx":
        choice = rng.choice(("serial", "serial", "iso", "chinese"))
        values[column] = Raw(excel_serial(day) if choice == "serial" else format_date(day, choice))  # type: ignore[arg-type]
    else:
        styles = [s for s in ("iso", "slash", "compact", "chinese") if s != shape.date_style]
        values[column] = Raw(format_date(day, rng.choice(styles)))  # type: ignore[arg-type]
    return True


def _amount_columns(values: list[object], shape: Shape) -> list[int]:
    return [c for c in shape.amount_cols if isinstance(values[c], float)]


def _amount_invalid(values: list[object], shape: Shape, rng: random.Random) -> bool:
    columns = _amount_columns(values, shape)
    if not columns:
        return False
    column = rng.choice(columns)
    amount = float(values[column])  # type: ignore[arg-type]
    values[column] = Raw(rng.choice(("约", "大约", "约计")) + str(max(1, round(amount))))
    return True


def _amount_separator(values: list[object], shape: Shape, rng: random.Random) -> bool:
    columns = _amount_columns(values, shape)
    if not columns:
        return False
    column = rng.choice(columns)
    amount = float(values[column])  # type: ignore[arg-type]
    if amount >= 1000 and rng.random() < 0.6:
        values[column] = Raw(f"{amount:,.2f}")
    else:
        values[column] = Raw(format_amount(amount) + "元")
    return True


def _fullwidth_punctuation(values: list[object], shape: Shape, rng: random.Random) -> bool:
    options = []
    if (
        shape.name_col is not None
        and isinstance(values[shape.name_col], str)
        and values[shape.name_col]
    ):
        options.append(shape.name_col)
    options += [c for c in shape.code_cols if isinstance(values[c], str) and values[c]]
    if not options:
        return False
    column = rng.choice(options)
    text = values[column]
    assert isinstance(text, str)
    if column == shape.name_col:
        # A full-width space typed around the name (NFKC + strip restores it).
        values[column] = rng.choice((text + "\u3000", "\u3000" + text))
    else:
        values[column] = text.translate(_FULLWIDTH)
    return True


def _sex_mismatch(values: list[object], shape: Shape, rng: random.Random) -> bool:
    column = shape.sex_col
    if column is None or values[column] not in ("男", "女") or _clean_id(values, shape) is None:
        return False
    values[column] = "女" if values[column] == "男" else "男"
    return True


APPLIERS: dict[str, Applier] = {
    "id_check_digit": _id_check_digit,
    "id_birth_date": _id_birth_date,
    "id_length": _id_length,
    "id_numeric": _id_numeric,
    "id_15_digit": _id_15_digit,
    "id_fullwidth": _id_fullwidth,
    "id_spaces": _id_spaces,
    "id_lower_x": _id_lower_x,
    "required_missing": _required_missing,
    "enum_invalid": _enum_invalid,
    "date_invalid": _date_invalid,
    "date_variant": _date_variant,
    "amount_invalid": _amount_invalid,
    "amount_separator": _amount_separator,
    "fullwidth_punctuation": _fullwidth_punctuation,
    "sex_mismatch": _sex_mismatch,
}


def plan_counts(shape: Shape, total_rows: int, capacity: int) -> list[str]:
    """The defects to plant over a feed: each kind at least once, ~0.5 % of rows in all."""
    weights = [shape.weights.get(kind, 1.0) for kind in shape.kinds]
    budget = SHARE * total_rows
    extra: list[str] = []
    for kind, weight in zip(shape.kinds, weights, strict=True):
        count = max(1, round(budget * weight / sum(weights)))
        extra += [kind] * (count - 1)
    # One of each kind first (quarantine kinds lead), then the rest, until full.
    return [*shape.kinds, *extra][:capacity]


def _free(row: DataRow) -> bool:
    return row.defect is None and not row.protected


def _choose(rows: list[DataRow], ok: Callable[[int], bool], rng: random.Random) -> int | None:
    count = len(rows)
    if not count:
        return None
    for _ in range(30):
        index = rng.randrange(count)
        if ok(index):
            return index
    offset = rng.randrange(count)
    for step in range(count):
        index = (offset + step) % count
        if ok(index):
            return index
    return None


_PHASES = {"blank_row": 2, "duplicate_key": 3}


def plant(
    shape: Shape,
    deliveries: list[list[DataRow]],
    rng: random.Random,
    decoy: Callable[[str, random.Random], DataRow] | None = None,
) -> None:
    """Plant the feed's defects over its (defect-eligible) deliveries, in place."""
    total = sum(len(rows) for rows in deliveries)
    caps = [math.ceil(len(rows) * CAP) if len(rows) >= 3 else 0 for rows in deliveries]
    planned = plan_counts(shape, total, sum(caps))
    # Row edits first, then inserted rows; duplicates last so they copy clean rows.
    planned.sort(key=lambda kind: 1 if kind in shape.decoy_kinds else _PHASES.get(kind, 0))
    for kind in planned:
        order = [i for i in range(len(deliveries)) if caps[i] > 0]
        if not order:
            return
        first = rng.choices(order, [len(deliveries[i]) for i in order])[0]
        order.remove(first)
        for target in (first, *order):
            if _plant_one(kind, shape, deliveries[target], rng, decoy):
                caps[target] -= 1
                break


def _plant_one(
    kind: str,
    shape: Shape,
    rows: list[DataRow],
    rng: random.Random,
    decoy: Callable[[str, random.Random], DataRow] | None,
) -> bool:
    if kind in shape.decoy_kinds:
        assert decoy is not None
        rows.insert(rng.randint(0, len(rows)), decoy(kind, rng))
        return True
    if kind == "blank_row":
        index = _choose(rows, lambda i: i > 0 and _free(rows[i]) and not rows[i].blank_before, rng)
        if index is None:
            return False
        rows[index].blank_before = True
        rows[index].defect = kind
        return True
    if kind == "duplicate_key":
        index = _choose(rows, lambda i: _free(rows[i]), rng)
        if index is None:
            return False
        rows[index].protected = True
        copy = DataRow(list(rows[index].values), defect=kind, protected=True)
        rows.insert(min(len(rows), index + rng.randint(2, 5)), copy)
        return True
    applier = APPLIERS[kind]

    def ok(index: int) -> bool:
        return _free(rows[index]) and applier(rows[index].values, shape, rng)

    index = _choose(rows, ok, rng)
    if index is None:
        return False
    rows[index].defect = kind
    return True
