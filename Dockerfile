# The production image: the same Python and the same lock as `make run` and CI.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/airflow \
    PYTHONPATH=/opt/airflow/plugins \
    HCP_PROJECT_ROOT=/opt/airflow \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    GX_ANALYTICS_ENABLED=false

RUN useradd --create-home --uid 50000 airflow
WORKDIR /opt/airflow

COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --system --no-cache --no-deps -r /tmp/requirements.lock

COPY --chown=airflow dags/ dags/
COPY --chown=airflow plugins/ plugins/
COPY --chown=airflow dbt_project/ dbt_project/
COPY --chown=airflow expectations/ expectations/

# the manifest hcp_nightly renders its dbt tasks from: parsed once here, never while the DAG file is parsed
RUN PYTHONPATH=/opt/airflow/plugins python -c "from hcp import dbt; dbt.ensure_manifest()" \
 && chown -R airflow dbt_project/target

USER airflow
