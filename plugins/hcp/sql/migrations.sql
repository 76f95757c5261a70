-- Brings a warehouse made by an earlier version of Haochaping to the shape warehouse.sql and the source
-- declarations create. Idempotent: run after warehouse.sql on every load; a new warehouse has nothing to do.
alter table audit.batches add column if not exists loader_pid integer;
alter table audit.batches add column if not exists rows_rejected bigint;
alter table audit.batches add column if not exists files_taken integer;
alter table audit.batches add column if not exists schema_drift text[];
alter table audit.quarantine add column if not exists stage text not null default 'load';
drop index if exists audit.quarantine_batch_idx;  -- quarantine_row_idx serves lookups by batch too
alter table audit.held add column if not exists released_night date;
alter table audit.runs add column if not exists failed_dbt text[] not null default '{}';
alter table audit.runs add column if not exists failed_steps text[] not null default '{}';
alter index if exists raw.master_cases_case_idx rename to master_cases_case_no_idx;

-- Raw tables no longer carry a foreign key to audit.batches (see raw.sql).
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
