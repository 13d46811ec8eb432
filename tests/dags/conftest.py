"""Airflow for the DAG tests: a throwaway home and SQLite metadata, set before Airflow is imported."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

# The DAG processor and the task runner put the bundle's folder on sys.path (BundleDagBag):
# the DAG files import their shared module from there.
if str(PROJECT_DIR / "dags") not in sys.path:
    sys.path.append(str(PROJECT_DIR / "dags"))

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="fpwarn-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    from airflow.utils import db

    db.resetdb()
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_DIR / "dags"))
