# The image every Airflow service of docker-compose.yml runs: the official Airflow image
# with the project and its dependencies installed. docker-compose.yml mounts the code
# over /opt/fpwarn, so a change to the DAGs, the pipeline, SQL, rules or suites needs
# no rebuild; a change to the dependencies in pyproject.toml does.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
ENV PIPELINE_PROJECT_DIR=/opt/fpwarn

COPY --chown=airflow:0 pyproject.toml README.md /opt/fpwarn/
COPY --chown=airflow:0 pipeline /opt/fpwarn/pipeline
COPY --chown=airflow:0 dags /opt/fpwarn/dags
COPY --chown=airflow:0 sql /opt/fpwarn/sql
COPY --chown=airflow:0 config /opt/fpwarn/config
COPY --chown=airflow:0 expectations /opt/fpwarn/expectations
# Not fpwarn_demo/: the demo district generator is an extra, not part of the production
# image (docker-compose.yml's fpwarn-demo service mounts it).

# Airflow pinned to the image's own version, as the official image documentation asks;
# the drivers extra reaches the medical claims database (MySQL/MariaDB or PostgreSQL).
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -e "/opt/fpwarn[drivers]"
