"""Every SQL step runs through pipeline/sql.py with the $name values it uses, bound."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipeline import sql
from pipeline.alerts.rules import load_rules
from pipeline.paths import SQL_DIR
from pipeline.signals.build import parameters


def test_a_step_gets_the_values_it_names_and_only_those():
    assert sql.bound_parameters("select $a + $b + $a", {"a": 1, "b": 2, "c": 3}) == {"a": 1, "b": 2}
    with pytest.raises(KeyError, match="b"):
        sql.bound_parameters("select $a + $b", {"a": 1})


def test_every_parameter_of_the_signal_steps_is_provided():
    values, _ = parameters(load_rules(), date(2026, 3, 10))
    named = {
        path.name: set(sql.PARAMETER.findall(path.read_text(encoding="utf-8")))
        for path in sorted((SQL_DIR / "signals").glob("*.sql"))
    }
    assert {name: names - set(values) for name, names in named.items() if names - set(values)} == {}


def test_materialise_and_query_read_the_step_from_its_file(tmp_path, monkeypatch):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "doubled.sql").write_text("select $n * 2 as doubled", encoding="utf-8")
    monkeypatch.setattr(sql, "SQL_DIR", tmp_path)
    with duckdb.connect() as connection:
        sql.materialise(connection, "demo/doubled", "doubled", {"n": 21, "unused": 0})
        assert connection.execute("select doubled from doubled").fetchall() == [(42,)]
        assert sql.query(connection, "demo/doubled", {"n": 2})["doubled"].tolist() == [4]
