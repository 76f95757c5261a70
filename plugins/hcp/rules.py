"""Row rules: whether each landed row can be scored, decided in SQL where the batch sits, from what each source
declares (``hcp.sources.contract``).

A row that breaks a rule goes to ``audit.quarantine`` with the first rule it
breaks (reasons documented in ``hcp.quarantine``); staging leaves it out, and
it is never deleted. Rows of a source that holds for its case (SMS replies)
whose case the master data does not list yet are held (``audit.held``) and
looked at again every night until a snapshot within the source's window lists
the case, or the window has passed and they are quarantined as ``unknown_case``.
"""
from __future__ import annotations

from datetime import date

from hcp.quarantine import check
from hcp.sources.contract import RATING_SEQUENCES, RawTable, SourceContract
from hcp.timeutil import latest_source_time

LAUNCH = "2019-12-01"  # the national rating system's start: no rating is older


def uscc_fails(table: str, column: str) -> str:
    """A row whose agency code is no valid USCC. The check digit is worked out once per distinct code in the
    batch (a hashed set), not once per row: a batch names a few hundred agencies in a million rows.
    OFFSET 0 keeps the planner from pushing the check below the DISTINCT, back onto every row."""
    return (f"{column} is null or {column} in (select code from (select distinct {column} as code from {table} "
            f"where _batch_id = %(batch_id)s and {column} is not null offset 0) codes "
            "where not util.uscc_is_valid(code))")


def row_checks(table: RawTable) -> list[tuple[str, str]]:
    """The table's row rules in order of precedence, each (reason, SQL true when the row FAILS): a row is
    quarantined with the first it breaks."""
    from hcp.sources import SOURCES

    checks = [("missing_id", f"coalesce(btrim({table.id_column}), '') = ''")]
    if table.time:
        time = table.time
        checks += [
            ("bad_time_format", f"coalesce({time.column}, '') !~ '{time.regex}'"),
            ("bad_time_format", f"{time.parsed} is null"),
            ("time_before_launch", f"{time.parsed} < timestamp '{LAUNCH}'"),
            ("time_in_future", f"{time.parsed} >= %(future)s::timestamp"),
        ]
    if table.level:
        checks.append(("level_out_of_scale", table.level.fails))
    checks += [(reason, sql(SOURCES) if callable(sql) else sql) for reason, sql in table.rules]
    if table.case_column:
        checks.append(("missing_case", f"coalesce(btrim({table.case_column}), '') = ''"))
    if table.agency_column:
        checks.append(("invalid_agency_code", uscc_fails(table.name, table.agency_column)))
    if table.sequence_column:
        sequences = ", ".join(RATING_SEQUENCES)
        checks.append(("bad_rating_seq",
                       f"coalesce(util.to_integer_or_null({table.sequence_column}), 0) not in ({sequences})"))
    return checks


def quarantine_sql(source: str, table: RawTable) -> str:
    """INSERT ... SELECT that quarantines the batch's rows breaking a rule; params: batch_id, end-of-future."""
    # the content hash covers the columns as the source sent them; a row constructor's text tells null from
    # empty, and costs a fifth of a jsonb round trip
    content = f"md5(row({', '.join('r.' + c for c in table.source_columns)})::text)"

    # one text per id and version, null and empty told apart as a window's partitions would
    def version_key(alias: str) -> str:
        version = f", {alias}.{table.version_column}" if table.version_column else ""
        return f"row({alias}.{table.id_column}{version})::text"

    checks = row_checks(table)
    # not IN over a hashed list: a row's id is looked up first, and is almost never there
    checks.append(("conflicting_duplicate", f"batch.{table.id_column} in (select id from conflicting) "
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
            from {table.name} r
            where r._batch_id = %(batch_id)s
            group by 1
            having count(*) > 1
        ),
        conflicting as materialized (
            select min(r.{table.id_column}) as id, {version_key('r')} as version_key
            from {table.name} r
            where r._batch_id = %(batch_id)s and {version_key('r')} in (select version_key from repeated)
            group by 2
            having min({content}) <> max({content})
        ),
        judged as (
            select batch.*, case
{cases}
            end as reason
            from {table.name} as batch
            where batch._batch_id = %(batch_id)s
        )
        insert into audit.quarantine (batch_id, source, source_page, line_no, record, reason, stage)
        select _batch_id, '{source}', _source_page, _line_no, (row_to_json(judged)::jsonb - 'reason')::text, reason,
               'validation'
        from judged
        where reason is not null
    """


def end_of_future(night: date) -> str:
    """The latest rating time night D accepts: the end of D+1, plus the clock skew."""
    return latest_source_time(night).isoformat(sep=" ")


def _listed_near(reply: str, days: int) -> str:
    """A snapshot within ``days`` of the reply lists its case. OFFSET 0 keeps it a lookup by the case index per
    reply: as a semi-join the planner hashes every snapshot ever landed."""
    return f"""select 1 from raw.master_cases c
                  where c.case_no = {reply}.case_no
                    and util.to_date_or_null(c.snapshot_date) between {reply}.reply_date - {days}
                                                  and {reply}.reply_date + {days}
                  offset 0"""


def hold_sql(source: SourceContract) -> str:
    """Holds the batch's rows that passed the row rules but whose case no snapshot near them lists yet
    (params: batch_id). The batch's quarantined rows are looked up one by one (OFFSET 0): their statistics do
    not know the batch yet, and planned as one row they would be scanned again for every reply."""
    table, days = source.table, source.holds_for_case_days
    return f"""
    insert into audit.held (batch_id, source, source_page, line_no, case_no, reply_date, hold_until)
    select r._batch_id, '{source.name}', r._source_page, r._line_no, r.case_no, reply_date, reply_date + {days}
    from (select _batch_id, _source_page, _line_no, {table.case_column} as case_no,
                 {table.time.parsed}::date as reply_date
          from {table.name} where _batch_id = %(batch_id)s) r
    where not exists (select 1 from audit.quarantine q
                      where q.batch_id = r._batch_id and q.source_page = r._source_page and q.line_no = r._line_no
                      offset 0)
      and not exists ({_listed_near("r", days)})
"""


def release_sql(source: SourceContract) -> str:
    """Held rows whose case a snapshot now lists go on; those past their window go to quarantine
    (params: night)."""
    days = source.holds_for_case_days
    return f"""
    with listed as (
        update audit.held h set released_at = clock_timestamp(), released_as = 'passed', released_night = %(night)s
        where h.released_at is null and h.source = '{source.name}'
          and exists ({_listed_near("h", days)})
        returning h.batch_id
    ),
    expired as (
        update audit.held h set released_at = clock_timestamp(), released_as = 'quarantined', released_night = %(night)s
        where h.released_at is null and h.source = '{source.name}' and h.hold_until <= %(night)s
          and not exists ({_listed_near("h", days)})
        returning h.*
    )
    insert into audit.quarantine (batch_id, source, source_page, line_no, record, reason, detail, stage)
    select e.batch_id, '{source.name}', e.source_page, e.line_no, row_to_json(r)::text, 'unknown_case',
           'no snapshot within {days} days of ' || e.reply_date || ' lists case ' || coalesce(e.case_no, ''),
           'validation'
    from expired e
    join {source.table.name} r
      on r._batch_id = e.batch_id and r._source_page = e.source_page and r._line_no = e.line_no
"""


def known_reason_codes() -> list[str]:
    """The codes of the dbt seed reason_codes.csv: the one list, shared with the marts."""
    import csv

    from hcp import settings

    with open(settings.DBT_PROJECT_DIR / "seeds" / "reason_codes.csv", encoding="utf-8") as f:
        return [row["reason_code"] for row in csv.DictReader(f)]
