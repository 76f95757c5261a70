"""The warehouse made ready before the first night: `python -m hcp.setup_warehouse` (docker compose's airflow-init).

Creates what the loaders own and the read-only BI role hcp_bi (plugins/hcp/sql/warehouse.sql, idempotent), gives
hcp_bi the password HCP_BI_PASSWORD when it is set (the dashboard logs in with it), then checks what a night's first
task checks, so a warehouse that cannot serve a night stops the deployment instead.
"""
from __future__ import annotations

import os
import sys

import psycopg2.extensions

from hcp import preflight, warehouse


def main() -> None:
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        if os.environ.get("HCP_BI_PASSWORD"):
            # the server gets a SCRAM verifier, so the password itself is in no statement a log could keep
            verifier = psycopg2.extensions.encrypt_password(os.environ["HCP_BI_PASSWORD"], preflight.BI_ROLE, conn,
                                                            "scram-sha-256")
            with conn.cursor() as cur:
                cur.execute(f"alter role {preflight.BI_ROLE} password %s", (verifier,))
            conn.commit()
        problems = preflight.warehouse_problems(conn)
    if problems:
        sys.exit(str(preflight.PreflightFailed(problems)))
    print(f"warehouse ready: schemas raw, audit and util, role {preflight.BI_ROLE}")


if __name__ == "__main__":
    main()
