#!/usr/bin/env bash
# A pg_auto_failover trio on this machine: a monitor, a primary and a synchronous standby, each
# on a local port under one folder, to try CivicStack's failover (docs/high-availability.md).
#
#   deploy/ha-demo.sh start DIR        create and start the trio; prints the application's URL
#   deploy/ha-demo.sh state DIR        the monitor's view of the nodes (JSON)
#   deploy/ha-demo.sh stop-node DIR N  stop node N (1 or 2) at once, as a crash would
#   deploy/ha-demo.sh stop DIR         stop everything (the folder stays; remove it yourself)
#
# Needs Debian's postgresql-15-auto-failover (pg_autoctl). PostgreSQL refuses to run as root: as
# root, every PostgreSQL process runs as the `postgres` account, which then owns DIR.
# The monitor's health checks are shortened (a node silent for 5 s is failed over, instead of
# the default 20 s, and the standby promoted 10 s later instead of 30 s): right for a demo on
# one machine, too eager across a real network.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
DATABASE=${HA_DATABASE:-civicstack}
WAIT_S=${HA_WAIT_S:-120}

usage() { sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The command prefix that runs pg_autoctl (or psql) as the account PostgreSQL runs under, with
# its configuration kept inside DIR so that several trios (parallel tests) never share
# pg_autoctl's state files.
server_command() {
  SERVER=(env "PATH=$PG_BIN:$PATH" "XDG_CONFIG_HOME=$DIR/config" "XDG_DATA_HOME=$DIR/share"
          "XDG_RUNTIME_DIR=$DIR/run" "PG_CONFIG=$PG_BIN/pg_config")
  if [ "$(id -u)" = 0 ]; then SERVER=(runuser -u postgres -- "${SERVER[@]}"); fi
}

as_server() { server_command; "${SERVER[@]}" "$@"; }

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Starts `pg_autoctl create ... --run` in the background, in a session of its own, logging to
# DIR/<name>.log; pg_autoctl keeps it (and its PostgreSQL) running until `stop`.
run_node() {
  local name=$1; shift
  server_command
  setsid "${SERVER[@]}" "$@" >"$DIR/$name.log" 2>&1 </dev/null &
}

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(cat "$DIR/monitor.port")/pg_auto_failover?sslmode=disable"; }

state() { as_server pg_autoctl show state --pgdata "$DIR/monitor" --json; }

# Waits until the monitor reports node N in `wanted` (its reported and assigned states alike).
wait_for_state() {
  local node=$1 wanted=$2 deadline=$((SECONDS + WAIT_S))
  until state 2>/dev/null | python3 2>/dev/null -c "
import json, sys
nodes = {n['node_id']: n for n in json.load(sys.stdin)}
node = nodes.get($node)
sys.exit(0 if node and node['current_group_state'] == node['assigned_group_state'] == '$wanted' else 1)"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "node $node did not reach $wanted in ${WAIT_S}s; see $DIR/*.log" >&2; exit 1
    fi
    sleep 0.5
  done
}

create_node() {
  local number=$1 port
  port=$(free_port); echo "$port" >"$DIR/node$number.port"
  run_node "node$number" pg_autoctl create postgres --pgdata "$DIR/node$number" \
    --pgport "$port" --hostname 127.0.0.1 --name "node$number" --dbname "$DATABASE" \
    --auth trust --no-ssl --monitor "$(monitor_url)" --run
}

# A primary cut off from the monitor and its standby demotes itself after this many seconds,
# below the monitor's primary_demote_timeout (10 s, set above): then the standby is promoted
# only once the old primary can no longer accept a write.
partition_after() {
  as_server pg_autoctl config set --pgdata "$DIR/node$1" timeout.network_partition_timeout 5 \
    >/dev/null
}

# The standby's pg_basebackup asks the primary for a spread checkpoint, which takes minutes on
# an idle server; an immediate CHECKPOINT finishes the one in progress at once.
hurry_checkpoints() {
  while sleep 1; do
    as_server psql -qAt -h 127.0.0.1 -p "$(cat "$DIR/node$1.port")" -d postgres \
      -c CHECKPOINT >/dev/null 2>&1 || true
  done
}

start() {
  mkdir -p "$DIR/config" "$DIR/share" "$DIR/run"
  chmod 700 "$DIR/run"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$DIR"
  as_server test -w "$DIR/run" || { echo "the postgres account cannot write in $DIR" >&2; exit 1; }
  free_port >"$DIR/monitor.port"
  run_node monitor pg_autoctl create monitor --pgdata "$DIR/monitor" \
    --pgport "$(cat "$DIR/monitor.port")" --hostname 127.0.0.1 --auth trust --no-ssl --run
  local deadline=$((SECONDS + WAIT_S))
  until as_server "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$DIR/monitor.port")" \
      -d pg_auto_failover && state >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && { echo "monitor did not start; see $DIR/monitor.log" >&2; exit 1; }
    sleep 0.5
  done
  as_server psql -qAt "$(monitor_url | sed 's/autoctl_node/postgres/')" >/dev/null <<'SQL'
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 10000;
SELECT pg_reload_conf();
SQL

  create_node 1
  wait_for_state 1 single
  partition_after 1
  create_node 2
  hurry_checkpoints 1 &
  local hurrying=$!
  wait_for_state 1 primary
  wait_for_state 2 secondary
  kill "$hurrying"
  partition_after 2
  echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$DIR/node1.port"),127.0.0.1:$(cat "$DIR/node2.port")/$DATABASE?target_session_attrs=read-write" \
    | tee "$DIR/database-url"
}

stop_node() { as_server pg_autoctl stop --immediate --pgdata "$DIR/$1" || true; }

stop() {
  for node in node1 node2 node3 monitor; do
    [ -d "$DIR/$node" ] && stop_node "$node"
  done
  return 0
}

[ $# -ge 2 ] || usage
DIR=$(realpath -m "$2")
case $1 in
  start) start ;;
  state) state ;;
  stop-node) [ $# = 3 ] || usage; stop_node "node$3" ;;
  stop) stop ;;
  *) usage ;;
esac
