"""Days of history for a benchmark night, laid down by the server instead of the simulator.

A night of N ratings is loaded through the real pipeline once (night D-1). Its accepted batches are
then copied back in time, one copy per earlier day: every raw row of the batch with its ids and case
numbers prefixed ``H<k>-`` and every time and date moved k days earlier, with the batch's audit rows
(reconciliation, validations, quarantined and held rows) beside it, so staging reads the copies as
the accepted batches of nights D-1-k. One ``INSERT ... SELECT`` per table and day: 30 million ratings
of history take minutes, where generating and loading them would take hours.

A warehouse that lived through those nights would also have settled what they left pending, which a copy
of night D-1 does not: ``settle_history`` ends the copied SMS holds whose window has passed, as the nights
in between would have, and gives each copied bad review still open or without an order the work order a
real one gets (opened, verified, classified clear, rectified, closed within its deadlines), each event
only once its time is past night D-1. Without it, every copied review stays unsettled forever and night D
recomputes the whole history's bad reviews, which no real night does.
"""
from __future__ import annotations

from datetime import date

from hcp import rules
from hcp.sources import SOURCES

SHIFT = "make_interval(days => %(days)s)"


def _wall_clock(column: str, pattern: str) -> str:
    """A Beijing wall-clock text in ``pattern``, moved back."""
    return f"to_char(to_timestamp({column}, '{pattern}')::timestamp - {SHIFT}, '{pattern}')"


def _with_offset(column: str) -> str:
    """An ISO-8601 text with an offset, moved back and written in Beijing time."""
    return (f"to_char(({column}::timestamptz - {SHIFT}) at time zone 'Asia/Shanghai', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00'")


def _date(column: str, pattern: str) -> str:
    return f"to_char(to_date({column}, '{pattern}') - %(days)s, '{pattern}')"


PREFIXED = "%(prefix)s || {}"
# raw table -> the columns a copy changes, with the expression that changes them
CHANGES: dict[str, dict[str, str]] = {
    "raw.pc_evaluations": {
        "evaluation_id": PREFIXED, "project_no": PREFIXED,
        "assess_time": _wall_clock("assess_time", "YYYY-MM-DD HH24:MI:SS"),
        "update_time": _wall_clock("update_time", "YYYY-MM-DD HH24:MI:SS"),
    },
    "raw.app_evaluations": {
        "eval_id": PREFIXED, "case_no": PREFIXED,
        "eval_time": _wall_clock("eval_time", 'YYYYMMDD"T"HH24MISS'),
        "export_date": _date("export_date", "YYYY-MM-DD"),
    },
    "raw.hall_evaluations": {
        "evaluation_no": PREFIXED, "case_no": PREFIXED,
        "eval_time": _wall_clock("eval_time", "YYYY/MM/DD HH24:MI:SS"),
        "file_date": _date("file_date", "YYYYMMDD"),
    },
    "raw.hotline_evaluations": {
        "id": PREFIXED, "work_order_no": PREFIXED, "case_no": PREFIXED,
        "visit_time": _with_offset("visit_time"), "modified_time": _with_offset("modified_time"),
    },
    "raw.sms_replies": {
        "msg_id": PREFIXED, "case_no": PREFIXED,
        "received_at": _with_offset("received_at"), "file_date": _date("file_date", "YYYYMMDD"),
    },
    "raw.master_agencies": {"snapshot_date": _date("snapshot_date", "YYYY-MM-DD")},
    "raw.master_platforms": {"snapshot_date": _date("snapshot_date", "YYYY-MM-DD")},
    "raw.master_staff": {"snapshot_date": _date("snapshot_date", "YYYY-MM-DD")},
    "raw.master_service_items": {"snapshot_date": _date("snapshot_date", "YYYY-MM-DD")},
    "raw.master_cases": {
        "case_no": PREFIXED,
        "submitted_at": _wall_clock("submitted_at", "YYYY-MM-DD HH24:MI:SS"),
        "completed_at": _wall_clock("completed_at", "YYYY-MM-DD HH24:MI:SS"),
        "snapshot_date": _date("snapshot_date", "YYYY-MM-DD"),
    },
    "raw.rectification_events": {
        "event_id": PREFIXED, "order_no": PREFIXED, "evaluation_id": PREFIXED,
        "event_time": _with_offset("event_time"),
        "new_due_date": f"case when util.to_date_or_null(new_due_date) is not null then {_date('new_due_date', 'YYYY-MM-DD')}"
                        " else new_due_date end",
    },
}


def _columns(cur, table: str) -> list[str]:
    schema, name = table.split(".")
    cur.execute("select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position", (schema, name))
    return [c for (c,) in cur.fetchall() if c != "_batch_id"]


def copy_night_back(conn, night: date, days: int) -> int:
    """Copy every accepted batch of ``night`` to each of the ``days`` nights before it; returns rows copied."""
    copied = 0
    with conn.cursor() as cur:
        cur.execute("select batch_id, source from audit.accepted_batches where night = %s order by batch_id", (night,))
        batches = cur.fetchall()
        tables = {table: _columns(cur, table) for table in CHANGES}
        for k in range(1, days + 1):
            params = {"days": k, "prefix": f"H{k}-"}
            for batch_id, source in batches:
                cur.execute(
                    """
                    insert into audit.batches (source, night, status, rows_read, rows_landed, rows_rejected,
                                               bytes_read, files_taken, started_at, ended_at)
                    select source, night - %(days)s, status, rows_read, rows_landed, rows_rejected, bytes_read,
                           files_taken, started_at, ended_at
                    from audit.batches where batch_id = %(batch)s
                    returning batch_id
                    """, {**params, "batch": batch_id})
                new_id = cur.fetchone()[0]
                params_batch = {**params, "batch": batch_id, "new": new_id}
                for table in SOURCES[source].raw_tables:
                    columns, changes = tables[table], CHANGES[table]
                    select = ", ".join(changes[c].format(c) if c in changes else c for c in columns)
                    cur.execute(f"insert into {table} ({', '.join(columns)}, _batch_id) "
                                f"select {select}, %(new)s from {table} where _batch_id = %(batch)s", params_batch)
                    copied += cur.rowcount
                for statement in _AUDIT_COPIES:
                    cur.execute(statement, params_batch)
                if source == "rectification":
                    cur.execute(_WORK_ORDERS, {**params_batch, "night": night})
                    copied += cur.rowcount
        # the copied holds of k >= 7 nights back are past their window by night D-1
        cur.execute(rules.release_sql(SOURCES["sms"]), {"night": night})
        conn.commit()
    return copied


# One work order per copied bad review that night D-1 left open or without one, its events at fixed times
# after the rating (all within the 1-working-day verification and 5-working-day close deadlines), moved
# back with the copy and kept only where they fall before the end of night D-1.
_WORK_ORDERS = """
    insert into raw.rectification_events (event_id, order_no, channel, evaluation_id, event_type, event_time,
                                          org_code, category, new_due_date, _record, _batch_id, _source_page,
                                          _line_no)
    select %(prefix)s || 'settled-' || r.bad_review_key || '-' || e.event_type,
           %(prefix)s || coalesce(r.order_no, 'settled-' || r.bad_review_key),
           r.channel, %(prefix)s || r.evaluation_id, e.event_type,
           to_char((r.rated_at + e.after - make_interval(days => %(days)s)) at time zone 'Asia/Shanghai',
                   'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
           r.org_code, e.category, null, '{}', %(new)s, 'settled history', row_number() over ()
    from intermediate.int_bad_reviews r
    cross join (values ('opened', interval '1 hour', null), ('verified', interval '20 hours', null),
                       ('classified', interval '1 day', 'clear'), ('rectified', interval '3 days', null),
                       ('feedback', interval '4 days', null)) as e (event_type, after, category)
    where r.status in ('open', 'no_order')
      and r.rated_at + e.after - make_interval(days => %(days)s)
          < (%(night)s::date + 1)::timestamp at time zone 'Asia/Shanghai'
"""


# a copied batch is judged as its original was: balanced, its suites passed, the same rows kept out
_AUDIT_COPIES = [
    """
    insert into audit.reconciliation (batch_id, source, rows_read, rows_landed, rejected_at_load, passed,
                                      quarantined, held, balanced)
    select %(new)s, source, rows_read, rows_landed, rejected_at_load, passed, quarantined, held, balanced
    from audit.reconciliation where batch_id = %(batch)s
    """,
    """
    insert into audit.validations (batch_id, suite, success, evaluated, failed)
    select %(new)s, suite, success, evaluated, failed from audit.validations where batch_id = %(batch)s
    """,
    """
    insert into audit.quarantine (batch_id, source, source_page, line_no, record, reason, detail, stage)
    select %(new)s, source, source_page, line_no, record, reason, detail, stage
    from audit.quarantine where batch_id = %(batch)s
    """,
    """
    insert into audit.held (batch_id, source, source_page, line_no, case_no, reply_date, hold_until, released_at,
                            released_as)
    select %(new)s, source, source_page, line_no, %(prefix)s || case_no, reply_date - %(days)s,
           hold_until - %(days)s, released_at, released_as
    from audit.held where batch_id = %(batch)s
    """,
]
