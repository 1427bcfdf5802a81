#!/usr/bin/env bash
# A local PostgreSQL + PostGIS cluster for the tests and the benchmarks: Debian's packages (installed if missing),
# data under $GEO_SERVICE_PG_DIR (default /tmp/geo-service-pg), listening on 127.0.0.1:$GEO_SERVICE_PG_PORT only,
# trust authentication (loopback, throwaway data: never a production set-up). Idempotent: reuses a running cluster.
# Prints the connection URL on its last line. Usage: ./scripts/postgres.sh [stop]
set -euo pipefail
pg_dir="${GEO_SERVICE_PG_DIR:-/tmp/geo-service-pg}"
# below 32768: a port of the ephemeral range (32768-60999) may be taken by any client socket of a busy machine
pg_port="${GEO_SERVICE_PG_PORT:-25433}"
log() { echo "[postgres] $*" >&2; }

if ! compgen -G "/usr/lib/postgresql/*/lib/postgis-3.so" >/dev/null; then
  log "installing Debian's postgresql and its postgis extension (needs root)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # the extension's package is named after the server's major version (postgresql-15-postgis-3 on Debian 12)
  major="$(ls /usr/lib/postgresql | sort -V | tail -1)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "postgresql-$major-postgis-3" >/dev/null
fi
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

# PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' user the package created.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir -p "$pg_dir"
[[ "$(id -u)" == 0 ]] && chown postgres:postgres "$pg_dir"

if [[ "${1:-}" == stop ]]; then
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop || true
  exit 0
fi
if [[ ! -f "$pg_dir/data/PG_VERSION" ]]; then
  log "initdb $pg_dir/data"
  as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
fi
if as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
  # already running (started earlier, maybe on another port): its own port, from its pid file's fourth line
  pg_port="$(sed -n 4p "$pg_dir/data/postmaster.pid")"
else
  log "starting PostgreSQL on 127.0.0.1:$pg_port"
  # fsync stays on: the crash-safety promise is tested against this cluster too.
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_dir -c max_connections=200" \
    start >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$pg_port/postgres"
