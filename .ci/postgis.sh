#!/usr/bin/env bash
# Start a throw-away PostgreSQL + PostGIS server for the PostGIS reader's tests and
# print its SQLAlchemy URL on stdout. Installs the Debian packages when missing (CI runs
# as root on a fresh machine). Usage:
#   export ESTATE_TEST_POSTGRES_URL=$(bash .ci/postgis.sh start /tmp/estate-pg)
#   bash .ci/postgis.sh stop /tmp/estate-pg
set -euo pipefail
action=${1:-start}
dir=${2:-/tmp/estate-pg}
port=${ESTATE_TEST_POSTGRES_PORT:-54329}

pgbin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  [ -n "$v" ] && echo "/usr/lib/postgresql/$v/bin"
}

if [ "$action" = stop ]; then
  bin=$(pgbin) || exit 0
  [ -f "$dir/data/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2
  rm -rf "$dir"
  exit 0
fi

if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  echo "postgis.sh: installing postgresql and postgis (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql postgis >&2
fi
bin=$(pgbin)
rm -rf "$dir"
mkdir -p "$dir"
chown postgres: "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >&2
runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres estate_test
runuser -u postgres -- "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d estate_test \
  -c "CREATE EXTENSION IF NOT EXISTS postgis" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:$port/estate_test"
