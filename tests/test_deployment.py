"""docker-compose.yml and the Dockerfile against the project, since Docker cannot run here:
the services of the official Airflow 3 compose, one image built from this repository on
the official image, the code and data mounted where the settings say, one JWT secret."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.conftest import PROJECT_DIR

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")


def mounts(service: dict) -> dict[str, str]:
    """Container path → host path of a service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        # host may hold a colon itself: ${FPWARN_INBOX:-./deploy/inbox}:/data/inbox
        spec = volume.removesuffix(":ro").removesuffix(":rw")
        host, container = spec.rsplit(":", 1)
        found[container] = host
    return found


def test_the_services_of_the_official_compose_are_there(compose):
    services = compose["services"]
    assert {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name
        assert "healthcheck" in services[name], name
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["redis"]["condition"] == "service_healthy"
        assert needs["airflow-init"]["condition"] == "service_completed_successfully"


def test_every_airflow_service_runs_the_image_built_from_this_repository(compose, dockerfile):
    images = set()
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        service = compose["services"][name]
        assert service["build"]["context"] == "."
        assert (PROJECT_DIR / service["build"]["dockerfile"]).is_file()
        images.add(service["image"])
    assert len(images) == 1


def test_the_image_is_the_official_airflow_image_with_the_project_installed(dockerfile):
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert version
    assert python
    assert re.search(
        r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}$",
        dockerfile,
        re.MULTILINE,
    )
    # The image's Airflow and Python satisfy what the project declares.
    airflow_requirement = next(
        dependency
        for dependency in project["project"]["dependencies"]
        if dependency.startswith("apache-airflow")
    )
    assert version.group(1) in SpecifierSet(airflow_requirement.removeprefix("apache-airflow"))
    assert f"{python.group(1)}.0" in SpecifierSet(project["project"]["requires-python"])
    # Everything the package reads at run time is copied in, and the project installed.
    for folder in ("pipeline", "dags", "sql", "config", "expectations"):
        assert f"COPY --chown=airflow:0 {folder} /opt/fpwarn/{folder}" in dockerfile
        assert (PROJECT_DIR / folder).is_dir()
    assert 'pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}"' in dockerfile
    assert '-e "/opt/fpwarn[drivers]"' in dockerfile
    assert "drivers" in project["project"]["optional-dependencies"]


def test_code_inbox_and_home_are_mounted_where_the_settings_point(compose):
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        service = compose["services"][name]
        environment = service["environment"]
        mounted = mounts(service)
        project_dir = PurePosixPath(environment["PIPELINE_PROJECT_DIR"])
        for folder in ("dags", "pipeline", "sql", "config", "expectations"):
            assert mounted[str(project_dir / folder)] == f"./{folder}", (name, folder)
        assert environment["AIRFLOW__CORE__DAGS_FOLDER"] == str(project_dir / "dags")
        assert environment["PIPELINE_INBOX"] in mounted
        assert environment["PIPELINE_HOME"] in mounted
        assert mounted["/opt/airflow/logs"]


def test_celery_postgres_and_one_jwt_secret_for_every_container(compose):
    services = compose["services"]
    secrets = set()
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert "@postgres/" in environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert environment["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:6379")
        assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        )
        secrets.add(
            (
                environment["AIRFLOW__API_AUTH__JWT_SECRET"],
                environment["AIRFLOW__API_AUTH__JWT_ISSUER"],
            )
        )
    assert len(secrets) == 1
    secret, _ = secrets.pop()
    # Taken from .env, and compose refuses to start without it (no shared default secret).
    assert secret.startswith("${FPWARN_JWT_SECRET:?")
    assert "FPWARN_JWT_SECRET=" in (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]


def test_init_creates_the_pool_the_dags_queue_in_and_the_claims_connection_is_wired(compose):
    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"])
    pools = PurePosixPath(init["environment"]["PIPELINE_PROJECT_DIR"]) / "config/airflow/pools.json"
    assert f"airflow pools import {pools}" in script
    assert (PROJECT_DIR / "config" / "airflow" / "pools.json").is_file()
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    # The environment form of the DAG's connection id.
    dag_source = (PROJECT_DIR / "dags" / "fpwarn_daily.py").read_text(encoding="utf-8")
    connection_id = re.search(r'CLAIMS_CONNECTION = "(\w+)"', dag_source)
    assert connection_id
    variable = f"AIRFLOW_CONN_{connection_id.group(1).upper()}"
    assert variable in compose["x-airflow-common"]["environment"]


def test_the_readme_says_how_to_start_it_and_where_township_files_appear():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert "docker compose up airflow-init" in readme
    assert "docker compose up -d" in readme
    assert "outbox/<business date>/townships/" in readme or "outbox/<日期>/townships/" in readme
    assert Path(PROJECT_DIR / ".env.example").is_file()
