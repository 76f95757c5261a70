-- Runs once when the compose PostgreSQL starts on an empty volume: hcp (the warehouse) exists already.
create database airflow;
