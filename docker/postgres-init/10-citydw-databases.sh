#!/usr/bin/env bash
# Runs once, when the postgres service starts on an empty data volume (the
# image runs every script in /docker-entrypoint-initdb.d as the superuser).
#
# One server, three databases, each owned by its own login role:
#   citydw    the warehouse; its role runs citydw's migrations and dbt, so it
#             may create roles (citydw_bi, made by migration 0002)
#   airflow   Airflow's metadata and the Celery result backend
#   metabase  Metabase's application database
# Passwords come from the environment (docker/.env) and reach SQL through
# psql variables (:'name' quotes them), never through shell interpolation.
set -euo pipefail

for variable in CITYDW_DB_PASSWORD AIRFLOW_DB_PASSWORD METABASE_DB_PASSWORD; do
    if [[ -z "${!variable:-}" ]]; then
        echo "postgres-init: $variable is empty; set it in docker/.env (see docker/.env.example)" >&2
        exit 1
    fi
done

psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set citydw_password="$CITYDW_DB_PASSWORD" \
    --set airflow_password="$AIRFLOW_DB_PASSWORD" \
    --set metabase_password="$METABASE_DB_PASSWORD" <<'SQL'
create role citydw with login createrole password :'citydw_password';
create role airflow with login password :'airflow_password';
create role metabase with login password :'metabase_password';

create database citydw owner citydw;
create database airflow owner airflow;
create database metabase owner metabase;

-- Every role may connect to every database unless told otherwise; the BI
-- role (and anything else created later) has no business in Airflow's or
-- Metabase's, so only their owners may connect there.
revoke connect, temporary on database airflow from public;
revoke connect, temporary on database metabase from public;
SQL

# Databases made from template1 since PostgreSQL 15 give nobody CREATE in
# public; say it anyway for the warehouse, where citydw_bi will log in.
psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname citydw <<'SQL'
revoke create on schema public from public;
SQL
