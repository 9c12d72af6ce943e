#!/bin/sh
# Runs once, when the postgres container initialises its data folder (docker-entrypoint-initdb.d).
# Not generated: a static file. It creates the extensions and one least-privilege role per client:
#   perfstack_app       the reference service: owns its tables in the perfstack database (migrations)
#   perfstack_exporter  pg-stats: pg_monitor only (reads statistics, pg_stat_statements, no data)
#   perfstack_store     the baseline store: owns the perfstack_baselines database, nothing else
# Passwords come from the environment (.env), never from this file.
set -eu
: "${PERFSTACK_APP_PASSWORD:?set PERFSTACK_APP_PASSWORD in .env}"
: "${PERFSTACK_EXPORTER_PASSWORD:?set PERFSTACK_EXPORTER_PASSWORD in .env}"
: "${PERFSTACK_STORE_PASSWORD:?set PERFSTACK_STORE_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$PERFSTACK_APP_PASSWORD" -v exporter_password="$PERFSTACK_EXPORTER_PASSWORD" -v store_password="$PERFSTACK_STORE_PASSWORD" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE ROLE perfstack_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE perfstack TO perfstack_app;
GRANT USAGE, CREATE ON SCHEMA public TO perfstack_app;
CREATE ROLE perfstack_exporter LOGIN PASSWORD :'exporter_password' IN ROLE pg_monitor;
GRANT CONNECT ON DATABASE perfstack TO perfstack_exporter;
CREATE ROLE perfstack_store LOGIN PASSWORD :'store_password';
CREATE DATABASE perfstack_baselines OWNER perfstack_store;
REVOKE CONNECT ON DATABASE perfstack_baselines FROM PUBLIC;
SQL
