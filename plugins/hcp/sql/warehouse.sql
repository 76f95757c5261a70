-- The landing and audit layers. Idempotent: run at the start of every load.
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

-- One row per source: where the next load resumes. Moved in the transaction that commits the batch.
create table if not exists audit.watermarks (
    source      text primary key,
    value       text not null,
    batch_id    bigint not null references audit.batches (batch_id),
    updated_at  timestamptz not null default clock_timestamp()
);

-- pc portal API items, every field as the API sent it (text, lossless); typing happens in dbt staging.
create table if not exists raw.pc_evaluations (
    evaluation_id       text,
    project_no          text,
    task_code           text,
    dept_code           text,
    area_code           text,
    platform_code       text,
    staff_no            text,
    pf                  text,
    satisfaction        text,
    eval_detail         text,
    writing_evaluation  text,
    assess_time         text,
    update_time         text,
    assess_number       text,
    user_prop           text,
    user_name           text,
    user_phone          text,
    _batch_id           bigint not null references audit.batches (batch_id),
    _source_page        text not null,
    _line_no            integer not null,
    _loaded_at          timestamptz not null default now()
);
create index if not exists pc_evaluations_batch_idx on raw.pc_evaluations (_batch_id);
