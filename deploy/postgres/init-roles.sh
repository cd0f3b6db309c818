#!/bin/sh
# First start of the PostgreSQL container (docker-entrypoint-initdb.d): the database and
# its two roles.
#   trialmon_loader   owns the database and every table: runs migrations, `trialmon load`
#                     and `trialmon compute` (reads and writes schema microdata)
#   dashboard_reader  SELECT on the published tables in `public`, nothing else: no USAGE
#                     on schema microdata, so the dashboard cannot read person-level data
# The same statements work on any PostgreSQL >= 15 (psql as a superuser):
#   TRIALMON_LOADER_PASSWORD=... TRIALMON_READER_PASSWORD=... sh init-roles.sh
set -eu
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
     -v loader_pw="${TRIALMON_LOADER_PASSWORD:?}" -v reader_pw="${TRIALMON_READER_PASSWORD:?}" \
     -v db="${TRIALMON_DATABASE:-trialmon}" <<'SQL'
CREATE ROLE trialmon_loader LOGIN PASSWORD :'loader_pw';
CREATE ROLE dashboard_reader LOGIN PASSWORD :'reader_pw';
CREATE DATABASE :"db" OWNER trialmon_loader;
\connect :"db"
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO trialmon_loader, dashboard_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO trialmon_loader;
GRANT USAGE ON SCHEMA public TO dashboard_reader;
-- tables the loader's migrations create later are readable by the dashboard at once
ALTER DEFAULT PRIVILEGES FOR ROLE trialmon_loader IN SCHEMA public
    GRANT SELECT ON TABLES TO dashboard_reader;
SQL
