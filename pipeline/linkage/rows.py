"""Rows that lost their ID number (docs/warning-rules.md, "Rows that lost their ID number").

A row of a file feed quarantined only because its ID number is unusable (an Excel float
or scientific notation, a wrong check digit, a wrong length, a birth date that does not
exist) is compared with the registry's members by record linkage (Splink on DuckDB, as the
leads are): the name the feed declares (``person_name``) and what is left of the number,
its leading digits. Every such row gets a line in ``linkage.row_matches``, listed in the
outbox's ``linkage_candidates.csv`` for the data engineer. One candidate at or above
``linkage.row_match_probability`` (default 0.99), when ``linkage.use_for_alerts``, makes
the row *recovered*: validated again with the member's number and loaded into the feed's
staging table under its own lineage (file, row, delivery), so the alerts use it.

How a recovered row is counted: it stays quarantined (the department's defect stands, and
quarantine.csv keeps listing it), so ``rows_read = rows_loaded + rows_quarantined`` holds
as before; the manifest adds ``rows_recovered``, the quarantined rows used for the alerts
(a part of ``rows_quarantined``, never counted twice).

Runs in the load's transaction, after every delivery of the run is loaded (the registry in
force is the one loaded with them), for the deliveries loaded in this run only: a delivery
loaded again replaces its recovered rows with its other rows. Nothing here logs a name or
a number: only counts.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Linkage
from pipeline.dispatch.masking import mask_id_number
from pipeline.feeds.readers import map_headers
from pipeline.feeds.registry import FeedSpec
from pipeline.ingest import typed_for_parquet
from pipeline.linkage.leads import SEED, U_MAX_PAIRS, U_SAMPLE, score_pairs
from pipeline.timings import part
from pipeline.validation import id_numbers
from pipeline.validation.contract import apply_contract
from pipeline.warehouse import statements

log = logging.getLogger(__name__)

# The reasons that say only that the ID number is unusable.
ID_REASONS = frozenset(
    {
        id_numbers.ID_CHECK_DIGIT,
        id_numbers.ID_BIRTH_DATE,
        id_numbers.ID_LENGTH,
        id_numbers.ID_CHARACTERS,
        id_numbers.ID_NUMERIC,
    }
)
SCIENTIFIC = re.compile(r"^([0-9])(?:\.([0-9]+))?E\+?([0-9]+)$")
# Excel keeps 15 significant digits; the last one shown may be rounded.
EXCEL_DIGITS = 15

# m: how often a true match agrees at each level. Of a row's name: as written, or one
# character off. Of its number: every digit that is left, the area and birth date (a digit
# mistyped after them), the area and birth year, the area only.
M_NAME = (0.9, 0.08, 0.02)
M_NUMBER = (0.85, 0.1, 0.03, 0.015, 0.005)

COLUMNS = ["unique_id", "name", "known", "known14"]


def known_digits(value: object) -> str | None:
    """The leading digits of an unusable ID number that can still be trusted: of a number
    Excel made a float of, the digits its 15 significant digits keep but the last; of a
    text in scientific notation, the mantissa's but the last; else the digits (and a final
    X) as written, up to 17."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value != value or value <= 0:
            return None
        text = f"{float(value):.{EXCEL_DIGITS - 1}E}"
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().upper().replace(" ", "")
    scientific = SCIENTIFIC.match(text)
    if scientific:
        lead, fraction, exponent = scientific.groups()
        # The digits shown (a float: Excel's 15) of a number this many digits long.
        digits = (lead + (fraction or ""))[: min(int(exponent) + 1, EXCEL_DIGITS)]
        known = digits[:-1]
    else:
        known = re.sub(r"[^0-9X]", "", text)[:17]
    return known if len(known) >= 6 and known[:6].isdigit() else None


def settings(members: int, u_same_birth: float) -> dict[str, Any]:
    """The Splink model: the name and the number's known digits, blocked on the name or on
    the area and birth date. ``u_same_birth``: how often two members share the area and
    birth date, the u of a row whose every trusted digit agrees (two different members never
    share a whole number, so sampling pairs of members cannot estimate it)."""

    def agree(digits: int) -> str:
        return (
            f'least(length("known_l"), length("known_r")) >= {digits} '
            f'and left("known_l", {digits}) = left("known_r", {digits})'
        )

    every_known = (
        '(length("known_l") >= 14 and starts_with("known_r", "known_l")) '
        'or (length("known_r") >= 14 and starts_with("known_l", "known_r"))'
    )
    close_name = 'length("name_l") = length("name_r") and levenshtein("name_l", "name_r") = 1'
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1 / max(members, 2),
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {
                        "sql_condition": '"name_l" is null or "name_r" is null',
                        "label_for_charts": "null",
                        "is_null_level": True,
                    },
                    {"sql_condition": '"name_l" = "name_r"', "m_probability": M_NAME[0]},
                    {"sql_condition": close_name, "m_probability": M_NAME[1]},
                    {"sql_condition": "else", "m_probability": M_NAME[2]},
                ],
            },
            {
                "output_column_name": "id_number",
                "comparison_levels": [
                    {
                        "sql_condition": '"known_l" is null or "known_r" is null',
                        "label_for_charts": "null",
                        "is_null_level": True,
                    },
                    {
                        "sql_condition": every_known,
                        "m_probability": M_NUMBER[0],
                        "u_probability": u_same_birth,
                    },
                    {"sql_condition": agree(14), "m_probability": M_NUMBER[1]},
                    {"sql_condition": agree(10), "m_probability": M_NUMBER[2]},
                    {"sql_condition": agree(6), "m_probability": M_NUMBER[3]},
                    # Trained by sampling when two sampled members fall here, else this.
                    {"sql_condition": "else", "m_probability": M_NUMBER[4], "u_probability": 0.01},
                ],
            },
        ],
        "blocking_rules_to_generate_predictions": [
            'l."name" = r."name"',
            'l."known14" = r."known14"',
        ],
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
    }


@dataclass
class _Row:
    """A quarantined row that only its ID number keeps out."""

    feed: str
    file: str
    row: str
    delivery_date: date
    fields: dict[str, Any]
    name: str | None
    known: str | None
    person_name: str | None
    id_text: str | None

    @property
    def unique_id(self) -> str:
        return f"{self.feed}|{self.delivery_date.isoformat()}|{self.file}|{self.row}"


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.15G}"  # as Excel shows it: 15 significant digits
    return str(value)


def _person_key(value: object) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    return text or None


def _quarantined_for_id(
    connection: duckdb.DuckDBPyConnection,
    registry: dict[str, FeedSpec],
    loaded: list[tuple[str, date]],
) -> list[_Row]:
    rows: list[_Row] = []
    for feed, delivery_date in loaded:
        spec = registry[feed]
        if spec.person_name is None or not spec.is_file_feed:
            continue
        id_field = spec.id_number_field
        for file, row, reason, raw in connection.execute(
            "select file, row, reason, raw from meta.quarantine "
            "where feed = $feed and delivery_date = $delivery_date order by file, row",
            {"feed": feed, "delivery_date": delivery_date},
        ).fetchall():
            if not reason or not set(reason.split("；")) <= ID_REASONS or raw is None:
                continue
            sent = json.loads(raw)
            headers = list(sent)
            positions, _ = map_headers(spec, headers)
            fields = {field: sent[headers[position]] for position, field in positions.items()}
            rows.append(
                _Row(
                    feed=feed,
                    file=file,
                    row=row,
                    delivery_date=delivery_date,
                    fields=fields,
                    name=_person_key(fields.get(spec.person_name)),
                    known=known_digits(fields.get(id_field)) if id_field else None,
                    person_name=_as_text(fields.get(spec.person_name)),
                    id_text=_as_text(fields.get(id_field)) if id_field else None,
                )
            )
    return rows


@part("linkage")
def recover_rows(
    connection: duckdb.DuckDBPyConnection,
    registry: dict[str, FeedSpec],
    linkage: Linkage,
    business_date: date,
    loaded: list[tuple[str, date]],
    loaded_at: Any,
) -> dict[tuple[str, date], int]:
    """Link the quarantined rows of the deliveries ``loaded`` (feed, delivery date) in this
    run that only their ID number keeps out; load the recovered ones. Returns the rows
    recovered per delivery."""
    sql.script(connection, "linkage/schema")
    for feed, delivery_date in loaded:
        connection.execute(
            "delete from linkage.row_matches where feed = $feed and delivery_date = $delivery_date",
            {"feed": feed, "delivery_date": delivery_date},
        )
    rows = _quarantined_for_id(connection, registry, loaded)
    if not rows:
        return {}
    pairs = _score(connection, rows)
    decided = _decide(connection, rows, pairs, linkage)
    recovered = _load_recovered(connection, registry, rows, decided, business_date, loaded_at)
    decided["loaded_for_date"] = business_date
    connection.register("row_matches_decided", decided)
    connection.execute("insert into linkage.row_matches by name select * from row_matches_decided")
    connection.unregister("row_matches_decided")
    counts = decided["status"].value_counts().to_dict()
    log.info("rows quarantined for their ID number, linked: %s", counts)
    return recovered


def _score(connection: duckdb.DuckDBPyConnection, rows: list[_Row]) -> pd.DataFrame:
    left = pd.DataFrame(
        {
            "unique_id": [row.unique_id for row in rows],
            "name": [row.name for row in rows],
            "known": [row.known for row in rows],
            "known14": [
                row.known[:14] if row.known and len(row.known) >= 14 else None for row in rows
            ],
        }
    )
    connection.register("rows_to_link", left)
    try:
        registry_people = (
            "select id_number as unique_id, name, id_number as known, "
            "left(id_number, 14) as known14 from staging.cur_members "
            "where id_number is not null"
        )
        # Of the pairs of two different members, the share born on one day in one area.
        total, u_same_birth = connection.execute(
            "select sum(n)::bigint, coalesce((sum(n * n) - sum(n)) / "
            "nullif(sum(n) * (sum(n) - 1), 0), 0) from ("
            f"select count(*) as n from ({registry_people}) as people group by known14)"
        ).fetchall()[0]
        candidates = connection.execute(
            f"select * from ({registry_people}) as people "
            "where name in (select name from rows_to_link) "
            "or known14 in (select known14 from rows_to_link)"
        ).df()
        sample = connection.execute(
            f"select * from ({registry_people}) as people order by hash(unique_id, $seed) limit $n",
            {"seed": SEED, "n": U_SAMPLE},
        ).df()
    finally:
        connection.unregister("rows_to_link")
    return score_pairs(
        left,
        candidates,
        sample,
        # No two members born on one day in one area: as rare as one pair of all would be.
        settings(int(total or 0), max(float(u_same_birth), 1 / max(int(total or 0), 2) ** 2)),
        COLUMNS,
        max_pairs=U_MAX_PAIRS,
    )


def _decide(
    connection: duckdb.DuckDBPyConnection,
    rows: list[_Row],
    pairs: pd.DataFrame,
    linkage: Linkage,
) -> pd.DataFrame:
    """One line per row: its best candidates and what was done with it."""
    threshold = linkage.row_match_probability
    households = dict(
        connection.execute(
            "select id_number, household_id from staging.cur_members "
            "where id_number in (select unnest($ids::varchar[]))",
            {"ids": sorted(set(pairs["id_number"]))},
        ).fetchall()
    )
    # Each row's candidates best first; per row, how many reach the threshold.
    ranked = pairs.sort_values(
        ["lead_id", "match_probability", "id_number"], ascending=[True, False, True]
    )
    ranked = ranked.assign(
        rank=ranked.groupby("lead_id").cumcount(),
        household_id=ranked["id_number"].map(households),
        above=ranked["match_probability"] >= threshold,
    )
    ranked["said"] = [
        f"{mask_id_number(number)}（户编号{household or ''}，匹配概率{probability:.3f}）"
        for number, household, probability in zip(
            ranked["id_number"], ranked["household_id"], ranked["match_probability"], strict=True
        )
    ]
    per_row = ranked.groupby("lead_id").agg(
        above=("above", "sum"),
        best=("match_probability", "first"),
        best_id=("id_number", "first"),
        best_household=("household_id", "first"),
    )
    listed = ranked[ranked["rank"] < 3].groupby("lead_id")["said"].agg("；".join)
    lines = []
    for row in rows:
        key = row.unique_id
        found = key in per_row.index
        above = int(per_row.at[key, "above"]) if found else 0
        if above == 1:
            status = "recovered" if linkage.use_for_alerts else "proposed"
        elif above > 1:
            status = "ambiguous"
        else:
            status = "below_threshold" if found else "no_candidate"
        chosen = above == 1
        lines.append(
            {
                "feed": row.feed,
                "delivery_date": row.delivery_date,
                "file": row.file,
                "row": row.row,
                "person_name": row.person_name,
                "id_text": row.id_text,
                "status": status,
                "id_number": str(per_row.at[key, "best_id"]) if chosen else None,
                "household_id": per_row.at[key, "best_household"] if chosen else None,
                "match_probability": float(per_row.at[key, "best"]) if found else None,
                "candidates_above_threshold": above,
                "candidates": listed.get(key),
            }
        )
    return pd.DataFrame(lines)


def _load_recovered(
    connection: duckdb.DuckDBPyConnection,
    registry: dict[str, FeedSpec],
    rows: list[_Row],
    decided: pd.DataFrame,
    business_date: date,
    loaded_at: Any,
) -> dict[tuple[str, date], int]:
    """The recovered rows, validated again with the member's number, into staging; a row
    that fails another check, or whose key the delivery already holds, is only listed."""
    recovered: dict[tuple[str, date], int] = {}
    chosen = decided[decided["status"] == "recovered"]
    by_key = {(row.feed, row.delivery_date, row.file, row.row): row for row in rows}
    for (feed, delivery_date), group in chosen.groupby(["feed", "delivery_date"], sort=True):
        spec = registry[feed]
        id_field = spec.id_number_field
        assert id_field is not None
        fields = [column.field for column in spec.columns]
        raw = pd.DataFrame(
            [
                {
                    **{
                        field: by_key[(feed, delivery_date, line.file, line.row)].fields.get(field)
                        for field in fields
                    },
                    id_field: line.id_number,
                }
                for line in group.itertuples()
            ],
            index=group.index,
            dtype=object,
        )
        # The row's other fields passed the contract and the suite when it was read (its
        # only reasons were the number's); with the member's number the contract is applied
        # again, and the key is checked below (the suites' other row checks read the number
        # only to require it).
        contract = apply_contract(spec, raw, today=business_date)
        faults = contract.reasons.to_numpy()
        fit = group.index[faults == ""]
        decided.loc[group.index[faults != ""], "status"] = "other_faults"
        typed = contract.frame.loc[fit, fields].copy()
        if typed.empty:
            continue
        staged = typed_for_parquet(spec, typed.copy())
        staged.insert(
            0,
            "source_row",
            pd.array([_row_number(decided.at[i, "row"]) for i in fit], dtype="Int64"),
        )
        staged.insert(0, "source_file", [decided.at[i, "file"] for i in fit])
        staged["delivery_date"] = delivery_date
        staged["loaded_at"] = loaded_at
        staged["loaded_for_date"] = business_date
        staged["recovered_index"] = list(fit)
        connection.register("recovered_rows", staged)
        try:
            # A key the delivery holds already (the same person's readable row, or another
            # recovered row) is not loaded twice: the row is only listed.
            key = ", ".join(statements.quote(field) for field in spec.key)
            repeated = {
                int(index)
                for (index,) in connection.execute(
                    "select recovered_index from ("
                    f"select recovered_index, {key}, row_number() over "
                    f"(partition by {key} order by recovered_index) as copy from recovered_rows"
                    f") as recovered where copy > 1 or ({key}) in "
                    f"(select ({key}) from {statements.staging_table(spec)} "
                    "where delivery_date = $delivery_date)",
                    {"delivery_date": delivery_date},
                ).fetchall()
            }
            decided.loc[sorted(repeated), "status"] = "duplicate"
            connection.execute(
                f"insert into {statements.staging_table(spec)} by name "
                "select * exclude (recovered_index) from recovered_rows "
                "where not list_contains($repeated::bigint[], recovered_index)",
                {"repeated": sorted(repeated)},
            )
        finally:
            connection.unregister("recovered_rows")
        if len(fit) > len(repeated):
            recovered[(feed, delivery_date)] = len(fit) - len(repeated)
    return recovered


def _row_number(label: str) -> int | None:
    return int(label) if str(label).isdigit() else None


def linkage_candidates(
    connection: duckdb.DuckDBPyConnection, business_date: date
) -> pd.DataFrame | None:
    """The rows of linkage_candidates.csv, or None when no load linked rows (no table)."""
    if not sql.relation_exists(connection, "linkage", "row_matches"):
        return None
    sql.script(connection, "linkage/place_keys")
    return sql.query(connection, "linkage/linkage_candidates", {"business_date": business_date})
