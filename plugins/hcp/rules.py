"""Row rules: whether each landed row can be scored, decided in SQL where the batch sits.

A row that breaks a rule goes to ``audit.quarantine`` with the first rule it
breaks (reasons documented in ``hcp.quarantine``); staging leaves it out, and
it is never deleted. SMS replies whose case the master data does not list yet
are held (``audit.held``) and looked at again every night until a snapshot
within ``SMS_CASE_WINDOW`` days of the reply lists the case, or the window has
passed and they are quarantined as ``unknown_case``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hcp.quarantine import check
from hcp.timeutil import latest_source_time

LAUNCH = "2019-12-01"  # the national rating system's start: no rating is older
SMS_CASE_WINDOW = 7  # days either side of the reply: a snapshot that lists its case



def uscc_fails(table: str, column: str) -> str:
    """A row whose agency code is no valid USCC. The check digit is worked out once per distinct code in the
    batch (a hashed set), not once per row: a batch names a few hundred agencies in a million rows.
    OFFSET 0 keeps the planner from pushing the check below the DISTINCT, back onto every row."""
    return (f"{column} is null or {column} in (select code from (select distinct {column} as code from {table} "
            f"where _batch_id = %(batch_id)s and {column} is not null offset 0) codes "
            "where not util.uscc_is_valid(code))")



@dataclass(frozen=True)
class RowRules:
    table: str
    id_column: str
    version_column: str | None  # rows of one id and version must agree; None: the whole batch is one version
    time_column: str | None
    time_regex: str | None  # the source's own time format
    time_text: str | None  # string-only SQL turning it into input for time_type (never a cast: it must not fail)
    time_type: str  # 'timestamp' (Beijing wall clock) or 'timestamptz' (an instant with its offset)

    @property
    def parsed_time(self) -> str:
        """The row's time as a Beijing wall-clock timestamp, null when it is no real time: casts that cannot fail
        (util.sql), shared with staging so both read a time the same way."""
        if self.time_type == "timestamptz":
            return f"(util.to_timestamptz_or_null({self.time_text}) at time zone 'Asia/Shanghai')"
        return f"util.to_timestamp_or_null({self.time_text})"
    checks: tuple[tuple[str, str], ...]  # (reason, SQL true when the row FAILS), in order of precedence
    # columns the loader fills from the file or folder a row came in: a rating sent again in another file is
    # the same rating, so these are left out when rows of one id and version are compared
    delivery_columns: tuple[str, ...] = ()


RULES: dict[str, RowRules] = {
    "pc": RowRules(
        "raw.pc_evaluations", "evaluation_id", "update_time", "assess_time",
        r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "assess_time", "timestamp",
        (
            ("level_out_of_scale", "coalesce(satisfaction, '') not in ('1', '2', '3', '4', '5')"),
            ("missing_case", "coalesce(btrim(project_no), '') = ''"),
            ("invalid_agency_code", uscc_fails("raw.pc_evaluations", "dept_code")),
            ("bad_rating_seq", "coalesce(util.to_integer_or_null(assess_number), 0) not in (1, 2)"),
        ),
    ),
    "app": RowRules(
        "raw.app_evaluations", "eval_id", None, "eval_time",
        r"^\d{8}T\d{6}$",
        "substr(eval_time, 1, 4) || '-' || substr(eval_time, 5, 2) || '-' || substr(eval_time, 7, 2) || ' ' "
        "|| substr(eval_time, 10, 2) || ':' || substr(eval_time, 12, 2) || ':' || substr(eval_time, 14, 2)",
        "timestamp",
        (
            ("level_out_of_scale", "coalesce(satisfaction_code, '') not in ('1', '2', '3', '4', '5')"),
            ("missing_case", "coalesce(btrim(case_no), '') = ''"),
            ("invalid_agency_code", uscc_fails("raw.app_evaluations", "org_code")),
            ("bad_rating_seq", "coalesce(util.to_integer_or_null(eval_seq), 0) not in (1, 2)"),
        ),
        delivery_columns=("export_date",),
    ),
    "hall": RowRules(
        "raw.hall_evaluations", "evaluation_no", None, "eval_time",
        r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$", "replace(eval_time, '/', '-')", "timestamp",
        (
            ("level_out_of_scale",
             "coalesce(btrim(result), '') not in ('非常满意', '满意', '基本满意', '不满意', '非常不满意')"),
            ("missing_case", "coalesce(btrim(case_no), '') = ''"),
            ("invalid_agency_code", uscc_fails("raw.hall_evaluations", "dept_code")),
        ),
        delivery_columns=("hall_code", "file_date"),
    ),
    "hotline": RowRules(
        "raw.hotline_evaluations", "id", "modified_time", "visit_time",
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "visit_time", "timestamptz",
        (
            ("level_out_of_scale", "coalesce(btrim(satisfaction), '') not in ('满意', '基本满意', '不满意')"),
            ("missing_case", "coalesce(btrim(case_no), '') = ''"),
            ("invalid_agency_code", uscc_fails("raw.hotline_evaluations", "dept_code")),
        ),
    ),
    "sms": RowRules(
        "raw.sms_replies", "msg_id", None, "received_at",
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$",
        "received_at", "timestamptz",
        (
            ("sms_opt_out", "util.sms_reply_is_opt_out(reply_text)"),
            ("sms_unparseable", "util.sms_reply_level(reply_text) is null"),
            ("missing_case", "coalesce(btrim(case_no), '') = ''"),
        ),
        delivery_columns=("file_date",),
    ),
    "rectification": RowRules(
        "raw.rectification_events", "event_id", None, None, None, None, "timestamptz",
        (
            ("missing_id", "coalesce(btrim(evaluation_id), '') = '' or coalesce(btrim(order_no), '') = ''"),
            ("unknown_event_type", "coalesce(event_type, '') not in ('opened', 'verified', 'classified', "
                                   "'extended', 'rectified', 'feedback', 'appeal_upheld', 'appeal_rejected')"),
            ("bad_time_format", "coalesce(event_time, '') !~ '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}'"),
            ("bad_time_format", "util.to_timestamptz_or_null(event_time) is null"),
            # events are read again every night within the lookback: one whose rating lands later passes then
            ("unknown_evaluation", """
                not exists (select 1 from raw.pc_evaluations x where batch.channel = 'pc' and x.evaluation_id = batch.evaluation_id)
                and not exists (select 1 from raw.app_evaluations x where batch.channel = 'app' and x.eval_id = batch.evaluation_id)
                and not exists (select 1 from raw.hall_evaluations x
                                where batch.channel = 'hall' and x.evaluation_no = batch.evaluation_id)
                and not exists (select 1 from raw.hotline_evaluations x where batch.channel = 'hotline' and x.id = batch.evaluation_id)
                and not exists (select 1 from raw.sms_replies x where batch.channel = 'sms' and x.msg_id = batch.evaluation_id)"""),
        ),
    ),
}


def quarantine_sql(source: str, columns: list[str]) -> str:
    """INSERT ... SELECT that quarantines the batch's rows breaking a rule; params: batch_id, end-of-future.
    columns: the raw table's own columns (not the _batch_id, _line_no... the loader adds), which the
    content hash covers."""
    rules = RULES[source]
    # a row constructor's text tells null from empty, and costs a fifth of a jsonb round trip
    content = f"md5(row({', '.join('r.' + c for c in columns)})::text)"
    # one text per id and version, null and empty told apart as a window's partitions would
    def version_key(alias: str) -> str:
        version = f", {alias}.{rules.version_column}" if rules.version_column else ""
        return f"row({alias}.{rules.id_column}{version})::text"

    checks = [("missing_id", f"coalesce(btrim({rules.id_column}), '') = ''")]
    if rules.time_column:
        parsed = rules.parsed_time
        checks += [
            ("bad_time_format", f"coalesce({rules.time_column}, '') !~ '{rules.time_regex}'"),
            ("bad_time_format", f"{parsed} is null"),
            ("time_before_launch", f"{parsed} < timestamp '{LAUNCH}'"),
            ("time_in_future", f"{parsed} >= %(future)s::timestamp"),
        ]
    checks += list(rules.checks)
    # not IN over a hashed list: a row's id is looked up first, and is almost never there
    checks.append(("conflicting_duplicate", f"batch.{rules.id_column} in (select id from conflicting) "
                                            f"and {version_key('batch')} in (select version_key from conflicting)"))
    cases = "\n".join(f"            when {sql} then '{check(reason)}'" for reason, sql in checks)
    # Rows of one id and version conflict when their contents differ. Only ids delivered more than once in
    # a version can: those are found first, and only their rows are hashed. Hashing every row and comparing
    # over a window sorted the whole batch, every column with it (10 of pc's 16 s at 1.5M rows). The batch
    # is read in three passes, the repeats only looked up in hashed lists, with no join to it that the
    # planner could misjudge: it takes a new batch for a few rows (its id is past the statistics).
    return f"""
        with repeated as materialized (
            select {version_key('r')} as version_key
            from {rules.table} r
            where r._batch_id = %(batch_id)s
            group by 1
            having count(*) > 1
        ),
        conflicting as materialized (
            select min(r.{rules.id_column}) as id, {version_key('r')} as version_key
            from {rules.table} r
            where r._batch_id = %(batch_id)s and {version_key('r')} in (select version_key from repeated)
            group by 2
            having min({content}) <> max({content})
        ),
        judged as (
            select batch.*, case
{cases}
            end as reason
            from {rules.table} as batch
            where batch._batch_id = %(batch_id)s
        )
        insert into audit.quarantine (batch_id, source, source_page, line_no, record, reason, stage)
        select _batch_id, '{source}', _source_page, _line_no, (row_to_json(judged)::jsonb - 'reason')::text, reason,
               'validation'
        from judged
        where reason is not null
    """


def source_columns(cur, source: str) -> list[str]:
    """A raw table's columns as the source sent them: without those the loader adds (_batch_id, ..., and the
    file or folder a row came in)."""
    rules = RULES[source]
    schema, name = rules.table.split(".")
    cur.execute("select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "and left(column_name, 1) <> '_' order by ordinal_position", (schema, name))
    return [c for (c,) in cur.fetchall() if c not in rules.delivery_columns]


def end_of_future(night: date) -> str:
    """The latest rating time night D accepts: the end of D+1, plus the clock skew."""
    return latest_source_time(night).isoformat(sep=" ")


# A snapshot within the window lists the reply's case. OFFSET 0 keeps it a lookup by the case index per
# reply: as a semi-join the planner hashed every snapshot ever landed (37M rows on 30 nights: minutes).
LISTED_NEAR = f"""select 1 from raw.master_cases c
                  where c.case_no = {{reply}}.case_no
                    and util.to_date_or_null(c.snapshot_date) between {{reply}}.reply_date - {SMS_CASE_WINDOW}
                                                  and {{reply}}.reply_date + {SMS_CASE_WINDOW}
                  offset 0"""

# The batch's quarantined rows are looked up one by one too (OFFSET 0): their statistics do not know the
# batch yet, and planned as one row they were scanned again for every reply (1M a night: 104M comparisons,
# most of sms.validate's 10 s).
HOLD_SMS_SQL = f"""
    insert into audit.held (batch_id, source, source_page, line_no, case_no, reply_date, hold_until)
    select r._batch_id, 'sms', r._source_page, r._line_no, r.case_no, reply_date,
           reply_date + {SMS_CASE_WINDOW}
    from (select *, (util.to_timestamptz_or_null(received_at) at time zone 'Asia/Shanghai')::date as reply_date
          from raw.sms_replies where _batch_id = %(batch_id)s) r
    where not exists (select 1 from audit.quarantine q
                      where q.batch_id = r._batch_id and q.source_page = r._source_page and q.line_no = r._line_no
                      offset 0)
      and not exists ({LISTED_NEAR.format(reply="r")})
"""

# Held replies whose case a snapshot now lists go on; those past their window go to quarantine.
RELEASE_SMS_SQL = f"""
    with listed as (
        update audit.held h set released_at = clock_timestamp(), released_as = 'passed', released_night = %(night)s
        where h.released_at is null and h.source = 'sms'
          and exists ({LISTED_NEAR.format(reply="h")})
        returning h.batch_id
    ),
    expired as (
        update audit.held h set released_at = clock_timestamp(), released_as = 'quarantined', released_night = %(night)s
        where h.released_at is null and h.source = 'sms' and h.hold_until <= %(night)s
          and not exists ({LISTED_NEAR.format(reply="h")})
        returning h.*
    )
    insert into audit.quarantine (batch_id, source, source_page, line_no, record, reason, detail, stage)
    select e.batch_id, 'sms', e.source_page, e.line_no, row_to_json(r)::text, 'unknown_case',
           'no snapshot within {SMS_CASE_WINDOW} days of ' || e.reply_date || ' lists case ' || coalesce(e.case_no, ''),
           'validation'
    from expired e
    join raw.sms_replies r on r._batch_id = e.batch_id and r._source_page = e.source_page and r._line_no = e.line_no
"""


# Reason codes as each channel carries them, one row per code: kept whatever they are, flagged when unknown.
REASON_CODES_SQL = {
    "pc": "select code from raw.pc_evaluations, unnest(util.split_codes(eval_detail, ',')) code "
          "where _batch_id = %(batch_id)s",
    "app": "select code from raw.app_evaluations, unnest(util.reason_codes_from_json(tags)) code "
           "where _batch_id = %(batch_id)s",
    "hall": "select code from raw.hall_evaluations, unnest(util.split_codes(bad_reasons, '|')) code "
            "where _batch_id = %(batch_id)s",
}


def known_reason_codes() -> list[str]:
    """The codes of the dbt seed reason_codes.csv: the one list, shared with the marts."""
    import csv

    from hcp import settings

    with open(settings.DBT_PROJECT_DIR / "seeds" / "reason_codes.csv", encoding="utf-8") as f:
        return [row["reason_code"] for row in csv.DictReader(f)]
