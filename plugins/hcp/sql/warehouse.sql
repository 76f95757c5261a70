-- The audit layer, and the schemas the loaders own. Idempotent: run at the start of every load
-- (hcp.warehouse.ensure_schema), before migrations.sql and the raw tables each source declares.
create schema if not exists raw;
create schema if not exists audit;

create table if not exists audit.batches (
    batch_id          bigserial primary key,
    source            text not null,
    night             date not null,
    status            text not null check (status in ('running', 'succeeded', 'failed')),
    rows_read         bigint,
    rows_landed       bigint,
    bytes_read        bigint,
    watermark_before  text,
    watermark_after   text,
    started_at        timestamptz not null default clock_timestamp(),
    ended_at          timestamptz,
    error             text,
    loader_pid        integer,  -- the loader's backend: a 'running' batch whose backend is gone was killed
    rows_rejected     bigint,
    files_taken       integer,
    schema_drift      text[]  -- fields missing from the contract, or not in it: "missing <f>" / "unexpected <f>"
);

-- One row per source: where the next load resumes. Moved in the transaction that commits the batch.
create table if not exists audit.watermarks (
    source      text primary key,
    value       text not null,
    batch_id    bigint not null references audit.batches (batch_id),
    updated_at  timestamptz not null default clock_timestamp()
);

-- Files a file source has landed. A file delivered again with other bytes is taken again.
create table if not exists audit.files_taken (
    source      text not null,
    file_name   text not null,
    checksum    text not null,
    size_bytes  bigint not null,
    batch_id    bigint not null references audit.batches (batch_id),
    taken_at    timestamptz not null default clock_timestamp(),
    primary key (source, file_name, checksum)
);

-- Rows (or whole files, line_no null) that cannot be landed or scored, never deleted.
-- reason codes: plugins/hcp/quarantine.py.
create table if not exists audit.quarantine (
    batch_id        bigint not null references audit.batches (batch_id),
    source          text not null,
    source_page     text,
    line_no         integer,
    record          text,
    reason          text not null,
    detail          text,
    quarantined_at  timestamptz not null default clock_timestamp(),
    stage           text not null default 'load'  -- kept out at load (unreadable) or at validation (a row rule)
);
-- By row: staging and the reconciliation look up each raw row here (batch, page, line)
create index if not exists quarantine_row_idx on audit.quarantine (batch_id, source_page, line_no);

-- SMS replies waiting for the master data to list their case (docs/contract.md §4.5).
create table if not exists audit.held (
    batch_id     bigint not null references audit.batches (batch_id),
    source       text not null,
    source_page  text not null,
    line_no      integer not null,
    case_no      text,
    reply_date   date not null,
    hold_until   date not null,  -- quarantined as unknown_case once night D reaches this date unlisted
    released_at  timestamptz,
    released_as  text check (released_as in ('passed', 'quarantined')),
    released_night date,  -- the night whose validation released the row: dbt merges it on that night
    primary key (batch_id, source_page, line_no)
);

-- Per batch, after validation: rows read = landed + rejected at load; landed = passed + quarantined + held.
create table if not exists audit.reconciliation (
    batch_id          bigint primary key references audit.batches (batch_id),
    source            text not null,
    rows_read         bigint not null,
    rows_landed       bigint not null,
    rejected_at_load  bigint not null,
    passed            bigint not null,
    quarantined       bigint not null,
    held              bigint not null,
    balanced          boolean not null,
    checked_at        timestamptz not null default clock_timestamp()
);

-- Batch rules that fired, with the policy applied (fail: the batch is kept from the marts; warn: it goes on).
create table if not exists audit.batch_alerts (
    batch_id   bigint not null references audit.batches (batch_id),
    source     text not null,
    rule       text not null,
    policy     text not null check (policy in ('fail', 'warn')),
    message    text not null,
    raised_at  timestamptz not null default clock_timestamp()
);

-- GX outcome per batch and suite (plugins/hcp/validation.py).
create table if not exists audit.validations (
    batch_id        bigint not null references audit.batches (batch_id),
    suite           text not null,
    success         boolean not null,
    evaluated       integer not null,
    failed          jsonb not null,
    validated_at    timestamptz not null default clock_timestamp(),
    primary key (batch_id, suite)
);

-- The batches the marts may read: landed whole, every suite passed, reconciled, no failing batch rule.
create or replace view audit.accepted_batches as
select b.batch_id, b.source, b.night
from audit.batches b
join audit.reconciliation r on r.batch_id = b.batch_id
where b.status = 'succeeded'
  and r.balanced
  and not exists (select 1 from audit.validations v where v.batch_id = b.batch_id and not v.success)
  and not exists (select 1 from audit.batch_alerts a where a.batch_id = b.batch_id and a.policy = 'fail');

-- The official working-day calendar as the chinesecalendar library publishes it (plugins/hcp/calendar.py).
create table if not exists raw.official_calendar (
    day              date primary key,
    is_workday       boolean not null,
    is_holiday       boolean not null,
    holiday_name     text,
    library_version  text not null
);

-- The read-only role of BI tools and assessment offices: dbt grants it the marts and nothing else.
-- Its password (where the server asks for one) is set by the operator, never here.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'hcp_bi') then
        create role hcp_bi login;
    end if;
end
$$;

-- One row per run of a night (plugins/hcp/runs.py): whether the marts were built and from which sources,
-- what arrived, and how long each stage took. 'degraded': marts built, some sources missing (named).
create table if not exists audit.runs (
    run_id          text primary key,
    night           date not null,
    status          text not null check (status in ('succeeded', 'degraded', 'failed')),
    failed_sources  text[] not null default '{}',
    started_at      timestamptz not null,
    ended_at        timestamptz not null default clock_timestamp(),
    newly_overdue   integer,  -- bad reviews whose close deadline passed at the end of this night, still open
    stages          jsonb not null default '{}',  -- seconds per stage
    summary         text not null,  -- the summary printed in the log
    -- what else failed, from the run's task states: dbt seeds and models by name, their tests as
    -- '<name> tests'; the run's own steps (prepare_marts, publish_marts)
    failed_dbt      text[] not null default '{}',
    failed_steps    text[] not null default '{}'
);

-- How long each stage of a run took, written by the stage itself.
create table if not exists audit.run_stages (
    run_id      text not null,
    stage       text not null,
    started_at  timestamptz not null,
    ended_at    timestamptz not null,
    primary key (run_id, stage)
);
