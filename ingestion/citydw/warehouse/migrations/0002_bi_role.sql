-- citydw_bi: the read-only role BI tools (Superset, Metabase, plain SQL)
-- connect as (DESIGN.md "Warehouse (contract)"). It reads every table and
-- view in marts, including those dbt creates later, and nothing else: no
-- raw, meta, staging or intermediate, no writes anywhere.
--
-- Its password is not in this file (migrations live in the repository and
-- their text is checksummed into meta.schema_migrations): citydw applies
-- CITYDW_BI_PASSWORD after migrating (citydw.warehouse.roles). Until then the
-- role has no password and cannot log in with password authentication.

-- A role belongs to the whole server, not to this database: another database
-- on the same server (a second city, a test database) may have created it
-- already, or be creating it at this very moment, so creating it is guarded
-- twice: by the catalog check and by catching the concurrent creator's win.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'citydw_bi') then
        begin
            create role citydw_bi with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
            -- Defence in depth: even a privilege granted by mistake later
            -- cannot be used to write, unless a session turns this off.
            alter role citydw_bi set default_transaction_read_only = on;
        exception
            when duplicate_object or unique_violation then
                null;  -- another database's migration created it first; the grants below still apply
            when insufficient_privilege then
                raise exception using
                    errcode = 'insufficient_privilege',
                    message = format('Role citydw_bi does not exist and %I may not create it.', current_user),
                    hint = format(
                        'Have an administrator run "create role citydw_bi login" on this server, '
                        'or grant %I CREATEROLE, then run citydw again.', current_user);
        end;
    end if;
end
$$;

-- Read the marts: what exists now, and every table and view created later by
-- the role running this migration. That is the role dbt runs as: citydw hands
-- dbt the same CITYDW_WAREHOUSE_URL it migrates with. A deployment that runs
-- dbt as another role must run this statement FOR ROLE that role. A dbt
-- `grants:` config on marts would replace these grants: leave it unset, or
-- list citydw_bi in it.
grant usage on schema marts to citydw_bi;
grant select on all tables in schema marts to citydw_bi;
alter default privileges in schema marts grant select on tables to citydw_bi;

-- Nothing else. These revoke privileges nobody granted, so they change
-- nothing today; they say the intent where a reader of the grants looks.
revoke all on schema raw, meta, staging, intermediate, public from citydw_bi;
revoke all on all tables in schema raw, meta, staging, intermediate, public from citydw_bi;
revoke insert, update, delete, truncate, references, trigger on all tables in schema marts from citydw_bi;
revoke create on schema marts from citydw_bi;

-- PostgreSQL 15 and later no longer let every role create objects in
-- public; a database that began life on an older server still does. USAGE on
-- the (empty) public schema stays with PUBLIC: revoking it would change what
-- every other role of a shared server may do, and citydw_bi can read nothing
-- in it without a grant. Not the owner of schema public: a warning, no error.
revoke create on schema public from public;
