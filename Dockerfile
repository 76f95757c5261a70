# The production image: Airflow's official image of our Airflow and Python, extended with our lock, our code
# and the dbt manifest, the way Airflow documents extending it (docs: docker-stack/build.rst).
# Its ENTRYPOINT stays the official one (dumb-init, then /entrypoint): `docker-compose.yml`'s commands are
# what that entrypoint accepts (`api-server`, `celery worker`, `bash -c ...`).
FROM apache/airflow:3.3.2-python3.11

# Where our code lives in the image. AIRFLOW_HOME is /opt/airflow already (the base image's);
# PYTHONPATH so `import hcp` works in the DAG file, in tasks and in `python -m hcp....`.
ENV HCP_PROJECT_ROOT=/opt/airflow \
    PYTHONPATH=/opt/airflow/plugins \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/plugins \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=false

USER airflow

# The lock `make` installs, less the test tooling (deploy/runtime_lock.py), into the image's own virtualenv
# (~airflow/.local); naming apache-airflow keeps pip from moving the image's Airflow, as Airflow's docs ask.
COPY --chown=airflow:0 requirements.lock deploy/runtime_lock.py /tmp/hcp-build/
RUN python /tmp/hcp-build/runtime_lock.py /tmp/hcp-build/requirements.lock > /tmp/hcp-build/runtime.lock \
 && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/hcp-build/runtime.lock \
 && rm -rf /tmp/hcp-build

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 dbt_project/ /opt/airflow/dbt_project/
COPY --chown=airflow:0 expectations/ /opt/airflow/expectations/

# The manifest hcp_nightly renders its dbt tasks from: parsed once here, never while the DAG file is parsed.
# Group-writable like the rest of the image: containers run as any uid in group 0 (compose's AIRFLOW_UID),
# and dbt writes target/ and logs/ beside the project.
RUN python -c "from hcp import dbt; print(dbt.ensure_manifest())" \
 && chmod -R g+rwX /opt/airflow/dags /opt/airflow/plugins /opt/airflow/dbt_project /opt/airflow/expectations
