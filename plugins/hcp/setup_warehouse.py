"""The warehouse made ready before the first night: `python -m hcp.setup_warehouse` (docker compose's airflow-init).

Creates what the loaders own and the read-only BI role hcp_bi (plugins/hcp/sql/warehouse.sql, idempotent), then
checks what a night's first task checks, so a warehouse that cannot serve a night stops the deployment instead.
"""
from __future__ import annotations

import sys

from hcp import preflight, warehouse


def main() -> None:
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        problems = preflight.warehouse_problems(conn)
    if problems:
        sys.exit(str(preflight.PreflightFailed(problems)))
    print(f"warehouse ready: schemas raw, audit and util, role {preflight.BI_ROLE}")


if __name__ == "__main__":
    main()
