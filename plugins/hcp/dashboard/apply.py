"""好差评绩效看板 applied to a Superset that runs: `python -m hcp.dashboard.apply` (docker compose's
dashboard-apply; `make dashboard` calls apply() on its own Superset).

The warehouse is the one the night writes (connection hcp_warehouse), read as the role hcp_bi; its password, if
the server asks for one, is HCP_BI_PASSWORD. Superset's admin login is SUPERSET_ADMIN_PASSWORD (user
SUPERSET_ADMIN_USER, default board.ADMIN) on SUPERSET_URL.
"""
from __future__ import annotations

import os
import sys

from hcp import connections, settings
from hcp.dashboard import board, bundle
from hcp.dashboard.superset_api import Superset, SupersetError, wait_until_healthy
from hcp.preflight import BI_ROLE


def warehouse_uri(warehouse_value: str) -> tuple[str, dict[str, str]]:
    """The warehouse as the read-only role sees it, for Superset: its SQLAlchemy URI without a password, and the
    password (HCP_BI_PASSWORD) for the bundle's import, if the role has one."""
    conn = connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value)
    password = os.environ.get("HCP_BI_PASSWORD")
    # the warehouse's server, database and libpq options (sslmode, ...), as the read-only role; a masked password
    # in the URI is where the import puts the one it is given
    conn.login, conn.password = BI_ROLE, ("XXXXXXXXXX" if password else None)
    return connections.sqlalchemy_url(conn), ({bundle.DATABASE_FILE: password} if password else {})


def apply(client: Superset, warehouse_value: str) -> None:
    """The bundle imported: every object created or overwritten in place, so applying it again changes nothing."""
    uri, passwords = warehouse_uri(warehouse_value)
    client.import_assets(bundle.build(uri), passwords)


def main() -> None:
    warehouse_var = connections.env_var(settings.WAREHOUSE_CONN_ID)
    missing = [name for name in ("SUPERSET_URL", "SUPERSET_ADMIN_PASSWORD", warehouse_var) if not os.environ.get(name)]
    if missing:
        sys.exit(f"cannot apply the dashboard: set {', '.join(missing)}")
    url = os.environ["SUPERSET_URL"].rstrip("/")
    try:
        wait_until_healthy(url, seconds=600)
        client = Superset(url, os.environ.get("SUPERSET_ADMIN_USER", board.ADMIN),
                          os.environ["SUPERSET_ADMIN_PASSWORD"])
        apply(client, os.environ[warehouse_var])
    except SupersetError as error:
        sys.exit(f"cannot apply the dashboard: {error}")
    print(f"{board.TITLE} applied: {board.dashboard_url(url)} (reads the warehouse as {BI_ROLE})")


if __name__ == "__main__":
    main()
