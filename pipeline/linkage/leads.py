"""Leads (群众反映线索) matched to registered members: ``linkage.lead_matches``.

A lead whose 身份证号 is a registered member's full ID number is that member. Every other
lead is compared with the registry's members by probabilistic record linkage (Splink on
DuckDB, the Fellegi-Sunter model): its name, township, village and what is left of the ID
number (birth year, area code). Only the day's leads are linked, against the members of
the blocks they fall in (the same township key with the same surname or village, or the
same name), in
an in-memory DuckDB of its own, so the warehouse's transaction is never touched.

The model is fixed, so every run of a date gives the same probabilities:

- m (how often a true match agrees at each level) from priors (``M_PRIORS``): what a
  caller gets wrong about a person they know;
- u (how often two different people agree by chance) estimated by random sampling of the
  registry (``U_SAMPLE`` members, seed ``SEED``);
- the prior of a pair being a match: one over the number of registered members.

Nothing here logs a name, a number or a place: only counts.
"""

from __future__ import annotations

import gc
import logging
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Rules
from pipeline.timings import part

log = logging.getLogger(__name__)

SEED = 17
# Members sampled for the u estimates, and the pairs of them compared (non-matches): enough
# for the levels two strangers reach by chance, in a fraction of a second.
U_SAMPLE = 2000
U_MAX_PAIRS = 300_000
# Pairs below this probability are not worth keeping as candidates.
MIN_CANDIDATE_PROBABILITY = 0.001

# m: the share of true matches at each level, from what a caller gets wrong: a name off by
# one character (a typo, a homophone), a township said with 乡 for 镇 (normalised away), a
# village said wrongly now and then; a partial ID number that keeps its birth year and area.
M_PRIORS: dict[str, tuple[float, ...]] = {
    "name": (0.88, 0.10, 0.02),
    "township": (0.97, 0.03),
    "village": (0.90, 0.10),
    "birth_year": (0.97, 0.03),
    "area_code": (0.97, 0.03),
}


def _levels(column: str, fuzzy: str | None = None) -> list[dict[str, Any]]:
    m = M_PRIORS[column]
    levels: list[dict[str, Any]] = [
        {
            "sql_condition": f'"{column}_l" is null or "{column}_r" is null',
            "label_for_charts": "null",
            "is_null_level": True,
        },
        {
            "sql_condition": f'"{column}_l" = "{column}_r"',
            "label_for_charts": "exact",
            "m_probability": m[0],
        },
    ]
    if fuzzy is not None:
        levels.append({"sql_condition": fuzzy, "label_for_charts": "close", "m_probability": m[1]})
    levels.append({"sql_condition": "else", "label_for_charts": "else", "m_probability": m[-1]})
    return levels


def settings(members: int) -> dict[str, Any]:
    """The Splink model: comparisons with their m priors, the blocking of the predictions."""
    # A name one character off (a typo or a homophone): same length, one substitution.
    close_name = 'length("name_l") = length("name_r") and levenshtein("name_l", "name_r") = 1'
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1 / max(members, 2),
        "comparisons": [
            {"output_column_name": "name", "comparison_levels": _levels("name", close_name)},
            {"output_column_name": "township", "comparison_levels": _levels("township")},
            {"output_column_name": "village", "comparison_levels": _levels("village")},
            {"output_column_name": "birth_year", "comparison_levels": _levels("birth_year")},
            {"output_column_name": "area_code", "comparison_levels": _levels("area_code")},
        ],
        # A member is compared with a lead that names the same township and either the same
        # surname or the same village, or the same name wherever it was said: a few thousand
        # members a lead in a district of 350,000, not a whole township.
        "blocking_rules_to_generate_predictions": [
            'l."township" = r."township" and l."name_first" = r."name_first"',
            'l."township" = r."township" and l."village" = r."village"',
            'l."name" = r."name"',
        ],
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
    }


COLUMNS = ["unique_id", "name", "name_first", "township", "village", "birth_year", "area_code"]


def score_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    sample: pd.DataFrame,
    model: dict[str, Any],
    columns: list[str],
    *,
    max_pairs: int = U_MAX_PAIRS,
) -> pd.DataFrame:
    """Scored pairs (lead_id: the left record's id, id_number: the right one's,
    match_probability) of ``left`` and the registry's ``right`` under the Splink ``model``,
    its u estimated on ``sample`` of the registry."""
    empty = pd.DataFrame({"lead_id": [], "id_number": [], "match_probability": []})
    if left.empty or right.empty:
        return empty
    from splink import DuckDBAPI, Linker

    with duckdb.connect() as connection:
        connection.execute("set threads to 1")  # the same order of work, the same result
        api = DuckDBAPI(connection)
        sample_table = api.register(sample[columns].copy(), dataset_display_name="registry_sample")
        linker = Linker(sample_table, model, log_level=None)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs, seed=SEED, min_count_per_level=None, num_chunks=1
        )
        left_table = api.register(left[columns].copy(), dataset_display_name="records")
        right_table = api.register(right[columns].copy(), dataset_display_name="registry")
        predictions = linker.inference.predict_between(
            left_table,
            right_table,
            threshold_match_probability=MIN_CANDIDATE_PROBABILITY,
            warning_mode="never",
        ).as_pandas_dataframe()
    # Splink's objects hold the in-memory database in reference cycles: collected now, its
    # threads end with it. Left to linger, they made a process that forks afterwards (the
    # feed workers of the next date, the report's drawing) hang or crash in the child.
    del linker, api, sample_table, left_table, right_table
    gc.collect()
    if predictions.empty:
        return empty
    return pd.DataFrame(
        {
            "lead_id": predictions["unique_id_l"].astype(str),
            "id_number": predictions["unique_id_r"].astype(str),
            "match_probability": predictions["match_probability"].astype(float).round(6),
        }
    ).sort_values(["lead_id", "id_number"], ignore_index=True)


@part("linkage")
def match_leads(
    connection: duckdb.DuckDBPyConnection, values: dict[str, Any], business_date: date
) -> dict[str, int]:
    """The business date's leads linked to the registry's members (``signals.int_people``
    and ``signals.int_households`` of this date must be there): their rows of
    ``linkage.lead_matches``, replaced; returns the counts by status."""
    sql.script(connection, "linkage/schema")
    sql.script(connection, "linkage/place_keys")
    sql.materialise(connection, "linkage/lead_inputs", "signals.int_lead_inputs", values)
    leads = connection.execute(
        "select * from signals.int_lead_inputs "
        "where id_number_matched is null and not coalesce(township_unknown, false)"
    ).df()
    pairs = pd.DataFrame({"lead_id": [], "id_number": [], "match_probability": []})
    if not leads.empty:
        sql.materialise(connection, "linkage/registry_people", "signals.int_linkage_registry")
        members = connection.execute("select count(*) from signals.int_linkage_registry").fetchone()
        total = int(members[0]) if members else 0
        # The registry's members in the leads' blocks, and a fixed sample for u.
        candidates = connection.execute(
            "select * from signals.int_linkage_registry as people where exists ("
            "select 1 from signals.int_lead_inputs as leads where "
            "(leads.township = people.township and (leads.name_first = people.name_first "
            "or leads.village = people.village)) or leads.name = people.name)"
        ).df()
        sample = connection.execute(
            "select * from signals.int_linkage_registry order by hash(unique_id, $seed) limit $n",
            {"seed": SEED, "n": U_SAMPLE},
        ).df()
        leads = leads.assign(unique_id=leads["lead_id"])
        pairs = score_pairs(leads, candidates, sample, settings(total), COLUMNS)
        connection.execute("drop table signals.int_linkage_registry")
    connection.register("lead_pairs_scored", pairs)
    connection.execute(
        "create or replace table signals.int_lead_pairs as select "
        "lead_id::varchar as lead_id, id_number::varchar as id_number, "
        "match_probability::double as match_probability from lead_pairs_scored"
    )
    connection.unregister("lead_pairs_scored")
    day = {"business_date": business_date}
    connection.execute("delete from linkage.lead_matches where business_date = $business_date", day)
    sql.insert(connection, "linkage/lead_matches", "linkage.lead_matches", values)
    connection.execute("drop table signals.int_lead_pairs")
    connection.execute("drop table signals.int_lead_inputs")
    counts = dict(
        connection.execute(
            "select status, count(*) from linkage.lead_matches "
            "where business_date = $business_date group by status",
            day,
        ).fetchall()
    )
    log.info("leads of %s linked: %s", business_date, counts)
    return {str(key): int(value) for key, value in counts.items()}


def lead_parameters(rules: Rules) -> dict[str, Any]:
    """Defaults for the values the linkage steps read when the rules lack a ``lead`` entry."""
    return {"lead__match_probability": 0.9, "lead__listed_candidates": 3}


def has_lead_matches(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``linkage.lead_matches`` is there (a warehouse that never linked has none)."""
    return sql.relation_exists(connection, "linkage", "lead_matches")


def unmatched_leads(
    connection: duckdb.DuckDBPyConnection, business_date: date
) -> pd.DataFrame | None:
    """The rows of leads_unmatched.csv, or None when no run linked leads (no table)."""
    if not has_lead_matches(connection):
        return None
    sql.script(connection, "linkage/place_keys")
    return sql.query(connection, "linkage/leads_unmatched", {"business_date": business_date})
