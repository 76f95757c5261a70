-- Runs once when the compose PostgreSQL starts on an empty volume: hcp (the warehouse) exists already; airflow and
-- superset keep their metadata beside it.
create database airflow;
create database superset;
