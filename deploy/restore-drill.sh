#!/usr/bin/env bash
# A restore drill (docs/high-availability.md): a base backup from deploy/backup.sh restored into
# a new data directory, the archived WAL replayed up to a moment (point-in-time recovery), the
# restored server started on its own port, and CivicStack's checks run against it.
#
#   deploy/restore-drill.sh BACKUP_DIR ARCHIVE_DIR TARGET_TIME NEW_DATA_DIR PORT [CHECK...]
#
# TARGET_TIME is an instant PostgreSQL reads ('2026-12-08 10:15:00+00'): every transaction
# committed up to it is restored, none after. The restored server stays running on 127.0.0.1:PORT
# (stop it with: pg_ctl -D NEW_DATA_DIR stop); it archives nothing, so it cannot overwrite the
# archive it came from. CHECK (default: `civicstack audit verify`) runs with
# CIVICSTACK_DATABASE_URL pointing at it; the drill fails if the check fails.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}

[ $# -ge 5 ] || { sed -n '6p' "$0" | sed 's/^# //' >&2; exit 2; }
backup=$(realpath "$1") archive=$(realpath "$2") target_time=$3
data=$(realpath -m "$4") port=$5
shift 5
check=("$@")
[ ${#check[@]} -gt 0 ] || check=(civicstack audit verify)

# PostgreSQL refuses to run as root: as root, the restored server runs as `postgres`.
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

[ ! -e "$data" ] || { echo "$data exists: restore into a new directory" >&2; exit 1; }
cp -a "$backup" "$data"
rm -f "$data/postmaster.pid" "$data/backup-taken-at"
chmod 700 "$data"
[ "$(id -u)" = 0 ] && chown -R postgres: "$data"
cat >>"$data/postgresql.auto.conf" <<CONF
restore_command = 'cp $archive/%f %p'
recovery_target_time = '$target_time'
recovery_target_action = 'promote'
archive_mode = off
hot_standby = off
CONF
touch "$data/recovery.signal"

started=$SECONDS
as_server "$PG_BIN/pg_ctl" -D "$data" -l "$data/restore.log" -w -t 300 \
  -o "-p $port -c listen_addresses=127.0.0.1 -k $data" start >/dev/null \
  || { cat "$data/restore.log" >&2; exit 1; }
user=$(stat -c %U "$data")
url="postgresql://$user@127.0.0.1:$port/${CIVICSTACK_DRILL_DATABASE:-postgres}"
# Recovery ends with a promotion at the target. No reads before that (hot_standby off): the
# server may then have fewer connections or workers configured than the one backed up.
until [ "$(as_server "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$port" -d postgres \
          -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
  as_server "$PG_BIN/pg_ctl" -D "$data" status >/dev/null || { cat "$data/restore.log" >&2; exit 1; }
  sleep 0.2
done
echo "restored to $target_time in $((SECONDS - started)) s: $url"
CIVICSTACK_DATABASE_URL=$url "${check[@]}"
