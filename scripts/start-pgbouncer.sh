#!/usr/bin/env bash
# Starts a PgBouncer in transaction pooling mode in front of a PostgreSQL server, for the tests
# and for trying the service behind a pooler as managed PostgreSQL is usually reached. Prints the
# connection string to use on stdout (e.g. DATABASE_URL=$(bash scripts/start-pgbouncer.sh)).
#
#   bash scripts/start-pgbouncer.sh [PORT]     (default: the first free port from 6432)
#
# PgBouncer's defaults are kept except where the tests need otherwise, each said below. It stops
# when its folder's pid file is killed: kill "$(cat "$PGBOUNCER_DIR/pgbouncer.pid")".
# Upstream: PGHOST/PGPORT (default 127.0.0.1:5432), user PGUSER (default postgres), trust auth.
set -euo pipefail

upstream_host="${PGHOST:-127.0.0.1}"
upstream_port="${PGPORT:-5432}"
user="${PGUSER:-postgres}"
port="${1:-}"
if [ -z "$port" ]; then
  port=6432
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
fi

dir="${PGBOUNCER_DIR:-$(mktemp -d -t pgbouncer-XXXXXX)}"
mkdir -p "$dir"
# PgBouncer refuses to run as root; the postgres user owns its folder.
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi

# trust still needs the user listed in the auth file
printf '"%s" ""\n' "$user" >"$dir/userlist.txt"
cat >"$dir/pgbouncer.ini" <<EOF
[databases]
; every database name goes to the same server: the tests make a fresh database per file
* = host=$upstream_host port=$upstream_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
; hand out server connections in turn rather than the last used one, so that code which assumes
; two statements land on the same server connection fails in the tests instead of in production
server_round_robin = 1
; the default (100) is below what two test files with their child processes open at once
max_client_conn = 1000
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF

if [ "$(id -u)" = 0 ]; then
  pgbouncer -d -u postgres "$dir/pgbouncer.ini"
else
  pgbouncer -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 50); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "postgres://$user@127.0.0.1:$port/postgres"
