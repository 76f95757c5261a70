"""The 12345 hotline's own PostgreSQL table (docs/contract.md §4.4), in a database apart from the warehouse.

Three-level scale (满意 / 基本满意 / 不满意), ``modified_time`` set on every
change, soft deletes through ``is_deleted``.
"""
from __future__ import annotations

import io
from datetime import datetime

from hcp.timeutil import BEIJING
from hcp_dev.simulator.world import LEVEL_NAMES, World

DDL = """
create table if not exists public.hotline_evaluation (
    id             bigint primary key,
    work_order_no  text not null,
    case_no        text,
    item_code      text,
    dept_code      text,
    area_code      text,
    platform_code  text,
    staff_no       text,
    satisfaction   text,
    visit_time     timestamptz,
    modified_time  timestamptz not null,
    caller_phone   text,
    is_deleted     boolean not null default false
);
create index if not exists hotline_evaluation_modified_idx on public.hotline_evaluation (modified_time, id);
"""


def _stamp(wall_clock: datetime) -> str:
    return wall_clock.replace(tzinfo=BEIJING).isoformat()


def fill(conn, world: World, until: datetime | None = None) -> int:
    """Create the table and load the world's hotline ratings (replacing what was there), up to ``until``."""
    buffer = io.StringIO()
    n = 0
    for r in world.ratings:
        if r.channel != "hotline" or (until is not None and r.updated_at > until):
            continue
        values = [r.evaluation_id, f"GD{r.evaluation_id}", r.case_no, r.item_code, r.org_code, r.area_code,
                  r.platform_code, r.staff_no or r"\N", LEVEL_NAMES[r.level], _stamp(r.rated_at),
                  _stamp(r.updated_at), r.user_phone, "t" if r.is_deleted else "f"]
        buffer.write("\t".join(values) + "\n")
        n += 1
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.execute(DDL)
        cur.execute("truncate public.hotline_evaluation")
        cur.copy_expert("copy public.hotline_evaluation from stdin", buffer)
    conn.commit()
    return n


def change(conn, rating_id: str, modified: datetime, satisfaction: str | None = None, deleted: bool | None = None):
    """A row changes after it was first read: a corrected level or a withdrawal."""
    with conn.cursor() as cur:
        cur.execute(
            """
            update public.hotline_evaluation
               set satisfaction = coalesce(%s, satisfaction), is_deleted = coalesce(%s, is_deleted),
                   modified_time = %s
             where id = %s
            """,
            (satisfaction, deleted, modified.replace(tzinfo=BEIJING), int(rating_id)),
        )
    conn.commit()
