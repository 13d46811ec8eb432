"""Every SQL step runs through pipeline/sql.py with the $name values it uses, bound."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline import sql
from pipeline.alerts.rules import load_rules
from pipeline.paths import CONFIG_DIR, SQL_DIR
from pipeline.report.figures import daily_figures
from pipeline.signals.build import build_signals, parameters
from pipeline.steps import run_day
from pipeline.whatif.compare import what_if
from tests.conftest import home_for

# The first of a month: the elimination list is made too.
DAY = date(2026, 3, 1)


def named_values() -> dict[str, set[str]]:
    """Every step of sql/ (``signals/sig_disaster``) with the $names its text uses."""
    return {
        path.relative_to(SQL_DIR).with_suffix("").as_posix(): set(
            sql.PARAMETER.findall(path.read_text(encoding="utf-8"))
        )
        for path in sorted(SQL_DIR.rglob("*.sql"))
    }


def test_a_step_gets_the_values_it_names_and_only_those():
    assert sql.bound_parameters("select $a + $b + $a", {"a": 1, "b": 2, "c": 3}) == {"a": 1, "b": 2}
    with pytest.raises(KeyError, match="b"):
        sql.bound_parameters("select $a + $b", {"a": 1})


def test_every_value_the_rules_steps_name_is_one_of_the_rules():
    """The steps bound from the rules (signals, regional warnings, the elimination list,
    the comparison) name only values ``Rules.parameters`` gives."""
    values, _ = parameters(load_rules(), date(2026, 3, 10))
    unknown = {
        step: sorted(names - set(values))
        for step, names in named_values().items()
        if step.split("/")[0] in ("signals", "regional", "elimination", "comparisons")
        and names - set(values)
    }
    assert unknown == {}


@dataclass
class Asked:
    """What the runner was asked: per step, the values it was given and those it bound."""

    given: dict[str, list[set[str]]] = field(default_factory=dict)
    bound: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Asked:
    """Every step run through pipeline/sql.py while the fixture lasts, with its values.

    ``step_sql`` reads a step's text right before ``bound_parameters`` picks its values,
    in every function of the runner."""
    asked, reading = Asked(), []
    step_sql, bound_parameters = sql.step_sql, sql.bound_parameters

    def read(step: str) -> str:
        reading.append(step)
        return step_sql(step)

    def bind(text: str, values: Mapping[str, Any]) -> dict[str, Any]:
        step = reading[-1]
        asked.given.setdefault(step, []).append(set(values))
        bound = bound_parameters(text, values)
        asked.bound.setdefault(step, []).append(bound)
        return bound

    monkeypatch.setattr(sql, "step_sql", read)
    monkeypatch.setattr(sql, "bound_parameters", bind)
    return asked


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("runner")
    summary = generate_district(root / "inbox", households=120, start=DAY, end=DAY, seed=3)
    return root, summary.claims_url


def test_every_step_of_sql_that_names_a_value_is_given_it_by_the_code_that_runs_it(
    district: tuple[Path, str], recording: Asked, tmp_path: Path
):
    """A day of a small district (the report's figures too, which a test run does not
    draw, and the what-if verb on it) runs every step of sql/ that names a value, and
    gives each every value it names."""
    root, claims_url = district
    settings = home_for(tmp_path, claims_url, root / "inbox")
    run_day(settings, DAY)
    with duckdb.connect(str(settings.home.warehouse)) as connection:
        daily_figures(connection, load_rules(), DAY, pd.DataFrame())
    what_if(settings, CONFIG_DIR / "rules.yaml", DAY)

    named = {step: names for step, names in named_values().items() if names}
    assert sorted(set(named) - set(recording.given)) == [], "steps a day never ran"
    short = {
        step: sorted(named[step] - given)
        for step, runs in recording.given.items()
        for given in runs
        if named.get(step, set()) - given
    }
    assert short == {}


def test_a_threshold_changed_in_a_copy_of_the_rules_is_bound_in_its_step(
    district: tuple[Path, str], recording: Asked, tmp_path: Path
):
    root, claims_url = district
    settings = home_for(tmp_path, claims_url, root / "inbox")
    run_day(settings, DAY)
    copy = tmp_path / "rules.yaml"
    shutil.copy(CONFIG_DIR / "rules.yaml", copy)
    text = copy.read_text(encoding="utf-8")
    for old, new in (
        ("      red_open_days: 15", "      red_open_days: 16"),
        ("      immediate_types: [水质不达标]", "      immediate_types: [水质不达标, 水源污染]"),
        ("  min_age: 16", "  min_age: 18"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    copy.write_text(text, encoding="utf-8")

    recording.bound.clear()
    with duckdb.connect(str(settings.home.warehouse)) as connection:
        build_signals(connection, load_rules(copy), DAY, checks=False)

    (water,) = recording.bound["signals/sig_water_unsafe"]
    assert water["water_unsafe__red_open_days"] == 16
    assert water["water_unsafe__immediate_types"] == ["水质不达标", "水源污染"]
    # Who is a labourer is decided once, with each person (int_people.is_labourer).
    (people,) = recording.bound["signals/int_people"]
    assert people["labourer__min_age"] == 18
