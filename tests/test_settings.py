"""HOME/config.yaml and PIPELINE_* variables are validated when loaded, like feeds and rules."""

from __future__ import annotations

import pytest

from pipeline.settings import SettingsError, load_settings
from tests.test_cli import pipeline


def settings_from(tmp_path, config: str):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.yaml").write_text(config, encoding="utf-8")
    return load_settings(home, tmp_path / "inbox")


def test_a_misspelt_key_names_the_file_and_the_key(tmp_path):
    with pytest.raises(SettingsError) as error:
        settings_from(tmp_path, "review_db_ur: postgresql+psycopg://bureau@db/review\n")
    message = str(error.value)
    assert str(tmp_path / "home" / "config.yaml") in message
    assert "review_db_ur: unknown setting (did you mean review_db_url?" in message


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("ingest_workers: two\n", "ingest_workers: expected a whole number of at least 1"),
        ("ingest_workers: 0\n", "ingest_workers: expected a whole number of at least 1"),
        ("daily_report: sometimes\n", "daily_report: expected true or false"),
        ("med_claims_url: 42\n", "med_claims_url: expected a SQLAlchemy database URL"),
        ("review_db_url: 'not a url:secret'\n", "review_db_url: not a SQLAlchemy database URL"),
        ("partitions: {north: [341702]}\n", "partitions: partitions.north: 341702 is not a quoted"),
    ],
)
def test_a_value_that_cannot_be_used_is_refused(tmp_path, config, expected):
    with pytest.raises(SettingsError) as error:
        settings_from(tmp_path, config)
    assert expected in str(error.value)
    assert "secret" not in str(error.value)  # a URL may hold a password


def test_every_documented_setting_loads(tmp_path):
    settings = settings_from(
        tmp_path,
        "med_claims_url: sqlite:////srv/claims.sqlite\n"
        "review_db_url: postgresql+psycopg://bureau@db/review\n"
        "daily_report: false\n"
        "ingest_workers: 2\n"
        "partitions: {north: ['341702']}\n",
    )
    assert settings.values["ingest_workers"] == 2
    assert settings.values["partitions"] == {"north": ["341702"]}


def test_a_misspelt_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_REVIEW_DB_UR", "sqlite:///x.sqlite")
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path / "home", tmp_path / "inbox")
    assert (
        "environment variable PIPELINE_REVIEW_DB_UR: unknown setting "
        "(did you mean PIPELINE_REVIEW_DB_URL?"
    ) in str(error.value)


def test_an_environment_value_that_cannot_be_used_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_INGEST_WORKERS", "many")
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path / "home", tmp_path / "inbox")
    assert "environment variable PIPELINE_INGEST_WORKERS: expected a whole number" in str(
        error.value
    )


def test_the_command_line_refuses_a_misspelt_setting_in_one_line(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.yaml").write_text("review_db_ur: sqlite:///r.sqlite\n")
    done = pipeline(
        "run", "--inbox", str(tmp_path / "inbox"), "--home", str(tmp_path / "home"),
        "--date", "2026-03-01",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "review_db_ur: unknown setting (did you mean review_db_url?" in done.stderr
    assert not (tmp_path / "home" / "outbox").exists()


def test_defaults_and_typed_values_with_the_environment_first(tmp_path, monkeypatch):
    for name in ("PIPELINE_DAILY_REPORT", "PIPELINE_INGEST_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    nothing = settings_from(tmp_path, "")
    assert (nothing.daily_report, nothing.ingest_workers, nothing.partitions) == (True, None, [])
    assert nothing.review_db_url is None
    assert nothing.database_url("med_claims_url") is None

    configured = settings_from(
        tmp_path, "daily_report: 'no'\ningest_workers: 2\npartitions: {north: ['341702']}\n"
    )
    assert (configured.daily_report, configured.ingest_workers) == (False, 2)
    assert [(part.name, part.prefixes) for part in configured.partitions] == [
        ("north", ("341702",))
    ]
    monkeypatch.setenv("PIPELINE_INGEST_WORKERS", "3")
    monkeypatch.setenv("PIPELINE_DAILY_REPORT", "on")
    assert (configured.ingest_workers, configured.daily_report) == (3, True)
