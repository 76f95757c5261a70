-- Run after the raw tables each source declares are created (hcp.warehouse.raw_table_ddl).
-- Raw tables keep every source field as text, as received (typing happens in dbt staging), plus the batch,
-- the page or file, and the line each row came from. They are append-only. Their _batch_id carries no
-- foreign key: a batch's rows commit in the transaction that writes its audit.batches row
-- (hcp.loading.land_batch), and a key check per row would slow COPY down to no purpose.

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
