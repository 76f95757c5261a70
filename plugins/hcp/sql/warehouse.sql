-- The landing and audit layers. Idempotent: run at the start of every load.
-- Raw tables keep every source field as text, as received (typing happens in dbt staging),
-- plus the batch, the page or file, and the line each row came from. They are append-only.
-- Their _batch_id carries no foreign key: a batch's rows commit in the transaction that writes its
-- audit.batches row (hcp.loading.land_batch), and a per-row key check made COPY 1.7 times slower (BENCHMARKS.md).
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
    loader_pid        integer  -- the loader's backend: a 'running' batch whose backend is gone was killed
);
alter table audit.batches add column if not exists loader_pid integer;
alter table audit.batches add column if not exists rows_rejected bigint;
alter table audit.batches add column if not exists files_taken integer;
-- JSON fields missing from the contract's, or not in it: "missing <field>" / "unexpected <field>"
alter table audit.batches add column if not exists schema_drift text[];

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
    quarantined_at  timestamptz not null default clock_timestamp()
);
-- By row: staging and the reconciliation look up each raw row here (batch, page, line)
create index if not exists quarantine_row_idx on audit.quarantine (batch_id, source_page, line_no);
drop index if exists audit.quarantine_batch_idx;  -- the row index serves lookups by batch too

-- pc: 政务服务网 portal API items (docs/contract.md §4.1)
create table if not exists raw.pc_evaluations (
    evaluation_id text, project_no text, task_code text, dept_code text, area_code text, platform_code text,
    staff_no text, pf text, satisfaction text, eval_detail text, writing_evaluation text, assess_time text,
    update_time text, assess_number text, user_prop text, user_name text, user_phone text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists pc_evaluations_batch_idx on raw.pc_evaluations (_batch_id);

-- app: JSON Lines exports (docs/contract.md §4.2); tags kept as their JSON text
create table if not exists raw.app_evaluations (
    eval_id text, case_no text, item_code text, org_code text, area_code text, platform_code text,
    staff_no text, satisfaction_code text, tags text, text text, eval_time text, eval_seq text,
    user_type text, user_id_card text, client text, export_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists app_evaluations_batch_idx on raw.app_evaluations (_batch_id);

-- hall: rating-tablet CSV files in GB18030 (docs/contract.md §4.3); hall code and date from the file name
create table if not exists raw.hall_evaluations (
    evaluation_no text, case_no text, item_code text, dept_code text, area_code text, platform_code text,
    window_no text, staff_no text, result text, bad_reasons text, eval_time text, phone text,
    hall_code text, file_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists hall_evaluations_batch_idx on raw.hall_evaluations (_batch_id);

-- hotline: rows of public.hotline_evaluation (docs/contract.md §4.4), timestamps rendered in Beijing time
create table if not exists raw.hotline_evaluations (
    id text, work_order_no text, case_no text, item_code text, dept_code text, area_code text,
    platform_code text, staff_no text, satisfaction text, visit_time text, modified_time text,
    caller_phone text, is_deleted text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists hotline_evaluations_batch_idx on raw.hotline_evaluations (_batch_id);

-- sms: survey replies (docs/contract.md §4.5), reply_text verbatim
create table if not exists raw.sms_replies (
    msg_id text, case_no text, phone text, reply_text text, received_at text, file_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists sms_replies_batch_idx on raw.sms_replies (_batch_id);

-- master data snapshots (docs/contract.md §5), one table per file, with the snapshot's date
create table if not exists raw.master_agencies (
    org_code text, org_name text, parent_org_code text, area_code text, admin_level text, snapshot_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.master_platforms (
    platform_code text, platform_name text, platform_type text, org_code text, snapshot_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.master_staff (
    staff_no text, staff_name text, org_code text, window_no text, active text, snapshot_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.master_service_items (
    item_code text, item_name text, org_code text, case_type text, promised_days text, snapshot_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.master_cases (
    case_no text, item_code text, org_code text, platform_code text, staff_no text, applicant_type text,
    submitted_at text, completed_at text, snapshot_date text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists master_cases_batch_idx on raw.master_cases (_batch_id);

-- rectification work-order events (docs/contract.md §6); _record keeps the item whole, fields we do not know included
create table if not exists raw.rectification_events (
    event_id text, order_no text, channel text, evaluation_id text, event_type text, event_time text,
    org_code text, category text, new_due_date text, _record text,
    _batch_id bigint not null,
    _source_page text not null, _line_no integer not null, _loaded_at timestamptz not null default now()
);
create index if not exists rectification_events_batch_idx on raw.rectification_events (_batch_id);

-- Warehouses made before the raw tables dropped their foreign keys (see the top of this file).
do $$
declare
    fk record;
begin
    for fk in
        select c.conrelid::regclass as tbl, c.conname
        from pg_constraint c
        where c.contype = 'f' and c.connamespace = 'raw'::regnamespace
          and c.confrelid = 'audit.batches'::regclass
    loop
        execute format('alter table %s drop constraint %I', fk.tbl, fk.conname);
    end loop;
end $$;

-- The loader analyzes _batch_id after every batch (hcp.loading): a sample of 3,000 rows (10 x 300) where the
-- default takes 30,000, scattered over a table with history. With 10 entries and more batches than that, the
-- statistics keep no list of common batch ids, so a batch they have not seen yet is estimated at an average
-- batch, not at one row. Set only where it is not yet: the ALTER takes a lock autovacuum also takes.
do $$
declare
    col record;
begin
    for col in
        select a.attrelid::regclass as tbl
        from pg_attribute a join pg_class c on c.oid = a.attrelid
        where c.relnamespace = 'raw'::regnamespace and c.relkind = 'r' and a.attname = '_batch_id'
          and a.attstattarget is distinct from 10
    loop
        execute format('alter table %s alter column _batch_id set statistics 10', col.tbl);
    end loop;
end $$;

-- Where a row was kept out: at load (it could not be read) or at validation (it broke a row rule).
alter table audit.quarantine add column if not exists stage text not null default 'load';

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
    primary key (batch_id, source_page, line_no)
);
-- the night whose validation released the row: dbt merges a released reply on that night
alter table audit.held add column if not exists released_night date;

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

-- Lookups by source id: duplicate checks, and rectification events finding their rating.
create index if not exists pc_evaluations_id_idx on raw.pc_evaluations (evaluation_id);
create index if not exists app_evaluations_id_idx on raw.app_evaluations (eval_id);
create index if not exists hall_evaluations_id_idx on raw.hall_evaluations (evaluation_no);
create index if not exists hotline_evaluations_id_idx on raw.hotline_evaluations (id);
create index if not exists sms_replies_id_idx on raw.sms_replies (msg_id);
create index if not exists master_cases_case_idx on raw.master_cases (case_no);

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
    summary         text not null  -- the summary printed in the log
);
-- What else failed, from the run's task states: dbt seeds and models by name, their tests as '<name> tests';
-- the run's own steps (prepare_marts, publish_marts)
alter table audit.runs add column if not exists failed_dbt text[] not null default '{}';
alter table audit.runs add column if not exists failed_steps text[] not null default '{}';

-- How long each stage of a run took, written by the stage itself.
create table if not exists audit.run_stages (
    run_id      text not null,
    stage       text not null,
    started_at  timestamptz not null,
    ended_at    timestamptz not null,
    primary key (run_id, stage)
);
