-- citydw_bi must not write, even in a session that turns read-write on
-- (issue 18.2). Table privileges already hold; what every role may still do
-- in any database is create large objects: lo_create, lo_creat and
-- lo_from_bytea are executable by PUBLIC, and a large object persists.
-- Writing to a large object needs its ownership (lo_compat_privileges is off),
-- so taking creation away is enough; the server-side lo_import is the
-- superuser's only since PostgreSQL 11.
--
-- Function privileges live in this database's catalog (a database copied from
-- this one keeps them). Only the functions' owner, the bootstrap superuser,
-- may change them: an owner that is not a superuser gets a notice, and the
-- README says what the DBA runs instead. The role that migrates keeps them.
-- Database-level privileges (CONNECT, TEMPORARY) are not copied with a
-- database, so citydw.warehouse.roles applies those each time it prepares one.
do $$
begin
    -- A REVOKE by someone who may not is only a warning in PostgreSQL: ask first.
    if pg_has_role(current_user,
                   (select proowner from pg_catalog.pg_proc where oid = 'pg_catalog.lo_create(oid)'::regprocedure),
                   'usage') then
        revoke execute on function pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer),
            pg_catalog.lo_from_bytea(oid, bytea) from public;
        execute format(
            'grant execute on function pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), '
            'pg_catalog.lo_from_bytea(oid, bytea) to %I', current_user);
    else
        raise notice using
            message = format('%I may not revoke large-object creation from PUBLIC: citydw_bi can still create '
                             'large objects in this database.', current_user),
            hint = 'Have a superuser run: revoke execute on function lo_create(oid), lo_creat(integer), '
                   'lo_from_bytea(oid, bytea) from public;';
    end if;
end
$$;
