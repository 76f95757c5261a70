"""A warehouse that takes TLS connections only, and sources behind a private CA: one night through Airflow.

A private CA signs the certificates of a second PostgreSQL server (``ssl=on``, pg_hba.conf with ``hostssl``
lines only) and of the HTTPS APIs. The connections name the CA in their extras, as an operator would:
``sslmode=verify-full`` and ``sslrootcert`` for the warehouse and the 12345 database, ``verify`` for the APIs.
Everything the night runs (the loaders, GX, dbt under Cosmos, Airflow's own database) must get through.
"""
import datetime as dt
import glob
import ipaddress
import json
import logging
import os
import pwd
import re
import ssl
import subprocess
from pathlib import Path

import psycopg2
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hcp import connections, failures, settings
from hcp.http_api import PagedClient, SourceError
from hcp.sources import pc
from hcp_dev import embedded_pg, runtime
from hcp_dev.cluster import free_port
from hcp_dev.embedded_pg import EmbeddedServer
from hcp_dev.simulator.demo import demo_sources
from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.pc_api import pc_api
from tests.conftest import NIGHT, TEST_RATINGS_PER_DAY, query

ROLE = "hcp_tls"  # the warehouse's login: no superuser, as a government warehouse would grant
PASSWORD = "tls only/p@ss"  # characters that must survive every URL and profile on the way
TOKEN = "pc-tls-token-7d2e"
HBA = """\
local   all  all                      trust
hostssl all  postgres  127.0.0.1/32   trust
hostssl all  {role}    127.0.0.1/32   scram-sha-256
host    all  all       0.0.0.0/0      reject
host    all  all       ::/0           reject
"""


def private_ca(folder: Path) -> dict[str, Path]:
    """A CA, and a server certificate it signed for localhost and 127.0.0.1: ca.pem, server.crt, server.key."""
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Haochaping test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                          x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ca.pem", "cert": folder / "server.crt", "key": folder / "server.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    files["key"].chmod(0o600)
    return files


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return private_ca(tmp_path_factory.mktemp("pki"))


def ssl_capable_bin_dir() -> Path | None:
    """A PostgreSQL build that speaks TLS: the suite's own when it does (the embedded wheel's is built without
    OpenSSL), else Debian's (apt-get install postgresql-15, as CI does)."""
    candidates = [os.environ.get("HCP_TEST_POSTGRES_BIN"), embedded_pg.BIN,
                  *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for bin_dir in (Path(c) for c in candidates if c):
        configure = subprocess.run([str(bin_dir / "pg_config"), "--configure"], capture_output=True, text=True,
                                   check=False) if (bin_dir / "pg_config").exists() else None
        if configure and "openssl" in configure.stdout:
            return bin_dir
    return None


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    """A second PostgreSQL server: TLS with the private CA's certificate, and hostssl the only way in over TCP."""
    bin_dir = ssl_capable_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL build with OpenSSL here: apt-get install postgresql-15")
    server = EmbeddedServer(tmp_path_factory.mktemp("pg_tls") / "data", free_port(), bin_dir=bin_dir).start()
    server.stop()
    for name in ("cert", "key"):
        target = server.data_dir / pki[name].name
        target.write_bytes(pki[name].read_bytes())
        target.chmod(0o600)  # PostgreSQL refuses a key others may read
        if os.geteuid() == 0:  # the server runs as its own OS user, who must own the key
            owner = pwd.getpwnam(embedded_pg.OS_USER)
            os.chown(target, owner.pw_uid, owner.pw_gid)
    with open(server.data_dir / "postgresql.conf", "a") as conf:
        conf.write(f"\nssl = on\nssl_cert_file = '{pki['cert'].name}'\nssl_key_file = '{pki['key'].name}'\n"
                   "log_connections = on\n")
    (server.data_dir / "pg_hba.conf").write_text(HBA.format(role=ROLE))
    server.start()
    admin = psycopg2.connect(host="localhost", port=server.port, user="postgres", dbname="postgres",
                             sslmode="verify-full", sslrootcert=str(pki["ca"]))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create role {ROLE} login createdb password %s", (PASSWORD,))
        cur.execute("create role hcp_bi login")  # the marts' reader, which the warehouse's DDL would create
    admin.close()
    yield server
    server.stop()


def warehouse_json(server: EmbeddedServer, pki: dict, dbname: str) -> str:
    """The connection as an operator writes it: the server's name as its certificate gives it, the CA in extras."""
    return json.dumps({"conn_type": "postgres", "host": "localhost", "port": server.port, "login": ROLE,
                       "password": PASSWORD, "schema": dbname,
                       "extra": {"sslmode": "verify-full", "sslrootcert": str(pki["ca"])}})


def server_context(pki: dict) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    return context


def test_the_server_refuses_plain_connections_and_verifies_by_the_ca(tls_server, pki):
    for user in ("postgres", ROLE):
        with pytest.raises(psycopg2.OperationalError, match="no encryption"):
            psycopg2.connect(host="127.0.0.1", port=tls_server.port, user=user, password=PASSWORD, dbname="postgres",
                             sslmode="disable")
    kwargs = connections.postgres_kwargs(connections.parse("w", warehouse_json(tls_server, pki, "postgres")))
    with pytest.raises(psycopg2.OperationalError, match="root certificate"):  # verify-full needs the CA
        psycopg2.connect(**{**kwargs, "sslrootcert": str(pki["ca"].with_name("missing.pem"))})
    conn = psycopg2.connect(**kwargs)
    assert query(conn, "select ssl from pg_stat_ssl where pid = pg_backend_pid()") == [(True,)]
    conn.close()


def test_an_https_source_with_a_private_ca_needs_its_ca(demo_world, pki, caplog):
    api = pc_api(demo_world.ratings, TOKEN)
    with ApiServer(api, ssl_context=server_context(pki)) as server:
        def client(extra: dict) -> PagedClient:
            conn = connections.parse("hcp_pc", json.dumps({"conn_type": "http", "host": server.base_url,
                                                           "password": TOKEN, "extra": extra}))
            return pc.client(connections.http_base_url(conn), TOKEN, session=connections.http_session(conn),
                             backoff=0.01, max_attempts=3)

        body, _ = client({"verify": str(pki["ca"])}).get({"limit": 1})
        assert len(body["data"]) == 1 and api.requests == 1
        with caplog.at_level(logging.WARNING), pytest.raises(SourceError, match="(?i)certificate verify failed") \
                as untrusted:
            client({}).get({"limit": 1})
    # failed at once, not retried: a CA the client does not know stays unknown
    assert not failures.is_transient(untrusted.value) and "retrying" not in caplog.text
    assert api.requests == 1 and TOKEN not in str(untrusted.value)


def test_a_night_over_tls_to_the_warehouse_the_12345_database_and_the_apis(tls_server, pki, demo_world,
                                                                           tmp_path_factory, monkeypatch):
    tmp = tmp_path_factory.mktemp("tls_night")
    # A client that dropped the connection's extras would fall back to these and fail: libpq to no TLS at all
    # (refused), requests to a CA bundle without the private CA.
    monkeypatch.setenv("PGSSLMODE", "disable")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    warehouse_value = warehouse_json(tls_server, pki, "hcp_tls")
    warehouse = connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value)
    server_kwargs = connections.postgres_kwargs(warehouse)
    runtime.create_databases(server_kwargs, ["hcp_tls", "airflow_tls", "hotline_tls"])
    with demo_sources(demo_world, tmp / "sources", TEST_RATINGS_PER_DAY, server_kwargs, "hotline_tls",
                      ssl_context=server_context(pki), http_extra={"verify": str(pki["ca"])}) as conns:
        assert json.loads(conns["AIRFLOW_CONN_HCP_PC"])["host"].startswith("https://")
        assert json.loads(conns["AIRFLOW_CONN_HCP_HOTLINE"])["extra"]["sslmode"] == "verify-full"
        env = runtime.airflow_env(warehouse_value, {
            **conns,
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "HCP_LOCAL_DIR": str(tmp / "local"),
            # Airflow's own database on the same server, over the same TLS
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": connections.sqlalchemy_url(warehouse, dbname="airflow_tls"),
            "HCP_TASK_RETRIES": "0",  # a task that fails fails at once
        })
        runtime.airflow(["db", "migrate"], env, tmp / "migrate.log")
        runtime.airflow(["pools", "set", settings.LOAD_POOL, "4", "loads"], env, tmp / "pools.log")
        night = subprocess.run([runtime.airflow_bin(), "dags", "test", "hcp_nightly",
                                f"{NIGHT + dt.timedelta(days=1)}T02:00:00+08:00"],
                               env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    output = night.stdout + night.stderr
    (tmp / "night.log").write_text(output)
    assert night.returncode == 0, output[-4000:]

    conn = psycopg2.connect(**server_kwargs)
    try:
        assert query(conn, "select status from audit.runs") == [("succeeded",)]
        assert dict(query(conn, "select channel, count(*) from marts.fct_ratings where channel in ('pc', 'hotline') "
                                "group by 1")).keys() == {"pc", "hotline"}
        assert query(conn, "select ssl from pg_stat_ssl where pid = pg_backend_pid()") == [(True,)]
    finally:
        conn.close()
    # every session the server let in came over TLS, the loaders', GX's and dbt's among them
    authorized = [line for line in tls_server.log_file.read_text(errors="replace").splitlines()
                  if "connection authorized" in line]
    assert authorized and all("SSL enabled" in line for line in authorized)
    names = {m.group(1) for line in authorized if (m := re.search(r"application_name=(\S+)", line))}
    assert {"haochaping", "haochaping-hotline", "dbt"} <= names, names
