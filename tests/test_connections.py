"""Connections as operators write them: JSON or URI, the scheme wherever Airflow's HTTP provider accepts it."""
import pytest

from hcp import connections


@pytest.mark.parametrize("value, expected", [
    ('{"conn_type": "http", "host": "https://zwfw.example.gov.cn/gw", "password": "t"}', "https://zwfw.example.gov.cn/gw"),
    ('{"conn_type": "http", "host": "10.1.2.3", "port": 8443, "schema": "https", "password": "t"}', "https://10.1.2.3:8443"),
    ('{"conn_type": "http", "host": "127.0.0.1", "port": 8080}', "http://127.0.0.1:8080"),
    ("https://:t@zwfw.example.gov.cn", "https://zwfw.example.gov.cn"),
])
def test_http_base_url(value, expected):
    assert connections.http_base_url(connections.parse("hcp_pc", value)) == expected


def test_postgres_uri_names_the_database_in_schema():
    conn = connections.parse("hcp_hotline", "postgresql://reader:p%40ss@db.example:6432/hotline")
    assert connections.postgres_kwargs(conn) == {"host": "db.example", "port": 6432, "user": "reader",
                                                 "dbname": "hotline", "password": "p@ss"}


def test_a_missing_connection_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_HCP_NOWHERE", raising=False)
    with pytest.raises(connections.MissingConnection, match="AIRFLOW_CONN_HCP_NOWHERE"):
        connections.get_connection("hcp_nowhere")
